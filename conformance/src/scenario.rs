//! Runs the scenarios of `spec/` step by step: the manual's examples and the
//! exchanges composed from the catalogue (`scenarios.yaml`), the provocations
//! (`provocations.yaml`).
//!
//! Placeholders (`${name}`) take the environment's value when it has one
//! (e.g. the certificate files of the simulator's CA), else the manual's.
//! A placeholder that no `send` step uses is a value the module chooses
//! (a local port): in expectations it matches any text. A placeholder whose
//! manual value is a description (`<Received data>`, `......`) matches any
//! text too, and as a payload becomes a short test text.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::case::{ConnectData, DataEnd, Scenario, Step};
use crate::env::Env;
use crate::link::{Link, Received};
use crate::outcome::{CaseResult, Verdict};

/// How long an expectation waits (the manual's examples include network
/// round trips; the longest documented limit of these steps is 150 s, but
/// a module that does not answer an example within this is broken).
const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// The catalogue's reason why a scenario cannot run from the UART alone.
pub fn skip_reason(s: &Scenario) -> Option<String> {
    if let Some(reason) = s.skip {
        return Some(reason.to_string());
    }
    s.steps
        .is_empty()
        .then(|| "the example has only prose and figures (a phone app), no UART steps".into())
}

/// A piece of an expected text: literal, or any text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Lit(String),
    Any,
}

struct Values {
    values: BTreeMap<String, String>,
    /// Placeholders that match anything.
    wild: Vec<String>,
}

fn is_description(v: &str) -> bool {
    (v.starts_with('<') && v.ends_with('>')) || v.chars().all(|c| c == '.')
}

impl Values {
    fn new(s: &Scenario, env: &Env) -> Values {
        let mut values = BTreeMap::new();
        let mut wild = Vec::new();
        let sent: String = s
            .steps
            .iter()
            .filter_map(|st| match st {
                Step::Send(t) | Step::SendData(t, _) => Some(*t),
                _ => None,
            })
            .collect();
        for (k, v) in s.placeholders {
            let own = env.value(k).map(str::to_string);
            let used_in_send = sent.contains(&format!("${{{k}}}"));
            match own {
                Some(v) => {
                    values.insert(k.to_string(), v);
                }
                None if is_description(v) || !used_in_send => {
                    wild.push(k.to_string());
                    values.insert(k.to_string(), format!("conformance {k}"));
                }
                None => {
                    values.insert(k.to_string(), v.to_string());
                }
            }
        }
        Values { values, wild }
    }

    fn fill(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (k, v) in &self.values {
            out = out.replace(&format!("${{{k}}}"), v);
        }
        out
    }

    fn pattern(&self, text: &str) -> Vec<Piece> {
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            let Some(len) = rest[start..].find('}') else {
                break;
            };
            let name = &rest[start + 2..start + len];
            pieces.push(Piece::Lit(rest[..start].to_string()));
            if self.wild.iter().any(|w| w == name) {
                pieces.push(Piece::Any);
            } else {
                pieces.push(Piece::Lit(
                    self.values.get(name).cloned().unwrap_or_default(),
                ));
            }
            rest = &rest[start + len + 1..];
        }
        pieces.push(Piece::Lit(rest.to_string()));
        pieces
    }
}

/// Undoes what the example's commands left behind (the catalogue's
/// `leaves`: an open connection, an MQTT client), so that the next example
/// starts clean, as the manual's examples each do. The BLE examples are
/// steps of one story (set up, a phone connects, data both ways) and keep
/// their state.
fn clean_up(s: &Scenario, link: &mut Link, env: &Env) {
    let values = Values::new(s, env);
    for (n, step) in s.steps.iter().enumerate().rev() {
        let Step::Send(t) = step else { continue };
        let line = values.fill(t);
        let name = crate::runner::command_name(&line);
        let Some(leaves) = crate::generated::cases::CASES
            .iter()
            .filter(|c| c.command == name)
            .find_map(|c| c.leaves)
        else {
            continue;
        };
        if leaves.state.starts_with("ble_") {
            continue;
        }
        let mut id = line
            .split_once('=')
            .and_then(|(_, args)| args.split(',').nth(leaves.field.unwrap_or(0)))
            .map(|a| a.trim_matches('"').to_string());
        // An id the module chose is in the answer the example shows
        // (`+QFOPEN: 1`).
        let chosen = crate::setup::recipe(leaves.state, None, env)
            .is_some_and(|(up, _)| up.iter().any(|s| s.yields_id));
        if chosen {
            id = s.steps[n + 1..].iter().find_map(|st| match st {
                Step::Expect(e) => e.split_once(": ").map(|(_, v)| values.fill(v)),
                _ => None,
            });
        }
        if let Some((_, down)) = crate::setup::recipe(leaves.state, id.as_deref(), env) {
            crate::setup::undo(link, &down);
        }
    }
    link.drain(Duration::from_millis(50), Duration::from_secs(1));
}

