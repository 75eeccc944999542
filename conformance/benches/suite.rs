//! Wall time and cases per second of a conformance run against the built-in
//! simulator, in process and over its pseudo-terminal, side by side.
//!
//! `cargo bench -p fcm242d-conformance --bench suite` runs the same
//! selection of cases ([`GROUPS`], without the manual's scenarios) with
//! [`session::run`], the function behind `fcm242d-conformance run`:
//!
//! - `in-process`: the target `sim` (a module served on an in-memory link);
//! - `pty`: `fcm242d_sim::pty::spawn` serves a module on a pseudo-terminal
//!   and the run opens it as the target `pty:/dev/pts/N`, through the
//!   runtime's `SerialTransport`, as it would open a USB serial adapter.
//!
//! Each iteration is one whole run on a freshly booted module (start-up,
//! `AT` resync, `AT+QVERSION`, joining the access point, then every case),
//! so both sides pay the same boot. Both modules use a guard time of
//! 100 ms around `+++`, as `run --target sim` does. Throughput is in cases
//! (criterion's "elements"). Every iteration checks that the run passed:
//! no failure, no unexplained line, every selected case run.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput};
use fcm242d_conformance::outcome::RunReport;
use fcm242d_conformance::runner::{Options, Quiet};
use fcm242d_conformance::session;
use fcm242d_conformance::target::Target;
use fcm242d_sim::world::World;

/// The function groups run: a few seconds a run, no long waits (the file
/// system's and HTTP's cases wait for module time-outs, which would only
/// measure those).
const GROUPS: [&str; 3] = ["general", "wifi", "network"];

/// The guard time both modules are given, in ms (what `run --target sim`
/// uses).
const GUARD_MS: u64 = 100;

/// The options of every run.
fn options() -> Options {
    Options {
        groups: GROUPS.iter().map(|g| g.to_string()).collect(),
        guard_time: Duration::from_millis(GUARD_MS),
        ..Options::default()
    }
}

/// Checks that a run passed and ran every selected case.
fn check(what: &str, report: &RunReport, cases: usize) {
    let fcm242d_conformance::outcome::Counts {
        passed,
        failed,
        errors,
        skipped,
    } = report.counts();
    assert_eq!(errors, 0, "{what}: {errors} case(s) could not be judged");
    assert_eq!(report.cases.len(), cases, "{what}: cases run");
    assert_eq!(failed, 0, "{what}: {failed} case(s) failed");
    assert!(
        report.unexplained.is_empty(),
        "{what}: unexplained lines: {:?}",
        report.unexplained
    );
    assert!(passed > 0, "{what}: nothing passed ({skipped} skipped)");
}

/// One run against the in-process simulator.
fn in_process(options: &Options, cases: usize) -> RunReport {
    let target = Target::Sim { world: None };
    let report = session::run(&target, options, false, &mut Quiet, Some(GUARD_MS))
        .expect("the in-process simulator answers");
    check("in-process", &report, cases);
    report
}

/// One run against a simulator served on a fresh pseudo-terminal. (The
/// serving thread lives until the process ends, idle once the run closed
/// the device.)
fn over_pty(options: &Options, cases: usize) -> RunReport {
    let world = World {
        guard_time_ms: GUARD_MS,
        ..World::default()
    };
    let (path, _serving) = fcm242d_sim::pty::spawn(world).expect("a pseudo-terminal");
    let target = Target::Pty {
        path: path.display().to_string(),
    };
    let report = session::run(&target, options, false, &mut Quiet, Some(GUARD_MS))
        .expect("the simulator answers on its pseudo-terminal");
    check("pty", &report, cases);
    report
}

fn main() {
    // Against the simulator in process every safety class runs (as
    // session::run selects them); over the PTY the target is treated as a
    // module (safe and stateful only: it cannot be reset).
    let options = options();
    let mut sim_options = options.clone();
    sim_options.allow_every_class();
    let cases = session::selected(&sim_options).len();
    let pty_cases = session::selected(&options).len();

    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        // One run (about 5 s) per sample: criterion warns that ten samples
        // do not fit in 20 s, which is what is meant.
        .measurement_time(Duration::from_secs(20))
        .configure_from_args();
    let mut g = c.benchmark_group(format!("suite {}", GROUPS.join(",")));
    g.sampling_mode(SamplingMode::Flat);
    g.throughput(Throughput::Elements(cases as u64));
    // The verdicts of the last run, for the summary line.
    let mut counts = fcm242d_conformance::outcome::Counts::default();
    g.bench_function("in-process", |b| {
        b.iter(|| {
            let report = in_process(&sim_options, cases);
            counts = report.counts();
            black_box(report)
        })
    });
    g.throughput(Throughput::Elements(pty_cases as u64));
    g.bench_function("pty", |b| {
        b.iter(|| black_box(over_pty(&options, pty_cases)))
    });
    g.finish();

    // The whole suite, every case and scenario, in process: what
    // `fcm242d-conformance run` does by default.
    let all = Options::default();
    let mut whole = fcm242d_conformance::outcome::Counts::default();
    let mut g = c.benchmark_group("whole suite");
    g.sampling_mode(SamplingMode::Flat);
    g.bench_function("in-process", |b| {
        b.iter(|| {
            let report = session::run(
                &Target::Sim { world: None },
                &all,
                true,
                &mut Quiet,
                Some(GUARD_MS),
            )
            .expect("the in-process simulator answers");
            whole = report.counts();
            assert_eq!(whole.failed + whole.errors, 0, "the whole suite: {whole:?}");
            black_box(report)
        })
    });
    g.finish();
    c.final_summary();
    println!(
        "\nWhole suite: {} cases and scenarios per run ({} pass, {} fail, {} error, {} skip).",
        whole.total(),
        whole.passed,
        whole.failed,
        whole.errors,
        whole.skipped
    );

    let fcm242d_conformance::outcome::Counts {
        passed,
        failed,
        errors,
        skipped,
    } = counts;
    println!(
        "\nSelection: --group {} --no-scenarios: {cases} cases per run ({passed} pass, {failed} fail, {errors} error, {skipped} skip on the simulator).",
        GROUPS.join(",")
    );
}
