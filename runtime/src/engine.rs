//! The sans-IO protocol engine: hand it a command and it gives the bytes to
//! write; feed it the bytes the module sends and it gives typed events. It
//! does no I/O and keeps no clock, so it runs anywhere (`no_std` + `alloc`).
//! The session layer ([`crate::session`]) builds on it the logic of whole
//! exchanges (completions, series, data phases, time limits, resync).
//!
//! ```
//! use fcm242d::engine::{Engine, Event, Final};
//! use fcm242d::generated::commands::qversion;
//! use fcm242d::generated::urcs::Urc;
//!
//! let mut engine = Engine::new();
//! // The bytes to write, lent by the engine until its next call.
//! let bytes = engine.command(&qversion::Execute {});
//! assert_eq!(bytes, b"AT+QVERSION\r\n");
//! engine.feed(b"\r\n+QIURC: \"closed\",1\r\n+QVERSION: FCM242DAAR01A05\r\n\r\nOK\r\n");
//! assert!(matches!(engine.poll(), Some(Event::Urc(Urc::QiurcClosed(_)))));
//! let Some(Event::Line(line)) = engine.poll() else { panic!() };
//! assert_eq!(line.get::<qversion::ExecuteLine>().unwrap().version, "FCM242DAAR01A05");
//! assert_eq!(engine.poll(), Some(Event::Final(Final::Ok)));
//! ```
//!
//! # What the engine guarantees
//!
//! - The same events for every split of the input: each frame is acted on
//!   before the bytes after it are framed ([`Framer::step`]), so bytes that
//!   follow a final result in the same read are framed for the state after
//!   it (after `ERROR`, a `CONNECT` enters nothing).
//! - A line is decoded once, when it is classified: the typed URC or
//!   information line decided then is the one delivered.
//! - Data blocks are framed by the length their line announces, read from
//!   the length field alone, even when another field of the line is out of
//!   range (the line is then an [`Event::BadUrc`] or [`Event::BadLine`] that
//!   carries the block). A length beyond what the command asked for, the
//!   catalogue's maximum or [`Limits::max_data`] is an error: nothing is
//!   awaited, and framing goes on at the next line.
//! - Nothing is dropped: every line is an event, whether it decodes or not.

use alloc::collections::VecDeque;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::Cell;
use core::fmt;
use core::ops::Range;

use crate::command::{AfterConnect, AtCommand, Decoded, InfoLine, Line, LinesAfter, Prompt};
use crate::framer::{DataOracle, Follow, Frame, FrameRef, Framer, Peek};
use crate::generated::urcs::Urc;
use crate::value::ValueError;
use crate::wire::DecodeError;

/// The longest line the engine keeps by default (longer ones are reported as
/// [`Event::Overflow`]). Generous on purpose: the longest line the catalogue
/// allows is a `+QMTRECV` with a 10240-byte payload (twice that in hex), a
/// topic and its header.
pub const MAX_LINE: usize = 32 * 1024;

/// The largest data block the engine waits for by default when neither the
/// command nor the catalogue bounds it (`AT+QFREAD` of a whole file,
/// `+QIURC: "recv"` in direct-push mode).
pub const MAX_DATA: usize = 1024 * 1024;

/// The size of the buffer commands are encoded into (it grows for a longer
/// line): enough for most command lines.
const COMMAND_BUF: usize = 256;

/// Writes `bytes` into `buf` at `at`, growing it if needed; returns where
/// they end.
fn put(buf: &mut Vec<u8>, at: usize, bytes: &[u8]) -> usize {
    let end = at.saturating_add(bytes.len());
    if buf.len() < end {
        buf.resize(end, 0);
    }
    if let Some(dst) = buf.get_mut(at..end) {
        dst.copy_from_slice(bytes);
    }
    end
}

/// Where `bytes.trim_ascii()` lies in `bytes`.
fn trimmed(bytes: &[u8]) -> Range<usize> {
    let start = bytes.len() - bytes.trim_ascii_start().len();
    start..start + bytes.trim_ascii().len()
}

/// The echo to recognise: `at` in the command buffer `out`.
fn echo_of<'a>(out: &'a [u8], at: &Range<usize>) -> &'a [u8] {
    out.get(at.clone()).unwrap_or_default()
}

