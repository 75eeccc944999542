//! Decoding throughput of the sans-IO [`Engine`], and a comparison with the
//! `atat` crate.
//!
//! `cargo bench -p fcm242d --bench decode` builds, in memory and
//! deterministically, a recording of more than 10 MiB of module output: a
//! sequence of exchanges, each a command (told to the engine with
//! `Engine::command`) and the module's answer — `+QIRD` data blocks with CR,
//! LF and even `\r\nOK\r\n` inside, `+QISTATE` and `+QMTRECV` information
//! lines, `>` prompts with `SEND OK`, `OK` / `ERROR` finals — and URCs between
//! and inside the answers (`+QIURC` with and without direct-push data,
//! `+QMTSTAT`, `+QSTASTAT`, `+QIOPEN`, `+QMTRECV`). Echo is off (`ATE0`).
//!
//! The whole recording is decoded into typed values: every URC is a typed
//! [`Urc`](fcm242d::generated::urcs::Urc) and every information line is
//! decoded with the command form's `Line` type, as the blocking client does.
//! It is fed whole (one `feed` per answer) and in 64-, 16- and 1-byte chunks
//! (a UART driver hands over small reads). Criterion times each mode; then a summary table (MB/s, lines/s,
//! ns/byte) is printed from timed runs of its own (the best of five), so
//! that the numbers are there whatever criterion's output looks like.
//!
//! In the same run, the subset of exchanges that `atat` 0.25 can express
//! (lines only: no data blocks, no prompts, no URC inside an answer, no URC
//! sharing its prefix with a response of the same run) is decoded both by
//! the engine and by `atat`: its `AtDigester` driven by the same buffer loop
//! as `atat::Ingress` (one exchange written at a time, or in chunks), each
//! response deserialized with `serde_at` through the `AtatCmd` derive's
//! `parse`, each URC through the `AtatUrc` derive. Before any timing, every
//! decoder's tally of typed values is checked against what was generated.
//!
//! A last part feeds single answers of growing size byte by byte, to show
//! whether the cost per byte grows with the amount buffered.
//!
//! The bench runs on a counting allocator (`stats_alloc`), and reports the
//! heap allocations per line: of the framer alone, and of the whole decode
//! into typed values (fcm242d and atat).

use std::alloc::System;
use std::hint::black_box;
use std::time::{Duration, Instant};

use atat::{AtatCmd, AtatUrc, DigestResult, Digester, InternalError};
use criterion::{Criterion, SamplingMode, Throughput};
use fcm242d::command::AtCommand;
use fcm242d::engine::{Engine, Event};
use fcm242d::framer::{FrameRef, Framer, NoData};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

/// Every allocation of the bench is counted.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;
use fcm242d::generated::commands::{qhttpread, qiopen, qird, qisend, qistate, qmtpub, qmtrecv};

/// How many bytes of module output the recording holds at least (10 MiB).
const STREAM_BYTES: usize = 10 * 1024 * 1024;

/// The feeding modes: bytes per `feed` (`usize::MAX`: the whole answer).
const CHUNKS: [usize; 4] = [usize::MAX, 64, 16, 1];

/// Timed runs per row of the summary (the best one is kept).
const RUNS: usize = 5;

/// The size of the `atat` ingress buffer (the `INGRESS_BUF_SIZE` of an atat
/// application); every answer of the subset fits.
const ATAT_BUF: usize = 8192;

// ---------------------------------------------------------------------------
// The recording
// ---------------------------------------------------------------------------

/// A small deterministic generator (xorshift64).
struct Rng(u64);

impl Rng {
    /// The next 64 random bits.
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A number in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// One of `items`.
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// Printable text without quotes, `len` characters.
    fn text(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] =
            b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._-/:=+!?(),";
        (0..len).map(|_| *self.pick(ALPHABET) as char).collect()
    }

    /// `n` bytes of binary data, with line endings, and now and then a final
    /// result code or a URC, inside: only the announced length delimits it.
    fn data(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n + 16);
        while out.len() < n {
            match self.below(40) {
                0 => out.extend_from_slice(b"\r\nOK\r\n"),
                1 => out.extend_from_slice(b"\r\n+QIURC: \"closed\",1\r\n"),
                2..=5 => out.extend_from_slice(b"\r\n"),
                _ => out.push(self.next() as u8),
            }
        }
        out.truncate(n);
        out
    }
}

/// The command told to the engine before an answer, as a typed form.
#[derive(Debug, Clone)]
enum Cmd {
    /// No command: URCs between exchanges.
    Idle,
    /// `AT+QIRD=<connectID>,<read_length>`
    Qird(qird::WriteConnectIdReadLength),
    /// `AT+QISTATE?`
    QistateAll(qistate::Read),
    /// `AT+QISTATE=<connectID>`
    QistateOne(qistate::Write),
    /// `AT+QMTRECV=<client_idx>,<receiveID>`
    Qmtrecv(qmtrecv::Write),
    /// `AT+QISEND=<connectID>,<send_length>`
    Qisend(qisend::WriteConnectIdSendLength),
    /// `AT+QMTPUB=<client_idx>,<msgID>,<qos>,<retain>,<topic>,<length>`
    Qmtpub(qmtpub::Write),
    /// `AT+QIOPEN=...`
    Qiopen(qiopen::Write),
    /// `AT+QHTTPREAD=<wait_time>` (only in the scaling part).
    Qhttpread(qhttpread::Write),
}

/// The same command for `atat`, when `atat` can express the exchange.
#[derive(Debug, Clone)]
enum AtCmd {
    /// No command: URCs between exchanges.
    Idle,
    /// `AT+QIRD=<connectID>,<read_length>` answered without data.
    Qird(at::QirdCmd),
    /// `AT+QISTATE?`
    QistateAll(at::QistateAllCmd),
    /// `AT+QISTATE=<connectID>`
    QistateOne(at::QistateCmd),
    /// `AT+QMTRECV=<client_idx>,<receiveID>`
    Qmtrecv(at::QmtrecvCmd),
    /// `AT+QIOPEN=...`
    Qiopen(at::QiopenCmd),
}

