//! Whether the simulated world is doing something: the bookkeeping that
//! lets a virtual clock jump over idle time without missing what the
//! network is about to deliver.
//!
//! Every thread that works for the world (a connection of an embedded
//! service, a helper thread of the module that connects or runs an HTTP
//! request) holds a [`Busy`] token. It counts as busy while it computes
//! and as idle while it is blocked waiting for its peer: a [`Watched`]
//! stream marks its thread idle for the time a `read` blocks. The world is
//! *quiet* ([`Activity::is_quiet`]) when no such thread is busy, no message
//! waits in a queue between them (the broker's routing), and no socket of a
//! service has bytes (or a connection) it has not taken yet. Then nothing
//! will happen in the world until the module (or the host) acts, and a
//! virtual clock may move straight to the module's next timer.
//!
//! Each change (a thread going busy or idle, a write, a queued message)
//! bumps [`Activity::generation`] and wakes every registered [`Waker`], so a
//! host waiting for the world sleeps until something happens instead of
//! polling.

use std::collections::{BTreeMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

/// The activity of one simulated world (its services and the module's
/// helper threads).
#[derive(Debug, Default)]
pub struct Activity {
    busy: AtomicUsize,
    queued: AtomicUsize,
    generation: AtomicU64,
    next_id: AtomicU64,
    /// Sockets of the services, to see whether one has input it has not
    /// taken (bytes, an end of file, a connection to accept).
    watched: Mutex<BTreeMap<u64, OwnedFd>>,
    wakers: Mutex<Vec<Weak<UnixStream>>>,
    /// The latest connections the services accepted, by the peer's
    /// address, and whether the service has closed its end: what a client
    /// of the world looks up instead of guessing from its socket alone
    /// (see [`Activity::served`]).
    served: Mutex<VecDeque<(SocketAddr, bool)>>,
}

/// How many accepted connections [`Activity::served`] remembers (a client
/// looks its own up right after connecting).
const SERVED_KEPT: usize = 256;

/// What a service did with a connection, as [`Activity::served`] tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    /// Not accepted (yet), as far as the world knows.
    Unknown,
    /// Accepted, and the service holds it open.
    Open,
    /// Accepted, and the service has closed, shut down or reset its end.
    Ended,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Activity {
    /// A new, quiet world.
    pub fn new() -> Arc<Activity> {
        Arc::new(Activity::default())
    }

    /// A token for a thread that starts working now (busy).
    pub fn busy(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::SeqCst);
        self.changed();
        Busy {
            activity: Arc::clone(self),
            on: true,
        }
    }

    /// Something changed: a thread went busy or idle, bytes were written,
    /// a message was queued or taken.
    pub fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let mut wakers = lock(&self.wakers);
        wakers.retain(|w| match w.upgrade() {
            Some(w) => {
                // A full pipe already wakes its reader.
                let _ = (&*w).write(&[1]);
                true
            }
            None => false,
        });
    }

    /// A message was queued between two threads of the world (it is work
    /// to do until [`Activity::taken`]).
    pub fn queued(&self) {
        self.queued.fetch_add(1, Ordering::SeqCst);
        self.changed();
    }

    /// A queued message was taken.
    pub fn taken(&self) {
        let _ = self
            .queued
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        self.changed();
    }

    /// A service accepted a connection from `peer` (called while the
    /// accepting thread is busy).
    pub fn accepted(&self, peer: SocketAddr) {
        let mut served = lock(&self.served);
        served.retain(|(p, _)| *p != peer);
        if served.len() >= SERVED_KEPT {
            served.pop_front();
        }
        served.push_back((peer, false));
        drop(served);
        self.changed();
    }

    /// The service closed (or shut down the sending side of) its
    /// connection from `peer`: called before the thread that served it
    /// counts as idle, so that a quiet world has it recorded.
    pub fn ended(&self, peer: SocketAddr) {
        if let Some(entry) = lock(&self.served).iter_mut().find(|(p, _)| *p == peer) {
            entry.1 = true;
        }
        self.changed();
    }

    /// What the services did with the connection from `peer`: a client of
    /// the world knows then whether a close or a reset is on its way even
    /// when the kernel has not delivered it yet (loopback delivery can lag
    /// behind the closing thread on a loaded machine).
    pub fn served(&self, peer: SocketAddr) -> Served {
        match lock(&self.served).iter().find(|(p, _)| *p == peer) {
            None => Served::Unknown,
            Some((_, false)) => Served::Open,
            Some((_, true)) => Served::Ended,
        }
    }

    /// A number that changes whenever something happens in the world.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Watches a socket of a service for input it has not taken; the
    /// returned token stops watching when dropped.
    pub fn watch(self: &Arc<Self>, socket: impl AsFd) -> Watch {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        if let Ok(fd) = socket.as_fd().try_clone_to_owned() {
            lock(&self.watched).insert(id, fd);
        }
        Watch {
            activity: Arc::downgrade(self),
            id,
        }
    }

    /// Whether nothing happens in the world until someone acts on it: no
    /// thread busy, no message queued, no service socket with input it has
    /// not taken.
    pub fn is_quiet(&self) -> bool {
        self.quiet_but(0, None)
    }

    /// Whether the rest of the world is quiet for the thread that holds
    /// `own` (busy) and reads its socket: it waits for its peer to have
    /// acted on what it did (a server to accept the connection it made).
    pub fn is_quiet_for(&self, own: &Watched) -> bool {
        self.quiet_but(usize::from(own.busy.on), Some(own._watch.id))
    }

    fn quiet_but(&self, busy: usize, socket: Option<u64>) -> bool {
        if self.busy.load(Ordering::SeqCst) > busy || self.queued.load(Ordering::SeqCst) > 0 {
            return false;
        }
        let watched = lock(&self.watched);
        let mut fds: Vec<PollFd<'_>> = watched
            .iter()
            .filter(|(id, _)| Some(**id) != socket)
            .map(|(_, fd)| PollFd::new(fd.as_fd(), PollFlags::POLLIN))
            .collect();
        if fds.is_empty() {
            return true;
        }
        match poll(&mut fds, PollTimeout::ZERO) {
            Ok(0) => true,
            Ok(_) => !fds.iter().any(|f| {
                f.revents()
                    .is_some_and(|r| r.intersects(PollFlags::POLLIN | PollFlags::POLLHUP))
            }),
            Err(_) => false,
        }
    }

    /// A waker that this world wakes at every change.
    pub fn waker(&self) -> io::Result<Waker> {
        let (tx, rx) = UnixStream::pair()?;
        tx.set_nonblocking(true)?;
        rx.set_nonblocking(true)?;
        let tx = Arc::new(tx);
        lock(&self.wakers).push(Arc::downgrade(&tx));
        Ok(Waker { rx, _tx: tx })
    }
}

