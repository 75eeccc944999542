//! Project automation.
//!
//! - `cargo xtask gen [--spec DIR]` writes every generated artifact;
//! - `cargo xtask check [--spec DIR]` validates the spec and fails when a generated file is stale;
//! - `cargo xtask export [--spec DIR]` validates, then prints the resolved catalogue as JSON;
//! - `cargo xtask size` builds the Cortex-M4F size probe and reports its `.text`.
//!
//! `DIR` defaults to the repository's `spec/`. Artifacts are written relative to
//! the folder that contains `DIR` (for the default: the repository root).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use fcm242d_codegen::artifacts::{artifacts, stale, write};
use fcm242d_codegen::{export, Catalog};

mod size;

const USAGE: &str = "usage: cargo xtask <gen|check|export|size> [--spec DIR]

  gen      write every generated file (spec/schema.json, docs/commands.md, ...)
  check    validate the spec; fail if a generated file differs from what gen writes
  export   validate, then print the resolved catalogue as JSON on stdout
  size     build the thumbv7em-none-eabihf size probe (all groups; general + tcpip)
           and report its .text

  --spec DIR   the catalogue folder (default: the repository's spec/)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Result<ExitCode, String> {
    let mut command = None;
    let mut spec: Option<PathBuf> = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--spec" => {
                let dir = it.next().ok_or("--spec needs a folder")?;
                spec = Some(PathBuf::from(dir));
            }
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            "gen" | "check" | "export" | "size" if command.is_none() => command = Some(arg.clone()),
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    let command = command.ok_or("no command given")?;
    if command == "size" {
        return size::run(&repo_root()).map(|()| ExitCode::SUCCESS);
    }
    let spec_dir = spec.unwrap_or_else(|| relative_to_cwd(repo_root().join("spec")));
    let root = match spec_dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let spec_name = spec_dir
        .file_name()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("spec"));
    let catalog = match Catalog::load(&spec_dir) {
        Ok(c) => c,
        Err(errors) => {
            eprint!("{}", errors.render());
            return Ok(ExitCode::FAILURE);
        }
    };
    let generated = artifacts(&catalog, &spec_name).map_err(|e| e.to_string())?;
    match command.as_str() {
        "gen" => {
            let changed = write(&root, &generated)
                .map_err(|e| format!("cannot write the generated files: {e}"))?;
            if changed.is_empty() {
                eprintln!("gen: {} generated files are up to date", generated.len());
            }
            for path in changed {
                eprintln!("gen: wrote {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        "check" => {
            let stale = stale(&root, &generated);
            if stale.is_empty() {
                eprintln!(
                    "check: the spec is valid ({} commands, {} URCs) and {} generated files are up to date",
                    catalog.commands().count(),
                    catalog.urcs().count(),
                    generated.len()
                );
                return Ok(ExitCode::SUCCESS);
            }
            for s in &stale {
                eprintln!("check: {} is stale: {}", s.path.display(), s.reason);
            }
            eprintln!("check: run `cargo xtask gen` and commit the result");
            Ok(ExitCode::FAILURE)
        }
        _ => {
            print!("{}", export::to_json(&catalog));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `path` relative to the working directory when it lies below it, so that
/// diagnostics read `spec/tcpip.yaml:12:5` rather than an absolute path.
fn relative_to_cwd(path: PathBuf) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|cwd| path.strip_prefix(&cwd).ok().map(Path::to_path_buf))
        .unwrap_or(path)
}

/// The repository root: the parent of this crate's folder.
fn repo_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}