/// What the engine keeps at most, so that no input makes it hold unbounded
/// memory or wait for bytes that will never come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The longest line kept, in bytes (an in-line payload its own length
    /// field announces comes on top).
    pub max_line: usize,
    /// The largest data block waited for, in bytes.
    pub max_data: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: MAX_LINE,
            max_data: MAX_DATA,
        }
    }
}

/// A final result code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Final {
    /// `OK`
    Ok,
    /// `ERROR`
    Error,
    /// `+CME ERROR: <err>` with a numeric code.
    CmeError(i64),
    /// `+CME ERROR: <text>`: a text, or a code too large for a number.
    CmeText(String),
    /// `SEND OK`
    SendOk,
    /// `SEND FAIL`
    SendFail,
    /// `CONNECT` (transparent mode, or the end of a response that switches mode)
    Connect,
    /// `CONNECT <n>` (a count too large for a `usize` reads as `usize::MAX`,
    /// which no limit allows).
    ConnectN(usize),
    /// `NO CARRIER`
    NoCarrier,
}

impl Final {
    /// Reads a final result line, as modules write them: `+CME ERROR:` with
    /// a code or a text (with or without the space), `CONNECT` with a count.
    pub fn parse(line: &str) -> Option<Final> {
        Final::fixed(line.as_bytes()).or_else(|| Final::with_value(line))
    }

    /// [`parse`](Final::parse) of a line as received: the fixed results
    /// are compared as bytes (no UTF-8 check for the `OK` that ends most
    /// answers); the others must be UTF-8.
    pub fn parse_bytes(line: &[u8]) -> Option<Final> {
        Final::fixed(line).or_else(|| core::str::from_utf8(line).ok().and_then(Final::with_value))
    }

    /// The results without a value.
    fn fixed(line: &[u8]) -> Option<Final> {
        match line {
            b"OK" => Some(Final::Ok),
            b"ERROR" => Some(Final::Error),
            b"SEND OK" => Some(Final::SendOk),
            b"SEND FAIL" => Some(Final::SendFail),
            b"CONNECT" => Some(Final::Connect),
            b"NO CARRIER" => Some(Final::NoCarrier),
            _ => None,
        }
    }

    /// `+CME ERROR: <err>` and `CONNECT <n>`.
    fn with_value(line: &str) -> Option<Final> {
        if let Some(rest) = line.strip_prefix("+CME ERROR:") {
            let rest = rest.trim();
            return Some(match rest.parse::<i64>() {
                Ok(code) => Final::CmeError(code),
                Err(_) => Final::CmeText(rest.to_string()),
            });
        }
        let n = line.strip_prefix("CONNECT ")?.trim();
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(Final::ConnectN(n.parse().unwrap_or(usize::MAX)))
    }

    /// Whether the command succeeded (`OK`, `SEND OK`, `CONNECT`, `CONNECT <n>`).
    pub fn is_success(&self) -> bool {
        matches!(
            self,
            Final::Ok | Final::SendOk | Final::Connect | Final::ConnectN(_)
        )
    }
}

impl fmt::Display for Final {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Final::Ok => f.write_str("OK"),
            Final::Error => f.write_str("ERROR"),
            Final::CmeError(code) => write!(f, "+CME ERROR: {code}"),
            Final::CmeText(text) => write!(f, "+CME ERROR: {text}"),
            Final::SendOk => f.write_str("SEND OK"),
            Final::SendFail => f.write_str("SEND FAIL"),
            Final::Connect => f.write_str("CONNECT"),
            Final::ConnectN(n) => write!(f, "CONNECT {n}"),
            Final::NoCarrier => f.write_str("NO CARRIER"),
        }
    }
}

