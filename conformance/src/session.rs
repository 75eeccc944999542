//! One whole run against one target: open it, read the firmware version,
//! run the selected cases and scenarios, and gather the report. Also the
//! differential comparison of two runs.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::case::{Case, ConnectData};
use crate::generated::cases::{CASES, SCENARIOS};
use crate::link::Link;
use crate::outcome::{CaseResult, RunReport, Verdict};
use crate::runner::{Options, Progress, Runner};
use crate::scenario;
use crate::target::Target;

/// The guard time given to the built-in simulator (its default world uses
/// the usual 1 s; a run does not need to wait that long around `+++`).
const SIM_GUARD_MS: u64 = 100;

/// The cases `options` selects, in catalogue order.
pub fn selected(options: &Options) -> Vec<&'static Case> {
    CASES.iter().filter(|c| options.selects(c)).collect()
}

/// The scenarios (the manual's examples, the composed exchanges, the
/// provocations) `options` selects.
pub fn selected_scenarios(options: &Options) -> Vec<&'static crate::case::Scenario> {
    if !scenarios_selected(options) {
        return Vec::new();
    }
    SCENARIOS
        .iter()
        .filter(|s| {
            // Matched on the id a report and `list` show
            // (`scenario.<name>`), which holds the bare name too.
            let id = scenario::id(s);
            options.names.is_empty() || options.names.iter().any(|n| id.contains(n.as_str()))
        })
        .collect()
}

/// Whether the scenarios are selected.
fn scenarios_selected(options: &Options) -> bool {
    (options.groups.is_empty() || options.groups.iter().any(|g| g == "scenarios"))
        && options.commands.is_empty()
}

/// Opens `target` and runs everything `options` selects.
pub fn run(
    target: &Target,
    options: &Options,
    with_scenarios: bool,
    progress: &mut dyn Progress,
    guard_time_ms: Option<u64>,
) -> Result<RunReport, String> {
    let started = Instant::now();
    let mut options = options.clone();
    if target.is_sim() {
        options.allow_every_class();
    }
    // A run that selects nothing judges nothing: it must not say PASSED.
    if selected(&options).is_empty() && (!with_scenarios || selected_scenarios(&options).is_empty())
    {
        return Err(
            "no case or scenario matches the selection (--group, --command, --case); \
             `fcm242d-conformance list` shows what a run takes"
                .into(),
        );
    }
    let mut link = match target {
        Target::Sim { .. } => {
            let mut world = target.world()?;
            world.guard_time_ms = guard_time_ms.unwrap_or(SIM_GUARD_MS);
            options.guard_time = Duration::from_millis(world.guard_time_ms);
            // The environment is the simulator's own world's, never a
            // second copy; an environment file only adds to it.
            options.env = options.env.over(&world.environment());
            let (transport, control) = crate::simtarget::start(world);
            Link::with_control(Box::new(transport), Box::new(control))
        }
        _ => Link::new(target.open()?),
    };
    if !link.resync(3) {
        return Err(format!(
            "{}: the module does not answer `AT` with `OK`",
            target.name()
        ));
    }
    let firmware = firmware(&mut link);
    // The module works on a network, as in a test bench: join the
    // environment's access point first (a failure shows in the cases).
    let _ = bring_up(&mut link, &options.env);
    let mut cases = selected(&options);
    let mut scenarios: Vec<_> = if with_scenarios {
        selected_scenarios(&options)
    } else {
        Vec::new()
    };
    if let Some(seed) = options.shuffle {
        crate::runner::shuffle(&mut cases, seed);
        crate::runner::shuffle(&mut scenarios, seed.rotate_left(32));
    }
    let mut runner = Runner::new(&mut link, &options);
    let mut results = runner.run(&cases, progress);
    let unexplained = std::mem::take(&mut runner.unexplained);
    let mut exercised = runner.exercised.clone();
    drop(runner);
    let total = cases.len() + scenarios.len();
    // Each example sets up what it starts from (`requires:` in
    // spec/scenarios.yaml); on the simulator each starts from a freshly
    // booted module, so a failing one never cascades into the next.
    // A module that cannot be reset gets back what a scenario left open,
    // as after a case.
    let mut held = (!link.fresh_per_case() && !scenarios.is_empty()).then(|| {
        let h = crate::restore::Held::read(&mut link);
        link.take_transcript();
        h
    });
    for (i, s) in scenarios.iter().enumerate() {
        progress.start(cases.len() + i, total, s.name);
        // A fresh module; the scenario sets up what it starts from.
        link.reset_target();
        let (mut r, traffic) = scenario::run(s, &mut link, &options.env, options.guard_time);
        if let Some(before) = held.take() {
            let restored =
                crate::restore::put_back(&mut link, &before, &options.env, options.guard_time);
            let mut problems = restored.problems;
            if !restored.strays.is_empty() {
                problems.push(format!(
                    "final results no command waited for ({}) came while reading the module back",
                    restored.strays.join(", ")
                ));
            }
            let restoring = link.take_transcript();
            if !problems.is_empty() {
                // A pass kept no transcript; an error shows it all.
                if r.exchanged.is_empty() {
                    r.exchanged = traffic.clone();
                }
                r.exchanged.extend(restoring);
            }
            r.verdict = crate::restore::judge(r.verdict, &problems);
            held = Some(restored.held);
        }
        count_traffic(&mut exercised, &traffic);
        progress.done(&r);
        results.push(r);
    }
    progress.finish();
    Ok(RunReport {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        target: target.name(),
        firmware,
        started_unix: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        duration_ms: started.elapsed().as_millis() as u64,
        cases: results,
        unexplained,
        exercised,
    })
}

