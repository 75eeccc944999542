//! Fault injection and the virtual clock: a host (the runtime's client)
//! never hangs or panics whatever the faults; a seed reproduces a run byte
//! for byte; link drops and reboots leave no socket behind; and time-driven
//! output (scheduled URCs, the guard time of `+++`) comes exactly when the
//! virtual clock passes its time.

use std::net::Ipv4Addr;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use fcm242d::client::{Client, Options};
use fcm242d::generated::commands::{
    at, qfclose, qfopen, qfwrite, qiclose, qiopen, qird, qisend, qstaapinfo, qversion, qwlmac,
};
use fcm242d::generated::urcs::Urc;
use fcm242d::session::Notice;
use fcm242d::transport::{MemoryTransport, Transport};
use fcm242d::value::{Int, Text};
use fcm242d_sim::clock::{Clock, SystemClock, VirtualClock};
use fcm242d_sim::faults::{holds_final, Faults};
use fcm242d_sim::module::{Module, Uart};
use fcm242d_sim::serve::{in_process_with, Session};
use fcm242d_sim::world::World;

/// The longest a whole workload may take before the test calls it a hang
/// (far beyond what any run needs: it only keeps a broken build from
/// hanging CI).
const WATCHDOG: Duration = Duration::from_secs(300);
/// How long a test waits for output that must come.
const PATIENCE: Duration = Duration::from_secs(5);

/// Link drops are process-wide (they cut every connection of the embedded
/// services): a test that causes them, or that needs its connections to
/// last, holds this while it runs.
static NETWORK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn network() -> std::sync::MutexGuard<'static, ()> {
    NETWORK.lock().unwrap_or_else(|e| e.into_inner())
}

fn faults(spec: &str) -> Faults {
    spec.parse().unwrap()
}

/// A client whose every wait is bounded by `limit`: short where faults lose
/// answers (a lost answer then costs little time), generous where nothing
/// is lost (these tests check what happens, not how fast).
fn client(link: MemoryTransport, limit: Duration) -> Client<MemoryTransport> {
    Client::with_options(
        link,
        Options {
            timeout_override: Some(limit),
            guard_time: Duration::from_millis(50),
            ..Options::default()
        },
    )
}

/// The limit where faults lose answers.
const LOSSY: Duration = Duration::from_millis(1500);
/// The limit where nothing is lost.
const LOSSLESS: Duration = Duration::from_secs(10);

fn open_cmd(id: i64, port: i64) -> qiopen::Write {
    qiopen::Write {
        connect_id: Int::new(id).unwrap(),
        service_type: qiopen::ServiceType::Tcp,
        ip_address_or_domain_name: qiopen::WriteIpAddressOrDomainName::IpAddress(Ipv4Addr::new(
            192, 0, 2, 2,
        )),
        remote_port: Int::new(port).unwrap(),
        local_port_group: None,
    }
}

fn close_cmd(id: i64) -> qiclose::Write {
    qiclose::Write {
        connect_id: Int::new(id).unwrap(),
        timeout: None,
    }
}

/// What a careful host does: every kind of exchange (plain commands,
/// deferred completions, `>` and `CONNECT` data phases, data blocks in
/// answers, URCs). Returns how many commands succeeded; errors are the
/// faults' doing and are tolerated.
fn workload(c: &mut Client<MemoryTransport>) -> usize {
    let mut ok = 0;
    let mut count = |r: bool| ok += usize::from(r);
    count(c.send(&at::Execute {}).is_ok());
    count(c.send(&qversion::Execute {}).is_ok());
    count(c.send(&qwlmac::Execute {}).is_ok());
    count(
        c.send(&qstaapinfo::Write {
            ssid: Text::new("sim-ap").unwrap(),
            pwd: Some(Text::new("sim-password").unwrap()),
        })
        .is_ok(),
    );
    let _ = c.poll_urcs(Duration::from_millis(300));
    count(c.send(&open_cmd(0, 7)).is_ok());
    let payload = b"reliability";
    count(
        c.send_payload(
            &qisend::WriteConnectIdSendLength {
                connect_id: Int::new(0).unwrap(),
                send_length: Int::new(payload.len() as i64).unwrap(),
            },
            payload,
        )
        .is_ok(),
    );
    let _ = c.poll_urcs(Duration::from_millis(100));
    count(
        c.send(&qird::WriteConnectIdReadLength {
            connect_id: Int::new(0).unwrap(),
            read_length: Some(Int::new(1500).unwrap()),
        })
        .is_ok(),
    );
    count(c.send(&close_cmd(0)).is_ok());
    if let Ok(r) = c.send(&qfopen::Write {
        filename: Text::new("faults.txt").unwrap(),
        mode: None,
    }) {
        count(true);
        if let Some(fh) = r.lines.first().map(|l| l.filehandle) {
            let body = b"0123456789";
            count(
                c.send_payload(
                    &qfwrite::Write {
                        filehandle: fh,
                        length_group: Some(qfwrite::WriteLengthGroup {
                            length: Int::new(body.len() as i64).unwrap(),
                            timeout: Some(Int::new(1).unwrap()),
                        }),
                    },
                    body,
                )
                .is_ok(),
            );
            count(c.send(&qfclose::Write { filehandle: fh }).is_ok());
        }
    }
    ok
}