/// Whether `text` matches `pattern` (`Any` matches any run of characters).
fn matches(pattern: &[Piece], text: &str) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((Piece::Lit(l), rest)) => text
            .strip_prefix(l.as_str())
            .is_some_and(|t| matches(rest, t)),
        Some((Piece::Any, rest)) => (0..=text.len())
            .filter(|i| text.is_char_boundary(*i))
            .any(|i| matches(rest, &text[i..])),
    }
}

/// Where `data` holds what `pattern` describes (its literal parts, in
/// order): the offset just after the match.
fn data_match(pattern: &[Piece], data: &[u8]) -> Option<usize> {
    let mut at = 0;
    for p in pattern {
        if let Piece::Lit(l) = p {
            if l.is_empty() {
                continue;
            }
            let i = data[at..]
                .windows(l.len())
                .position(|w| w == l.as_bytes())?;
            at += i + l.len();
        }
    }
    // A pattern ending in "any text" takes whatever came.
    if matches!(pattern.last(), Some(Piece::Any)) {
        at = data.len();
    }
    (!data.is_empty()).then_some(at)
}

/// The id of a scenario's result, as reports and `list` show it.
pub fn id(s: &Scenario) -> String {
    format!("scenario.{}", s.name)
}

/// Runs one scenario on `link`; also returns everything exchanged (its
/// traffic counts towards coverage).
pub fn run(
    s: &'static Scenario,
    link: &mut Link,
    env: &Env,
    guard: Duration,
) -> (CaseResult, Vec<crate::outcome::Exchanged>) {
    let started = Instant::now();
    link.take_transcript();
    let verdict = match skip_reason(s) {
        Some(reason) => Verdict::Skip { reason },
        None => match set_up(s, link, env) {
            Err(reason) => Verdict::Error { reason },
            Ok(()) => match steps(s, link, env, guard) {
                Ok(()) => Verdict::Pass,
                Err(reason) => Verdict::Fail { reason },
            },
        },
    };
    let failed = verdict != Verdict::Pass;
    if failed {
        link.resync(4);
    }
    clean_up(s, link, env);
    let exchanged = link.take_transcript();
    let result = CaseResult {
        id: id(s),
        command: String::new(),
        group: "scenarios".into(),
        form: String::new(),
        param: None,
        kind: "scenario".into(),
        entry: format!("{} {} ({})", s.file, s.name, s.title),
        verdict,
        answer: String::new(),
        expected: if failed { expected(s, env) } else { Vec::new() },
        exchanged: if failed {
            exchanged.clone()
        } else {
            Vec::new()
        },
        duration_ms: started.elapsed().as_millis() as u64,
    };
    (result, exchanged)
}

/// What the scenario expects of the module: one alternative, a line per
/// step that waits for the module (a line, a URC, the prompt, a data
/// block), placeholders filled in as the run used them (one that matches
/// any text stays `${name}`).
fn expected(s: &Scenario, env: &Env) -> Vec<String> {
    let values = Values::new(s, env);
    let fill = |t: &str| {
        let mut out = t.to_string();
        for (k, v) in &values.values {
            if !values.wild.contains(k) {
                out = out.replace(&format!("${{{k}}}"), v);
            }
        }
        out
    };
    let lines = s
        .steps
        .iter()
        .filter_map(|st| match st {
            Step::Expect(t) => Some(fill(t)),
            Step::ExpectUrc(t) => Some(format!("{}   (URC)", fill(t))),
            Step::ExpectPrompt(t) => Some(format!("{}   (prompt)", fill(t))),
            Step::ExpectData(t) => Some(format!("{}   (data)", fill(t))),
            Step::Send(_) | Step::SendData(..) => None,
        })
        .collect::<Vec<_>>();
    vec![lines.join("\n")]
}

/// Reaches the states the scenario starts from (`requires`), with the
/// recipes of `spec/states.yaml`; what already holds (the network the
/// bring-up joined) is not reached again.
fn set_up(s: &Scenario, link: &mut Link, env: &Env) -> Result<(), String> {
    let mut reached = std::collections::BTreeSet::new();
    if s.requires.is_empty() {
        return Ok(());
    }
    for state in s.requires {
        let (up, _) = crate::setup::reach(state, None, s.requires, &mut reached, env)?;
        crate::setup::run(link, &up).map_err(|e| format!("set-up of `{state}` failed: {e}"))?;
    }
    Ok(())
}