/// Adds what a scenario's traffic exercised: the commands it sent, the
/// final results and URCs it received (each explained by the catalogue).
fn count_traffic(exercised: &mut crate::outcome::Exercised, traffic: &[crate::outcome::Exchanged]) {
    use crate::checker::Explained;
    use crate::outcome::Direction;
    let mut last = String::new();
    for e in traffic {
        match e.direction {
            Direction::Sent => {
                if e.text.to_ascii_uppercase().starts_with("AT") || e.text == "+++" {
                    last = crate::runner::command_name(&e.text);
                    if !exercised.commands.contains(&last) {
                        exercised.commands.push(last.clone());
                    }
                }
            }
            // A completion (`+QHTTPPUT: 0,200`) is a URC even where the
            // command's own response templates would explain it.
            Direction::Received if crate::link::is_urc(&e.text) => {
                if let Some(Ok(u)) = fcm242d::generated::urcs::Urc::parse(&e.text) {
                    let label = u.kind().label();
                    if !exercised.urcs.iter().any(|x| x == label) {
                        exercised.urcs.push(label.to_string());
                    }
                    if let Some(code) = crate::report::coverage::codes_in_urc(&e.text) {
                        if !exercised.results.contains(&code) {
                            exercised.results.push(code);
                        }
                    }
                }
            }
            Direction::Received => match crate::checker::explain(&e.text, &last) {
                Explained::Final if !exercised.results.contains(&e.text) => {
                    exercised.results.push(e.text.clone());
                }
                Explained::Urc(label) if !exercised.urcs.iter().any(|u| u == label) => {
                    exercised.urcs.push(label.to_string());
                }
                _ => {}
            },
        }
    }
}

/// Starts the simulator in process, with the faults its world file asks for.
pub fn start_sim(world: fcm242d_sim::world::World) -> Box<dyn fcm242d::transport::Transport> {
    let faults = world
        .faults
        .as_ref()
        .map(|f| f.faults())
        .unwrap_or_else(fcm242d_sim::faults::Faults::none);
    let clock = std::sync::Arc::new(fcm242d_sim::clock::SystemClock);
    let (link, _module) = fcm242d_sim::serve::in_process_with(world, faults, clock);
    Box::new(link)
}

/// Puts the module on the environment's network, as in a test bench: joins
/// its access point and waits for the address.
pub fn bring_up(link: &mut Link, env: &crate::env::Env) -> Result<(), String> {
    let result = match crate::setup::recipe("wifi_sta_connected", None, env) {
        Some((up, _)) => crate::setup::run(link, &up).map(|_| ()),
        None => Err("no recipe joins the network".into()),
    };
    link.drain(Duration::from_millis(100), Duration::from_secs(1));
    link.take_transcript();
    result
}

/// The firmware version `AT+QVERSION` reports (empty when it does not).
fn firmware(link: &mut Link) -> String {
    link.send_line("AT+QVERSION", ConnectData::None, false);
    let a = link.answer(link.now() + Duration::from_secs(5));
    link.take_transcript();
    a.lines
        .iter()
        .find_map(|l| l.strip_prefix("+QVERSION:"))
        .map(|v| v.trim().to_string())
        .unwrap_or_default()
}

