//! The simulator in process, as a [`Transport`]: no thread, no serve loop.
//! The host's calls drive the module: [`Transport::write_all`] hands it
//! bytes, [`Transport::read`] runs it until it prints something or the
//! read's time limit passes — on the module's own clock.
//!
//! ```
//! use std::time::Duration;
//! use fcm242d::transport::Transport;
//! use fcm242d_sim::sim::{SimOptions, Simulated};
//! use fcm242d_sim::world::World;
//!
//! let mut sim = Simulated::start(World::default(), SimOptions::default());
//! sim.write_all(b"AT+QVERSION\r\n").unwrap();
//! let mut buf = [0u8; 256];
//! let n = sim.read(&mut buf, Duration::from_secs(1)).unwrap();
//! assert!(String::from_utf8_lossy(&buf[..n]).contains("+QVERSION:"));
//!
//! // A time limit of 150 s costs no real time: nothing happens meanwhile,
//! // so the module's clock jumps.
//! let before = sim.now();
//! assert_eq!(sim.read(&mut buf, Duration::from_secs(150)).unwrap(), 0);
//! assert_eq!(sim.now() - before, Duration::from_secs(150));
//! assert!(sim.is_idle());
//!
//! // Back to the module's power-on state, at once.
//! sim.reset();
//! ```
//!
//! # Virtual time
//!
//! With [`SimOptions::virtual_time`] (the default) the module's clock
//! stands still while the module works, and moves in two ways:
//!
//! - When the simulated world is quiet (see [`crate::activity`]: no server
//!   of the world and no helper thread of the module is working, nothing
//!   waits to be read by them) and no link of the module goes outside the
//!   world, nothing can happen before the module's next timer: the clock
//!   jumps to it (a scheduled URC, a connect's or a request's time limit, a
//!   retransmission, the keep-alive, the world's phone), or by the read's
//!   whole time limit when no timer comes first. Waiting costs no real
//!   time: a command whose time limit is 150 s times out at once.
//! - While the world works (a server answers, a TLS handshake runs), the
//!   host waits for it without polling: it sleeps until the world changes
//!   or a socket of the module has input. The world's servers answer at
//!   once on the virtual clock (their work takes real time only, so runs
//!   are reproducible); a link to a port of the host or an external server
//!   (which nobody can see working) keeps the clock on real time while it
//!   is open, and so does a world that works for longer than its servers
//!   ever should: once it has worked for 250 ms (its grace) without a break,
//!   however the host splits its reads (a socket whose input no thread
//!   takes until a time limit of the module passes keeps the world busy).
//!
//! Without virtual time the clock is the system's, and [`Transport::read`]
//! waits for real, still without polling.
//!
//! # Reset
//!
//! [`Simulated::reset`] puts the module back to the world's power-on state
//! as a fresh start would leave it — volatile state, saved configuration,
//! files, BLE, every socket closed, nothing pending, nothing held by fault
//! injection (whose random choices start again from the seed) — and resets
//! what the module left in the world: every connection to the world's
//! servers is cut and the broker forgets its sessions and the messages the
//! module retained. Each [`Simulated`] has servers of its own
//! ([`Services::new`]), so simulators in parallel never meet.
//!
//! # Idleness
//!
//! [`Simulated::is_idle`] says whether the module will print nothing more
//! until the host writes or the world acts of itself: no output waiting to
//! be read or held by a fault, nothing scheduled, no operation whose end it
//! prints under way (a connect, a request, a packet waiting for its
//! acknowledgement, the world's phone about to connect or write), and the
//! world quiet.

use std::collections::VecDeque;
use std::io;
use std::os::fd::BorrowedFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fcm242d::transport::Transport;

use crate::activity::Waker;
use crate::faults::Faults;
use crate::module::Module;
use crate::serve::Session;
use crate::services::Services;
use crate::world::World;

/// How a [`Simulated`] runs.
#[derive(Debug, Clone, PartialEq)]
pub struct SimOptions {
    /// The module's clock is virtual (see the module documentation);
    /// `false`: the system's clock.
    pub virtual_time: bool,
    /// Faults the UART and the network add (none by default).
    pub faults: Faults,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            virtual_time: true,
            faults: Faults::none(),
        }
    }
}

/// The module's clock.
#[derive(Debug, Clone, Copy)]
enum Clock {
    /// Virtual: the time it reads.
    Virtual(Instant),
    /// The system's.
    Real,
}