/// Runs `workload` against a module with `faults` on a thread; fails the
/// test if it panics or does not end (the watchdog), and returns the
/// number of successful commands and the module as it was left.
fn run_under(spec: &str, limit: Duration) -> (usize, Module) {
    fcm242d_sim::catalog::catalog();
    let (done_tx, done_rx) = mpsc::channel();
    let f = faults(spec);
    let worker = thread::spawn(move || {
        let (link, module) = in_process_with(World::default(), f, Arc::new(SystemClock));
        let mut c = client(link, limit);
        let ok = workload(&mut c);
        drop(c);
        let module = module.join();
        let _ = done_tx.send(());
        (ok, module)
    });
    match done_rx.recv_timeout(WATCHDOG) {
        Ok(()) => {}
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("`{spec}`: the host or the module hung"),
        // The worker panicked before it finished: join reports it below.
        Err(mpsc::RecvTimeoutError::Disconnected) => {}
    }
    let (ok, module) = worker.join().expect("the host panicked");
    (ok, module.expect("the module panicked"))
}

#[test]
fn without_faults_the_whole_workload_succeeds() {
    let _network = network();
    let (ok, _) = run_under("none", LOSSLESS);
    assert_eq!(ok, 11);
}

#[test]
fn delays_fragments_and_spurious_urcs_do_not_disturb_a_careful_host() {
    let _network = network();
    // Nothing is lost or changed: every command must still succeed.
    let (ok, _) = run_under("delay=0..30ms,fragment=1..5,urc=0.5,seed=11", LOSSLESS);
    assert_eq!(ok, 11);
}

#[test]
fn the_host_never_hangs_or_panics_whatever_the_fault() {
    for spec in [
        "delay=0..200ms,seed=1",
        "fragment=1..2,seed=2",
        "drop=0.01,seed=3",
        "drop-in=0.05,seed=4",
        "drop-out=0.05,seed=5",
        "garble=0.01,seed=6",
        "garble-in=0.05,seed=7",
        "garble-out=0.05,seed=8",
        "urc=1,seed=9",
        "reboot=0.005,seed=10",
        "delay=0..50ms,fragment=1..8,drop=0.002,garble=0.002,urc=0.2,reboot=0.002,seed=12",
    ] {
        let (_, module) = run_under(spec, LOSSY);
        // Whatever happened, the module is still a module.
        assert!(matches!(
            module.uart(),
            Uart::Command | Uart::Payload | Uart::Transparent
        ));
    }
}

#[test]
fn the_host_never_hangs_under_link_drops() {
    let _network = network();
    run_under("linkdrop=0.02,seed=13", LOSSY);
}

