//! Quirks: deliberate deviations set in the world file. Each kind changes
//! exactly what it says (the same command without the quirk behaves
//! normally, other commands are unaffected), the example world files load,
//! and an invalid quirk is an error naming it.
//!
//! Most tests drive `Module::input` / `poll` with explicit instants, so no
//! assertion depends on the wall clock.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use fcm242d::transport::Transport;
use fcm242d_sim::module::Module;
use fcm242d_sim::serve::in_process;
use fcm242d_sim::world::World;

/// A module in the default world plus `quirks` (a YAML list).
fn module(quirks: &str) -> Module {
    let yaml = format!("quirks:\n{quirks}");
    Module::new(World::from_yaml(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}")))
}

/// Sends one command line; returns what the module writes at once.
fn ask(m: &mut Module, line: &str, now: Instant) -> String {
    String::from_utf8_lossy(&m.input(format!("{line}\r\n").as_bytes(), now)).into_owned()
}

/// Polls the module at `now`.
fn poll(m: &mut Module, now: Instant) -> String {
    String::from_utf8_lossy(&m.poll(now)).into_owned()
}

/// The answers of a default module and of `m` to the same lines.
fn same_as_default(m: &mut Module, lines: &[&str]) {
    let mut plain = Module::new(World::default());
    let now = Instant::now();
    for l in lines {
        assert_eq!(ask(m, l, now), ask(&mut plain, l, now), "{l}");
    }
}

const OK: &str = "\r\nOK\r\n";
const ERROR: &str = "\r\nERROR\r\n";

#[test]
fn a_narrower_range_refuses_catalogue_values_outside_it() {
    let mut m = module(
        "  - command: AT+QSCLK\n    form: write\n    param: dtim\n    range: {min: 1, max: 10}\n",
    );
    let now = Instant::now();
    assert_eq!(ask(&mut m, "AT+QSCLK=1,10", now), OK);
    assert_eq!(ask(&mut m, "AT+QSCLK=1,11", now), ERROR);
    assert_eq!(ask(&mut m, "AT+QSCLK=1,30", now), ERROR);
    // The refused value was not applied.
    assert_eq!(
        ask(&mut m, "AT+QSCLK?", now),
        "\r\n+QSCLK: 1,10\r\n\r\nOK\r\n"
    );
    // Without the quirk the same values are taken; the other parameter,
    // other forms and other commands are unaffected.
    let mut plain = Module::new(World::default());
    assert_eq!(ask(&mut plain, "AT+QSCLK=1,30", now), OK);
    same_as_default(
        &mut m,
        &[
            "AT+QSCLK=0",
            "AT+QSCLK=4",
            "AT+QSCLK=?",
            "AT+QVERSION",
            "AT+QECHO=1",
        ],
    );
}

#[test]
fn a_narrower_range_on_a_network_command_refuses_before_connecting() {
    let quirk = "  - command: AT+QIOPEN\n    param: remote_port\n    range: {min: 1, max: 1000}\n";
    let open = |port: u16| format!("AT+QIOPEN=0,\"TCP\",\"192.0.2.2\",{port},0,0");
    let mut m = module(quirk);
    let now = Instant::now();
    assert_eq!(
        ask(&mut m, r#"AT+QSTAAPINFO="sim-ap","sim-password""#, now),
        OK
    );
    // Once the station has its address (`+QSTASTAT: "GOT_IP"`).
    let later = now + Duration::from_millis(100);
    assert_eq!(ask(&mut m, &open(8009), later), ERROR);
    assert_eq!(ask(&mut m, &open(7), later), OK);
    let mut plain = Module::new(World::default());
    ask(&mut plain, r#"AT+QSTAAPINFO="sim-ap","sim-password""#, now);
    assert_eq!(ask(&mut plain, &open(8009), later), OK);
}

#[test]
fn a_wider_range_accepts_values_beyond_the_catalogue() {
    let mut m = module("  - command: AT+QSCLK\n    param: dtim\n    range: {min: 1, max: 60}\n");
    let now = Instant::now();
    assert_eq!(ask(&mut m, "AT+QSCLK=1,45", now), OK);
    // Applied as the nearest value the catalogue allows.
    assert_eq!(
        ask(&mut m, "AT+QSCLK?", now),
        "\r\n+QSCLK: 1,30\r\n\r\nOK\r\n"
    );
    assert_eq!(ask(&mut m, "AT+QSCLK=1,61", now), ERROR);
    // Other faults of the line are still refused.
    assert_eq!(ask(&mut m, "AT+QSCLK=9,45", now), ERROR);
    let mut plain = Module::new(World::default());
    assert_eq!(ask(&mut plain, "AT+QSCLK=1,45", now), ERROR);
    same_as_default(&mut m, &["AT+QSCLK=1,5", "AT+QSCLK=1,0", "AT+QSCLK=?"]);
}

#[test]
fn a_wider_length_accepts_longer_strings() {
    let mut m =
        module("  - command: AT+QBLENAME\n    param: BLE_name\n    range: {min: 0, max: 40}\n");
    let now = Instant::now();
    let name = "abcdefghijklmnopqrstuvwxyz0123"; // 30 bytes; the catalogue allows 25
    assert_eq!(ask(&mut m, &format!("AT+QBLENAME=\"{name}\""), now), OK);
    assert_eq!(
        ask(&mut m, "AT+QBLENAME?", now),
        format!("\r\n+QBLENAME: \"{}\"\r\n\r\nOK\r\n", &name[..25])
    );
    let too_long = "x".repeat(41);
    assert_eq!(
        ask(&mut m, &format!("AT+QBLENAME=\"{too_long}\""), now),
        ERROR
    );
    let mut plain = Module::new(World::default());
    assert_eq!(
        ask(&mut plain, &format!("AT+QBLENAME=\"{name}\""), now),
        ERROR
    );
    same_as_default(&mut m, &["AT+QBLENAME=\"short\"", "AT+QBLENAME?"]);
}

#[test]
fn an_error_answer_replaces_the_reply_and_skips_the_command() {
    let mut m = module(
        "  - command: AT+QVERSION\n    answer: ERROR\n  - command: AT+QSCLK\n    form: write\n    answer: \"+CME ERROR: 703\"\n",
    );
    let now = Instant::now();
    assert_eq!(ask(&mut m, "AT+QVERSION", now), ERROR);
    assert_eq!(ask(&mut m, "AT+QSCLK=1,5", now), "\r\n+CME ERROR: 703\r\n");
    // The write was not carried out; the read form is not targeted.
    assert_eq!(ask(&mut m, "AT+QSCLK?", now), "\r\n+QSCLK: 0\r\n\r\nOK\r\n");
    same_as_default(&mut m, &["AT", "AT+QWLMAC", "AT+QSCLK?", "AT+QECHO=1"]);
}

#[test]
fn another_answer_replaces_only_the_final_result() {
    let mut m = module("  - command: AT+QECHO\n    answer: OK\n  - command: AT+QWLMAC\n    answer: ERROR\n  - command: AT+QSCLK\n    form: read\n    answer: SEND FAIL\n");
    let now = Instant::now();
    // Out of range: refused, but the answer says OK.
    assert_eq!(ask(&mut m, "AT+QECHO=2", now), OK);
    assert_eq!(ask(&mut m, "AT+QWLMAC", now), ERROR);
    assert_eq!(
        ask(&mut m, "AT+QSCLK?", now),
        "\r\n+QSCLK: 0\r\n\r\nSEND FAIL\r\n"
    );
    same_as_default(&mut m, &["AT+QVERSION", "AT+QSCLK=1,5"]);
}

#[test]
fn a_response_field_is_dropped_or_replaced() {
    let mut m = module(
        "  - response: \"+QWLMAC\"\n    field: 0\n    replace: zz\n  - response: \"+QSCLK\"\n    field: 0\n    drop: true\n",
    );
    let now = Instant::now();
    assert_eq!(
        ask(&mut m, "AT+QWLMAC", now),
        "\r\n+QWLMAC: zz\r\n\r\nOK\r\n"
    );
    assert_eq!(ask(&mut m, "AT+QSCLK=1,5", now), OK);
    assert_eq!(ask(&mut m, "AT+QSCLK?", now), "\r\n+QSCLK: 5\r\n\r\nOK\r\n");
    assert_eq!(ask(&mut m, "AT+QSCLK=0", now), OK);
    assert_eq!(ask(&mut m, "AT+QSCLK?", now), "\r\n+QSCLK:\r\n\r\nOK\r\n");
    same_as_default(&mut m, &["AT+QVERSION", "AT+QBLENAME?", "AT+QECHO=1"]);
}

/// Joins the world's access point at `now` and returns the URCs printed
/// within the next second.
fn join(m: &mut Module, now: Instant) -> String {
    assert_eq!(ask(m, r#"AT+QSTAAPINFO="sim-ap","sim-password""#, now), OK);
    poll(m, now + Duration::from_secs(1))
}

#[test]
fn a_urc_is_suppressed_malformed_or_edited() {
    let now = Instant::now();
    let normal = join(&mut Module::new(World::default()), now);
    assert_eq!(
        normal,
        "\r\n+QSTASTAT: \"WLAN_CONNECTED\"\r\n\r\n+QSTASTAT: \"GOT_IP\"\r\n"
    );
    let mut m = module("  - urc: \"+QSTASTAT\"\n    suppress: true\n");
    assert_eq!(join(&mut m, now), "");
    let mut m = module("  - urc: \"+QSTASTAT\"\n    malform: \"+QSTASTAT: ???\"\n");
    assert_eq!(
        join(&mut m, now),
        "\r\n+QSTASTAT: ???\r\n\r\n+QSTASTAT: ???\r\n"
    );
    let mut m = module("  - urc: \"+QSTASTAT\"\n    field: 0\n    replace: GOT_IP\n");
    assert_eq!(
        join(&mut m, now),
        "\r\n+QSTASTAT: GOT_IP\r\n\r\n+QSTASTAT: GOT_IP\r\n"
    );
    // A quirk on another URC leaves these alone.
    let mut m = module("  - urc: '+QIURC: \"closed\"'\n    suppress: true\n");
    assert_eq!(join(&mut m, now), normal);
    // Responses that share a prefix with a URC are not URCs.
    let mut m = module("  - urc: \"+QPING\"\n    suppress: true\n");
    same_as_default(&mut m, &["AT+QVERSION"]);
}

/// Polls until `f` holds for the output so far (real sockets), or panics.
fn poll_until(m: &mut Module, what: &str, f: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = String::new();
    while !f(&seen) {
        assert!(Instant::now() < deadline, "no {what}; seen {seen:?}");
        std::thread::sleep(Duration::from_millis(10));
        seen.push_str(&poll(m, Instant::now()));
    }
    seen
}

#[test]
fn urcs_the_network_causes_are_changed_too() {
    // The echo server at 192.0.2.2:8009 greets with "Test 1"; in direct
    // push mode it comes in a `recv` URC with its data block.
    let open = |quirks: Option<&str>, mode: u8| {
        let mut m = match quirks {
            Some(q) => module(q),
            None => Module::new(World::default()),
        };
        let now = Instant::now();
        join(&mut m, now);
        let open = format!(r#"AT+QIOPEN=0,"TCP","192.0.2.2",8009,0,{mode}"#);
        // Once the station has its address (`+QSTASTAT: "GOT_IP"`).
        assert_eq!(ask(&mut m, &open, now + Duration::from_millis(100)), OK);
        m
    };
    let greeting = |s: &str| s.contains("Test 1");
    let normal = poll_until(&mut open(None, 1), "greeting", greeting);
    assert!(
        normal.contains("\r\n+QIURC: \"recv\",0,6\r\nTest 1"),
        "{normal:?}"
    );
    // A field changes; the data block stays.
    let quirk = "  - urc: '+QIURC: \"recv\"'\n    field: 1\n    replace: \"9\"\n";
    let edited = poll_until(&mut open(Some(quirk), 1), "greeting", greeting);
    assert!(
        edited.contains("\r\n+QIURC: \"recv\",9,6\r\nTest 1"),
        "{edited:?}"
    );
    assert!(edited.contains("+QIOPEN: 0,0"), "{edited:?}");
    // Suppressed (buffer mode, so the data can still be read): the data
    // arrives, the URC never comes.
    let quirk = "  - urc: '+QIURC: \"recv\"'\n    suppress: true\n";
    let mut m = open(Some(quirk), 0);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut seen = String::new();
    loop {
        assert!(Instant::now() < deadline, "no data; seen {seen:?}");
        std::thread::sleep(Duration::from_millis(10));
        seen.push_str(&poll(&mut m, Instant::now()));
        if ask(&mut m, "AT+QIRD=0,100", Instant::now()).contains("Test 1") {
            break;
        }
    }
    seen.push_str(&poll(&mut m, Instant::now()));
    assert!(seen.contains("+QIOPEN: 0,0"), "{seen:?}");
    assert!(!seen.contains("+QIURC"), "{seen:?}");
}

#[test]
fn a_delay_holds_back_the_final_result_only() {
    let mut m = module("  - command: AT+QVERSION\n    delay_ms: 5000\n");
    let t0 = Instant::now();
    let firmware = World::default().firmware;
    assert_eq!(
        ask(&mut m, "AT+QVERSION", t0),
        format!("\r\n+QVERSION: {firmware}\r\n")
    );
    // Other commands are answered meanwhile.
    assert_eq!(ask(&mut m, "AT", t0 + Duration::from_millis(1)), OK);
    assert_eq!(poll(&mut m, t0 + Duration::from_millis(4999)), "");
    assert_eq!(poll(&mut m, t0 + Duration::from_millis(5000)), OK);
    assert_eq!(poll(&mut m, t0 + Duration::from_millis(10000)), "");
    same_as_default(&mut m, &["AT+QWLMAC"]);
}

#[test]
fn a_delayed_command_s_urcs_follow_its_final_result() {
    let mut m = module("  - command: AT+QSTAAPINFO\n    delay_ms: 2000\n");
    let t0 = Instant::now();
    assert_eq!(
        ask(&mut m, r#"AT+QSTAAPINFO="sim-ap","sim-password""#, t0),
        ""
    );
    assert_eq!(poll(&mut m, t0 + Duration::from_millis(1999)), "");
    assert_eq!(
        poll(&mut m, t0 + Duration::from_secs(3)),
        "\r\nOK\r\n\r\n+QSTASTAT: \"WLAN_CONNECTED\"\r\n\r\n+QSTASTAT: \"GOT_IP\"\r\n"
    );
}

#[test]
fn a_delay_does_not_block_the_serve_loop() {
    let world =
        World::from_yaml("quirks:\n  - command: AT+QVERSION\n    delay_ms: 60000\n").unwrap();
    let (mut link, handle) = in_process(world);
    link.write_all(b"AT+QVERSION\r\nAT\r\n").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&got).contains("OK") {
        assert!(Instant::now() < deadline, "no answer to AT: {got:?}");
        let n = link.read(&mut buf, Duration::from_millis(100)).unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&got);
    // The OK is the answer to AT: the QVERSION line came, its OK did not.
    assert!(text.starts_with("\r\n+QVERSION: "), "{text:?}");
    assert_eq!(text.matches("OK").count(), 1, "{text:?}");
    // Not joined: once its input ends, the serve loop still prints what is
    // scheduled (the late OK, a minute away); the thread ends with the test.
    drop((link, handle));
}

#[test]
fn the_example_world_files_load() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/worlds");
    let mut loaded = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let world = World::load(&path).unwrap_or_else(|e| panic!("{e}"));
            assert!(!world.quirks.is_empty(), "{}", path.display());
            let banner = world.banner();
            assert_eq!(
                banner.matches("  quirk: ").count(),
                world.quirks.len(),
                "{banner}"
            );
            loaded += 1;
        }
    }
    assert!(loaded >= 6, "{loaded} world files in {}", dir.display());
}

#[test]
fn invalid_quirks_are_errors_naming_the_quirk() {
    let cases: &[(&str, &[&str])] = &[
        (
            "- command: AT+QNOSUCH\n  answer: ERROR",
            &["AT+QNOSUCH", "no command"],
        ),
        (
            "- command: AT+QVERSION\n  form: write\n  answer: ERROR",
            &["AT+QVERSION", "no write form"],
        ),
        (
            "- command: AT+QSCLK\n  param: dtimm\n  range: {min: 1, max: 2}",
            &["dtimm", "dtim"],
        ),
        (
            "- command: AT+QSCLK\n  form: read\n  param: dtim\n  range: {min: 1, max: 2}",
            &["dtim", "read"],
        ),
        (
            "- command: AT+QSCLK\n  param: dtim\n  range: {min: 5, max: 2}",
            &["AT+QSCLK", "min 5"],
        ),
        ("- command: AT+QSCLK\n  param: dtim", &["AT+QSCLK", "range"]),
        (
            "- command: AT+QBLENAME\n  param: BLE_name\n  range: {min: -1, max: 2}",
            &["BLE_name", "byte length"],
        ),
        (
            "- command: AT+QVERSION\n  answer: MAYBE",
            &["AT+QVERSION", "MAYBE", "final result"],
        ),
        (
            "- command: AT+QVERSION",
            &["AT+QVERSION", "say what changes"],
        ),
        (
            "- command: AT+QVERSION\n  answer: OK\n  delay_ms: 5",
            &["AT+QVERSION", "answer", "delay_ms"],
        ),
        (
            "- command: AT+QVERSION\n  suppress: true",
            &["AT+QVERSION", "suppress"],
        ),
        (
            "- response: \"+QNOSUCH\"\n  field: 0\n  drop: true",
            &["+QNOSUCH", "response"],
        ),
        (
            "- response: \"+QWLMAC\"\n  drop: true",
            &["+QWLMAC", "field"],
        ),
        ("- response: \"+QWLMAC\"\n  field: 0", &["+QWLMAC", "drop"]),
        (
            "- urc: \"+QNOSUCH\"\n  suppress: true",
            &["+QNOSUCH", "URC"],
        ),
        (
            "- urc: '+QIURC: \"nosuch\"'\n  suppress: true",
            &["nosuch", "\"closed\""],
        ),
        (
            "- urc: \"+QSTASTAT\"\n  suppress: true\n  malform: x",
            &["+QSTASTAT", "one of"],
        ),
        (
            "- urc: \"+QSTASTAT\"\n  command: AT",
            &["+QSTASTAT", "one of"],
        ),
        ("- urc: \"+QSTASTAT\"\n  supress: true", &["supress"]),
        ("- answer: ERROR", &["command", "response", "urc"]),
    ];
    for (quirk, words) in cases {
        let yaml = format!("quirks:\n{}", indent(quirk));
        let err = World::from_yaml(&yaml).expect_err(&yaml);
        for w in *words {
            assert!(err.contains(w), "{yaml}\n-> {err}\n(missing {w:?})");
        }
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}\n")).collect()
}
