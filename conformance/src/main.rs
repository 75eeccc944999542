//! `fcm242d-conformance`: runs the conformance suite generated from the
//! catalogue against a module or the built-in simulator, and reports.

use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use fcm242d_conformance::case::Safety;
use fcm242d_conformance::env::Env;
use fcm242d_conformance::report;
use fcm242d_conformance::runner::Options;
use fcm242d_conformance::session::{self, Live};
use fcm242d_conformance::target::Target;
use fcm242d_conformance::transcript;

/// Conformance suite for Quectel FCM242D / FGM842D modules, generated from
/// the AT command catalogue.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the suite against a target and report.
    ///
    /// Example: `fcm242d-conformance run --target serial:/dev/ttyUSB0@115200 --json fw-1.2.json`
    Run(Box<RunArgs>),
    /// Show what changed between two runs (JSON reports).
    Diff {
        /// The older run.
        old: PathBuf,
        /// The newer run.
        new: PathBuf,
    },
    /// Check or replay a captured UART log.
    Transcript {
        #[command(subcommand)]
        action: TranscriptAction,
    },
    /// List the cases a run would take (after selection; against the
    /// simulator every safety class, against a module safe and stateful
    /// plus what --allow adds).
    List(ListArgs),
}

#[derive(Subcommand)]
enum TranscriptAction {
    /// Validate a log against the catalogue; each deviation with its line number.
    Check {
        /// The log file.
        file: PathBuf,
    },
    /// Replay the host side of a log against a target and compare the answers.
    Replay {
        /// The log file.
        file: PathBuf,
        /// sim, sim:WORLD.yaml, serial:PATH[@BAUD], tcp:HOST:PORT, pty:PATH.
        #[arg(long, default_value = "sim")]
        target: String,
    },
}

#[derive(clap::Args, Clone)]
struct SelectArgs {
    /// Only these function groups (general, wifi, ble, tcpip, ssl, mqtt, http, network, filesystem, scenarios).
    #[arg(long = "group", value_delimiter = ',')]
    groups: Vec<String>,
    /// Only these commands (AT+QICFG).
    #[arg(long = "command", value_delimiter = ',')]
    commands: Vec<String>,
    /// Only cases whose name contains this text.
    #[arg(long = "case")]
    names: Vec<String>,
}

#[derive(clap::Args)]
struct ListArgs {
    /// The target the run would go to: sim (every safety class) or a module (serial:, tcp:, pty:).
    #[arg(long, default_value = "sim")]
    target: String,
    #[command(flatten)]
    select: SelectArgs,
    #[command(flatten)]
    classes: ClassArgs,
}

/// The safety classes a run takes against a module beyond safe and stateful.
#[derive(clap::Args, Clone)]
struct ClassArgs {
    /// Against a module, also take these safety classes: persistent,
    /// disruptive (safe and stateful always; against the simulator every
    /// class).
    #[arg(long, value_delimiter = ',')]
    allow: Vec<String>,
    /// Also take destructive cases (they cannot be undone from the host).
    #[arg(long)]
    allow_destructive: bool,
}

#[derive(clap::Args)]
struct RunArgs {
    /// sim (the built-in simulator), sim:WORLD.yaml, serial:PATH[@BAUD], tcp:HOST:PORT, pty:PATH.
    #[arg(long, default_value = "sim")]
    target: String,
    /// A second target: each case goes to both and the answers are compared.
    #[arg(long)]
    compare_with: Option<String>,
    #[command(flatten)]
    select: SelectArgs,
    #[command(flatten)]
    classes: ClassArgs,
    /// The environment file (access point, servers, BLE peer); the simulator fills it in itself.
    #[arg(long)]
    env: Option<PathBuf>,
    /// Skip the manual's example scenarios.
    #[arg(long)]
    no_scenarios: bool,
    /// Write the JSON report here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Write JUnit XML here.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Write a Markdown report here.
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// Write an HTML report here.
    #[arg(long)]
    html: Option<PathBuf>,
    /// Print the coverage of the catalogue.
    #[arg(long)]
    coverage: bool,
    /// Keep the transcript of passing cases in the reports too.
    #[arg(long)]
    keep_transcripts: bool,
    /// No live progress (the default when standard error is not a terminal).
    #[arg(long)]
    quiet: bool,
    /// One line per case on standard error, with its verdict and time.
    #[arg(long, short)]
    verbose: bool,
    /// Run the cases in an order shuffled with this seed (a case's verdict
    /// must not depend on the order).
    #[arg(long, value_name = "SEED")]
    shuffle: Option<u64>,
    /// The module's guard time around `+++`, in ms (the simulator's is set to 100).
    #[arg(long)]
    guard_time_ms: Option<u64>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run(*args),
        Command::Diff { old, new } => diff(&old, &new),
        Command::Transcript { action } => transcript_cmd(action),
        Command::List(args) => list(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("fcm242d-conformance: {e}");
            ExitCode::from(2)
        }
    }
}