#[test]
fn open_close_loops_under_link_drops_and_reboots_leave_no_socket() {
    let _network = network();
    fcm242d_sim::catalog::catalog();
    let (done_tx, done_rx) = mpsc::channel();
    let worker = thread::spawn(move || {
        let f = faults("linkdrop=0.02,reboot=0.002,seed=14");
        let (link, module) = in_process_with(World::default(), f, Arc::new(SystemClock));
        let mut c = client(link, LOSSY);
        let urcs = c.urc_channel();
        let join = qstaapinfo::Write {
            ssid: Text::new("sim-ap").unwrap(),
            pwd: Some(Text::new("sim-password").unwrap()),
        };
        for round in 0..30 {
            let id = round % 3;
            // A reboot forgets the network: join it again when needed.
            if c.send(&open_cmd(id, 8009)).is_err() {
                let _ = c.send(&join);
                let _ = c.poll_urcs(Duration::from_millis(250));
                let _ = c.send(&open_cmd(id, 8009));
            }
            let _ = c.poll_urcs(Duration::from_millis(30));
            let _ = c.send_payload(
                &qisend::WriteConnectIdSendLength {
                    connect_id: Int::new(id).unwrap(),
                    send_length: Int::new(4).unwrap(),
                },
                b"ping",
            );
            let _ = c.send(&close_cmd(id));
        }
        // A careful host closes whatever may still be open.
        for id in 0..12 {
            let _ = c.send(&close_cmd(id));
        }
        let _ = c.poll_urcs(Duration::from_millis(100));
        let closed = urcs
            .try_iter()
            .filter(|u| matches!(u, Notice::Urc(Urc::QiurcClosed(_))))
            .count();
        drop(c);
        let module = module.join();
        let _ = done_tx.send(());
        (closed, module)
    });
    if let Err(mpsc::RecvTimeoutError::Timeout) = done_rx.recv_timeout(WATCHDOG) {
        panic!("the host or the module hung");
    }
    let (closed, module) = worker.join().expect("the host panicked");
    let module = module.expect("the module panicked");
    assert!(
        closed > 0,
        "no link drop reached an open connection: nothing was tested"
    );
    assert!(
        module.state().tcpip.sockets.is_empty(),
        "sockets left: {:?}",
        module.state().tcpip.sockets.keys().collect::<Vec<_>>()
    );
}

/// A fixed exchange through a [`Session`] on a virtual clock, all in this
/// thread: the bytes the host gets, in order.
fn session_run(spec: &str) -> Vec<u8> {
    let clock = VirtualClock::new();
    let mut s = Session::new(Module::new(World::default()), &faults(spec));
    let mut got = Vec::new();
    let mut step = |s: &mut Session, input: &[u8]| {
        s.input(input, clock.now());
        for _ in 0..40 {
            clock.advance(Duration::from_millis(10));
            s.poll(clock.now());
            for w in s.due(clock.now()) {
                got.extend(w);
            }
        }
    };
    for input in [
        &b"AT\r\n"[..],
        b"AT+QVERSION\r\n",
        b"AT+QECHO=1\r\n",
        b"AT+QWLMAC\r\n",
        b"AT+QSTAAPINFO=\"sim-ap\",\"sim-password\"\r\n",
        b"AT+QFOPEN=\"seed.txt\"\r\n",
        b"AT+QFWRITE=1,5,1\r\n",
        b"hello",
        b"AT+QFCLOSE=1\r\n",
        b"AT+QWLANOTA=\"http://192.0.2.2/fw.bin\"\r\n",
        b"AT+QSTAST\r\n",
        b"AT+QRST\r\n",
        b"AT+QVERSION\r\n",
    ] {
        step(&mut s, input);
    }
    got
}

#[test]
fn a_seed_reproduces_a_run_byte_for_byte() {
    let spec =
        "delay=0..80ms,fragment=1..6,drop-in=0.01,drop-out=0.01,garble=0.01,urc=0.3,reboot=0.003";
    let a = session_run(&format!("{spec},seed=21"));
    let b = session_run(&format!("{spec},seed=21"));
    assert_eq!(a, b);
    assert!(!a.is_empty());
    let other = session_run(&format!("{spec},seed=22"));
    assert_ne!(a, other, "another seed should make other choices");
    // Without faults the same exchange gives the plain answers.
    let plain = String::from_utf8_lossy(&session_run("none")).into_owned();
    assert!(plain.contains("+QVERSION: "), "{plain}");
    assert!(plain.contains("+QOTASTAT: \"DOWNLOAD_FAILED\""), "{plain}");
}

