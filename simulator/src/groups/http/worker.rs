//! The helper thread of one HTTP(S) request. It connects (TCP, then TLS
//! for `https://`), writes the request, waits for the host's body (`POST`,
//! `PUT`), reads the response and reports each step through a bounded
//! channel, so the serve loop never waits on the network and a response
//! nobody reads holds the server back through TCP flow control.
//!
//! The socket is blocking with a short read timeout ([`SLICE`]), so the
//! thread notices when the module drops the request ([`Worker`]'s drop).

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fcm242d::generated::results::HttpCode;

use super::framing::{self, ChunkDecoder, ResponseHead};
use crate::activity::{Activity, Busy, Served, Watched};

/// The request's connection: plain, or TLS over it. Its thread counts as
/// idle while a read blocks (see [`crate::activity`]).
enum Conn {
    Plain(Watched),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, Watched>>),
}

impl Conn {
    fn busy(&mut self) -> &mut Busy {
        match self {
            Conn::Plain(w) => w.busy(),
            Conn::Tls(t) => t.sock.busy(),
        }
    }
}

impl Read for Conn {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(w) => w.read(buf),
            Conn::Tls(t) => t.read(buf),
        }
    }
}

impl Write for Conn {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Conn::Plain(w) => w.write(buf),
            Conn::Tls(t) => t.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Conn::Plain(w) => w.flush(),
            Conn::Tls(t) => t.flush(),
        }
    }
}

/// How often a blocked read looks at the clock and the cancel flag.
pub const SLICE: Duration = Duration::from_millis(100);
/// How long a write may block before the request fails (714).
pub const WRITE_LIMIT: Duration = Duration::from_secs(60);
/// Events the channel holds before the thread waits for the module.
const EVENT_SLOTS: usize = 32;
/// The largest piece of body one event carries.
const PIECE: usize = 16 * 1024;

/// TLS for an `https://` request.
pub struct Tls {
    /// The SSL context's client configuration.
    pub config: Arc<rustls::ClientConfig>,
    /// The URL's host (verified against the certificate, sent as SNI).
    pub host: String,
    /// The context's `negotiatetime`.
    pub handshake_limit: Duration,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").field("host", &self.host).finish()
    }
}

/// The body of a `POST` or `PUT`: what the module wraps around it, and the
/// channel the host's bytes come through once the data phase ends.
#[derive(Debug)]
pub struct Upload {
    /// Written before the body.
    pub prefix: Vec<u8>,
    /// Written after the body.
    pub suffix: Vec<u8>,
    /// The host's body (one message).
    pub body: Receiver<Vec<u8>>,
}

/// One request.
#[derive(Debug)]
pub struct Job {
    /// Where to connect.
    pub addr: SocketAddr,
    /// TLS, for `https://`.
    pub tls: Option<Tls>,
    /// The request head.
    pub head: Vec<u8>,
    /// The body, for `POST` and `PUT`.
    pub upload: Option<Upload>,
    /// `<rsptime>`: how long the response head may take (from the request
    /// for `GET`, from the end of the body for `POST` and `PUT`).
    pub response_time: Duration,
    /// The server is one of the world's: let it act on the new connection
    /// before the request goes out (see [`crate::activity`]).
    pub settle: bool,
}

/// What the thread reports, in this order: `Connected`, (`Sent` for a
/// `POST`/`PUT`), then `Head`, any number of `Body`, `End`; or `Failed` at
/// any point before `Head`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The request head is written (a `POST`/`PUT` now wants its body).
    Connected,
    /// The body is written: `<rsptime>` counts from now.
    Sent,
    /// The first bytes of the response head came (a head that stops
    /// coming after this is a read time-out, not a response time-out).
    Answering,
    /// The request failed before a response came.
    Failed(HttpCode),
    /// The response head (the raw bytes include the blank line).
    Head {
        /// The status code.
        status: u16,
        /// `Content-Length`, if the response has one.
        content_length: Option<u64>,
        /// The head as received.
        raw: Vec<u8>,
    },
    /// A piece of the body (chunked bodies decoded).
    Body(Vec<u8>),
    /// The response ended: success, or why it is incomplete.
    End(HttpCode),
}

/// A running request; dropping it stops the thread.
#[derive(Debug)]
pub struct Worker {
    /// The thread's reports.
    pub events: Receiver<Event>,
    cancel: Arc<AtomicBool>,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Relaxed);
    }
}

