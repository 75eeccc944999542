//! Typed bindings and a sans-IO protocol engine for Quectel FCM242D / FGM842D
//! Wi-Fi + BLE modules.
//!
//! Status: this crate is the home of the bindings generated from the command
//! catalogue in `spec/` (see the repository README). The catalogue, its
//! validator and its JSON export exist today; the generated bindings, the pest
//! grammar and the protocol engine are not written yet, so the crate exports
//! nothing so far.
//!
//! The core is `no_std` + `alloc`; the `std` feature (on by default) adds the
//! blocking client and transports.

#![no_std]

#[cfg(feature = "std")]
extern crate std;
