//! `fcm242d-conformance list` shows what `run` would take: against the
//! simulator (the default target) every generated case and every scenario;
//! against a module only the safety classes a run allows there.

use std::process::Command;

use fcm242d_conformance::case::Safety;
use fcm242d_conformance::generated::cases::{CASES, SCENARIOS};

/// Runs the tool with `args`: exit code, stdout, stderr.
fn tool(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_fcm242d-conformance"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn list(args: &[&str]) -> (i32, String, String) {
    tool(&[&["list"], args].concat())
}

#[test]
fn against_the_simulator_everything_is_listed() {
    let (code, out, _) = list(&[]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), CASES.len() + SCENARIOS.len());
    for s in SCENARIOS {
        assert!(out.contains(&format!("scenario.{}", s.name)), "{}", s.name);
    }
}

#[test]
fn against_a_module_only_what_a_run_allows_there() {
    let (code, out, _) = list(&["--target", "serial:/dev/null"]);
    assert_eq!(code, 0);
    let allowed = CASES
        .iter()
        .filter(|c| matches!(c.safety, Safety::Safe | Safety::Stateful))
        .count();
    assert_eq!(out.lines().count(), allowed + SCENARIOS.len());
    let (_, with_persistent, _) = list(&["--target", "serial:/dev/null", "--allow", "persistent"]);
    assert!(with_persistent.lines().count() > out.lines().count());
}

#[test]
fn an_unknown_class_is_refused() {
    let (code, out, err) = list(&["--allow", "bogus"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("--allow bogus"), "{err}");
}

fn run(args: &[&str]) -> (i32, String, String) {
    tool(&[&["run", "--quiet"], args].concat())
}

/// A name copied from `list` selects what it names, a scenario too.
#[test]
fn a_scenario_is_selected_by_the_id_list_shows() {
    let (code, out, err) = run(&["--case", "scenario.provoke_qapstat"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("PASSED: 1 passed"), "{out}");
}

/// A run whose selection matches nothing judges nothing: an error, never
/// PASSED.
#[test]
fn a_selection_that_matches_nothing_is_an_error() {
    let (code, out, err) = run(&["--case", "no-such-case"]);
    assert_ne!(code, 0, "{out}");
    assert!(!out.contains("PASSED"), "{out}");
    assert!(err.contains("no case or scenario matches"), "{err}");
}
