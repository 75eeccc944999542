//! The sans-IO session: the protocol logic of whole exchanges, on top of the
//! [`Engine`]. It does no I/O and reads no clock: the client hands it the
//! bytes it read and the time ("now", in milliseconds from any fixed
//! origin), writes the bytes the session asks for ([`Action`]), and takes
//! the outcome. The blocking [`Client`](crate::client::Client) is a thin
//! loop over it; an async client can share it as it is.
//!
//! What the session decides:
//! - **Exchanges**: one command at a time, from its line to its end: the data
//!   prompt (then the payload it was given), the final result, the lines the
//!   response prints after it (QBLEGATTCRD's `<data>`), and the completion
//!   URC — matched on the fields the catalogue names (`+QIOPEN: 1,0` does
//!   not complete socket 0's open) — or a whole series of them (QPING's
//!   replies and final line, QIDNSGIP's result and addresses). A completion
//!   is delivered once: in the reply, not also as a notice.
//! - **Time limits**: each phase has the catalogue's limit (the command's
//!   maximum response time, the completion's own when it has one) plus the
//!   options' slack; the session keeps the deadlines, the client only says
//!   what time it is.
//! - **Resynchronisation**: after a time-out, a late answer must not answer
//!   the next command. The session cancels the engine's command at once (a
//!   late line is a notice), and before the next command it sends a probe
//!   whose answer it can tell from any late one (see [`Session::resync`]).
//! - **Transparent mode**: bytes from the peer are kept until read; `NO
//!   CARRIER` is reported even when it arrives with data.
//! - **Notices**: everything no exchange claims ([`Notice`]): URCs, lines
//!   that do not decode, unknown lines, overflows.
//!
//! ```
//! use fcm242d::session::{Action, Options, Session};
//! use fcm242d::generated::commands::qversion;
//!
//! let mut s = Session::new(Options::default());
//! s.start(&qversion::Execute {}, 0).unwrap();
//! assert_eq!(s.next_action(), Some(Action::Write(b"AT+QVERSION\r\n".to_vec())));
//! s.feed(b"\r\n+QVERSION: FCM242DAAR01A05\r\n\r\nOK\r\n+QIURC: \"closed\",1\r\n", 20);
//! let reply = s.take_outcome().unwrap().unwrap();
//! let line = reply.lines[0].get::<qversion::ExecuteLine>().unwrap();
//! assert_eq!(line.version, "FCM242DAAR01A05");
//! assert!(s.take_notice().unwrap().urc().is_some());
//! ```

mod exchange;
mod notice;
mod resync;

use alloc::collections::VecDeque;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

pub use exchange::{Reply, Timeout, UrcSeries};
pub use notice::Notice;

use crate::command::{AtCommand, Payloadless, WithPayload};
use crate::engine::{Engine, Event, Final, Limits, PayloadEnd};
use crate::generated::commands::escape;
use exchange::{Exchange, Limits as PhaseLimits};
use resync::{Probe, Resync, Stage};

/// Time settings of a session, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The limit for commands whose maximum response time the manual does
    /// not give (and for the resynchronisation probe).
    pub default_timeout_ms: u64,
    /// Added to every limit (UART latency, a slow host).
    pub slack_ms: u64,
    /// When set, replaces every catalogue limit.
    pub timeout_override_ms: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            default_timeout_ms: 5_000,
            slack_ms: 200,
            timeout_override_ms: None,
        }
    }
}

/// What the client must do for the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Write these bytes.
    Write(Vec<u8>),
    /// Write these bytes with a silence of the guard time before and after
    /// (`+++`, which leaves transparent mode).
    WriteGuarded(Vec<u8>),
}

/// Why the session did not start an exchange. Nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refused {
    /// Another exchange (or a resynchronisation) is in progress.
    Busy,
    /// A time-out left the link out of step: call [`Session::resync`] first.
    NeedsResync,
    /// The payload does not fit the command's data phase.
    Payload(&'static str),
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refused::Busy => f.write_str("another command is in progress"),
            Refused::NeedsResync => f.write_str("the link must be resynchronised first"),
            Refused::Payload(why) => write!(f, "payload: {why}"),
        }
    }
}

