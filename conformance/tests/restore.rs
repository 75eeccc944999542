//! Against a module (the simulator on its pseudo-terminal: real time, no
//! reset between cases), what a case or its set-up leaves open is closed
//! and read back ([`fcm242d_conformance::restore`]); a restore that fails
//! is an `error` of the case. The cases pass the same as in process.

use std::collections::BTreeMap;
use std::time::Duration;

use fcm242d_conformance::env::Env;
use fcm242d_conformance::generated::cases::CASES;
use fcm242d_conformance::link::Link;
use fcm242d_conformance::outcome::{Direction, RunReport, Verdict};
use fcm242d_conformance::restore::{self, Held};
use fcm242d_conformance::runner::{Options, Quiet};
use fcm242d_conformance::target::Target;
use fcm242d_conformance::{session, setup};
use fcm242d_sim::world::World;

fn pty_target(world: World) -> (Target, std::thread::JoinHandle<()>) {
    let (path, serving) = fcm242d_sim::pty::spawn(world).expect("a pty");
    let target = Target::Pty {
        path: path.display().to_string(),
    };
    (target, serving)
}

fn run(target: &Target, options: &Options) -> RunReport {
    session::run(target, options, false, &mut Quiet, None).expect("the run starts")
}

/// A link to a fresh simulated module on its pseudo-terminal, on the
/// environment's network, and what it holds.
fn module() -> (Link, std::thread::JoinHandle<()>, Env, Held) {
    let (target, serving) = pty_target(World::default());
    let mut link = Link::new(target.open().expect("the pty opens"));
    assert!(link.resync(3));
    let env = Env::default();
    session::bring_up(&mut link, &env).expect("on the network");
    let before = Held::read(&mut link);
    link.take_transcript();
    (link, serving, env, before)
}

/// Reaches `state` as a case's set-up or line would, and leaves it.
fn leave(link: &mut Link, env: &Env, state: &str, id: &str) {
    let (up, _) = setup::recipe(state, Some(id), env).expect("a recipe");
    setup::run(link, &up).unwrap_or_else(|e| panic!("{state}: {e}"));
    link.take_transcript();
}

fn sent(link: &mut Link) -> Vec<String> {
    link.take_transcript()
        .into_iter()
        .filter(|e| e.direction == Direction::Sent)
        .map(|e| e.text)
        .collect()
}

/// Puts the module back and checks that it holds what it held before,
/// having sent `closes` (in this order) and read the module back after.
fn restored(link: &mut Link, env: &Env, before: &Held, closes: &[&str]) {
    let r = restore::put_back(link, before, env, Duration::from_millis(1000));
    assert!(r.problems.is_empty(), "{:?}", r.problems);
    assert!(r.strays.is_empty(), "{:?}", r.strays);
    assert_eq!(&r.held, before);
    let lines = sent(link);
    let mut at = 0;
    for c in closes {
        at += lines[at..]
            .iter()
            .position(|l| l.starts_with(c))
            .unwrap_or_else(|| panic!("`{c}` not sent in order: {lines:?}"));
    }
    // Read back after the last close: the listing of every kind again.
    assert!(
        lines[at..].iter().any(|l| l == "AT+QISTATE?")
            && lines[at..].iter().any(|l| l == "AT+QFLST"),
        "{lines:?}"
    );
    // Nothing more to do: the module is as before.
    let again = restore::put_back(link, before, env, Duration::from_millis(1000));
    assert!(again.problems.is_empty(), "{:?}", again.problems);
    assert!(
        !sent(link)
            .iter()
            .any(|l| !l.ends_with('?') && l != "AT+QFLST" && l != "AT+QBLESTAT"),
        "a second restore closed something"
    );
}

#[test]
fn a_socket_left_open_is_closed_and_read_back() {
    let (mut link, _serving, env, before) = module();
    leave(&mut link, &env, "socket_open", "3");
    leave(&mut link, &env, "udp_service_open", "4");
    restored(&mut link, &env, &before, &["AT+QICLOSE=3", "AT+QICLOSE=4"]);
}

#[test]
fn transparent_mode_is_left_and_its_socket_closed() {
    let (mut link, _serving, env, before) = module();
    leave(&mut link, &env, "transparent_mode", "0");
    assert!(link.is_transparent());
    restored(&mut link, &env, &before, &["+++", "AT+QICLOSE=0"]);
    assert!(!link.is_transparent());
}

