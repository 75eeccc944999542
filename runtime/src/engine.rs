//! The sans-IO protocol engine: hand it a command and it gives the bytes to
//! write; feed it the bytes the module sends and it gives typed events. It
//! does no I/O and keeps no clock, so it runs anywhere (`no_std` + `alloc`),
//! and the clients add the timing.
//!
//! ```
//! use fcm242d::engine::{Engine, Event, Final};
//! use fcm242d::generated::commands::qversion;
//! use fcm242d::generated::urcs::Urc;
//!
//! let mut engine = Engine::new();
//! let bytes = engine.command(&qversion::Execute {});
//! assert_eq!(bytes, b"AT+QVERSION\r\n");
//! engine.feed(b"\r\n+QIURC: \"closed\",1\r\n+QVERSION: FCM242DAAR01A05\r\n\r\nOK\r\n");
//! assert!(matches!(engine.poll(), Some(Event::Urc(Urc::QiurcClosed(_)))));
//! assert_eq!(engine.poll(), Some(Event::Line("+QVERSION: FCM242DAAR01A05".into())));
//! assert_eq!(engine.poll(), Some(Event::Final(Final::Ok)));
//! ```

use alloc::collections::VecDeque;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::cell::RefCell;

use crate::command::{AfterConnect, AtCommand, Line, Prompt};
use crate::framer::{DataOracle, Follow, Frame, Framer};
use crate::generated::urcs::Urc;
use crate::wire::DecodeError;

/// The longest line the engine keeps (longer ones are reported as overflow).
pub const MAX_LINE: usize = 4096;

/// A final result code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Final {
    /// `OK`
    Ok,
    /// `ERROR`
    Error,
    /// `+CME ERROR: <err>`
    CmeError(i64),
    /// `SEND OK`
    SendOk,
    /// `SEND FAIL`
    SendFail,
    /// `CONNECT` (transparent mode, or the end of a response that switches mode)
    Connect,
    /// `CONNECT <n>`
    ConnectN(usize),
    /// `NO CARRIER`
    NoCarrier,
}

impl Final {
    /// Reads a final result line.
    pub fn parse(line: &str) -> Option<Final> {
        match line {
            "OK" => Some(Final::Ok),
            "ERROR" => Some(Final::Error),
            "SEND OK" => Some(Final::SendOk),
            "SEND FAIL" => Some(Final::SendFail),
            "CONNECT" => Some(Final::Connect),
            "NO CARRIER" => Some(Final::NoCarrier),
            _ => {
                if let Some(code) = line.strip_prefix("+CME ERROR: ") {
                    return code.trim().parse().ok().map(Final::CmeError);
                }
                line.strip_prefix("CONNECT ")
                    .and_then(|n| n.trim().parse().ok())
                    .map(Final::ConnectN)
            }
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
        /// The line.
        line: String,
        /// Why it does not decode.
        error: DecodeError,
    },
    /// An information line of the pending command (decode it with the form's `Line` type).
    Line(String),
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
    /// A line that is neither a URC nor part of a pending command.
    Unsolicited(String),
    /// A line longer than [`MAX_LINE`] was dropped.
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

/// What the engine knows about the command in flight.
#[derive(Debug, Clone)]
struct Pending {
    line: String,
    echo_seen: bool,
    prompt: Option<Prompt>,
    after_connect: AfterConnect,
    enters_transparent: bool,
    data_length_of: fn(&str) -> Option<usize>,
    is_line: fn(&str) -> bool,
}

fn is_line_of<C: AtCommand>(line: &str) -> bool {
    <C::Line as Line>::parse(line).is_ok()
}

/// How the oracle classified a line, kept so the engine does not parse the
/// same line again when it handles it (each parse is a full pest match).
#[derive(Debug, Clone)]
struct Classified {
    text: String,
    is_line: Option<bool>,
    urc: Option<Option<Result<Urc, DecodeError>>>,
}

/// Decides which lines announce data, from the pending command and the URCs.
struct Oracle<'a> {
    pending: Option<&'a Pending>,
    memo: &'a RefCell<VecDeque<Classified>>,
}

impl Oracle<'_> {
    fn remember(
        &self,
        text: &str,
        is_line: Option<bool>,
        urc: Option<Option<Result<Urc, DecodeError>>>,
    ) {
        self.memo.borrow_mut().push_back(Classified {
            text: text.to_string(),
            is_line,
            urc,
        });
    }
}

