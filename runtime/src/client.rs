//! The blocking client: the engine plus a [`Transport`] and a clock.
//!
//! ```no_run
//! use fcm242d::client::Client;
//! use fcm242d::generated::commands::qversion;
//! use fcm242d::transport::SerialTransport;
//!
//! let port = SerialTransport::open("/dev/ttyUSB0", 115_200)?;
//! let mut client = Client::new(port);
//! client.on_urc(|urc| eprintln!("URC: {}", urc.render()));
//! let response = client.send(&qversion::Execute {})?;
//! println!("firmware: {}", response.lines[0].version);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::boxed::Box;
use std::collections::VecDeque;
use std::fmt;
use std::string::{String, ToString};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use std::vec::Vec;

use crate::command::{AtCommand, Prompt};
use crate::engine::{Engine, Event, Final, PayloadEnd};
use crate::generated::results::HttpCode;
use crate::generated::urcs::Urc;
use crate::transport::Transport;
use crate::wire::DecodeError;

/// Settings of a client.
#[derive(Debug, Clone)]
pub struct Options {
    /// The limit for commands whose maximum response time the manual does not give.
    pub default_timeout: Duration,
    /// Added to every catalogue limit (UART latency, a slow host).
    pub slack: Duration,
    /// Silence kept before and after `+++` (the manual gives none; 1 s is the
    /// usual guard time of Quectel modules).
    pub guard_time: Duration,
    /// When set, replaces every catalogue limit.
    pub timeout_override: Option<Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            default_timeout: Duration::from_secs(5),
            slack: Duration::from_millis(200),
            guard_time: Duration::from_secs(1),
            timeout_override: None,
        }
    }
}

/// What the module answered to a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response<L> {
    /// The information lines, typed.
    pub lines: Vec<L>,
    /// Data blocks of the response (`+QIRD: <n>` data, QFREAD's file content, an HTTP body).
    pub data: Vec<Vec<u8>>,
    /// The final result.
    pub result: Final,
    /// The URC that completed the command after its final result, if it has one.
    pub completion: Option<Urc>,
    /// Lines that arrived during the command and are neither its lines nor URCs.
    pub unexpected: Vec<String>,
}

/// Why a command failed.
#[derive(Debug)]
pub enum Error {
    /// The transport failed.
    Io(std::io::Error),
    /// No final result (or prompt, or completion) within the time limit.
    Timeout {
        /// The command line.
        command: String,
        /// What was awaited.
        waiting_for: &'static str,
        /// How long the client waited.
        waited: Duration,
    },
    /// The module answered `ERROR`.
    Error {
        /// The command line.
        command: String,
    },
    /// The module answered `+CME ERROR: <err>` (the HTTP(S) commands).
    Cme {
        /// The command line.
        command: String,
        /// The result code.
        code: HttpCode,
    },
    /// The module answered `SEND FAIL` (its send buffer is full).
    SendFail,
    /// `NO CARRIER`: no connection to enter, or transparent mode ended.
    NoCarrier,
    /// An information line of the command does not match the catalogue.
    Decode {
        /// The line.
        line: String,
        /// Why.
        error: DecodeError,
    },
    /// The payload does not fit the command's data phase.
    Payload(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "transport: {e}"),
            Error::Timeout {
                command,
                waiting_for,
                waited,
            } => {
                write!(
                    f,
                    "`{command}`: no {waiting_for} within {} ms",
                    waited.as_millis()
                )
            }
            Error::Error { command } => write!(f, "`{command}`: ERROR"),
            Error::Cme { command, code } => write!(f, "`{command}`: +CME ERROR: {code}"),
            Error::SendFail => write!(f, "SEND FAIL: the module's send buffer is full"),
            Error::NoCarrier => write!(f, "NO CARRIER"),
            Error::Decode { line, error } => write!(f, "`{line}`: {error}"),
            Error::Payload(why) => write!(f, "payload: {why}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

type UrcCallback = Box<dyn FnMut(&Urc) + Send>;

/// A blocking client over a transport.
pub struct Client<T: Transport> {
    transport: T,
    engine: Engine,
    options: Options,
    callback: Option<UrcCallback>,
    channel: Option<mpsc::Sender<Urc>>,
    queued: VecDeque<Urc>,
    raw: VecDeque<u8>,
}

impl<T: Transport> fmt::Debug for Client<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("transport", &self.transport.describe())
            .field("options", &self.options)
            .finish()
    }
}

/// The state of one exchange.
struct Exchange<L> {
    response: Response<L>,
    done: bool,
    prompt: bool,
}

impl<T: Transport> Client<T> {
    /// A client with default options.
    pub fn new(transport: T) -> Self {
        Self::with_options(transport, Options::default())
    }

    /// A client with the given options.
    pub fn with_options(transport: T, options: Options) -> Self {
        Client {
            transport,
            engine: Engine::new(),
            options,
            callback: None,
            channel: None,
            queued: VecDeque::new(),
            raw: VecDeque::new(),
        }
    }

