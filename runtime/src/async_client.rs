//! The async client: a [`Session`] driven over an `embedded-io-async` link
//! ([`Read`] + [`Write`]: a UART of embassy, a tokio stream through
//! `embedded-io-adapters`) with a [`Timer`]. Like the blocking
//! [`Client`](crate::client::Client), it adds only I/O and time: both run
//! the same steps (the crate's driver) over the same session, so URCs in
//! the middle of a command, completions, series, data phases, transparent
//! mode and time limits behave alike.
//!
//! URCs go to a [`UrcChannel`] with several
//! subscribers ([`AsyncClient::publish_to`]), or queue for
//! [`AsyncClient::take_urcs`] while none is set.
//!
//! The link's `read` must be cancel-safe (bytes it returned are never lost
//! when the future is dropped before it completes): the client races each
//! read against the next deadline. The tokio adapter and embassy's buffered
//! UARTs are.
//!
//! ```no_run
//! # // The crate's tokio dev-dependency has no `net`: the stream comes in.
//! # async fn run(stream: tokio::io::DuplexStream) -> Result<(), Box<dyn std::error::Error>> {
//! use embedded_io_adapters::tokio_1::FromTokio;
//! use fcm242d::async_client::AsyncClient;
//! use fcm242d::generated::commands::qversion;
//! use fcm242d::pubsub::{CriticalSectionRawMutex, UrcChannel, WaitResult};
//! use fcm242d::timer::TokioTimer;
//!
//! // Any tokio stream: a TCP connection to `fcm242d-sim --tcp 127.0.0.1:5000`
//! // (`tokio::net::TcpStream::connect("127.0.0.1:5000").await?`, tokio's
//! // feature `net`), a serial port of `tokio-serial`, …
//! let urcs: UrcChannel<CriticalSectionRawMutex, 16, 2> = UrcChannel::new();
//! let mut watcher = urcs.subscriber().unwrap();
//! let mut client = AsyncClient::new(FromTokio::new(stream), TokioTimer::new());
//! client.publish_to(&urcs);
//! let response = client.send(&qversion::Execute {}).await?;
//! println!("firmware: {}", response.lines[0].version);
//! while let Some(got) = watcher.try_next_message() {
//!     match got {
//!         WaitResult::Message(notice) => println!("URC: {notice}"),
//!         WaitResult::Lagged(n) => println!("{n} URCs lost: the channel was full"),
//!     }
//! }
//! # Ok(())
//! # }
//! ```

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use embassy_futures::select::{select, Either};
pub use embedded_io_async::{Read, Write};

use crate::command::{AtCommand, Payloadless, WithPayload};
use crate::driver::{self, Picked, Step};
use crate::generated::urcs::Urc;
use crate::options::ms;
use crate::pubsub::{DynImmediatePublisher, RawMutex, UrcChannel};
use crate::session::{Notice, Session};
use crate::timer::Timer;

pub use crate::options::Options;
pub use crate::response::Response;

/// Why a command of the async client failed; `E` is the link's error.
pub type Error<E> = crate::error::Error<E>;

/// The longest read before the client looks at its clock again when no
/// deadline is set (it wakes at every deadline anyway).
const LONGEST_MS: u64 = 60_000;

/// Bytes read at once.
const READ_CHUNK: usize = 256;

/// An async client over a link `IO` with a timer `T`; `'a` is the life of
/// the URC channel it publishes to.
pub struct AsyncClient<'a, IO, T> {
    io: IO,
    timer: T,
    session: Session,
    options: Options,
    publisher: Option<DynImmediatePublisher<'a, Notice>>,
    queued: VecDeque<Notice>,
}

impl<IO, T> fmt::Debug for AsyncClient<'_, IO, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncClient")
            .field("options", &self.options)
            .field("session", &self.session)
            .finish()
    }
}

impl<'a, IO: Read + Write, T: Timer> AsyncClient<'a, IO, T> {
    /// A client with default options.
    pub fn new(io: IO, timer: T) -> Self {
        Self::with_options(io, timer, Options::default())
    }

    /// A client with the given options.
    pub fn with_options(io: IO, timer: T, options: Options) -> Self {
        AsyncClient {
            io,
            timer,
            session: Session::new(options.session()),
            options,
            publisher: None,
            queued: VecDeque::new(),
        }
    }

