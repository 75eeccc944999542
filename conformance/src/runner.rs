//! Runs the generated cases against a target and judges each one.
//!
//! A case is judged against the catalogue only:
//! - test, read and execution forms, and write lines with valid values, must
//!   be accepted (a final result that is not `ERROR` / `+CME ERROR`), with
//!   every information line matching one of the command's templates, within
//!   the time limit, followed by their completion URC when they have one;
//! - lines the catalogue forbids (out of range, wrong type, too long, one
//!   argument too many, an unknown key, a broken rule) must be refused with
//!   the result the catalogue gives (`ERROR`, or the table's code);
//! - a write variant is only meaningful when the form's baseline (every
//!   required parameter at a valid value) is accepted in this environment;
//!   otherwise it is skipped with that reason.
//!
//! Every line received is explained by the grammar or reported, with the
//! command that preceded it.
//!
//! # Time limits
//!
//! A command answers within the catalogue's limit (its "Maximum Response
//! Time") plus [`tolerance`]: a tenth of the limit and 100 ms, for the
//! UART and the host's scheduling. A final result after that is late: the
//! case fails, naming the time it took and the limit. The runner keeps
//! listening for [`late_window`] after the allowance, so that a late answer
//! is taken by the case it belongs to and never by the next command. A
//! final result that comes when no command waits for one (between cases,
//! or a second one after a case's answer) is a deviation: it is reported
//! with the case whose command got no answer in time, if there is one, and
//! a case after whose answer one comes fails (either of its two final
//! results may be a stale one). Re-synchronising after a command that got
//! no answer takes an `AT`'s `OK` as its own only when no other final
//! result follows it.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use crate::case::{Case, ConnectData, Refusal, Safety};
use crate::checker::{explain, Explained};
use crate::env::Env;
use crate::link::{Answer, Link, Received};
use crate::outcome::{CaseResult, Exercised, Unexplained, Verdict};
use crate::restore;
use crate::setup;

/// What to run and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// Safety classes beyond `safe` and `stateful` that may run.
    pub allow: BTreeSet<Safety>,
    /// Only these function groups (empty: all).
    pub groups: Vec<String>,
    /// Only these commands (empty: all).
    pub commands: Vec<String>,
    /// Only cases whose id contains one of these (empty: all).
    pub names: Vec<String>,
    /// The environment.
    pub env: Env,
    /// Keep the transcript of passing cases too.
    pub keep_all_transcripts: bool,
    /// Silence before and after `+++` (the module's guard time).
    pub guard_time: Duration,
    /// Time allowed when the catalogue gives no limit.
    pub default_time_limit: Duration,
    /// Run the cases (and the scenarios) in an order shuffled with this
    /// seed; `None`: catalogue order.
    pub shuffle: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            allow: BTreeSet::new(),
            groups: Vec::new(),
            commands: Vec::new(),
            names: Vec::new(),
            env: Env::default(),
            keep_all_transcripts: false,
            guard_time: Duration::from_millis(1000),
            default_time_limit: Duration::from_secs(10),
            shuffle: None,
        }
    }
}

impl Options {
    /// Every safety class (a simulator cannot be bricked).
    pub fn allow_every_class(&mut self) {
        self.allow
            .extend([Safety::Persistent, Safety::Disruptive, Safety::Destructive]);
    }

    /// Whether `case` is selected: by the user's `--group`, `--command` and
    /// `--case`, and by its safety class (`safe` and `stateful` always,
    /// the others when allowed). A case not selected is not counted.
    pub fn selects(&self, case: &Case) -> bool {
        (case.safety <= Safety::Stateful || self.allow.contains(&case.safety))
            && (self.groups.is_empty()
                || self
                    .groups
                    .iter()
                    .any(|g| g.eq_ignore_ascii_case(case.group)))
            && (self.commands.is_empty()
                || self
                    .commands
                    .iter()
                    .any(|c| c.eq_ignore_ascii_case(case.command)))
            && (self.names.is_empty() || self.names.iter().any(|n| case.id.contains(n.as_str())))
    }
}

/// Progress of a run, for a live display.
pub trait Progress {
    /// A case starts (`index` of `total`).
    fn start(&mut self, index: usize, total: usize, id: &str);
    /// A case ended.
    fn done(&mut self, result: &CaseResult);
    /// The run ended.
    fn finish(&mut self) {}
}

/// No progress display (CI, tests).
pub struct Quiet;

impl Progress for Quiet {
    fn start(&mut self, _: usize, _: usize, _: &str) {}
    fn done(&mut self, _: &CaseResult) {}
}

/// The state of a run in progress.
pub struct Runner<'a> {
    link: &'a mut Link,
    options: &'a Options,
    verdicts: HashMap<&'static str, bool>,
    /// Lines the catalogue cannot explain.
    pub unexplained: Vec<Unexplained>,
    /// What was exercised.
    pub exercised: Exercised,
    sets: ExercisedSets,
    /// The information lines of the last case's answer.
    last_lines: Vec<String>,
    /// Cases whose command got no final result (id, line): a final result
    /// that comes later with no command waiting is theirs.
    unanswered: Vec<(String, String)>,
    /// Against a module: what it held open after the last case's restore.
    held: Option<restore::Held>,
}

