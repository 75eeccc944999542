//! JUnit XML for CI systems: one `<testsuite>` per function group, one
//! `<testcase>` per case (named by case id, classname
//! `fcm242d.<group>.<command>`), failures with the reason as message and the
//! transcript as text, skipped cases with their reason, and a suite
//! `unexplained-lines` whose test cases fail for each line the catalogue
//! cannot explain.

use std::collections::BTreeMap;
use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::outcome::{CaseResult, RunReport, Verdict};
use crate::report::transcript;

/// The name of the suite (and of its test case when it passes) that holds
/// the lines the catalogue cannot explain.
pub const UNEXPLAINED_SUITE: &str = "unexplained-lines";

/// The classname of a case: `fcm242d.<group>.<command>`.
pub fn classname(case: &CaseResult) -> String {
    format!("fcm242d.{}.{}", case.group, case.command)
}

fn properties(report: &RunReport) -> Vec<Property> {
    vec![
        Property::new("target", report.target.as_str()),
        Property::new("firmware", report.firmware.as_str()),
        Property::new("tool_version", report.tool_version.as_str()),
        Property::new("started_unix", report.started_unix.to_string()),
    ]
}

fn test_case(case: &CaseResult) -> TestCase {
    let status = match &case.verdict {
        Verdict::Pass => TestCaseStatus::success(),
        Verdict::Fail { reason } => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(reason.as_str());
            status.set_type(case.kind.as_str());
            let mut text = format!("{}\nentry: {}\n", reason, case.entry);
            if !case.answer.is_empty() {
                text.push_str(&format!("answer: {}\n", case.answer));
            }
            if !case.exchanged.is_empty() {
                text.push_str("\ntranscript:\n");
                text.push_str(&transcript(&case.exchanged));
            }
            status.set_description(text);
            status
        }
        Verdict::Error { reason } => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(reason.as_str());
            status.set_type("error");
            let mut text = format!("{}\nentry: {}\n", reason, case.entry);
            if !case.exchanged.is_empty() {
                text.push_str("\ntranscript:\n");
                text.push_str(&transcript(&case.exchanged));
            }
            status.set_description(text);
            status
        }
        Verdict::Skip { reason } => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(reason.as_str());
            status
        }
    };
    let mut test = TestCase::new(case.id.as_str(), status);
    test.set_classname(classname(case));
    test.set_time(Duration::from_millis(case.duration_ms));
    if !case.exchanged.is_empty() {
        test.set_system_out(transcript(&case.exchanged));
    }
    test
}

fn unexplained_suite(report: &RunReport) -> TestSuite {
    let mut suite = TestSuite::new(UNEXPLAINED_SUITE);
    suite.add_properties(properties(report));
    if report.unexplained.is_empty() {
        // A passing test case keeps the suite's history continuous in CI
        // dashboards across runs with and without unexplained lines.
        let mut test = TestCase::new(UNEXPLAINED_SUITE, TestCaseStatus::success());
        test.set_classname("fcm242d.unexplained");
        suite.add_test_case(test);
        return suite;
    }
    for (n, u) in report.unexplained.iter().enumerate() {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
        status.set_message(format!("unexplained line: {}", u.line));
        status.set_type("unexplained-line");
        status.set_description(format!(
            "line: {}\nafter command: {}\nduring case: {}\nreason: {}\n",
            u.line, u.after_command, u.case, u.reason
        ));
        // Numbered so that two lines during one case get distinct names.
        let mut test = TestCase::new(format!("{} #{}", u.case, n + 1), status);
        test.set_classname("fcm242d.unexplained");
        suite.add_test_case(test);
    }
    suite
}

/// The run as JUnit XML.
pub fn render(report: &RunReport) -> String {
    let mut junit = Report::new("fcm242d-conformance");
    junit.set_time(Duration::from_millis(report.duration_ms));
    let mut groups: BTreeMap<&str, Vec<&CaseResult>> = BTreeMap::new();
    for case in &report.cases {
        groups.entry(case.group.as_str()).or_default().push(case);
    }
    for (group, cases) in groups {
        let mut suite = TestSuite::new(group);
        suite.add_properties(properties(report));
        let millis: u64 = cases.iter().map(|c| c.duration_ms).sum();
        suite.set_time(Duration::from_millis(millis));
        suite.add_test_cases(cases.into_iter().map(test_case));
        junit.add_test_suite(suite);
    }
    junit.add_test_suite(unexplained_suite(report));
    match junit.to_string() {
        Ok(xml) => xml,
        // Writing to a String cannot fail for I/O reasons, and quick-junit
        // escapes every text it writes; this arm only keeps the renderer
        // free of panics.
        Err(err) => format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"fcm242d-conformance\" tests=\"0\" failures=\"0\" errors=\"1\"><!-- {} --></testsuites>\n",
            err.to_string().replace("--", "- -")
        ),
    }
}