/// Starts the thread of `job`, a helper of the world of `activity`. Its
/// own time limits are later than the module's (which measures them on
/// its clock and drops the worker when one passes); they only free the
/// thread.
pub fn start(job: Job, activity: &Arc<Activity>) -> io::Result<Worker> {
    let (tx, events) = mpsc::sync_channel(EVENT_SLOTS);
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let busy = activity.busy();
    std::thread::Builder::new()
        .name("sim-http-request".into())
        .spawn(move || {
            let link = Link { tx, cancel: flag };
            // `Stopped` only means nobody listens any more.
            let _ = exchange(job, &link, busy);
        })?;
    Ok(Worker { events, cancel })
}

/// How much later than the module's time limits the thread gives up.
const SLACK: Duration = Duration::from_secs(5);

/// The module stopped listening (the request was dropped).
struct Stopped;

/// The thread's side of the channel.
struct Link {
    tx: SyncSender<Event>,
    cancel: Arc<AtomicBool>,
}

impl Link {
    /// Reports `event`, idle only while the module's side of the channel
    /// is full (what it holds then is work the module is about to take).
    fn send(&self, event: Event, busy: &mut Busy) -> Result<(), Stopped> {
        let event = match self.tx.try_send(event) {
            Ok(()) => {
                busy.activity().changed();
                return Ok(());
            }
            Err(mpsc::TrySendError::Disconnected(_)) => return Err(Stopped),
            Err(mpsc::TrySendError::Full(event)) => event,
        };
        busy.waiting(|| self.tx.send(event)).map_err(|_| Stopped)
    }

    fn check(&self) -> Result<(), Stopped> {
        if self.cancel.load(Ordering::Relaxed) {
            Err(Stopped)
        } else {
            Ok(())
        }
    }
}

/// A read that found nothing within [`SLICE`].
fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// The thread's work. Its busy token goes with the connection once there
/// is one, and comes back (still busy) when the connection fails, so the
/// thread never counts as idle between a failure and its report.
fn exchange(job: Job, link: &Link, busy: Busy) -> Result<(), Stopped> {
    let started = Instant::now();
    let mut conn = match connect(&job, started, link, busy)? {
        Ok(c) => c,
        Err((code, mut busy)) => return link.send(Event::Failed(code), &mut busy),
    };
    if conn
        .write_all(&job.head)
        .and_then(|_| conn.flush())
        .is_err()
    {
        return link.send(Event::Failed(HttpCode::SocketWriteError), conn.busy());
    }
    link.send(Event::Connected, conn.busy())?;
    let deadline = match &job.upload {
        None => started + job.response_time + SLACK,
        Some(upload) => {
            if let Err(code) = send_body(&mut conn, upload, link)? {
                return link.send(Event::Failed(code), conn.busy());
            }
            link.send(Event::Sent, conn.busy())?;
            Instant::now() + job.response_time + SLACK
        }
    };
    let (raw, head, rest) = match read_head(&mut conn, deadline, link)? {
        Ok(h) => h,
        Err(code) => return link.send(Event::Failed(code), conn.busy()),
    };
    link.send(
        Event::Head {
            status: head.status,
            content_length: head.content_length,
            raw,
        },
        conn.busy(),
    )?;
    let end = read_body(&mut conn, &head, rest, link)?;
    link.send(Event::End(end), conn.busy())
}

/// TCP, then TLS for `https://`. The connect of a `GET` may take no longer
/// than its `<rsptime>`.
/// A failure before the request went out, with the thread's busy token.
type Refused = (HttpCode, Busy);

/// TCP, then TLS for `https://`. The connect blocks until it ends: the
/// module's clock ends one that takes too long (`<rsptime>` for a `GET`,
/// see [`super::next_wake`]), and a server that accepts and at once
/// resets still connects, as it did.
fn connect(
    job: &Job,
    started: Instant,
    link: &Link,
    busy: Busy,
) -> Result<Result<Conn, Refused>, Stopped> {
    let tcp = match TcpStream::connect(job.addr) {
        Ok(s) => s,
        Err(e) if timed_out(&e) => return Ok(Err((HttpCode::Timeout, busy))),
        Err(_) => return Ok(Err((HttpCode::SocketConnectError, busy))),
    };
    let configured = tcp
        .set_read_timeout(Some(SLICE))
        .and_then(|_| tcp.set_write_timeout(Some(WRITE_LIMIT)))
        .and_then(|_| tcp.set_nodelay(true));
    if configured.is_err() {
        return Ok(Err((HttpCode::SocketCreateError, busy)));
    }
    let mut tcp = Watched::new(tcp, busy);
    // What a server of the world does with a new connection (closes or
    // resets it at once, say) shows before the request goes out.
    if job.settle {
        if let Some(code) = settled(&mut tcp) {
            return Ok(Err((code, tcp.into_busy())));
        }
    }
    let Some(tls) = &job.tls else {
        return Ok(Ok(Conn::Plain(tcp)));
    };
    let Ok(name) = crate::services::tls::server_name(&tls.host) else {
        return Ok(Err((HttpCode::SocketConnectError, tcp.into_busy())));
    };
    let Ok(client) = rustls::ClientConnection::new(tls.config.clone(), name) else {
        return Ok(Err((HttpCode::SocketConnectError, tcp.into_busy())));
    };
    let mut stream = rustls::StreamOwned::new(client, tcp);
    let deadline = started.max(Instant::now()) + tls.handshake_limit + SLACK;
    while stream.conn.is_handshaking() {
        let code = match stream.conn.complete_io(&mut stream.sock) {
            Ok(_) => continue,
            Err(e) if timed_out(&e) => {
                link.check()?;
                if Instant::now() < deadline {
                    continue;
                }
                HttpCode::Timeout
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            // The server closed or reset the connection mid-handshake.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => HttpCode::SocketClosed,
            Err(e) if reset(&e) => HttpCode::SocketReadError,
            // A refused certificate, no common cipher suite, an alert.
            Err(_) => HttpCode::SocketConnectError,
        };
        return Ok(Err((code, stream.sock.into_busy())));
    }
    Ok(Ok(Conn::Tls(Box::new(stream))))
}

/// Whether `e` is a connection the peer reset.
fn reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
    )
}

