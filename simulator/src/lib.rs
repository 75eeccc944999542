//! A virtual FCM242D / FGM842D module.
//!
//! Status: not written yet. The simulator will parse commands with the grammar
//! generated from `spec/` and model every function group of the manual.
