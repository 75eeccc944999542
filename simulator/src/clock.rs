//! Time as the serve loop sees it: the system's clock, or a virtual clock
//! that a test moves by hand, so that everything the module does at a time
//! (scheduled URCs, the guard time around `+++`, delayed output under
//! fault injection) happens at a reproducible point without real sleeping.
//!
//! ```
//! use std::time::Duration;
//! use fcm242d_sim::clock::{Clock, VirtualClock};
//!
//! let clock = VirtualClock::new();
//! let start = clock.now();
//! clock.advance(Duration::from_millis(250));
//! assert_eq!(clock.now() - start, Duration::from_millis(250));
//! ```

use std::fmt::Debug;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The longest real time a serve loop blocks on its link when nothing is
/// due (input and the due times wake it; see [`crate::serve`]).
pub const NOTHING_DUE: Duration = Duration::from_secs(3600);

/// A source of time for the module and its serve loop.
pub trait Clock: Send + Sync + Debug {
    /// The current time.
    fn now(&self) -> Instant;

    /// Blocks until the clock reads `at` or later, but at most `patience`
    /// of real time; returns whether `at` was reached.
    fn wait_until(&self, at: Instant, patience: Duration) -> bool;

    /// How long (real time) a serve loop may block on its link while the
    /// next thing it must do is due at `next` (or nothing is due).
    fn idle(&self, next: Option<Instant>) -> Duration;
}

/// The system's monotonic clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn wait_until(&self, at: Instant, patience: Duration) -> bool {
        let now = Instant::now();
        let wait = at.saturating_duration_since(now);
        std::thread::sleep(wait.min(patience));
        Instant::now() >= at
    }

    fn idle(&self, next: Option<Instant>) -> Duration {
        next.map(|at| at.saturating_duration_since(Instant::now()))
            .unwrap_or(NOTHING_DUE)
    }
}

/// A clock that stands still until [`VirtualClock::advance`] moves it.
/// Clones share the same time, so a test keeps one and hands another to
/// the serve loop.
#[derive(Debug, Clone)]
pub struct VirtualClock {
    shared: Arc<(Mutex<Instant>, Condvar)>,
}

impl Default for VirtualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl VirtualClock {
    /// A virtual clock that starts at the current real time (any start
    /// would do: only differences matter).
    pub fn new() -> Self {
        VirtualClock {
            shared: Arc::new((Mutex::new(Instant::now()), Condvar::new())),
        }
    }

    /// Moves the time forward by `by`.
    pub fn advance(&self, by: Duration) {
        let (time, moved) = &*self.shared;
        let mut t = time.lock().unwrap_or_else(|e| e.into_inner());
        *t = t.checked_add(by).unwrap_or(*t);
        moved.notify_all();
    }

    /// Moves the time forward to `at` (never backwards).
    pub fn advance_to(&self, at: Instant) {
        let (time, moved) = &*self.shared;
        let mut t = time.lock().unwrap_or_else(|e| e.into_inner());
        if at > *t {
            *t = at;
        }
        moved.notify_all();
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Instant {
        *self.shared.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait_until(&self, at: Instant, patience: Duration) -> bool {
        let (time, moved) = &*self.shared;
        let t = time.lock().unwrap_or_else(|e| e.into_inner());
        let (t, _) = moved
            .wait_timeout_while(t, patience, |t| *t < at)
            .unwrap_or_else(|e| e.into_inner());
        *t >= at
    }

    fn idle(&self, _next: Option<Instant>) -> Duration {
        // Virtual time moves only when a test advances it, which can happen
        // at any moment: look again soon, whatever is due.
        Duration::from_millis(2)
    }
}
