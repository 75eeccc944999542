//! Time for the async client: a clock to read and a way to sleep. The
//! session keeps every deadline; the client asks the timer what time it is
//! and sleeps until the next deadline, or until bytes arrive.
//!
//! Implementations: `TokioTimer` (feature `tokio`), `EmbassyTimer`
//! (feature `embassy-time`), and [`DelayClock`], which pairs any
//! `embedded-hal-async` [`DelayNs`] with a function that reads a clock.

use core::future::Future;

use embedded_hal_async::delay::DelayNs;

/// A clock and a sleep, for the async client.
pub trait Timer {
    /// Milliseconds since any fixed origin (it must not go backwards).
    fn now_ms(&mut self) -> u64;

    /// Sleeps for `ms` milliseconds.
    fn sleep_ms(&mut self, ms: u64) -> impl Future<Output = ()>;
}

/// An `embedded-hal-async` delay paired with a clock function (a free
/// running hardware timer, an RTC) that returns milliseconds.
///
/// ```
/// # use fcm242d::timer::{DelayClock, Timer};
/// struct Spin;
/// impl embedded_hal_async::delay::DelayNs for Spin {
///     async fn delay_ns(&mut self, _ns: u32) {}
/// }
/// let mut timer = DelayClock::new(Spin, || 42);
/// assert_eq!(timer.now_ms(), 42);
/// ```
#[derive(Debug)]
pub struct DelayClock<D, C> {
    delay: D,
    clock: C,
}

impl<D: DelayNs, C: FnMut() -> u64> DelayClock<D, C> {
    /// Sleeps with `delay`, reads the time with `clock`.
    pub fn new(delay: D, clock: C) -> Self {
        DelayClock { delay, clock }
    }
}

impl<D: DelayNs, C: FnMut() -> u64> Timer for DelayClock<D, C> {
    fn now_ms(&mut self) -> u64 {
        (self.clock)()
    }

    async fn sleep_ms(&mut self, ms: u64) {
        // `DelayNs` takes 32 bits: a long sleep is a few short ones.
        let mut left = ms;
        while left > 0 {
            let step = left.min(u64::from(u32::MAX));
            self.delay.delay_ms(step as u32).await;
            left -= step;
        }
    }
}

/// The tokio runtime's clock and sleep.
#[cfg(feature = "tokio")]
#[derive(Debug, Clone, Copy)]
pub struct TokioTimer {
    epoch: tokio::time::Instant,
}

#[cfg(feature = "tokio")]
impl TokioTimer {
    /// A timer whose clock starts now.
    pub fn new() -> Self {
        TokioTimer {
            epoch: tokio::time::Instant::now(),
        }
    }
}

#[cfg(feature = "tokio")]
impl Default for TokioTimer {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(feature = "tokio")]
impl Timer for TokioTimer {
    fn now_ms(&mut self) -> u64 {
        crate::options::ms(self.epoch.elapsed())
    }

    async fn sleep_ms(&mut self, ms: u64) {
        tokio::time::sleep(core::time::Duration::from_millis(ms)).await;
    }
}

/// embassy-time's clock and sleep (the firmware provides its time driver).
#[cfg(feature = "embassy-time")]
#[derive(Debug, Clone, Copy, Default)]
pub struct EmbassyTimer;

#[cfg(feature = "embassy-time")]
impl Timer for EmbassyTimer {
    fn now_ms(&mut self) -> u64 {
        embassy_time::Instant::now().as_millis()
    }

    async fn sleep_ms(&mut self, ms: u64) {
        embassy_time::Timer::after_millis(ms).await;
    }
}