/// A thread's share in [`Activity`]: busy or idle. Dropping it makes the
/// thread idle for good.
#[derive(Debug)]
pub struct Busy {
    activity: Arc<Activity>,
    on: bool,
}

impl Busy {
    /// The thread waits for its peer.
    pub fn idle(&mut self) {
        if std::mem::replace(&mut self.on, false) {
            self.activity.busy.fetch_sub(1, Ordering::SeqCst);
            self.activity.changed();
        }
    }

    /// The thread works again.
    pub fn resume(&mut self) {
        if !std::mem::replace(&mut self.on, true) {
            self.activity.busy.fetch_add(1, Ordering::SeqCst);
            self.activity.changed();
        }
    }

    /// The world this token belongs to.
    pub fn activity(&self) -> &Arc<Activity> {
        &self.activity
    }

    /// Runs `f` (a blocking wait for the peer) while idle.
    pub fn waiting<T>(&mut self, f: impl FnOnce() -> T) -> T {
        self.idle();
        let r = f();
        self.resume();
        r
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.idle();
    }
}

/// A socket registered with [`Activity::watch`]; dropping it unregisters.
#[derive(Debug)]
pub struct Watch {
    activity: Weak<Activity>,
    id: u64,
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Some(a) = self.activity.upgrade() {
            lock(&a.watched).remove(&self.id);
            a.changed();
        }
    }
}

