//! A whole transcript piped into `fcm242d-sim --stdio`: answered in order,
//! and every consequence (scheduled URCs, what the network caused) printed
//! before the simulator exits by itself.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// Far beyond what a run needs; only keeps a broken build from hanging CI.
const WATCHDOG: Duration = Duration::from_secs(120);

/// The simulator with `args`, its input and output piped.
fn spawn(args: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_fcm242d-sim"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Runs the simulator with `args`, pipes `script` in and closes its input;
/// returns its exit status and standard output.
fn run(args: &[&str], script: &str) -> (std::process::ExitStatus, String) {
    let mut child = spawn(args);
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(script.as_bytes()).unwrap();
    drop(stdin);
    let mut stdout = child.stdout.take().unwrap();
    let reader = thread::spawn(move || {
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        out
    });
    let deadline = Instant::now() + WATCHDOG;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the simulator did not stop after its input ended");
        }
        thread::sleep(Duration::from_millis(20));
    };
    let out = reader.join().unwrap();
    (status, String::from_utf8_lossy(&out).into_owned())
}

#[test]
fn a_piped_script_gets_every_answer_and_every_deferred_urc() {
    let script = "AT\r\n\
                  AT+QVERSION\r\n\
                  AT+QSTAAPINFO=\"sim-ap\",\"sim-password\"\r\n\
                  AT+QIOPEN=0,\"TCP\",\"192.0.2.2\",8009,0,1\r\n\
                  AT+QWLMAC\r\n";
    let (status, out) = run(&["--stdio"], script);
    assert!(status.success(), "{status:?}");
    // The answers, in the order of the commands.
    let order = [
        "\r\nOK\r\n",
        "+QVERSION: ",
        "\r\nOK\r\n",
        "\r\nOK\r\n",
        "\r\nOK\r\n",
        "+QWLMAC: ",
    ];
    let mut at = 0;
    for want in order {
        match out[at..].find(want) {
            Some(i) => at += i + want.len(),
            None => panic!("`{want}` missing or out of order in {out:?}"),
        }
    }
    // Scheduled URCs of the join, and what the network caused after the
    // input ended: the connect's completion and the server's greeting,
    // pushed in direct push mode.
    assert!(out.contains("+QSTASTAT: \"GOT_IP\"\r\n"), "{out:?}");
    assert!(out.contains("\r\n+QIOPEN: 0,0\r\n"), "{out:?}");
    assert!(
        out.contains("\r\n+QIURC: \"recv\",0,6\r\nTest 1\r\n"),
        "{out:?}"
    );
}

#[test]
fn a_payload_in_the_pipe_is_taken_as_the_data_phase_asks() {
    // A UDP socket opens at once, so the send can follow in the pipe; the
    // payload is followed by the next command on the same line.
    let script = "AT+QSTAAPINFO=\"sim-ap\",\"sim-password\"\r\n\
                  AT+QIOPEN=1,\"UDP\",\"192.0.2.2\",8009,0,1\r\n\
                  AT+QISEND=1,5\r\n\
                  helloAT+QVERSION\r\n";
    let (status, out) = run(&["--stdio"], script);
    assert!(status.success());
    let prompt = out.find("\r\n> ").expect("no prompt");
    let sent = out.find("\r\nSEND OK\r\n").expect("no SEND OK");
    let version = out
        .find("+QVERSION: ")
        .expect("no answer after the payload");
    assert!(prompt < sent && sent < version, "{out:?}");
    assert!(
        out.contains("\r\n+QIURC: \"recv\",1,5\r\nhello\r\n"),
        "{out:?}"
    );
}

#[test]
fn with_nothing_to_do_the_simulator_stops_after_its_input() {
    let (status, out) = run(&["--stdio"], "");
    assert!(status.success());
    assert_eq!(out, "");
    let (status, out) = run(&[], "AT\r");
    assert!(status.success());
    assert_eq!(out, "\r\nOK\r\n");
}

#[test]
fn a_seed_reproduces_a_run_with_faults() {
    let script = "AT\r\nAT+QVERSION\r\nAT+QWLMAC\r\nAT+QECHO=1\r\nAT+QVERSION\r\nATI\r\nAT\r\n";
    let args = [
        "--stdio",
        "--faults",
        "delay=0..20ms,fragment=1..3,garble-out=0.02,drop-in=0.01,urc=0.4",
        "--seed",
        "99",
    ];
    let (status, a) = run(&args, script);
    assert!(status.success());
    let (_, b) = run(&args, script);
    assert_eq!(a, b);
    let (_, plain) = run(&["--stdio"], script);
    assert_ne!(a, plain, "the faults changed nothing");
}

#[test]
fn a_bad_fault_spec_is_refused() {
    let (status, out) = run(&["--faults", "drop=lots"], "");
    assert_eq!(status.code(), Some(2));
    assert_eq!(out, "");
}

#[test]
fn the_worlds_phone_connects_to_a_module_served_in_real_time() {
    // Over a real-time link (stdio, the PTY) the module is polled when input
    // comes or a clock of its is due; advertising starts the phone's clock,
    // which only a poll after the command notices. The input stays open (a
    // host waiting for the connection), so no end of input wakes the loop.
    let mut child = spawn(&["--stdio"]);
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        let mut buf = [0u8; 1024];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                return;
            }
        }
    });
    let mut out = String::new();
    let until = |want: &str, out: &mut String| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !out.contains(want) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(bytes) => out.push_str(&String::from_utf8_lossy(&bytes)),
                Err(_) => return false,
            }
        }
        true
    };
    for line in [
        "AT+QBLEINIT=2",
        "AT+QBLEGATTSSRV=\"FFF1\"",
        "AT+QBLEGATTSCHAR=\"FFF2\"",
        "AT+QBLEGATTSSRVDONE",
        "AT+QBLENAME=\"QuecFGM842D\"",
        "AT+QBLEADVSTART",
    ] {
        out.clear();
        stdin.write_all(format!("{line}\r\n").as_bytes()).unwrap();
        assert!(until("\r\nOK\r\n", &mut out), "{line}: {out:?}");
    }
    let connected = until("from phone\r\n", &mut out);
    drop(stdin);
    let _ = child.kill();
    let _ = child.wait();
    assert!(connected, "the phone did not connect: {out:?}");
    assert!(out.contains("\r\n+QBLESTAT: \"CONNECTED\"\r\n"), "{out:?}");
    assert!(
        out.contains("\r\n+QBLERECV: 0,\"fff2\",10\r\nfrom phone\r\n"),
        "{out:?}"
    );
}
