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
//! let cmd = qisend::WriteConnectIdSendLength::to(Int::lit::<0>());
//! client.send(&cmd); // error: the form has a data phase (`WithPayload`)
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! `send_payload` sets the form's length field (`<send_length>`,
//! `<data_length>`, …) from the payload, so the form is built without it:
//!
//! ```no_run
//! # use fcm242d::client::Client;
//! # use fcm242d::generated::commands::qisend;
//! # use fcm242d::transport::MemoryTransport;
//! # use fcm242d::value::Int;
//! # let (link, _module) = MemoryTransport::pair();
//! # let mut client = Client::new(link);
//! let cmd = qisend::WriteConnectIdSendLength::to(Int::lit::<0>());
//! let sent = client.send_payload(&cmd, b"hello")?; // `AT+QISEND=0,5`, `>`, the 5 bytes, `SEND OK`
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Building commands
//!
//! Every form is a plain struct, but where its fields mirror the manual's
//! nested `[…]` groups or hold what the client fills in, a constructor says
//! the operation instead (the same for the async client):
//!
//! | Command | Constructors |
//! |---------|--------------|
//! | QIOPEN  | [`qiopen::Write::new`](crate::generated::commands::qiopen::Write::new) (an address or a name), [`.access_mode`](crate::generated::commands::qiopen::Write::access_mode) |
//! | QISEND  | [`qisend::WriteConnectIdSendLength::to`](crate::generated::commands::qisend::WriteConnectIdSendLength::to) (the length from the payload) |
//! | QMTCFG "will" | [`Will::set`](crate::generated::commands::qmtcfg::Will::set), [`::clear`](crate::generated::commands::qmtcfg::Will::clear), [`::query`](crate::generated::commands::qmtcfg::Will::query) |
//! | QMTCONN | [`qmtconn::Write::new`](crate::generated::commands::qmtconn::Write::new), [`.login`](crate::generated::commands::qmtconn::Write::login) |
//! | QMTSUB  | [`qmtsub::Write::new`](crate::generated::commands::qmtsub::Write::new), [`.and`](crate::generated::commands::qmtsub::Write::and) (one more topic); the answer: [`Qmtsub::granted`](crate::generated::urcs::qmtsub::Qmtsub::granted) |
//! | QHTTPCFG "url" | [`Url::set`](crate::generated::commands::qhttpcfg::Url::set), [`::query`](crate::generated::commands::qhttpcfg::Url::query) |
//! | QHTTPPOST | [`qhttppost::Write::body`](crate::generated::commands::qhttppost::Write::body) (the length from the body), [`.within`](crate::generated::commands::qhttppost::Write::within); the answer: [`Qhttppost::status`](crate::generated::urcs::qhttppost::Qhttppost::status) |
//! | QBLEGATTSNTFY | [`qblegattsntfy::Write::text`](crate::generated::commands::qblegattsntfy::Write::text), [`::bytes`](crate::generated::commands::qblegattsntfy::Write::bytes) (hex digits and their count) |
//! | QPING   | [`qping::Write::new`](crate::generated::commands::qping::Write::new), [`.times`](crate::generated::commands::qping::Write::times) |
//!
//! `examples/reviewer_blocking` and `examples/reviewer_async` in the
//! repository use them in whole programs against the simulator.

use std::boxed::Box;
use std::collections::VecDeque;
use std::fmt;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use std::vec::Vec;

use crate::command::{AtCommand, Payloadless, WithPayload};
use crate::driver::{self, Picked, Step};
use crate::generated::urcs::Urc;
use crate::session::{Notice, Session};
use crate::transport::Transport;

pub use crate::options::Options;
pub use crate::response::Response;