impl core::error::Error for Refused {}

/// The protocol logic of a link to one module.
#[derive(Debug)]
pub struct Session {
    engine: Engine,
    options: Options,
    exchange: Option<Exchange>,
    outcome: Option<Result<Reply, Timeout>>,
    resync: Option<Resync>,
    /// The name of the command that last ran out (picks the probe).
    timed_out: Option<&'static str>,
    /// A time-out left the link out of step.
    needs_resync: bool,
    /// The cancel byte to send before the probe (a data phase may be open).
    cancel: Option<u8>,
    actions: VecDeque<Action>,
    notices: VecDeque<Notice>,
    raw: Vec<u8>,
    carrier_lost: bool,
    /// Secret values sent so far (the latest few), masked by [`Session::redact`].
    secrets: VecDeque<String>,
}

/// How many secret values a session remembers for masking.
const SECRETS_KEPT: usize = 8;

impl Session {
    /// A session with the engine's default limits.
    pub fn new(options: Options) -> Self {
        Self::with_limits(options, Limits::default())
    }

    /// A session whose engine keeps at most `limits`.
    pub fn with_limits(options: Options, limits: Limits) -> Self {
        Session {
            engine: Engine::with_limits(limits),
            options,
            exchange: None,
            outcome: None,
            resync: None,
            timed_out: None,
            needs_resync: false,
            cancel: None,
            actions: VecDeque::new(),
            notices: VecDeque::new(),
            raw: Vec::new(),
            carrier_lost: false,
            secrets: VecDeque::new(),
        }
    }

    /// The options.
    pub fn options(&self) -> Options {
        self.options
    }

    /// Changes the options (for the next exchanges).
    pub fn set_options(&mut self, options: Options) {
        self.options = options;
    }

    /// Whether no exchange or resynchronisation is in progress.
    pub fn is_idle(&self) -> bool {
        self.exchange.is_none() && self.resync.is_none()
    }

    /// Whether a time-out left the link out of step (see [`resync`](Session::resync)).
    pub fn needs_resync(&self) -> bool {
        self.needs_resync
    }

    /// Starts an exchange for `cmd`, a form without a data phase, at `now`.
    /// Its bytes are the next [`Action`].
    pub fn start<C: Payloadless>(&mut self, cmd: &C, now: u64) -> Result<(), Refused> {
        self.begin(cmd, None, now)
    }

    /// Starts an exchange for `cmd`, a form with a data phase: `payload` is
    /// written when the module prompts for it, sent by its length when the
    /// form announces one, else ended with Ctrl+Z. A payload that cannot be
    /// sent (too long, not a length the form can announce, holding Ctrl+Z
    /// or Esc where those end it) is refused before any byte is written.
    /// Where the form announces the payload's length in a field
    /// (`AT+QISEND=<connectID>,<send_length>`), the field is filled in from
    /// the payload, whatever `cmd` holds there (an optional length left out
    /// stays out).
    pub fn start_with_payload<C: WithPayload>(
        &mut self,
        cmd: &C,
        payload: &[u8],
        now: u64,
    ) -> Result<(), Refused> {
        let filled = cmd.with_payload_length(payload.len());
        let cmd = filled.as_ref().unwrap_or(cmd);
        let bytes = payload_bytes(cmd, payload)?;
        self.begin(cmd, Some(bytes), now)
    }

    fn begin<C: AtCommand>(
        &mut self,
        cmd: &C,
        payload: Option<Vec<u8>>,
        now: u64,
    ) -> Result<(), Refused> {
        if !self.is_idle() {
            return Err(Refused::Busy);
        }
        if self.needs_resync {
            return Err(Refused::NeedsResync);
        }
        let limits = self.phase_limits(cmd);
        self.remember_secrets(cmd);
        // Queued as an action: the bytes outlive the engine's next call.
        let bytes = self.engine.command(cmd).to_vec();
        self.outcome = None;
        self.carrier_lost = false;
        self.exchange = Some(Exchange::new(cmd, payload, limits, now));
        self.actions.push_back(if C::NAME == "+++" {
            Action::WriteGuarded(bytes)
        } else {
            Action::Write(bytes)
        });
        Ok(())
    }

