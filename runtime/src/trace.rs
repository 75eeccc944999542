//! The wire, logged: every write and read of the clients, and every notice.
//! Off unless the `log` or `defmt` feature is on.

use crate::session::Notice;

/// Bytes written to the module.
pub(crate) fn wrote(_bytes: &[u8]) {}

/// Bytes read from the module.
pub(crate) fn read(_bytes: &[u8]) {}

/// A notice handed to the subscribers.
pub(crate) fn notice(_n: &Notice) {}
