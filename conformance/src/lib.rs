//! Conformance suite and runner for FCM242D / FGM842D modules.
//!
//! Status: not written yet. The suite will be generated from `spec/` and run
//! against a module on a serial port or against the simulator.
