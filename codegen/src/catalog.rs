//! The whole catalogue: every file of `spec/`, loaded and validated.

use std::path::Path;

use crate::diagnostic::{Diagnostic, Location};
use crate::load::{self, Entry, LoadedFile};
use crate::locate::NodePath;
use crate::model::{Command, Erratum, Group, ResultTable, Scenario, StateRecipe, Urc};
use crate::validate;

/// The loaded catalogue.
#[derive(Debug)]
pub struct Catalog {
    /// Every spec file, sorted by name.
    pub files: Vec<LoadedFile>,
}

/// A command with the file that defines it.
#[derive(Debug, Clone, Copy)]
pub struct CommandRef<'a> {
    /// Index of the file in [`Catalog::files`].
    pub file: usize,
    /// The file's group.
    pub group: Option<Group>,
    /// Index in the file's `commands`.
    pub index: usize,
    /// The command.
    pub command: &'a Command,
}

impl CommandRef<'_> {
    /// The command's node path in its file.
    pub fn path(&self) -> NodePath {
        NodePath::root().key("commands").index(self.index)
    }
}

/// Why a catalogue could not be loaded: every diagnostic, sorted by file and position.
#[derive(Debug)]
pub struct SpecErrors {
    /// The diagnostics.
    pub diagnostics: Vec<Diagnostic>,
    /// The texts of the files, to quote lines from.
    pub sources: Vec<(std::path::PathBuf, String)>,
}

impl SpecErrors {
    /// Renders every diagnostic, then a summary line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for d in &self.diagnostics {
            let src = self
                .sources
                .iter()
                .find(|(p, _)| *p == d.file)
                .map(|(_, t)| t.as_str());
            out.push_str(&d.render(src));
            out.push('\n');
        }
        let n = self.diagnostics.len();
        out.push_str(&format!(
            "{n} error{} in the spec\n",
            if n == 1 { "" } else { "s" }
        ));
        out
    }
}

impl std::fmt::Display for SpecErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for SpecErrors {}

impl Catalog {
    /// Loads and validates every `*.yaml` file in `dir`.
    pub fn load(dir: &Path) -> Result<Catalog, SpecErrors> {
        let mut diags = Vec::new();
        let paths = match load::spec_files(dir) {
            Ok(p) => p,
            Err(err) => {
                return Err(SpecErrors {
                    diagnostics: vec![Diagnostic {
                        file: dir.to_path_buf(),
                        location: Location {
                            line: 1,
                            col: 1,
                            len: 1,
                        },
                        code: "unreadable",
                        message: format!("cannot list the spec directory: {err}"),
                        offending: String::new(),
                        hint: "pass the catalogue folder with --spec DIR (default: spec)".into(),
                    }],
                    sources: Vec::new(),
                })
            }
        };
        let files: Vec<LoadedFile> = paths
            .iter()
            .filter_map(|p| load::load_file(p, &mut diags))
            .collect();
        Self::from_files(files, diags)
    }

    /// Validates already-loaded files (used by tests with in-memory sources).
    pub fn from_files(
        files: Vec<LoadedFile>,
        mut diags: Vec<Diagnostic>,
    ) -> Result<Catalog, SpecErrors> {
        let catalog = Catalog { files };
        validate::validate(&catalog, &mut diags);
        if diags.is_empty() {
            Ok(catalog)
        } else {
            diags.sort_by(|a, b| (&a.file, a.location).cmp(&(&b.file, b.location)));
            diags.dedup();
            Err(SpecErrors {
                diagnostics: diags,
                sources: catalog
                    .files
                    .into_iter()
                    .map(|f| (f.source.path, f.source.text))
                    .collect(),
            })
        }
    }

    /// Every command, in file order.
    pub fn commands(&self) -> impl Iterator<Item = CommandRef<'_>> {
        self.files.iter().enumerate().flat_map(|(fi, f)| {
            f.commands.iter().map(move |e| CommandRef {
                file: fi,
                group: f.group,
                index: e.index,
                command: &e.value,
            })
        })
    }

    /// Finds a command by name.
    pub fn command(&self, name: &str) -> Option<CommandRef<'_>> {
        self.commands().find(|c| c.command.name == name)
    }

    /// Every URC, in file order.
    pub fn urcs(&self) -> impl Iterator<Item = (usize, &Entry<Urc>)> {
        self.files
            .iter()
            .enumerate()
            .flat_map(|(fi, f)| f.urcs.iter().map(move |e| (fi, e)))
    }

    /// Every result table.
    pub fn result_tables(&self) -> impl Iterator<Item = (usize, &Entry<ResultTable>)> {
        self.files
            .iter()
            .enumerate()
            .flat_map(|(fi, f)| f.result_tables.iter().map(move |e| (fi, e)))
    }

    /// Every state recipe (`spec/states.yaml`).
    pub fn states(&self) -> impl Iterator<Item = (usize, &Entry<StateRecipe>)> {
        self.files
            .iter()
            .enumerate()
            .flat_map(|(fi, f)| f.states.iter().map(move |e| (fi, e)))
    }

    /// Every scenario.
    pub fn scenarios(&self) -> impl Iterator<Item = (usize, &Entry<Scenario>)> {
        self.files
            .iter()
            .enumerate()
            .flat_map(|(fi, f)| f.scenarios.iter().map(move |e| (fi, e)))
    }

    /// Whether an entry of list `key` (`commands`, `urcs`, ...) named `name`
    /// exists but failed to load (so references to it are not reported again).
    pub fn is_broken(&self, key: &str, name: &str) -> bool {
        self.files
            .iter()
            .any(|f| f.broken_names.iter().any(|(k, n)| k == key && n == name))
    }

    /// Every erratum.
    pub fn errata(&self) -> impl Iterator<Item = (usize, &Entry<Erratum>)> {
        self.files
            .iter()
            .enumerate()
            .flat_map(|(fi, f)| f.errata.iter().map(move |e| (fi, e)))
    }
}
