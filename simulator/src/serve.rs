//! Runs a module over a byte stream: in process (for tests and the
//! conformance runner), on standard input/output, on TCP connections, or on
//! a pseudo-terminal ([`crate::pty`]).
//!
//! Between the link and the module sits a [`Session`]: it applies fault
//! injection ([`crate::faults`]) and holds back output that a fault delays.
//! Time comes from a [`Clock`], so a test can run the whole loop on a
//! [`crate::clock::VirtualClock`].
//!
//! # Standard input
//!
//! A whole transcript piped into `fcm242d-sim --stdio` is answered as a
//! person typing it would see it:
//!
//! - a command line is taken only once the previous command's final result
//!   code (or its `>` / `CONNECT` prompt) was printed, and once what it
//!   started is over — its deferred completion (`+QIOPEN`, `+QMTCONN`),
//!   the station's address after a join (`+QSTASTAT: "GOT_IP"`), what the
//!   world's servers answer (an echo) — at most [`PACED_SETTLE`]: so the
//!   module prints each consequence before the next command's answer, as
//!   the manual's examples show it;
//! - a payload goes in byte by byte (the module is back in command mode for
//!   the first byte after it); a payload the script cuts short ends with
//!   what came when the input ends, and the module answers;
//! - in transparent mode, a `+++` on a line of its own is the escape,
//!   typed with the guard time's silence before and after it.
//!
//! When input ends, the module keeps running until everything its commands
//! caused was printed — until it is busy with nothing (see
//! [`Module::busy`]) and has been quiet for [`QUIET`], at most
//! [`DRAIN_LIMIT`].
//!
//! # Waiting
//!
//! The front ends on descriptors (standard input, TCP, a pseudo-terminal;
//! [`serve_events`]) never poll: they sleep until input comes, the
//! module's next timer ([`Module::next_due`]) is due, the world's servers
//! act (see [`crate::activity`]) or a socket of the module to a peer
//! outside the world has input. [`serve_session`] serves any
//! [`Transport`] (an in-memory pipe), which cannot wake it: it waits until
//! the next due time, looking at the network every few milliseconds only
//! while the module has live sockets.

use std::borrow::BorrowMut;
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

use fcm242d::transport::{MemoryTransport, Transport};

use crate::clock::{Clock, SystemClock};
use crate::faults::{holds_final, Faults, HostEvent, Injector, Origin};
use crate::module::{Module, Uart};
use crate::world::World;

/// After input ended: how long the module must have printed nothing (and
/// have nothing scheduled) before the simulator stops.
pub const QUIET: Duration = Duration::from_millis(1500);
/// After input ended: the longest the simulator keeps running.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(60);
/// The longest a paced front end waits for a command's final result code
/// before it takes the next line anyway (a command whose answer a fault
/// lost must not stop the script).
pub const ANSWER_LIMIT: Duration = Duration::from_secs(5);
/// The shortest a serve loop waits on its link when it has nothing to do.
const MIN_WAIT: Duration = Duration::from_millis(1);
/// The longest [`serve_events`] holds host input back while the world's
/// servers finish what they are doing.
const SETTLE: Duration = Duration::from_millis(200);
/// The longest a paced script waits for what its last command started (see
/// [`serve_events`]).
pub const PACED_SETTLE: Duration = Duration::from_secs(3);
/// How long [`serve_session`] (a link without a descriptor, such as an
/// in-memory pipe) blocks on its link while the module has live sockets:
/// the network cannot wake it. The front ends on descriptors (standard
/// input, TCP, a pseudo-terminal; [`serve_events`]) never poll.
const NETWORK_LOOK: Duration = Duration::from_millis(5);
/// Bytes of an answer kept while waiting for its final result code.
const ANSWER_KEPT: usize = 64 * 1024;

/// A module behind its UART, with the faults the UART and the network add.
/// It owns the module (`M` = [`Module`]) or borrows it (`&mut Module`).
#[derive(Debug)]
pub struct Session<M: BorrowMut<Module> = Module> {
    module: M,
    injector: Injector,
    /// Output not yet written: when each piece may go, and its bytes (one
    /// write each).
    held: VecDeque<(Instant, Vec<u8>)>,
}

impl<M: BorrowMut<Module>> Session<M> {
    /// `module` behind a UART with `faults`.
    pub fn new(module: M, faults: &Faults) -> Session<M> {
        Session {
            module,
            injector: Injector::new(faults),
            held: VecDeque::new(),
        }
    }

