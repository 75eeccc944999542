//! The in-process simulator handle: virtual time, reset, idleness, and
//! servers of its own.

use std::time::Duration;

use fcm242d::transport::Transport;
use fcm242d_sim::sim::{SimOptions, Simulated};
use fcm242d_sim::world::{Endpoint, Protocol, Service, World};

/// Writes `line` CR LF and reads until `until` appears (or `limit` passes
/// on the module's clock); returns what came.
fn exchange(sim: &mut Simulated, line: &str, until: &str, limit: Duration) -> String {
    sim.write_all(format!("{line}\r\n").as_bytes()).unwrap();
    read_until(sim, until, limit)
}

/// Reads until `until` appears or `limit` passes on the module's clock.
fn read_until(sim: &mut Simulated, until: &str, limit: Duration) -> String {
    let end = sim.now() + limit;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains(until) {
        let now = sim.now();
        if now >= end {
            break;
        }
        let n = sim.read(&mut buf, end - now).unwrap();
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&got).into_owned()
}

/// Everything the module prints within `limit` of its clock.
fn drain(sim: &mut Simulated, limit: Duration) -> String {
    read_until(sim, "\u{0}never", limit)
}

fn join(sim: &mut Simulated) {
    let got = exchange(
        sim,
        "AT+QSTAAPINFO=\"sim-ap\",\"sim-password\"",
        "GOT_IP",
        Duration::from_secs(10),
    );
    assert!(got.contains("GOT_IP"), "{got}");
}

/// A world with extra endpoints at 192.0.2.9.
fn world_with(extra: Vec<(u16, Service)>) -> World {
    let mut world = World::default();
    for (port, service) in extra {
        world.endpoints.push(Endpoint {
            name: None,
            address: "192.0.2.9".into(),
            port,
            protocol: Protocol::Tcp,
            service,
        });
    }
    world
}

#[test]
fn answers_and_waits_on_its_own_clock() {
    let mut sim = Simulated::start(World::default(), SimOptions::default());
    let got = exchange(&mut sim, "AT+QVERSION", "OK", Duration::from_secs(1));
    assert!(got.contains("+QVERSION: FCM242DAAR01A05_SIM"), "{got}");
    assert!(sim.is_idle());
    // Nothing happens: the whole time limit passes on the module's clock.
    let before = sim.now();
    let mut buf = [0u8; 64];
    assert_eq!(sim.read(&mut buf, Duration::from_secs(150)).unwrap(), 0);
    assert_eq!(sim.now() - before, Duration::from_secs(150));
}

#[test]
fn scheduled_urcs_come_at_their_time_and_make_it_busy_meanwhile() {
    let mut sim = Simulated::start(World::default(), SimOptions::default());
    let before = sim.now();
    let got = exchange(
        &mut sim,
        "AT+QWLANOTA=\"http://192.0.2.2/fw.bin\"",
        "OK",
        Duration::from_secs(1),
    );
    assert!(got.contains("OK"), "{got}");
    assert!(!sim.is_idle(), "the OTA URCs are still to come");
    let got = read_until(&mut sim, "DOWNLOAD_FAILED", Duration::from_secs(5));
    assert!(got.contains("START_DOWNLOAD"), "{got}");
    assert!(sim.is_idle());
    // The URCs came when they were due, not after the read's whole limit.
    assert!(sim.now() - before < Duration::from_secs(1));
}

#[test]
fn a_tcp_echo_answers_through_the_world() {
    let mut sim = Simulated::start(World::default(), SimOptions::default());
    join(&mut sim);
    let got = exchange(
        &mut sim,
        "AT+QIOPEN=0,\"TCP\",\"192.0.2.2\",7,0,1",
        "+QIOPEN: 0,",
        Duration::from_secs(5),
    );
    assert!(got.contains("+QIOPEN: 0,0"), "{got}");
    let got = exchange(&mut sim, "AT+QISEND=0,5", ">", Duration::from_secs(1));
    assert!(got.contains('>'), "{got}");
    sim.write_all(b"hello").unwrap();
    let got = read_until(&mut sim, "hello", Duration::from_secs(5));
    assert!(got.contains("SEND OK"), "{got}");
    assert!(got.contains("+QIURC: \"recv\",0,5\r\nhello"), "{got}");
}