#[derive(Default)]
struct ExercisedSets {
    commands: BTreeSet<String>,
    forms: BTreeSet<String>,
    values: BTreeSet<String>,
    results: BTreeSet<String>,
    urcs: BTreeSet<String>,
}

impl<'a> Runner<'a> {
    /// A runner over `link`.
    pub fn new(link: &'a mut Link, options: &'a Options) -> Runner<'a> {
        for s in options.env.secrets() {
            link.add_secret(&s);
        }
        Runner {
            link,
            options,
            verdicts: HashMap::new(),
            unexplained: Vec::new(),
            exercised: Exercised::default(),
            sets: ExercisedSets::default(),
            last_lines: Vec::new(),
            unanswered: Vec::new(),
            held: None,
        }
    }

    /// Runs `cases` in order.
    pub fn run(&mut self, cases: &[&'static Case], progress: &mut dyn Progress) -> Vec<CaseResult> {
        let mut out = Vec::new();
        for (i, case) in cases.iter().enumerate() {
            progress.start(i, cases.len(), case.id);
            let r = self.run_case(case);
            progress.done(&r);
            out.push(r);
        }
        self.finish();
        out
    }

    /// Fills [`Runner::exercised`] from what was seen.
    pub fn finish(&mut self) {
        let s = &self.sets;
        self.exercised = Exercised {
            commands: s.commands.iter().cloned().collect(),
            forms: s.forms.iter().cloned().collect(),
            values: s.values.iter().cloned().collect(),
            results: s.results.iter().cloned().collect(),
            urcs: s.urcs.iter().cloned().collect(),
        };
    }

    fn result(
        &mut self,
        case: &Case,
        verdict: Verdict,
        answer: String,
        started: Instant,
    ) -> CaseResult {
        let transcript = self.link.take_transcript();
        // Against a module the restore after the case may still make it
        // an error: [`Runner::run_case`] drops what a pass does not keep.
        let keep = verdict != Verdict::Pass
            || self.options.keep_all_transcripts
            || !self.link.fresh_per_case();
        self.verdicts.insert(case.id, verdict == Verdict::Pass);
        CaseResult {
            id: case.id.to_string(),
            command: case.command.to_string(),
            group: case.group.to_string(),
            form: case.form.to_string(),
            param: case.param.map(str::to_string),
            kind: case.kind.name().to_string(),
            entry: case.entry.to_string(),
            verdict,
            answer,
            expected: if keep {
                crate::expected::of_case(case)
            } else {
                Vec::new()
            },
            exchanged: if keep { transcript } else { Vec::new() },
            duration_ms: started.elapsed().as_millis() as u64,
        }
    }

    fn skip(&mut self, case: &Case, reason: String) -> CaseResult {
        self.link.take_transcript();
        self.result(
            case,
            Verdict::Skip { reason },
            String::new(),
            Instant::now(),
        )
    }

    fn error(&mut self, case: &Case, reason: String, started: Instant) -> CaseResult {
        self.result(case, Verdict::Error { reason }, String::new(), started)
    }

    /// Runs one case. Against a module (no fresh start per case), what the
    /// case and its set-up left open is closed again afterwards and read
    /// back ([`crate::restore`]); a restore that fails is the case's error.
    pub fn run_case(&mut self, case: &'static Case) -> CaseResult {
        let restores = !self.link.fresh_per_case() && case.skip.is_none();
        if !restores {
            return self.run_one(case);
        }
        // What the module holds before the case: read once, then what the
        // last restore left (it read the module back).
        let before = match self.held.take() {
            Some(h) => h,
            None => {
                let h = restore::Held::read(self.link);
                self.link.take_transcript();
                h
            }
        };
        let mut r = self.run_one(case);
        let restored = restore::put_back(
            self.link,
            &before,
            &self.options.env,
            self.options.guard_time,
        );
        // Judged against what is there now: a leftover that could not be
        // closed is this case's error, not the next one's.
        self.held = Some(restored.held);
        for s in &restored.strays {
            self.stray_final(s, case.id);
        }
        let restoring = self.link.take_transcript();
        r.verdict = with_strays(r.verdict, case, &restored.strays);
        r.verdict = restore::judge(r.verdict, &restored.problems);
        self.verdicts.insert(case.id, r.verdict == Verdict::Pass);
        if r.verdict == Verdict::Pass && !self.options.keep_all_transcripts {
            r.exchanged.clear();
            r.expected.clear();
        } else {
            let offset = r.duration_ms;
            r.exchanged.extend(restoring.into_iter().map(|mut e| {
                e.at_ms += offset;
                e
            }));
        }
        r
    }

    /// Runs one case, without what [`Runner::run_case`] puts back.
    fn run_one(&mut self, case: &'static Case) -> CaseResult {
        let started = Instant::now();
        self.link.take_transcript();
        if let Some(reason) = case.skip {
            return self.skip(case, reason.to_string());
        }
        // A known state: the simulator starts every case from power-on,
        // on the network, whatever the cases before it did.
        if self.link.reset_target() {
            match crate::session::bring_up(self.link, &self.options.env) {
                // The join was accepted but its URC did not come: that is
                // for the join's own cases to judge; the station may well
                // be on the network.
                Err(e) if e.starts_with(setup::MISSING_URC) => {}
                Err(e) => return self.error(case, format!("fresh start: {e}"), started),
                Ok(()) => {}
            }
            self.link.take_transcript();
        }
        // A line the catalogue forbids must not be valid for another form
        // of the command (`AT+QIRD=0,1` is the `<connectID>,<read_length>`
        // form, not `<connectID>` with one argument too many).
        if case.refusal.is_some()
            && case.kind != crate::case::Kind::RuleBroken
            && fcm242d::generated::commands::AnyCommand::parse(case.line).is_ok()
        {
            return self.error(
                case,
                "the line is valid for another form of the command".into(),
                started,
            );
        }
        // Set-up.
        let mut teardown = Vec::new();
        let mut line = case.line.to_string();
        let needed: Vec<&str> = case.preconditions.iter().map(|p| p.state).collect();
        // The bring-up (at the start, or after each fresh start) joined
        // the network.
        let mut reached = std::collections::BTreeSet::from(["wifi_sta_connected".to_string()]);
        for pre in case.preconditions {
            // A line refused for the very argument that names the object
            // needs no object: the refusal comes first.
            if case.refusal.is_some() && pre.param.is_some() && case.param == pre.param {
                continue;
            }
            let (up, down) = match setup::reach(
                pre.state,
                pre.value,
                &needed,
                &mut reached,
                &self.options.env,
            ) {
                Ok(steps) => steps,
                Err(e) => {
                    setup::undo(self.link, &teardown);
                    return self.error(case, e, started);
                }
            };
            // An object the environment provides (a peer's characteristic)
            // goes on the line; a case about that parameter takes the one
            // of the same length, a refusal keeps its own value.
            let provided = match setup::objects(pre.state, &needed, &self.options.env) {
                Ok(o) => o,
                Err(e) => return self.error(case, e, started),
            };
            if let (false, Some(field)) = (provided.is_empty(), pre.field) {
                let about_it = case.param == pre.param;
                if !(about_it && case.refusal.is_some()) {
                    let len = pre.value.map(str::len);
                    let chosen = match about_it {
                        true => provided.iter().find(|o| Some(o.len()) == len),
                        false => provided.first(),
                    };
                    let Some(object) = chosen else {
                        setup::undo(self.link, &teardown);
                        return self.error(
                            case,
                            format!(
                                "the environment provides no `{}` object of {} characters for <{}>",
                                pre.state,
                                len.unwrap_or(0),
                                pre.param.unwrap_or("?")
                            ),
                            started,
                        );
                    };
                    line = replace_field(&line, field, &format!("\"{object}\""));
                }
            }
            match setup::run(self.link, &up) {
                Err(e) => {
                    setup::undo(self.link, &teardown);
                    self.settle(case.id);
                    if let Some(why) = e.strip_prefix(setup::MISSING_URC) {
                        let reason = format!("set-up of `{}`: {why}", pre.state);
                        return self.result(case, Verdict::Fail { reason }, String::new(), started);
                    }
                    return self.error(
                        case,
                        format!("set-up of `{}` failed: {e}", pre.state),
                        started,
                    );
                }
                Ok(Some(id)) => {
                    // The module chose the object's id: a variant about
                    // that parameter cannot be set up; the others use it.
                    if case.baseline.is_some() && case.param == pre.param && case.refusal.is_none()
                    {
                        let (_, down) = setup::recipe(pre.state, Some(&id), &self.options.env)
                            .unwrap_or_default();
                        setup::undo(self.link, &down);
                        self.settle(case.id);
                        return self.error(
                            case,
                            format!(
                                "the module chooses <{}> (set-up got {id}); other values cannot be set up",
                                pre.param.unwrap_or("id")
                            ),
                            started,
                        );
                    }
                    // The id the module chose goes on the line, unless the
                    // case is about that argument (a refusal of "x").
                    if let (Some(field), false) = (pre.field, case.param == pre.param) {
                        line = replace_field(&line, field, &id);
                    }
                    let (_, down) =
                        setup::recipe(pre.state, Some(&id), &self.options.env).unwrap_or_default();
                    teardown.splice(0..0, down);
                    continue;
                }
                Ok(None) => {}
            }
            teardown.splice(0..0, down);
        }
        // What the command itself leaves behind is undone after it (below).
        let leaves = case
            .leaves
            .and_then(|l| Some((l, setup::recipe(l.state, l.value, &self.options.env)?)));
        // Whatever the set-up left in flight is not this case's.
        self.settle(case.id);
        self.link.take_transcript();
        // A configuration whose defaults the catalogue does not give is put
        // back as the module reports it: its query's answer, written back
        // (`+QSSLCFG: "seclevel",1,0` → `AT+QSSLCFG="seclevel",1,0`).
        // Against a module, what the case changes is put back afterwards
        // and read again (on the simulator the next case starts fresh).
        let restores = !self.link.fresh_per_case();
        let write_back = if restores
            && case.subcommand.is_some()
            && case.restore.is_none()
            && case.refusal.is_none()
            && case.baseline.is_some()
        {
            self.snapshot(case)
        } else {
            None
        };
        let configures = case.safety == Safety::Safe || case.restore.is_some();
        let read_before = (restores
            && write_back.is_none()
            && case.baseline.is_some()
            && case.refusal.is_none()
            && configures)
            .then(|| self.read_state(case))
            .flatten();
        let (mut verdict, answer) = self.exchange(case, &line);
        let mut restore_problem = None;
        if let Some(w) = &write_back {
            self.link.send_line(w, ConnectData::None, false);
            let a = self.link.answer(self.link.now() + Duration::from_secs(5));
            let again = self.snapshot(case);
            if a.result.as_deref() != Some("OK") {
                restore_problem = Some(format!(
                    "`{w}` answered {}",
                    a.result.as_deref().unwrap_or("nothing")
                ));
            } else if again.as_deref() != Some(w.as_str()) {
                restore_problem = Some(format!(
                    "read back after `{w}`: {}",
                    again.as_deref().unwrap_or("no answer")
                ));
            }
        }
        if let Some((l, (up, down))) = leaves {
            // An id the module chose is in its answer (`+QFOPEN: 1`).
            let down = match up.iter().any(|s| s.yields_id) {
                true => self
                    .last_lines
                    .iter()
                    .find_map(|x| x.split_once(": ").map(|(_, v)| v.trim().to_string()))
                    .and_then(|id| setup::recipe(l.state, Some(&id), &self.options.env))
                    .map(|(_, d)| d)
                    .unwrap_or_default(),
                false => down,
            };
            teardown.splice(0..0, down);
        }
        // A configuration variant is put back to the baseline's value, so
        // that later cases see the module as the baseline leaves it.
        if let (true, Some(b), None, true, None) = (
            restores,
            case.baseline,
            case.refusal,
            configures,
            &write_back,
        ) {
            // First the values read before the case, written back
            // (`+QIDNSCFG: "a","b"` → `AT+QIDNSCFG="a","b"`); else the
            // catalogue's defaults or the baseline.
            // Nothing to put back when the read form still answers as
            // before (a query by key, `AT+QISTATE=<id>`, changes nothing).
            let mut restored =
                read_before.is_some() && self.read_state(case).as_deref() == read_before.as_deref();
            if let (false, Some(w)) = (
                restored,
                read_before
                    .as_deref()
                    .and_then(|r| written_back(case.command, r)),
            ) {
                self.link.send_line(&w, ConnectData::None, false);
                let a = self.link.answer(self.link.now() + Duration::from_secs(5));
                restored = a.result.as_deref() == Some("OK")
                    && self.read_state(case).as_deref() == read_before.as_deref();
            }
            let restore = case.restore.or_else(|| {
                crate::generated::cases::CASES
                    .iter()
                    .find(|c| c.id == b)
                    .map(|c| c.line)
            });
            if let (false, Some(line)) = (restored, restore) {
                self.link.send_line(line, ConnectData::None, false);
                let a = self.link.answer(self.link.now() + Duration::from_secs(5));
                if a.result.as_deref() != Some("OK") {
                    restore_problem = Some(format!(
                        "`{line}` answered {}",
                        a.result.as_deref().unwrap_or("nothing")
                    ));
                } else if let Some(before) = &read_before {
                    let after = self.read_state(case);
                    if after.as_ref() != Some(before) {
                        restore_problem = Some(format!(
                            "read back {} instead of {before}",
                            after.as_deref().unwrap_or("nothing")
                        ));
                    }
                }
            }
        }
        // A case left in transparent mode: back to command mode first, or
        // the tear-down's lines would go to the peer as data.
        if restores {
            if let Err(e) = restore::command_mode(self.link, self.options.guard_time) {
                restore_problem.get_or_insert(e);
            }
        }
        if !teardown.is_empty() {
            setup::undo(self.link, &teardown);
        }
        // A case that joined another network (or failed to) leaves the
        // module off the environment's: join it again.
        if restores && case.leaves.is_some_and(|l| l.state == "wifi_sta_connected") {
            if let Err(e) = crate::session::bring_up(self.link, &self.options.env) {
                restore_problem.get_or_insert(format!("joining the network again: {e}"));
            }
        }
        // A final result after the case's answer: this answer or that one
        // is not the command's own (a stale one came first, or the module
        // answered twice).
        let strays = self.settle(case.id);
        verdict = with_strays(verdict, case, &strays);
        // A restore that fails leaves the module changed: the case could
        // not be judged cleanly (its own failure, if any, stays).
        if let (Some(p), Verdict::Pass) = (restore_problem, &verdict) {
            verdict = Verdict::Error {
                reason: format!("restore failed: {p}"),
            };
        }
        self.result(case, verdict, answer, started)
    }

    /// What the command's read form (`AT+X?`) answers now (its lines),
    /// when it has one and it answers `OK`.
    fn read_state(&mut self, case: &Case) -> Option<String> {
        let read = crate::generated::cases::CASES
            .iter()
            .find(|c| c.command == case.command && c.kind == crate::case::Kind::ReadForm)?;
        self.link.send_line(read.line, ConnectData::None, false);
        let a = self.link.answer(self.link.now() + Duration::from_secs(5));
        (a.result.as_deref() == Some("OK")).then(|| a.lines.join(" | "))
    }

    /// The write-back line of the configuration the case's baseline (a
    /// query by key) reports now.
    fn snapshot(&mut self, case: &Case) -> Option<String> {
        let base = crate::generated::cases::CASES
            .iter()
            .find(|c| Some(c.id) == case.baseline)?;
        self.link.send_line(base.line, ConnectData::None, false);
        let a = self.link.answer(self.link.now() + Duration::from_secs(5));
        if a.result.as_deref() != Some("OK") || a.lines.len() != 1 {
            return None;
        }
        let prefix = format!("{}: ", case.command.trim_start_matches("AT"));
        let answer: Vec<&str> = a.lines[0].strip_prefix(&prefix)?.split(',').collect();
        // The query names the key and the object (`"ssl",0`); its answer
        // repeats the key, and the object or not (`"ssl",1,2`).
        let query: Vec<&str> = base.line.split_once('=')?.1.split(',').collect();
        let (key, object) = query.split_first()?;
        let (answer_key, values) = answer.split_first()?;
        if answer_key != key {
            return None;
        }
        let mut fields = vec![*key];
        if !values.starts_with(object) {
            fields.extend(object.iter().copied());
        }
        fields.extend(values.iter().copied());
        Some(format!("{}={}", case.command, fields.join(",")))
    }

    /// Reads what is still coming (late URCs), checking each line; returns
    /// the final results among them, each reported (no command waits for
    /// one: it is a late or a second answer).
    fn settle(&mut self, case: &str) -> Vec<String> {
        // A module is quiet once nothing came for this long (a module's
        // answer takes a few milliseconds; the simulator's clock is virtual,
        // so the wait costs it nothing).
        let received = self.link.drain(SETTLE_QUIET, Duration::from_secs(2));
        let command = self.command_of_last_line();
        let mut strays = Vec::new();
        for r in received {
            let Received::Line(l) = r else { continue };
            if answers_a_command(&l) {
                self.stray_final(&l, case);
                strays.push(l);
            } else {
                self.check_line(&l, &command, "(between cases)");
            }
        }
        strays
    }

    /// Reports a final result no command waited for: the late answer of
    /// the oldest case that got none, or a second answer.
    fn stray_final(&mut self, line: &str, case: &str) {
        let (case, reason) = match self.unanswered.first().cloned() {
            Some((id, sent)) => {
                self.unanswered.remove(0);
                (
                    id,
                    format!("a final result no command waited for: the late answer of `{sent}`"),
                )
            }
            None => (
                case.to_string(),
                format!(
                    "a final result no command waited for (after the answer to `{}`)",
                    self.link.last_command
                ),
            ),
        };
        self.unexplained.push(Unexplained {
            line: line.to_string(),
            after_command: self.link.last_command.clone(),
            case,
            reason,
        });
    }

    fn command_of_last_line(&self) -> String {
        command_name(&self.link.last_command)
    }

    /// Checks one received line; an unexplained one is recorded.
    fn check_line(&mut self, line: &str, command: &str, case: &str) -> Explained {
        let e = explain(line, command);
        match &e {
            Explained::Final => {
                self.sets.results.insert(line.to_string());
            }
            Explained::Urc(label) => {
                self.sets.urcs.insert(label.to_string());
                if let Some(code) = crate::report::coverage::codes_in_urc(line) {
                    self.sets.results.insert(code);
                }
            }
            Explained::Response(_) => {}
            Explained::No(reason) => self.unexplained.push(Unexplained {
                line: line.to_string(),
                after_command: self.link.last_command.clone(),
                case: case.to_string(),
                reason: reason.clone(),
            }),
        }
        e
    }

    fn time_limit(&self, case: &Case) -> Duration {
        if case.time_limit_ms == 0 {
            self.options.default_time_limit
        } else {
            Duration::from_millis(case.time_limit_ms)
        }
    }

    /// Sends the case's line and judges the answer.
    fn exchange(&mut self, case: &'static Case, line: &str) -> (Verdict, String) {
        let limit = self.time_limit(case);
        let allowed = limit + tolerance(limit);
        // Past the allowance the runner still listens, so that a late
        // answer is this case's, not the next command's.
        let listen = allowed + late_window(limit);
        let prompt = case.data_phase.is_some_and(|d| d.greater_prompt);
        self.sets.commands.insert(case.command.to_string());
        self.sets.forms.insert(case.form.to_string());
        if !case.kind.expects_refusal() {
            self.sets
                .values
                .extend(crate::report::coverage::values_in_line(case.form, line));
        }
        if line.to_ascii_uppercase().starts_with("AT") {
            self.link.send_line(line, case.connect_data, prompt);
        } else {
            // `+++`: raw bytes with the guard time's silence around them.
            let guard = self.options.guard_time + Duration::from_millis(100);
            self.link.pause(guard);
            self.link.send_raw(line.as_bytes());
            self.link.pause(guard);
            self.link.leave_transparent();
            self.link.last_command = line.to_string();
        }
        let mut answer = self.link.answer(self.link.now() + listen);
        let mut problems = Vec::new();
        self.judge_lines(case, &answer, &mut problems);

        let verdict = if let Some(refusal) = case.refusal {
            match self.judge_refusal(case, refusal, &answer) {
                Verdict::Pass if case.time_limit_ms > 0 && answer.elapsed > allowed => {
                    Verdict::Fail {
                        reason: late(case, &answer, limit),
                    }
                }
                v => v,
            }
        } else {
            let v = self.judge_acceptance(case, &mut answer, allowed, listen);
            match (v, problems.is_empty()) {
                (Verdict::Pass, false) => Verdict::Fail {
                    reason: problems.join("; "),
                },
                (v, _) => v,
            }
        };
        self.last_lines = answer.lines.clone();
        if answer.result.is_none() && !answer.prompt {
            // The module hung, garbled or rebooted: get it back. A final
            // result that comes later is this case's.
            self.unanswered
                .push((case.id.to_string(), line.to_string()));
            self.link.resync(4);
            for s in self.link.take_stale() {
                self.stray_final(&s, case.id);
            }
        }
        (verdict, answer.summary())
    }

    fn judge_lines(&mut self, case: &Case, answer: &Answer, problems: &mut Vec<String>) {
        for l in answer.lines.iter().chain(&answer.urcs) {
            if let Explained::No(reason) = self.check_line(l, case.command, case.id) {
                problems.push(format!("`{l}`: {reason}"));
            }
        }
        // A test form's lists must be the catalogue's, no narrower, no wider.
        if case.kind == crate::case::Kind::TestForm {
            for l in &answer.lines {
                for reason in crate::lists::judge(case.command, case.form, l) {
                    problems.push(format!("`{l}`: {reason}"));
                }
            }
        }
        if let Some(r) = &answer.result {
            self.sets.results.insert(r.clone());
        }
        // `CONNECT <n>` before a data block is a result of its own.
        if let Some(c) = &answer.connect {
            self.sets.results.insert(c.clone());
        }
    }

    fn judge_refusal(&mut self, case: &Case, refusal: Refusal, answer: &Answer) -> Verdict {
        let what = format!("{}: {}", case.line, why_invalid(case));
        let expected = match refusal {
            Refusal::Error => "ERROR".to_string(),
            Refusal::Cme(code) => format!("+CME ERROR: {code}"),
        };
        if answer.prompt {
            // Accepted into a data phase: cancel it.
            self.link.send_raw(&[0x1B]);
            let _ = self.link.answer(self.link.now() + Duration::from_secs(3));
            return Verdict::Fail {
                reason: format!("{what}: expected {expected}, got the `>` prompt"),
            };
        }
        match answer.result.as_deref() {
            Some(r) if r == expected => Verdict::Pass,
            Some(r) if refusal == Refusal::Error && r.starts_with("+CME ERROR") => Verdict::Fail {
                reason: format!("{what}: expected ERROR, got {r}"),
            },
            Some(r) => {
                if r.starts_with("CONNECT") {
                    self.leave_transparent_if(case, r);
                }
                Verdict::Fail {
                    reason: format!("{what}: must be refused with {expected}, got {r}"),
                }
            }
            None => Verdict::Fail {
                reason: format!("{what}: no final result (expected {expected})"),
            },
        }
    }

    fn leave_transparent_if(&mut self, case: &Case, result: &str) {
        if case.connect_data == ConnectData::Transparent && result == "CONNECT" {
            self.link
                .escape(self.options.guard_time + Duration::from_millis(100));
            let _ = self.link.answer(self.link.now() + Duration::from_secs(3));
        }
    }

    fn judge_acceptance(
        &mut self,
        case: &Case,
        answer: &mut Answer,
        allowed: Duration,
        listen: Duration,
    ) -> Verdict {
        let refused = |r: &str| r == "ERROR" || r.starts_with("+CME ERROR");
        // A data phase: send the payload, then the real result follows.
        let connect_prompt = case.data_phase.is_some_and(|d| !d.greater_prompt)
            && answer.result.as_deref() == Some("CONNECT");
        if let Some(dp) = case.data_phase {
            if answer.prompt || connect_prompt {
                let mut payload = match dp.length {
                    Some(n) => vec![b'a'; n],
                    None => b"conformance".to_vec(),
                };
                if dp.length.is_none() && dp.ctrl_z {
                    payload.push(0x1A);
                }
                self.link.send_raw(&payload);
                let after = self.link.answer(self.link.now() + listen);
                // The limit is the answer's to the command, then to the
                // payload: the later of the two is judged.
                answer.elapsed = answer.elapsed.max(after.elapsed);
                for l in after.lines.iter().chain(&after.urcs) {
                    if let Explained::No(reason) = self.check_line(l, case.command, case.id) {
                        return Verdict::Fail {
                            reason: format!("`{l}` after the payload: {reason}"),
                        };
                    }
                }
                answer.lines.extend(after.lines);
                answer.urcs.extend(after.urcs);
                answer.result = after.result;
                answer.prompt = false;
            }
        }
        let Some(result) = answer.result.clone() else {
            return Verdict::Fail {
                reason: format!(
                    "{}: no final result within {} ms (catalogue limit {}, with the tolerance {} ms)",
                    case.line,
                    listen.as_millis(),
                    limit_text(case),
                    allowed.as_millis()
                ),
            };
        };
        if refused(&result) {
            return Verdict::Fail {
                reason: format!(
                    "{}: a valid line ({}{}) was refused with {result}",
                    case.line,
                    case.kind.name(),
                    case.param.map(|p| format!(" of <{p}>")).unwrap_or_default()
                ),
            };
        }
        // Acceptance means one of the form's own success results.
        let allowed_final = |f: &str| {
            f == result
                || (f == "CONNECT <n>"
                    && result
                        .strip_prefix("CONNECT ")
                        .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit())))
        };
        if !case.finals.is_empty() && !case.finals.iter().any(|f| allowed_final(f)) {
            return Verdict::Fail {
                reason: format!(
                    "{}: `{result}` is not a result this form gives (it gives {}; {})",
                    case.line,
                    case.finals.join(", "),
                    case.entry
                ),
            };
        }
        // An accepted answer carries the lines every accepting response of
        // the form prints (`+QWLMAC: <MAC>` before `OK`).
        // (A line with a URC's prefix, `+QHTTPGET: (1-65535)`, was sorted
        // with the URCs.)
        let has = |prefix: &str| {
            answer.lines.iter().chain(&answer.urcs).any(|l| {
                l.strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with(':'))
            })
        };
        if let Some(missing) = case.required_lines.iter().find(|p| !has(p)) {
            return Verdict::Fail {
                reason: format!(
                    "{}: `{result}` without the `{missing}:` line the form prints ({})",
                    case.line, case.entry
                ),
            };
        }
        if case.time_limit_ms > 0 && answer.elapsed > allowed {
            return Verdict::Fail {
                reason: late(case, answer, Duration::from_millis(case.time_limit_ms)),
            };
        }
        self.leave_transparent_if(case, &result);
        if let (Some(label), "OK") = (case.completion, result.as_str()) {
            let already = answer.urcs.iter().any(|u| u.starts_with(label));
            if !already {
                let mut others = Vec::new();
                let got = self
                    .link
                    .wait_urc(label, self.link.now() + allowed, &mut others);
                for o in others {
                    self.check_line(&o, case.command, case.id);
                }
                match got {
                    Some(line) => {
                        if let Explained::No(reason) = self.check_line(&line, case.command, case.id)
                        {
                            return Verdict::Fail {
                                reason: format!("completion `{line}`: {reason}"),
                            };
                        }
                    }
                    None => {
                        return Verdict::Fail {
                            reason: format!(
                                "{}: no {label} URC (its deferred completion) within {} ms",
                                case.line,
                                allowed.as_millis()
                            ),
                        }
                    }
                }
            }
        }
        Verdict::Pass
    }
}

