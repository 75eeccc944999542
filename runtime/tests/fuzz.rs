//! Fuzzing every parser of the runtime with generated input: random bytes
//! and streams spliced from the protocol's own tokens (prefixes, quotes,
//! digits, CR, LF, prompts, `NO CARRIER`), cut at random points. No input
//! may panic or hang, and memory stays bounded: the process's peak resident
//! memory (Linux) must stay under a fixed ceiling however many inputs run.
//!
//! The CI runs a few thousand inputs per parser. For a long run:
//!
//! ```sh
//! FCM242D_FUZZ_INPUTS=1000000 cargo test --release -p fcm242d --test fuzz -- --nocapture
//! ```

mod support;

use std::time::{Duration, Instant};

use fcm242d::command::Line;
use fcm242d::engine::{Engine, Final, Limits};
use fcm242d::framer::Framer;
use fcm242d::generated::commands::{
    qblegattcrd, qfread, qhttpread, qiopen, qird, qisend, qmtrecv, qversion, AnyCommand,
    LINE_TEMPLATES,
};
use fcm242d::generated::urcs::Urc;
use fcm242d::session::{Options, Session};
use fcm242d::value::{Int, Uuid};

/// The process's peak resident memory in KiB, where the system says.
fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// xorshift64*: small, fast, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Pieces of the protocol the generator splices together.
const TOKENS: &[&[u8]] = &[
    b"\r\n",
    b"\r",
    b"\n",
    b"OK",
    b"ERROR",
    b"+CME ERROR: ",
    b"CONNECT",
    b"CONNECT ",
    b"NO CARRIER",
    b"\r\nNO CARRIER\r\n",
    b"SEND OK",
    b"> ",
    b">",
    b"\"",
    b",",
    b"0",
    b"1",
    b"12",
    b"1500",
    b"10240",
    b"10241",
    b"4000000000",
    b"99999999999999999999",
    b"-1",
    b"+QIURC: \"recv\",",
    b"+QIURC: \"closed\",",
    b"+QIURC: \"dnsgip\",",
    b"+QSSLURC: \"recv\",",
    b"+QBLERECV: 0,",
    b"\"fff2\",",
    b"+QMTRECV: 0,",
    b"+QMTSTAT: ",
    b"+QMTSUB: 0,1,0,",
    b"+QPING: ",
    b"+QIRD: ",
    b"+QVERSION: ",
    b"+QHTTPURC: \"recv\",",
    b"+QIOPEN: ",
    b"AT+QVERSION",
    b"\x1a",
    b"\x1b",
    b"\x00",
    b"\xff",
    b"topic",
    b"{\"t\":1}",
];

fn input(rng: &mut Rng) -> Vec<u8> {
    let mut out = Vec::new();
    if rng.below(4) == 0 {
        let n = rng.below(512);
        out.extend((0..n).map(|_| rng.next() as u8));
    } else {
        for _ in 0..rng.below(64) {
            match rng.below(8) {
                0 => out.push(rng.next() as u8),
                1 => out.extend((0..rng.below(40)).map(|_| b'a' + (rng.below(26) as u8))),
                _ => out.extend_from_slice(TOKENS[rng.below(TOKENS.len())]),
            }
        }
    }
    out
}

fn cuts<'a>(rng: &mut Rng, bytes: &'a [u8]) -> Vec<&'a [u8]> {
    let mut pieces = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        let n = 1 + rng.below(rest.len().min(64));
        let (a, b) = rest.split_at(n);
        pieces.push(a);
        rest = b;
    }
    pieces
}