/// What a correct decoder produces, counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Tally {
    /// Information lines decoded into the form's line type.
    info: u64,
    /// URCs decoded into typed values.
    urcs: u64,
    /// Final result codes (`OK`, `ERROR`, `SEND OK`).
    finals: u64,
    /// Non-empty data blocks (of a response or of a URC).
    blocks: u64,
    /// Bytes in those data blocks.
    block_bytes: u64,
    /// Data prompts.
    prompts: u64,
    /// Anything that did not decode (must stay 0).
    bad: u64,
}

impl Tally {
    /// Lines: information lines, URC lines and final result codes.
    fn lines(&self) -> u64 {
        self.info + self.urcs + self.finals
    }

    /// Adds `other` to this tally.
    fn add(&mut self, other: &Tally) {
        self.info += other.info;
        self.urcs += other.urcs;
        self.finals += other.finals;
        self.blocks += other.blocks;
        self.block_bytes += other.block_bytes;
        self.prompts += other.prompts;
        self.bad += other.bad;
    }
}

/// One exchange of the recording.
#[derive(Debug, Clone)]
struct Exchange {
    /// The command the engine is told about.
    cmd: Cmd,
    /// The same exchange for `atat`, if it can express it.
    at: Option<AtCmd>,
    /// The module's answer, as it comes out of the UART.
    answer: Vec<u8>,
    /// What decoding it must produce.
    expect: Tally,
}

/// A recording: exchanges and what decoding them produces.
struct Stream {
    /// The exchanges, in order.
    exchanges: Vec<Exchange>,
    /// Bytes of module output.
    bytes: u64,
    /// What decoding everything produces.
    expect: Tally,
}

impl Stream {
    /// Gathers exchanges.
    fn new(exchanges: Vec<Exchange>) -> Stream {
        let mut expect = Tally::default();
        let mut bytes = 0;
        for x in &exchanges {
            expect.add(&x.expect);
            bytes += x.answer.len() as u64;
        }
        Stream {
            exchanges,
            bytes,
            expect,
        }
    }

    /// The exchanges `atat` can express, in order.
    fn atat_subset(&self) -> Stream {
        Stream::new(
            self.exchanges
                .iter()
                .filter(|x| x.at.is_some())
                .cloned()
                .collect(),
        )
    }
}

/// A typed command form from its command line.
fn form<C: AtCommand>(line: &str) -> C {
    C::parse(line).unwrap_or_else(|e| panic!("{line}: {e:?}"))
}

/// Builds an exchange's answer piece by piece, counting what it holds.
#[derive(Default)]
struct Answer {
    /// The bytes.
    bytes: Vec<u8>,
    /// What they decode to.
    expect: Tally,
}

impl Answer {
    /// An information line of the pending command.
    fn info(&mut self, line: &str) -> &mut Self {
        self.line(line);
        self.expect.info += 1;
        self
    }

    /// A URC line.
    fn urc(&mut self, line: &str) -> &mut Self {
        self.line(line);
        self.expect.urcs += 1;
        self
    }

    /// A final result code.
    fn fin(&mut self, line: &str) -> &mut Self {
        self.line(line);
        self.expect.finals += 1;
        self
    }

    /// A data block right after the previous line (never empty: an empty
    /// block, as after `+QIRD: 0`, is not counted by any decoder).
    fn data(&mut self, data: &[u8]) -> &mut Self {
        assert!(!data.is_empty());
        self.bytes.extend_from_slice(data);
        self.expect.blocks += 1;
        self.expect.block_bytes += data.len() as u64;
        self
    }

    /// A data prompt (`\r\n> `).
    fn prompt(&mut self) -> &mut Self {
        self.bytes.extend_from_slice(b"\r\n> ");
        self.expect.prompts += 1;
        self
    }

    /// A line as the module frames it (CR LF before and after).
    fn line(&mut self, line: &str) {
        self.bytes.extend_from_slice(b"\r\n");
        self.bytes.extend_from_slice(line.as_bytes());
        self.bytes.extend_from_slice(b"\r\n");
    }

    /// The exchange.
    fn done(&mut self, cmd: Cmd, at: Option<AtCmd>) -> Exchange {
        Exchange {
            cmd,
            at,
            answer: std::mem::take(&mut self.bytes),
            expect: std::mem::take(&mut self.expect),
        }
    }
}

/// A `+QISTATE` information line.
fn qistate_line(rng: &mut Rng, id: u64) -> String {
    let service = *rng.pick(&["TCP", "UDP", "TCP LISTENER", "TCP INCOMING", "UDP SERVICE"]);
    format!(
        "+QISTATE: {id},\"{service}\",\"192.168.{}.{}\",{},{},{},{},{},\"{}\"",
        rng.below(256),
        rng.range(1, 254),
        rng.range(1, 65535),
        rng.below(65536),
        rng.below(5),
        rng.below(12),
        rng.below(3),
        rng.pick(&["uart1", "uart2"]),
    )
}

/// A URC that both decoders know (no data, no prefix shared with a
/// response of the recording).
fn simple_urc(rng: &mut Rng) -> String {
    match rng.below(5) {
        0 | 1 => format!("+QIURC: \"recv\",{}", rng.below(12)),
        2 => format!("+QIURC: \"closed\",{}", rng.below(12)),
        3 => format!("+QMTSTAT: {},{}", rng.below(6), rng.range(1, 7)),
        _ => format!(
            "+QSTASTAT: \"{}\"",
            rng.pick(&[
                "GOT_IP",
                "WLAN_CONNECTED",
                "WLAN_DISCONNECTED",
                "SCAN_NO_AP"
            ])
        ),
    }
}

