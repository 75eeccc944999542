//! The terminal summary: a table of verdicts by function group with totals,
//! then every failure (case id, catalogue entry, reason) and every line the
//! catalogue cannot explain.

use std::collections::BTreeMap;

use crate::outcome::{Counts, RunReport, Verdict};
use crate::report::one_line;

/// Verdict counts of one function group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupCounts {
    /// The group's name (`tcpip`).
    pub group: String,
    /// Cases that passed.
    pub passed: usize,
    /// Cases that failed.
    pub failed: usize,
    /// Cases that could not be judged.
    pub errors: usize,
    /// Cases skipped for a reason the catalogue records.
    pub skipped: usize,
}

impl GroupCounts {
    /// Every case of the group.
    pub fn total(&self) -> usize {
        self.passed + self.failed + self.errors + self.skipped
    }
}

/// Verdict counts per function group, groups sorted by name (so two runs'
/// tables line up row for row).
pub fn by_group(report: &RunReport) -> Vec<GroupCounts> {
    let mut groups: BTreeMap<&str, GroupCounts> = BTreeMap::new();
    for case in &report.cases {
        let counts = groups
            .entry(case.group.as_str())
            .or_insert_with(|| GroupCounts {
                group: case.group.clone(),
                ..GroupCounts::default()
            });
        match case.verdict {
            Verdict::Pass => counts.passed += 1,
            Verdict::Fail { .. } => counts.failed += 1,
            Verdict::Error { .. } => counts.errors += 1,
            Verdict::Skip { .. } => counts.skipped += 1,
        }
    }
    groups.into_values().collect()
}

/// Lays out rows as columns separated by two spaces. Columns listed in
/// `right` are right-aligned (numbers); the last column is not padded.
pub(crate) fn table(rows: &[Vec<String>], right: &[usize]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let mut widths = vec![0; columns];
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            let pad = widths[i].saturating_sub(cell.chars().count());
            let last = i + 1 == row.len();
            if right.contains(&i) {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                if !last {
                    line.push_str(&" ".repeat(pad));
                }
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The summary as plain text with aligned columns.
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    let firmware = if report.firmware.is_empty() {
        "unknown"
    } else {
        report.firmware.as_str()
    };
    out.push_str(&format!(
        "Conformance run against {} (firmware {firmware}), fcm242d-conformance {}, {:.1} s\n\n",
        one_line(&report.target),
        one_line(&report.tool_version),
        report.duration_ms as f64 / 1000.0,
    ));

    let groups = by_group(report);
    let mut rows = vec![vec![
        "group".to_string(),
        "passed".into(),
        "failed".into(),
        "errors".into(),
        "skipped".into(),
        "total".into(),
    ]];
    for g in &groups {
        rows.push(vec![
            one_line(&g.group),
            g.passed.to_string(),
            g.failed.to_string(),
            g.errors.to_string(),
            g.skipped.to_string(),
            g.total().to_string(),
        ]);
    }
    let counts = report.counts();
    rows.push(vec![
        "total".into(),
        counts.passed.to_string(),
        counts.failed.to_string(),
        counts.errors.to_string(),
        counts.skipped.to_string(),
        report.cases.len().to_string(),
    ]);
    out.push_str(&table(&rows, &[1, 2, 3, 4, 5]));

    let failures: Vec<Vec<String>> = report
        .cases
        .iter()
        .filter_map(|c| match &c.verdict {
            Verdict::Fail { reason } => {
                Some(vec![one_line(&c.id), one_line(&c.entry), one_line(reason)])
            }
            _ => None,
        })
        .collect();
    if !failures.is_empty() {
        out.push_str(&format!("\nFailures ({}):\n", failures.len()));
        let mut rows = vec![vec!["case".to_string(), "entry".into(), "reason".into()]];
        rows.extend(failures);
        out.push_str(&table(&rows, &[]));
    }

    if !report.unexplained.is_empty() {
        out.push_str(&format!(
            "\nUnexplained lines ({}):\n",
            report.unexplained.len()
        ));
        let mut rows = vec![vec![
            "case".to_string(),
            "after command".into(),
            "line".into(),
            "reason".into(),
        ]];
        rows.extend(report.unexplained.iter().map(|u| {
            vec![
                one_line(&u.case),
                one_line(&u.after_command),
                one_line(&u.line),
                one_line(&u.reason),
            ]
        }));
        out.push_str(&table(&rows, &[]));
    }

    for (title, name) in [
        ("Errors (the case could not be judged)", "error"),
        ("Skipped (reasons recorded in the catalogue)", "skip"),
    ] {
        let grouped = reasons(report, name);
        if grouped.is_empty() {
            continue;
        }
        let n: usize = grouped.iter().map(|(_, ids)| ids.len()).sum();
        out.push_str(&format!("\n{title} ({n}), by reason:\n"));
        for (reason, ids) in grouped {
            out.push_str(&format!("  {} x {}\n", ids.len(), one_line(&reason)));
            for id in ids.iter().take(5) {
                out.push_str(&format!("      {}\n", one_line(id)));
            }
            if ids.len() > 5 {
                out.push_str(&format!("      ... and {} more\n", ids.len() - 5));
            }
        }
    }

    let Counts {
        passed,
        failed,
        errors,
        skipped,
    } = counts;
    out.push_str(&format!(
        "\n{}: {passed} passed, {failed} failed, {errors} error{}, {skipped} skipped, {} unexplained line{}\n",
        if report.passed() { "PASSED" } else { "FAILED" },
        if errors == 1 { "" } else { "s" },
        report.unexplained.len(),
        if report.unexplained.len() == 1 {
            ""
        } else {
            "s"
        },
    ));
    out
}

/// The cases with verdict `name` (`error`, `skip`) grouped by reason, the
/// most frequent reason first. A reason's case-specific tail (after `: `
/// in `set-up of `x` failed: ...`) stays: two reasons differ when the
/// module answered differently.
pub fn reasons(report: &RunReport, name: &str) -> Vec<(String, Vec<String>)> {
    let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in &report.cases {
        if c.verdict.name() == name {
            let reason = c.verdict.reason().unwrap_or_default().to_string();
            by.entry(reason).or_default().push(c.id.clone());
        }
    }
    let mut v: Vec<_> = by.into_iter().collect();
    v.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    v
}
