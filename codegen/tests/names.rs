//! The names of the generated bindings (`runtime/src/generated/`) read as
//! names: none is positional (`L0`, `TestLine3`, `StoreStatus2`) or carries
//! a `V<n>` suffix, none is a cut sentence, and none differs from another
//! of its module (or from a sibling variant) only by case. Names kept
//! hidden for source compatibility (`#[doc(hidden)]`, see
//! `emit/bindings/former.rs`) are not part of the API and are left out.

use std::collections::BTreeMap;
use std::path::Path;

/// A generated name and where it is.
#[derive(Debug)]
struct Name {
    /// `type` or `variant of X`.
    kind: String,
    name: String,
    /// The `pub mod` it is in (the file's top level: empty).
    module: String,
    at: String,
}

/// Every visible type and enumeration variant name of a generated file.
fn names_of(file: &str, text: &str) -> Vec<Name> {
    let mut out = Vec::new();
    let mut module = String::new();
    let mut hidden = false;
    // The enum being read and the indentation of its variants.
    let mut inside: Option<(String, usize)> = None;
    for (i, line) in text.lines().enumerate() {
        let at = format!("{file}:{}", i + 1);
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if trimmed.starts_with("//") {
            continue;
        }
        if trimmed == "#[doc(hidden)]" {
            hidden = true;
            continue;
        }
        if let Some((e, depth)) = &inside {
            if indent < *depth && trimmed.starts_with('}') {
                inside = None;
            } else if indent == *depth && trimmed.starts_with(|c: char| c.is_ascii_uppercase()) {
                let variant: String = trimmed
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                out.push(Name {
                    kind: format!("variant of {e}"),
                    name: variant,
                    module: module.clone(),
                    at,
                });
            }
            continue;
        }
        if indent == 0 {
            if let Some(m) = trimmed.strip_prefix("pub mod ") {
                module = m.trim_end_matches(" {").to_string();
            }
        }
        for keyword in ["pub enum ", "pub struct ", "pub type "] {
            let Some(rest) = trimmed.strip_prefix(keyword) else {
                continue;
            };
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if keyword == "pub enum " && trimmed.ends_with('{') {
                inside = Some((name.clone(), indent + 4));
            }
            if !hidden {
                out.push(Name {
                    kind: "type".into(),
                    name,
                    module: module.clone(),
                    at: at.clone(),
                });
            }
        }
        if !trimmed.starts_with("#[") {
            hidden = false;
        }
    }
    out
}

fn generated() -> Vec<Name> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime/src/generated");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            let file = path.file_name().unwrap().to_string_lossy().to_string();
            out.extend(names_of(&file, &std::fs::read_to_string(&path).unwrap()));
        }
    }
    out
}

/// The CamelCase words of a name (`Aes128CbcSha` → `Aes128`, `Cbc`, `Sha`).
fn words(name: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in name.chars() {
        match out.last_mut() {
            Some(w) if !c.is_ascii_uppercase() => w.push(c),
            _ => out.push(c.to_string()),
        }
    }
    out
}

/// A name made of a letter and digits (`L3`), a `V<n>` suffix (`ModeV2`,
/// `V1`), or a numbered line type (`TestLine3`).
fn positional(name: &str) -> bool {
    let digits_from = name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits_from == name.len() {
        return false;
    }
    let stem = &name[..digits_from];
    stem.len() == 1 || stem.ends_with('V') || stem.ends_with("Line") || stem.ends_with("Value")
}

/// Words that make a name part of a sentence, not a name.
const SENTENCE_WORDS: &[&str] = &[
    "The", "Is", "Are", "Be", "Been", "Was", "Which", "That", "If", "When", "Than", "Should",
];

#[test]
fn the_name_checks_catch_what_they_describe() {
    assert!(positional("L0") && positional("TestLine3") && positional("ModeV2"));
    assert!(!positional("Tls12") && !positional("Uart1") && !positional("Sha256"));
    assert_eq!(words("Aes128CbcSha"), ["Aes128", "Cbc", "Sha"]);
    let sample = "pub mod qx {\n    pub enum Mode {\n        /// doc\n        L0(A),\n        On,\n    }\n    #[doc(hidden)]\n    pub type Former = Mode;\n}\n";
    let names: Vec<String> = names_of("x.rs", sample)
        .into_iter()
        .map(|n| n.name)
        .collect();
    assert_eq!(names, ["Mode", "L0", "On"]);
}

#[test]
fn no_generated_name_is_positional_or_a_cut_sentence() {
    let names = generated();
    assert!(names.len() > 500, "{} names read", names.len());
    let bad: Vec<String> = names
        .iter()
        .filter(|n| {
            positional(&n.name)
                || words(&n.name)
                    .iter()
                    .any(|w| SENTENCE_WORDS.contains(&w.as_str()))
        })
        .map(|n| format!("{}: {} `{}`", n.at, n.kind, n.name))
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn no_two_types_of_a_module_are_numbered_copies() {
    // `StoreStatus0` … `StoreStatus4`: one concept, one type.
    let names = generated();
    let mut stems: BTreeMap<(String, String), Vec<&Name>> = BTreeMap::new();
    for n in names.iter().filter(|n| n.kind == "type") {
        let stem = n.name.trim_end_matches(|c: char| c.is_ascii_digit());
        if stem.len() < n.name.len() {
            stems
                .entry((n.module.clone(), stem.to_string()))
                .or_default()
                .push(n);
        }
    }
    let bad = clashes(stems.values().filter(|v| v.len() > 1));
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn no_generated_name_differs_from_another_only_by_case() {
    // (module or enum, lower-cased name) → the spellings seen.
    let names = generated();
    let mut seen: BTreeMap<(String, String), Vec<&Name>> = BTreeMap::new();
    for n in &names {
        let scope = if n.kind == "type" {
            format!("module {}", n.module)
        } else {
            format!("{}::{}", n.module, n.kind)
        };
        seen.entry((scope, n.name.to_ascii_lowercase()))
            .or_default()
            .push(n);
    }
    let bad = clashes(
        seen.values()
            .filter(|v| v.iter().any(|n| n.name != v[0].name)),
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// Each group of names that clash, as one line: where each is and how it is spelt.
fn clashes<'a>(groups: impl Iterator<Item = &'a Vec<&'a Name>>) -> Vec<String> {
    groups
        .map(|v| {
            v.iter()
                .map(|n| format!("{} `{}`", n.at, n.name))
                .collect::<Vec<_>>()
                .join(" / ")
        })
        .collect()
}