/// `verdict` when final results came after the case's answer: a pass
/// fails (this answer or that one is not the command's own), a failure
/// says so (what failed may be the stale answer's doing).
fn with_strays(verdict: Verdict, case: &Case, strays: &[String]) -> Verdict {
    if strays.is_empty() {
        return verdict;
    }
    let stray = format!(
        "another final result ({}) came after its answer",
        strays.join(", ")
    );
    match verdict {
        Verdict::Pass => Verdict::Fail {
            reason: format!("{}: {stray}", case.line),
        },
        Verdict::Fail { reason } => Verdict::Fail {
            reason: format!("{reason}; {stray}"),
        },
        other => other,
    }
}

/// How long nothing must come before the module counts as quiet between
/// cases (what comes before that is checked, and a final result among it is
/// a deviation).
const SETTLE_QUIET: Duration = Duration::from_millis(100);

/// How far past a time limit an answer still counts as on time: a tenth
/// of the limit and 100 ms (the UART's and the host's delays).
pub fn tolerance(limit: Duration) -> Duration {
    limit / 10 + Duration::from_millis(100)
}

/// How long the runner keeps listening past the allowance for an answer
/// that comes late, so that it is attributed to its own case: as long as
/// the limit again, at least 2 s and at most 60 s.
pub fn late_window(limit: Duration) -> Duration {
    limit.clamp(Duration::from_secs(2), Duration::from_secs(60))
}

