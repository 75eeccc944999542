//! Reports of a run: the terminal summary, JSON, JUnit XML, Markdown and
//! HTML, the coverage of the catalogue, and the diff of two runs.

pub mod coverage;
pub mod diff;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod summary;

use crate::outcome::{CaseResult, Direction, Exchanged, Verdict};

/// Text on one line: line breaks and tabs shown as `\r`, `\n`, `\t`, and
/// other control characters as `\xNN`, so that a reason or an answer cannot
/// break a table row, a list item or a terminal.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\x{:02X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// A case listed with the reason of its verdict (an error, a skip).
pub struct Reasoned<'a> {
    /// The case.
    pub case: &'a CaseResult,
    /// Why it got its verdict.
    pub reason: &'a str,
}

/// The errors of a run, each with its reason, in run order.
pub fn errored_cases(cases: &[CaseResult]) -> Vec<Reasoned<'_>> {
    reasoned(cases, |v| match v {
        Verdict::Error { reason } => Some(reason),
        _ => None,
    })
}

/// The skips of a run, each with its reason, in run order.
pub fn skipped_cases(cases: &[CaseResult]) -> Vec<Reasoned<'_>> {
    reasoned(cases, |v| match v {
        Verdict::Skip { reason } => Some(reason),
        _ => None,
    })
}

/// The cases whose verdict `reason_of` gives a reason for.
fn reasoned<'a>(
    cases: &'a [CaseResult],
    reason_of: fn(&Verdict) -> Option<&String>,
) -> Vec<Reasoned<'a>> {
    cases
        .iter()
        .filter_map(|case| {
            reason_of(&case.verdict).map(|reason| Reasoned {
                case,
                reason: reason.as_str(),
            })
        })
        .collect()
}

/// `part` of `total` as a percentage with one decimal (`100.0%` of nothing).
pub fn percent(part: usize, total: usize) -> String {
    if total == 0 {
        return "100.0%".into();
    }
    format!("{:.1}%", part as f64 * 100.0 / total as f64)
}

/// The marker of a direction in transcripts: `>` sent, `<` received.
pub fn marker(direction: Direction) -> char {
    match direction {
        Direction::Sent => '>',
        Direction::Received => '<',
    }
}

/// A transcript, one exchanged line per line: `[   12 ms] > AT`.
pub fn transcript(lines: &[Exchanged]) -> String {
    let mut out = String::new();
    for l in lines {
        out.push_str(&format!(
            "[{:>6} ms] {} {}\n",
            l.at_ms,
            marker(l.direction),
            one_line(&l.text)
        ));
    }
    out
}
