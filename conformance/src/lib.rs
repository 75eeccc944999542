//! Conformance suite and runner for FCM242D / FGM842D modules.
//!
//! The suite ([`generated::cases`]) is generated from the catalogue in
//! `spec/` by `cargo xtask gen`: for every command form, the lines that
//! probe it, with their expected outcome, set-up, safety class and time
//! limit; and every scenario of the manual. The runner sends them to a
//! target (the built-in simulator, a serial port, a TCP link, a PTY), checks
//! every received line against the grammar, and reports.

pub mod case;
pub mod checker;
pub mod env;
pub mod expected;
pub mod generated;
pub mod link;
pub mod lists;
pub mod outcome;
pub mod report;
pub mod restore;
pub mod runner;
pub mod scenario;
pub mod sequences;
pub mod session;
pub mod setup;
pub mod simtarget;
pub mod target;
pub mod transcript;
pub mod varying;