/// Whether `line` is a final result that answers a command (not `NO
/// CARRIER`, which a transparent connection reports when its peer
/// closes, whenever that happens).
fn answers_a_command(line: &str) -> bool {
    matches!(
        fcm242d::engine::Final::parse(line),
        Some(f) if !matches!(f, fcm242d::engine::Final::NoCarrier)
    )
}

/// Why an answer is late.
fn late(case: &Case, answer: &Answer, limit: Duration) -> String {
    format!(
        "{}: answered after {} ms; the catalogue allows {} ({}, tolerance {} ms)",
        case.line,
        answer.elapsed.as_millis(),
        limit_text(case),
        case.entry,
        tolerance(limit).as_millis()
    )
}

fn limit_text(case: &Case) -> String {
    if case.time_limit_ms == 0 {
        "none given".into()
    } else {
        format!("{} ms", case.time_limit_ms)
    }
}

/// `line` with its argument number `field` (0-based) replaced by `value`.
pub(crate) fn replace_field(line: &str, field: usize, value: &str) -> String {
    let Some(eq) = line.find('=') else {
        return line.to_string();
    };
    let (head, args) = line.split_at(eq + 1);
    let mut fields = fcm242d_codegen::template::split_arguments(args);
    if let Some(f) = fields.get_mut(field) {
        *f = value.to_string();
    }
    format!("{head}{}", fields.join(","))
}