/// A script through the in-process serve loop on a virtual clock, each
/// command sent once the previous one was answered (or given up on).
fn served_run(spec: &str) -> Vec<u8> {
    let clock = VirtualClock::new();
    let (mut link, module) = in_process_with(
        World::default(),
        faults(spec),
        Arc::new(clock.clone()) as Arc<dyn Clock>,
    );
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    for cmd in [
        "AT",
        "AT+QVERSION",
        "AT+QWLMAC",
        "AT+QECHO=1",
        "AT+QVERSION",
        "AT+QSETBAND?",
        "AT+QSCLK=0",
        "AT",
    ] {
        link.write_all(format!("{cmd}\r\n").as_bytes()).unwrap();
        let mut answer = Vec::new();
        // Time moves only here: each step lets delayed output out.
        for _ in 0..60 {
            if holds_final(&answer) {
                break;
            }
            clock.advance(Duration::from_millis(10));
            let n = link.read(&mut buf, Duration::from_millis(10)).unwrap();
            answer.extend_from_slice(&buf[..n]);
        }
        got.extend(answer);
    }
    // Whatever is still held back comes out once its time has come.
    clock.advance(Duration::from_secs(10));
    let mut quiet = 0;
    while quiet < 20 {
        let n = link.read(&mut buf, Duration::from_millis(10)).unwrap();
        quiet = if n == 0 { quiet + 1 } else { 0 };
        got.extend_from_slice(&buf[..n]);
    }
    drop(link);
    module.join().unwrap();
    got
}

