//! A URC channel for the async client: fixed capacity, several
//! subscribers, no `std` (embassy-sync's pub/sub channel of [`Notice`]s).
//!
//! The client publishes every notice at once and never waits for a slow
//! subscriber: when the channel is full, the oldest notice gives way, and
//! each subscriber that had not read it learns how many it missed
//! ([`WaitResult::Lagged`]): an overflow is reported, never silent.
//!
//! ```
//! use fcm242d::pubsub::{NoopRawMutex, UrcChannel, WaitResult};
//! use fcm242d::session::Notice;
//!
//! let channel: UrcChannel<NoopRawMutex, 2, 2> = UrcChannel::new();
//! let mut a = channel.subscriber().unwrap();
//! let mut b = channel.subscriber().unwrap();
//! let publisher = channel.dyn_immediate_publisher();
//! for line in ["one", "two", "three"] {
//!     publisher.publish_immediate(Notice::Unknown(line.into()));
//! }
//! // Capacity 2: "one" gave way, and both subscribers are told.
//! assert_eq!(a.try_next_message(), Some(WaitResult::Lagged(1)));
//! assert_eq!(
//!     a.try_next_message(),
//!     Some(WaitResult::Message(Notice::Unknown("two".into())))
//! );
//! assert_eq!(b.try_next_message(), Some(WaitResult::Lagged(1)));
//! ```

pub use embassy_sync::blocking_mutex::raw::{CriticalSectionRawMutex, NoopRawMutex, RawMutex};
pub use embassy_sync::pubsub::{
    DynImmediatePublisher, DynSubscriber, Error as SubscribeError, Subscriber, WaitResult,
};

use crate::session::Notice;

/// A channel of `CAP` notices for up to `SUBS` subscribers, the client
/// being its one publisher. `M` guards it: [`NoopRawMutex`] within one
/// executor, [`CriticalSectionRawMutex`] across interrupts, threads or
/// executors (it needs a `critical-section` implementation).
pub type UrcChannel<M, const CAP: usize, const SUBS: usize> =
    embassy_sync::pubsub::PubSubChannel<M, Notice, CAP, SUBS, 1>;

/// A subscriber of a [`UrcChannel`], whatever its sizes.
pub type UrcSubscriber<'a> = DynSubscriber<'a, Notice>;
