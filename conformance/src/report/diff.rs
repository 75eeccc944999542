//! What changed between two runs (two firmware builds): cases newly failing
//! and newly passing, responses that changed while the verdict stayed,
//! cases added and removed, unexplained lines that appeared or went away.
//!
//! Cases are matched by id only (the generator keeps ids stable). Should a
//! run hold an id more than once, its n-th occurrence is matched with the
//! n-th occurrence in the other run, and unmatched ones count as added or
//! removed, so every case of both runs is accounted for exactly once.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::outcome::{CaseResult, RunReport, Unexplained, Verdict};
use crate::report::one_line;
use crate::report::summary::table;

/// A case whose verdict changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictChange {
    /// The case id.
    pub id: String,
    /// The catalogue command.
    pub command: String,
    /// The catalogue entry (as in the new run).
    pub entry: String,
    /// The verdict in the old run.
    pub old: Verdict,
    /// The verdict in the new run.
    pub new: Verdict,
    /// The answer in the old run.
    pub old_answer: String,
    /// The answer in the new run.
    pub new_answer: String,
}

/// A case with the same verdict (both passed or both failed) whose answer
/// changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseChange {
    /// The case id.
    pub id: String,
    /// The catalogue command.
    pub command: String,
    /// The catalogue entry (as in the new run).
    pub entry: String,
    /// The verdict in the new run (the same kind as in the old run).
    pub verdict: Verdict,
    /// The answer in the old run.
    pub old_answer: String,
    /// The answer in the new run.
    pub new_answer: String,
}

/// A case present in only one of the runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnlyIn {
    /// The case id.
    pub id: String,
    /// The catalogue command.
    pub command: String,
    /// Its verdict in the run that has it.
    pub verdict: Verdict,
}

/// Everything that changed between two runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diff {
    /// Firmware of the old run.
    pub old_firmware: String,
    /// Firmware of the new run.
    pub new_firmware: String,
    /// Target of the old run.
    pub old_target: String,
    /// Target of the new run.
    pub new_target: String,
    /// Passed or skipped before, failing now (in the new run's order).
    pub newly_failing: Vec<VerdictChange>,
    /// Failed before, passing now.
    pub newly_passing: Vec<VerdictChange>,
    /// The other verdict changes: to or from skipped (pass → skip,
    /// fail → skip, skip → pass).
    pub other_verdict_changes: Vec<VerdictChange>,
    /// Same verdict (pass/pass or fail/fail), different answer.
    pub changed_responses: Vec<ResponseChange>,
    /// Cases only in the new run.
    pub added: Vec<OnlyIn>,
    /// Cases only in the old run (in the old run's order).
    pub removed: Vec<OnlyIn>,
    /// Unexplained lines of the new run that the old run did not have.
    pub new_unexplained: Vec<Unexplained>,
    /// Unexplained lines of the old run that the new run no longer has.
    pub gone_unexplained: Vec<Unexplained>,
    /// Cases in both runs with the same verdict kind and the same answer.
    pub unchanged: usize,
}

impl Diff {
    /// Whether the new run is worse: a case newly failing, an added case
    /// failing, or a new unexplained line.
    pub fn has_regressions(&self) -> bool {
        !self.newly_failing.is_empty()
            || self.added.iter().any(|a| a.verdict.is_fail())
            || !self.new_unexplained.is_empty()
    }

    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.newly_failing.is_empty()
            && self.newly_passing.is_empty()
            && self.other_verdict_changes.is_empty()
            && self.changed_responses.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.new_unexplained.is_empty()
            && self.gone_unexplained.is_empty()
    }
}

fn only_in(case: &CaseResult) -> OnlyIn {
    OnlyIn {
        id: case.id.clone(),
        command: case.command.clone(),
        verdict: case.verdict.clone(),
    }
}

/// Indexes the cases by id: every occurrence, in run order.
fn by_id(cases: &[CaseResult]) -> HashMap<&str, Vec<&CaseResult>> {
    let mut map: HashMap<&str, Vec<&CaseResult>> = HashMap::new();
    for case in cases {
        map.entry(case.id.as_str()).or_default().push(case);
    }
    map
}