    /// Drops held output and starts the faults' random choices again from
    /// their seed (the module itself is left as it is).
    pub fn reset(&mut self, faults: &Faults) {
        self.injector = Injector::new(faults);
        self.held.clear();
    }

    /// The module.
    pub fn module(&self) -> &Module {
        self.module.borrow()
    }

    /// The module, to change.
    pub fn module_mut(&mut self) -> &mut Module {
        self.module.borrow_mut()
    }

    /// The module, once the session is over.
    pub fn into_module(self) -> M {
        self.module
    }

    /// Host bytes at `now`. Returns what the module answered, as it wrote
    /// it (before faults); the bytes the host gets wait in [`Session::due`].
    pub fn input(&mut self, bytes: &[u8], now: Instant) -> Vec<u8> {
        let mut answer = Vec::new();
        for event in self.injector.host_bytes(bytes) {
            match event {
                HostEvent::Bytes(b) => {
                    let before = self.module().uart();
                    let out = self.module_mut().input(&b, now);
                    self.send(&out, Origin::Answer, before, now);
                    answer.extend(out);
                }
                HostEvent::Reboot => self.module_mut().reboot(now),
                HostEvent::LinkDrop => {
                    self.module().services().cut_all();
                }
            }
        }
        answer
    }

    /// Lets the module do what is due at `now` (scheduled URCs, the
    /// network). Returns its output as it wrote it (before faults).
    pub fn poll(&mut self, now: Instant) -> Vec<u8> {
        let before = self.module().uart();
        let out = self.module_mut().poll(now);
        self.send(&out, Origin::Unsolicited, before, now);
        out
    }

    /// The writes due at `now`, in order (each one write on the link).
    pub fn due(&mut self, now: Instant) -> Vec<Vec<u8>> {
        let mut writes = Vec::new();
        while self.held.front().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, bytes)) = self.held.pop_front() {
                writes.push(bytes);
            }
        }
        writes
    }

    /// When something is next due: a scheduled URC or held output.
    pub fn next_due(&self) -> Option<Instant> {
        let held = self.held.front().map(|(at, _)| *at);
        match (held, self.module().next_due()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether output is held back (a delay fault).
    pub fn holding(&self) -> bool {
        !self.held.is_empty()
    }

    fn send(&mut self, out: &[u8], origin: Origin, before: Uart, now: Instant) {
        if out.is_empty() {
            return;
        }
        let module: &Module = self.module.borrow();
        let urc_ok = before != Uart::Transparent && module.uart() != Uart::Transparent;
        let bytes = self
            .injector
            .module_bytes(out, origin, urc_ok, module.state());
        // Output keeps its order: a piece never overtakes an earlier one.
        let mut at = now + self.injector.delay();
        if let Some((last, _)) = self.held.back() {
            at = at.max(*last);
        }
        let mut rest = bytes.as_slice();
        for n in self.injector.fragments(bytes.len()) {
            let (piece, tail) = rest.split_at(n.min(rest.len()));
            if !piece.is_empty() {
                self.held.push_back((at, piece.to_vec()));
            }
            rest = tail;
        }
    }
}

/// How a serve loop treats its link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pace {
    /// Take a command line only after the previous one was answered (a
    /// script piped in at once, see the module documentation).
    pub paced: bool,
    /// When input ends, keep running until the module is quiet
    /// ([`QUIET`], [`DRAIN_LIMIT`]) instead of stopping at once.
    pub drain: bool,
}

/// Serves `module` on `link` until the link closes (system clock, no faults).
pub fn serve(link: &mut dyn Transport, module: &mut Module) -> std::io::Result<()> {
    let mut session = Session::new(module, &Faults::none());
    serve_session(link, &mut session, &SystemClock, Pace::default())
}