/// The next exchange of the recording.
fn exchange(rng: &mut Rng) -> Exchange {
    let mut a = Answer::default();
    let id = rng.below(12);
    match rng.below(100) {
        // A socket read with its data block; a quarter of them announced by
        // a URC in the same answer.
        0..=29 => {
            let n = rng.range(1, 1500) as usize;
            let line = format!("AT+QIRD={id},1500");
            if rng.below(4) == 0 {
                a.urc(&format!("+QIURC: \"recv\",{id}"));
            }
            a.info(&format!("+QIRD: {n}")).data(&rng.data(n));
            a.bytes.extend_from_slice(b"\r\n");
            a.fin("OK");
            a.done(Cmd::Qird(form(&line)), None)
        }
        // A read that finds nothing.
        30..=34 => {
            let line = format!("AT+QIRD={id},1500");
            a.info("+QIRD: 0").fin("OK");
            let at = AtCmd::Qird(at::QirdCmd {
                connect_id: id as u8,
                read_length: 1500,
            });
            a.done(Cmd::Qird(form(&line)), Some(at))
        }
        // All sockets; a fifth of them with a URC between the lines.
        35..=44 => {
            let count = rng.range(1, 4);
            let inner_urc = rng.below(5) == 0;
            for i in 0..count {
                a.info(&qistate_line(rng, i));
                if inner_urc && i == 0 {
                    a.urc(&format!("+QIURC: \"closed\",{}", rng.below(12)));
                }
            }
            a.fin("OK");
            let at = (!inner_urc).then_some(AtCmd::QistateAll(at::QistateAllCmd));
            a.done(Cmd::QistateAll(qistate::Read {}), at)
        }
        // One socket.
        45..=54 => {
            a.info(&qistate_line(rng, id)).fin("OK");
            let at = AtCmd::QistateOne(at::QistateCmd {
                connect_id: id as u8,
            });
            a.done(Cmd::QistateOne(form(&format!("AT+QISTATE={id}"))), Some(at))
        }
        // A stored MQTT message.
        55..=64 => {
            let client = rng.below(6);
            let recv = rng.below(5);
            let len = rng.range(8, 200) as usize;
            let payload = rng.text(len);
            let topic = format!("site/{}/sensor/{}", rng.below(100), rng.below(10));
            a.info(&format!(
                "+QMTRECV: {client},{},\"{topic}\",{},\"{payload}\"",
                rng.below(65536),
                payload.len()
            ))
            .fin("OK");
            let at = AtCmd::Qmtrecv(at::QmtrecvCmd {
                client_idx: client as u8,
                recv_id: recv as u8,
            });
            a.done(
                Cmd::Qmtrecv(form(&format!("AT+QMTRECV={client},{recv}"))),
                Some(at),
            )
        }
        // A socket send: prompt, then SEND OK.
        65..=69 => {
            let n = rng.range(1, 1460);
            a.prompt().fin("SEND OK");
            a.done(Cmd::Qisend(form(&format!("AT+QISEND={id},{n}"))), None)
        }
        // An MQTT publish: prompt, OK, then its completion URC.
        70..=72 => {
            let msg = rng.range(1, 65535);
            a.prompt().fin("OK").urc(&format!("+QMTPUB: 0,{msg},0"));
            let line = format!("AT+QMTPUB=0,{msg},1,0,\"site/out\",{}", rng.range(1, 512));
            a.done(Cmd::Qmtpub(form(&line)), None)
        }
        // A socket open: OK, then its completion URC.
        73..=76 => {
            a.fin("OK").urc(&format!("+QIOPEN: {id},0"));
            let port = rng.range(1, 65535);
            let line = format!("AT+QIOPEN={id},\"TCP\",\"192.168.1.10\",{port},0,0");
            let at = AtCmd::Qiopen(at::QiopenCmd {
                connect_id: id as u8,
                service_type: at::text("TCP"),
                host: at::text("192.168.1.10"),
                remote_port: port as u16,
                local_port: 0,
                access_mode: 0,
            });
            a.done(Cmd::Qiopen(form(&line)), Some(at))
        }
        // A read on a closed socket.
        77..=79 => {
            a.fin("ERROR");
            let at = AtCmd::Qird(at::QirdCmd {
                connect_id: id as u8,
                read_length: 1500,
            });
            a.done(Cmd::Qird(form(&format!("AT+QIRD={id},1500"))), Some(at))
        }
        // URCs between exchanges.
        80..=91 => {
            for _ in 0..rng.range(1, 3) {
                a.urc(&simple_urc(rng));
            }
            a.done(Cmd::Idle, Some(AtCmd::Idle))
        }
        // An MQTT message pushed as a URC (its prefix is also the response
        // of `AT+QMTRECV=`, which atat's stateless URC matcher cannot tell
        // apart).
        92..=93 => {
            let len = rng.range(8, 200) as usize;
            let payload = rng.text(len);
            a.urc(&format!(
                "+QMTRECV: {},{},\"site/in\",\"{payload}\"",
                rng.below(6),
                rng.below(65536)
            ));
            a.done(Cmd::Idle, None)
        }
        // Socket data pushed as a URC with its data block.
        _ => {
            let n = rng.range(1, 1460) as usize;
            a.urc(&format!("+QIURC: \"recv\",{id},{n}"))
                .data(&rng.data(n));
            a.done(Cmd::Idle, None)
        }
    }
}

/// The recording: at least [`STREAM_BYTES`] of module output.
fn recording() -> Stream {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut exchanges = Vec::new();
    let mut bytes = 0;
    while bytes < STREAM_BYTES {
        let x = exchange(&mut rng);
        bytes += x.answer.len();
        exchanges.push(x);
    }
    Stream::new(exchanges)
}