/// A TCP stream whose thread counts as idle while a read blocks (and whose
/// writes wake the world's waiters). A service's connection, or a helper
/// thread's socket.
pub struct Watched {
    // Fields drop in this order: the socket closes (and whatever else
    // holds it, `guard`) before the thread counts as idle, so the world is
    // never seen quiet while a close is still to reach the peer.
    stream: TcpStream,
    guard: Option<Box<dyn Send>>,
    _watch: Watch,
    busy: Busy,
}

impl std::fmt::Debug for Watched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watched")
            .field("stream", &self.stream)
            .field("busy", &self.busy)
            .finish_non_exhaustive()
    }
}

impl Watched {
    /// `stream` of a thread holding `busy`. Input the thread has not read
    /// yet counts as work: the thread is about to wake up for it.
    pub fn new(stream: TcpStream, busy: Busy) -> Watched {
        let watch = busy.activity().watch(&stream);
        Watched {
            stream,
            guard: None,
            _watch: watch,
            busy,
        }
    }

    /// Keeps `guard` (something else holding the socket) until the socket
    /// closes.
    pub fn with_guard(mut self, guard: Box<dyn Send>) -> Watched {
        self.guard = Some(guard);
        self
    }

    /// Closes the socket and keeps the thread's busy token (still busy).
    pub fn into_busy(self) -> Busy {
        let Watched { busy, .. } = self;
        busy
    }

    /// The stream.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// The stream, to change.
    pub fn stream_mut(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    /// The busy token.
    pub fn busy(&mut self) -> &mut Busy {
        &mut self.busy
    }

    /// The world this stream's thread belongs to.
    pub fn activity(&self) -> &Arc<Activity> {
        self.busy.activity()
    }

    /// The stream, without the bookkeeping.
    pub fn into_stream(self) -> TcpStream {
        self.stream
    }
}

impl Read for Watched {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Watched { stream, busy, .. } = self;
        read_watched(stream, busy, buf)
    }
}