    fn phase_limits<C: AtCommand>(&self, cmd: &C) -> PhaseLimits {
        let o = self.options;
        let with_slack = |ms: Option<u64>| {
            o.timeout_override_ms.unwrap_or_else(|| {
                ms.unwrap_or(o.default_timeout_ms)
                    .saturating_add(o.slack_ms)
            })
        };
        let command = cmd.time_limit_ms();
        PhaseLimits {
            command_ms: with_slack(command),
            completion_ms: with_slack(cmd.completion_time_limit_ms().or(command)),
        }
    }

    /// Resynchronises the link at `now` (after a time-out, or whenever the
    /// caller doubts the module is idle): leaves transparent mode if needed,
    /// cancels a data phase the module may still be waiting in, then sends a
    /// probe (`AT+QVERSION`, or `AT+QWLMAC` after `AT+QVERSION` ran out) and
    /// waits for its own information line and `OK`. Everything before is
    /// reported as notices. Any exchange in progress is abandoned (its
    /// outcome is a [`Timeout`]).
    pub fn resync(&mut self, now: u64) {
        if let Some(x) = self.exchange.take() {
            self.timed_out = Some(x.name());
            self.outcome = Some(Err(x.into_timeout(now)));
        }
        self.engine.cancel();
        if self.engine.in_data() {
            // A block that will not be completed: drop it.
            self.engine.reset();
        }
        let probe = Probe::after(self.timed_out);
        let deadline = now.saturating_add(
            self.options
                .timeout_override_ms
                .unwrap_or(self.options.default_timeout_ms)
                .saturating_add(self.options.slack_ms),
        );
        let stage = if self.engine.is_transparent() {
            let bytes = self.engine.command(&escape::Execute {}).to_vec();
            self.actions.push_back(Action::WriteGuarded(bytes));
            Stage::Escaping
        } else {
            if let Some(c) = self.cancel.take() {
                self.actions.push_back(Action::Write(alloc::vec![c]));
            }
            self.actions
                .push_back(Action::Write(probe.start(&mut self.engine).to_vec()));
            Stage::Probing { seen_line: false }
        };
        self.resync = Some(Resync {
            probe,
            stage,
            started: now,
            deadline,
        });
    }

    fn remember_secrets<C: AtCommand>(&mut self, cmd: &C) {
        if C::SECRET_FIELDS.is_empty() {
            return;
        }
        let line = cmd.encode();
        for v in crate::command::secret_values(&line, C::SECRET_FIELDS) {
            if self.secrets.iter().any(|s| s == v) {
                continue;
            }
            if self.secrets.len() == SECRETS_KEPT {
                self.secrets.pop_front();
            }
            self.secrets.push_back(String::from(v));
        }
    }

    /// `bytes` (written or read) as text for a log: every secret value a
    /// command of this session sent (a Wi-Fi key, an MQTT password, a
    /// private key's password) shown as `***`, wherever it appears (the
    /// command line, an echo, a query's answer), and bytes that are not
    /// printable escaped.
    pub fn redact(&self, bytes: &[u8]) -> String {
        let mut text = String::from_utf8_lossy(bytes).into_owned();
        for s in &self.secrets {
            text = text.replace(s.as_str(), "***");
        }
        text.escape_debug().collect()
    }

    /// The next thing to write, in order.
    pub fn next_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Feeds bytes read from the module at `now`, in any fragmentation.
    pub fn feed(&mut self, bytes: &[u8], now: u64) {
        self.engine.feed(bytes);
        while let Some(event) = self.engine.poll() {
            self.event(event, now);
        }
        self.tick(now);
    }