// ---------------------------------------------------------------------------
// Decoding with fcm242d
// ---------------------------------------------------------------------------

/// Tells the engine about `cmd` (if any), feeds `answer` in chunks of
/// `chunk` bytes, and decodes every event into typed values.
fn run<C: AtCommand>(
    engine: &mut Engine,
    cmd: Option<&C>,
    answer: &[u8],
    chunk: usize,
    t: &mut Tally,
) {
    if let Some(cmd) = cmd {
        black_box(engine.command(cmd));
    }
    for piece in answer.chunks(chunk) {
        engine.feed(piece);
        while let Some(event) = engine.poll() {
            match event {
                Event::Urc(u) => {
                    if let Some(d) = u.data() {
                        t.blocks += 1;
                        t.block_bytes += d.len() as u64;
                    }
                    t.urcs += 1;
                    black_box(u);
                }
                // Decoded once, when the engine classified the line.
                Event::Line(line) => match line.downcast::<C::Line>() {
                    Ok(v) => {
                        t.info += 1;
                        black_box(v);
                    }
                    Err(_) => t.bad += 1,
                },
                Event::Data(d) => {
                    if !d.is_empty() {
                        t.blocks += 1;
                        t.block_bytes += d.len() as u64;
                    }
                    black_box(d);
                }
                Event::Connect(n) => {
                    black_box(n);
                }
                Event::Final(f) => {
                    t.finals += 1;
                    black_box(f);
                }
                Event::Prompt => t.prompts += 1,
                other => {
                    t.bad += 1;
                    black_box(other);
                }
            }
        }
    }
}

/// Decodes one exchange with the engine.
fn fcm_exchange(engine: &mut Engine, x: &Exchange, chunk: usize, t: &mut Tally) {
    let a = &x.answer;
    match &x.cmd {
        Cmd::Idle => run::<qistate::Read>(engine, None, a, chunk, t),
        Cmd::Qird(c) => run(engine, Some(c), a, chunk, t),
        Cmd::QistateAll(c) => run(engine, Some(c), a, chunk, t),
        Cmd::QistateOne(c) => run(engine, Some(c), a, chunk, t),
        Cmd::Qmtrecv(c) => run(engine, Some(c), a, chunk, t),
        Cmd::Qisend(c) => run(engine, Some(c), a, chunk, t),
        Cmd::Qmtpub(c) => run(engine, Some(c), a, chunk, t),
        Cmd::Qiopen(c) => run(engine, Some(c), a, chunk, t),
        Cmd::Qhttpread(c) => run(engine, Some(c), a, chunk, t),
    }
}

/// Decodes a whole recording with a fresh engine.
fn fcm_decode(stream: &Stream, chunk: usize) -> Tally {
    let mut engine = Engine::new();
    let mut t = Tally::default();
    for x in &stream.exchanges {
        fcm_exchange(&mut engine, x, chunk, &mut t);
    }
    t
}

// ---------------------------------------------------------------------------
// Decoding with atat
// ---------------------------------------------------------------------------

/// The `atat` side: response and URC types (serde_at through atat's
/// derives) and the commands of the subset. The decoded values are only
/// handed to `black_box`, as on the fcm242d side, hence `dead_code`.
#[allow(dead_code)]
mod at {
    use atat::atat_derive::{AtatCmd, AtatEnum, AtatResp, AtatUrc};
    use atat::heapless::{String, Vec};

    /// A bounded string from text.
    pub fn text<const N: usize>(s: &str) -> String<N> {
        String::try_from(s).expect("fits")
    }

    /// An answer without information lines.
    #[derive(Debug, Clone, AtatResp)]
    pub struct NoResponse {}

    /// `+QIRD: <read_actual_length>` (without its data block).
    #[derive(Debug, Clone, AtatResp)]
    pub struct QirdLine {
        /// Bytes read.
        pub read_actual_length: u16,
    }

    /// `<socket_state>`.
    #[derive(Debug, Clone, PartialEq, AtatEnum)]
    pub enum SocketState {
        /// Connection not established.
        Initial = 0,
        /// Connecting.
        Opening = 1,
        /// Connected.
        Connected = 2,
        /// Listening.
        Listening = 3,
        /// Closing.
        Closing = 4,
    }

    /// `<access_mode>`.
    #[derive(Debug, Clone, PartialEq, AtatEnum)]
    pub enum AccessMode {
        /// Buffer access.
        Buffer = 0,
        /// Direct push.
        DirectPush = 1,
        /// Transparent.
        Transparent = 2,
    }

    /// `+QISTATE: <connectID>,<service_type>,<IP_address>,<remote_port>,
    /// <local_port>,<socket_state>,<serverID>,<access_mode>,<AT_port>`
    #[derive(Debug, Clone, AtatResp)]
    pub struct QistateLine {
        /// Socket.
        pub connect_id: u8,
        /// "TCP", "UDP", ...
        pub service_type: String<16>,
        /// The address.
        pub ip_address: core::net::Ipv4Addr,
        /// Remote port.
        pub remote_port: u16,
        /// Local port.
        pub local_port: u16,
        /// State.
        pub socket_state: SocketState,
        /// Server socket.
        pub server_id: u8,
        /// Access mode.
        pub access_mode: AccessMode,
        /// "uart1" or "uart2".
        pub at_port: String<8>,
    }

    /// Several `+QISTATE` lines.
    pub type QistateLines = Vec<QistateLine, 12>;

    /// `+QMTRECV: <client_idx>,<msgID>,<topic>,<payload_len>,<payload>`
    #[derive(Debug, Clone, AtatResp)]
    pub struct QmtrecvLine {
        /// Client.
        pub client_idx: u8,
        /// Message.
        pub msg_id: u16,
        /// Topic.
        pub topic: String<64>,
        /// Payload length.
        pub payload_len: u16,
        /// Payload.
        pub payload: String<256>,
    }

