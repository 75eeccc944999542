//! The blocking client: a [`Session`] driven over a [`Transport`] with the
//! system clock. It adds only I/O and time; every protocol decision is the
//! session's.
//!
//! ```no_run
//! use fcm242d::client::Client;
//! use fcm242d::generated::commands::qversion;
//! use fcm242d::transport::SerialTransport;
//!
//! let port = SerialTransport::open("/dev/ttyUSB0", 115_200)?;
//! let mut client = Client::new(port);
//! client.on_urc(|notice| eprintln!("URC: {notice}"));
//! let response = client.send(&qversion::Execute {})?;
//! println!("firmware: {}", response.lines[0].version);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A form with a data phase goes through [`Client::send_payload`]; `send`
//! does not take it, so the module is never left waiting for a payload that
//! does not come:
//!
//! ```compile_fail
//! # use fcm242d::client::Client;
//! # use fcm242d::generated::commands::qisend;
//! # use fcm242d::transport::MemoryTransport;
//! # use fcm242d::value::Int;
//! # let (link, _module) = MemoryTransport::pair();
//! let mut client = Client::new(link);
//! let cmd = qisend::WriteConnectIdSendLength {
//!     connect_id: Int::new(0)?,
//!     send_length: Int::new(5)?,
//! };
//! client.send(&cmd); // error: the form has a data phase (`WithPayload`)
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ```no_run
//! # use fcm242d::client::Client;
//! # use fcm242d::generated::commands::qisend;
//! # use fcm242d::transport::MemoryTransport;
//! # use fcm242d::value::Int;
//! # let (link, _module) = MemoryTransport::pair();
//! # let mut client = Client::new(link);
//! let cmd = qisend::WriteConnectIdSendLength {
//!     connect_id: Int::new(0)?,
//!     send_length: Int::new(5)?,
//! };
//! let sent = client.send_payload(&cmd, b"hello")?; // `>`, the 5 bytes, `SEND OK`
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::boxed::Box;
use std::collections::VecDeque;
use std::fmt;
use std::string::{String, ToString};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use std::vec::Vec;

use crate::command::{AtCommand, Line, Payloadless, WithPayload};
use crate::engine::Final;
use crate::generated::results::HttpCode;
use crate::generated::urcs::Urc;
use crate::session::{self, Action, Notice, Refused, Reply, Session};
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

impl Options {
    fn session(&self) -> session::Options {
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        session::Options {
            default_timeout_ms: ms(self.default_timeout),
            slack_ms: ms(self.slack),
            timeout_override_ms: self.timeout_override.map(ms),
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
    /// The URC that completed the command after its final result, if it has
    /// one (the last of a series).
    pub completion: Option<Urc>,
    /// Every URC of the completion, in order: QPING's replies then its final
    /// line; QIDNSGIP's result then its addresses; else just the completion.
    pub series: Vec<Urc>,
    /// Lines with the shape of the command's information lines that do not decode.
    pub unexpected: Vec<String>,
}

/// Why a command failed.
#[derive(Debug)]
pub enum Error {
    /// The transport failed.
    Io(std::io::Error),
    /// No final result (or prompt, or completion) within the time limit.
    /// The next command resynchronises the link first.
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
    /// The module answered `+CME ERROR: <text>` (a text, or a code too
    /// large for a number).
    CmeText {
        /// The command line.
        command: String,
        /// What followed `+CME ERROR:`.
        text: String,
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
    /// The payload does not fit the command's data phase (nothing was written).
    Payload(&'static str),
    /// The session refused to start the command (nothing was written).
    Refused(Refused),
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
            Error::CmeText { command, text } => write!(f, "`{command}`: +CME ERROR: {text}"),
            Error::SendFail => write!(f, "SEND FAIL: the module's send buffer is full"),
            Error::NoCarrier => write!(f, "NO CARRIER"),
            Error::Decode { line, error } => write!(f, "`{line}`: {error}"),
            Error::Payload(why) => write!(f, "payload: {why}"),
            Error::Refused(r) => write!(f, "{r}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

impl From<Refused> for Error {
    fn from(r: Refused) -> Self {
        match r {
            Refused::Payload(why) => Error::Payload(why),
            other => Error::Refused(other),
        }
    }
}

type UrcCallback = Box<dyn FnMut(&Notice) + Send>;

/// A blocking client over a transport.
pub struct Client<T: Transport> {
    transport: T,
    session: Session,
    options: Options,
    epoch: Instant,
    callback: Option<UrcCallback>,
    channel: Option<mpsc::Sender<Notice>>,
    queued: VecDeque<Notice>,
}

impl<T: Transport> fmt::Debug for Client<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("transport", &self.transport.describe())
            .field("options", &self.options)
            .finish()
    }
}

/// The longest a read waits before the client looks at the clock again.
const POLL: Duration = Duration::from_millis(50);

impl<T: Transport> Client<T> {
    /// A client with default options.
    pub fn new(transport: T) -> Self {
        Self::with_options(transport, Options::default())
    }

    /// A client with the given options.
    pub fn with_options(transport: T, options: Options) -> Self {
        Client {
            transport,
            session: Session::new(options.session()),
            options,
            epoch: Instant::now(),
            callback: None,
            channel: None,
            queued: VecDeque::new(),
        }
    }

    /// Calls `f` for every notice (URC, undecodable or unknown line,
    /// overflow) as it arrives, also during commands. Notices then no longer
    /// queue for [`take_urcs`](Client::take_urcs).
    pub fn on_urc(&mut self, f: impl FnMut(&Notice) + Send + 'static) {
        self.callback = Some(Box::new(f));
    }

    /// A channel that receives every notice from now on (instead of the
    /// queue of [`take_urcs`](Client::take_urcs)).
    pub fn urc_channel(&mut self) -> mpsc::Receiver<Notice> {
        let (tx, rx) = mpsc::channel();
        self.channel = Some(tx);
        rx
    }

    /// Notices received while nobody subscribed, oldest first (each is
    /// handed out once).
    pub fn take_urcs(&mut self) -> Vec<Notice> {
        self.queued.drain(..).collect()
    }

    /// The transport.
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// The options (changes apply to the next command).
    pub fn options_mut(&mut self) -> &mut Options {
        &mut self.options
    }

    /// The sans-IO session the client drives.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Milliseconds since the client was made: the session's clock.
    fn now(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn deliver(&mut self, notice: Notice) {
        if let Some(cb) = self.callback.as_mut() {
            cb(&notice);
            return;
        }
        if let Some(tx) = &self.channel {
            match tx.send(notice) {
                Ok(()) => return,
                Err(mpsc::SendError(back)) => {
                    self.channel = None;
                    self.queued.push_back(back);
                    return;
                }
            }
        }
        self.queued.push_back(notice);
    }

    /// Writes what the session asks for, and hands its notices out.
    fn service(&mut self) -> Result<(), Error> {
        while let Some(action) = self.session.next_action() {
            match action {
                Action::Write(bytes) => self.transport.write_all(&bytes)?,
                Action::WriteGuarded(bytes) => {
                    std::thread::sleep(self.options.guard_time);
                    self.transport.write_all(&bytes)?;
                    std::thread::sleep(self.options.guard_time);
                }
            }
        }
        while let Some(n) = self.session.take_notice() {
            self.deliver(n);
        }
        Ok(())
    }

    /// Reads once (up to `wait`) and feeds the session.
    fn pump(&mut self, wait: Duration) -> Result<(), Error> {
        let mut buf = [0u8; 4096];
        let n = self.transport.read(&mut buf, wait)?;
        let now = self.now();
        if n > 0 {
            self.session.feed(&buf[..n], now);
        } else {
            self.session.tick(now);
        }
        Ok(())
    }

    /// Drives the session until `done` holds (or, with `until`, the time passes).
    fn drive(&mut self, until: Option<Instant>, done: fn(&Session) -> bool) -> Result<(), Error> {
        loop {
            self.service()?;
            if done(&self.session) {
                return Ok(());
            }
            let now = Instant::now();
            let mut wait = POLL;
            if let Some(until) = until {
                if now >= until {
                    return Ok(());
                }
                wait = wait.min(until - now);
            }
            if let Some(d) = self.session.deadline() {
                let left = d.saturating_sub(self.now());
                wait = wait.min(Duration::from_millis(left));
            }
            self.pump(wait)?;
        }
    }

    /// Sends a command without a data phase and returns its typed response;
    /// for a command with a deferred completion URC (or a series of them),
    /// also waits for it. After a time-out, the link is resynchronised
    /// first, so a late answer never answers this command.
    pub fn send<C: Payloadless>(&mut self, cmd: &C) -> Result<Response<C::Line>, Error> {
        self.ready()?;
        self.session.start(cmd, self.now())?;
        self.finish::<C>()
    }

    /// Sends a command with a data phase, then `payload` after the prompt:
    /// by length when the command announces one, else ended with Ctrl+Z. A
    /// payload that cannot be sent is refused before any byte is written.
    pub fn send_payload<C: WithPayload>(
        &mut self,
        cmd: &C,
        payload: &[u8],
    ) -> Result<Response<C::Line>, Error> {
        self.ready()?;
        self.session.start_with_payload(cmd, payload, self.now())?;
        self.finish::<C>()
    }

    /// Resynchronises after a time-out, if one left the link out of step.
    fn ready(&mut self) -> Result<(), Error> {
        self.session.set_options(self.options.session());
        if self.session.needs_resync() {
            self.resync()?;
        }
        Ok(())
    }

    /// Resynchronises the link now: leaves transparent mode if needed,
    /// cancels a data phase, sends a probe (`AT+QVERSION`) and reads up to
    /// its own answer; whatever came before is delivered as notices. Also
    /// done automatically before the command after a time-out.
    pub fn resync(&mut self) -> Result<(), Error> {
        self.session.set_options(self.options.session());
        self.session.resync(self.now());
        // An exchange abandoned here has nobody to report to.
        let _ = self.session.take_outcome();
        self.drive(None, Session::is_idle)?;
        if self.session.needs_resync() {
            return Err(Error::Timeout {
                command: "AT+QVERSION".to_string(),
                waiting_for: "the answer to the resynchronisation probe",
                waited: self.options.default_timeout + self.options.slack,
            });
        }
        Ok(())
    }

    fn finish<C: AtCommand>(&mut self) -> Result<Response<C::Line>, Error> {
        self.drive(None, Session::has_outcome)?;
        self.service()?;
        let outcome = self.session.take_outcome().ok_or(Error::Timeout {
            command: String::new(),
            waiting_for: "an outcome",
            waited: Duration::ZERO,
        })?;
        let reply = match outcome {
            Ok(reply) => reply,
            Err(t) => {
                return Err(Error::Timeout {
                    command: t.command,
                    waiting_for: t.waiting_for,
                    waited: Duration::from_millis(t.waited_ms),
                })
            }
        };
        typed::<C::Line>(reply)
    }

    /// Waits up to `timeout` for notices and returns every notice that
    /// arrived (and any queued before), each once. With a subscriber
    /// ([`on_urc`](Client::on_urc), [`urc_channel`](Client::urc_channel))
    /// the notices go there instead, and this returns none.
    pub fn poll_urcs(&mut self, timeout: Duration) -> Result<Vec<Notice>, Error> {
        let until = Instant::now() + timeout;
        self.drive(Some(until), |_| false)?;
        Ok(self.take_urcs())
    }

    /// Whether the link is in transparent mode.
    pub fn is_transparent(&self) -> bool {
        self.session.is_transparent()
    }

    /// In transparent mode: sends bytes to the peer as they are.
    pub fn write_transparent(&mut self, bytes: &[u8]) -> Result<(), Error> {
        Ok(self.transport.write_all(bytes)?)
    }

    /// In transparent mode: bytes from the peer, waiting up to `timeout` for
    /// the first. When the connection ended (`NO CARRIER`), the bytes that
    /// came before it are returned first, then `Err(NoCarrier)`.
    pub fn read_transparent(&mut self, timeout: Duration) -> Result<Vec<u8>, Error> {
        let until = Instant::now() + timeout;
        self.drive(Some(until), |s| s.has_raw() || s.carrier_lost())?;
        if self.session.has_raw() {
            return Ok(self.session.take_raw());
        }
        if self.session.carrier_lost() {
            return Err(Error::NoCarrier);
        }
        Ok(Vec::new())
    }
}

/// The typed response of a reply, or the error its final result means.
fn typed<L: Line>(reply: Reply) -> Result<Response<L>, Error> {
    let Reply {
        command,
        lines,
        data,
        result,
        series,
        mut unexpected,
    } = reply;
    let mut typed_lines = Vec::with_capacity(lines.len());
    for l in lines {
        match l.downcast::<L>() {
            Ok(l) => typed_lines.push(l),
            Err(other) => unexpected.push(String::from_utf8_lossy(&other.render()).into_owned()),
        }
    }
    match result {
        Final::Error => return Err(Error::Error { command }),
        Final::CmeError(code) => {
            return Err(Error::Cme {
                command,
                code: HttpCode::from_code(code),
            })
        }
        Final::CmeText(text) => return Err(Error::CmeText { command, text }),
        Final::SendFail => return Err(Error::SendFail),
        Final::NoCarrier => return Err(Error::NoCarrier),
        _ => {}
    }
    Ok(Response {
        lines: typed_lines,
        data,
        result,
        completion: series.last().cloned(),
        series,
        unexpected,
    })
}
