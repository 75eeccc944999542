//! Checking a transcript against the catalogue, line by line.
//!
//! The walk follows the exchange as the module does: a host line starts a
//! command (the grammar must accept it); the module's lines until the final
//! result must be its echo, response lines of the command, or URCs; a `>`
//! (or `CONNECT`) prompt must be followed by the payload; lines that
//! announce a data block (`+QIRD: 5`, `CONNECT 5` after QFREAD, a URC with
//! data, an HTTP body after `CONNECT` up to `OK`) are followed by that block,
//! which is skipped; after the final result only URCs may come (and the
//! lines the catalogue prints after it, such as scan results).
//!
//! Each deviation names the source line, the text, the command it followed,
//! and the catalogue entry it breaks. The same walk gives the exchanges
//! [`super::replay`] sends and compares.

use std::fmt::Write as _;

use fcm242d::engine::Final;
use fcm242d::generated::urcs::Urc;
use fcm242d::wire::DecodeError;
use serde::{Deserialize, Serialize};

use super::catalogue::{self, Form, Prompt, Refusal};
use super::parse::{is_host_line, Entry, Transcript};
use crate::case::ConnectData;
use crate::outcome::{Direction, Unexplained};

/// What kind of deviation a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The host sent a command the catalogue does not have.
    UnknownCommand,
    /// The host sent a value outside its range or length.
    OutOfRange,
    /// The host sent a line no form of the command reads.
    MalformedCommand,
    /// A module line that is neither the echo, a final result, a response
    /// line of the pending command, nor a URC of the catalogue.
    UnknownLine,
    /// A line with a URC's prefix whose syntax is wrong.
    MalformedUrc,
    /// A response line of another command than the pending one.
    ForeignResponse,
    /// A command with no final result before the next command (or the end).
    MissingFinal,
    /// A data prompt not followed by the payload.
    PromptWithoutData,
    /// An information line after the final result that is not a URC.
    LineAfterFinal,
    /// A final result with no command pending.
    UnexpectedFinal,
    /// A final result the form does not give, or a refusal code absent
    /// from the command's result table.
    WrongFinal,
}

/// Who is at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// The host sent something the grammar refuses.
    Host,
    /// The module answered something the catalogue does not explain.
    Module,
}

impl Kind {
    /// Whose deviation it is.
    pub fn category(self) -> Category {
        match self {
            Kind::UnknownCommand | Kind::OutOfRange | Kind::MalformedCommand => Category::Host,
            Kind::PromptWithoutData => Category::Host,
            _ => Category::Module,
        }
    }

    /// A short name for reports.
    pub fn name(self) -> &'static str {
        match self {
            Kind::UnknownCommand => "unknown command",
            Kind::OutOfRange => "value out of range",
            Kind::MalformedCommand => "malformed command",
            Kind::UnknownLine => "unknown line",
            Kind::MalformedUrc => "malformed URC",
            Kind::ForeignResponse => "response line of another command",
            Kind::MissingFinal => "no final result",
            Kind::PromptWithoutData => "prompt not followed by data",
            Kind::LineAfterFinal => "line after the final result",
            Kind::UnexpectedFinal => "final result with no command",
            Kind::WrongFinal => "final result the catalogue does not give",
        }
    }
}

/// One line of a transcript that the catalogue does not explain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deviation {
    /// The 1-based line of the log.
    pub line: usize,
    /// The line's text (bytes outside printable ASCII escaped).
    pub text: String,
    /// The host command it followed (the last one before it), if any.
    pub after_command: Option<String>,
    /// What is wrong.
    pub kind: Kind,
    /// The catalogue entry it breaks: a command and its form or template
    /// (`AT+QVERSION` `+QVERSION: <version>`), or a URC (`+QIURC`).
    pub entry: String,
    /// Why, in words.
    pub detail: String,
}