fn steps(s: &Scenario, link: &mut Link, env: &Env, guard: Duration) -> Result<(), String> {
    let values = Values::new(s, env);
    let mut data_seen: Vec<u8> = Vec::new();
    // Lines that came while another was awaited (URCs are not ordered
    // with the responses around them).
    let mut pending: Vec<String> = Vec::new();
    let mut transparent = false;
    for (n, step) in s.steps.iter().enumerate() {
        let at = |what: String| format!("step {} ({what})", n + 1);
        match step {
            Step::Send(t) => {
                let line = values.fill(t);
                if line == "+++" {
                    link.escape(guard + Duration::from_millis(100));
                    transparent = false;
                } else {
                    let next_is_prompt = matches!(s.steps.get(n + 1), Some(Step::ExpectPrompt(_)));
                    let connect = connect_kind(s, n);
                    link.send_line(&line, connect, next_is_prompt);
                    transparent = connect == ConnectData::Transparent;
                }
            }
            Step::SendData(t, end) => {
                let mut bytes = values.fill(t).into_bytes();
                match end {
                    DataEnd::CtrlZ => bytes.push(0x1A),
                    DataEnd::Esc => bytes.push(0x1B),
                    DataEnd::None => {}
                }
                link.send_raw(&bytes);
            }
            Step::Expect(t) | Step::ExpectUrc(t) => {
                let pattern = values.pattern(t);
                let urc = matches!(step, Step::ExpectUrc(_));
                let deadline = link.now() + STEP_TIMEOUT;
                let mut seen = Vec::new();
                if urc {
                    if let Some(i) = pending.iter().position(|l| matches(&pattern, l)) {
                        pending.remove(i);
                        continue;
                    }
                }
                loop {
                    match link.next(deadline) {
                        Some(Received::Line(l)) => {
                            if matches(&pattern, &l) {
                                break;
                            }
                            // Another final result ends the command: no
                            // point waiting for the expected line.
                            if !urc && fcm242d::engine::Final::parse(&l).is_some() {
                                return Err(at(format!(
                                    "expected `{}`, got `{l}`",
                                    values.fill(t)
                                )));
                            }
                            // A response line must come in order; URCs and
                            // other lines may come between (late URCs).
                            if !urc && !crate::link::is_urc(&l) && seen.len() > 20 {
                                return Err(at(format!("expected `{t}`, got `{l}`")));
                            }
                            pending.push(l.clone());
                            seen.push(l);
                        }
                        Some(Received::Data(d)) | Some(Received::Raw(d)) => data_seen.extend(d),
                        Some(_) => {}
                        None => {
                            return Err(at(format!(
                                "expected `{}`, got {}",
                                values.fill(t),
                                if seen.is_empty() {
                                    "nothing".to_string()
                                } else {
                                    seen.iter()
                                        .map(|l| format!("`{l}`"))
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                }
                            )))
                        }
                    }
                }
                if transparent && values.fill(t) == "CONNECT" {
                    // The framer switched to transparent bytes at `CONNECT`.
                }
            }
            Step::ExpectPrompt(_) => {
                let deadline = link.now() + STEP_TIMEOUT;
                loop {
                    match link.next(deadline) {
                        Some(Received::Prompt) => break,
                        Some(Received::Line(l)) => pending.push(l),
                        Some(_) => {}
                        None => return Err(at("expected the `>` prompt".into())),
                    }
                }
            }
            Step::ExpectData(t) => {
                let pattern = values.pattern(t);
                let deadline = link.now() + STEP_TIMEOUT;
                loop {
                    if let Some(end) = data_match(&pattern, &data_seen) {
                        // What follows the match belongs to the next step.
                        data_seen.drain(..end);
                        break;
                    }
                    match link.next(deadline) {
                        Some(Received::Data(d)) | Some(Received::Raw(d)) => data_seen.extend(d),
                        Some(Received::Line(l)) => pending.push(l),
                        Some(_) => {}
                        None => {
                            return Err(at(format!(
                                "expected data `{}`, got `{}`",
                                values.fill(t),
                                crate::link::escape(&data_seen)
                            )))
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// What a `CONNECT` after the step-`n` command means, from the catalogue:
/// a data block (QFREAD, QHTTPREAD), a data-input phase (QFWRITE,
/// QHTTPPOST: the payload follows, then the result), or transparent mode.
fn connect_kind(s: &Scenario, n: usize) -> ConnectData {
    let Some(Step::Send(line)) = s.steps.get(n) else {
        return ConnectData::None;
    };
    let name = crate::runner::command_name(line);
    let name = name.as_str();
    let cases = || {
        crate::generated::cases::CASES
            .iter()
            .filter(move |c| c.command == name)
    };
    if cases().any(|c| c.data_phase.is_some_and(|d| !d.greater_prompt)) {
        return ConnectData::None;
    }
    cases()
        .map(|c| c.connect_data)
        .find(|d| *d != ConnectData::None)
        .unwrap_or(ConnectData::None)
}

#[cfg(test)]
mod tests {
    use crate::generated::cases::SCENARIOS;

    /// A scenario's result names the file that holds it (a provocation is
    /// in `spec/provocations.yaml`, not `spec/scenarios.yaml`).
    #[test]
    fn every_scenario_names_the_file_that_holds_it() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        for s in SCENARIOS {
            let text = std::fs::read_to_string(root.join(s.file))
                .unwrap_or_else(|e| panic!("{}: {}: {e}", s.name, s.file));
            assert!(
                text.contains(&format!("- name: {}\n", s.name)),
                "{} is not in {}",
                s.name,
                s.file
            );
        }
        assert!(SCENARIOS.iter().any(|s| s.file == "spec/provocations.yaml"));
        assert!(SCENARIOS.iter().any(|s| s.file == "spec/scenarios.yaml"));
    }
}
