//! Settings shared by the blocking and the async client.

use core::time::Duration;

use crate::session;

/// Settings of a client (blocking or async).
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

#[cfg_attr(not(any(feature = "std", feature = "async")), allow(dead_code))]
impl Options {
    /// The session's options (milliseconds).
    pub(crate) fn session(&self) -> session::Options {
        session::Options {
            default_timeout_ms: ms(self.default_timeout),
            slack_ms: ms(self.slack),
            timeout_override_ms: self.timeout_override.map(ms),
        }
    }

    /// The guard time in milliseconds.
    #[cfg(feature = "async")]
    pub(crate) fn guard_ms(&self) -> u64 {
        ms(self.guard_time)
    }
}

/// A duration in whole milliseconds (saturating).
pub(crate) fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