impl DataOracle for Oracle<'_> {
    fn data_length(&self, line: &[u8]) -> Option<usize> {
        match self.follow(line) {
            Follow::Data(n) => Some(n),
            _ => None,
        }
    }

    fn follow(&self, line: &[u8]) -> Follow {
        let Ok(text) = core::str::from_utf8(line) else {
            return Follow::Lines;
        };
        if let Some(p) = self.pending {
            if let Some(f @ (Final::Connect | Final::ConnectN(_))) = Final::parse(text) {
                if p.prompt == Some(Prompt::Connect) {
                    return Follow::Lines;
                }
                return match (p.after_connect, f) {
                    (AfterConnect::Length, Final::ConnectN(n)) => Follow::Data(n),
                    (AfterConnect::UntilOk, _) => Follow::DataUntil(b"\r\nOK\r\n".to_vec()),
                    _ if p.enters_transparent && f == Final::Connect => Follow::Transparent,
                    _ => Follow::Lines,
                };
            }
            if (p.is_line)(text) {
                self.remember(text, Some(true), None);
                return match (p.data_length_of)(text) {
                    Some(n) => Follow::Data(n),
                    None => Follow::Lines,
                };
            }
        }
        let is_line = self.pending.map(|_| false);
        let urc = Urc::parse(text);
        let follow = match &urc {
            Some(Ok(u)) => match u.data_length() {
                Some(n) => Follow::Data(n),
                None => Follow::Lines,
            },
            _ => Follow::Lines,
        };
        self.remember(text, is_line, Some(urc));
        follow
    }
}