    /// `AT+QIRD=<connectID>,<read_length>`
    #[derive(Debug, Clone, AtatCmd)]
    #[at_cmd("+QIRD", QirdLine)]
    pub struct QirdCmd {
        /// Socket.
        pub connect_id: u8,
        /// Bytes to read.
        pub read_length: u16,
    }

    /// `AT+QISTATE?`
    #[derive(Debug, Clone, AtatCmd)]
    #[at_cmd("+QISTATE?", QistateLines, value_sep = false)]
    pub struct QistateAllCmd;

    /// `AT+QISTATE=<connectID>`
    #[derive(Debug, Clone, AtatCmd)]
    #[at_cmd("+QISTATE", QistateLine)]
    pub struct QistateCmd {
        /// Socket.
        pub connect_id: u8,
    }

    /// `AT+QMTRECV=<client_idx>,<receiveID>`
    #[derive(Debug, Clone, AtatCmd)]
    #[at_cmd("+QMTRECV", QmtrecvLine)]
    pub struct QmtrecvCmd {
        /// Client.
        pub client_idx: u8,
        /// Store slot.
        pub recv_id: u8,
    }

    /// `AT+QIOPEN=<connectID>,<service_type>,<IP_address>,<remote_port>,<local_port>,<access_mode>`
    #[derive(Debug, Clone, AtatCmd)]
    #[at_cmd("+QIOPEN", NoResponse)]
    pub struct QiopenCmd {
        /// Socket.
        pub connect_id: u8,
        /// "TCP", ...
        pub service_type: String<16>,
        /// Remote host.
        pub host: String<64>,
        /// Remote port.
        pub remote_port: u16,
        /// Local port.
        pub local_port: u16,
        /// Access mode.
        pub access_mode: u8,
    }

    /// `+QIURC: "recv",<connectID>` / `+QIURC: "closed",<connectID>`
    #[derive(Debug, Clone, AtatResp)]
    pub struct Qiurc {
        /// "recv", "closed", ...
        pub kind: String<16>,
        /// Socket.
        pub connect_id: u8,
    }

    /// `+QMTSTAT: <client_idx>,<err_code>`
    #[derive(Debug, Clone, AtatResp)]
    pub struct Qmtstat {
        /// Client.
        pub client_idx: u8,
        /// Why.
        pub err_code: u8,
    }

    /// `+QSTASTAT: <event>`
    #[derive(Debug, Clone, AtatResp)]
    pub struct Qstastat {
        /// The event.
        pub event: String<24>,
    }

    /// `+QIOPEN: <connectID>,<err>`
    #[derive(Debug, Clone, AtatResp)]
    pub struct Qiopen {
        /// Socket.
        pub connect_id: u8,
        /// Result.
        pub err: u16,
    }

    /// The URCs of the subset.
    #[derive(Debug, Clone, AtatUrc)]
    pub enum AtUrc {
        /// `+QIURC`
        #[at_urc("+QIURC")]
        Qiurc(Qiurc),
        /// `+QMTSTAT`
        #[at_urc("+QMTSTAT")]
        Qmtstat(Qmtstat),
        /// `+QSTASTAT`
        #[at_urc("+QSTASTAT")]
        Qstastat(Qstastat),
        /// `+QIOPEN`
        #[at_urc("+QIOPEN")]
        Qiopen(Qiopen),
    }
}

/// How many information lines a typed `atat` response holds.
trait InfoLines {
    /// The count.
    fn info_lines(&self) -> u64;
}

impl InfoLines for at::NoResponse {
    fn info_lines(&self) -> u64 {
        0
    }
}

impl InfoLines for at::QirdLine {
    fn info_lines(&self) -> u64 {
        1
    }
}

impl InfoLines for at::QistateLine {
    fn info_lines(&self) -> u64 {
        1
    }
}

impl InfoLines for at::QistateLines {
    fn info_lines(&self) -> u64 {
        self.len() as u64
    }
}

impl InfoLines for at::QmtrecvLine {
    fn info_lines(&self) -> u64 {
        1
    }
}