/// How long the thread waits for the server to act on a new connection
/// (a server of the world does at once; this bounds a world busy with
/// something else). Generous: a loaded machine (a debug build of the
/// whole test suite on two cores) can take longer than 200 ms to schedule
/// the server's thread, and looking before the server closed or reset
/// the connection would answer `CONNECT` instead of 714 or 715.
const SETTLE_LIMIT: Duration = Duration::from_secs(2);

/// Waits until the server had its say on the new connection (it accepted
/// it and the rest of the world is quiet, see [`crate::activity`]), then
/// looks at it: closed already (715), reset (714: the request cannot be
/// written).
///
/// The world's bookkeeping, not the socket alone, says when to look: on a
/// loaded machine the kernel can hand the connection to the server, or
/// the server's close or reset to this socket, after the threads involved
/// have moved on, and looking too early would answer `CONNECT`.
fn settled(tcp: &mut Watched) -> Option<HttpCode> {
    let activity = tcp.busy().activity().clone();
    let me = tcp.stream().local_addr().ok();
    if let Ok(waker) = activity.waker() {
        let until = Instant::now() + SETTLE_LIMIT;
        loop {
            let accepted = me.is_none_or(|a| activity.served(a) != Served::Unknown);
            if accepted && activity.is_quiet_for(tcp) {
                break;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            waker.wait(&[], Some(left));
        }
        // The server closed or reset it: wait until this end sees it.
        if me.is_some_and(|a| activity.served(a) == Served::Ended) {
            let left = until.saturating_duration_since(Instant::now());
            let _ = crate::activity::wait_readable(tcp.stream().as_fd(), Some(left));
        }
    }
    let stream = tcp.stream();
    if stream.set_nonblocking(true).is_err() {
        return None;
    }
    let mut byte = [0u8; 1];
    let seen = stream.peek(&mut byte);
    let _ = stream.set_nonblocking(false);
    match seen {
        Ok(0) => Some(HttpCode::SocketClosed),
        Err(e) if reset(&e) => Some(HttpCode::SocketWriteError),
        _ => None,
    }
}

/// Waits for the host's body, then writes it with its framing.
fn send_body(
    conn: &mut Conn,
    upload: &Upload,
    link: &Link,
) -> Result<Result<(), HttpCode>, Stopped> {
    // Waiting for the host is no work for the world, for the whole wait:
    // the slices only look for a stop. (Going busy between slices would
    // tell the in-process simulator every slice that the world works, so
    // its virtual clock would never reach the module's input time limit.)
    let body = conn.busy().waiting(|| loop {
        match upload.body.recv_timeout(SLICE) {
            Ok(b) => break Ok(b),
            Err(RecvTimeoutError::Timeout) => {
                if let Err(stopped) = link.check() {
                    break Err(stopped);
                }
            }
            Err(RecvTimeoutError::Disconnected) => break Err(Stopped),
        }
    })?;
    conn.busy().activity().taken();
    let written = conn
        .write_all(&upload.prefix)
        .and_then(|_| conn.write_all(&body))
        .and_then(|_| conn.write_all(&upload.suffix))
        .and_then(|_| conn.flush());
    Ok(written.map_err(|_| HttpCode::SocketWriteError))
}

/// A piece of what the server sent, or why there is none.
enum Got {
    Bytes(usize),
    /// Nothing within [`SLICE`].
    Nothing,
    /// The server closed the connection.
    Closed,
    Failed,
}

fn read_some(conn: &mut Conn, buf: &mut [u8]) -> Got {
    loop {
        match conn.read(buf) {
            Ok(0) => return Got::Closed,
            Ok(n) => return Got::Bytes(n),
            Err(e) if timed_out(&e) => return Got::Nothing,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // A TLS peer that closes without close_notify.
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Got::Closed,
            Err(_) => return Got::Failed,
        }
    }
}

type Head = (Vec<u8>, ResponseHead, Vec<u8>);

/// The response head (raw, parsed) and the bytes after it; interim `1xx`
/// answers are skipped.
fn read_head(
    conn: &mut Conn,
    deadline: Instant,
    link: &Link,
) -> Result<Result<Head, HttpCode>, Stopped> {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; PIECE];
    loop {
        while let Some(end) = framing::find(&buf, b"\r\n\r\n") {
            let head = match framing::parse_head(buf.get(..end).unwrap_or_default()) {
                Ok(h) => h,
                Err(code) => return Ok(Err(code)),
            };
            let rest = buf.split_off((end + 4).min(buf.len()));
            if (100..200).contains(&head.status) && head.status != 101 {
                buf = rest;
                continue;
            }
            return Ok(Ok((buf, head, rest)));
        }
        // A head longer than the module keeps (errata COND-6).
        if buf.len() > framing::MAX_HEAD {
            return Ok(Err(HttpCode::OutOfMemory));
        }
        match read_some(conn, &mut chunk) {
            Got::Bytes(n) => {
                if buf.is_empty() {
                    link.send(Event::Answering, conn.busy())?;
                }
                buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
            }
            Got::Nothing => {
                link.check()?;
                if Instant::now() >= deadline {
                    // A head that began and stopped is a read time-out;
                    // no answer at all a response time-out (errata COND-6).
                    let code = if buf.is_empty() {
                        HttpCode::ResponseTimeout
                    } else {
                        HttpCode::ReadTimeout
                    };
                    return Ok(Err(code));
                }
            }
            Got::Closed => return Ok(Err(HttpCode::SocketClosed)),
            Got::Failed => return Ok(Err(HttpCode::SocketReadError)),
        }
    }
}

