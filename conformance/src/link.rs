//! The runner's end of the UART: sends command lines and payloads, frames
//! what comes back (lines, prompts, data blocks, transparent bytes) with the
//! catalogue's knowledge of which lines announce data, and keeps a
//! transcript. Every wait has a deadline: the runner never hangs.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use fcm242d::engine::Final;
use fcm242d::framer::{DataOracle, Follow, Frame, Framer};
use fcm242d::generated::urcs::Urc;
use fcm242d::transport::Transport;

use crate::case::ConnectData;
use crate::generated::cases::DATA_LINES;
use crate::outcome::{Direction, Exchanged};
use crate::simtarget::{Control, Wall};

/// The longest line kept.
const MAX_LINE: usize = 8192;

/// One thing received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// A line.
    Line(String),
    /// The `>` prompt.
    Prompt,
    /// A data block.
    Data(Vec<u8>),
    /// Bytes in transparent mode.
    Raw(Vec<u8>),
    /// A line over the limit was dropped.
    Overflow,
}

/// What one command produced up to its final result.
#[derive(Debug, Clone, Default)]
pub struct Answer {
    /// Information lines (URCs are separated out).
    pub lines: Vec<String>,
    /// URC lines that came meanwhile.
    pub urcs: Vec<String>,
    /// Data blocks.
    pub data: Vec<Vec<u8>>,
    /// The final result line, if one came in time.
    pub result: Option<String>,
    /// A `CONNECT` line that announced a data block before the result.
    pub connect: Option<String>,
    /// Whether a `>` prompt came (the command waits for a payload).
    pub prompt: bool,
    /// How long it took.
    pub elapsed: Duration,
}

impl Answer {
    /// The parsed final result.
    pub fn final_result(&self) -> Option<Final> {
        self.result.as_deref().and_then(Final::parse)
    }

    /// A short text of the answer, for reports and diffs.
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = self.lines.clone();
        parts.extend(self.connect.clone());
        if self.prompt {
            parts.push(">".into());
        }
        parts.push(match &self.result {
            Some(r) => r.clone(),
            None => "(no final result)".into(),
        });
        parts.join(" | ")
    }
}

struct Oracle {
    connect: ConnectData,
}

impl DataOracle for Oracle {
    fn data_length(&self, line: &[u8]) -> Option<usize> {
        match self.follow(line) {
            Follow::Data(n) => Some(n),
            _ => None,
        }
    }

    fn follow(&self, line: &[u8]) -> Follow {
        let Ok(text) = std::str::from_utf8(line) else {
            return Follow::Lines;
        };
        match (Final::parse(text), self.connect) {
            (Some(Final::ConnectN(n)), ConnectData::Length) => return Follow::Data(n),
            (Some(Final::Connect), ConnectData::UntilOk) => {
                return Follow::DataUntil(b"\r\nOK\r\n".to_vec())
            }
            (Some(Final::Connect), ConnectData::Transparent) => return Follow::Transparent,
            _ => {}
        }
        for (prefix, field, count) in DATA_LINES {
            if let Some(rest) = text.strip_prefix(prefix) {
                // `+QIRD: <total>,<have_read>,<unread>` is not `+QIRD: <len>`.
                if count.is_some_and(|c| rest.split(',').count() != c) {
                    continue;
                }
                if let Some(n) = rest
                    .split(',')
                    .nth(*field)
                    .and_then(|f| f.trim().parse::<usize>().ok())
                {
                    return Follow::Data(n);
                }
            }
        }
        if let Some(Ok(urc)) = Urc::parse(text) {
            if let Some(n) = urc.data_length() {
                return Follow::Data(n);
            }
        }
        Follow::Lines
    }
}

/// The link to a target.
pub struct Link {
    transport: Box<dyn Transport>,
    control: Box<dyn Control>,
    framer: Framer,
    oracle: Oracle,
    queue: VecDeque<Received>,
    transcript: Vec<Exchanged>,
    started: Instant,
    /// The last command line sent (for unexplained-line reports).
    pub last_command: String,
    /// Whether the module echoes (lines equal to the command are dropped).
    echo_expected: Option<String>,
    /// Secrets to mask in the transcript.
    secrets: Vec<String>,
    closed: bool,
    /// Final results that answered none of [`Link::resync`]'s commands.
    stale: Vec<String>,
}

impl Link {
    /// A link over `transport`, a real module's (the system's clock, no reset).
    pub fn new(transport: Box<dyn Transport>) -> Link {
        Link::with_control(transport, Box::new(Wall))
    }