/// What the engine recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A URC, with its data block when its variant carries one.
    Urc(Urc),
    /// A line that starts like a URC of the catalogue but does not decode.
    BadUrc {
        /// The line (bytes that are not UTF-8 shown as U+FFFD).
        line: String,
        /// Why it does not decode.
        error: DecodeError,
        /// The data block it announced, framed by its length field.
        data: Option<Vec<u8>>,
    },
    /// An information line of the pending command, decoded with the form's
    /// `Line` type ([`InfoLine::get`] / [`InfoLine::downcast`] to `C::Line`).
    Line(InfoLine),
    /// A line with the shape of the pending command's information lines
    /// that does not decode, or that announces a data block longer than
    /// allowed (its data, when framed anyway, is the next [`Event::Data`]).
    BadLine {
        /// The line.
        line: String,
        /// Why.
        error: DecodeError,
    },
    /// A data block of the pending command's response.
    Data(Vec<u8>),
    /// `CONNECT` / `CONNECT <n>` before the pending command's data (QFREAD, QHTTPREAD).
    Connect(Option<usize>),
    /// The data-phase prompt (`>`, or `CONNECT` for QFWRITE/QHTTPPOST): send the payload.
    Prompt,
    /// The pending command's final result (or `NO CARRIER` when transparent mode ends).
    Final(Final),
    /// Bytes received in transparent mode.
    Raw(Vec<u8>),
    /// A line that is neither a URC nor part of a pending command (a final
    /// result no command waits for is one too).
    Unsolicited(String),
    /// A line longer than [`Limits::max_line`] was dropped.
    Overflow {
        /// How many bytes were dropped when it was noticed.
        discarded: usize,
    },
}

/// How a payload ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadEnd {
    /// The length was announced: send the bytes only.
    Length,
    /// Ctrl+Z (0x1A) sends it.
    CtrlZ,
    /// Esc (0x1B) cancels it.
    Cancel,
}

/// How the engine reads the pending form's information lines: the form's
/// `Line` type, behind function pointers so the engine needs no type
/// parameter.
#[derive(Clone, Copy)]
struct LineReader {
    prefixes: &'static [&'static str],
    /// Whether every non-empty prefix starts with [`PLUS`]: then a line
    /// that does not is never [`claims`](LineReader::claims)ed.
    plus_only: bool,
    decode: fn(&[u8]) -> Decoded<InfoLine>,
    /// `L::inline_remaining`, when the type can have an in-line payload
    /// ([`Line::INLINE_PAYLOAD`](crate::command::Line::INLINE_PAYLOAD)).
    inline: Option<InlineRemaining>,
}

/// [`Line::inline_remaining`](crate::command::Line::inline_remaining) of a
/// line type.
type InlineRemaining = fn(&[u8]) -> Option<usize>;

impl fmt::Debug for LineReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LineReader")
            .field("prefixes", &self.prefixes)
            .finish()
    }
}

impl LineReader {
    fn of<L: Line>() -> Self {
        LineReader {
            prefixes: L::PREFIXES,
            plus_only: const { plus_only(L::PREFIXES) },
            decode: |line| L::decode(line).map(InfoLine::new),
            inline: if L::INLINE_PAYLOAD {
                Some(L::inline_remaining)
            } else {
                None
            },
        }
    }

    /// Whether a line that does not start with [`PLUS`] can still hold an
    /// in-line payload of this type.
    fn inline_without_plus(&self) -> bool {
        self.inline.is_some() && !self.plus_only
    }

    /// Whether a template with a prefix starts this line.
    fn claims(&self, line: &[u8]) -> bool {
        self.prefixes
            .iter()
            .any(|p| !p.is_empty() && line.starts_with(p.as_bytes()))
    }

    /// Whether a template matches any line (`<data>`).
    fn catch_all(&self) -> bool {
        self.prefixes.iter().any(|p| p.is_empty())
    }
}

/// Where the pending command is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Waiting for its final result.
    Running,
    /// After its final result, the lines the form prints then (`None`: any
    /// number, until the next command).
    After(Option<usize>),
}

/// What the engine knows about the command in flight.
#[derive(Debug, Clone)]
struct Pending {
    echo_seen: bool,
    prompt: Option<Prompt>,
    after_connect: AfterConnect,
    enters_transparent: bool,
    lines_after: LinesAfter,
    reader: LineReader,
    data_limit: Option<usize>,
    stage: Stage,
}

/// How a line was classified when it ended.
#[derive(Debug)]
enum Class {
    Echo,
    Final(Final),
    Info(InfoLine),
    BadLine(DecodeError),
    Urc(Urc),
    BadUrc(DecodeError),
    Unknown,
}

/// What waits for its data block.
#[derive(Debug)]
enum Awaiting {
    Urc(Urc),
    BadUrc { line: String, error: DecodeError },
}

/// Classifies lines for the framer, from the pending command and the
/// catalogue's URCs, and keeps the classification for the engine.
struct Oracle<'a> {
    pending: Option<&'a Pending>,
    echo: &'a [u8],
    limits: Limits,
    memo: &'a Cell<Option<(Class, bool)>>,
}

