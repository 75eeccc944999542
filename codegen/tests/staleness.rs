//! The generated files in the repository are exactly what the generator writes
//! now (rust-analyzer's sourcegen pattern): change spec/ or the generator, run
//! `cargo xtask gen`, commit the result.

use std::path::Path;

use fcm242d_codegen::artifacts::{artifacts, stale, write};
use fcm242d_codegen::Catalog;

#[test]
fn generated_files_are_up_to_date() {
    let catalog = Catalog::load(Path::new("../spec")).unwrap_or_else(|e| panic!("{e}"));
    let generated = artifacts(&catalog, Path::new("spec")).expect("plans");
    let stale = stale(Path::new(".."), &generated);
    assert!(
        stale.is_empty(),
        "stale generated files (run `cargo xtask gen`): {stale:#?}"
    );
}

#[test]
fn the_staleness_check_notices_edits_and_missing_files() {
    let catalog =
        Catalog::load(Path::new("tests/fixtures/valid")).unwrap_or_else(|e| panic!("{e}"));
    let dir = std::env::temp_dir().join(format!("fcm242d-stale-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let generated = artifacts(&catalog, Path::new("spec")).expect("plans");
    assert_eq!(
        stale(&dir, &generated).len(),
        generated.len(),
        "all missing"
    );
    let written = write(&dir, &generated).expect("write");
    assert_eq!(written.len(), generated.len());
    assert!(stale(&dir, &generated).is_empty());
    assert!(
        write(&dir, &generated).expect("rewrite").is_empty(),
        "nothing changes twice"
    );
    let docs = dir.join("docs/commands.md");
    let mut text = std::fs::read_to_string(&docs).unwrap();
    text.push_str("hand edit\n");
    std::fs::write(&docs, text).unwrap();
    let found = stale(&dir, &generated);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path, Path::new("docs/commands.md"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn every_generated_file_says_it_is_generated() {
    let catalog =
        Catalog::load(Path::new("tests/fixtures/valid")).unwrap_or_else(|e| panic!("{e}"));
    for a in artifacts(&catalog, Path::new("spec")).expect("plans") {
        assert!(
            a.content.contains("@generated"),
            "{} has no @generated marker",
            a.path.display()
        );
    }
}
