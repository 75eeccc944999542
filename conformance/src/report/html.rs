//! The HTML report: one self-contained page (inline style, no scripts, no
//! outside resources). It opens on the verdict, then a table per function
//! group with a bar of its verdicts, the failures (catalogue entry, reason,
//! what the entry allows and what the module sent side by side, collapsible
//! transcript), unexplained lines,
//! errors, skips, and every case in a table that can be filtered by group
//! and verdict (radio buttons and CSS, no script). Every text from the run
//! is escaped.

use crate::outcome::{CaseResult, RunReport, Verdict};
use crate::report::summary::by_group;
use crate::report::{errored_cases, marker, one_line, skipped_cases, Reasoned};

/// Escapes text for HTML element content and double-quoted attributes.
pub fn escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escaped and on one line.
fn esc(raw: &str) -> String {
    escape(&one_line(raw))
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em;max-width:80em}\
table{border-collapse:collapse;margin-bottom:1em}\
th,td{border:1px solid #ccc;padding:.2em .6em;text-align:left;vertical-align:top}\
td.n,th.n{text-align:right}\
pre{background:#f6f6f6;padding:.6em;overflow-x:auto}\
.fail{color:#b00020}.pass{color:#176f2c}\
.sent{color:#0b4f9c}.received{color:#333}\
.verdict{font-size:1.6em;font-weight:bold}\
.bar{display:flex;width:16em;height:.9em;border:1px solid #999}\
.bar span{display:block;height:100%}\
.b-pass{background:#2e9e4f}.b-fail{background:#d0312d}.b-error{background:#e69500}.b-skip{background:#aaa}\
.filters label{margin-right:.8em}.filters{margin:.4em 0}table.compare{width:100%;table-layout:fixed}table.compare pre{margin:.2em 0;white-space:pre-wrap}.or{color:#666;font-style:italic}";

/// `YYYY-MM-DD hh:mm:ss UTC` of a Unix time (days to civil date, Howard
/// Hinnant's algorithm; no time-zone data needed).
pub fn date(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// A bar of a group's verdicts, each part as wide as its share.
fn bar(passed: usize, failed: usize, errors: usize, skipped: usize) -> String {
    let total = (passed + failed + errors + skipped).max(1) as f64;
    let mut out = String::from("<div class=\"bar\">");
    for (n, class) in [
        (passed, "b-pass"),
        (failed, "b-fail"),
        (errors, "b-error"),
        (skipped, "b-skip"),
    ] {
        if n > 0 {
            out.push_str(&format!(
                "<span class=\"{class}\" style=\"width:{:.2}%\" title=\"{n}\"></span>",
                n as f64 * 100.0 / total
            ));
        }
    }
    out.push_str("</div>");
    out
}

/// A name fit for a CSS class (letters, digits, `-`).
fn class_name(raw: &str) -> String {
    raw.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn failure(out: &mut String, case: &CaseResult, reason: &str) {
    out.push_str(&format!(
        "<section class=\"failure\" id=\"case-{}\">\n<h3><code>{}</code> ({})</h3>\n<ul>\n",
        esc(&case.id),
        esc(&case.id),
        esc(&case.command)
    ));
    out.push_str(&format!("<li>Entry: {}</li>\n", esc(&case.entry)));
    out.push_str(&format!("<li>Kind: {}</li>\n", esc(&case.kind)));
    out.push_str(&format!("<li>Reason: {}</li>\n", esc(reason)));
    if !case.answer.is_empty() {
        out.push_str(&format!(
            "<li>Answer: <code>{}</code></li>\n",
            esc(&case.answer)
        ));
    }
    out.push_str(&format!(
        "<li>Duration: {} ms</li>\n</ul>\n",
        case.duration_ms
    ));
    compare(out, case);
    if case.exchanged.is_empty() {
        out.push_str("<p>No transcript was kept.</p>\n");
    } else {
        out.push_str(&format!(
            "<details><summary>Transcript ({} lines)</summary>\n<pre>",
            case.exchanged.len()
        ));
        for l in &case.exchanged {
            let class = match l.direction {
                crate::outcome::Direction::Sent => "sent",
                crate::outcome::Direction::Received => "received",
            };
            out.push_str(&format!(
                "<span class=\"{class}\">[{:>6} ms] {} {}</span>\n",
                l.at_ms,
                escape(&marker(l.direction).to_string()),
                esc(&l.text)
            ));
        }
        out.push_str("</pre>\n</details>\n");
    }
    out.push_str("</section>\n");
}

/// Expected and received side by side: what the catalogue entry allows
/// (each alternative in its own block) and the lines the module sent.
fn compare(out: &mut String, case: &CaseResult) {
    out.push_str(&format!(
        "<table class=\"compare\">\n<tr><th>Expected: what <code>{}</code> allows</th><th>Received: the module's lines</th></tr>\n<tr><td class=\"expected\">",
        esc(&case.entry)
    ));
    if case.expected.is_empty() {
        out.push_str("<p>Not recorded in this report.</p>");
    }
    for (n, alternative) in case.expected.iter().enumerate() {
        if n > 0 {
            out.push_str("<p class=\"or\">or</p>");
        }
        out.push_str(&format!("<pre>{}</pre>", escape(alternative)));
    }
    out.push_str("</td><td class=\"received\">");
    let received: Vec<String> = case.exchanged[own_exchange(case)..]
        .iter()
        .filter(|l| l.direction == crate::outcome::Direction::Received)
        .map(|l| esc(&l.text))
        .collect();
    if received.is_empty() {
        out.push_str("<p>Nothing.</p>");
    } else {
        out.push_str(&format!("<pre>{}</pre>", received.join("\n")));
    }
    out.push_str("</td></tr>\n</table>\n");
}

/// Where the case's own exchange begins in its transcript: at the first
/// line that sends the case's command (the lines before it answered the
/// set-up); the whole transcript for a scenario or when no line sends it.
fn own_exchange(case: &CaseResult) -> usize {
    if case.command.is_empty() {
        return 0;
    }
    let name = case.command.to_ascii_uppercase();
    case.exchanged
        .iter()
        .position(|l| {
            l.direction == crate::outcome::Direction::Sent
                && crate::runner::command_name(&l.text) == name
        })
        .unwrap_or(0)
}

/// The report as a self-contained HTML page.
pub fn render(report: &RunReport) -> String {
    let firmware = if report.firmware.is_empty() {
        "unknown".to_string()
    } else {
        esc(&report.firmware)
    };
    let crate::outcome::Counts {
        passed,
        failed,
        errors,
        skipped,
    } = report.counts();
    let verdict = if !report.passed() {
        "<span class=\"fail\">FAILED</span>"
    } else {
        "<span class=\"pass\">PASSED</span>"
    };
    let mut out = String::new();
    out.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Conformance report: firmware {firmware} on {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&report.target)
    ));
    // The verdict first.
    out.push_str(&format!(
        "<h1>Conformance report: firmware {firmware} on {}</h1>\n<p class=\"verdict\">{verdict}: {passed} passed, {failed} failed, {errors} errors, {skipped} skipped, {} unexplained lines</p>\n<ul>\n<li>Verdict: <strong>{verdict}</strong></li>\n<li>Target: {}</li>\n<li>Firmware: {firmware}</li>\n<li>Tool: fcm242d-conformance {}</li>\n<li>Started: {}</li>\n<li>Duration: {} ms</li>\n</ul>\n",
        esc(&report.target),
        report.unexplained.len(),
        esc(&report.target),
        esc(&report.tool_version),
        date(report.started_unix),
        report.duration_ms
    ));

    out.push_str("<h2>Summary</h2>\n<table>\n<tr><th>group</th><th></th><th class=\"n\">passed</th><th class=\"n\">failed</th><th class=\"n\">errors</th><th class=\"n\">skipped</th><th class=\"n\">total</th></tr>\n");
    for g in by_group(report) {
        out.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
            esc(&g.group),
            bar(g.passed, g.failed, g.errors, g.skipped),
            g.passed,
            g.failed,
            g.errors,
            g.skipped,
            g.total()
        ));
    }
    out.push_str(&format!(
        "<tr><th>total</th><th>{}</th><th class=\"n\">{passed}</th><th class=\"n\">{failed}</th><th class=\"n\">{errors}</th><th class=\"n\">{skipped}</th><th class=\"n\">{}</th></tr>\n</table>\n<p>Unexplained lines: {}</p>\n",
        bar(passed, failed, errors, skipped),
        report.cases.len(),
        report.unexplained.len()
    ));

    out.push_str(&format!("<h2>Failures ({failed})</h2>\n"));
    if failed == 0 {
        out.push_str("<p>None.</p>\n");
    }
    for case in &report.cases {
        if let Verdict::Fail { reason } = &case.verdict {
            failure(&mut out, case, reason);
        }
    }

    out.push_str(&format!(
        "<h2>Unexplained lines ({})</h2>\n",
        report.unexplained.len()
    ));
    if report.unexplained.is_empty() {
        out.push_str("<p>None.</p>\n");
    } else {
        out.push_str(
            "<table>\n<tr><th>case</th><th>after command</th><th>line</th><th>reason</th></tr>\n",
        );
        for u in &report.unexplained {
            out.push_str(&format!(
                "<tr><td>{}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>\n",
                esc(&u.case),
                esc(&u.after_command),
                esc(&u.line),
                esc(&u.reason)
            ));
        }
        out.push_str("</table>\n");
    }

    reason_section(&mut out, "Errors", &errored_cases(&report.cases));
    reason_section(&mut out, "Skipped", &skipped_cases(&report.cases));

    out.push_str(&format!("<h2>Passed ({passed})</h2>\n"));
    if passed == 0 {
        out.push_str("<p>None.</p>\n");
    } else {
        out.push_str(&format!(
            "<details>\n<summary>{passed} passed case{}</summary>\n<ul>\n",
            if passed == 1 { "" } else { "s" }
        ));
        for case in &report.cases {
            if case.verdict == Verdict::Pass {
                out.push_str(&format!(
                    "<li><code>{}</code> {}</li>\n",
                    esc(&case.id),
                    esc(&case.entry)
                ));
            }
        }
        out.push_str("</ul>\n</details>\n");
    }
    all_cases(&mut out, report);
    out.push_str("</body>\n</html>\n");
    out
}

/// Every case in one table, filtered by group and by verdict with radio
/// buttons: a CSS rule per choice hides the rows of the others.
fn all_cases(out: &mut String, report: &RunReport) {
    let groups: Vec<String> = by_group(report).into_iter().map(|g| g.group).collect();
    let verdicts = ["pass", "fail", "error", "skip"];
    let mut css = String::new();
    for g in &groups {
        let c = class_name(g);
        css.push_str(&format!(
            "#g-{c}:checked~#cases tr.row:not(.g-{c}){{display:none}}"
        ));
    }
    for v in verdicts {
        css.push_str(&format!(
            "#v-{v}:checked~#cases tr.row:not(.v-{v}){{display:none}}"
        ));
    }
    out.push_str(&format!(
        "<h2>All cases ({})</h2>\n<style>{css}</style>\n",
        report.cases.len()
    ));
    out.push_str("<input type=\"radio\" name=\"g\" id=\"g-all\" checked><label for=\"g-all\">every group</label>\n");
    for g in &groups {
        let c = class_name(g);
        out.push_str(&format!(
            "<input type=\"radio\" name=\"g\" id=\"g-{c}\"><label for=\"g-{c}\">{}</label>\n",
            esc(g)
        ));
    }
    out.push_str("<br>\n<input type=\"radio\" name=\"v\" id=\"v-all\" checked><label for=\"v-all\">every verdict</label>\n");
    for v in verdicts {
        out.push_str(&format!(
            "<input type=\"radio\" name=\"v\" id=\"v-{v}\"><label for=\"v-{v}\">{v}</label>\n"
        ));
    }
    out.push_str("<table id=\"cases\">\n<tr><th>case</th><th>group</th><th>verdict</th><th>entry</th><th>reason</th></tr>\n");
    for case in &report.cases {
        let v = case.verdict.name();
        out.push_str(&format!(
            "<tr class=\"row g-{} v-{v}\"><td><code>{}</code></td><td>{}</td><td class=\"{}\">{v}</td><td>{}</td><td>{}</td></tr>\n",
            class_name(&case.group),
            esc(&case.id),
            esc(&case.group),
            if v == "pass" { "pass" } else { "fail" },
            esc(&case.entry),
            esc(case.verdict.reason().unwrap_or_default())
        ));
    }
    out.push_str("</table>\n");
}

/// A section listing cases with the reason of their verdict (the errors,
/// the skips): a table, or "None.".
fn reason_section(out: &mut String, title: &str, rows: &[Reasoned<'_>]) {
    out.push_str(&format!("<h2>{title} ({})</h2>\n", rows.len()));
    if rows.is_empty() {
        out.push_str("<p>None.</p>\n");
        return;
    }
    out.push_str("<table>\n<tr><th>case</th><th>entry</th><th>reason</th></tr>\n");
    for r in rows {
        out.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>\n",
            esc(&r.case.id),
            esc(&r.case.entry),
            esc(r.reason)
        ));
    }
    out.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_time_is_a_date() {
        assert_eq!(date(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(date(1_700_000_000), "2023-11-14 22:13:20 UTC");
        assert_eq!(date(951_782_400), "2000-02-29 00:00:00 UTC");
    }

    #[test]
    fn bars_are_as_wide_as_their_shares() {
        let b = bar(3, 1, 0, 0);
        assert!(b.contains("b-pass\" style=\"width:75.00%"), "{b}");
        assert!(b.contains("b-fail\" style=\"width:25.00%"), "{b}");
        assert!(!b.contains("b-error"), "{b}");
    }
}