#[test]
fn a_silent_host_times_the_connect_out_on_the_virtual_clock() {
    let mut sim = Simulated::start(
        world_with(vec![(9, Service::Silent)]),
        SimOptions::default(),
    );
    join(&mut sim);
    let before = sim.now();
    let got = exchange(
        &mut sim,
        "AT+QIOPEN=0,\"TCP\",\"192.0.2.9\",9,0,0",
        "+QIOPEN:",
        Duration::from_secs(200),
    );
    assert!(got.contains("+QIOPEN: 0,567"), "{got}");
    assert_eq!(
        sim.now() - before,
        fcm242d_sim::groups::tcpip::CONNECT_TIMEOUT
    );
}

#[test]
fn a_refused_connect_fails_at_once() {
    let mut sim = Simulated::start(
        world_with(vec![(9, Service::Refuse)]),
        SimOptions::default(),
    );
    join(&mut sim);
    let got = exchange(
        &mut sim,
        "AT+QIOPEN=0,\"TCP\",\"192.0.2.9\",9,0,0",
        "+QIOPEN:",
        Duration::from_secs(5),
    );
    assert!(got.contains("+QIOPEN: 0,564"), "{got}");
}

#[test]
fn reset_gives_a_fresh_module_and_a_fresh_world() {
    let mut sim = Simulated::start(World::default(), SimOptions::default());
    exchange(&mut sim, "AT+QECHO=1", "OK", Duration::from_secs(1));
    join(&mut sim);
    let got = exchange(
        &mut sim,
        "AT+QIOPEN=0,\"TCP\",\"192.0.2.2\",7,0,0",
        "+QIOPEN: 0,",
        Duration::from_secs(5),
    );
    assert!(got.contains("+QIOPEN: 0,0"), "{got}");
    // A retained message in the world's broker.
    let topic = "sim/reset";
    exchange(
        &mut sim,
        "AT+QMTOPEN=0,\"192.0.2.2\",1883",
        "+QMTOPEN: 0,0",
        Duration::from_secs(5),
    );
    exchange(
        &mut sim,
        "AT+QMTCONN=0,\"resetter\"",
        "+QMTCONN: 0,0,0",
        Duration::from_secs(5),
    );
    let got = exchange(
        &mut sim,
        &format!("AT+QMTPUB=0,1,1,1,\"{topic}\",5"),
        ">",
        Duration::from_secs(1),
    );
    assert!(got.contains('>'), "{got}");
    sim.write_all(b"kept!").unwrap();
    let got = read_until(&mut sim, "+QMTPUB: 0,1,0", Duration::from_secs(5));
    assert!(got.contains("+QMTPUB: 0,1,0"), "{got}");
    assert_eq!(
        sim.services().broker().retained(topic),
        Some((fcm242d_sim::mqtt::QoS::AtLeastOnce, b"kept!".to_vec()))
    );

    sim.reset();
    assert!(sim.is_idle());
    // Echo is off again, no socket is open, nothing is left in the broker.
    let got = exchange(&mut sim, "AT+QISTATE?", "OK", Duration::from_secs(1));
    assert_eq!(got, "\r\nOK\r\n");
    assert_eq!(sim.services().broker().retained(topic), None);
    assert!(sim.services().broker().retained("topic/example").is_some());
    // The station is down.
    let got = exchange(
        &mut sim,
        "AT+QGETIP=\"station\"",
        "\r\n",
        Duration::from_secs(1),
    );
    assert!(!got.contains("192.168.4.23"), "{got}");
}