/// The catalogue name of the command on a line (`AT+QICFG="x",1` → `AT+QICFG`).
pub fn command_name(line: &str) -> String {
    let end = line.find(['=', '?']).unwrap_or(line.len());
    line[..end].to_ascii_uppercase()
}

/// `items` in an order shuffled by `seed` (Fisher-Yates over splitmix64:
/// the same seed gives the same order on every machine).
pub fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    for i in (1..items.len()).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

/// Why the catalogue forbids a refusal case's line, naming the item and
/// its entry: `<enable> = 2 is not one of 0, 1 (spec/wifi.yaml AT+QSTADHCP)`.
pub fn why_invalid(case: &Case) -> String {
    use crate::case::Kind;
    let entry = case
        .entry
        .split(" `")
        .next()
        .unwrap_or(case.entry)
        .to_string();
    let value = case.param.and_then(|p| {
        let key = format!("{} {p}=", case.command);
        crate::report::coverage::values_in_line(case.form, case.line)
            .into_iter()
            .find_map(|v| v.strip_prefix(&key).map(str::to_string))
    });
    let domain = case.param.and_then(|p| {
        crate::generated::cases::DOMAINS
            .iter()
            .find(|d| d.command == case.command && d.param == p)
    });
    let allowed = domain.map(|d| {
        if !d.strings.is_empty() {
            format!("one of {}", d.strings.join(", "))
        } else if d.ints.iter().all(|(a, b)| a == b) {
            let v: Vec<String> = d.ints.iter().map(|(a, _)| a.to_string()).collect();
            format!("one of {}", v.join(", "))
        } else {
            let v: Vec<String> = d.ints.iter().map(|(a, b)| format!("{a}..{b}")).collect();
            format!("within {}", v.join(", "))
        }
    });
    let p = case.param.unwrap_or("?");
    let v = value.unwrap_or_default();
    match case.kind {
        Kind::OutOfRange => match allowed {
            Some(a) => format!("<{p}> = {v} is not {a} ({entry})"),
            None => format!("<{p}> = {v} is outside what the catalogue allows ({entry})"),
        },
        Kind::WrongType => format!("<{p}> = {v} is not of its type ({entry})"),
        Kind::OverLong => format!("<{p}> is longer than the catalogue allows ({entry})"),
        Kind::WrongArity => format!("one argument more than `{}` takes ({entry})", case.form),
        Kind::UnknownKey => format!("the sub-command key is not in the catalogue ({entry})"),
        Kind::RuleBroken => format!(
            "a cross-parameter rule of {} is broken ({entry})",
            case.command
        ),
        k => format!("{} ({entry})", k.name()),
    }
}

/// The write line that sets what a read form answered (one line of the
/// command's own prefix): `+QIDNSCFG: "a","b"` → `AT+QIDNSCFG="a","b"`.
fn written_back(command: &str, read: &str) -> Option<String> {
    if read.contains(" | ") {
        return None;
    }
    let prefix = format!("{}: ", command.trim_start_matches("AT"));
    let values = read.strip_prefix(&prefix)?;
    (!values.is_empty()).then(|| format!("{command}={values}"))
}