/// How the body ends.
enum Framing {
    Length(u64),
    Chunked(ChunkDecoder),
    UntilClose,
}

impl Framing {
    /// Takes the body's bytes from `input` into `out`; `Ok(true)` once the
    /// body is complete.
    fn take(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<bool, HttpCode> {
        match self {
            Framing::Length(left) => {
                let n = usize::try_from(*left)
                    .unwrap_or(usize::MAX)
                    .min(input.len());
                out.extend_from_slice(input.get(..n).unwrap_or_default());
                *left -= n as u64;
                Ok(*left == 0)
            }
            Framing::Chunked(decoder) => {
                decoder
                    .feed(input, out)
                    .map_err(|_| HttpCode::DecodeError)?;
                Ok(decoder.done())
            }
            Framing::UntilClose => {
                out.extend_from_slice(input);
                Ok(false)
            }
        }
    }
}

/// Reads the body, reporting it in pieces; returns how it ended.
fn read_body(
    conn: &mut Conn,
    head: &ResponseHead,
    rest: Vec<u8>,
    link: &Link,
) -> Result<HttpCode, Stopped> {
    if !head.has_body(false) {
        return Ok(HttpCode::Success);
    }
    let mut framing = match (head.chunked, head.content_length) {
        (true, _) => Framing::Chunked(ChunkDecoder::default()),
        (false, Some(n)) => Framing::Length(n),
        (false, None) => Framing::UntilClose,
    };
    if matches!(framing, Framing::Length(0)) {
        return Ok(HttpCode::Success);
    }
    let mut input = rest;
    let mut chunk = vec![0u8; PIECE];
    loop {
        let mut body = Vec::new();
        let done = match framing.take(&input, &mut body) {
            Ok(d) => d,
            Err(code) => return Ok(code),
        };
        for piece in body.chunks(PIECE) {
            link.send(Event::Body(piece.to_vec()), conn.busy())?;
        }
        if done {
            return Ok(HttpCode::Success);
        }
        input.clear();
        loop {
            match read_some(conn, &mut chunk) {
                Got::Bytes(n) => {
                    input.extend_from_slice(chunk.get(..n).unwrap_or_default());
                    break;
                }
                Got::Nothing => link.check()?,
                Got::Closed => {
                    return Ok(match framing {
                        Framing::UntilClose => HttpCode::Success,
                        _ => HttpCode::SocketClosed,
                    })
                }
                Got::Failed => return Ok(HttpCode::SocketReadError),
            }
        }
    }
}
