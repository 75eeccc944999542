//! The Markdown report: title with firmware and target, the summary table,
//! then the failures first (each with its catalogue entry, reason, answer and
//! transcript), the unexplained lines, the skipped cases with their reasons,
//! and the passed cases in a collapsed list.

use crate::outcome::{CaseResult, RunReport, Verdict};
use crate::report::summary::by_group;
use crate::report::{errored_cases, one_line, skipped_cases, transcript, Reasoned};

/// Escapes text for Markdown prose and table cells: on one line, with every
/// character that Markdown would take as markup (`<tag>`, `*`, `|`, ...)
/// backslash-escaped, so module output such as `<connectID>` is shown as is.
pub fn text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in one_line(raw).chars() {
        if matches!(
            c,
            '\\' | '`'
                | '*'
                | '_'
                | '['
                | ']'
                | '<'
                | '>'
                | '&'
                | '|'
                | '~'
                | '#'
                | '!'
                | '{'
                | '}'
                | '('
                | ')'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// An inline code span holding `raw` on one line, delimited by more
/// backticks than `raw` contains in a row.
pub fn code(raw: &str) -> String {
    let raw = one_line(raw);
    let fence = "`".repeat(longest_run(&raw, '`') + 1);
    // A space on both sides keeps a leading or trailing backtick from
    // merging with the fence; CommonMark strips one space on each side.
    if raw.starts_with('`') || raw.ends_with('`') {
        format!("{fence} {raw} {fence}")
    } else {
        format!("{fence}{raw}{fence}")
    }
}

/// A fenced code block holding `body`, fenced by more backticks than the
/// body contains in a row (at least three).
pub fn code_block(body: &str) -> String {
    let fence = "`".repeat((longest_run(body, '`') + 1).max(3));
    let mut out = format!("{fence}text\n{body}");
    if !body.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&fence);
    out.push('\n');
    out
}

fn longest_run(s: &str, c: char) -> usize {
    let (mut best, mut run) = (0, 0);
    for ch in s.chars() {
        if ch == c {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

fn title(report: &RunReport) -> String {
    let firmware = if report.firmware.is_empty() {
        "unknown firmware".to_string()
    } else {
        format!("firmware {}", one_line(&report.firmware))
    };
    format!("{firmware} on {}", one_line(&report.target))
}

fn failure(out: &mut String, case: &CaseResult, reason: &str) {
    out.push_str(&format!(
        "### {} ({})\n\n",
        code(&case.id),
        text(&case.command)
    ));
    out.push_str(&format!("- Entry: {}\n", text(&case.entry)));
    out.push_str(&format!("- Kind: {}\n", text(&case.kind)));
    out.push_str(&format!("- Reason: {}\n", text(reason)));
    if !case.answer.is_empty() {
        out.push_str(&format!("- Answer: {}\n", code(&case.answer)));
    }
    out.push_str(&format!("- Duration: {} ms\n\n", case.duration_ms));
    if case.exchanged.is_empty() {
        out.push_str("No transcript was kept.\n\n");
    } else {
        out.push_str(&code_block(&transcript(&case.exchanged)));
        out.push('\n');
    }
}

/// The report as Markdown (GitHub-flavoured: tables and `<details>`).
pub fn render(report: &RunReport) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "# Conformance report: {}\n\n",
        text(&title(report))
    ));
    let crate::outcome::Counts {
        passed,
        failed,
        errors,
        skipped,
    } = report.counts();
    out.push_str(&format!(
        "- Verdict: **{}**\n- Target: {}\n- Firmware: {}\n- Tool: fcm242d-conformance {}\n- Started: {} (Unix time)\n- Duration: {} ms\n\n",
        if report.passed() { "PASSED" } else { "FAILED" },
        text(&report.target),
        if report.firmware.is_empty() { "unknown".to_string() } else { text(&report.firmware) },
        text(&report.tool_version),
        report.started_unix,
        report.duration_ms,
    ));

    out.push_str("## Summary\n\n");
    out.push_str("| group | passed | failed | errors | skipped | total |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|\n");
    for g in by_group(report) {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            text(&g.group),
            g.passed,
            g.failed,
            g.errors,
            g.skipped,
            g.total()
        ));
    }
    out.push_str(&format!(
        "| **total** | **{passed}** | **{failed}** | **{errors}** | **{skipped}** | **{}** |\n\n",
        report.cases.len()
    ));
    out.push_str(&format!(
        "Unexplained lines: {}\n\n",
        report.unexplained.len()
    ));

    out.push_str(&format!("## Failures ({failed})\n\n"));
    if failed == 0 {
        out.push_str("None.\n\n");
    }
    for case in &report.cases {
        if let Verdict::Fail { reason } = &case.verdict {
            failure(&mut out, case, reason);
        }
    }

    out.push_str(&format!(
        "## Unexplained lines ({})\n\n",
        report.unexplained.len()
    ));
    if report.unexplained.is_empty() {
        out.push_str("None.\n\n");
    } else {
        out.push_str("| case | after command | line | reason |\n|---|---|---|---|\n");
        for u in &report.unexplained {
            out.push_str(&format!(
                "| {} | {} | {} | {} |\n",
                text(&u.case),
                text(&u.after_command),
                text(&u.line),
                text(&u.reason)
            ));
        }
        out.push('\n');
    }

    reason_section(&mut out, "Errors", &errored_cases(&report.cases));
    reason_section(&mut out, "Skipped", &skipped_cases(&report.cases));

    out.push_str(&format!("## Passed ({passed})\n\n"));
    if passed == 0 {
        out.push_str("None.\n");
    } else {
        out.push_str(&format!(
            "<details>\n<summary>{passed} passed case{}</summary>\n\n",
            if passed == 1 { "" } else { "s" }
        ));
        for case in &report.cases {
            if case.verdict == Verdict::Pass {
                out.push_str(&format!("- {} {}\n", code(&case.id), text(&case.entry)));
            }
        }
        out.push_str("\n</details>\n");
    }
    out
}

/// A section listing cases with the reason of their verdict (the errors,
/// the skips): a table, or "None.".
fn reason_section(out: &mut String, title: &str, rows: &[Reasoned<'_>]) {
    out.push_str(&format!("## {title} ({})\n\n", rows.len()));
    if rows.is_empty() {
        out.push_str("None.\n\n");
        return;
    }
    out.push_str("| case | entry | reason |\n|---|---|---|\n");
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            text(&r.case.id),
            text(&r.case.entry),
            text(r.reason)
        ));
    }
    out.push('\n');
}
