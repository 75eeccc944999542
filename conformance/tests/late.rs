//! Time limits and late answers, against a scripted module on a virtual
//! clock (a real module is not reset between cases, so what it says late
//! can reach the next case): an answer within the catalogue's limit and the
//! runner's tolerance passes, one after it fails naming the time; a late
//! answer is taken by the case it belongs to; a final result that comes
//! when no command waits for one never passes the next case, and is
//! reported with the case whose command got no answer.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fcm242d::transport::Transport;
use fcm242d_conformance::generated::cases::CASES;
use fcm242d_conformance::link::Link;
use fcm242d_conformance::outcome::{CaseResult, Unexplained, Verdict};
use fcm242d_conformance::runner::{late_window, tolerance, Options, Runner};
use fcm242d_conformance::simtarget::Control;

const VERSION: &str = "\r\n+QVERSION: FCM242DAAR01A05_SIM\r\n";
const MAC: &str = "\r\n+QWLMAC: \"88003377696c\"\r\n";
const OK: &str = "\r\nOK\r\n";

/// When a piece of an answer comes out.
#[derive(Clone, Copy)]
enum When {
    /// This long after the command.
    After(Duration),
    /// When the next command line arrives, before its own answer (a module
    /// that holds a late answer in its UART buffer).
    AtNextCommand,
}

/// A module that answers `AT`, `AT+QVERSION` and `AT+QWLMAC`; the pieces of
/// `AT+QVERSION`'s answer come as `version` says.
struct Module {
    now: Instant,
    /// Output due at a time.
    due: Vec<(Instant, String)>,
    /// Output that comes with the next command.
    held: Vec<String>,
    out: VecDeque<u8>,
    input: Vec<u8>,
    version: Vec<(When, &'static str)>,
    mac: Vec<(When, &'static str)>,
}

impl Module {
    fn command(&mut self, line: &str) {
        let now = self.now;
        for h in std::mem::take(&mut self.held) {
            self.out.extend(h.bytes());
        }
        let answer: Vec<(When, &str)> = match line {
            "AT" => vec![(When::After(Duration::ZERO), OK)],
            "AT+QWLMAC" => self.mac.clone(),
            "AT+QVERSION" => self.version.clone(),
            _ => vec![(When::After(Duration::ZERO), "\r\nERROR\r\n")],
        };
        for (when, text) in answer {
            match when {
                When::After(d) => self.due.push((now + d, text.to_string())),
                When::AtNextCommand => self.held.push(text.to_string()),
            }
        }
        self.due.sort_by_key(|(t, _)| *t);
    }

    /// Moves what is due to the output.
    fn release(&mut self) {
        while self.due.first().is_some_and(|(t, _)| *t <= self.now) {
            let (_, text) = self.due.remove(0);
            self.out.extend(text.bytes());
        }
    }
}

type Shared = Arc<Mutex<Module>>;

struct Uart(Shared);

impl Transport for Uart {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut m = self.0.lock().unwrap();
        for &b in bytes {
            if b == b'\r' {
                let line = String::from_utf8_lossy(&m.input).into_owned();
                m.input.clear();
                m.command(&line);
            } else {
                m.input.push(b);
            }
        }
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        let mut m = self.0.lock().unwrap();
        m.release();
        if m.out.is_empty() {
            // Nothing yet: time passes up to the next output or the timeout.
            let until = m.now + timeout;
            m.now = match m.due.first() {
                Some((t, _)) if *t < until => *t,
                _ => until,
            };
            m.release();
        }
        let n = buf.len().min(m.out.len());
        for (slot, b) in buf.iter_mut().zip(m.out.drain(..n)) {
            *slot = b;
        }
        Ok(n)
    }

    fn describe(&self) -> String {
        "scripted".into()
    }
}

struct Clock(Shared);

impl Control for Clock {
    fn now(&self) -> Instant {
        self.0.lock().unwrap().now
    }

    fn pause(&mut self, duration: Duration) {
        let mut m = self.0.lock().unwrap();
        m.now += duration;
        m.release();
    }

    fn reset(&mut self) -> bool {
        false
    }