    /// Publishes every notice (URC, undecodable or unknown line, overflow)
    /// to `channel` from now on, as it arrives, also during commands: each
    /// of its subscribers gets each notice. A full channel drops its oldest
    /// notice and tells the subscribers that missed it.
    pub fn publish_to<M: RawMutex, const CAP: usize, const SUBS: usize>(
        &mut self,
        channel: &'a UrcChannel<M, CAP, SUBS>,
    ) {
        self.publisher = Some(channel.dyn_immediate_publisher());
    }

    /// Notices received while no channel was set, oldest first (each is
    /// handed out once).
    pub fn take_urcs(&mut self) -> Vec<Notice> {
        self.queued.drain(..).collect()
    }

    /// The link.
    pub fn io_mut(&mut self) -> &mut IO {
        &mut self.io
    }

    /// The options (changes apply to the next command).
    pub fn options_mut(&mut self) -> &mut Options {
        &mut self.options
    }

    /// The sans-IO session the client drives.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Sends a command without a data phase and returns its typed response;
    /// for a command with a deferred completion URC (or a series of them),
    /// also waits for it. After a time-out, the link is resynchronised
    /// first, so a late answer never answers this command.
    pub async fn send<C: Payloadless>(
        &mut self,
        cmd: &C,
    ) -> Result<Response<C::Line>, Error<IO::Error>> {
        self.ready().await?;
        let now = self.timer.now_ms();
        self.session.start(cmd, now)?;
        self.finish::<C>().await
    }

    /// Sends a command with a data phase, then `payload` after the prompt:
    /// by length when the command announces one, else ended with Ctrl+Z. A
    /// payload that cannot be sent is refused before any byte is written.
    pub async fn send_payload<C: WithPayload>(
        &mut self,
        cmd: &C,
        payload: &[u8],
    ) -> Result<Response<C::Line>, Error<IO::Error>> {
        self.ready().await?;
        let now = self.timer.now_ms();
        self.session.start_with_payload(cmd, payload, now)?;
        self.finish::<C>().await
    }

    /// Resynchronises the link now (see
    /// [`Client::resync`](crate::client::Client::resync)).
    pub async fn resync(&mut self) -> Result<(), Error<IO::Error>> {
        let now = self.timer.now_ms();
        driver::begin_resync(&mut self.session, &self.options, now);
        self.drive(None, Session::is_idle).await?;
        driver::resync_result(&self.session, &self.options)
    }

    /// Waits up to `timeout` for notices and returns every notice that
    /// arrived (and any queued before), each once. With a channel set, the
    /// notices go there instead, and this returns none.
    pub async fn poll_urcs(&mut self, timeout: Duration) -> Result<Vec<Notice>, Error<IO::Error>> {
        let until = self.timer.now_ms().saturating_add(ms(timeout));
        self.drive(Some(until), |_| false).await?;
        Ok(self.take_urcs())
    }

    /// Waits up to `timeout` for the first notice `pick` accepts (returns
    /// `Some` for) and returns what `pick` made of it; `None` when the time
    /// passed. Notices queued before are looked at first; every notice
    /// `pick` declines goes on to the channel or the queue as usual.
    pub async fn wait_for<R>(
        &mut self,
        timeout: Duration,
        pick: impl FnMut(&Notice) -> Option<R>,
    ) -> Result<Option<R>, Error<IO::Error>> {
        self.wait_picking(timeout, &mut driver::first_of(pick))
            .await
    }

    /// Waits up to `timeout` for the first URC `accept` holds for and
    /// returns it (see [`Client::wait_for_urc`](crate::client::Client::wait_for_urc)).
    pub async fn wait_for_urc(
        &mut self,
        timeout: Duration,
        accept: impl FnMut(&Urc) -> bool,
    ) -> Result<Option<Urc>, Error<IO::Error>> {
        self.wait_for(timeout, driver::urc_where(accept)).await
    }

    /// Waits up to `timeout` for a series of URCs that no command waits
    /// for (see [`Client::wait_for_series`](crate::client::Client::wait_for_series)).
    pub async fn wait_for_series(
        &mut self,
        timeout: Duration,
        first: impl FnMut(&Urc) -> bool,
    ) -> Result<Option<Vec<Urc>>, Error<IO::Error>> {
        self.wait_picking(timeout, &mut driver::series_of(first))
            .await
    }

