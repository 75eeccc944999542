//! One command from its line to its end: the data prompt and payload, the
//! final result, the lines printed after it, and the completion URC or
//! series of URCs matched on the fields the command names, each phase with
//! its time limit.

use alloc::string::String;
use alloc::vec::Vec;

use crate::command::{AtCommand, InfoLine, LinesAfter, SeriesStep};
use crate::engine::Final;
use crate::generated::urcs::{Urc, UrcKind};

/// What a command's exchange gathered, before the caller types the lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The command line (for error messages).
    pub command: String,
    /// The information lines, typed with the form's line type
    /// ([`InfoLine::downcast`] to `C::Line`).
    pub lines: Vec<InfoLine>,
    /// Data blocks of the response (`+QIRD: <n>` data, QFREAD's file
    /// content, an HTTP body).
    pub data: Vec<Vec<u8>>,
    /// The final result.
    pub result: Final,
    /// The URCs that completed the command after its final result, in order
    /// (one, or a series such as QPING's replies and final line).
    pub series: Vec<Urc>,
    /// Lines with the shape of the command's information lines that do not
    /// decode.
    pub unexpected: Vec<String>,
}

impl Reply {
    fn new(command: String) -> Self {
        Reply {
            command,
            lines: Vec::new(),
            data: Vec::new(),
            result: Final::Ok,
            series: Vec::new(),
            unexpected: Vec::new(),
        }
    }
}

/// An exchange that did not end within its time limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeout {
    /// The command line.
    pub command: String,
    /// What was awaited.
    pub waiting_for: &'static str,
    /// How long the exchange had run, in milliseconds.
    pub waited_ms: u64,
    /// What had arrived by then.
    pub partial: Reply,
}

/// Where an exchange is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Waiting for the data prompt (`>` or `CONNECT`).
    Prompt,
    /// Waiting for the final result.
    Final,
    /// Waiting for the lines the response prints after its final result.
    AfterLines(usize),
    /// Waiting for the completion URC (or the rest of its series).
    Completion,
    /// Over.
    Done,
}

impl Phase {
    fn waiting_for(self) -> &'static str {
        match self {
            Phase::Prompt => "data prompt",
            Phase::Final => "final result",
            Phase::AfterLines(_) => "lines after the final result",
            Phase::Completion => "completion URC",
            Phase::Done => "nothing",
        }
    }
}

/// How a URC completes the command.
#[derive(Debug, Clone)]
struct Completion {
    kind: UrcKind,
    /// Fields the URC must repeat from the command, with their values.
    fields: Vec<(&'static str, i64)>,
}

/// A series of URCs gathered in order until the catalogue says it is
/// complete: a single URC, a head announcing its parts (QIDNSGIP's result
/// and `<IP_count>` addresses), or parts up to a final line (QPING's
/// replies then its summary). The exchange gathers a command's completion
/// with it; [`Client::wait_for_series`](crate::client::Client::wait_for_series)
/// gathers a series that no command waits for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrcSeries {
    urcs: Vec<Urc>,
    /// Parts still expected after a series' head.
    remaining: Option<usize>,
    complete: bool,
}

impl UrcSeries {
    /// An empty series.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes `u` as the next URC of the series; returns whether the series
    /// is complete now.
    pub fn push(&mut self, u: Urc) -> bool {
        let step = u.series_step();
        self.urcs.push(u);
        match step {
            SeriesStep::Single | SeriesStep::Final => self.complete = true,
            SeriesStep::Head { parts: 0 } => self.complete = true,
            SeriesStep::Head { parts } => self.remaining = Some(parts),
            SeriesStep::Part => {
                if let Some(r) = self.remaining.as_mut() {
                    *r = r.saturating_sub(1);
                    if *r == 0 {
                        self.complete = true;
                    }
                }
            }
        }
        self.complete
    }

    /// Whether the series is complete.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Whether nothing was gathered yet.
    pub fn is_empty(&self) -> bool {
        self.urcs.is_empty()
    }

    /// The kind of the series' URCs (that of its first).
    pub fn kind(&self) -> Option<UrcKind> {
        self.urcs.first().map(Urc::kind)
    }

    /// The URCs, in order.
    pub fn urcs(&self) -> &[Urc] {
        &self.urcs
    }

    /// The URCs, in order, by value.
    pub fn into_urcs(self) -> Vec<Urc> {
        self.urcs
    }
}

/// Time limits of one exchange, in milliseconds, as the session computed
/// them from the catalogue and its options.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Up to the final result (and the prompt, and lines after the final).
    pub command_ms: u64,
    /// For the completion, after the final result.
    pub completion_ms: u64,
}

/// One command in flight.
#[derive(Debug, Clone)]
pub(crate) struct Exchange {
    name: &'static str,
    phase: Phase,
    started: u64,
    deadline: u64,
    limits: Limits,
    reply: Reply,
    completion: Option<Completion>,
    collector: UrcSeries,
    lines_after: LinesAfter,
    enters_transparent: bool,
    /// The payload to write at the prompt.
    payload: Option<Vec<u8>>,
}