/// The identity of an unexplained line across runs: the line, the command
/// before it and the case (not the reason, which a catalogue change may
/// reword).
fn unexplained_key(u: &Unexplained) -> (&str, &str, &str) {
    (u.line.as_str(), u.after_command.as_str(), u.case.as_str())
}

/// The lines of `a` that `b` lacks, counting repeats (multiset difference).
fn unexplained_minus(a: &[Unexplained], b: &[Unexplained]) -> Vec<Unexplained> {
    let mut available: HashMap<(&str, &str, &str), usize> = HashMap::new();
    for u in b {
        *available.entry(unexplained_key(u)).or_default() += 1;
    }
    let mut out = Vec::new();
    for u in a {
        match available.get_mut(&unexplained_key(u)) {
            Some(n) if *n > 0 => *n -= 1,
            _ => out.push(u.clone()),
        }
    }
    out
}

/// Compares two runs.
pub fn diff(old: &RunReport, new: &RunReport) -> Diff {
    let old_by_id = by_id(&old.cases);
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut out = Diff {
        old_firmware: old.firmware.clone(),
        new_firmware: new.firmware.clone(),
        old_target: old.target.clone(),
        new_target: new.target.clone(),
        newly_failing: Vec::new(),
        newly_passing: Vec::new(),
        other_verdict_changes: Vec::new(),
        changed_responses: Vec::new(),
        added: Vec::new(),
        removed: Vec::new(),
        new_unexplained: unexplained_minus(&new.unexplained, &old.unexplained),
        gone_unexplained: unexplained_minus(&old.unexplained, &new.unexplained),
        unchanged: 0,
    };
    for case in &new.cases {
        let occurrence = seen.entry(case.id.as_str()).or_default();
        let matched = old_by_id
            .get(case.id.as_str())
            .and_then(|v| v.get(*occurrence));
        *occurrence += 1;
        let Some(before) = matched else {
            out.added.push(only_in(case));
            continue;
        };
        let change = || VerdictChange {
            id: case.id.clone(),
            command: case.command.clone(),
            entry: case.entry.clone(),
            old: before.verdict.clone(),
            new: case.verdict.clone(),
            old_answer: before.answer.clone(),
            new_answer: case.answer.clone(),
        };
        match (&before.verdict, &case.verdict) {
            (
                Verdict::Pass | Verdict::Skip { .. } | Verdict::Error { .. },
                Verdict::Fail { .. },
            ) => out.newly_failing.push(change()),
            (Verdict::Fail { .. } | Verdict::Error { .. }, Verdict::Pass) => {
                out.newly_passing.push(change())
            }
            (Verdict::Pass, Verdict::Pass) | (Verdict::Fail { .. }, Verdict::Fail { .. }) => {
                // Values the catalogue marks as varying do not count.
                if crate::varying::mask(&before.answer) == crate::varying::mask(&case.answer) {
                    out.unchanged += 1;
                } else {
                    out.changed_responses.push(ResponseChange {
                        id: case.id.clone(),
                        command: case.command.clone(),
                        entry: case.entry.clone(),
                        verdict: case.verdict.clone(),
                        old_answer: before.answer.clone(),
                        new_answer: case.answer.clone(),
                    })
                }
            }
            (Verdict::Skip { .. }, Verdict::Skip { .. })
            | (Verdict::Error { .. }, Verdict::Error { .. }) => out.unchanged += 1,
            (
                Verdict::Pass | Verdict::Fail { .. } | Verdict::Error { .. },
                Verdict::Skip { .. },
            )
            | (Verdict::Skip { .. }, Verdict::Pass | Verdict::Error { .. })
            | (Verdict::Pass | Verdict::Fail { .. }, Verdict::Error { .. }) => {
                out.other_verdict_changes.push(change())
            }
        }
    }
    // Old occurrences beyond those matched were removed.
    let mut used: HashMap<&str, usize> = HashMap::new();
    for case in &old.cases {
        let index = used.entry(case.id.as_str()).or_default();
        if *index >= seen.get(case.id.as_str()).copied().unwrap_or(0) {
            out.removed.push(only_in(case));
        }
        *index += 1;
    }
    out
}