/// Waits until `fd` has input (or an end, or an error), at most `timeout`
/// (`None`: no limit); `false` when the time ran out.
pub fn wait_readable(
    fd: std::os::fd::BorrowedFd<'_>,
    timeout: Option<Duration>,
) -> io::Result<bool> {
    let ms = match timeout {
        None => PollTimeout::NONE,
        Some(t) => {
            let ms = t.as_micros().div_ceil(1000).min(i32::MAX as u128) as i32;
            PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
        }
    };
    loop {
        let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
        match poll(&mut fds, ms) {
            Ok(0) => return Ok(false),
            Ok(_) => return Ok(true),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

/// A read by a thread holding `busy`: idle only while it waits for input,
/// busy again *before* it takes the input, so that the input shows (to
/// [`Activity::is_quiet`]) until the thread counts as busy.
fn read_watched(stream: &mut TcpStream, busy: &mut Busy, buf: &mut [u8]) -> io::Result<usize> {
    let timeout = stream.read_timeout()?;
    busy.idle();
    let ready = wait_readable(stream.as_fd(), timeout);
    busy.resume();
    match ready {
        Ok(true) => stream.read(buf),
        // As a socket with a read timeout reports one.
        Ok(false) => Err(io::ErrorKind::WouldBlock.into()),
        Err(e) => Err(e),
    }
}

impl Write for Watched {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = self.stream.write(buf);
        self.busy.activity().changed();
        r
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

/// The reading end of a wake-up pipe ([`Activity::waker`]).
#[derive(Debug)]
pub struct Waker {
    rx: UnixStream,
    _tx: Arc<UnixStream>,
}

impl Waker {
    /// Waits until the world changes, one of `fds` has input, or `timeout`
    /// passes (`None`: no limit). Returns at once if the world changed since
    /// the last wait.
    pub fn wait(&self, fds: &[std::os::fd::BorrowedFd<'_>], timeout: Option<Duration>) {
        let mut polled: Vec<PollFd<'_>> = Vec::with_capacity(fds.len() + 1);
        polled.push(PollFd::new(self.rx.as_fd(), PollFlags::POLLIN));
        polled.extend(fds.iter().map(|fd| PollFd::new(*fd, PollFlags::POLLIN)));
        let ms = match timeout {
            None => PollTimeout::NONE,
            Some(t) => {
                // Rounded up, so a wait is never cut short to nothing.
                let ms = t.as_micros().div_ceil(1000);
                PollTimeout::try_from(ms.min(i32::MAX as u128) as i32).unwrap_or(PollTimeout::MAX)
            }
        };
        let _ = poll(&mut polled, ms);
        let mut sink = [0u8; 256];
        while matches!((&self.rx).read(&mut sink), Ok(n) if n > 0) {}
    }
}

/// A UDP socket of a service: idle while it waits for a datagram (busy
/// again before it takes it, as [`Watched`] reads).
pub fn udp_recv(
    socket: &UdpSocket,
    busy: &mut Busy,
    buf: &mut [u8],
) -> io::Result<(usize, std::net::SocketAddr)> {
    busy.idle();
    let ready = wait_readable(socket.as_fd(), None);
    busy.resume();
    ready?;
    socket.recv_from(buf)
}

/// An accept by a thread holding `busy`: idle while it waits for a
/// connection, busy again before it takes it.
pub fn accept(
    listener: &TcpListener,
    busy: &mut Busy,
) -> io::Result<(TcpStream, std::net::SocketAddr)> {
    busy.idle();
    let ready = wait_readable(listener.as_fd(), None);
    busy.resume();
    ready?;
    listener.accept()
}

/// A borrowed TCP stream used by a thread holding `busy`: reads block
/// while the thread counts as idle, writes wake the world's waiters, and
/// input the thread has not read counts as work.
#[derive(Debug)]
pub struct WatchedRef<'a> {
    stream: &'a mut TcpStream,
    busy: &'a mut Busy,
    _watch: Watch,
}

impl<'a> WatchedRef<'a> {
    /// Watches `stream` for the thread holding `busy`.
    pub fn new(stream: &'a mut TcpStream, busy: &'a mut Busy) -> WatchedRef<'a> {
        let watch = busy.activity().watch(&*stream);
        WatchedRef {
            stream,
            busy,
            _watch: watch,
        }
    }
}

impl Read for WatchedRef<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let WatchedRef { stream, busy, .. } = self;
        read_watched(stream, busy, buf)
    }
}

impl Write for WatchedRef<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let r = self.stream.write(buf);
        self.busy.activity().changed();
        r
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

/// Runs `work` on a helper thread of the module that counts as busy until
/// it returns (it may mark itself idle while it waits for a peer); its
/// result comes through the returned channel.
pub fn helper<T: Send + 'static>(
    activity: &Arc<Activity>,
    name: String,
    work: impl FnOnce(&mut Busy) -> T + Send + 'static,
) -> io::Result<std::sync::mpsc::Receiver<T>> {
    let (tx, rx) = std::sync::mpsc::channel();
    let mut busy = activity.busy();
    std::thread::Builder::new().name(name).spawn(move || {
        let result = work(&mut busy);
        let _ = tx.send(result);
        // Idle only once the result is there to take.
        drop(busy);
    })?;
    Ok(rx)
}