impl Exchange {
    /// An exchange for `cmd`, started at `now`; `payload` is written at the
    /// prompt of a form with a data phase.
    pub(crate) fn new<C: AtCommand>(
        cmd: &C,
        payload: Option<Vec<u8>>,
        limits: Limits,
        now: u64,
    ) -> Self {
        let phase = if C::DATA_PHASE.is_some() {
            Phase::Prompt
        } else {
            Phase::Final
        };
        Exchange {
            name: C::NAME,
            phase,
            started: now,
            deadline: now.saturating_add(limits.command_ms),
            limits,
            // Error messages show the line with its secrets masked.
            reply: Reply::new(crate::command::masked_line(&cmd.encode(), C::SECRET_FIELDS)),
            completion: C::COMPLETION.map(|kind| Completion {
                kind,
                fields: cmd.completion_match(),
            }),
            collector: UrcSeries::new(),
            lines_after: C::LINES_AFTER_FINAL,
            enters_transparent: C::ENTERS_TRANSPARENT,
            payload,
        }
    }

    /// The command's name (`AT+QVERSION`).
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }

    /// When the current phase runs out.
    pub(crate) fn deadline(&self) -> u64 {
        self.deadline
    }

    /// Whether the exchange is over.
    pub(crate) fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Whether the module had not finished answering (no final result, or
    /// not the lines after it): a late answer may still come.
    pub(crate) fn module_busy(&self) -> bool {
        matches!(
            self.phase,
            Phase::Prompt | Phase::Final | Phase::AfterLines(_)
        )
    }

    /// Whether the module may be waiting for (part of) a payload.
    pub(crate) fn in_data_phase(&self) -> bool {
        self.phase == Phase::Prompt
    }

    /// Takes `u` when it completes this command (its kind, and the fields
    /// the command names); gives it back otherwise.
    pub(crate) fn offer_urc(&mut self, u: Urc) -> Option<Urc> {
        let Some(c) = &self.completion else {
            return Some(u);
        };
        let ours = !self.collector.is_complete()
            && u.kind() == c.kind
            && c.fields.iter().all(|(f, v)| u.field_int(f) == Some(*v));
        if !ours {
            return Some(u);
        }
        self.collector.push(u);
        if self.collector.is_complete() && self.phase == Phase::Completion {
            self.phase = Phase::Done;
        }
        None
    }

    /// An information line of the command, at `now`.
    pub(crate) fn line(&mut self, line: InfoLine, now: u64) {
        self.reply.lines.push(line);
        if let Phase::AfterLines(n) = self.phase {
            if n <= 1 {
                self.after_lines_done_at(now);
            } else {
                self.phase = Phase::AfterLines(n - 1);
            }
        }
    }

    /// A line with the command's shape that does not decode.
    pub(crate) fn bad_line(&mut self, line: String) {
        self.reply.unexpected.push(line);
    }

    /// A data block of the response.
    pub(crate) fn data(&mut self, data: Vec<u8>) {
        self.reply.data.push(data);
    }

    /// The prompt came: the payload to write, once.
    pub(crate) fn prompt(&mut self) -> Option<Vec<u8>> {
        if self.phase != Phase::Prompt {
            return None;
        }
        self.phase = Phase::Final;
        self.payload.take()
    }

    /// The final result, at `now`. Returns the URCs taken for a completion
    /// that cannot be one after all (the command failed).
    pub(crate) fn final_result(&mut self, f: Final, now: u64) -> Vec<Urc> {
        let succeeded = f.is_success();
        self.reply.result = f;
        if !succeeded {
            self.phase = Phase::Done;
            return core::mem::take(&mut self.collector).into_urcs();
        }
        if self.entered_transparent_now() {
            self.phase = Phase::Done;
            return Vec::new();
        }
        self.deadline = now.saturating_add(self.limits.command_ms);
        match self.lines_after {
            LinesAfter::Exactly(n) if n > 0 => self.phase = Phase::AfterLines(n),
            _ => self.after_lines_done_at(now),
        }
        Vec::new()
    }

    fn entered_transparent_now(&self) -> bool {
        self.enters_transparent && self.reply.result == Final::Connect
    }

    fn after_lines_done_at(&mut self, now: u64) {
        match &self.completion {
            Some(_) if !self.collector.is_complete() => {
                self.phase = Phase::Completion;
                self.deadline = now.saturating_add(self.limits.completion_ms);
            }
            _ => self.phase = Phase::Done,
        }
    }

    /// Whether the current phase ran out at `now`.
    pub(crate) fn expired(&self, now: u64) -> bool {
        self.phase != Phase::Done && now >= self.deadline
    }

    /// The exchange ran out: what was awaited, and what had arrived.
    pub(crate) fn into_timeout(self, now: u64) -> Timeout {
        let mut partial = self.reply;
        partial.series = self.collector.into_urcs();
        Timeout {
            command: partial.command.clone(),
            waiting_for: self.phase.waiting_for(),
            waited_ms: now.saturating_sub(self.started),
            partial,
        }
    }

    /// The finished exchange's reply.
    pub(crate) fn into_reply(self) -> Reply {
        let mut reply = self.reply;
        reply.series = self.collector.into_urcs();
        reply
    }
}