fn verdict_text(v: &Verdict) -> String {
    match v {
        Verdict::Pass => "pass".to_string(),
        Verdict::Fail { reason } | Verdict::Error { reason } | Verdict::Skip { reason } => {
            format!("{} ({})", v.name(), one_line(reason))
        }
    }
}

fn changes(out: &mut String, title: &str, list: &[VerdictChange]) {
    if list.is_empty() {
        return;
    }
    out.push_str(&format!("\n{title} ({}):\n", list.len()));
    for c in list {
        out.push_str(&format!(
            "  {}  {}\n    was: {}\n    now: {}\n",
            one_line(&c.id),
            one_line(&c.entry),
            verdict_text(&c.old),
            verdict_text(&c.new)
        ));
        if c.old_answer != c.new_answer {
            out.push_str(&format!(
                "    answer was: {}\n    answer now: {}\n",
                one_line(&c.old_answer),
                one_line(&c.new_answer)
            ));
        }
    }
}

fn unexplained(out: &mut String, title: &str, list: &[Unexplained]) {
    if list.is_empty() {
        return;
    }
    out.push_str(&format!("\n{title} ({}):\n", list.len()));
    let mut rows = vec![vec![
        "  case".to_string(),
        "after command".into(),
        "line".into(),
    ]];
    rows.extend(list.iter().map(|u| {
        vec![
            format!("  {}", one_line(&u.case)),
            one_line(&u.after_command),
            one_line(&u.line),
        ]
    }));
    out.push_str(&table(&rows, &[]));
}

fn only(out: &mut String, title: &str, list: &[OnlyIn]) {
    if list.is_empty() {
        return;
    }
    out.push_str(&format!("\n{title} ({}):\n", list.len()));
    let rows: Vec<Vec<String>> = list
        .iter()
        .map(|c| vec![format!("  {}", one_line(&c.id)), verdict_text(&c.verdict)])
        .collect();
    out.push_str(&table(&rows, &[]));
}

fn firmware(f: &str) -> &str {
    if f.is_empty() {
        "unknown"
    } else {
        f
    }
}

/// The diff as plain text.
pub fn render(d: &Diff) -> String {
    let mut out = format!(
        "old: firmware {} on {}\nnew: firmware {} on {}\n",
        one_line(firmware(&d.old_firmware)),
        one_line(&d.old_target),
        one_line(firmware(&d.new_firmware)),
        one_line(&d.new_target)
    );
    changes(&mut out, "Newly failing", &d.newly_failing);
    changes(&mut out, "Newly passing", &d.newly_passing);
    if !d.changed_responses.is_empty() {
        out.push_str(&format!(
            "\nChanged responses ({}):\n",
            d.changed_responses.len()
        ));
        for c in &d.changed_responses {
            out.push_str(&format!(
                "  {}  {} ({} in both)\n    was: {}\n    now: {}\n",
                one_line(&c.id),
                one_line(&c.entry),
                c.verdict.name(),
                one_line(&c.old_answer),
                one_line(&c.new_answer)
            ));
        }
    }
    changes(&mut out, "Other verdict changes", &d.other_verdict_changes);
    only(&mut out, "Added cases", &d.added);
    only(&mut out, "Removed cases", &d.removed);
    unexplained(&mut out, "New unexplained lines", &d.new_unexplained);
    unexplained(&mut out, "No longer unexplained", &d.gone_unexplained);
    out.push_str(&format!(
        "\n{} newly failing, {} newly passing, {} changed responses, {} other verdict changes, {} added, {} removed, {} unchanged\n",
        d.newly_failing.len(),
        d.newly_passing.len(),
        d.changed_responses.len(),
        d.other_verdict_changes.len(),
        d.added.len(),
        d.removed.len(),
        d.unchanged
    ));
    out
}
