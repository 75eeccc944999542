//! The parts of a command's rustdoc that come from elsewhere in the
//! catalogue: its prerequisites (the command's preconditions) and an example
//! exchange (the first of the catalogue's scenarios that sends it).

use std::collections::BTreeMap;

use crate::catalog::Catalog;
use crate::model::{Command, DataEnd, Scenario, ScenarioSource};

/// For each command name, the scenario its example comes from: a manual
/// example rather than one composed from the catalogue, either rather than
/// a provocation (which shows a failure), one that sends the command early
/// rather than after a long set-up, and a short one rather than a long one
/// (the first in catalogue order on a tie).
pub fn by_command(catalog: &Catalog) -> BTreeMap<String, &Scenario> {
    let mut best: BTreeMap<String, ((u8, usize, usize), &Scenario)> = BTreeMap::new();
    for (_, e) in catalog.scenarios() {
        let s = &e.value;
        if s.skip.is_some() {
            continue;
        }
        let sent: Vec<&str> = s.steps.iter().filter_map(|st| st.send.as_deref()).collect();
        for c in catalog.commands() {
            let name = &c.command.name;
            let Some(position) = sent.iter().position(|l| sends(l, name)) else {
                continue;
            };
            let score = (preference(s.source), position, s.steps.len());
            let entry = best.entry(name.clone()).or_insert((score, s));
            if score < entry.0 {
                *entry = (score, s);
            }
        }
    }
    best.into_iter().map(|(k, (_, s))| (k, s)).collect()
}

/// How much a scenario of this source is preferred as an example (lower
/// is better): the manual's own, then one composed for the documentation,
/// then a provocation.
fn preference(source: ScenarioSource) -> u8 {
    match source {
        ScenarioSource::Manual => 0,
        ScenarioSource::Catalogue => 1,
        ScenarioSource::Provocation => 2,
    }
}

/// Whether `line` is the command `name` (followed by `=`, `?` or nothing).
fn sends(line: &str, name: &str) -> bool {
    line.len() >= name.len()
        && line.as_bytes()[..name.len()].eq_ignore_ascii_case(name.as_bytes())
        && matches!(
            line.as_bytes().get(name.len()),
            None | Some(b'=') | Some(b'?')
        )
}

/// The "Prerequisites" paragraph: the command's preconditions in the
/// manual's words.
pub fn prerequisites(cmd: &Command) -> Option<String> {
    if cmd.preconditions.is_empty() {
        return None;
    }
    let mut d = String::from("Prerequisites:");
    for p in &cmd.preconditions {
        let text = p.text.split_whitespace().collect::<Vec<_>>().join(" ");
        d.push_str(&format!("\n- {text}"));
        if let Some(c) = &p.command {
            d.push_str(&format!(" (after `{c}`)"));
        }
    }
    Some(d)
}

/// The "Example" paragraph: the scenario's exchange, `>>` for what the host
/// writes and `<<` for what the module answers, placeholders filled in with
/// the values the scenario gives.
pub fn example(s: &Scenario) -> String {
    let fill = |t: &str| {
        let mut t = t.to_string();
        for (k, v) in &s.placeholders {
            t = t.replace(&format!("${{{k}}}"), v);
        }
        t
    };
    // A composed exchange says so: the manual gives no example there.
    let origin = match s.source {
        ScenarioSource::Catalogue => "; composed from the catalogue, the manual has no example;",
        ScenarioSource::Manual | ScenarioSource::Provocation => ",",
    };
    let mut d = format!(
        "Example ({}{origin} `>>` the host writes, `<<` the module answers):\n\n```text",
        s.title.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    for line in s.steps.iter().filter_map(step_line) {
        for l in fill(&line).lines() {
            d.push('\n');
            d.push_str(l);
        }
    }
    d.push_str("\n```");
    d
}

/// One step as a line of the example (a note alone is left out).
fn step_line(st: &crate::model::Step) -> Option<String> {
    if let Some(l) = &st.send {
        return Some(format!(">> {l}"));
    }
    if let Some(data) = &st.send_data {
        let end = match st.end {
            Some(DataEnd::CtrlZ) => " <Ctrl+Z>",
            Some(DataEnd::Esc) => " <Esc>",
            _ => "",
        };
        return Some(format!(">> {data}{end}"));
    }
    [
        &st.expect,
        &st.expect_urc,
        &st.expect_prompt,
        &st.expect_data,
    ]
    .into_iter()
    .flatten()
    .next()
    .map(|l| format!("<< {l}"))
}