/// Serves a session on `link` with time from `clock`, until the link closes
/// (then, with [`Pace::drain`], until the module is quiet).
pub fn serve_session<M: BorrowMut<Module>>(
    link: &mut dyn Transport,
    session: &mut Session<M>,
    clock: &dyn Clock,
    pace: Pace,
) -> std::io::Result<()> {
    let mut buf = [0u8; 4096];
    let mut pacer = Pacer::new(pace.paced);
    let mut ended: Option<Instant> = None;
    let mut last_output = clock.now();
    loop {
        let wait = if pacer.ready() {
            Duration::ZERO
        } else {
            // At least a moment: a URC that waits for the end of
            // transparent mode stays due, and must not make the loop spin.
            // A link without a descriptor cannot wake the loop when the
            // network has something: while the module has live sockets it
            // looks again after `NETWORK_LOOK`.
            let next = [session.next_due(), pacer.deadline()]
                .into_iter()
                .flatten()
                .min();
            let mut wait = clock.idle(next);
            if session.module().has_links() {
                wait = wait.min(NETWORK_LOOK);
            }
            wait.max(MIN_WAIT)
        };
        if ended.is_none() {
            match link.read(&mut buf, wait) {
                Ok(n) => pacer.push(buf.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    if !pace.drain {
                        return Ok(());
                    }
                    ended = Some(clock.now());
                }
                Err(e) => return Err(e),
            }
        } else if !wait.is_zero() {
            let now = clock.now();
            clock.wait_until(now + wait, wait);
        }
        let now = clock.now();
        let answer = pacer.feed(session, now);
        let unsolicited = session.poll(now);
        pacer.saw(&unsolicited, session.module().uart(), now);
        if !answer.is_empty() || !unsolicited.is_empty() {
            last_output = now;
        }
        for piece in session.due(now) {
            link.write_all(&piece)?;
        }
        if let Some(ended) = ended {
            let idle = pacer.is_empty()
                && !session.holding()
                && session.module().next_due().is_none()
                && now.saturating_duration_since(last_output) >= QUIET;
            if idle || now.saturating_duration_since(ended) >= DRAIN_LIMIT {
                return Ok(());
            }
        }
    }
}

/// Reads a front end's link: blocks until bytes come; `Ok(0)` when the
/// link ended.
pub type Reader = Box<dyn FnMut(&mut [u8]) -> std::io::Result<usize> + Send>;

/// Serves a session on a link split in two halves, event-driven: `input`
/// is read on a thread of its own, and the loop sleeps until input comes,
/// the module's next timer is due, the world's servers act or a socket of
/// the module has input — it never polls. `output` takes each write.
/// With [`Pace::drain`], the module keeps running after the input ended
/// until it is quiet (see the module documentation).
pub fn serve_events<M: BorrowMut<Module>>(
    mut input: Reader,
    output: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
    session: &mut Session<M>,
    pace: Pace,
) -> std::io::Result<()> {
    let activity = session.module().services().activity().clone();
    let waker = activity.waker()?;
    let (tx, rx) = mpsc::channel::<Option<Vec<u8>>>();
    let notify = activity.clone();
    thread::Builder::new()
        .name("sim-input".into())
        .spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                let got = match input(&mut buf) {
                    Ok(0) | Err(_) => None,
                    Ok(n) => Some(buf.get(..n).unwrap_or_default().to_vec()),
                };
                let end = got.is_none();
                if tx.send(got).is_err() {
                    return;
                }
                // Wakes the serve loop.
                notify.changed();
                if end {
                    return;
                }
            }
        })?;
    let mut pacer = Pacer::new(pace.paced);
    pacer.settle = pace.paced;
    let mut ended: Option<Instant> = None;
    let mut last_output = Instant::now();
    // Since when host input waits for the world to finish.
    let mut holding: Option<Instant> = None;
    loop {
        loop {
            match rx.try_recv() {
                Ok(Some(bytes)) => pacer.push(&bytes),
                Ok(None) | Err(mpsc::TryRecvError::Disconnected) => {
                    if ended.is_none() {
                        if !pace.drain {
                            return Ok(());
                        }
                        ended = Some(Instant::now());
                    }
                    break;
                }
                Err(mpsc::TryRecvError::Empty) => break,
            }
        }
        let now = Instant::now();
        let unsolicited = session.poll(now);
        pacer.saw(&unsolicited, session.module().uart(), now);
        // The simulated network is fast next to the host: what the world
        // is doing (a server answering what the module sent) is done, and
        // taken in by the module, before the next host bytes go in (at
        // most `SETTLE` later). A paced script (one piped in at once) also
        // waits, as a person typing it would, for what the last command
        // started to finish (its deferred completion, the station's
        // address; at most `PACED_SETTLE`), so that the module prints it
        // before the next command's answer.
        let (busy, limit) = if pace.paced && session.module().busy() {
            (true, PACED_SETTLE)
        } else {
            (!activity.is_quiet(), SETTLE)
        };
        let world_busy = pacer.ready() && busy;
        let held = match (world_busy, holding) {
            (true, None) => {
                holding = Some(now);
                true
            }
            (true, Some(since)) => now.saturating_duration_since(since) < limit,
            (false, _) => false,
        };
        if !held {
            holding = None;
        }
        let answer = if held {
            Vec::new()
        } else {
            pacer.feed(session, now)
        };
        if !answer.is_empty() || !unsolicited.is_empty() {
            last_output = now;
        }
        for piece in session.due(now) {
            output(&piece)?;
        }
        let mut next = [
            session.next_due(),
            pacer.deadline(),
            holding.map(|since| since + limit),
        ]
        .into_iter()
        .flatten()
        .min();
        if let Some(ended) = ended {
            if pacer.is_empty() && session.module().uart() == Uart::Payload {
                // The script ends inside a payload: the phase ends with
                // what came, and the module answers.
                let out = session.module_mut().end_data_phase(now);
                let before = session.module().uart();
                session.send(&out, Origin::Answer, before, now);
                for piece in session.due(now) {
                    output(&piece)?;
                }
                last_output = now;
                continue;
            }
            let quiet = pacer.is_empty()
                && !session.holding()
                && !session.module().busy()
                && now.saturating_duration_since(last_output) >= QUIET;
            if quiet || now.saturating_duration_since(ended) >= DRAIN_LIMIT {
                return Ok(());
            }
            let limit = (last_output + QUIET).min(ended + DRAIN_LIMIT);
            next = Some(next.map_or(limit, |n| n.min(limit)));
        }
        if pacer.ready() && holding.is_none() {
            continue;
        }
        if !answer.is_empty() {
            // What the command changed may have started a clock of its own
            // that only the next poll notices (advertising: the world's
            // phone starts looking at the module); poll once more before
            // sleeping, or the loop would wait for input that may not come.
            continue;
        }
        let sockets = session.module().sockets();
        let services = session.module().services();
        // Sockets whose peer is a server of the world need no watching:
        // the world says when it wrote.
        let fds: Vec<std::os::fd::BorrowedFd<'_>> = sockets
            .iter()
            .filter(|s| s.peer.is_none_or(|p| !services.is_service(p)))
            .filter_map(|s| s.fd)
            .collect();
        let wait = next.map(|at| at.saturating_duration_since(Instant::now()));
        // At least a moment: a URC that waits for the end of transparent
        // mode stays due, and must not make the loop spin.
        waker.wait(&fds, wait.map(|w| w.max(MIN_WAIT)));
    }
}