#[test]
fn a_seed_reproduces_a_served_run_on_the_virtual_clock() {
    let spec = "delay=0..100ms,fragment=1..4,drop-out=0.01,garble-out=0.01,urc=0.3,seed=5";
    let a = served_run(spec);
    let b = served_run(spec);
    assert_eq!(String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
    assert!(a.len() > 40, "{:?}", String::from_utf8_lossy(&a));
}

// ------------------------------------------------------------- virtual clock

#[test]
fn a_scheduled_urc_fires_exactly_when_its_time_comes() {
    let clock = VirtualClock::new();
    let mut m = Module::new(World::default());
    let t0 = clock.now();
    m.inject_urc("+QSTASTAT: \"SCAN_NO_AP\"", t0, Duration::from_millis(250));
    assert_eq!(m.next_due(), Some(t0 + Duration::from_millis(250)));
    clock.advance(Duration::from_millis(249));
    assert_eq!(m.poll(clock.now()), b"");
    clock.advance(Duration::from_millis(1));
    assert_eq!(m.poll(clock.now()), b"\r\n+QSTASTAT: \"SCAN_NO_AP\"\r\n");
    assert_eq!(m.next_due(), None);
}

/// Sends `AT+QVERSION`, waits for its answer, sends it again and returns
/// everything up to the second answer: the serve loop polled the module
/// right after the first (before the second was written), so whatever was
/// due at the clock's time is in the output by then.
fn barrier(link: &mut MemoryTransport) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + PATIENCE;
    let answered = |got: &[u8], n: usize| {
        let text = String::from_utf8_lossy(got);
        text.matches("+QVERSION:").count() >= n
            && text
                .rsplit("+QVERSION:")
                .next()
                .is_some_and(|rest| rest.contains("OK"))
    };
    for n in 1..=2 {
        link.write_all(b"AT+QVERSION\r\n").unwrap();
        while !answered(&got, n) {
            assert!(Instant::now() < deadline, "no answer: {got:?}");
            let n = link.read(&mut buf, Duration::from_millis(20)).unwrap();
            got.extend_from_slice(&buf[..n]);
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn the_serve_loop_prints_a_scheduled_urc_when_the_virtual_clock_passes_its_time() {
    // When the OTA URCs are due, relative to the command.
    let mut probe = Module::new(World::default());
    let t = Instant::now();
    probe.input(b"AT+QWLANOTA=\"http://192.0.2.2/fw.bin\"\r", t);
    let first = probe.next_due().unwrap() - t;

    let clock = VirtualClock::new();
    let (mut link, module) = in_process_with(
        World::default(),
        Faults::none(),
        Arc::new(clock.clone()) as Arc<dyn Clock>,
    );
    link.write_all(b"AT+QWLANOTA=\"http://192.0.2.2/fw.bin\"\r\n")
        .unwrap();
    let ok = barrier(&mut link);
    assert!(!ok.contains("QOTASTAT"), "{ok}");
    clock.advance(first - Duration::from_millis(1));
    let before = barrier(&mut link);
    assert!(!before.contains("QOTASTAT"), "too early: {before}");
    clock.advance(Duration::from_millis(1));
    let at = barrier(&mut link);
    assert!(at.contains("+QOTASTAT: \"START_DOWNLOAD\""), "{at}");
    assert!(!at.contains("DOWNLOAD_FAILED"), "{at}");
    drop(link);
    module.join().unwrap();
}

#[test]
fn a_guarded_escape_ends_transparent_mode_exactly_after_the_guard_time() {
    let _network = network();
    let clock = VirtualClock::new();
    let world = World {
        guard_time_ms: 1000,
        ..World::default()
    };
    let guard = Duration::from_millis(world.guard_time_ms);
    let mut m = Module::new(world);
    m.input(b"AT+QSTAAPINFO=\"sim-ap\",\"sim-password\"\r", clock.now());
    // Once the station has its address (`+QSTASTAT: "GOT_IP"`).
    clock.advance(Duration::from_millis(100));
    m.poll(clock.now());
    let entered = m.input(b"AT+QIOPEN=0,\"TCP\",\"192.0.2.2\",7,0,2\r", clock.now());
    assert!(
        String::from_utf8_lossy(&entered).contains("CONNECT"),
        "{entered:?}"
    );
    assert_eq!(m.uart(), Uart::Transparent);

    // `+++` without the silence before it is data.
    clock.advance(guard / 2);
    assert_eq!(m.input(b"+++", clock.now()), b"");
    clock.advance(guard * 2);
    assert_eq!(m.uart(), Uart::Transparent);
    // The echo server sends it back (the network runs in real time; the
    // virtual clock stands still meanwhile).
    let mut echoed = Vec::new();
    let deadline = Instant::now() + PATIENCE;
    while echoed.len() < 3 {
        assert!(Instant::now() < deadline, "no echo: {echoed:?}");
        echoed.extend(m.poll(clock.now()));
        thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(echoed, b"+++");
    assert_eq!(m.uart(), Uart::Transparent);

    // After a full guard time of silence: held, then `OK` exactly when the
    // silence after it reaches the guard time.
    clock.advance(guard);
    m.input(b"+++", clock.now());
    clock.advance(guard - Duration::from_millis(1));
    let early = m.poll(clock.now());
    assert!(!String::from_utf8_lossy(&early).contains("OK"), "{early:?}");
    assert_eq!(m.uart(), Uart::Transparent);
    clock.advance(Duration::from_millis(1));
    let out = String::from_utf8_lossy(&m.poll(clock.now())).into_owned();
    // `OK`, then the URCs that waited for command mode (joining the network).
    assert!(out.starts_with("\r\nOK\r\n"), "{out:?}");
    assert_eq!(m.uart(), Uart::Command);
    let closed = m.input(b"AT+QICLOSE=0\r", clock.now());
    assert_eq!(closed, b"\r\nOK\r\n");
}

#[test]
fn a_virtual_clock_wait_ends_when_the_time_is_reached() {
    let clock = VirtualClock::new();
    let at = clock.now() + Duration::from_secs(3600);
    let mover = clock.clone();
    let t = thread::spawn(move || mover.advance(Duration::from_secs(3600)));
    assert!(clock.wait_until(at, PATIENCE));
    t.join().unwrap();
    assert!(!clock.wait_until(at + Duration::from_secs(1), Duration::from_millis(1)));
}

#[test]
fn spurious_urcs_are_valid_catalogue_urcs() {
    // Every injected line parses as a URC of the catalogue.
    let out = session_run("urc=1,seed=3");
    let text = String::from_utf8_lossy(&out);
    let mut injected = 0;
    for line in text.split("\r\n") {
        if line.starts_with("+QSTASTAT: \"SCAN_NO_AP\"") || line.starts_with("+QIURC: \"recv\"") {
            injected += 1;
            assert!(matches!(Urc::parse(line), Some(Ok(_))), "{line}");
        }
    }
    assert!(injected > 5, "{text}");
}

#[test]
fn a_world_file_can_name_faults() {
    let world = World::from_yaml("faults: \"drop=0.5%,urc=0.1,seed=3\"\n").unwrap();
    let f = world.faults.unwrap().faults();
    assert_eq!((f.drop_in, f.urc, f.seed), (0.005, 0.1, 3));
    let err = World::from_yaml("faults: \"drop=lots\"\n").unwrap_err();
    assert!(err.contains("drop=lots"), "{err}");
}