    /// A link over `transport` whose clock, pauses and reset `control`
    /// gives (the in-process simulator's).
    pub fn with_control(transport: Box<dyn Transport>, control: Box<dyn Control>) -> Link {
        let started = control.now();
        Link {
            transport,
            control,
            framer: Framer::new(MAX_LINE),
            oracle: Oracle {
                connect: ConnectData::None,
            },
            queue: VecDeque::new(),
            transcript: Vec::new(),
            started,
            last_command: String::new(),
            echo_expected: None,
            secrets: Vec::new(),
            closed: false,
            stale: Vec::new(),
        }
    }

    /// Masks `secret` wherever it appears in transcripts.
    pub fn add_secret(&mut self, secret: &str) {
        if !secret.is_empty() && !self.secrets.iter().any(|s| s == secret) {
            self.secrets.push(secret.to_string());
        }
    }

    /// The target's description.
    pub fn describe(&self) -> String {
        self.transport.describe()
    }

    /// The target's clock: deadlines given to this link are on it.
    pub fn now(&self) -> Instant {
        self.control.now()
    }

    /// Lets `duration` pass on the target's clock (a guard time).
    pub fn pause(&mut self, duration: Duration) {
        self.control.pause(duration);
    }

    /// Puts the target back to its power-on state, forgetting whatever was
    /// in flight; `false` when it cannot (a real module).
    pub fn reset_target(&mut self) -> bool {
        if !self.control.reset() {
            return false;
        }
        self.framer.reset();
        self.queue.clear();
        self.oracle.connect = ConnectData::None;
        self.echo_expected = None;
        true
    }

    /// Whether each case starts from a fresh module (so nothing needs to
    /// be put back after it).
    pub fn fresh_per_case(&self) -> bool {
        self.control.can_reset()
    }

    /// Whether the link was closed by the target.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Starts a new transcript (one per case).
    pub fn take_transcript(&mut self) -> Vec<Exchanged> {
        self.started = self.now();
        std::mem::take(&mut self.transcript)
    }

    fn log(&mut self, direction: Direction, text: String) {
        let mut text = text;
        for s in &self.secrets {
            text = text.replace(s.as_str(), "********");
        }
        self.transcript.push(Exchanged {
            direction,
            text,
            at_ms: self
                .now()
                .saturating_duration_since(self.started)
                .as_millis() as u64,
        });
    }

    /// Sends a command line (CR appended), expecting what `connect` says
    /// after `CONNECT`.
    pub fn send_line(&mut self, line: &str, connect: ConnectData, prompt: bool) {
        self.oracle.connect = connect;
        self.framer.expect_prompt(prompt);
        self.last_command = line.to_string();
        self.echo_expected = Some(line.to_string());
        self.log(Direction::Sent, line.to_string());
        let mut bytes = line.as_bytes().to_vec();
        bytes.push(b'\r');
        self.write(&bytes);
    }