/// A case whose answers differ between two targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The case.
    pub id: String,
    /// The first target's verdict and answer.
    pub first: String,
    /// The second target's.
    pub second: String,
}

/// Where two runs of the same cases disagree: a different verdict, or a
/// different answer (information lines and final result; URCs are compared
/// by meaning, so their timing and order do not count).
pub fn compare(a: &RunReport, b: &RunReport) -> Vec<Difference> {
    let second: BTreeMap<&str, &CaseResult> = b.cases.iter().map(|c| (c.id.as_str(), c)).collect();
    let mut out = Vec::new();
    for x in &a.cases {
        let Some(y) = second.get(x.id.as_str()) else {
            continue;
        };
        let skipped = |c: &CaseResult| matches!(c.verdict, Verdict::Skip { .. });
        if skipped(x) && skipped(y) {
            continue;
        }
        if x.verdict.name() != y.verdict.name() || normalise(&x.answer) != normalise(&y.answer) {
            out.push(Difference {
                id: x.id.clone(),
                first: format!("{}: {}", x.verdict.name(), x.answer),
                second: format!("{}: {}", y.verdict.name(), y.answer),
            });
        }
    }
    out
}

/// An answer with the values the catalogue marks as varying masked, in an
/// order-free form: two answers with the same lines in another order are
/// equal.
fn normalise(answer: &str) -> Vec<String> {
    // Values the catalogue marks as varying (local ports, DHCP addresses,
    // signal strengths) do not count.
    let masked = crate::varying::mask(answer);
    let mut parts: Vec<String> = masked.split(" | ").map(str::to_string).collect();
    let last = parts.pop();
    parts.sort();
    parts.extend(last);
    parts
}

/// The differential report.
pub fn render_differences(a: &RunReport, b: &RunReport, d: &[Difference]) -> String {
    let mut s = format!(
        "\nDifferential: {} (firmware {}) vs {} (firmware {}): {} case(s) differ\n",
        a.target,
        if a.firmware.is_empty() {
            "?"
        } else {
            &a.firmware
        },
        b.target,
        if b.firmware.is_empty() {
            "?"
        } else {
            &b.firmware
        },
        d.len()
    );
    for x in d {
        s.push_str(&format!(
            "  {}\n    {}: {}\n    {}: {}\n",
            x.id, a.target, x.first, b.target, x.second
        ));
    }
    s
}

/// Live progress on a terminal: a bar, the current case, the counts.
pub struct Live {
    on: bool,
    /// Print one line per case (for logs).
    pub verbose: bool,
    counts: crate::outcome::Counts,
    last_draw: Option<Instant>,
}

impl Live {
    /// Progress drawn on standard error when `on`.
    pub fn new(on: bool) -> Live {
        Live {
            on,
            verbose: false,
            counts: crate::outcome::Counts::default(),
            last_draw: None,
        }
    }
}

impl Progress for Live {
    fn start(&mut self, index: usize, total: usize, id: &str) {
        if !self.on {
            return;
        }
        // Redraw at most 20 times a second.
        if self
            .last_draw
            .is_some_and(|t| t.elapsed() < Duration::from_millis(50))
        {
            return;
        }
        self.last_draw = Some(Instant::now());
        let width = 24;
        let filled = (index * width).checked_div(total).unwrap_or(0);
        let bar: String = "#".repeat(filled) + &"-".repeat(width - filled);
        let crate::outcome::Counts {
            passed: p,
            failed: f,
            errors: e,
            skipped: s,
        } = self.counts;
        let mut id = id.to_string();
        id.truncate(40);
        eprint!("\r[{bar}] {index:>5}/{total} pass {p} fail {f} error {e} skip {s}  {id:<40}");
        let _ = std::io::stderr().flush();
    }

    fn done(&mut self, r: &CaseResult) {
        if self.verbose {
            eprintln!(
                "{:<5} {:>6} ms  {}  {}",
                r.verdict.name(),
                r.duration_ms,
                r.id,
                r.verdict.reason().unwrap_or_default()
            );
        }
        self.counts.add(&r.verdict);
    }

    fn finish(&mut self) {
        if self.on {
            eprintln!("\r{:<110}", "");
        }
    }
}