impl Deviation {
    /// A one-line description, e.g. for a terminal.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "line {}: [{}] {}",
            self.line,
            match self.kind.category() {
                Category::Host => "host",
                Category::Module => "module",
            },
            self.detail
        );
        let _ = write!(s, ": `{}`", self.text);
        if let Some(c) = &self.after_command {
            let _ = write!(s, " (after `{c}`)");
        }
        if !self.entry.is_empty() {
            let _ = write!(s, "; catalogue: {}", self.entry);
        }
        s
    }

    /// The deviation in the run model's terms.
    pub fn to_unexplained(&self, source: &str) -> Unexplained {
        Unexplained {
            line: self.text.clone(),
            after_command: self.after_command.clone().unwrap_or_default(),
            case: format!("{source}:{}", self.line),
            reason: format!("{}: {}", self.kind.name(), self.detail),
        }
    }
}

/// A line the log recorded, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The 1-based line of the log.
    pub line: usize,
    /// Its text.
    pub text: String,
}

/// One command of a log and what the module answered to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The 1-based line of the command.
    pub line: usize,
    /// The command line.
    pub command: String,
    /// Its form, when the grammar reads it.
    pub form: Option<Form>,
    /// Whether the log shows a data prompt.
    pub prompt: bool,
    /// The host's payload after the prompt, as logged.
    pub payload: Option<Vec<u8>>,
    /// Information lines (and `CONNECT <n>` lines that announce data).
    pub lines: Vec<Recorded>,
    /// Data blocks of the response.
    pub data: Vec<Vec<u8>>,
    /// The final result.
    pub final_result: Option<Recorded>,
    /// URCs from the command up to the next one.
    pub urcs: Vec<Recorded>,
    /// Host bytes sent in transparent mode after this command.
    pub transparent: Vec<u8>,
}

impl Exchange {
    fn new(line: usize, command: String, form: Option<Form>) -> Self {
        Exchange {
            line,
            command,
            form,
            prompt: false,
            payload: None,
            lines: Vec::new(),
            data: Vec::new(),
            final_result: None,
            urcs: Vec::new(),
            transparent: Vec::new(),
        }
    }
}

/// Checks a transcript: every deviation, in line order.
pub fn check(transcript: &Transcript) -> Vec<Deviation> {
    walk(transcript).deviations
}

/// The exchanges of a transcript (for replay) and its deviations.
pub struct Walked {
    /// The commands, in order.
    pub exchanges: Vec<Exchange>,
    /// The deviations, in line order.
    pub deviations: Vec<Deviation>,
}

/// Walks a transcript.
pub fn walk(transcript: &Transcript) -> Walked {
    let mut w = Walker {
        marked: transcript.has_marks(),
        stream: transcript.stream,
        exchanges: Vec::new(),
        deviations: Vec::new(),
        state: State::Idle,
        data: None,
        pending: Pending::default(),
    };
    for e in &transcript.entries {
        w.entry(e);
    }
    w.finish();
    let mut deviations = w.deviations;
    deviations.sort_by_key(|d| d.line);
    Walked {
        exchanges: w.exchanges,
        deviations,
    }
}

/// Where the exchange is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// No command waiting for its final result.
    Idle,
    /// A command waits for its final result.
    Pending,
    /// The prompt came: the host's payload is next.
    Payload,
    /// Transparent mode: raw bytes until `+++` or `NO CARRIER`.
    Transparent,
}

/// What the pending command has shown so far.
#[derive(Debug, Clone, Default)]
struct Pending {
    echo_seen: bool,
    prompt_line: Option<usize>,
    data_seen: bool,
    /// A prompt-without-data deviation was reported (no second one for
    /// the missing final result it causes).
    reported: bool,
}

/// A data block being skipped.
#[derive(Debug)]
struct Block {
    /// Bytes still to come, or `None` for a block ended by an `OK` line.
    remaining: Option<usize>,
    bytes: Vec<u8>,
    /// Whether it belongs to the pending command's response (else a URC's).
    response: bool,
    /// Whether a line of an until-`OK` block was taken (the next one is
    /// preceded by a line ending).
    started: bool,
}