    /// Advances the clock: an exchange whose phase ran out ends in a
    /// [`Timeout`] and the link needs resynchronising; a resynchronisation
    /// that ran out ends too (the next command will try again).
    pub fn tick(&mut self, now: u64) {
        if self.exchange.as_ref().is_some_and(|x| x.expired(now)) {
            if let Some(x) = self.exchange.take() {
                self.timed_out = Some(x.name());
                self.cancel = if x.in_data_phase() { Some(0x1B) } else { None };
                // Only a command the module had not finished answering
                // leaves the link out of step; a completion URC that never
                // came does not (a late one is a notice).
                self.needs_resync = x.module_busy();
                self.outcome = Some(Err(x.into_timeout(now)));
                self.engine.cancel();
            }
        }
        if self.resync.is_some_and(|r| now >= r.deadline) {
            self.resync = None;
            self.needs_resync = true;
            self.engine.cancel();
        }
    }

    /// When the session next needs the clock ([`tick`](Session::tick)).
    pub fn deadline(&self) -> Option<u64> {
        let x = self.exchange.as_ref().map(Exchange::deadline);
        let r = self.resync.map(|r| r.deadline);
        match (x, r) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The outcome of the last exchange, once it has ended.
    pub fn take_outcome(&mut self) -> Option<Result<Reply, Timeout>> {
        self.outcome.take()
    }

    /// Whether an outcome is waiting to be taken.
    pub fn has_outcome(&self) -> bool {
        self.outcome.is_some()
    }

    /// The next notice, in the order things arrived.
    pub fn take_notice(&mut self) -> Option<Notice> {
        self.notices.pop_front()
    }

    /// Whether the link is in transparent mode.
    pub fn is_transparent(&self) -> bool {
        self.engine.is_transparent()
    }

    /// Bytes received in transparent mode so far (taken).
    pub fn take_raw(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.raw)
    }

    /// Whether raw bytes are waiting.
    pub fn has_raw(&self) -> bool {
        !self.raw.is_empty()
    }

    /// Whether transparent mode ended with `NO CARRIER` (the connection
    /// dropped) since the last exchange started.
    pub fn carrier_lost(&self) -> bool {
        self.carrier_lost
    }

    /// One engine event.
    fn event(&mut self, event: Event, now: u64) {
        if self.resync.is_some() {
            return self.resync_event(event, now);
        }
        match event {
            Event::Urc(u) => {
                let u = match self.exchange.as_mut() {
                    Some(x) => x.offer_urc(u),
                    None => Some(u),
                };
                if let Some(u) = u {
                    self.notices.push_back(Notice::Urc(u));
                }
            }
            Event::Line(l) => match self.exchange.as_mut() {
                Some(x) => x.line(l, now),
                None => self.notices.push_back(Notice::Line(l)),
            },
            Event::BadLine { line, error } => match self.exchange.as_mut() {
                Some(x) => x.bad_line(line),
                None => self.notices.push_back(Notice::Undecodable {
                    line,
                    error,
                    data: None,
                }),
            },
            Event::Data(d) => match self.exchange.as_mut() {
                Some(x) => x.data(d),
                None => self.notices.push_back(Notice::Data(d)),
            },
            Event::Connect(_) => {}
            Event::Prompt => {
                if let Some(payload) = self.exchange.as_mut().and_then(Exchange::prompt) {
                    self.actions.push_back(Action::Write(payload));
                }
            }
            Event::Final(f) => self.final_result(f, now),
            Event::Raw(bytes) => self.raw.extend_from_slice(&bytes),
            Event::BadUrc { line, error, data } => {
                self.notices
                    .push_back(Notice::Undecodable { line, error, data })
            }
            Event::Unsolicited(line) => self.notices.push_back(Notice::Unknown(line)),
            Event::Overflow { discarded } => self.notices.push_back(Notice::Overflow { discarded }),
        }
        self.finish();
    }

