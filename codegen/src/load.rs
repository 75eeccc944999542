//! Reading `spec/*.yaml` into the model. This is the only module that knows
//! about YAML: it turns serde's errors into located diagnostics and keeps going
//! entry by entry, so that one run reports the faults of every entry.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::diagnostic::{did_you_mean, Diagnostic, Location};
use crate::locate::{NodePath, Seg, SourceIndex};
use crate::model::{Command, Erratum, Group, ResultTable, Scenario, StateRecipe, Urc};

/// The text of one spec file and where its nodes are.
#[derive(Debug)]
pub struct Source {
    /// The file's path as reported in diagnostics.
    pub path: PathBuf,
    /// The file's text.
    pub text: String,
    /// Positions of its nodes.
    pub index: SourceIndex,
}

/// An entry of a list in a spec file, with its position in that list.
#[derive(Debug, Clone)]
pub struct Entry<T> {
    /// Index in the file's list (for locating it).
    pub index: usize,
    /// The entry.
    pub value: T,
}

/// One spec file, loaded.
#[derive(Debug)]
pub struct LoadedFile {
    /// Its text and positions.
    pub source: Source,
    /// `group:`.
    pub group: Option<Group>,
    /// `commands:` entries that deserialized.
    pub commands: Vec<Entry<Command>>,
    /// `urcs:` entries that deserialized.
    pub urcs: Vec<Entry<Urc>>,
    /// `result_tables:` entries that deserialized.
    pub result_tables: Vec<Entry<ResultTable>>,
    /// `scenarios:` entries that deserialized.
    pub scenarios: Vec<Entry<Scenario>>,
    /// `errata:` entries that deserialized.
    pub errata: Vec<Entry<Erratum>>,
    /// `states:` entries that deserialized.
    pub states: Vec<Entry<StateRecipe>>,
    /// Names (or ids) of entries that failed to deserialize, by list key. Other
    /// checks treat them as existing, so one broken entry yields one diagnostic
    /// rather than a cascade of "unknown command" reports.
    pub broken_names: Vec<(String, String)>,
}

/// The top level of a file, with entries kept as raw YAML so that each can be
/// deserialized (and fail) on its own.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    group: Option<serde_norway::Value>,
    #[serde(default)]
    commands: Option<Vec<serde_norway::Value>>,
    #[serde(default)]
    urcs: Option<Vec<serde_norway::Value>>,
    #[serde(default)]
    result_tables: Option<Vec<serde_norway::Value>>,
    #[serde(default)]
    scenarios: Option<Vec<serde_norway::Value>>,
    #[serde(default)]
    errata: Option<Vec<serde_norway::Value>>,
    #[serde(default)]
    states: Option<Vec<serde_norway::Value>>,
}

const TOP_LEVEL_KEYS: &[&str] = &[
    "group",
    "commands",
    "urcs",
    "result_tables",
    "scenarios",
    "errata",
    "states",
];

/// Every `*.yaml` file directly in `dir`, sorted by name.
pub fn spec_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    files.sort();
    Ok(files)
}

/// Loads one file from its text. Never panics; every problem becomes a diagnostic.
pub fn load_text(path: PathBuf, text: String, diags: &mut Vec<Diagnostic>) -> LoadedFile {
    let index = SourceIndex::build(&text);
    let source = Source { path, text, index };
    let mut file = LoadedFile {
        source,
        group: None,
        commands: Vec::new(),
        urcs: Vec::new(),
        result_tables: Vec::new(),
        scenarios: Vec::new(),
        errata: Vec::new(),
        states: Vec::new(),
        broken_names: Vec::new(),
    };
    let is_blank = file
        .source
        .text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#'));
    if is_blank {
        return file;
    }
    let raw: RawFile = match serde_norway::from_str(&file.source.text) {
        Ok(raw) => raw,
        Err(err) => {
            diags.push(top_level_error(&file.source, &err));
            return file;
        }
    };
    if let Some(group) = raw.group {
        let path = NodePath::root().key("group");
        match deserialize_entry::<Group>(group) {
            Ok(g) => file.group = Some(g),
            Err((sub, msg)) => diags.push(entry_error(&file.source, &path, &sub, &msg)),
        }
    }
    let src = &file.source;
    let broken = &mut file.broken_names;
    file.commands = entries(src, "commands", raw.commands, broken, diags);
    file.urcs = entries(src, "urcs", raw.urcs, broken, diags);
    file.result_tables = entries(src, "result_tables", raw.result_tables, broken, diags);
    file.scenarios = entries(src, "scenarios", raw.scenarios, broken, diags);
    file.errata = entries(src, "errata", raw.errata, broken, diags);
    file.states = entries(src, "states", raw.states, broken, diags);
    file
}