/// Deserializes a response of `cmd` the way atat's client does
/// (`AtatCmd::parse`, that is `serde_at::from_slice`).
fn at_response<C>(cmd: &C, resp: Result<&[u8], InternalError<'_>>, t: &mut Tally)
where
    C: AtatCmd,
    C::Response: InfoLines,
{
    let failed = resp.is_err();
    match cmd.parse(resp) {
        Ok(v) => {
            t.info += v.info_lines();
            t.finals += 1;
            black_box(v);
        }
        Err(atat::Error::Error) if failed => t.finals += 1,
        Err(_) => t.bad += 1,
    }
}

/// `atat`'s ingress: a fixed buffer, its `AtDigester`, and the loop of
/// `atat::Ingress::try_advance` (digest, hand over the result, shift the
/// buffer), with the response slot and the URC channel replaced by typed
/// decoding on the spot.
struct AtIngress {
    /// The digester.
    digester: atat::AtDigester<at::AtUrc>,
    /// The ingress buffer.
    buf: Vec<u8>,
    /// Bytes in it.
    pos: usize,
}

impl AtIngress {
    /// An empty ingress.
    fn new() -> AtIngress {
        AtIngress {
            digester: atat::AtDigester::new(),
            buf: vec![0; ATAT_BUF],
            pos: 0,
        }
    }

    /// Writes received bytes, digesting after each write (`try_write`).
    fn write(&mut self, mut bytes: &[u8], cmd: &AtCmd, t: &mut Tally) {
        while !bytes.is_empty() {
            let free = &mut self.buf[self.pos..];
            assert!(!free.is_empty(), "atat ingress buffer full");
            let n = free.len().min(bytes.len());
            free[..n].copy_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            self.pos += n;
            self.digest(cmd, t);
        }
    }

    /// `try_advance`'s loop.
    fn digest(&mut self, cmd: &AtCmd, t: &mut Tally) {
        while self.pos > 0 {
            let (result, swallowed) = self.digester.digest(&self.buf[..self.pos]);
            match result {
                DigestResult::None => {}
                DigestResult::Prompt(_) => t.prompts += 1,
                DigestResult::Urc(line) => match at::AtUrc::parse(line) {
                    Some(u) => {
                        t.urcs += 1;
                        black_box(u);
                    }
                    None => t.bad += 1,
                },
                DigestResult::Response(resp) => match cmd {
                    AtCmd::Idle => t.bad += 1,
                    AtCmd::Qird(c) => at_response(c, resp, t),
                    AtCmd::QistateAll(c) => at_response(c, resp, t),
                    AtCmd::QistateOne(c) => at_response(c, resp, t),
                    AtCmd::Qmtrecv(c) => at_response(c, resp, t),
                    AtCmd::Qiopen(c) => at_response(c, resp, t),
                },
            }
            if swallowed == 0 {
                break;
            }
            self.buf.copy_within(swallowed..self.pos, 0);
            self.pos -= swallowed;
        }
    }
}

/// Writes the command of an exchange (as atat's client does before waiting).
fn at_write(cmd: &AtCmd, out: &mut [u8]) -> usize {
    match cmd {
        AtCmd::Idle => 0,
        AtCmd::Qird(c) => c.write(out),
        AtCmd::QistateAll(c) => c.write(out),
        AtCmd::QistateOne(c) => c.write(out),
        AtCmd::Qmtrecv(c) => c.write(out),
        AtCmd::Qiopen(c) => c.write(out),
    }
}

/// Decodes a recording of the subset with atat, one exchange at a time.
fn atat_decode(stream: &Stream, chunk: usize) -> Tally {
    let mut ingress = AtIngress::new();
    let mut t = Tally::default();
    let mut out = [0u8; 128];
    for x in &stream.exchanges {
        let cmd = x.at.as_ref().expect("an exchange of the atat subset");
        black_box(at_write(cmd, &mut out));
        for piece in x.answer.chunks(chunk) {
            ingress.write(piece, cmd, &mut t);
        }
    }
    assert_eq!(ingress.pos, 0, "atat left bytes undigested");
    t
}

// ---------------------------------------------------------------------------
// Timing and reporting
// ---------------------------------------------------------------------------

/// A feeding mode's name.
fn mode(chunk: usize) -> String {
    match chunk {
        usize::MAX => "whole".to_string(),
        1 => "1-byte chunks".to_string(),
        n => format!("{n}-byte chunks"),
    }
}

/// The best wall time of `runs` runs of `f`.
fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// One row of the summary.
struct Row {
    /// What was decoded, how.
    name: String,
    /// Bytes decoded.
    bytes: u64,
    /// Lines decoded.
    lines: u64,
    /// Best time.
    time: Duration,
}

impl Row {
    /// Nanoseconds per byte.
    fn ns_per_byte(&self) -> f64 {
        self.time.as_nanos() as f64 / self.bytes as f64
    }

    /// Decimal megabytes per second.
    fn mb_per_s(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.time.as_secs_f64()
    }

    /// Lines per second.
    fn lines_per_s(&self) -> f64 {
        self.lines as f64 / self.time.as_secs_f64()
    }
}

/// Prints rows as a table.
fn table(rows: &[Row]) {
    println!(
        "| {:<34} | {:>8} | {:>12} | {:>8} |",
        "decoder, feeding", "MB/s", "lines/s", "ns/byte"
    );
    println!("|{:-<36}|{:->10}|{:->14}|{:->10}|", "", "", "", "");
    for r in rows {
        println!(
            "| {:<34} | {:>8.1} | {:>12.0} | {:>8.2} |",
            r.name,
            r.mb_per_s(),
            r.lines_per_s(),
            r.ns_per_byte()
        );
    }
}

/// Checks a decoder's tally against the recording.
fn check(what: &str, got: Tally, expect: Tally) {
    assert_eq!(
        got, expect,
        "{what}: decoded values differ from the recording"
    );
}

/// A QHTTPREAD answer with a body of `n` bytes (no `\r\nOK\r\n` inside).
fn http_body_exchange(n: usize) -> Exchange {
    let mut rng = Rng(n as u64 | 1);
    let mut body = rng.data(n);
    for w in 0..body.len().saturating_sub(5) {
        if &body[w..w + 6] == b"\r\nOK\r\n" {
            body[w + 2] = b'o';
        }
    }
    let mut a = Answer::default();
    a.bytes.extend_from_slice(b"\r\nCONNECT\r\n");
    a.data(&body).fin("OK").urc("+QHTTPREAD: 0");
    // `CONNECT` is an event of its own, not counted as a line.
    a.done(Cmd::Qhttpread(form("AT+QHTTPREAD=80")), None)
}

/// A `AT+QISTATE?` answer with `n` lines, for both decoders.
fn qistate_exchange(n: u64) -> Exchange {
    let mut rng = Rng(0x5EED + n);
    let mut a = Answer::default();
    for i in 0..n {
        a.info(&qistate_line(&mut rng, i % 12));
    }
    a.fin("OK");
    a.done(
        Cmd::QistateAll(qistate::Read {}),
        Some(AtCmd::QistateAll(at::QistateAllCmd)),
    )
}

/// Time per byte of one answer, fed with `chunk`-byte pieces: the answer is
/// repeated so that a run lasts about 100 ms, and the best of [`RUNS`] runs
/// is kept.
fn per_byte(x: &Exchange, chunk: usize, atat: bool) -> f64 {
    let decode = |s: &Stream| {
        black_box(if atat {
            atat_decode(s, chunk)
        } else {
            fcm_decode(s, chunk)
        });
    };
    let once = Stream::new(vec![x.clone()]);
    let single = best_of(2, || decode(&once)).as_secs_f64();
    let reps = ((0.1 / single.max(1e-9)) as usize).clamp(1, 100_000);
    let stream = Stream::new(vec![x.clone(); reps]);
    let time = best_of(RUNS, || decode(&stream));
    time.as_nanos() as f64 / stream.bytes as f64
}

/// Frames every answer of `stream` (no data oracle: every line is a line),
/// fed in chunks of `chunk` bytes; returns the lines framed.
fn frame_only(stream: &Stream, chunk: usize) -> u64 {
    let mut framer = Framer::new(fcm242d::engine::MAX_LINE);
    let mut lines = 0u64;
    for x in &stream.exchanges {
        for piece in x.answer.chunks(chunk) {
            // Lines lent from the framer's buffer, as the engine takes them.
            let mut input = piece;
            while let Some(f) = framer.next_frame(&mut input, &NoData) {
                if let FrameRef::Line(l) = f {
                    lines += 1;
                    black_box(l);
                }
            }
        }
    }
    lines
}

/// Heap allocations per line, counted by the bench's allocator.
fn allocations(stream: &Stream, subset: &Stream) {
    println!();
    println!("Heap allocations (counting allocator), per line:");
    println!();
    println!("| what | feeding | lines | allocations | per line | bytes allocated per line |");
    println!("|---|---|---:|---:|---:|---:|");
    let row = |what: &str, chunk: usize, run: &mut dyn FnMut() -> u64| {
        let region = Region::new(GLOBAL);
        let lines = run();
        let s = region.change();
        let allocs = (s.allocations + s.reallocations) as u64;
        println!(
            "| {what} | {} | {lines} | {allocs} | {:.2} | {:.1} |",
            mode(chunk),
            allocs as f64 / lines.max(1) as f64,
            s.bytes_allocated as f64 / lines.max(1) as f64
        );
    };
    for chunk in [usize::MAX, 1] {
        row("framer alone, atat subset", chunk, &mut || {
            frame_only(subset, chunk)
        });
    }
    for chunk in [usize::MAX, 1] {
        row("fcm242d decode, atat subset", chunk, &mut || {
            fcm_decode(subset, chunk);
            subset.expect.lines()
        });
        row("atat decode, atat subset", chunk, &mut || {
            atat_decode(subset, chunk);
            subset.expect.lines()
        });
    }
    row("fcm242d decode, whole recording", usize::MAX, &mut || {
        fcm_decode(stream, usize::MAX);
        stream.expect.lines()
    });
}

/// The scaling part: the cost per byte against the size of the answer.
fn scaling() {
    println!();
    println!("Cost per byte against the amount buffered (best of {RUNS}, ns/byte):");
    println!();
    println!(
        "| {:<40} | {:>10} | {:>10} | {:>6} |",
        "answer", "whole", "1-byte", "ratio"
    );
    println!("|{:-<42}|{:->12}|{:->12}|{:->8}|", "", "", "", "");
    for n in [1_000, 64_000, 1_000_000] {
        let x = http_body_exchange(n);
        let mut t = Tally::default();
        fcm_exchange(&mut Engine::new(), &x, 1, &mut t);
        check("QHTTPREAD body", t, x.expect);
        let whole = per_byte(&x, usize::MAX, false);
        let bytewise = per_byte(&x, 1, false);
        println!(
            "| {:<40} | {:>10.2} | {:>10.2} | {:>6.2} |",
            format!("fcm242d, QHTTPREAD body of {n} bytes"),
            whole,
            bytewise,
            bytewise / whole
        );
    }
    for n in [1, 4, 12] {
        let x = qistate_exchange(n);
        let s = Stream::new(vec![x.clone()]);
        check("QISTATE lines, fcm242d", fcm_decode(&s, 1), x.expect);
        check("QISTATE lines, atat", atat_decode(&s, 1), x.expect);
        for (name, atat) in [("fcm242d", false), ("atat", true)] {
            let whole = per_byte(&x, usize::MAX, atat);
            let bytewise = per_byte(&x, 1, atat);
            println!(
                "| {:<40} | {:>10.2} | {:>10.2} | {:>6.2} |",
                format!("{name}, {n} +QISTATE lines ({} B)", x.answer.len()),
                whole,
                bytewise,
                bytewise / whole
            );
        }
    }
}

fn main() {
    let stream = recording();
    let subset = stream.atat_subset();

    // `--profile <whole|1|16|64> <runs>`: only decodes the atat subset, with
    // fcm242d that many times (for a profiler: `perf record`) and with atat
    // (up to five times), and prints the best times side by side.
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--profile") {
        let chunk = match args.get(i + 1).map(String::as_str) {
            Some("whole") | None => usize::MAX,
            Some(n) => n.parse().expect("a chunk size"),
        };
        let runs: usize = args
            .get(i + 2)
            .map_or(20, |n| n.parse().expect("a number of runs"));
        let per_line = |d: Duration| d.as_nanos() as f64 / subset.expect.lines() as f64;
        let fcm = best_of(runs, || {
            black_box(fcm_decode(&subset, chunk));
        });
        let atat = best_of(runs.min(5), || {
            black_box(atat_decode(&subset, chunk));
        });
        let frame = best_of(runs, || {
            black_box(frame_only(&subset, chunk));
        });
        println!("framer alone {:.1} ns per line", per_line(frame));
        println!(
            "atat subset, {}: fcm242d {:.1} ns per line, atat {:.1} ns per line, fcm242d / atat throughput {:.2}x",
            mode(chunk),
            per_line(fcm),
            per_line(atat),
            atat.as_secs_f64() / fcm.as_secs_f64()
        );
        return;
    }

    // Every decoder, every mode, decodes everything into the right values.
    for chunk in CHUNKS {
        check(
            &format!("fcm242d, {}", mode(chunk)),
            fcm_decode(&stream, chunk),
            stream.expect,
        );
        check(
            &format!("atat, {}", mode(chunk)),
            atat_decode(&subset, chunk),
            subset.expect,
        );
    }

    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .configure_from_args();

    {
        let mut g = c.benchmark_group("fcm242d full stream");
        g.sampling_mode(SamplingMode::Flat);
        // Up to 0.6 s per run byte by byte: room for 10 runs.
        g.measurement_time(Duration::from_secs(8));
        g.throughput(Throughput::ElementsAndBytes {
            elements: stream.expect.lines(),
            bytes: stream.bytes,
        });
        for chunk in CHUNKS {
            g.bench_function(mode(chunk), |b| {
                b.iter(|| black_box(fcm_decode(&stream, chunk)))
            });
        }
        g.finish();
    }
    {
        let mut g = c.benchmark_group("atat subset");
        g.sampling_mode(SamplingMode::Flat);
        g.throughput(Throughput::ElementsAndBytes {
            elements: subset.expect.lines(),
            bytes: subset.bytes,
        });
        for chunk in [usize::MAX, 1] {
            g.bench_function(format!("fcm242d {}", mode(chunk)), |b| {
                b.iter(|| black_box(fcm_decode(&subset, chunk)))
            });
        }
        g.bench_function(format!("atat {}", mode(usize::MAX)), |b| {
            b.iter(|| black_box(atat_decode(&subset, usize::MAX)))
        });
        g.finish();
    }
    {
        // About 2 s per run: a group of its own, with room for 10 runs.
        let mut g = c.benchmark_group("atat subset (slow)");
        g.sampling_mode(SamplingMode::Flat);
        g.measurement_time(Duration::from_secs(30));
        g.throughput(Throughput::ElementsAndBytes {
            elements: subset.expect.lines(),
            bytes: subset.bytes,
        });
        g.bench_function(format!("atat {}", mode(1)), |b| {
            b.iter(|| black_box(atat_decode(&subset, 1)))
        });
        g.finish();
    }
    c.final_summary();

    // The summary, timed here so that it is always printed (not under
    // `cargo test --benches`, which runs each benchmark once as a test).
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let e = stream.expect;
    println!();
    println!("== fcm242d decode summary (best of {RUNS} timed runs each) ==");
    println!();
    println!(
        "Recording: {} exchanges, {} bytes ({:.2} MB), {} lines ({} information lines, {} URCs, {} finals), {} data blocks ({} bytes), {} prompts.",
        stream.exchanges.len(),
        stream.bytes,
        stream.bytes as f64 / 1e6,
        e.lines(),
        e.info,
        e.urcs,
        e.finals,
        e.blocks,
        e.block_bytes,
        e.prompts
    );
    println!(
        "Each answer is fed after its command (`whole`: one feed per answer), every event is decoded into typed values."
    );
    println!();
    let rows: Vec<Row> = CHUNKS
        .iter()
        .map(|&chunk| Row {
            name: format!("fcm242d, {}", mode(chunk)),
            bytes: stream.bytes,
            lines: e.lines(),
            time: best_of(RUNS, || {
                black_box(fcm_decode(&stream, chunk));
            }),
        })
        .collect();
    table(&rows);
    println!();
    println!(
        "Cost per byte, 1-byte chunks / whole: {:.2}x (a constant per-feed cost; see the last table for its growth with the amount buffered)",
        rows[3].ns_per_byte() / rows[0].ns_per_byte()
    );

    let s = subset.expect;
    println!();
    println!(
        "atat subset: {} exchanges, {} bytes ({:.2} MB, {:.1}% of the recording), {} lines ({} information lines, {} URCs, {} finals); no data blocks, no prompts.",
        subset.exchanges.len(),
        subset.bytes,
        subset.bytes as f64 / 1e6,
        100.0 * subset.bytes as f64 / stream.bytes as f64,
        s.lines(),
        s.info,
        s.urcs,
        s.finals
    );
    println!(
        "Left out: data blocks (+QIRD <n>, direct-push +QIURC), prompts (QISEND, QMTPUB), answers with a URC between their lines, and +QMTRECV URCs (same prefix as the AT+QMTRECV= response; atat's URC matcher has no state to tell them apart)."
    );
    println!(
        "atat: AtDigester + the buffer loop of atat::Ingress::try_advance ({ATAT_BUF}-byte buffer; response slot and URC channel replaced by decoding on the spot); responses through AtatCmd::parse (serde_at::from_slice), URCs through the AtatUrc derive; each exchange written whole or in chunks; commands written with AtatCmd::write (fcm242d: Engine::command)."
    );
    println!();
    let mut at_rows = Vec::new();
    for chunk in CHUNKS {
        for (name, atat) in [("fcm242d", false), ("atat", true)] {
            at_rows.push(Row {
                name: format!("{name}, {}", mode(chunk)),
                bytes: subset.bytes,
                lines: s.lines(),
                time: best_of(RUNS, || {
                    black_box(if atat {
                        atat_decode(&subset, chunk)
                    } else {
                        fcm_decode(&subset, chunk)
                    });
                }),
            });
        }
    }
    table(&at_rows);
    println!();
    for (i, chunk) in CHUNKS.iter().enumerate() {
        let (fcm, atat) = (&at_rows[2 * i], &at_rows[2 * i + 1]);
        println!(
            "fcm242d / atat throughput on the subset, {}: {:.2}x",
            mode(*chunk),
            fcm.mb_per_s() / atat.mb_per_s()
        );
    }
    scaling();
    allocations(&stream, &subset);
}