    fn can_reset(&self) -> bool {
        false
    }
}

/// Runs `qversion.execute` and then `qwlmac.execute` against a module whose
/// `AT+QVERSION` answers as `version` says.
fn run(version: Vec<(When, &'static str)>) -> (Vec<CaseResult>, Vec<Unexplained>) {
    run_with(version, vec![(ms(20), MAC), (ms(20), OK)])
}

/// As [`run`], with `AT+QWLMAC` answered as `mac` says.
fn run_with(
    version: Vec<(When, &'static str)>,
    mac: Vec<(When, &'static str)>,
) -> (Vec<CaseResult>, Vec<Unexplained>) {
    let module = Arc::new(Mutex::new(Module {
        now: Instant::now(),
        due: Vec::new(),
        held: Vec::new(),
        out: VecDeque::new(),
        input: Vec::new(),
        version,
        mac,
    }));
    let mut link = Link::with_control(Box::new(Uart(module.clone())), Box::new(Clock(module)));
    let options = Options::default();
    let mut runner = Runner::new(&mut link, &options);
    let mut results = Vec::new();
    for id in ["qversion.execute", "qwlmac.execute"] {
        let case = CASES.iter().find(|c| c.id == id).expect("the case exists");
        results.push(runner.run_case(case));
    }
    (results, runner.unexplained)
}

fn ms(n: u64) -> When {
    When::After(Duration::from_millis(n))
}

fn reason(r: &CaseResult) -> String {
    match &r.verdict {
        Verdict::Fail { reason } => reason.clone(),
        other => panic!("{}: expected a failure, got {other:?}", r.id),
    }
}

/// The catalogue's limit of `AT+QVERSION` (300 ms) and the runner's allowance.
fn allowance() -> Duration {
    let limit = Duration::from_millis(300);
    limit + tolerance(limit)
}

#[test]
fn an_answer_within_the_limit_and_the_tolerance_passes() {
    let on_time = allowance().as_millis() as u64 - 10;
    let (results, unexplained) = run(vec![(ms(0), VERSION), (ms(on_time), OK)]);
    assert!(
        results.iter().all(|r| r.verdict == Verdict::Pass),
        "{results:?}"
    );
    assert!(unexplained.is_empty(), "{unexplained:?}");
}

#[test]
fn an_answer_past_the_tolerance_fails_naming_its_time_and_the_limit() {
    let late = allowance().as_millis() as u64 + 20;
    let (results, unexplained) = run(vec![(ms(0), VERSION), (ms(late), OK)]);
    let why = reason(&results[0]);
    assert!(why.contains(&format!("answered after {late} ms")), "{why}");
    assert!(why.contains("300 ms"), "{why}");
    assert!(why.contains("spec/general.yaml AT+QVERSION"), "{why}");
    // The late OK was this case's: the next one is judged on its own.
    assert_eq!(results[1].verdict, Verdict::Pass, "{results:?}");
    assert!(unexplained.is_empty(), "{unexplained:?}");
}

#[test]
fn an_answer_a_second_late_is_taken_by_its_own_case() {
    // The simulator's late-answers world: `OK` 1 s after the version.
    let (results, unexplained) = run(vec![(ms(0), VERSION), (ms(1000), OK)]);
    assert!(reason(&results[0]).contains("answered after 1000 ms"));
    assert_eq!(results[1].verdict, Verdict::Pass, "{results:?}");
    assert!(unexplained.is_empty(), "{unexplained:?}");
}

#[test]
fn an_answer_after_the_window_is_reported_with_its_case_not_taken_by_the_next() {
    // No OK in time; the module lets it out with the next command (the
    // runner's re-synchronising `AT`).
    let window = allowance() + late_window(Duration::from_millis(300));
    assert!(window < Duration::from_secs(3));
    let (results, unexplained) = run(vec![(ms(0), VERSION), (When::AtNextCommand, OK)]);
    assert!(
        reason(&results[0]).contains("no final result"),
        "{results:?}"
    );
    assert_eq!(results[1].verdict, Verdict::Pass, "{results:?}");
    assert_eq!(unexplained.len(), 1, "{unexplained:?}");
    assert_eq!(unexplained[0].line, "OK");
    assert_eq!(unexplained[0].case, "qversion.execute");
    assert!(
        unexplained[0]
            .reason
            .contains("late answer of `AT+QVERSION`"),
        "{unexplained:?}"
    );
}

#[test]
fn a_stale_ok_never_passes_the_next_case() {
    // The version and OK on time, and a second OK that the module lets out
    // before the next command's answer: the next case takes it, then its
    // own answer comes.
    let (results, unexplained) = run(vec![
        (ms(0), VERSION),
        (ms(0), OK),
        (When::AtNextCommand, OK),
    ]);
    assert_eq!(results[0].verdict, Verdict::Pass, "{results:?}");
    let why = reason(&results[1]);
    assert!(why.contains("another final result (OK)"), "{why}");
    assert!(
        unexplained
            .iter()
            .any(|u| u.line == "OK" && u.reason.contains("no command waited for")),
        "{unexplained:?}"
    );
}

#[test]
fn an_ok_without_the_line_the_form_prints_fails() {
    let (results, unexplained) = run_with(vec![(ms(0), VERSION), (ms(0), OK)], vec![(ms(0), OK)]);
    assert_eq!(results[0].verdict, Verdict::Pass, "{results:?}");
    let why = reason(&results[1]);
    assert!(why.contains("without the `+QWLMAC:` line"), "{why}");
    assert!(why.contains("spec/general.yaml AT+QWLMAC"), "{why}");
    assert!(unexplained.is_empty(), "{unexplained:?}");
}