/// Loads one file from disk.
pub fn load_file(path: &Path, diags: &mut Vec<Diagnostic>) -> Option<LoadedFile> {
    match std::fs::read_to_string(path) {
        Ok(text) => Some(load_text(path.to_path_buf(), text, diags)),
        Err(err) => {
            diags.push(Diagnostic {
                file: path.to_path_buf(),
                location: Location {
                    line: 1,
                    col: 1,
                    len: 1,
                },
                code: "unreadable",
                message: format!("cannot read the file: {err}"),
                offending: String::new(),
                hint: "check that the file exists, is readable and is UTF-8".into(),
            });
            None
        }
    }
}

fn entries<T: DeserializeOwned>(
    source: &Source,
    key: &str,
    raw: Option<Vec<serde_norway::Value>>,
    broken: &mut Vec<(String, String)>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Entry<T>> {
    let mut out = Vec::new();
    for (index, value) in raw.into_iter().flatten().enumerate() {
        let path = NodePath::root().key(key).index(index);
        let name = ["name", "id"]
            .iter()
            .find_map(|k| value.get(*k).and_then(|v| v.as_str()).map(str::to_string));
        match deserialize_all_faults::<T>(value) {
            Ok(value) => out.push(Entry { index, value }),
            Err(faults) => {
                broken.extend(name.map(|n| (key.to_string(), n)));
                for (sub, msg) in faults {
                    diags.push(entry_error(source, &path, &sub, &msg));
                }
            }
        }
    }
    out
}

/// serde stops at an entry's first fault. To report every fault of the entry,
/// drop the offending key and try again, until the entry deserializes or the
/// next error is only the consequence of a dropped key ("missing field").
fn deserialize_all_faults<T: DeserializeOwned>(
    mut value: serde_norway::Value,
) -> Result<T, Vec<(Vec<Seg>, String)>> {
    const MAX_FAULTS: usize = 32;
    let mut faults: Vec<(Vec<Seg>, String)> = Vec::new();
    let mut dropped: Vec<Vec<Seg>> = Vec::new();
    loop {
        let (sub, msg) = match deserialize_entry::<T>(value.clone()) {
            Ok(v) if faults.is_empty() => return Ok(v),
            Ok(_) => return Err(faults),
            Err(e) => e,
        };
        if quoted_after(&msg, "missing field").is_some()
            && dropped.iter().any(|d| d[..d.len() - 1] == sub[..])
        {
            // A key of this mapping was dropped (misspelt or invalid): the
            // missing field is its consequence, already reported.
            return Err(faults);
        }
        let culprit = match quoted_after(&msg, "unknown field") {
            Some(field) if sub.last() != Some(&Seg::Key(field.to_string())) => {
                let mut p = sub.clone();
                p.push(Seg::Key(field.to_string()));
                p
            }
            _ => sub.clone(),
        };
        faults.push((sub, msg));
        if faults.len() >= MAX_FAULTS || culprit.is_empty() || !remove_at(&mut value, &culprit) {
            return Err(faults);
        }
        dropped.push(culprit);
    }
}

/// Removes the mapping entry at `path`; false if there is none.
fn remove_at(value: &mut serde_norway::Value, path: &[Seg]) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut node = value;
    for seg in parents {
        let next = match (seg, node) {
            (Seg::Key(k), serde_norway::Value::Mapping(m)) => m.get_mut(k.as_str()),
            (Seg::Index(i), serde_norway::Value::Sequence(s)) => s.get_mut(*i),
            _ => None,
        };
        match next {
            Some(n) => node = n,
            None => return false,
        }
    }
    // Only mapping keys are dropped: removing a sequence item would shift the
    // indices, and so the locations, of the items after it.
    match (last, node) {
        (Seg::Key(k), serde_norway::Value::Mapping(m)) => m.remove(k.as_str()).is_some(),
        _ => false,
    }
}

/// Deserializes one entry; on failure returns the path inside it and serde's message.
fn deserialize_entry<T: DeserializeOwned>(
    value: serde_norway::Value,
) -> Result<T, (Vec<Seg>, String)> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let segs = err
            .path()
            .iter()
            .filter_map(|s| match s {
                serde_path_to_error::Segment::Seq { index } => Some(Seg::Index(*index)),
                serde_path_to_error::Segment::Map { key } => Some(Seg::Key(key.clone())),
                _ => None,
            })
            .collect();
        (segs, err.into_inner().to_string())
    })
}

/// Text between the first pair of backticks after `marker` in serde's message.
fn quoted_after<'m>(msg: &'m str, marker: &str) -> Option<&'m str> {
    let rest = &msg[msg.find(marker)? + marker.len()..];
    let start = rest.find('`')? + 1;
    let end = start + rest[start..].find('`')?;
    Some(&rest[start..end])
}

