//! The generator's output for the small fixture catalogue, pinned: a change to
//! the generator shows its effect on the grammar and the bindings in review.

use std::path::Path;

use fcm242d_codegen::emit::{bindings, grammar, plan};
use fcm242d_codegen::Catalog;

fn fixture() -> Catalog {
    Catalog::load(Path::new("tests/fixtures/valid")).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn grammar_of_the_fixture() {
    let c = fixture();
    let p = plan::plan(&c).expect("plans");
    insta::assert_snapshot!("grammar", grammar::render(&p));
}

#[test]
fn bindings_of_the_fixture() {
    let c = fixture();
    let p = plan::plan(&c).expect("plans");
    for (name, text) in bindings::render(&c, &p).expect("renders") {
        insta::assert_snapshot!(format!("bindings_{}", name.replace('.', "_")), text);
    }
}

#[test]
fn the_generator_names_no_command() {
    // House rule: everything the generator emits comes from spec/, so no
    // command of the catalogue is named in its code (comments may cite them).
    let catalog = Catalog::load(Path::new("../spec")).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<String> = catalog
        .commands()
        .map(|c| c.command.name.clone())
        .filter(|n| n.starts_with("AT+Q"))
        .collect();
    let mut stack = vec![Path::new("src").to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (i, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or("");
                for name in &names {
                    let named = code.match_indices(name.as_str()).any(|(at, _)| {
                        !code[at + name.len()..]
                            .chars()
                            .next()
                            .is_some_and(|c| c.is_ascii_alphanumeric())
                    });
                    assert!(!named, "{}:{}: names {name}: {line}", path.display(), i + 1);
                }
            }
        }
    }
}