/// The host's end of an in-process simulator (see the module
/// documentation).
pub struct Simulated {
    session: Session<Module>,
    faults: Faults,
    clock: Clock,
    /// Output the host has not read yet.
    outbox: VecDeque<u8>,
    waker: Option<Waker>,
    /// Since when (real time) the world has not been quiet, while the
    /// virtual clock waits for it: its [`WORLD_GRACE`] runs from then.
    working_since: Option<Instant>,
}

impl std::fmt::Debug for Simulated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Simulated")
            .field("clock", &self.clock)
            .field("module", self.session.module())
            .finish_non_exhaustive()
    }
}

/// The longest [`Simulated::reset`] waits for the world's servers to wind
/// down the connections it cut (they do at once; this only bounds a server
/// that hangs).
const SETTLE_LIMIT: Duration = Duration::from_secs(1);
/// How long the world may work (in real time) before the virtual clock
/// follows real time: its servers answer within far less.
const WORLD_GRACE: Duration = Duration::from_millis(250);
/// The least step a virtual clock makes when a timer is due but the
/// module printed nothing (so a read always ends).
const LEAST_STEP: Duration = Duration::from_millis(1);

impl Simulated {
    /// A freshly booted module in `world`, with servers of its own.
    pub fn start(world: World, options: SimOptions) -> Simulated {
        let services = Services::new();
        let waker = services.activity().waker().ok();
        let clock = if options.virtual_time {
            Clock::Virtual(Instant::now())
        } else {
            Clock::Real
        };
        let now = match clock {
            Clock::Virtual(t) => t,
            Clock::Real => Instant::now(),
        };
        let mut module = Module::with_services(world, services);
        module.reset(now);
        Simulated {
            session: Session::new(module, &options.faults),
            faults: options.faults,
            clock,
            outbox: VecDeque::new(),
            waker,
            working_since: None,
        }
    }

    /// The module back to the world's power-on state as a fresh start
    /// would leave it, and the world's servers forgetting it (see the
    /// module documentation). Cheap: no thread starts, nothing waits.
    pub fn reset(&mut self) {
        let now = self.now();
        self.session.reset(&self.faults);
        self.session.module_mut().reset(now);
        self.session.module().services().reset();
        self.outbox.clear();
        self.working_since = None;
        // The servers wind the cut connections down (a moment's work).
        let activity = self.services().activity().clone();
        let until = Instant::now() + SETTLE_LIMIT;
        while !activity.is_quiet() {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            self.wait_real(Some(left));
        }
    }

    /// The module's clock.
    pub fn now(&self) -> Instant {
        match self.clock {
            Clock::Virtual(t) => t,
            Clock::Real => Instant::now(),
        }
    }

    /// Whether the module will print nothing more until the host writes or
    /// the world acts (see the module documentation).
    pub fn is_idle(&self) -> bool {
        self.outbox.is_empty()
            && !self.session.holding()
            && !self.session.module().busy()
            && self.session.module().services().activity().is_quiet()
    }

    /// The world the module lives in.
    pub fn world(&self) -> &World {
        self.session.module().world()
    }

    /// The module (its state, for tests).
    pub fn module(&self) -> &Module {
        self.session.module()
    }

    /// The module, to change (tests; fault injection).
    pub fn module_mut(&mut self) -> &mut Module {
        self.session.module_mut()
    }

    /// The world's servers.
    pub fn services(&self) -> &Arc<Services> {
        self.session.module().services()
    }

    /// Lets the module run for `duration` of its clock, keeping what it
    /// prints for the next reads.
    pub fn pass(&mut self, duration: Duration) {
        let until = self.now() + duration;
        loop {
            let now = self.now();
            self.pump(now);
            if now >= until {
                return;
            }
            self.wait_until(Some(until), false);
        }
    }

    /// Lets the world finish what it is doing (a server answering what the
    /// module sent) and the module take it in, before the host's next bytes:
    /// the simulated network is fast next to the host, so an echo of one
    /// message is back before the host sends the next one (the manual's
    /// examples read each echo on its own). It waits for real only while
    /// a server of the world works (event-driven, at most a second); on
    /// the virtual clock no time passes.
    pub fn settle(&mut self) {
        let activity = self.services().activity().clone();
        let until = Instant::now() + SETTLE_LIMIT;
        loop {
            let now = self.now();
            self.pump(now);
            if activity.is_quiet() || self.session.module().talks_outside() {
                self.pump(now);
                return;
            }
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            // The world's servers answer at once on the virtual clock.
            self.wait_real(Some(left));
        }
    }

