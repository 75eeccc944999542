#![doc = include_str!("../README.md")]
//!
//! # Modules
//!
//! - [`generated`]: a type per command form, information line and URC of the
//!   catalogue (`spec/`), with their encoders and decoders.
//! - [`engine`]: the sans-IO engine: bytes in, typed events out, the same for
//!   every split of the input; data framed by announced lengths; every line
//!   an event.
//! - [`session`]: the sans-IO protocol logic of whole exchanges (completions
//!   matched on their fields, series, data phases, time limits without a
//!   clock, resynchronisation, transparent mode, notices).
//! - [`client`]: the blocking client, a thin loop over a session and a
//!   [`transport`].
//!
//! The core is `no_std` + `alloc`; the `std` feature (on by default) adds the
//! blocking client and transports.
//!
//! # Features
//!
//! Each function group of the catalogue is a feature: `general`, `wifi`,
//! `ble`, `tcpip`, `ssl`, `mqtt`, `http`, `network`, `filesystem` (all on by
//! default, through `default-groups`). A group's commands, information lines
//! and URCs are compiled only with its feature, so a firmware that turns the
//! default features off and names the groups it uses pays only for those.
//! Features are additive; [`session`] and [`client`] need `general` and
//! `tcpip` (the resynchronisation probes, and `+++`). A line
//! of a group that is left out is not decoded: it reaches the caller as an
//! unsolicited line.

#![no_std]
// The crate's page (the README) links to the async client, its pub/sub and
// its timer, which exist only with the `async` feature: without it those
// links cannot resolve.
#![cfg_attr(not(feature = "async"), allow(rustdoc::broken_intra_doc_links))]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

// The session and the clients use commands of the `general` group (the
// resynchronisation probes) and `+++` (in the `tcpip` group).
#[cfg(all(feature = "async", feature = "general", feature = "tcpip"))]
pub mod async_client;
#[cfg(all(feature = "std", feature = "general", feature = "tcpip"))]
pub mod client;
pub mod command;
#[cfg(all(
    any(feature = "std", feature = "async"),
    feature = "general",
    feature = "tcpip"
))]
mod driver;
pub mod engine;
#[cfg(all(feature = "general", feature = "tcpip"))]
pub mod error;
#[doc(hidden)]
pub mod framer;
pub mod generated;
#[cfg(all(feature = "general", feature = "tcpip"))]
pub mod options;
#[cfg(feature = "async")]
pub mod pubsub;
#[cfg(all(feature = "general", feature = "tcpip"))]
pub mod response;
pub mod scan;
#[cfg(all(feature = "general", feature = "tcpip"))]
pub mod session;
// Each group's constructors carry their own feature gate.
mod shortcuts;
#[cfg(feature = "async")]
pub mod timer;
#[cfg(any(feature = "std", feature = "async"))]
mod trace;
#[cfg(feature = "std")]
pub mod transport;
pub mod value;
#[doc(hidden)]
pub mod wire;
