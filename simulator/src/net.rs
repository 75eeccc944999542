//! Live network resources of the module (sockets on the host's loopback).
//! They are not part of [`crate::state::State`], which is plain data that a
//! reboot rebuilds; a reboot drops them instead.

/// The module's sockets and other live links.
#[derive(Debug, Default)]
pub struct Net {}
