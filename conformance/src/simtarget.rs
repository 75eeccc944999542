//! The built-in simulator as a target: in process ([`Simulated`]), on its
//! virtual clock, shared between the [`crate::link::Link`] that talks to it
//! and a [`Control`] that the runner uses to put the module back to its
//! power-on state before each case (order independence for free) and to
//! let guard times pass without sleeping.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use fcm242d::transport::Transport;
use fcm242d_sim::sim::{SimOptions, Simulated};
use fcm242d_sim::world::World;

/// What a runner can do to a target beyond reading and writing.
pub trait Control: Send {
    /// The target's clock (deadlines and time limits are on it).
    fn now(&self) -> Instant;
    /// Lets `duration` pass on the target's clock (a guard time).
    fn pause(&mut self, duration: Duration);
    /// Puts the module back to its power-on state; `false` when the target
    /// cannot (a real module).
    fn reset(&mut self) -> bool;
    /// Whether [`Control::reset`] works.
    fn can_reset(&self) -> bool;
}

/// A real module: the system's clock, no reset.
pub struct Wall;

impl Control for Wall {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn pause(&mut self, duration: Duration) {
        std::thread::sleep(duration);
    }

    fn reset(&mut self) -> bool {
        false
    }

    fn can_reset(&self) -> bool {
        false
    }
}

type Shared = Arc<Mutex<Simulated>>;

fn lock(sim: &Shared) -> std::sync::MutexGuard<'_, Simulated> {
    // A panic while holding the lock leaves the module as it was; carry on.
    sim.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The transport end of a shared in-process simulator.
pub struct SimLink(Shared);

impl Transport for SimLink {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        lock(&self.0).write_all(bytes)
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        lock(&self.0).read(buf, timeout)
    }

    fn describe(&self) -> String {
        lock(&self.0).describe()
    }
}

/// The control end of a shared in-process simulator.
pub struct SimControl(Shared);

impl Control for SimControl {
    fn now(&self) -> Instant {
        lock(&self.0).now()
    }

    fn pause(&mut self, duration: Duration) {
        lock(&self.0).pass(duration);
    }

    fn reset(&mut self) -> bool {
        lock(&self.0).reset();
        true
    }

    fn can_reset(&self) -> bool {
        true
    }
}

/// Starts the simulator in process on its virtual clock, with the faults
/// its world file asks for.
pub fn start(world: World) -> (SimLink, SimControl) {
    let faults = world
        .faults
        .as_ref()
        .map(|f| f.faults())
        .unwrap_or_else(fcm242d_sim::faults::Faults::none);
    let sim = Simulated::start(
        world,
        SimOptions {
            virtual_time: true,
            faults,
        },
    );
    let shared = Arc::new(Mutex::new(sim));
    (SimLink(shared.clone()), SimControl(shared))
}