    /// What the module prints by itself at `now`, into the outbox.
    fn pump(&mut self, now: Instant) {
        self.session.poll(now);
        for piece in self.session.due(now) {
            self.outbox.extend(piece);
        }
    }

    /// Waits (on the module's clock) until something may happen: the next
    /// timer, `limit`, or the world changing. Never longer than `limit`.
    fn wait_until(&mut self, limit: Option<Instant>, stop_on_output: bool) {
        let before = self.outbox.len();
        let activity = self.services().activity().clone();
        let generation = activity.generation();
        let quiet = activity.is_quiet();
        let now = self.now();
        // The module looks at the world once more: what it did meanwhile
        // (written a request, say) shows in the activity.
        self.pump(now);
        if stop_on_output && self.outbox.len() > before {
            return;
        }
        let target = [self.session.next_due(), limit].into_iter().flatten().min();
        let settled = quiet
            && activity.is_quiet()
            && activity.generation() == generation
            && !self.session.module().talks_outside();
        if settled {
            self.working_since = None;
        }
        match self.clock {
            Clock::Virtual(t) if settled => {
                // Nothing happens before `target`: jump there.
                if let Some(target) = target {
                    self.clock = Clock::Virtual(target.max(t + LEAST_STEP));
                } else {
                    // Nothing will ever happen by itself: wait for the
                    // world of the host (a client of a listener).
                    self.wait_real(None);
                }
            }
            Clock::Virtual(t) => {
                let outside = self.session.module().talks_outside();
                let working_since = *self.working_since.get_or_insert_with(Instant::now);
                let wait = target.map(|at| at.saturating_duration_since(t));
                let waited = self.wait_real(wait);
                // A server of the world answers at once on the virtual
                // clock (it only takes real time); the clock follows real
                // time for a peer outside the world, and for a world that
                // works longer than any of its servers should. The grace
                // runs from when the world started working, not afresh at
                // each wait: a host that reads in short waits (100 ms, less
                // than the grace) must not freeze the clock while the world
                // stays busy, say with a socket whose input no thread will
                // take until a time limit of the module passes.
                let waited = if outside {
                    waited
                } else {
                    let over = working_since.elapsed().saturating_sub(WORLD_GRACE);
                    waited.min(over)
                };
                let moved = t + waited;
                self.clock = Clock::Virtual(match target {
                    Some(at) => moved.min(at.max(t)),
                    None => moved,
                });
            }
            Clock::Real => {
                let wait = target.map(|at| at.saturating_duration_since(Instant::now()));
                self.wait_real(wait);
            }
        }
    }

    /// Sleeps until the world changes, a socket of the module has input,
    /// or `limit` passes; returns how long it slept.
    fn wait_real(&self, limit: Option<Duration>) -> Duration {
        let started = Instant::now();
        let sockets = self.session.module().sockets();
        let services = self.services();
        // Sockets whose peer is a server of the world need no watching:
        // the world says when it wrote. The others (listeners, foreign
        // peers) are watched.
        let fds: Vec<BorrowedFd<'_>> = sockets
            .iter()
            .filter(|s| s.peer.is_none_or(|p| !services.is_service(p)))
            .filter_map(|s| s.fd)
            .collect();
        match &self.waker {
            Some(w) => w.wait(&fds, limit),
            // No waker could be made: fall back on sleeping briefly.
            None => std::thread::sleep(limit.unwrap_or(LEAST_STEP).min(Duration::from_millis(5))),
        }
        started.elapsed()
    }

    fn take(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.outbox.len());
        for (slot, byte) in buf.iter_mut().zip(self.outbox.drain(..n)) {
            *slot = byte;
        }
        n
    }
}

impl Transport for Simulated {
    /// Hands `bytes` to the module, once what the world was doing is done
    /// (see [`Simulated::settle`]).
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.settle();
        let now = self.now();
        self.session.input(bytes, now);
        for piece in self.session.due(now) {
            self.outbox.extend(piece);
        }
        Ok(())
    }

    /// Runs the module until it prints something or `timeout` passes on
    /// its clock (see the module documentation).
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let deadline = self.now().checked_add(timeout);
        loop {
            let now = self.now();
            self.pump(now);
            if !self.outbox.is_empty() {
                return Ok(self.take(buf));
            }
            if deadline.is_some_and(|d| now >= d) {
                return Ok(0);
            }
            self.wait_until(deadline, true);
        }
    }

    fn describe(&self) -> String {
        match self.clock {
            Clock::Virtual(_) => "sim:in-process (virtual time)".into(),
            Clock::Real => "sim:in-process".into(),
        }
    }
}