/// Starts one of several commands (or none) on an engine.
fn start(rng: &mut Rng, engine: &mut Engine) {
    match rng.below(9) {
        0 => {}
        1 => {
            let _ = engine.command(&qversion::Execute {});
        }
        2 => {
            let _ = engine.command(&qird::WriteConnectIdReadLength {
                connect_id: Int::new(0).unwrap(),
                read_length: Some(Int::new(1500).unwrap()),
            });
        }
        3 => {
            let _ = engine.command(&qfread::Write {
                filehandle: 1,
                length: Some(100),
            });
        }
        4 => {
            let _ = engine.command(&qhttpread::Write { wait_time: None });
        }
        5 => {
            let _ = engine.command(&qisend::WriteConnectIdSendLength {
                connect_id: Int::new(0).unwrap(),
                send_length: Int::new(5).unwrap(),
            });
        }
        6 => {
            let _ = engine.command(&qblegattcrd::Write {
                conn_idx: Int::new(0).unwrap(),
                uuid: Uuid::new("FFF1").unwrap(),
            });
        }
        7 => {
            let _ = engine.command(&qmtrecv::Write {
                client_idx: Int::new(0).unwrap(),
                receive_id: None,
            });
        }
        _ => {
            let _ = engine.command(&support::tcp_open(qiopen::AccessMode::Transparent));
        }
    }
}

fn inputs() -> usize {
    std::env::var("FCM242D_FUZZ_INPUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000)
}

/// Runs `f` on `count` inputs; reports the slowest and the peak memory.
fn run(name: &str, count: usize, seed: u64, mut f: impl FnMut(&mut Rng)) {
    let mut rng = Rng(seed);
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    for _ in 0..count {
        let t = Instant::now();
        f(&mut rng);
        slowest = slowest.max(t.elapsed());
    }
    eprintln!(
        "{name}: {count} inputs in {:?}, slowest {:?}, peak resident memory {:?} KiB",
        started.elapsed(),
        slowest,
        peak_kib()
    );
}

/// Small limits, so that the ceiling below is meaningful.
const LIMITS: Limits = Limits {
    max_line: 4096,
    max_data: 64 * 1024,
};

/// The process never holds more than this, however many inputs run (the
/// inputs are under 4 KiB; the engine keeps at most a line, a data block
/// and their events; the test binary itself takes a few tens of MiB).
const CEILING_KIB: u64 = 256 * 1024;

#[test]
fn the_parsers_take_any_input() {
    let count = inputs();
    run("engine", count, 1, |rng| {
        let mut engine = Engine::with_limits(LIMITS);
        start(rng, &mut engine);
        let bytes = input(rng);
        for piece in cuts(rng, &bytes) {
            engine.feed(piece);
            while engine.poll().is_some() {}
            if rng.below(16) == 0 {
                start(rng, &mut engine);
            }
        }
    });
    run("session", count, 2, |rng| {
        let mut s = Session::with_limits(Options::default(), LIMITS);
        let _ = s.start(&qversion::Execute {}, 0);
        let bytes = input(rng);
        for (i, piece) in cuts(rng, &bytes).into_iter().enumerate() {
            s.feed(piece, i as u64 * 100);
            while s.next_action().is_some() {}
            while s.take_notice().is_some() {}
            let _ = s.take_outcome();
            if s.needs_resync() {
                s.resync(i as u64 * 100);
            }
        }
    });
    run("framer", count, 3, |rng| {
        let mut framer = Framer::new(LIMITS.max_line);
        let bytes = input(rng);
        let announce = rng.below(3000);
        let oracle = |line: &[u8]| line.len().is_multiple_of(7).then_some(announce);
        for piece in cuts(rng, &bytes) {
            framer.feed(piece, &oracle, &mut |_| {});
            match rng.below(32) {
                0 => framer.set_transparent(true),
                1 => framer.set_transparent(false),
                2 => framer.read_until(b"\r\nOK\r\n"),
                3 => framer.expect_prompt(true),
                _ => {}
            }
        }
    });
    run("lines", count, 4, |rng| {
        let bytes = input(rng);
        // One line at a time, as the framer hands them over.
        for line in bytes.split(|b| *b == b'\n') {
            let _ = Urc::decode(line);
            let _ = Urc::inline_remaining(line);
            let _ = <qmtrecv::WriteLine as Line>::decode(line);
            let _ = <qird::WriteConnectIdReadLengthLine as Line>::decode(line);
            if let Ok(text) = std::str::from_utf8(line) {
                let _ = Final::parse(text);
                let _ = AnyCommand::parse(text);
                let t = &LINE_TEMPLATES[rng.below(LINE_TEMPLATES.len())];
                let _ = (t.reencode)(text);
            }
        }
    });
    if let Some(peak) = peak_kib() {
        assert!(peak < CEILING_KIB, "peak resident memory {peak} KiB");
    }
}