/// The safety classes `--allow` and `--allow-destructive` add to safe and stateful.
fn allowed(classes: &ClassArgs) -> Result<BTreeSet<Safety>, String> {
    let mut allow = BTreeSet::new();
    for a in &classes.allow {
        match Safety::from_name(a.trim()) {
            Some(Safety::Destructive) => {
                return Err("destructive cases need --allow-destructive".into())
            }
            Some(s) => {
                allow.insert(s);
            }
            None => {
                return Err(format!(
                    "--allow {a}: expected persistent or disruptive (safe and stateful always run)"
                ))
            }
        }
    }
    if classes.allow_destructive {
        allow.insert(Safety::Destructive);
    }
    Ok(allow)
}

fn options(args: &RunArgs) -> Result<Options, String> {
    let allow = allowed(&args.classes)?;
    // Against the simulator the environment is its world's; a file adds
    // to it (session::run). Against a module, only what the file says.
    let env = match &args.env {
        Some(p) => Env::load(p)?,
        None => Env::empty(),
    };
    Ok(Options {
        allow,
        groups: args.select.groups.clone(),
        commands: args.select.commands.clone(),
        names: args.select.names.clone(),
        env,
        keep_all_transcripts: args.keep_transcripts,
        guard_time: Duration::from_millis(args.guard_time_ms.unwrap_or(1000)),
        shuffle: args.shuffle,
        ..Options::default()
    })
}

fn run(args: RunArgs) -> Result<ExitCode, String> {
    let target = Target::parse(&args.target)?;
    let options = options(&args)?;
    let live = !args.quiet && std::io::stderr().is_terminal();
    let run_scenarios = !args.no_scenarios;
    let mut progress = Live::new(live && !args.verbose);
    progress.verbose = args.verbose;
    let report = session::run(
        &target,
        &options,
        run_scenarios,
        &mut progress,
        args.guard_time_ms,
    )?;
    print!("{}", report::summary::render(&report));
    if args.coverage {
        print!(
            "{}",
            report::coverage::render(&report::coverage::compute(&report))
        );
    }
    let write = |path: &Option<PathBuf>, text: String| -> Result<(), String> {
        if let Some(p) = path {
            std::fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()))?;
            eprintln!("wrote {}", p.display());
        }
        Ok(())
    };
    write(&args.json, report::json::write(&report))?;
    write(&args.junit, report::junit::render(&report))?;
    write(&args.markdown, report::markdown::render(&report))?;
    write(&args.html, report::html::render(&report))?;
    let mut failed = !report.passed();
    if let Some(other) = &args.compare_with {
        let other = Target::parse(other)?;
        let second = session::run(
            &other,
            &options,
            run_scenarios,
            &mut Live::new(live),
            args.guard_time_ms,
        )?;
        let differences = session::compare(&report, &second);
        print!(
            "{}",
            session::render_differences(&report, &second, &differences)
        );
        failed |= !differences.is_empty();
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn diff(old: &PathBuf, new: &PathBuf) -> Result<ExitCode, String> {
    let read = |p: &PathBuf| -> Result<_, String> {
        let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
        report::json::read(&text).map_err(|e| format!("{}: {e}", p.display()))
    };
    let (a, b) = (read(old)?, read(new)?);
    let d = report::diff::diff(&a, &b);
    print!("{}", report::diff::render(&d));
    Ok(if d.newly_failing.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn transcript_cmd(action: TranscriptAction) -> Result<ExitCode, String> {
    match action {
        TranscriptAction::Check { file } => {
            let r = transcript::check_file(&file).map_err(|e| e.to_string())?;
            print!("{}", r.render());
            Ok(if r.is_clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        TranscriptAction::Replay { file, target } => {
            let target = Target::parse(&target)?;
            let mut link = target.open()?;
            let r = transcript::replay_file(&file, link.as_mut(), Default::default())
                .map_err(|e| e.to_string())?;
            print!("{}", r.render());
            Ok(if r.is_clean() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}

fn list(args: &ListArgs) -> Result<ExitCode, String> {
    let select = &args.select;
    let mut options = Options {
        allow: allowed(&args.classes)?,
        groups: select.groups.clone(),
        commands: select.commands.clone(),
        names: select.names.clone(),
        ..Options::default()
    };
    // As `run` selects: a simulator cannot be bricked.
    if Target::parse(&args.target)?.is_sim() {
        options.allow_every_class();
    }
    for c in session::selected(&options) {
        println!(
            "{:<60} {:<11} {:<16} {}",
            c.id,
            c.safety.name(),
            c.kind.name(),
            c.line
        );
    }
    for s in session::selected_scenarios(&options) {
        let skip = if s.skip.is_some() {
            " (skipped: catalogue)"
        } else {
            ""
        };
        println!(
            "{:<60} {:<11} {:<16} {}{skip}",
            fcm242d_conformance::scenario::id(s),
            "",
            "scenario",
            s.title
        );
    }
    Ok(ExitCode::SUCCESS)
}
