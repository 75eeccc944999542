//! Broken spec fixtures: each folder of `fixtures/broken/` holds the valid
//! `fixtures/base.yaml` with exactly one fault. The loader must report exactly
//! one located diagnostic for it; its rendering is pinned with insta.

use std::path::{Path, PathBuf};

use fcm242d_codegen::Catalog;

fn fixture_dirs(parent: &str) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(Path::new("tests/fixtures").join(parent))
        .expect("fixtures folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn the_valid_fixture_loads() {
    let catalog =
        Catalog::load(Path::new("tests/fixtures/valid")).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(catalog.commands().count(), 2);
    assert_eq!(catalog.urcs().count(), 1);
}

#[test]
fn each_broken_fixture_gives_exactly_one_located_diagnostic() {
    let dirs = fixture_dirs("broken");
    assert!(
        dirs.len() >= 20,
        "expected the broken fixtures, found {}",
        dirs.len()
    );
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let errors = match Catalog::load(&dir) {
            Ok(_) => panic!("fixture {name} loaded without errors"),
            Err(e) => e,
        };
        assert_eq!(
            errors.diagnostics.len(),
            1,
            "fixture {name} should give one diagnostic:\n{}",
            errors.render()
        );
        let d = &errors.diagnostics[0];
        assert!(
            d.location.line > 1,
            "fixture {name}: no real location: {d:?}"
        );
        assert!(!d.hint.is_empty(), "fixture {name}: no hint");
        let rendered = errors.render();
        assert!(
            !rendered.contains("panicked") && !rendered.contains("Error("),
            "fixture {name}: raw error text leaked:\n{rendered}"
        );
        insta::assert_snapshot!(name, rendered);
    }
}

#[test]
fn several_faults_are_all_reported_in_one_run() {
    let errors = Catalog::load(Path::new("tests/fixtures/several_faults")).expect_err("faults");
    let codes: Vec<&str> = errors.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        vec!["bad-type", "undefined-param", "empty-range", "unknown-key"],
        "\n{}",
        errors.render()
    );
    insta::assert_snapshot!("several_faults", errors.render());
}

#[test]
fn a_missing_spec_folder_is_a_diagnostic_not_a_panic() {
    let errors = Catalog::load(Path::new("tests/fixtures/does-not-exist")).expect_err("missing");
    assert_eq!(errors.diagnostics[0].code, "unreadable");
}

#[test]
fn several_faults_in_one_entry_are_all_reported() {
    let errors =
        Catalog::load(Path::new("tests/fixtures/several_faults_in_one_entry")).expect_err("faults");
    let codes: Vec<&str> = errors.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(
        codes,
        vec!["unknown-key", "bad-value", "unknown-key"],
        "\n{}",
        errors.render()
    );
    insta::assert_snapshot!("several_faults_in_one_entry", errors.render());
}