impl DataOracle for Oracle<'_> {
    fn data_length(&self, line: &[u8]) -> Option<usize> {
        match self.follow(line) {
            Follow::Data(n) => Some(n),
            _ => None,
        }
    }

    fn follow(&self, line: &[u8]) -> Follow {
        let (class, follow) = classify(self.pending, self.echo, self.limits, line);
        let data = matches!(follow, Follow::Data(_));
        self.memo.set(Some((class, data)));
        follow
    }

    fn inline_remaining(&self, partial: &[u8]) -> Option<usize> {
        inline_remaining(self.pending, self.limits, partial)
    }
}

/// [`DataOracle::inline_remaining`] for the engine: how many more bytes
/// belong to `partial` whatever they are, for the pending form's line type
/// or a URC.
#[inline]
fn inline_remaining(pending: Option<&Pending>, limits: Limits, partial: &[u8]) -> Option<usize> {
    // Asked for every line, and most lines cannot hold an in-line
    // payload. Only the pending form's line type (when it has one), for
    // a line it claims, and the URCs can find one, and every URC starts
    // with `+` (the catalogue's rule for URC names;
    // `urcs_start_with_plus` checks it): a line that does not start
    // with `+` is answered at once, unless the form's type can hold an
    // in-line payload and has a prefix that does not start with `+`.
    let first = partial.first().copied()?;
    if first != PLUS && !pending.is_some_and(|p| p.reader.inline_without_plus()) {
        return None;
    }
    inline_payload(pending, limits, partial)
}

/// The in-line payload of `partial`, for the pending form's line type or a
/// URC. Out of line, so that the lines [`inline_remaining`] answers at once
/// cost no more than that.
#[inline(never)]
fn inline_payload(pending: Option<&Pending>, limits: Limits, partial: &[u8]) -> Option<usize> {
    let claimed = pending
        .and_then(|p| p.reader.inline.filter(|_| p.reader.claims(partial)))
        .and_then(|inline| inline(partial));
    claimed
        .or_else(|| Urc::inline_remaining(partial))
        .filter(|n| *n <= limits.max_data)
}

/// The first byte of every URC line, and of most information lines.
const PLUS: u8 = b'+';

/// Whether every non-empty prefix of `prefixes` starts with [`PLUS`].
const fn plus_only(prefixes: &[&str]) -> bool {
    let mut rest = prefixes;
    while let [prefix, tail @ ..] = rest {
        if let [first, ..] = prefix.as_bytes() {
            if *first != PLUS {
                return false;
            }
        }
        rest = tail;
    }
    true
}

/// Text for an event (bytes that are not UTF-8 shown as U+FFFD).
fn text_of(line: &[u8]) -> String {
    String::from_utf8_lossy(line).into_owned()
}

/// Decides what `line` is, and what follows it.
/// `echo` is the pending command's line as its echo comes back.
fn classify(
    pending: Option<&Pending>,
    echo: &[u8],
    limits: Limits,
    line: &[u8],
) -> (Class, Follow) {
    let running = pending.filter(|p| p.stage == Stage::Running);
    if let Some(p) = running {
        if !p.echo_seen && line.trim_ascii().eq_ignore_ascii_case(echo) {
            return (Class::Echo, Follow::Lines);
        }
    }
    // Only a line that can be a final result is checked as text: every
    // final starts with one of these bytes (`+` only as `+CME ERROR:`), so
    // information lines and URCs skip the UTF-8 check and the comparisons.
    let maybe_final = match line.first() {
        Some(b'O' | b'E' | b'S' | b'C' | b'N') => true,
        Some(b'+') => line.starts_with(b"+CME ERROR:"),
        _ => false,
    };
    if let Some(f) = maybe_final.then(|| Final::parse_bytes(line)).flatten() {
        return final_follow(running, limits, f);
    }
    let command_bound = |p: &Pending| {
        p.data_limit
            .map_or(limits.max_data, |l| l.min(limits.max_data))
    };
    if let Some(p) = pending {
        if p.reader.claims(line) {
            let d = (p.reader.decode)(line);
            if d.value.is_ok() {
                return framed(d, command_bound(p), Class::Info, Class::BadLine);
            }
            // The form's template did not read it; a URC with the same
            // prefix (`+QMTRECV:`) may.
            if let Some(u) = Urc::decode(line).filter(|u| u.value.is_ok()) {
                return framed(u, limits.max_data, Class::Urc, Class::BadUrc);
            }
            return framed(d, command_bound(p), Class::Info, Class::BadLine);
        }
    }
    let urc = Urc::decode(line);
    // A line that decodes as a URC is never taken for a template that
    // matches any line; nor is one with a URC's shape.
    let urc_shaped = urc
        .as_ref()
        .is_some_and(|u| !matches!(u.value, Err(DecodeError::NoMatch { .. })));
    if let Some(p) = pending.filter(|p| p.reader.catch_all() && !urc_shaped) {
        let d = (p.reader.decode)(line);
        if d.value.is_ok() {
            return framed(d, command_bound(p), Class::Info, Class::BadLine);
        }
    }
    match urc {
        Some(u) => framed(u, limits.max_data, Class::Urc, Class::BadUrc),
        None => (Class::Unknown, Follow::Lines),
    }
}

