//! Putting a module back after a case: the objects a case (or its set-up)
//! opened and left behind are closed again, so that the next case finds
//! the module as this one found it.
//!
//! The simulator in process starts every case from power-on and needs none
//! of this. A module cannot be reset, so before a case the runner reads
//! what is held open ([`Held::read`]: sockets, SSL connections, MQTT
//! clients, the BLE role, its connection and advertising, open files, the
//! files of the UFS) with the catalogue's own read forms, and after it
//! [`put_back`] closes what was not there before — with the `undo` of the
//! matching state of `spec/states.yaml` where the catalogue has one, else
//! with the catalogue's line of the closing command — then reads again to
//! verify. What is still there, what the case closed that was there
//! before, and a file whose size changed, are named in the error that the
//! case gets ([`judge`]).
//!
//! Transparent mode is left first ([`command_mode`]): `+++` between guard
//! times; the socket it belonged to is then an open socket like any other.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::case::{ConnectData, Kind};
use crate::env::Env;
use crate::generated::cases::CASES;
use crate::link::{Link, Received};
use crate::outcome::Verdict;
use crate::setup::{self, Step};
use fcm242d::engine::Final;

/// How an object of a [`Holding`] is closed.
#[derive(Debug, Clone, Copy)]
enum Close {
    /// The `undo` of this state of `spec/states.yaml`, `${id}` the object.
    State(&'static str),
    /// The line of this case of the catalogue, with its argument `field`
    /// (when given) replaced by the object.
    Line(&'static str, Option<usize>),
}

/// One kind of thing a module holds open, and how the runner sees and
/// closes it.
#[derive(Debug, Clone, Copy)]
struct Holding {
    /// What it is, for messages.
    what: &'static str,
    /// The catalogue case whose line lists them (a read or execution form).
    query: &'static str,
    /// Whether a line of the listing is an object held, and which: the
    /// line's fields (after `+X: `) give its id, `None` when the line
    /// reports nothing held (`+QBLEINIT: 0`).
    held: fn(&[String]) -> Option<String>,
    /// Whether the rest of the line counts too: a file whose size changed
    /// is not the file it was.
    compare_line: bool,
    /// A kind that holds nothing while this one (listed before it) holds
    /// nothing.
    needs: Option<&'static str>,
    close: Close,
}

fn field(fields: &[String], i: usize) -> Option<String> {
    fields.get(i).map(|f| f.trim().to_string())
}

/// In the order they are closed: an MQTT client disconnects before its
/// network connection closes; BLE is deinitialised before its connection
/// and advertising are looked at (deinitialising ends both; a peripheral
/// that is disconnected advertises again, so advertising comes last); a
/// file is closed before it is deleted.
const HOLDINGS: &[Holding] = &[
    Holding {
        what: "connected MQTT client",
        query: "qmtconn.read",
        // `+QMTCONN: <client_idx>,<state>`, 3: connected.
        held: |f| (field(f, 1)? == "3").then(|| field(f, 0)).flatten(),
        compare_line: false,
        needs: None,
        close: Close::State("mqtt_connected"),
    },
    Holding {
        what: "open MQTT client",
        query: "qmtopen.read",
        held: |f| field(f, 0),
        compare_line: false,
        needs: None,
        close: Close::State("mqtt_opened"),
    },
    Holding {
        what: "SSL connection",
        query: "qsslstate.read",
        held: |f| field(f, 0),
        compare_line: false,
        needs: None,
        close: Close::State("ssl_open"),
    },
    Holding {
        what: "socket",
        query: "qistate.read",
        held: |f| field(f, 0),
        compare_line: false,
        needs: None,
        close: Close::State("socket_open"),
    },
    Holding {
        what: "BLE role",
        query: "qbleinit.read",
        held: |f| field(f, 0).filter(|r| r != "0"),
        compare_line: false,
        needs: None,
        close: Close::State("ble_initialized"),
    },
    Holding {
        what: "BLE connection",
        query: "qblestat.execute",
        held: |f| field(f, 0).filter(|s| s == "CONNECTED"),
        compare_line: false,
        needs: Some("BLE role"),
        close: Close::Line("qbledisconn.write", None),
    },
    Holding {
        what: "BLE advertising",
        query: "qbleadvstart.read",
        held: |f| field(f, 0).filter(|s| s == "1"),
        compare_line: false,
        needs: Some("BLE role"),
        close: Close::Line("qbleadvstop.execute", None),
    },
    Holding {
        what: "open file",
        query: "qfopen.read",
        // `+QFOPEN: <filename>,<filehandle>,<mode>`.
        held: |f| field(f, 1),
        compare_line: false,
        needs: None,
        close: Close::State("file_open"),
    },
    Holding {
        what: "file",
        query: "qflst.execute",
        held: |f| field(f, 0),
        compare_line: true,
        needs: None,
        close: Close::Line("qfdel.write", Some(0)),
    },
];

fn case_line(id: &str) -> Option<&'static str> {
    CASES.iter().find(|c| c.id == id).map(|c| c.line)
}

/// What a module holds: for each kind (by `Holding::what`), the objects
/// by id with the line that lists each; `None` when it could not be read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Held(BTreeMap<&'static str, Option<BTreeMap<String, String>>>);

impl Held {
    /// Reads every kind of object from the module.
    pub fn read(link: &mut Link) -> Held {
        let mut strays = Vec::new();
        let all = Held::default();
        all.read_again(link, &mut strays)
    }