    /// Calls `f` for every URC, as it arrives (also during commands).
    pub fn on_urc(&mut self, f: impl FnMut(&Urc) + Send + 'static) {
        self.callback = Some(Box::new(f));
    }

    /// A channel that receives every URC from now on.
    pub fn urc_channel(&mut self) -> mpsc::Receiver<Urc> {
        let (tx, rx) = mpsc::channel();
        self.channel = Some(tx);
        rx
    }

    /// URCs received while nobody subscribed, oldest first.
    pub fn take_urcs(&mut self) -> Vec<Urc> {
        self.queued.drain(..).collect()
    }

    /// The transport.
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// The options.
    pub fn options_mut(&mut self) -> &mut Options {
        &mut self.options
    }

    fn deliver(&mut self, urc: Urc) {
        let mut delivered = false;
        if let Some(cb) = self.callback.as_mut() {
            cb(&urc);
            delivered = true;
        }
        if let Some(tx) = &self.channel {
            if tx.send(urc.clone()).is_ok() {
                delivered = true;
            } else {
                self.channel = None;
            }
        }
        if !delivered {
            self.queued.push_back(urc);
        }
    }

    fn limit<C: AtCommand>(&self, cmd: &C) -> Duration {
        if let Some(t) = self.options.timeout_override {
            return t;
        }
        let base = cmd
            .time_limit_ms()
            .map(Duration::from_millis)
            .unwrap_or(self.options.default_timeout);
        base + self.options.slack
    }

    /// Reads once (up to `wait`) and feeds the engine.
    fn pump(&mut self, wait: Duration) -> Result<(), Error> {
        let mut buf = [0u8; 4096];
        let n = self.transport.read(&mut buf, wait)?;
        if n > 0 {
            self.engine.feed(&buf[..n]);
        }
        Ok(())
    }

    /// Handles engine events for an exchange of form `C`.
    fn drain<C: AtCommand>(&mut self, x: &mut Exchange<C::Line>) -> Result<(), Error> {
        while let Some(event) = self.engine.poll() {
            match event {
                Event::Urc(u) => {
                    if x.done && x.response.completion.is_none() && C::COMPLETION == Some(u.kind())
                    {
                        x.response.completion = Some(u.clone());
                    }
                    self.deliver(u);
                }
                Event::Line(line) => match line.downcast::<C::Line>() {
                    Ok(l) => x.response.lines.push(l),
                    Err(other) => x
                        .response
                        .unexpected
                        .push(String::from_utf8_lossy(&other.render()).into_owned()),
                },
                Event::BadLine { line, .. } => x.response.unexpected.push(line),
                Event::Data(d) => x.response.data.push(d),
                Event::Prompt => x.prompt = true,
                Event::Connect(_) => {}
                Event::Final(f) => {
                    x.response.result = f;
                    x.done = true;
                }
                Event::Raw(bytes) => self.raw.extend(bytes),
                Event::BadUrc { line, .. } | Event::Unsolicited(line) => {
                    x.response.unexpected.push(line)
                }
                Event::Overflow { .. } => x
                    .response
                    .unexpected
                    .push("(a line too long to keep)".to_string()),
            }
        }
        Ok(())
    }