/// The class of a decoded line and what follows it: its data block when the
/// announced length is within `bound`.
fn framed<T>(
    d: Decoded<T>,
    bound: usize,
    good: fn(T) -> Class,
    bad: fn(DecodeError) -> Class,
) -> (Class, Follow) {
    let length = d.data.map(|a| {
        a.length
            .and_then(|n| {
                if n <= bound {
                    Ok(n)
                } else {
                    Err(ValueError::OutOfRange {
                        value: i64::try_from(n).unwrap_or(i64::MAX),
                        min: 0,
                        max: i64::try_from(bound).unwrap_or(i64::MAX),
                    })
                }
            })
            .map_err(|e| DecodeError::value(a.field, e))
    });
    match (d.value, length) {
        (Ok(v), None) => (good(v), Follow::Lines),
        (Ok(v), Some(Ok(n))) => (good(v), Follow::Data(n)),
        (Ok(_), Some(Err(e))) => (bad(e), Follow::Lines),
        (Err(e), Some(Ok(n))) => (bad(e), Follow::Data(n)),
        (Err(e), _) => (bad(e), Follow::Lines),
    }
}

/// A final result line, and what follows it for the running command.
fn final_follow(running: Option<&Pending>, limits: Limits, f: Final) -> (Class, Follow) {
    let Some(p) = running else {
        return (Class::Final(f), Follow::Lines);
    };
    if matches!(f, Final::Connect | Final::ConnectN(_)) && p.prompt == Some(Prompt::Connect) {
        return (Class::Final(f), Follow::Lines);
    }
    let follow = match (p.after_connect, &f) {
        (AfterConnect::Length, Final::ConnectN(n)) => {
            let bound = p
                .data_limit
                .map_or(limits.max_data, |l| l.min(limits.max_data));
            if *n > bound {
                let error = DecodeError::value(
                    "CONNECT <n>",
                    ValueError::OutOfRange {
                        value: i64::try_from(*n).unwrap_or(i64::MAX),
                        min: 0,
                        max: i64::try_from(bound).unwrap_or(i64::MAX),
                    },
                );
                return (Class::BadLine(error), Follow::Lines);
            }
            Follow::Data(*n)
        }
        (AfterConnect::UntilOk, Final::Connect) => Follow::DataUntil(b"\r\nOK\r\n".to_vec()),
        _ if p.enters_transparent && f == Final::Connect => Follow::Transparent,
        _ => Follow::Lines,
    };
    (Class::Final(f), follow)
}