/// Every backticked word after "expected" in serde's message.
fn expected_words(msg: &str) -> Vec<&str> {
    let Some(pos) = msg.find("expected") else {
        return Vec::new();
    };
    msg[pos..].split('`').skip(1).step_by(2).collect()
}

fn entry_error(source: &Source, base: &NodePath, sub: &[Seg], msg: &str) -> Diagnostic {
    let mut path = base.clone();
    path.0.extend(sub.iter().cloned());
    let msg = msg.trim();
    let (code, location, offending, message, hint);
    if let Some(field) = quoted_after(msg, "unknown field") {
        // serde_path_to_error's path may or may not already end at the field.
        let field_path = if path.0.last() == Some(&Seg::Key(field.to_string())) {
            path.clone()
        } else {
            path.key(field)
        };
        code = "unknown-key";
        location = source.index.key(&field_path);
        offending = field.to_string();
        message = format!("unknown key `{field}` at {}", field_path.parent());
        let expected = expected_words(msg);
        hint = match did_you_mean(field, expected.iter().copied()) {
            Some(s) => format!("did you mean `{s}`? (spec/README.md lists the keys)"),
            None => format!("allowed keys here: {}", expected.join(", ")),
        };
    } else if let Some(field) = quoted_after(msg, "missing field") {
        code = "missing-key";
        location = source.index.key(&path);
        offending = String::new();
        message = format!("`{field}` is required at {path}");
        hint = format!("add `{field}:` to this entry (see spec/README.md)");
    } else if let Some(variant) = quoted_after(msg, "unknown variant") {
        let expected = expected_words(msg);
        code = "bad-value";
        location = source.index.value(&path);
        offending = variant.to_string();
        message = format!("`{variant}` is not an allowed value at {path}");
        hint = match did_you_mean(variant, expected.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("use one of: {}", expected.join(", ")),
        };
    } else if msg.starts_with("invalid type") || msg.starts_with("invalid value") {
        code = "bad-type";
        location = source.index.value(&path);
        offending = snippet(source, location);
        message = format!(
            "wrong kind of value at {path}: {}",
            msg.split(',').next().unwrap_or(msg)
        );
        hint = format!(
            "{} (see spec/README.md for this key's shape)",
            msg.split_once(", ")
                .map(|x| x.1)
                .unwrap_or("check the value")
        );
    } else if msg.contains("did not match any variant") {
        code = "bad-shape";
        location = source.index.value(&path);
        offending = snippet(source, location);
        message = format!("this entry has none of the accepted shapes at {path}");
        hint = "a line is either a template string or {template:, optional:, repeated:, data:}; check spelling and nesting".into();
    } else {
        code = "bad-entry";
        location = source.index.value(&path);
        offending = snippet(source, location);
        message = format!("invalid entry at {path}: {msg}");
        hint = "compare the entry with the format in spec/README.md".into();
    }
    Diagnostic {
        file: source.path.clone(),
        location,
        code,
        message,
        offending,
        hint,
    }
}

fn top_level_error(source: &Source, err: &serde_norway::Error) -> Diagnostic {
    let msg = err.to_string();
    let location = err
        .location()
        .map(|l| Location {
            line: l.line(),
            col: l.column(),
            len: 1,
        })
        .unwrap_or(Location {
            line: 1,
            col: 1,
            len: 1,
        });
    // Drop serde's own " at line X column Y" suffix: the location says it.
    let clean = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    if let Some(field) = quoted_after(&clean, "unknown field") {
        let path = NodePath::root().key(field);
        return Diagnostic {
            file: source.path.clone(),
            location: source.index.key(&path),
            code: "unknown-key",
            message: format!("unknown top-level key `{field}`"),
            offending: field.to_string(),
            hint: match did_you_mean(field, TOP_LEVEL_KEYS.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("a spec file may only have: {}", TOP_LEVEL_KEYS.join(", ")),
            },
        };
    }
    let is_shape = clean.starts_with("invalid type");
    Diagnostic {
        file: source.path.clone(),
        location,
        code: if is_shape { "bad-type" } else { "yaml-syntax" },
        offending: snippet(source, location),
        message: if is_shape {
            format!("the file's top level has the wrong shape: {clean}")
        } else {
            format!("not valid YAML: {clean}")
        },
        hint: if is_shape {
            format!(
                "a spec file is a mapping with any of: {}",
                TOP_LEVEL_KEYS.join(", ")
            )
        } else {
            "check indentation, quoting and brackets near this position".into()
        },
    }
}

/// The text at a location, up to the end of its line, trimmed.
pub fn snippet(source: &Source, loc: Location) -> String {
    source
        .text
        .lines()
        .nth(loc.line.saturating_sub(1))
        .map(|l| {
            l.chars()
                .skip(loc.col.saturating_sub(1))
                .take(loc.len.max(1))
                .collect::<String>()
                .trim()
                .to_string()
        })
        .unwrap_or_default()
}