    async fn wait_picking<R>(
        &mut self,
        timeout: Duration,
        pick: &mut dyn FnMut(&Notice) -> Picked<R>,
    ) -> Result<Option<R>, Error<IO::Error>> {
        if let Some(found) = driver::scan_queue(&mut self.queued, pick) {
            return Ok(Some(found));
        }
        let until = self.timer.now_ms().saturating_add(ms(timeout));
        self.run(Some(until), &mut |_| false, pick).await
    }

    /// Whether the link is in transparent mode.
    pub fn is_transparent(&self) -> bool {
        self.session.is_transparent()
    }

    /// In transparent mode: sends bytes to the peer as they are.
    pub async fn write_transparent(&mut self, bytes: &[u8]) -> Result<(), Error<IO::Error>> {
        self.write(bytes).await
    }

    /// In transparent mode: bytes from the peer, waiting up to `timeout` for
    /// the first. When the connection ended (`NO CARRIER`), the bytes that
    /// came before it are returned first, then `Err(NoCarrier)`.
    pub async fn read_transparent(
        &mut self,
        timeout: Duration,
    ) -> Result<Vec<u8>, Error<IO::Error>> {
        let until = self.timer.now_ms().saturating_add(ms(timeout));
        self.drive(Some(until), |s| s.has_raw() || s.carrier_lost())
            .await?;
        driver::transparent_bytes(&mut self.session)
    }

    async fn ready(&mut self) -> Result<(), Error<IO::Error>> {
        if driver::needs_resync(&mut self.session, &self.options) {
            self.resync().await?;
        }
        Ok(())
    }

    async fn finish<C: AtCommand>(&mut self) -> Result<Response<C::Line>, Error<IO::Error>> {
        self.drive(None, Session::has_outcome).await?;
        driver::outcome(&mut self.session)
    }

    async fn drive(
        &mut self,
        until: Option<u64>,
        mut done: impl FnMut(&Session) -> bool,
    ) -> Result<(), Error<IO::Error>> {
        self.run(until, &mut done, &mut |_| Picked::<()>::No)
            .await?;
        Ok(())
    }

    /// Runs the session's steps until `done` holds, `pick` accepts a
    /// notice, or (with `until`) the time passes.
    async fn run<R>(
        &mut self,
        until: Option<u64>,
        done: &mut dyn FnMut(&Session) -> bool,
        pick: &mut dyn FnMut(&Notice) -> Picked<R>,
    ) -> Result<Option<R>, Error<IO::Error>> {
        loop {
            let now = self.timer.now_ms();
            match driver::step(&mut self.session, now, until, done, LONGEST_MS) {
                Step::Write(bytes) => self.write(&bytes).await?,
                Step::WriteGuarded(bytes) => {
                    let guard = self.options.guard_ms();
                    self.timer.sleep_ms(guard).await;
                    self.write(&bytes).await?;
                    self.timer.sleep_ms(guard).await;
                }
                Step::Notice(n) => match pick(&n) {
                    Picked::Done(found) => return Ok(Some(found)),
                    Picked::Kept => {}
                    Picked::No => self.deliver(n),
                },
                Step::Done => return Ok(None),
                Step::Read(wait) => self.read_for(wait).await?,
            }
        }
    }

    /// Reads for at most `wait` ms and feeds what came.
    async fn read_for(&mut self, wait: u64) -> Result<(), Error<IO::Error>> {
        let mut buf = [0u8; READ_CHUNK];
        let got = match select(self.io.read(&mut buf), self.timer.sleep_ms(wait)).await {
            // A read of nothing into a buffer that has room: end of file.
            Either::First(Ok(0)) => return Err(Error::Closed),
            Either::First(r) => r.map_err(Error::Io)?,
            Either::Second(()) => 0,
        };
        let now = self.timer.now_ms();
        driver::absorb(&mut self.session, &buf[..got], now);
        Ok(())
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), Error<IO::Error>> {
        self.io.write_all(bytes).await.map_err(Error::Io)?;
        self.io.flush().await.map_err(Error::Io)
    }

    fn deliver(&mut self, notice: Notice) {
        match &self.publisher {
            Some(p) => p.publish_immediate(notice),
            None => self.queued.push_back(notice),
        }
    }
}