/// The protocol engine.
pub struct Engine {
    framer: Framer,
    limits: Limits,
    pending: Option<Pending>,
    /// Where in `out` the pending command's line is as its echo comes
    /// back (trimmed): no copy of it per command.
    echo: Range<usize>,
    /// The bytes of the last command, at the start of a buffer every
    /// command reuses (kept at its full length, at least [`COMMAND_BUF`]).
    out: Vec<u8>,
    /// A URC line that arrived and whose data block is awaited.
    awaiting: Option<Awaiting>,
    events: VecDeque<Event>,
    /// The classification of the line the framer just completed, and
    /// whether a counted data block follows it.
    memo: Cell<Option<(Class, bool)>>,
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("framer", &self.framer)
            .field("limits", &self.limits)
            .field("pending", &self.pending)
            .field("awaiting", &self.awaiting)
            .field("events", &self.events)
            .finish()
    }
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl Engine {
    /// An idle engine in command mode, with the default [`Limits`].
    pub fn new() -> Self {
        Self::with_limits(Limits::default())
    }

    /// An idle engine with the given limits.
    pub fn with_limits(limits: Limits) -> Self {
        Engine {
            framer: Framer::new(limits.max_line),
            limits,
            pending: None,
            echo: 0..0,
            out: Vec::new(),
            awaiting: None,
            events: VecDeque::new(),
            memo: Cell::new(None),
        }
    }

    /// The engine's limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Starts `cmd`: returns the bytes to write (the line and CR LF). `+++`
    /// returns just `+++`: the client must keep the guard times around it.
    /// Lines a previous command's response prints after its final result
    /// (scan results) are no longer expected.
    ///
    /// The bytes are lent from a buffer the engine keeps and reuses for
    /// every command: they are valid until the next call that takes
    /// `&mut self` (copy them, `.to_vec()`, to keep them longer). Once the
    /// buffer is as long as the command line (256 bytes at first), a
    /// generated form is encoded without allocating.
    pub fn command<C: AtCommand>(&mut self, cmd: &C) -> &[u8] {
        // The line is encoded straight into the reused buffer, kept at its
        // full length (zeroed once) so that `encode_into` can use all of it;
        // a line that does not fit is encoded apart and copied in (the
        // buffer then stays that large).
        if self.out.len() < COMMAND_BUF {
            self.out.resize(COMMAND_BUF, 0);
        }
        let n = match cmd.encode_into(&mut self.out) {
            Ok(n) => n,
            Err(_) => put(&mut self.out, 0, cmd.encode().as_bytes()),
        };
        let pending = Pending {
            echo_seen: false,
            prompt: C::DATA_PHASE.map(|d| d.prompt),
            after_connect: C::AFTER_CONNECT,
            enters_transparent: C::ENTERS_TRANSPARENT,
            lines_after: C::LINES_AFTER_FINAL,
            reader: LineReader::of::<C::Line>(),
            data_limit: cmd.data_limit(),
            stage: Stage::Running,
        };
        self.start(n, C::NAME == "+++", pending)
    }

    /// The part of [`command`](Engine::command) that does not depend on the
    /// command's type (compiled once): the command's line is `out[..n]`.
    fn start(&mut self, n: usize, escape: bool, pending: Pending) -> &[u8] {
        if escape {
            // Leaving transparent mode: the module answers in command mode.
            self.framer.set_transparent(false);
        }
        self.framer
            .expect_prompt(pending.prompt == Some(Prompt::Greater));
        // The echo to recognise, trimmed once here rather than per line.
        self.echo = trimmed(self.out.get(..n).unwrap_or_default());
        let end = if escape {
            n
        } else {
            put(&mut self.out, n, b"\r\n")
        };
        self.pending = Some(pending);
        self.out.get(..end).unwrap_or_default()
    }

    /// The bytes of a payload for the data phase that the last prompt asked for.
    pub fn payload(&mut self, data: &[u8], end: PayloadEnd) -> Vec<u8> {
        let mut out = data.to_vec();
        match end {
            PayloadEnd::Length => {}
            PayloadEnd::CtrlZ => out.push(0x1A),
            PayloadEnd::Cancel => out.push(0x1B),
        }
        out
    }

    /// Feeds bytes received from the module, in any fragmentation. Each frame
    /// is handled before the bytes after it are framed.
    pub fn feed(&mut self, bytes: &[u8]) {
        let mut input = bytes;
        loop {
            // The fast path: a whole line at the front of the input, while
            // nothing else is in progress, is classified here and handed
            // back to the framer with what follows it; no oracle, no memo.
            match self.framer.peek_line(&mut input) {
                Peek::UsedUp => break,
                Peek::Line(line)
                    if inline_remaining(self.pending.as_ref(), self.limits, line)
                        .is_none_or(|n| n == 0) =>
                {
                    let (class, follow) = classify(
                        self.pending.as_ref(),
                        echo_of(&self.out, &self.echo),
                        self.limits,
                        line,
                    );
                    let data_follows = matches!(follow, Follow::Data(_));
                    self.framer.take_line(&mut input, line, follow);
                    let parts = (&mut self.pending, &mut self.awaiting, &mut self.events);
                    if Lines::deliver(parts, line, class, data_follows) {
                        self.framer.expect_prompt(false);
                    }
                    continue;
                }
                // A line with an in-line payload, or anything else the
                // framer's byte-level path decides.
                _ => {}
            }
            let frame = {
                let oracle = Oracle {
                    pending: self.pending.as_ref(),
                    echo: echo_of(&self.out, &self.echo),
                    limits: self.limits,
                    memo: &self.memo,
                };
                self.framer.next_frame_bytewise(&mut input, &oracle)
            };
            match frame {
                // The line is lent from the framer's buffer: no copy.
                Some(FrameRef::Line(bytes)) => {
                    let (class, data_follows) = match self.memo.take() {
                        Some(c) => c,
                        // Only the framer's own `NO CARRIER` comes unclassified.
                        None => (
                            classify(
                                self.pending.as_ref(),
                                echo_of(&self.out, &self.echo),
                                self.limits,
                                bytes,
                            )
                            .0,
                            false,
                        ),
                    };
                    let parts = (&mut self.pending, &mut self.awaiting, &mut self.events);
                    if Lines::deliver(parts, bytes, class, data_follows) {
                        self.framer.expect_prompt(false);
                    }
                }
                Some(frame) => {
                    let frame = frame.into_owned();
                    self.handle(frame);
                }
                None => break,
            }
        }
    }

    /// The next event, if any.
    pub fn poll(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Whether a command is waiting for its final result.
    pub fn is_busy(&self) -> bool {
        self.pending
            .as_ref()
            .is_some_and(|p| p.stage == Stage::Running)
    }

    /// Whether the engine is in the middle of a data block (a counted block,
    /// an HTTP body up to its `OK`).
    pub fn in_data(&self) -> bool {
        self.framer.in_data()
    }

    /// Gives up on the pending command (after a timeout): later lines of it
    /// are reported as unsolicited.
    pub fn cancel(&mut self) {
        self.pending = None;
        self.framer.expect_prompt(false);
    }

    /// Whether the link is in transparent mode.
    pub fn is_transparent(&self) -> bool {
        self.framer.is_transparent()
    }

    /// Forgets everything in flight (after a reboot or a resynchronisation):
    /// a partial line, a data block being received, transparent mode.
    pub fn reset(&mut self) {
        self.framer.reset();
        self.pending = None;
        self.awaiting = None;
        self.events.clear();
        self.memo.set(None);
    }

    /// A frame other than a line.
    fn handle(&mut self, frame: Frame) {
        match frame {
            // Lines come lent (`FrameRef::Line`) and are handled in `feed`.
            Frame::Line(_) => {}
            Frame::Data(data) => match self.awaiting.take() {
                Some(Awaiting::Urc(mut u)) => {
                    u.set_data(data);
                    self.events.push_back(Event::Urc(u));
                }
                Some(Awaiting::BadUrc { line, error }) => self.events.push_back(Event::BadUrc {
                    line,
                    error,
                    data: Some(data),
                }),
                None => self.events.push_back(Event::Data(data)),
            },
            Frame::Prompt => self.events.push_back(Event::Prompt),
            Frame::Raw(bytes) => self.events.push_back(Event::Raw(bytes)),
            Frame::Overflow { discarded } => self.events.push_back(Event::Overflow { discarded }),
        }
    }
}

/// What a line changes: the parts of the engine other than the framer,
/// borrowed while the line itself is still lent from the framer's buffer.
struct Lines<'e> {
    pending: &'e mut Option<Pending>,
    awaiting: &'e mut Option<Awaiting>,
    events: &'e mut VecDeque<Event>,
    /// The framer should stop expecting a prompt (applied once the line is
    /// no longer borrowed).
    clear_prompt: bool,
}