    /// Sends raw bytes (a payload, `+++`).
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.log(Direction::Sent, escape(bytes));
        self.framer.expect_prompt(false);
        self.write(bytes);
    }

    fn write(&mut self, bytes: &[u8]) {
        if self.transport.write_all(bytes).is_err() {
            self.closed = true;
        }
    }

    /// Whether the link carries transparent bytes (after a `CONNECT` into
    /// transparent mode, until `+++`).
    pub fn is_transparent(&self) -> bool {
        self.framer.is_transparent()
    }

    /// Leaves transparent framing (after `+++`).
    pub fn leave_transparent(&mut self) {
        self.framer.set_transparent(false);
    }

    /// Sends the escape sequence out of transparent mode: `silence`, `+++`,
    /// `silence` again (the guard times around it), then frames lines
    /// again. The module's answer to it is the caller's to read.
    pub fn escape(&mut self, silence: Duration) {
        self.pause(silence);
        self.send_raw(b"+++");
        self.pause(silence);
        self.leave_transparent();
    }

    /// The next thing received before `deadline`.
    pub fn next(&mut self, deadline: Instant) -> Option<Received> {
        loop {
            if let Some(r) = self.queue.pop_front() {
                return Some(r);
            }
            let now = self.now();
            if now >= deadline || self.closed {
                return None;
            }
            let mut buf = [0u8; 4096];
            let wait = (deadline - now).min(Duration::from_millis(100));
            match self.transport.read(&mut buf, wait) {
                Ok(0) => {}
                Ok(n) => self.feed(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => self.closed = true,
            }
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        let mut frames = Vec::new();
        self.framer
            .feed(bytes, &self.oracle, &mut |f| frames.push(f));
        for f in frames {
            let r = match f {
                Frame::Line(l) => {
                    let text = String::from_utf8_lossy(&l).into_owned();
                    if self.echo_expected.as_deref() == Some(text.as_str()) {
                        self.echo_expected = None;
                        continue;
                    }
                    self.log(Direction::Received, text.clone());
                    Received::Line(text)
                }
                Frame::Prompt => {
                    self.log(Direction::Received, ">".into());
                    Received::Prompt
                }
                Frame::Data(d) => {
                    self.log(Direction::Received, escape(&d));
                    Received::Data(d)
                }
                Frame::Raw(d) => {
                    self.log(Direction::Received, escape(&d));
                    Received::Raw(d)
                }
                Frame::Overflow { .. } => Received::Overflow,
            };
            self.queue.push_back(r);
        }
    }

    /// Collects the answer to the command just sent: lines up to a final
    /// result or a prompt, or until `deadline`.
    pub fn answer(&mut self, deadline: Instant) -> Answer {
        let start = self.now();
        let mut a = Answer::default();
        while let Some(r) = self.next(deadline) {
            match r {
                Received::Line(l) => {
                    if let Some(f) = Final::parse(&l) {
                        // `CONNECT <n>` / `CONNECT` before a data block: the
                        // data and the real final result follow.
                        let announces_data = matches!(
                            (f, self.oracle.connect),
                            (Final::ConnectN(_), ConnectData::Length)
                                | (Final::Connect, ConnectData::UntilOk)
                        );
                        if announces_data && a.connect.is_none() {
                            a.connect = Some(l);
                            continue;
                        }
                        a.result = Some(l);
                        break;
                    } else if is_urc(&l) {
                        a.urcs.push(l);
                    } else {
                        a.lines.push(l);
                    }
                }
                Received::Prompt => {
                    a.prompt = true;
                    break;
                }
                Received::Data(d) | Received::Raw(d) => a.data.push(d),
                Received::Overflow => a.lines.push("(over-long line)".into()),
            }
        }
        a.elapsed = self.now().saturating_duration_since(start);
        a
    }

    /// Waits for a URC whose family label is `label` (or any line starting
    /// with it), collecting other lines into `others`.
    pub fn wait_urc(
        &mut self,
        label: &str,
        deadline: Instant,
        others: &mut Vec<String>,
    ) -> Option<String> {
        while let Some(r) = self.next(deadline) {
            if let Received::Line(l) = r {
                let matches = match Urc::parse(&l) {
                    Some(Ok(u)) => u.kind().label() == label || l.starts_with(label),
                    _ => l.starts_with(label),
                };
                if matches {
                    return Some(l);
                }
                others.push(l);
            }
        }
        None
    }

    /// Reads and returns whatever arrives until `quiet` passes with nothing.
    pub fn drain(&mut self, quiet: Duration, cap: Duration) -> Vec<Received> {
        let end = self.now() + cap;
        let mut out = Vec::new();
        loop {
            let deadline = (self.now() + quiet).min(end);
            match self.next(deadline) {
                Some(r) => out.push(r),
                None => return out,
            }
            if self.now() >= end {
                return out;
            }
        }
    }

    /// Re-synchronises with a module that hangs, garbles or rebooted: `+++`
    /// in case it is in transparent mode, then `AT` until `OK`. An `OK`
    /// counts only when no other final result follows it while the module
    /// is quiet: otherwise one of them was a late answer of an earlier
    /// command, and `AT` is sent again. The final results that were not
    /// `AT`'s are kept for [`Link::take_stale`]. Returns whether it
    /// answered.
    pub fn resync(&mut self, attempts: usize) -> bool {
        self.framer.reset();
        self.queue.clear();
        for i in 0..attempts {
            if i == 1 {
                self.pause(Duration::from_millis(1100));
                self.send_raw(b"+++");
                self.pause(Duration::from_millis(1100));
                self.framer.reset();
            }
            self.send_line("AT", ConnectData::None, false);
            let a = self.answer(self.now() + Duration::from_millis(1500));
            let Some(result) = a.result else { continue };
            let after: Vec<String> = self
                .drain(Duration::from_millis(100), Duration::from_secs(1))
                .into_iter()
                .filter_map(|r| match r {
                    Received::Line(l) if Final::parse(&l).is_some() => Some(l),
                    _ => None,
                })
                .collect();
            if result == "OK" && after.is_empty() {
                return true;
            }
            // Every final result but one (`AT`'s own) is stale; which one
            // cannot be told, so the one `AT` owns is dropped from the last.
            let mut seen = vec![result];
            seen.extend(after);
            seen.pop();
            self.stale.extend(seen);
        }
        false
    }

    /// The final results [`Link::resync`] found that answered no `AT` of
    /// its own (late answers of earlier commands).
    pub fn take_stale(&mut self) -> Vec<String> {
        std::mem::take(&mut self.stale)
    }
}

/// Whether a line is a URC of the catalogue (well-formed or not: a line with
/// a URC prefix).
pub fn is_urc(line: &str) -> bool {
    Urc::parse(line).is_some()
}

/// Printable form of bytes: printable ASCII as is, the rest as `\xNN`.
pub fn escape(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            0x20..=0x7E => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02X}")),
        }
    }
    s
}