    /// Reads again the kinds that could be read in `self` (a module that
    /// answers a listing with `ERROR` is not asked again); final results
    /// that came after an answer go to `strays`.
    fn read_again(&self, link: &mut Link, strays: &mut Vec<String>) -> Held {
        Held(HOLDINGS.iter().fold(BTreeMap::new(), |mut now, h| {
            let listing = match h.needs.map(|n| now.get(n)) {
                // Nothing to list without what it needs (no BLE
                // advertising or connection while BLE is off, when
                // the listing may well be refused).
                Some(Some(Some(m))) if BTreeMap::is_empty(m) => Some(BTreeMap::new()),
                _ if self.0.is_empty() || matches!(self.0.get(h.what), Some(Some(_))) => {
                    read_one(link, h, strays)
                }
                _ => None,
            };
            now.insert(h.what, listing);
            now
        }))
    }
}

/// The objects of one kind the module lists now (`None`: the listing was
/// not answered with `OK`, a second final result came right after it, or
/// the catalogue has no such line).
fn read_one(
    link: &mut Link,
    h: &Holding,
    strays: &mut Vec<String>,
) -> Option<BTreeMap<String, String>> {
    let line = case_line(h.query)?;
    link.send_line(line, ConnectData::None, false);
    let a = link.answer(link.now() + Duration::from_secs(5));
    // A final result already waiting behind the answer: one of the two
    // was not this line's (a late or a second answer of the case's
    // command), so the listing cannot be trusted.
    let after: Vec<String> = link
        .drain(Duration::ZERO, Duration::ZERO)
        .into_iter()
        .filter_map(|r| match r {
            Received::Line(l) if Final::parse(&l).is_some() => Some(l),
            _ => None,
        })
        .collect();
    if !after.is_empty() {
        strays.extend(after);
        return None;
    }
    if a.result.as_deref() != Some("OK") {
        return None;
    }
    let prefix = format!(
        "{}: ",
        crate::runner::command_name(line).trim_start_matches("AT")
    );
    // `+QMTCONN: 1,3` has the shape of a URC too: the answer's URCs are
    // looked at as well.
    Some(
        a.lines
            .iter()
            .chain(&a.urcs)
            .filter_map(|l| {
                let rest = l.strip_prefix(&prefix)?;
                let fields = fcm242d_codegen::template::split_arguments(rest);
                Some(((h.held)(&fields)?, l.clone()))
            })
            .collect(),
    )
}

/// The steps that close object `id` of `h`.
fn close_steps(h: &Holding, id: &str, env: &Env) -> Result<Vec<Step>, String> {
    match h.close {
        Close::State(state) => setup::undo_steps(state, id, env),
        Close::Line(case, field) => {
            let line = case_line(case).ok_or_else(|| {
                format!("the catalogue has no case `{case}` to close a {}", h.what)
            })?;
            let line = match field {
                Some(f) => crate::runner::replace_field(line, f, id),
                None => line.to_string(),
            };
            Ok(vec![Step {
                line: Some(line),
                payload: None,
                then_urc: None,
                yields_id: false,
            }])
        }
    }
}

/// Leaves transparent mode if the link is in it: `+++` between guard
/// times must be answered `OK`.
pub fn command_mode(link: &mut Link, guard: Duration) -> Result<(), String> {
    if !link.is_transparent() {
        return Ok(());
    }
    link.escape(guard + Duration::from_millis(100));
    let a = link.answer(link.now() + Duration::from_secs(5));
    match a.result.as_deref() {
        Some("OK") => Ok(()),
        other => Err(format!(
            "leaving transparent mode: `+++` answered {}",
            other.unwrap_or("nothing")
        )),
    }
}

/// What [`put_back`] found and did.
#[derive(Debug, Clone, Default)]
pub struct Restored {
    /// What the module holds now.
    pub held: Held,
    /// How it differs from before the case, in words (empty: as it was).
    pub problems: Vec<String>,
    /// Final results that came after an answer to a listing (no command
    /// waited for them).
    pub strays: Vec<String>,
}

/// Puts the module back to `before`: leaves transparent mode, closes what
/// was not there before, and reads again.
pub fn put_back(link: &mut Link, before: &Held, env: &Env, guard: Duration) -> Restored {
    let mut out = Restored::default();
    if let Err(e) = command_mode(link, guard) {
        out.problems.push(e);
    }
    let mut now = before.read_again(link, &mut out.strays);
    // What a close answered, by object, for the message if it stays.
    let mut attempts: BTreeMap<(&str, String), String> = BTreeMap::new();
    let mut changed = false;
    if now != *before {
        for h in HOLDINGS {
            // A close above may have closed these too (deinitialising BLE
            // ends its connection): read them again.
            let current = match changed {
                true => read_one(link, h, &mut out.strays),
                false => now.0.get(h.what).cloned().flatten(),
            };
            let (Some(current), Some(Some(was))) = (current, before.0.get(h.what)) else {
                continue;
            };
            for id in current.keys().filter(|id| !was.contains_key(*id)) {
                changed = true;
                let outcome =
                    close_steps(h, id, env).and_then(|s| setup::run(link, &s).map(|_| ()));
                if let Err(e) = outcome {
                    attempts.insert((h.what, id.clone()), e);
                }
            }
        }
    }
    if changed {
        // Whatever the closes set off (`+QIURC: "closed"`) is not the
        // next case's.
        link.drain(Duration::from_millis(200), Duration::from_secs(2));
        now = before.read_again(link, &mut out.strays);
    }
    out.problems.extend(differences(before, &now, &attempts));
    out.held = now;
    out
}

/// How `now` differs from `before`, each difference in words.
fn differences(
    before: &Held,
    now: &Held,
    attempts: &BTreeMap<(&str, String), String>,
) -> Vec<String> {
    let mut out = Vec::new();
    for h in HOLDINGS {
        let was = before.0.get(h.what).cloned().flatten();
        let is = now.0.get(h.what).cloned().flatten();
        let (was, is) = match (was, is) {
            (Some(w), Some(i)) => (w, i),
            (Some(_), None) => {
                out.push(format!("the {}s could not be read back", h.what));
                continue;
            }
            // Not readable before: nothing to compare with.
            (None, _) => continue,
        };
        for (id, line) in &is {
            match was.get(id) {
                None => {
                    let why = attempts
                        .get(&(h.what, id.clone()))
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default();
                    out.push(format!("{} {id} is still there{why}", h.what));
                }
                Some(old) if h.compare_line && old != line => {
                    out.push(format!(
                        "{} {id} changed: `{old}` before, `{line}` now",
                        h.what
                    ));
                }
                Some(_) => {}
            }
        }
        for id in was.keys().filter(|id| !is.contains_key(*id)) {
            out.push(format!(
                "{} {id} was there before the case and is gone",
                h.what
            ));
        }
    }
    out
}

/// The verdict of a case whose restore found `problems`: a pass becomes an
/// `error` (the module was left changed, the case could not be judged
/// cleanly); a failure or an error keeps its reason, with the restore's
/// added; a skip stays.
pub fn judge(verdict: Verdict, problems: &[String]) -> Verdict {
    if problems.is_empty() {
        return verdict;
    }
    let p = format!("restore failed: {}", problems.join("; "));
    match verdict {
        Verdict::Pass => Verdict::Error { reason: p },
        Verdict::Fail { reason } => Verdict::Fail {
            reason: format!("{reason}; {p}"),
        },
        Verdict::Error { reason } => Verdict::Error {
            reason: format!("{reason}; {p}"),
        },
        skip @ Verdict::Skip { .. } => skip,
    }
}

/// Whether the catalogue has every line this module uses (a test keeps
/// the two in step).
pub fn catalogue_has_every_line() -> Result<(), String> {
    for h in HOLDINGS {
        let q = CASES
            .iter()
            .find(|c| c.id == h.query)
            .ok_or_else(|| format!("no case `{}` lists the {}s", h.query, h.what))?;
        if !matches!(q.kind, Kind::ReadForm | Kind::Execute) {
            return Err(format!("`{}` is not a read or execution form", h.query));
        }
        close_steps(h, "0", &Env::default())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listing_and_close_is_in_the_catalogue() {
        catalogue_has_every_line().unwrap();
    }

    #[test]
    fn closes_come_from_the_recipes_and_the_catalogue() {
        let env = Env::default();
        let lines = |what: &str, id: &str| -> Vec<String> {
            let h = HOLDINGS.iter().find(|h| h.what == what).unwrap();
            close_steps(h, id, &env)
                .unwrap()
                .into_iter()
                .filter_map(|s| s.line)
                .collect()
        };
        assert_eq!(lines("socket", "3"), ["AT+QICLOSE=3"]);
        assert_eq!(lines("SSL connection", "2"), ["AT+QSSLCLOSE=2"]);
        assert_eq!(lines("connected MQTT client", "1"), ["AT+QMTDISC=1"]);
        assert_eq!(lines("open MQTT client", "1"), ["AT+QMTCLOSE=1"]);
        assert_eq!(lines("BLE role", "2"), ["AT+QBLEINIT=0"]);
        assert_eq!(lines("file", "\"a.txt\""), ["AT+QFDEL=\"a.txt\""]);
        assert_eq!(lines("open file", "1"), ["AT+QFCLOSE=1"]);
    }

    fn held(what: &'static str, objects: &[(&str, &str)]) -> Held {
        let mut h = Held::default();
        for x in HOLDINGS {
            h.0.insert(x.what, Some(BTreeMap::new()));
        }
        h.0.insert(
            what,
            Some(
                objects
                    .iter()
                    .map(|(i, l)| (i.to_string(), l.to_string()))
                    .collect(),
            ),
        );
        h
    }

    #[test]
    fn differences_name_what_stayed_what_went_and_what_changed() {
        let before = held("file", &[("\"a\"", "+QFLST: \"a\",3")]);
        assert!(differences(&before, &before, &BTreeMap::new()).is_empty());
        let grown = held("file", &[("\"a\"", "+QFLST: \"a\",9")]);
        let d = differences(&before, &grown, &BTreeMap::new());
        assert_eq!(d.len(), 1);
        assert!(d[0].contains("changed"), "{d:?}");
        let gone = held("file", &[]);
        let d = differences(&before, &gone, &BTreeMap::new());
        assert!(d[0].contains("is gone"), "{d:?}");
        let empty = held("socket", &[]);
        let open = held("socket", &[("1", "+QISTATE: 1,...")]);
        let attempts = BTreeMap::from([(
            ("socket", "1".to_string()),
            "`AT+QICLOSE=1` answered ERROR".to_string(),
        )]);
        let d = differences(&empty, &open, &attempts);
        assert_eq!(
            d,
            ["socket 1 is still there (`AT+QICLOSE=1` answered ERROR)"]
        );
    }

    #[test]
    fn a_failed_restore_turns_a_pass_into_an_error_and_keeps_a_failure() {
        let p = vec!["socket 1 is still there".to_string()];
        assert!(
            matches!(judge(Verdict::Pass, &p), Verdict::Error { reason } if reason.contains("socket 1"))
        );
        assert!(
            matches!(judge(Verdict::Fail { reason: "x".into() }, &p), Verdict::Fail { reason } if reason.starts_with("x; restore failed"))
        );
        assert_eq!(judge(Verdict::Pass, &[]), Verdict::Pass);
    }
}