impl<'e> Lines<'e> {
    /// Acts on a line and its class with the engine's parts other than the
    /// framer (the line may be lent from it); `true` when the framer should
    /// then stop expecting a prompt.
    fn deliver(
        (pending, awaiting, events): (
            &'e mut Option<Pending>,
            &'e mut Option<Awaiting>,
            &'e mut VecDeque<Event>,
        ),
        bytes: &[u8],
        class: Class,
        data_follows: bool,
    ) -> bool {
        let mut lines = Lines {
            pending,
            awaiting,
            events,
            clear_prompt: false,
        };
        lines.line(bytes, class, data_follows);
        lines.clear_prompt
    }

    /// A line and its class; `data_follows` when a counted data block (maybe
    /// empty) comes next and belongs to it.
    fn line(&mut self, bytes: &[u8], class: Class, data_follows: bool) {
        match class {
            Class::Echo => {
                if let Some(p) = self.pending.as_mut() {
                    p.echo_seen = true;
                }
            }
            Class::Final(f) => self.final_result(f, bytes),
            Class::Info(l) => {
                self.events.push_back(Event::Line(l));
                self.count_after_line();
            }
            Class::BadLine(error) => self.events.push_back(Event::BadLine {
                line: text_of(bytes),
                error,
            }),
            Class::Urc(u) if data_follows => *self.awaiting = Some(Awaiting::Urc(u)),
            Class::Urc(u) => self.events.push_back(Event::Urc(u)),
            Class::BadUrc(error) if data_follows => {
                *self.awaiting = Some(Awaiting::BadUrc {
                    line: text_of(bytes),
                    error,
                })
            }
            Class::BadUrc(error) => self.events.push_back(Event::BadUrc {
                line: text_of(bytes),
                error,
                data: None,
            }),
            Class::Unknown => self.events.push_back(Event::Unsolicited(text_of(bytes))),
        }
    }

