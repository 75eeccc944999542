//! The runner against the built-in simulator: a conforming module passes
//! every case it can run; a module with deliberate deviations (the
//! simulator's example quirk worlds) is caught, each deviation where it is,
//! and nothing else; fault injection does not change the verdicts; the
//! serial target works through the simulator's pseudo-terminal.

use std::collections::BTreeSet;
use std::path::PathBuf;

use fcm242d_conformance::outcome::{RunReport, Verdict};
use fcm242d_conformance::runner::{Options, Quiet};
use fcm242d_conformance::session;
use fcm242d_conformance::target::Target;

fn world(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../simulator/examples/worlds")
        .join(name)
}

fn commands(list: &[&str]) -> Options {
    Options {
        commands: list.iter().map(|s| s.to_string()).collect(),
        // QSCLK (low-power mode) is disruptive: the quirk worlds change it.
        allow: [fcm242d_conformance::case::Safety::Disruptive].into(),
        ..Options::default()
    }
}

fn run(target: Target, options: &Options, scenarios: bool) -> RunReport {
    session::run(&target, options, scenarios, &mut Quiet, None).expect("the run starts")
}

fn failing(r: &RunReport) -> BTreeSet<String> {
    r.cases
        .iter()
        .filter(|c| c.verdict.is_fail())
        .map(|c| c.id.clone())
        .collect()
}

fn describe(r: &RunReport) -> String {
    let mut s = String::new();
    for c in &r.cases {
        if let Verdict::Fail { reason } = &c.verdict {
            s.push_str(&format!("{}: {reason}\n", c.id));
        }
    }
    for u in &r.unexplained {
        s.push_str(&format!(
            "unexplained `{}` after `{}`: {}\n",
            u.line, u.after_command, u.reason
        ));
    }
    s
}

#[test]
fn the_whole_suite_passes_against_the_simulator() {
    let r = run(Target::Sim { world: None }, &Options::default(), true);
    assert!(!r.has_failures(), "{}", describe(&r));
    // Every scenario ran, except those the catalogue says cannot.
    let not_passed: Vec<_> = r
        .cases
        .iter()
        .filter(|c| c.group == "scenarios" && !matches!(c.verdict, Verdict::Pass))
        .map(|c| c.id.as_str())
        .collect();
    assert_eq!(
        not_passed,
        ["scenario.ble_connect_nrf_connect", "scenario.mqtt_with_ssl"]
    );
    let counts = r.counts();
    let (passed, skipped) = (counts.passed, counts.skipped);
    assert!(passed > 800, "only {passed} cases passed");
    // Every skip carries its reason.
    for c in &r.cases {
        if let Verdict::Skip { reason } = &c.verdict {
            assert!(!reason.is_empty(), "{} skipped without a reason", c.id);
        }
    }
    assert!(
        skipped < r.cases.len() / 3,
        "{skipped} of {} skipped",
        r.cases.len()
    );
    assert_eq!(r.firmware, "FCM242DAAR01A05_SIM");
}

/// Runs `commands` against the default world and against `world_file`:
/// the default world passes them all, and the quirky one fails exactly the
/// cases `expected` names (by id prefix), all of the given commands.
fn caught(world_file: &str, list: &[&str], expected: &[&str]) {
    let options = commands(list);
    let clean = run(Target::Sim { world: None }, &options, false);
    assert!(!clean.has_failures(), "{}", describe(&clean));
    let quirky = run(
        Target::Sim {
            world: Some(world(world_file)),
        },
        &options,
        false,
    );
    let failed = failing(&quirky);
    for e in expected {
        assert!(
            failed.iter().any(|f| f.starts_with(e)),
            "{world_file}: no failing case `{e}*`:\n{}",
            describe(&quirky)
        );
    }
    for f in &failed {
        assert!(
            expected.iter().any(|e| f.starts_with(e)),
            "{world_file}: unexpected failure {f}:\n{}",
            describe(&quirky)
        );
    }
}

#[test]
fn narrower_ranges_are_caught_and_nothing_else() {
    caught(
        "narrower-ranges.yaml",
        &["AT+QIOPEN", "AT+QSCLK", "AT+QVERSION"],
        &["qiopen.write", "qsclk.write.dtim.max"],
    );
}

