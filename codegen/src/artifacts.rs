//! The list of generated files: what `cargo xtask gen` writes and what the
//! staleness check compares.

use std::path::{Path, PathBuf};

use crate::catalog::Catalog;
use crate::emit;
use crate::emit::plan::PlanError;

/// One generated file: its path relative to the repository root, and its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// Path relative to the repository root.
    pub path: PathBuf,
    /// The content the generator writes.
    pub content: String,
}

/// Every generated file for this catalogue. `spec_dir` is where the catalogue
/// lives relative to the repository root (the schema is written beside it).
pub fn artifacts(catalog: &Catalog, spec_dir: &Path) -> Result<Vec<Artifact>, PlanError> {
    let plan = emit::plan::plan(catalog)?;
    let generated = PathBuf::from("runtime/src/generated");
    let mut out = vec![
        Artifact {
            path: spec_dir.join("schema.json"),
            content: emit::schema::render(),
        },
        Artifact {
            path: PathBuf::from("docs/commands.md"),
            content: emit::docs::render(catalog),
        },
        Artifact {
            path: PathBuf::from("grammar/src/grammar.pest"),
            content: emit::grammar::render(&plan),
        },
    ];
    out.push(Artifact {
        path: generated.join("decode.rs"),
        content: emit::decoder::render(&plan)?,
    });
    out.push(Artifact {
        path: PathBuf::from("conformance/src/generated/cases.rs"),
        content: emit::conformance::render(catalog, &plan),
    });
    for (name, content) in emit::bindings::render(catalog, &plan)? {
        out.push(Artifact {
            path: generated.join(name),
            content,
        });
    }
    Ok(out)
}

/// A generated file whose content on disk differs from what the generator writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    /// The file.
    pub path: PathBuf,
    /// Why: missing, or which line first differs.
    pub reason: String,
}

/// Compares every artifact with the file under `root`.
pub fn stale(root: &Path, artifacts: &[Artifact]) -> Vec<Stale> {
    artifacts
        .iter()
        .filter_map(|a| {
            let on_disk = std::fs::read_to_string(root.join(&a.path));
            let reason = match on_disk {
                Err(_) => "missing".to_string(),
                Ok(text) if text == a.content => return None,
                Ok(text) => {
                    let line = text
                        .lines()
                        .zip(a.content.lines())
                        .position(|(x, y)| x != y)
                        .map(|i| i + 1)
                        .unwrap_or_else(|| text.lines().count().min(a.content.lines().count()) + 1);
                    format!("differs from the generator's output from line {line} on")
                }
            };
            Some(Stale {
                path: a.path.clone(),
                reason,
            })
        })
        .collect()
}

/// Writes every artifact under `root`; returns the paths that changed.
pub fn write(root: &Path, artifacts: &[Artifact]) -> std::io::Result<Vec<PathBuf>> {
    let mut changed = Vec::new();
    for a in artifacts {
        let path = root.join(&a.path);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(a.content.as_str()) {
            continue;
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, &a.content)?;
        changed.push(a.path.clone());
    }
    Ok(changed)
}