    /// One of the lines a form prints after its final result has come.
    fn count_after_line(&mut self) {
        if let Some(p) = self.pending.as_mut() {
            if let Stage::After(Some(n)) = p.stage {
                if n <= 1 {
                    *self.pending = None;
                } else {
                    p.stage = Stage::After(Some(n - 1));
                }
            }
        }
    }

    fn final_result(&mut self, f: Final, bytes: &[u8]) {
        let Some(p) = self.pending.as_mut().filter(|p| p.stage == Stage::Running) else {
            let event = if f == Final::NoCarrier {
                Event::Final(f)
            } else {
                Event::Unsolicited(text_of(bytes))
            };
            self.events.push_back(event);
            return;
        };
        match f {
            Final::Connect | Final::ConnectN(_) if p.prompt == Some(Prompt::Connect) => {
                self.events.push_back(Event::Prompt);
            }
            Final::ConnectN(n) if p.after_connect == AfterConnect::Length => {
                self.events.push_back(Event::Connect(Some(n)));
            }
            Final::Connect if p.after_connect == AfterConnect::UntilOk => {
                self.events.push_back(Event::Connect(None));
            }
            _ => {
                let succeeded = f.is_success();
                match p.lines_after {
                    LinesAfter::Exactly(n) if succeeded && n > 0 => p.stage = Stage::After(Some(n)),
                    LinesAfter::Any if succeeded => p.stage = Stage::After(None),
                    _ => *self.pending = None,
                }
                self.clear_prompt = true;
                self.events.push_back(Event::Final(f));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{plus_only, trimmed, PLUS};
    use crate::generated::urcs::URC_TEMPLATES;

    /// What lets `Oracle::inline_remaining` answer a line that does not
    /// start with `+` at once: no URC can claim it.
    #[test]
    fn urcs_start_with_plus() {
        for t in URC_TEMPLATES {
            let first = t.template.as_bytes().first();
            assert_eq!(first, Some(&PLUS), "{}", t.template);
        }
    }

    /// The echo's place in the command buffer is what `trim_ascii` keeps.
    #[test]
    fn trimmed_keeps_what_trim_ascii_keeps() {
        let bytes = [
            b' ', b'\t', b'\r', b'\n', b'A', b'T', 0x0b, 0x0c, 0xa0, b'+',
        ];
        // Every string of up to four of these bytes.
        for len in 0..=4u32 {
            for mut k in 0..bytes.len().pow(len) {
                let mut s = alloc::vec::Vec::new();
                for _ in 0..len {
                    s.push(bytes[k % bytes.len()]);
                    k /= bytes.len();
                }
                assert_eq!(s.get(trimmed(&s)), Some(s.trim_ascii()), "{s:?}");
            }
        }
    }

    #[test]
    fn plus_only_looks_at_non_empty_prefixes() {
        assert!(plus_only(&[]));
        assert!(plus_only(&["+QIRD: ", "", "+A"]));
        assert!(!plus_only(&["+QIRD: ", "OK"]));
        assert!(!plus_only(&["\u{ff}"]));
    }
}