    fn final_result(&mut self, f: Final, now: u64) {
        match self.exchange.as_mut() {
            Some(x) => {
                for u in x.final_result(f, now) {
                    self.notices.push_back(Notice::Urc(u));
                }
            }
            // Transparent mode ended: the connection dropped.
            None if f == Final::NoCarrier => self.carrier_lost = true,
            None => self
                .notices
                .push_back(Notice::Unknown(alloc::format!("{f}"))),
        }
    }

    /// Moves a finished exchange to its outcome.
    fn finish(&mut self) {
        if self.exchange.as_ref().is_some_and(Exchange::is_done) {
            if let Some(x) = self.exchange.take() {
                self.outcome = Some(Ok(x.into_reply()));
            }
        }
    }

    /// An engine event during a resynchronisation: everything is late
    /// except the probe's line and the `OK` after it.
    fn resync_event(&mut self, event: Event, now: u64) {
        let Some(r) = self.resync.as_mut() else {
            return;
        };
        match (event, r.stage) {
            (Event::Final(Final::Ok), Stage::Escaping) => {
                r.stage = Stage::Probing { seen_line: false };
                let bytes = r.probe.start(&mut self.engine).to_vec();
                self.actions.push_back(Action::Write(bytes));
            }
            (Event::Line(_), Stage::Probing { .. }) => {
                r.stage = Stage::Probing { seen_line: true };
            }
            (Event::Final(Final::Ok), Stage::Probing { seen_line: true }) => {
                self.resync = None;
                self.needs_resync = false;
                self.timed_out = None;
            }
            (Event::Final(f), stage) => {
                // A late final result of the command that ran out: the
                // probe's answer is still to come.
                self.notices
                    .push_back(Notice::Unknown(alloc::format!("{f}")));
                let probe = r.probe;
                let _ = match stage {
                    Stage::Escaping => self.engine.command(&escape::Execute {}),
                    Stage::Probing { .. } => probe.start(&mut self.engine),
                };
                if let Some(r) = self.resync.as_mut() {
                    r.stage = match stage {
                        Stage::Escaping => Stage::Escaping,
                        Stage::Probing { .. } => Stage::Probing { seen_line: false },
                    };
                }
            }
            (other, _) => {
                // Not the probe's: a notice, as outside any exchange.
                let resync = self.resync.take();
                self.event(other, now);
                self.resync = resync;
            }
        }
    }
}

/// The bytes to write for `payload` in `C`'s data phase, or why it cannot be
/// sent.
fn payload_bytes<C: AtCommand>(cmd: &C, payload: &[u8]) -> Result<Vec<u8>, Refused> {
    let Some(dp) = C::DATA_PHASE else {
        return Err(Refused::Payload("this command has no data phase"));
    };
    if let Some(max) = dp.max_length {
        if payload.len() > max {
            return Err(Refused::Payload("longer than the command's maximum"));
        }
    }
    let end = match (cmd.payload_length(), dp.terminator) {
        // A length of 0 sends nothing, and with some commands it asks
        // something else (`AT+QISEND=<id>,0` reports the acknowledged bytes).
        (Some(_), _) if payload.is_empty() => {
            return Err(Refused::Payload(
                "empty: a data phase announced by length needs at least one byte",
            ))
        }
        (Some(n), _) if n == payload.len() => PayloadEnd::Length,
        // `start_with_payload` fills the length in, so a mismatch means the
        // payload's length is not a value the field takes.
        (Some(_), _) => {
            return Err(Refused::Payload(
                "its length is outside the range of the command's length field",
            ))
        }
        (None, Some(_)) => {
            if payload.contains(&0x1A) || payload.contains(&0x1B) {
                return Err(Refused::Payload(
                    "a payload ended by Ctrl+Z cannot contain 0x1A or 0x1B",
                ));
            }
            PayloadEnd::CtrlZ
        }
        (None, None) => PayloadEnd::Length,
    };
    let mut out = payload.to_vec();
    match end {
        PayloadEnd::Length => {}
        PayloadEnd::CtrlZ => out.push(0x1A),
        PayloadEnd::Cancel => out.push(0x1B),
    }
    Ok(out)
}