#[test]
fn two_simulators_have_worlds_of_their_own() {
    let mut a = Simulated::start(World::default(), SimOptions::default());
    let b = Simulated::start(World::default(), SimOptions::default());
    join(&mut a);
    exchange(
        &mut a,
        "AT+QMTOPEN=0,\"192.0.2.2\",1883",
        "+QMTOPEN: 0,0",
        Duration::from_secs(5),
    );
    exchange(
        &mut a,
        "AT+QMTCONN=0,\"a\"",
        "+QMTCONN: 0,0,0",
        Duration::from_secs(5),
    );
    exchange(
        &mut a,
        "AT+QMTPUB=0,1,1,1,\"sim/own\",3",
        ">",
        Duration::from_secs(1),
    );
    a.write_all(b"abc").unwrap();
    let got = read_until(&mut a, "+QMTPUB: 0,1,0", Duration::from_secs(5));
    assert!(got.contains("+QMTPUB: 0,1,0"), "{got}");
    assert!(a.services().broker().retained("sim/own").is_some());
    assert!(b.services().broker().retained("sim/own").is_none());
}

#[test]
fn a_stalled_broker_times_the_connect_out_on_the_virtual_clock() {
    let mut sim = Simulated::start(
        world_with(vec![(1883, Service::Stall)]),
        SimOptions::default(),
    );
    join(&mut sim);
    exchange(
        &mut sim,
        "AT+QMTCFG=\"timeout\",0,10,1,0",
        "OK",
        Duration::from_secs(1),
    );
    let got = exchange(
        &mut sim,
        "AT+QMTOPEN=0,\"192.0.2.9\",1883",
        "+QMTOPEN:",
        Duration::from_secs(5),
    );
    assert!(got.contains("+QMTOPEN: 0,0"), "{got}");
    let before = sim.now();
    let got = exchange(
        &mut sim,
        "AT+QMTCONN=0,\"stalled\"",
        "+QMTSTAT:",
        Duration::from_secs(60),
    );
    assert!(got.contains("+QMTCONN: 0,2"), "{got}");
    assert!(got.contains("+QMTSTAT: 0,4"), "{got}");
    assert_eq!(sim.now() - before, Duration::from_secs(10));
    // The server sees the connection end; then nothing is left to happen.
    assert_eq!(drain(&mut sim, Duration::from_millis(10)), "");
    assert!(sim.is_idle());
}

#[test]
fn real_time_still_works() {
    let options = SimOptions {
        virtual_time: false,
        ..SimOptions::default()
    };
    let mut sim = Simulated::start(World::default(), options);
    join(&mut sim);
    let got = exchange(
        &mut sim,
        "AT+QIOPEN=0,\"TCP\",\"192.0.2.2\",8009,0,1",
        "Test 1",
        Duration::from_secs(5),
    );
    assert!(got.contains("+QIOPEN: 0,0"), "{got}");
    assert!(got.contains("+QIURC: \"recv\",0,6\r\nTest 1"), "{got}");
    let _ = drain(&mut sim, Duration::from_millis(10));
}

/// A world that stays busy (here: a watched socket whose input no thread
/// takes, as when a server closes a connection while the module waits for
/// the host's body) does not freeze the virtual clock for a host that reads
/// in waits shorter than the world's grace: after the grace the clock
/// follows real time, so reading 2 s of the module's clock in 100 ms
/// slices ends (it took for ever when the grace restarted at each wait).
#[test]
fn a_busy_world_does_not_freeze_the_clock_for_short_reads() {
    use std::io::Write as _;
    use std::os::unix::net::UnixStream;
    use std::sync::mpsc;

    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sim = Simulated::start(World::default(), SimOptions::default());
        let (mut writer, unread) = UnixStream::pair().unwrap();
        writer.write_all(b"never read").unwrap();
        let _watch = sim.services().activity().watch(&unread);
        assert!(!sim.services().activity().is_quiet());
        let end = sim.now() + Duration::from_secs(2);
        let mut buf = [0u8; 64];
        while sim.now() < end {
            let left = end - sim.now();
            let _ = sim
                .read(&mut buf, left.min(Duration::from_millis(100)))
                .unwrap();
        }
        let _ = done.send(());
    });
    assert!(
        finished.recv_timeout(Duration::from_secs(60)).is_ok(),
        "the module's clock stood still while the world was busy"
    );
}