    /// Pumps until `until` holds or the deadline passes.
    fn wait<C: AtCommand>(
        &mut self,
        x: &mut Exchange<C::Line>,
        deadline: Instant,
        command: &str,
        waiting_for: &'static str,
        until: fn(&Exchange<C::Line>) -> bool,
        started: Instant,
    ) -> Result<(), Error> {
        loop {
            self.drain::<C>(x)?;
            if until(x) {
                return Ok(());
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::Timeout {
                    command: command.to_string(),
                    waiting_for,
                    waited: now - started,
                });
            }
            self.pump((deadline - now).min(Duration::from_millis(50)))?;
        }
    }

    /// Sends a command and returns its typed response; for a command with a
    /// deferred completion URC, also waits for that URC.
    pub fn send<C: AtCommand>(&mut self, cmd: &C) -> Result<Response<C::Line>, Error> {
        self.exchange(cmd, None)
    }

    /// Sends a command with a data phase, then `payload` after the prompt.
    /// A payload is sent by length when the command announces one, else it
    /// is ended with Ctrl+Z.
    pub fn send_payload<C: AtCommand>(
        &mut self,
        cmd: &C,
        payload: &[u8],
    ) -> Result<Response<C::Line>, Error> {
        let Some(dp) = C::DATA_PHASE else {
            return Err(Error::Payload("this command has no data phase"));
        };
        if let Some(max) = dp.max_length {
            if payload.len() > max {
                return Err(Error::Payload("longer than the command's maximum"));
            }
        }
        let end = match (cmd.payload_length(), dp.terminator) {
            (Some(n), _) if n == payload.len() => PayloadEnd::Length,
            (Some(_), _) => {
                return Err(Error::Payload(
                    "length differs from the length the command announces",
                ))
            }
            (None, Some(_)) => {
                if payload.contains(&0x1A) || payload.contains(&0x1B) {
                    return Err(Error::Payload(
                        "a Ctrl+Z-ended payload cannot contain 0x1A or 0x1B",
                    ));
                }
                PayloadEnd::CtrlZ
            }
            (None, None) => PayloadEnd::Length,
        };
        self.exchange(cmd, Some((payload, end)))
    }

    fn exchange<C: AtCommand>(
        &mut self,
        cmd: &C,
        payload: Option<(&[u8], PayloadEnd)>,
    ) -> Result<Response<C::Line>, Error> {
        let started = Instant::now();
        let deadline = started + self.limit(cmd);
        let bytes = self.engine.command(cmd);
        let line = cmd.encode();
        let escape = C::NAME == "+++";
        if escape {
            std::thread::sleep(self.options.guard_time);
        }
        self.transport.write_all(&bytes)?;
        if escape {
            std::thread::sleep(self.options.guard_time);
        }
        let mut x = Exchange {
            response: Response {
                lines: Vec::new(),
                data: Vec::new(),
                result: Final::Ok,
                completion: None,
                unexpected: Vec::new(),
            },
            done: false,
            prompt: false,
        };
        let result = self.run(cmd, &line, payload, &mut x, deadline, started);
        if result.is_err() {
            self.engine.cancel();
        }
        result?;
        match x.response.result {
            Final::Error => Err(Error::Error { command: line }),
            Final::CmeError(code) => Err(Error::Cme {
                command: line,
                code: HttpCode::from_code(code),
            }),
            Final::CmeText(_) => Err(Error::Error { command: line }),
            Final::SendFail => Err(Error::SendFail),
            Final::NoCarrier => Err(Error::NoCarrier),
            _ => Ok(x.response),
        }
    }

    fn run<C: AtCommand>(
        &mut self,
        _cmd: &C,
        line: &str,
        payload: Option<(&[u8], PayloadEnd)>,
        x: &mut Exchange<C::Line>,
        deadline: Instant,
        started: Instant,
    ) -> Result<(), Error> {
        if let Some((data, end)) = payload {
            self.wait::<C>(
                x,
                deadline,
                line,
                "data prompt",
                |x| x.prompt || x.done,
                started,
            )?;
            if x.done {
                return Ok(());
            }
            let bytes = self.engine.payload(data, end);
            self.transport.write_all(&bytes)?;
            if C::DATA_PHASE.is_some_and(|d| d.prompt == Prompt::Connect) {
                // After a CONNECT data phase the module answers in command mode.
                x.prompt = false;
            }
        }
        self.wait::<C>(x, deadline, line, "final result", |x| x.done, started)?;
        let succeeded = matches!(x.response.result, Final::Ok | Final::SendOk);
        if C::COMPLETION.is_some() && succeeded {
            self.wait::<C>(
                x,
                deadline,
                line,
                "completion URC",
                |x| x.response.completion.is_some(),
                started,
            )?;
        }
        Ok(())
    }

    /// Waits up to `timeout` for URCs and returns those that arrived (also
    /// delivered to the subscriber, if any).
    pub fn poll_urcs(&mut self, timeout: Duration) -> Result<Vec<Urc>, Error> {
        let deadline = Instant::now() + timeout;
        let mut got = Vec::new();
        loop {
            while let Some(event) = self.engine.poll() {
                match event {
                    Event::Urc(u) => {
                        got.push(u.clone());
                        self.deliver(u);
                    }
                    Event::Raw(bytes) => self.raw.extend(bytes),
                    _ => {}
                }
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(got);
            }
            self.pump((deadline - now).min(Duration::from_millis(50)))?;
        }
    }

    /// Whether the link is in transparent mode.
    pub fn is_transparent(&self) -> bool {
        self.engine.is_transparent()
    }

    /// In transparent mode: sends bytes to the peer as they are.
    pub fn write_transparent(&mut self, bytes: &[u8]) -> Result<(), Error> {
        Ok(self.transport.write_all(bytes)?)
    }

    /// In transparent mode: bytes from the peer, waiting up to `timeout` for
    /// the first. `Err(NoCarrier)` when the connection ended.
    pub fn read_transparent(&mut self, timeout: Duration) -> Result<Vec<u8>, Error> {
        let deadline = Instant::now() + timeout;
        loop {
            while let Some(event) = self.engine.poll() {
                match event {
                    Event::Raw(bytes) => self.raw.extend(bytes),
                    Event::Final(Final::NoCarrier) if self.raw.is_empty() => {
                        return Err(Error::NoCarrier)
                    }
                    Event::Final(Final::NoCarrier) => {}
                    Event::Urc(u) => self.deliver(u),
                    _ => {}
                }
            }
            if !self.raw.is_empty() {
                return Ok(self.raw.drain(..).collect());
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(Vec::new());
            }
            self.pump((deadline - now).min(Duration::from_millis(50)))?;
        }
    }
}
