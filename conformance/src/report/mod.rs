//! Reports of a run: the terminal summary, JSON, JUnit XML, Markdown and
//! HTML, the coverage of the catalogue, and the diff of two runs.

pub mod coverage;
pub mod diff;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod summary;

use crate::outcome::{Direction, Exchanged};

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