#[test]
fn wider_ranges_are_caught_and_nothing_else() {
    caught(
        "wider-ranges.yaml",
        &["AT+QBLENAME", "AT+QSCLK", "AT+QVERSION"],
        &[
            "qblename.write.ble_name.too_long",
            "qsclk.write.dtim.above_max",
        ],
    );
}

#[test]
fn wrong_answers_are_caught_and_nothing_else() {
    caught(
        "wrong-answers.yaml",
        &["AT+QVERSION", "AT+QWLMAC", "AT+QECHO", "AT+QGETIP"],
        &["qversion.", "qwlmac.", "qecho.write."],
    );
}

#[test]
fn altered_responses_are_caught_and_nothing_else() {
    caught(
        "altered-responses.yaml",
        &["AT+QWLMAC", "AT+QSCLK", "AT+QBLENAME"],
        &["qwlmac.", "qsclk.read"],
    );
}

#[test]
fn altered_urcs_are_caught_and_nothing_else() {
    caught(
        "altered-urcs.yaml",
        &["AT+QPING", "AT+QVERSION"],
        &["qping.write"],
    );
}

/// Deviations in the groups whose core once went unjudged (MQTT, the BLE
/// GATT server) and in HTTP and SSL, each in a world of its own, run with
/// the group's cases and every scenario: each run fails, at the cases that
/// see the deviation. Some of them only a scenario can see (the UUID of
/// data a phone writes to the module).
#[test]
fn deviations_in_mqtt_ble_http_and_ssl_are_caught() {
    let dir = std::env::temp_dir().join(format!("fcm242d-deviations-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let worlds: [(&str, &str, &[&str]); 4] = [
        (
            "mqtt",
            // A subscription refused (<result> 2) although the broker granted it.
            "quirks:\n  - urc: \"+QMTSUB\"\n    field: 2\n    replace: \"2\"\n",
            &["qmtrecv.write"],
        ),
        (
            "ble",
            // Data a phone writes arrives under another characteristic.
            "quirks:\n  - urc: \"+QBLERECV\"\n    field: 1\n    replace: \"\\\"zzzz\\\"\"\n",
            &["scenario.ble_send_data_to_module"],
        ),
        (
            "http",
            // The completion of a GET never comes.
            "quirks:\n  - urc: \"+QHTTPGET\"\n    suppress: true\n",
            &["qhttpget.write"],
        ),
        (
            "ssl",
            // Every SSL connection fails to open (565, DNS).
            "quirks:\n  - urc: \"+QSSLOPEN\"\n    field: 1\n    replace: \"565\"\n",
            &["qsslsend.write_connect_id"],
        ),
    ];
    for (group, yaml, expected) in worlds {
        let path = dir.join(format!("{group}.yaml"));
        std::fs::write(&path, yaml).unwrap();
        let options = Options {
            groups: vec![group.to_string(), "scenarios".to_string()],
            ..Options::default()
        };
        let r = run(Target::Sim { world: Some(path) }, &options, true);
        assert!(!r.passed(), "{group}: the run passed");
        let failed = failing(&r);
        for e in expected {
            assert!(
                failed.iter().any(|f| f.starts_with(e)),
                "{group}: no failing case `{e}*`:\n{}",
                describe(&r)
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_late_answer_is_caught() {
    caught(
        "late-answers.yaml",
        &["AT+QVERSION", "AT+QWLMAC"],
        &["qversion."],
    );
}

/// Against a module that is not reset between cases (the simulator on its
/// pseudo-terminal, real time), an `OK` to AT+QVERSION that comes late
/// (after the version line, limit 300 ms) fails that case with the time it
/// took, and is not taken by the cases after it.
///
/// Real time on a loaded machine only makes answers later, never earlier,
/// so the delay sits just past the allowance (300 ms + 130 ms tolerance):
/// however slow the machine, the answer is late, and it has most of the
/// runner's late window (2 s past the allowance) to arrive in before it
/// would miss its case. The time reported is checked against the delay,
/// not against a fixed figure a slow machine could exceed.
#[test]
fn a_late_answer_on_a_serial_link_stays_with_its_case() {
    use fcm242d_conformance::runner::{late_window, tolerance};
    let limit = std::time::Duration::from_millis(300);
    let delay = limit + tolerance(limit) + std::time::Duration::from_millis(150);
    assert!(
        delay + std::time::Duration::from_millis(1500)
            < limit + tolerance(limit) + late_window(limit)
    );
    let world = fcm242d_sim::world::World::from_yaml(&format!(
        "quirks:\n  - command: AT+QVERSION\n    delay_ms: {}\n",
        delay.as_millis()
    ))
    .expect("the world");
    let (path, _serving) = fcm242d_sim::pty::spawn(world).expect("a pty");
    let options = commands(&["AT+QVERSION", "AT+QWLMAC", "AT+QECHO"]);
    let r = run(
        Target::Pty {
            path: path.display().to_string(),
        },
        &options,
        false,
    );
    let failed = failing(&r);
    assert_eq!(
        failed,
        BTreeSet::from(["qversion.execute".to_string()]),
        "{}",
        describe(&r)
    );
    let late = r.cases.iter().find(|c| c.id == "qversion.execute").unwrap();
    let Verdict::Fail { reason } = &late.verdict else {
        unreachable!()
    };
    let took: u128 = reason
        .split_once("answered after ")
        .and_then(|(_, rest)| rest.split_once(" ms"))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("no time in {reason}"));
    assert!(took >= delay.as_millis(), "{reason}");
    assert!(reason.contains("the catalogue allows 300 ms"), "{reason}");
    assert!(r.unexplained.is_empty(), "{}", describe(&r));
    assert!(r.counts().passed >= 5, "{}", describe(&r));
}

#[test]
fn fault_injection_does_not_change_the_verdicts() {
    let options = commands(&["AT+QICFG", "AT+QFOPEN", "AT+QVERSION", "AT+QIOPEN"]);
    let clean = run(Target::Sim { world: None }, &options, false);
    let dir = std::env::temp_dir().join(format!("fcm242d-faults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("faulty.yaml");
    // Delays and fragmented output, and harmless URCs at the worst moments:
    // a conforming module with a slow, chatty UART.
    std::fs::write(
        &path,
        "faults: \"delay=0..20ms,fragment=1..8,urc=0.05,seed=7\"\n",
    )
    .unwrap();
    let faulty = run(Target::Sim { world: Some(path) }, &options, false);
    let verdicts = |r: &RunReport| -> Vec<(String, &'static str)> {
        r.cases
            .iter()
            .map(|c| (c.id.clone(), c.verdict.name()))
            .collect()
    };
    assert_eq!(verdicts(&clean), verdicts(&faulty), "{}", describe(&faulty));
    assert!(faulty.unexplained.is_empty(), "{}", describe(&faulty));
}

#[test]
fn the_serial_target_works_through_the_simulators_pty() {
    let (path, _serving) =
        fcm242d_sim::pty::spawn(fcm242d_sim::world::World::default()).expect("a pty");
    let options = commands(&["AT+QVERSION", "AT+QICFG", "AT+QFOPEN"]);
    let r = run(
        Target::Pty {
            path: path.display().to_string(),
        },
        &options,
        false,
    );
    assert!(!r.has_failures(), "{}", describe(&r));
    assert!(r.counts().passed > 20);
    assert_eq!(r.firmware, "FCM242DAAR01A05_SIM");
}

#[test]
fn differential_mode_reports_only_real_differences() {
    let options = commands(&["AT+QVERSION", "AT+QWLMAC", "AT+QICFG"]);
    let a = run(Target::Sim { world: None }, &options, false);
    let b = run(Target::Sim { world: None }, &options, false);
    assert!(session::compare(&a, &b).is_empty());
    let c = run(
        Target::Sim {
            world: Some(world("wrong-answers.yaml")),
        },
        &options,
        false,
    );
    let d = session::compare(&a, &c);
    assert!(!d.is_empty());
    assert!(
        d.iter()
            .all(|x| x.id.starts_with("qversion.") || x.id.starts_with("qwlmac.")),
        "{d:?}"
    );
}