struct Walker {
    marked: bool,
    stream: bool,
    exchanges: Vec<Exchange>,
    deviations: Vec<Deviation>,
    state: State,
    data: Option<Block>,
    pending: Pending,
}

/// The text of a line for reports: printable ASCII kept, the rest escaped.
pub fn printable(bytes: &[u8]) -> String {
    let mut s = String::new();
    for &b in bytes {
        match b {
            b'\r' => s.push_str("\\r"),
            b'\n' => s.push_str("\\n"),
            0x20..=0x7E => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s
}

impl Walker {
    fn current(&mut self) -> Option<&mut Exchange> {
        self.exchanges.last_mut()
    }

    fn after_command(&self) -> Option<String> {
        self.exchanges.last().map(|x| x.command.clone())
    }

    fn report(&mut self, e: &Entry, kind: Kind, entry: String, detail: String) {
        self.deviations.push(Deviation {
            line: e.line,
            text: printable(&e.bytes),
            after_command: self.after_command(),
            kind,
            entry,
            detail,
        });
    }

    fn entry(&mut self, e: &Entry) {
        if self.data.is_some() && self.take_data(e) {
            return;
        }
        match (self.state, e.direction) {
            (State::Transparent, _) => self.transparent(e),
            (State::Payload, _) if self.payload(e) => {}
            (_, Direction::Sent) => self.host(e),
            (_, Direction::Received) => self.module(e),
        }
    }

    /// Feeds a line to the data block being skipped; false if the line is
    /// not part of it (it is then read as usual).
    fn take_data(&mut self, e: &Entry) -> bool {
        // With direction marks, a host line is never module data: the
        // block ended short.
        if self.marked && e.direction == Direction::Sent {
            self.end_data();
            return false;
        }
        let stream = self.stream;
        let Some(block) = self.data.as_mut() else {
            return false;
        };
        match block.remaining {
            None => {
                if e.text().trim() == "OK" {
                    self.end_data();
                    return false;
                }
                if block.started {
                    block.bytes.extend_from_slice(b"\r\n");
                }
                block.started = true;
                block.bytes.extend_from_slice(&e.bytes);
                true
            }
            Some(0) => {
                self.end_data();
                false
            }
            Some(n) => {
                let take = e.bytes.len().min(n);
                block.bytes.extend_from_slice(&e.bytes[..take]);
                let mut left = n - take;
                if left > 0 {
                    // The line ending is part of the block's bytes; a text
                    // log without escapes counts it as CR LF.
                    let ending: &[u8] = match (stream, e.ending) {
                        (true, 0) => b"",
                        (true, 1) => b"\n",
                        _ => b"\r\n",
                    };
                    let take = ending.len().min(left);
                    block.bytes.extend_from_slice(&ending[..take]);
                    left -= take;
                }
                block.remaining = Some(left);
                if left == 0 {
                    self.end_data();
                }
                true
            }
        }
    }

    fn end_data(&mut self) {
        let Some(block) = self.data.take() else {
            return;
        };
        if block.response {
            if let Some(x) = self.current() {
                x.data.push(block.bytes);
            }
        }
    }

    fn start_data(&mut self, remaining: Option<usize>, response: bool) {
        self.data = Some(Block {
            remaining,
            bytes: Vec::new(),
            response,
            started: false,
        });
        if remaining == Some(0) {
            self.end_data();
        }
    }

    /// A host line: a new command.
    fn host(&mut self, e: &Entry) {
        let text = e.text();
        let line = text.trim();
        if line.is_empty() {
            return;
        }
        self.missing_final(format!(
            "no final result before the next command (line {})",
            e.line
        ));
        self.pending = Pending::default();
        self.state = State::Pending;
        let form = match catalogue::form_of(line) {
            Ok(f) => Some(f),
            Err(r) => {
                // The deviation is the command itself: it follows the one before.
                let previous = self.after_command();
                self.exchanges
                    .push(Exchange::new(e.line, line.to_string(), None));
                let (kind, entry, detail) = match r {
                    Refusal::Unknown => (
                        Kind::UnknownCommand,
                        String::new(),
                        "the catalogue has no such command".to_string(),
                    ),
                    Refusal::OutOfRange {
                        command,
                        form,
                        reason,
                    } => (
                        Kind::OutOfRange,
                        format!("{command} `{form}`"),
                        format!("value out of range ({reason})"),
                    ),
                    Refusal::Malformed { command, reason } => (
                        Kind::MalformedCommand,
                        command_forms(command),
                        format!("no form of {command} reads it ({reason})"),
                    ),
                };
                self.deviations.push(Deviation {
                    line: e.line,
                    text: printable(&e.bytes),
                    after_command: previous,
                    kind,
                    entry,
                    detail,
                });
                return;
            }
        };
        self.exchanges
            .push(Exchange::new(e.line, line.to_string(), form));
    }

    /// A line while the payload is expected; false when it is not payload.
    fn payload(&mut self, e: &Entry) -> bool {
        if e.is_blank() {
            return true;
        }
        let text = e.text();
        let trimmed = text.trim();
        let is_payload = if self.marked {
            // A host line after the prompt is the payload, unless it is
            // plainly the next command and carries no payload end.
            e.direction == Direction::Sent
                && !(is_host_line(&e.bytes)
                    && !e.bytes.iter().any(|&b| b == 0x1A || b == 0x1B)
                    && catalogue::form_of(trimmed).is_ok())
        } else {
            // Without marks the payload shows only as the module's echo of
            // it: anything up to the result or a URC.
            !trimmed.is_empty() && Final::parse(trimmed).is_none() && Urc::parse(trimmed).is_none()
        };
        if is_payload {
            self.pending.data_seen = true;
            let stream = self.stream;
            if let Some(x) = self.current() {
                let p = x.payload.get_or_insert_with(Vec::new);
                if !p.is_empty() && !stream {
                    p.extend_from_slice(b"\r\n");
                }
                p.extend_from_slice(&e.bytes);
                // A stream log shows the payload's own line endings.
                if stream {
                    match e.ending {
                        2 => p.extend_from_slice(b"\r\n"),
                        1 => p.push(b'\n'),
                        _ => {}
                    }
                }
            }
            return true;
        }
        if !self.pending.data_seen {
            self.prompt_without_data(e);
        }
        self.state = State::Pending;
        false
    }

    fn prompt_without_data(&mut self, next: &Entry) {
        // Without marks the payload need not show (no echo): only a log
        // that records the host's side can show it missing.
        if !self.marked {
            return;
        }
        let Some(x) = self.exchanges.last() else {
            return;
        };
        let line = self.pending.prompt_line.unwrap_or(x.line);
        let (cmd, entry) = (x.command.clone(), form_entry(x));
        self.pending.reported = true;
        self.deviations.push(Deviation {
            line,
            text: ">".to_string(),
            after_command: Some(cmd),
            kind: Kind::PromptWithoutData,
            entry,
            detail: format!(
                "the data prompt is not followed by the payload (next: line {})",
                next.line
            ),
        });
    }

    fn transparent(&mut self, e: &Entry) {
        let text = e.text();
        let t = text.trim();
        match e.direction {
            Direction::Sent if t == "+++" => self.host(e),
            // Without marks a log shows only what the module sent, and in
            // transparent mode it echoes nothing: a command line is the
            // echo of a command, so the mode has ended (by a `+++` the
            // capture cannot show, as in the manual's examples).
            Direction::Sent if !self.marked => {
                self.state = State::Idle;
                self.host(e);
            }
            Direction::Received if t == "NO CARRIER" => self.state = State::Idle,
            Direction::Sent => {
                if let Some(x) = self.current() {
                    x.transparent.extend_from_slice(&e.bytes);
                }
            }
            Direction::Received => {}
        }
    }

    /// A module line.
    fn module(&mut self, e: &Entry) {
        let text = e.text();
        let t = text.trim();
        if t.is_empty() {
            return;
        }
        if self.state == State::Pending {
            self.pending_line(e, t);
        } else {
            self.idle_line(e, t);
        }
    }

    fn pending_line(&mut self, e: &Entry, t: &str) {
        let Some(x) = self.exchanges.last() else {
            return self.idle_line(e, t);
        };
        let form = x.form.clone();
        let name = form
            .as_ref()
            .map(|f| f.command)
            .or_else(|| catalogue::command_name(&x.command));
        if !self.pending.echo_seen && t.eq_ignore_ascii_case(x.command.trim()) {
            self.pending.echo_seen = true;
            return;
        }
        let prompt = form.as_ref().and_then(|f| f.prompt);
        if prompt == Some(Prompt::Greater)
            && self.pending.prompt_line.is_none()
            && t.starts_with('>')
        {
            self.pending.prompt_line = Some(e.line);
            self.state = State::Payload;
            if let Some(x) = self.current() {
                x.prompt = true;
            }
            // A module that echoes the payload prints it after the prompt.
            let rest = t[1..].trim_start();
            if !rest.is_empty() {
                let echo = Entry {
                    line: e.line,
                    direction: Direction::Received,
                    bytes: rest.as_bytes().to_vec(),
                    ending: e.ending,
                };
                self.pending.data_seen = true;
                if !self.marked {
                    self.payload(&echo);
                }
            }
            return;
        }
        if let Some(f) = Final::parse(t) {
            return self.final_result(e, t, f, form.as_ref());
        }
        if let Some(name) = name {
            if let Some(tpl) = catalogue::line_template(name, form.as_ref().map(|f| f.syntax), t) {
                let n = catalogue::announced_length(tpl, t);
                self.record_line(e, t);
                if n.is_some() {
                    self.start_data(n, true);
                }
                return;
            }
        }
        if self.urc(e, t) {
            return;
        }
        let cmd = name.unwrap_or("the command");
        if let Some(other) = catalogue::foreign_template(cmd, t) {
            return self.report(
                e,
                Kind::ForeignResponse,
                format!("{} `{}`", other.owner, other.template),
                format!(
                    "response line of {} `{}`, not of {cmd}",
                    other.owner, other.form
                ),
            );
        }
        let entry = form.as_ref().map(Form::lines_entry).unwrap_or_default();
        self.report(
            e,
            Kind::UnknownLine,
            entry,
            format!("neither a response line of {cmd} nor a URC of the catalogue"),
        );
    }

    fn record_line(&mut self, e: &Entry, t: &str) {
        if let Some(x) = self.current() {
            x.lines.push(Recorded {
                line: e.line,
                text: t.to_string(),
            });
        }
    }

    fn final_result(&mut self, e: &Entry, t: &str, f: Final, form: Option<&Form>) {
        let connect = form.map(|f| f.connect).unwrap_or(ConnectData::None);
        let prompt = form.and_then(|f| f.prompt);
        match f {
            Final::Connect | Final::ConnectN(_)
                if prompt == Some(Prompt::Connect) && self.pending.prompt_line.is_none() =>
            {
                self.pending.prompt_line = Some(e.line);
                self.state = State::Payload;
                if let Some(x) = self.current() {
                    x.prompt = true;
                }
                return;
            }
            Final::ConnectN(n) if connect == ConnectData::Length => {
                self.record_line(e, t);
                return self.start_data(Some(n), true);
            }
            Final::Connect if connect == ConnectData::UntilOk => {
                self.record_line(e, t);
                return self.start_data(None, true);
            }
            _ => {}
        }
        if let Some(form) = form {
            if let Some(problem) = wrong_final(form, &f, t) {
                self.report(e, Kind::WrongFinal, form.entry(), problem);
            }
        }
        if let Some(x) = self.current() {
            x.final_result = Some(Recorded {
                line: e.line,
                text: t.to_string(),
            });
        }
        self.state = if f == Final::Connect && connect == ConnectData::Transparent {
            State::Transparent
        } else {
            State::Idle
        };
    }

    /// Reads a line as a URC: true if it has a URC's prefix (reported when
    /// malformed).
    fn urc(&mut self, e: &Entry, t: &str) -> bool {
        match Urc::parse(t) {
            None => false,
            Some(Ok(u)) => {
                if let Some(x) = self.current() {
                    x.urcs.push(Recorded {
                        line: e.line,
                        text: t.to_string(),
                    });
                }
                if let Some(n) = u.data_length() {
                    self.start_data(Some(n), false);
                }
                true
            }
            Some(Err(err)) => {
                let candidates = catalogue::urc_candidates(t);
                let name = candidates
                    .first()
                    .map(|c| urc_name(c.template))
                    .or_else(|| catalogue::prefix_of(t).map(str::to_string))
                    .unwrap_or_default();
                let entry = candidates
                    .iter()
                    .map(|c| format!("`{}`", c.template))
                    .collect::<Vec<_>>()
                    .join(" or ");
                // The runtime reports the last variant's error; the
                // candidates' own errors say more (a bad value over a shape).
                let reason = candidates
                    .iter()
                    .filter_map(|c| (c.reencode)(t).err())
                    .max_by_key(|e| match e {
                        DecodeError::Value { .. } => 2,
                        DecodeError::Missing { .. } => 1,
                        DecodeError::NoMatch { .. } => 0,
                    })
                    .unwrap_or(err);
                self.report(
                    e,
                    Kind::MalformedUrc,
                    format!("URC {name}: {entry}"),
                    format!("malformed URC {name} ({reason})"),
                );
                true
            }
        }
    }

    /// A module line with no command waiting for its result.
    fn idle_line(&mut self, e: &Entry, t: &str) {
        if let Some(f) = Final::parse(t) {
            if f != Final::NoCarrier {
                self.report(
                    e,
                    Kind::UnexpectedFinal,
                    String::new(),
                    "a final result with no command waiting for one".to_string(),
                );
            }
            return;
        }
        if self.urc(e, t) {
            return;
        }
        let Some(x) = self.exchanges.last() else {
            return self.report(
                e,
                Kind::UnknownLine,
                String::new(),
                "a line before any command that is not a URC of the catalogue".to_string(),
            );
        };
        let form = x.form.clone();
        let name = form
            .as_ref()
            .map(|f| f.command)
            .or_else(|| catalogue::command_name(&x.command));
        let tpl =
            name.and_then(|n| catalogue::line_template(n, form.as_ref().map(|f| f.syntax), t));
        if let (Some(tpl), Some(f)) = (tpl, form.as_ref()) {
            if f.lines_after_result {
                self.record_line(e, t);
                if let Some(n) = catalogue::announced_length(tpl, t) {
                    self.start_data(Some(n), true);
                }
                return;
            }
        }
        let entry = match tpl {
            Some(tpl) => format!("{} `{}`", tpl.owner, tpl.template),
            None => form.as_ref().map(Form::entry).unwrap_or_default(),
        };
        let what = if tpl.is_some() {
            "a response line after the final result"
        } else {
            "an information line after the final result that is not a URC"
        };
        self.report(e, Kind::LineAfterFinal, entry, what.to_string());
    }

    fn finish(&mut self) {
        self.end_data();
        self.missing_final("no final result before the end of the log".to_string());
    }

    /// Reports the pending command, if it still waits for its final result.
    fn missing_final(&mut self, detail: String) {
        if !matches!(self.state, State::Pending | State::Payload) || self.pending.reported {
            return;
        }
        let n = self.exchanges.len();
        let Some(x) = self.exchanges.last() else {
            return;
        };
        let previous = n
            .checked_sub(2)
            .and_then(|i| self.exchanges.get(i))
            .map(|p| p.command.clone());
        self.deviations.push(Deviation {
            line: x.line,
            text: printable(x.command.as_bytes()),
            after_command: previous,
            kind: Kind::MissingFinal,
            entry: form_entry(x),
            detail,
        });
    }
}

fn form_entry(x: &Exchange) -> String {
    match &x.form {
        Some(f) => f.entry(),
        None => catalogue::command_name(&x.command)
            .map(command_forms)
            .unwrap_or_default(),
    }
}

/// `AT+X` with its forms, as the catalogue entry a refused line breaks.
fn command_forms(command: &str) -> String {
    let forms: Vec<String> = fcm242d::generated::commands::FORM_TEMPLATES
        .iter()
        .filter(|t| t.owner == command)
        .map(|t| format!("`{}`", t.form))
        .collect();
    format!("{command} {}", forms.join(" / "))
}

/// The URC's name with its discriminator (`+QIURC: "closed"`).
fn urc_name(template: &str) -> String {
    let prefix = catalogue::prefix_of(template).unwrap_or(template);
    match catalogue::fields(template).first() {
        Some(f) if f.trim().starts_with('"') => format!("{prefix}: {}", f.trim()),
        _ => prefix.to_string(),
    }
}

/// The result of checking one log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    /// The log (its path, or what the caller named it).
    pub source: String,
    /// How it was read.
    pub format: String,
    /// Lines read (entries).
    pub lines: usize,
    /// Host commands in it.
    pub commands: usize,
    /// The deviations, in line order.
    pub deviations: Vec<Deviation>,
}

impl CheckReport {
    /// Checks a read transcript.
    pub fn new(source: &str, transcript: &Transcript) -> Self {
        let walked = walk(transcript);
        CheckReport {
            source: source.to_string(),
            format: transcript.describe(),
            lines: transcript.entries.len(),
            commands: walked.exchanges.len(),
            deviations: walked.deviations,
        }
    }

    /// Whether the log conforms to the catalogue.
    pub fn is_clean(&self) -> bool {
        self.deviations.is_empty()
    }

    /// Deviations of one category.
    pub fn of(&self, category: Category) -> impl Iterator<Item = &Deviation> {
        self.deviations
            .iter()
            .filter(move |d| d.kind.category() == category)
    }

    /// The report for a terminal.
    pub fn render(&self) -> String {
        let mut s = format!(
            "{}: {} ({} commands)\n",
            self.source, self.format, self.commands
        );
        if self.is_clean() {
            s.push_str("no deviation from the catalogue\n");
            return s;
        }
        let host = self.of(Category::Host).count();
        let module = self.of(Category::Module).count();
        let _ = writeln!(
            s,
            "{} deviation(s): {module} by the module, {host} by the host",
            self.deviations.len()
        );
        for d in &self.deviations {
            let _ = writeln!(s, "{}:{}", self.source, d.describe());
        }
        s
    }
}

/// Why a final result is not one the catalogue gives for `form`: a success
/// result the form does not list, or a `+CME ERROR` code outside the
/// command's result table (or from a command that refuses with `ERROR`).
fn wrong_final(form: &Form, f: &Final, text: &str) -> Option<String> {
    use crate::generated::cases::{CASES, CME_CODES};
    match f {
        Final::Error | Final::NoCarrier => None,
        Final::CmeError(n) => {
            let codes = CME_CODES
                .iter()
                .find(|(c, _)| *c == form.command)
                .map(|(_, codes)| *codes);
            match codes {
                Some(codes) if !codes.contains(n) => Some(format!(
                    "`{text}`: {n} is not a code of {}'s result table",
                    form.command
                )),
                Some(_) => None,
                None => Some(format!(
                    "`{text}`: {} refuses with ERROR, not +CME ERROR",
                    form.command
                )),
            }
        }
        Final::CmeText(_) => None,
        _ => {
            let finals = CASES.iter().find(|c| c.form == form.syntax)?.finals;
            let spelled = text.trim();
            let allowed = finals.iter().any(|g| {
                *g == spelled
                    || (*g == "CONNECT <n>"
                        && spelled
                            .strip_prefix("CONNECT ")
                            .is_some_and(|n| n.chars().all(|c| c.is_ascii_digit())))
            });
            (!finals.is_empty() && !allowed).then(|| {
                format!(
                    "`{spelled}` is not a result of this form (it gives {})",
                    finals.join(", ")
                )
            })
        }
    }
}
