//! The HTML report: one self-contained page (inline style, no scripts, no
//! outside resources) with the same content as the Markdown report —
//! failures first with their transcripts, then unexplained lines, skipped
//! and passed cases. Every text from the run is escaped.

use crate::outcome::{CaseResult, RunReport, Verdict};
use crate::report::summary::by_group;
use crate::report::{marker, one_line};

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
.sent{color:#0b4f9c}.received{color:#333}";

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
    if case.exchanged.is_empty() {
        out.push_str("<p>No transcript was kept.</p>\n");
    } else {
        out.push_str("<pre>");
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
        out.push_str("</pre>\n");
    }
    out.push_str("</section>\n");
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
    out.push_str(&format!(
        "<h1>Conformance report: firmware {firmware} on {}</h1>\n<ul>\n<li>Verdict: <strong>{verdict}</strong></li>\n<li>Target: {}</li>\n<li>Firmware: {firmware}</li>\n<li>Tool: fcm242d-conformance {}</li>\n<li>Started: {} (Unix time)</li>\n<li>Duration: {} ms</li>\n</ul>\n",
        esc(&report.target),
        esc(&report.target),
        esc(&report.tool_version),
        report.started_unix,
        report.duration_ms
    ));

    out.push_str("<h2>Summary</h2>\n<table>\n<tr><th>group</th><th class=\"n\">passed</th><th class=\"n\">failed</th><th class=\"n\">errors</th><th class=\"n\">skipped</th><th class=\"n\">total</th></tr>\n");
    for g in by_group(report) {
        out.push_str(&format!(
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>\n",
            esc(&g.group),
            g.passed,
            g.failed,
            g.errors,
            g.skipped,
            g.total()
        ));
    }
    out.push_str(&format!(
        "<tr><th>total</th><th class=\"n\">{passed}</th><th class=\"n\">{failed}</th><th class=\"n\">{errors}</th><th class=\"n\">{skipped}</th><th class=\"n\">{}</th></tr>\n</table>\n<p>Unexplained lines: {}</p>\n",
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

    out.push_str(&format!("<h2>Errors ({errors})</h2>\n"));
    if errors == 0 {
        out.push_str("<p>None.</p>\n");
    } else {
        out.push_str("<table>\n<tr><th>case</th><th>entry</th><th>reason</th></tr>\n");
        for case in &report.cases {
            if let Verdict::Error { reason } = &case.verdict {
                out.push_str(&format!(
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>\n",
                    esc(&case.id),
                    esc(&case.entry),
                    esc(reason)
                ));
            }
        }
        out.push_str("</table>\n");
    }

    out.push_str(&format!("<h2>Skipped ({skipped})</h2>\n"));
    if skipped == 0 {
        out.push_str("<p>None.</p>\n");
    } else {
        out.push_str("<table>\n<tr><th>case</th><th>entry</th><th>reason</th></tr>\n");
        for case in &report.cases {
            if let Verdict::Skip { reason } = &case.verdict {
                out.push_str(&format!(
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>\n",
                    esc(&case.id),
                    esc(&case.entry),
                    esc(reason)
                ));
            }
        }
        out.push_str("</table>\n");
    }

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
    out.push_str("</body>\n</html>\n");
    out
}