/// Why a command of the blocking client failed (the link's errors are
/// [`std::io::Error`]s).
pub type Error = crate::error::Error<std::io::Error>;

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
const POLL_MS: u64 = 50;

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

    /// Runs the session's steps until `done` holds (or, with `until`, the
    /// time passes): writes, notices, reads.
    fn drive(
        &mut self,
        until: Option<Instant>,
        mut done: impl FnMut(&Session) -> bool,
    ) -> Result<(), Error> {
        self.run(until, &mut done, &mut |_| Picked::<()>::No)?;
        Ok(())
    }

    /// Runs the session's steps until `done` holds, `pick` accepts a
    /// notice, or (with `until`) the time passes.
    fn run<R>(
        &mut self,
        until: Option<Instant>,
        done: &mut dyn FnMut(&Session) -> bool,
        pick: &mut dyn FnMut(&Notice) -> Picked<R>,
    ) -> Result<Option<R>, Error> {
        let until = until.map(|u| self.at(u));
        loop {
            let now = self.now();
            match driver::step(&mut self.session, now, until, done, POLL_MS) {
                Step::Write(bytes) => self.transport.write_all(&bytes)?,
                Step::WriteGuarded(bytes) => {
                    std::thread::sleep(self.options.guard_time);
                    self.transport.write_all(&bytes)?;
                    std::thread::sleep(self.options.guard_time);
                }
                Step::Notice(n) => match pick(&n) {
                    Picked::Done(found) => return Ok(Some(found)),
                    Picked::Kept => {}
                    Picked::No => self.deliver(n),
                },
                Step::Done => return Ok(None),
                Step::Read(wait) => {
                    let mut buf = [0u8; 4096];
                    let n = self.transport.read(&mut buf, Duration::from_millis(wait))?;
                    let now = self.now();
                    driver::absorb(&mut self.session, &buf[..n], now);
                }
            }
        }
    }

    /// `t` on the session's clock.
    fn at(&self, t: Instant) -> u64 {
        crate::options::ms(t.saturating_duration_since(self.epoch))
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
        if driver::needs_resync(&mut self.session, &self.options) {
            self.resync()?;
        }
        Ok(())
    }

    /// Resynchronises the link now: leaves transparent mode if needed,
    /// cancels a data phase, sends a probe (`AT+QVERSION`) and reads up to
    /// its own answer; whatever came before is delivered as notices. Also
    /// done automatically before the command after a time-out.
    pub fn resync(&mut self) -> Result<(), Error> {
        let now = self.now();
        driver::begin_resync(&mut self.session, &self.options, now);
        self.drive(None, Session::is_idle)?;
        driver::resync_result(&self.session, &self.options)
    }

    fn finish<C: AtCommand>(&mut self) -> Result<Response<C::Line>, Error> {
        self.drive(None, Session::has_outcome)?;
        driver::outcome(&mut self.session)
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

    /// Waits up to `timeout` for the first notice `pick` accepts (returns
    /// `Some` for) and returns what `pick` made of it; `None` when the time
    /// passed. Notices queued before are looked at first; every notice
    /// `pick` declines goes on to the subscriber or the queue as usual.
    ///
    /// ```no_run
    /// # use fcm242d::client::Client;
    /// # use fcm242d::transport::MemoryTransport;
    /// # use std::time::Duration;
    /// use fcm242d::generated::urcs::{qstastat, Urc};
    /// # let (link, _module) = MemoryTransport::pair();
    /// # let mut client = Client::new(link);
    /// let joined = client.wait_for(Duration::from_secs(20), |n| {
    ///     matches!(n.urc(), Some(Urc::Qstastat(s)) if s.event == qstastat::Event::GotIp)
    ///         .then_some(())
    /// })?;
    /// assert!(joined.is_some(), "no IP address within 20 s");
    /// # Ok::<(), fcm242d::client::Error>(())
    /// ```
    pub fn wait_for<R>(
        &mut self,
        timeout: Duration,
        pick: impl FnMut(&Notice) -> Option<R>,
    ) -> Result<Option<R>, Error> {
        self.wait_picking(timeout, &mut driver::first_of(pick))
    }

    /// Waits up to `timeout` for the first URC `accept` holds for and
    /// returns it; `None` when the time passed. The same as
    /// [`wait_for`](Client::wait_for) for the common case of a URC picked
    /// by a test on it:
    ///
    /// ```no_run
    /// # use fcm242d::client::Client;
    /// # use fcm242d::transport::MemoryTransport;
    /// # use std::time::Duration;
    /// use fcm242d::generated::urcs::{qstastat, Urc};
    /// # let (link, _module) = MemoryTransport::pair();
    /// # let mut client = Client::new(link);
    /// let joined = client.wait_for_urc(Duration::from_secs(20), |u| {
    ///     matches!(u, Urc::Qstastat(s) if s.event == qstastat::Event::GotIp)
    /// })?;
    /// assert!(joined.is_some(), "no IP address within 20 s");
    /// # Ok::<(), fcm242d::client::Error>(())
    /// ```
    pub fn wait_for_urc(
        &mut self,
        timeout: Duration,
        accept: impl FnMut(&Urc) -> bool,
    ) -> Result<Option<Urc>, Error> {
        self.wait_for(timeout, driver::urc_where(accept))
    }

    /// Waits up to `timeout` for a series of URCs that no command waits
    /// for: the first URC `first` accepts, then the URCs of its kind until
    /// the catalogue says the series is complete (see
    /// [`UrcSeries`](crate::session::UrcSeries)). `None` when the time
    /// passed first (the URCs gathered so far are dropped). Other notices
    /// go on as usual.
    pub fn wait_for_series(
        &mut self,
        timeout: Duration,
        first: impl FnMut(&Urc) -> bool,
    ) -> Result<Option<Vec<Urc>>, Error> {
        self.wait_picking(timeout, &mut driver::series_of(first))
    }

    fn wait_picking<R>(
        &mut self,
        timeout: Duration,
        pick: &mut dyn FnMut(&Notice) -> Picked<R>,
    ) -> Result<Option<R>, Error> {
        if let Some(found) = driver::scan_queue(&mut self.queued, pick) {
            return Ok(Some(found));
        }
        let until = Instant::now() + timeout;
        self.run(Some(until), &mut |_| false, pick)
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
        driver::transparent_bytes(&mut self.session)
    }
}