/// Holds host input back while the module is answering a command.
#[derive(Debug)]
struct Pacer {
    paced: bool,
    pending: VecDeque<u8>,
    /// The command line being typed has more than spaces and LFs.
    typed: bool,
    /// Since when an answer is awaited, and what of it came so far.
    awaiting: Option<(Instant, Vec<u8>)>,
    /// Stop after each answered command while what it started goes on.
    settle: bool,
    /// When the last bytes went to the module (the silence before `+++`
    /// is measured from it).
    last_fed: Option<Instant>,
    /// When a script's `+++` went in: the input waits for the module to
    /// leave transparent mode.
    escaping: Option<Instant>,
    /// Until when the input waits (the guard time around `+++`).
    hold: Option<Instant>,
}

impl Pacer {
    fn new(paced: bool) -> Pacer {
        Pacer {
            paced,
            pending: VecDeque::new(),
            typed: false,
            awaiting: None,
            settle: false,
            last_fed: None,
            escaping: None,
            hold: None,
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        self.pending.extend(bytes);
    }

    fn is_empty(&self) -> bool {
        self.pending.is_empty() && self.awaiting.is_none()
    }

    /// Whether input waits that can be taken now.
    fn ready(&self) -> bool {
        !self.pending.is_empty()
            && self.awaiting.is_none()
            && self.hold.is_none_or(|h| Instant::now() >= h)
    }

    /// Whether what the last command started is still going on (the
    /// module busy, or the world's servers working): with `settle`, the
    /// next line waits (see [`serve_events`]).
    fn unsettled<M: BorrowMut<Module>>(&self, session: &Session<M>) -> bool {
        self.settle
            && (session.module().busy() || !session.module().services().activity().is_quiet())
    }

    /// When the answer awaited (or the guard time around a script's
    /// `+++`) stops holding the input back.
    fn deadline(&self) -> Option<Instant> {
        let answer = match &self.awaiting {
            Some((since, _)) if !self.pending.is_empty() => Some(*since + ANSWER_LIMIT),
            _ => None,
        };
        [answer, self.hold.filter(|_| !self.pending.is_empty())]
            .into_iter()
            .flatten()
            .min()
    }

    /// Where a `+++` on a line of its own starts in the pending input (in
    /// transparent mode): at 0, or after the bytes before its line.
    fn escape_at(&self) -> Option<usize> {
        let bytes: Vec<u8> = self.pending.iter().copied().collect();
        let ends_line = |i: usize| matches!(bytes.get(i), None | Some(b'\r' | b'\n'));
        if bytes.starts_with(b"+++") && ends_line(3) {
            return Some(0);
        }
        bytes
            .windows(4)
            .position(|w| matches!(w[0], b'\r' | b'\n') && &w[1..] == b"+++")
            .map(|i| i + 1)
            .filter(|i| ends_line(i + 3))
    }

    /// Gives the module what it may take at `now`; returns its answers.
    fn feed<M: BorrowMut<Module>>(&mut self, session: &mut Session<M>, now: Instant) -> Vec<u8> {
        if !self.paced {
            let bytes: Vec<u8> = self.pending.drain(..).collect();
            return if bytes.is_empty() {
                Vec::new()
            } else {
                session.input(&bytes, now)
            };
        }
        let mut answers = Vec::new();
        loop {
            match self.hold {
                Some(h) if now < h => break,
                _ => self.hold = None,
            }
            if let Some((since, _)) = &self.awaiting {
                if now.saturating_duration_since(*since) < ANSWER_LIMIT {
                    break;
                }
                self.awaiting = None;
            }
            if self.pending.is_empty() {
                break;
            }
            match session.module().uart() {
                Uart::Command => {
                    let n = self
                        .pending
                        .iter()
                        .position(|b| *b == b'\r')
                        .map_or(self.pending.len(), |i| i + 1);
                    let line: Vec<u8> = self.pending.drain(..n).collect();
                    self.typed |= line
                        .iter()
                        .any(|b| !matches!(b, b'\r' | b'\n' | b' ' | b'\t'));
                    let out = session.input(&line, now);
                    self.last_fed = Some(now);
                    let mut done = false;
                    if line.last() == Some(&b'\r') && std::mem::take(&mut self.typed) {
                        let answered =
                            holds_final(&out) || session.module().uart() != Uart::Command;
                        if !answered {
                            self.awaiting = Some((now, out.clone()));
                        }
                        done = answered && session.module().uart() == Uart::Command;
                    }
                    answers.extend(out);
                    if done && self.unsettled(session) {
                        break;
                    }
                }
                // A payload byte by byte, so that the module is back in
                // command mode for the first byte after it.
                Uart::Payload => {
                    if let Some(b) = self.pending.pop_front() {
                        answers.extend(session.input(&[b], now));
                        self.last_fed = Some(now);
                    }
                    if session.module().uart() == Uart::Command && self.unsettled(session) {
                        break;
                    }
                }
                Uart::Transparent => {
                    // A script's `+++` on a line of its own is the escape,
                    // typed with the guard time's silence around it.
                    let guard = Duration::from_millis(session.module().world().guard_time_ms);
                    match self.escape_at() {
                        Some(0) => {
                            let quiet_since = self.last_fed.unwrap_or(now);
                            if self.escaping.is_some()
                                || now.saturating_duration_since(quiet_since) < guard
                            {
                                // Silence before (or the module leaving).
                                self.hold = Some(match self.escaping {
                                    Some(at) => at + guard,
                                    None => quiet_since + guard,
                                });
                                break;
                            }
                            self.pending.drain(..3);
                            answers.extend(session.input(b"+++", now));
                            self.last_fed = Some(now);
                            self.escaping = Some(now);
                            self.hold = Some(now + guard);
                            break;
                        }
                        Some(n) => {
                            let bytes: Vec<u8> = self.pending.drain(..n).collect();
                            answers.extend(session.input(&bytes, now));
                            self.last_fed = Some(now);
                        }
                        None => {
                            let bytes: Vec<u8> = self.pending.drain(..).collect();
                            answers.extend(session.input(&bytes, now));
                            self.last_fed = Some(now);
                        }
                    }
                }
            }
        }
        if session.module().uart() != Uart::Transparent {
            self.escaping = None;
        }
        answers
    }

    /// Output the module printed by itself: it may end an awaited answer.
    fn saw(&mut self, out: &[u8], uart: Uart, _now: Instant) {
        let Some((_, seen)) = &mut self.awaiting else {
            return;
        };
        seen.extend_from_slice(out);
        if seen.len() > ANSWER_KEPT {
            let cut = seen.len() - ANSWER_KEPT;
            seen.drain(..cut);
        }
        if holds_final(seen) || uart != Uart::Command {
            self.awaiting = None;
        }
    }
}

/// Starts a module in `world` on a thread and returns the host's end of an
/// in-memory link to it. The module stops when the link is dropped.
pub fn in_process(world: World) -> (MemoryTransport, thread::JoinHandle<()>) {
    // Parse the embedded catalogue before the host can send: its first
    // command's time limit is not the simulator's start-up time.
    let _ = crate::catalog::catalog();
    let (host, mut module_end) = MemoryTransport::pair();
    // Booted here, so the first command is answered as quickly as the others.
    let mut module = Module::new(world);
    let handle = thread::spawn(move || {
        let _ = serve(&mut module_end, &mut module);
    });
    (host, handle)
}

/// Like [`in_process`], with `faults` and time from `clock`. The thread
/// returns the module when the link is dropped, so a test can look at
/// what it left behind (e.g. that no socket is open).
pub fn in_process_with(
    world: World,
    faults: Faults,
    clock: Arc<dyn Clock>,
) -> (MemoryTransport, thread::JoinHandle<Module>) {
    let _ = crate::catalog::catalog();
    let (host, mut module_end) = MemoryTransport::pair();
    let module = Module::new(world);
    let handle = thread::spawn(move || {
        let mut session = Session::new(module, &faults);
        let _ = serve_session(&mut module_end, &mut session, &*clock, Pace::default());
        session.into_module()
    });
    (host, handle)
}

/// Starts a simulator on a free loopback port, on a thread of its own, and
/// returns its address: one module per TCP connection. What an async
/// program (tokio's `TcpStream`) or a program in another language connects
/// to, without a second process:
///
/// ```no_run
/// let addr = fcm242d_sim::serve::tcp_in_process(fcm242d_sim::world::World::default())?;
/// let stream = std::net::TcpStream::connect(addr)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn tcp_in_process(world: World) -> std::io::Result<std::net::SocketAddr> {
    // Parsed before the host connects: its first command's time limit is
    // not the simulator's start-up time.
    let _ = crate::catalog::catalog();
    let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))?;
    let addr = listener.local_addr()?;
    thread::Builder::new()
        .name("sim-tcp".into())
        .spawn(move || tcp(listener, world))?;
    Ok(addr)
}

