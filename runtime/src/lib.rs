//! Typed bindings and a sans-IO protocol engine for Quectel FCM242D / FGM842D
//! Wi-Fi + BLE modules.
//!
//! The core is `no_std` + `alloc`; the `std` feature (on by default) adds the
//! blocking client and transports.

#![no_std]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "std")]
pub mod client;
pub mod command;
pub mod engine;
pub mod framer;
pub mod generated;
pub mod grammar;
pub mod session;
#[cfg(feature = "std")]
pub mod transport;
pub mod value;
pub mod wire;