/// The protocol engine.
#[derive(Debug)]
pub struct Engine {
    framer: Framer,
    pending: Option<Pending>,
    /// A URC whose line arrived and whose data block is awaited.
    urc_awaiting_data: Option<Urc>,
    /// Whether the pending command's `CONNECT` announced data that is still awaited.
    events: VecDeque<Event>,
    /// The oracle's classification of the lines of the current `feed`.
    memo: RefCell<VecDeque<Classified>>,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl Engine {
    /// An idle engine in command mode.
    pub fn new() -> Self {
        Engine {
            framer: Framer::new(MAX_LINE),
            pending: None,
            urc_awaiting_data: None,
            events: VecDeque::new(),
            memo: RefCell::new(VecDeque::new()),
        }
    }

    /// Starts `cmd`: returns the bytes to write (the line and CR LF). `+++`
    /// returns just `+++`: the client must keep the guard times around it.
    pub fn command<C: AtCommand>(&mut self, cmd: &C) -> Vec<u8> {
        let line = cmd.encode();
        if C::NAME == "+++" {
            // Leaving transparent mode: the module answers in command mode.
            self.framer.set_transparent(false);
        }
        let prompt = C::DATA_PHASE.map(|d| d.prompt);
        self.framer.expect_prompt(prompt == Some(Prompt::Greater));
        self.pending = Some(Pending {
            line: line.clone(),
            echo_seen: false,
            prompt,
            after_connect: C::AFTER_CONNECT,
            enters_transparent: C::ENTERS_TRANSPARENT,
            data_length_of: C::data_length_of,
            is_line: is_line_of::<C>,
        });
        let mut bytes = line.into_bytes();
        if C::NAME != "+++" {
            bytes.extend_from_slice(b"\r\n");
        }
        bytes
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

    /// Feeds bytes received from the module, in any fragmentation.
    pub fn feed(&mut self, bytes: &[u8]) {
        let mut frames = Vec::new();
        {
            let oracle = Oracle {
                pending: self.pending.as_ref(),
                memo: &self.memo,
            };
            self.framer.feed(bytes, &oracle, &mut |f| frames.push(f));
        }
        for f in frames {
            self.handle(f);
        }
        self.memo.borrow_mut().clear();
    }

    /// The oracle's classification of `text`, if it made one in this `feed`.
    fn recall(&self, text: &str) -> Option<Classified> {
        let mut memo = self.memo.borrow_mut();
        while let Some(c) = memo.pop_front() {
            if c.text == text {
                return Some(c);
            }
        }
        None
    }

    /// The next event, if any.
    pub fn poll(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Whether a command is waiting for its final result.
    pub fn is_busy(&self) -> bool {
        self.pending.is_some()
    }

    /// Gives up on the pending command (after a timeout): later lines of it are
    /// reported as unsolicited.
    pub fn cancel(&mut self) {
        self.pending = None;
        self.framer.expect_prompt(false);
    }

    /// Whether the link is in transparent mode.
    pub fn is_transparent(&self) -> bool {
        self.framer.is_transparent()
    }

    /// Forgets everything in flight (after a reboot or a resynchronisation).
    pub fn reset(&mut self) {
        self.framer.reset();
        self.pending = None;
        self.urc_awaiting_data = None;
        self.events.clear();
    }

    fn handle(&mut self, frame: Frame) {
        match frame {
            Frame::Line(bytes) => {
                let text = String::from_utf8_lossy(&bytes).to_string();
                self.line(text);
            }
            Frame::Data(data) => {
                if let Some(mut u) = self.urc_awaiting_data.take() {
                    u.set_data(data);
                    self.events.push_back(Event::Urc(u));
                } else {
                    self.events.push_back(Event::Data(data));
                }
            }
            Frame::Prompt => self.events.push_back(Event::Prompt),
            Frame::Raw(bytes) => self.events.push_back(Event::Raw(bytes)),
            Frame::Overflow { discarded } => self.events.push_back(Event::Overflow { discarded }),
        }
    }

    fn line(&mut self, text: String) {
        if let Some(p) = self.pending.as_mut() {
            if !p.echo_seen && text.trim().eq_ignore_ascii_case(p.line.trim()) {
                p.echo_seen = true;
                return;
            }
        }
        if let Some(f) = Final::parse(&text) {
            self.final_result(f, text);
            return;
        }
        let known = self.recall(&text);
        if let Some(p) = &self.pending {
            let is_line = match known.as_ref().and_then(|c| c.is_line) {
                Some(v) => v,
                None => (p.is_line)(&text),
            };
            if is_line {
                self.events.push_back(Event::Line(text));
                return;
            }
        }
        let urc = match known.and_then(|c| c.urc) {
            Some(u) => u,
            None => Urc::parse(&text),
        };
        match urc {
            Some(Ok(u)) if u.data_length().is_some() => self.urc_awaiting_data = Some(u),
            Some(Ok(u)) => self.events.push_back(Event::Urc(u)),
            Some(Err(error)) if self.pending.is_none() => {
                self.events.push_back(Event::BadUrc { line: text, error })
            }
            _ if self.pending.is_some() => self.events.push_back(Event::Line(text)),
            _ => self.events.push_back(Event::Unsolicited(text)),
        }
    }

    fn final_result(&mut self, f: Final, text: String) {
        let Some(p) = &self.pending else {
            let event = if f == Final::NoCarrier {
                Event::Final(f)
            } else {
                Event::Unsolicited(text)
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
                self.pending = None;
                self.framer.expect_prompt(false);
                self.events.push_back(Event::Final(f));
            }
        }
    }
}