/// Serves one module per TCP connection (each connection is a UART).
pub fn tcp(listener: TcpListener, world: World) -> std::io::Result<()> {
    tcp_with(listener, world, Faults::none())
}

/// Like [`tcp`], each connection's UART with `faults` (the same seed for
/// every connection, so each is reproducible).
pub fn tcp_with(listener: TcpListener, world: World, faults: Faults) -> std::io::Result<()> {
    for stream in listener.incoming() {
        let stream = stream?;
        let world = world.clone();
        let faults = faults.clone();
        thread::spawn(move || {
            let Ok(mut reading) = stream.try_clone() else {
                return;
            };
            let mut writing = stream;
            let input: Reader = Box::new(move |buf| loop {
                match reading.read(buf) {
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    r => return r,
                }
            });
            let mut output = |bytes: &[u8]| writing.write_all(bytes);
            let mut session = Session::new(Module::new(world), &faults);
            let _ = serve_events(input, &mut output, &mut session, Pace::default());
        });
    }
    Ok(())
}

/// Serves one module on standard input and output until input ends and
/// the module is quiet (see the module documentation).
pub fn stdio(world: World) -> std::io::Result<()> {
    stdio_with(world, Faults::none())
}

/// Like [`stdio`], with `faults`.
pub fn stdio_with(world: World, faults: Faults) -> std::io::Result<()> {
    let mut session = Session::new(Module::new(world), &faults);
    let pace = Pace {
        paced: true,
        drain: true,
    };
    let input: Reader = Box::new(|buf| loop {
        match std::io::stdin().read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            r => return r,
        }
    });
    let mut output = |bytes: &[u8]| {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes)?;
        out.flush()
    };
    serve_events(input, &mut output, &mut session, pace)
}