#[test]
fn ssl_mqtt_ble_and_files_are_put_back() {
    let (mut link, _serving, env, before) = module();
    leave(&mut link, &env, "ssl_open", "2");
    leave(&mut link, &env, "mqtt_connected", "1");
    leave(&mut link, &env, "ble_advertising", "0");
    leave(&mut link, &env, "file_exists", "left.txt");
    leave(&mut link, &env, "file_open", "0");
    eprintln!(
        "BEFORE {before:?}\nNOW {:?}\n{:?}",
        Held::read(&mut link),
        link.take_transcript()
    );
    restored(
        &mut link,
        &env,
        &before,
        &[
            "AT+QMTDISC=1",
            "AT+QSSLCLOSE=2",
            "AT+QBLEINIT=0",
            "AT+QFCLOSE=",
            "AT+QFDEL=\"conformance.txt\"",
            "AT+QFDEL=\"left.txt\"",
        ],
    );
}

/// A module that refuses `AT+QICLOSE` (and does not close): the case that
/// opened the socket passes its own check but gets an `error` naming the
/// socket and the refusal; the case after it is not charged with it.
#[test]
fn a_restore_that_fails_is_the_cases_error() {
    let world = World::from_yaml("quirks:\n  - command: AT+QICLOSE\n    answer: ERROR\n")
        .expect("the world");
    let (target, _serving) = pty_target(world);
    let options = Options {
        names: vec!["qiopen.write.connect_id.max".into(), "qversion".into()],
        ..Options::default()
    };
    let r = run(&target, &options);
    let verdicts: BTreeMap<&str, &Verdict> = r
        .cases
        .iter()
        .map(|c| (c.id.as_str(), &c.verdict))
        .collect();
    let Some(Verdict::Error { reason }) = verdicts.get("qiopen.write.connect_id.max") else {
        panic!("{verdicts:?}");
    };
    assert!(reason.starts_with("restore failed: "), "{reason}");
    assert!(
        reason.contains("socket 11 is still there (`AT+QICLOSE=11` answered ERROR)"),
        "{reason}"
    );
    for (id, v) in &verdicts {
        if id.starts_with("qversion") {
            assert_eq!(**v, Verdict::Pass, "{id}");
        }
    }
    // The error keeps its transcript, the restore's lines included.
    let c = r
        .cases
        .iter()
        .find(|c| c.id == "qiopen.write.connect_id.max")
        .unwrap();
    assert!(c.exchanged.iter().any(|e| e.text == "AT+QISTATE?"));
}

/// The groups whose cases open things, run against the module: every case
/// that ran in process has the same verdict and reason (the module runs
/// only `safe` and `stateful` cases), and no restore failed. Among them
/// AT+QBLEGATTSNTFY, whose set-up waits for the world's phone to connect.
#[test]
fn cases_pass_against_a_module_as_in_process() {
    let commands: std::collections::BTreeSet<String> = CASES
        .iter()
        .filter(|c| ["tcpip", "ble"].contains(&c.group))
        .map(|c| c.command.to_string())
        .collect();
    let options = Options {
        commands: commands.into_iter().collect(),
        ..Options::default()
    };
    let in_process = run(&Target::Sim { world: None }, &options);
    let (target, _serving) = pty_target(World::default());
    let module = run(&target, &options);
    let verdict = |c: &fcm242d_conformance::outcome::CaseResult| {
        format!(
            "{} {}",
            c.verdict.name(),
            c.verdict.reason().unwrap_or_default()
        )
    };
    let first: BTreeMap<&str, String> = in_process
        .cases
        .iter()
        .map(|c| (c.id.as_str(), verdict(c)))
        .collect();
    let mut differences = Vec::new();
    for c in &module.cases {
        let v = verdict(c);
        if first.get(c.id.as_str()) != Some(&v) {
            differences.push(format!(
                "{}: {:?} in process, {v} on the pty",
                c.id,
                first.get(c.id.as_str())
            ));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    assert!(module.cases.len() > 300, "{}", module.cases.len());
    assert!(module.unexplained.is_empty(), "{:?}", module.unexplained);
}

/// Scenarios against the module are put back too: those that open sockets,
/// SSL and MQTT connections pass there as in process, with nothing left.
#[test]
fn scenarios_pass_against_a_module_as_in_process() {
    let options = Options {
        groups: vec!["scenarios".into()],
        names: [
            "tcp_transparent_mode",
            "ssl_client_buffer_access",
            "ssl_client_transparent_receive",
            "mqtt_without_ssl",
            "http_get",
        ]
        .map(String::from)
        .to_vec(),
        ..Options::default()
    };
    let scenarios = |target: &Target| {
        session::run(target, &options, true, &mut Quiet, None)
            .expect("the run starts")
            .cases
            .into_iter()
            .map(|c| (c.id, c.verdict))
            .collect::<BTreeMap<_, _>>()
    };
    let in_process = scenarios(&Target::Sim { world: None });
    assert_eq!(in_process.len(), 5, "{in_process:?}");
    assert!(
        in_process.values().all(|v| *v == Verdict::Pass),
        "{in_process:?}"
    );
    let (target, _serving) = pty_target(World::default());
    assert_eq!(scenarios(&target), in_process);
}
