//! The wire, logged: every write and read of the clients, and every notice,
//! at trace level under the target `fcm242d::wire` (`log`) or through
//! `defmt`. Secrets are masked ([`Session::redact`]). Off, and free, unless
//! the `log` or `defmt` feature is on.

use crate::session::{Notice, Session};

/// Bytes written to the module.
pub(crate) fn wrote(session: &Session, bytes: &[u8]) {
    #[cfg(feature = "log")]
    if log::log_enabled!(target: "fcm242d::wire", log::Level::Trace) {
        log::trace!(target: "fcm242d::wire", "> {}", session.redact(bytes));
    }
    #[cfg(feature = "defmt")]
    defmt::trace!("> {=str}", session.redact(bytes).as_str());
    let _ = (session, bytes);
}

/// Bytes read from the module.
pub(crate) fn read(session: &Session, bytes: &[u8]) {
    #[cfg(feature = "log")]
    if log::log_enabled!(target: "fcm242d::wire", log::Level::Trace) {
        log::trace!(target: "fcm242d::wire", "< {}", session.redact(bytes));
    }
    #[cfg(feature = "defmt")]
    defmt::trace!("< {=str}", session.redact(bytes).as_str());
    let _ = (session, bytes);
}

/// A notice handed to the subscribers.
pub(crate) fn notice(session: &Session, n: &Notice) {
    #[cfg(feature = "log")]
    if log::log_enabled!(target: "fcm242d::urc", log::Level::Debug) {
        let text = alloc::format!("{n}");
        log::debug!(target: "fcm242d::urc", "{}", session.redact(text.as_bytes()));
    }
    #[cfg(feature = "defmt")]
    {
        let text = alloc::format!("{n}");
        defmt::debug!("URC {=str}", session.redact(text.as_bytes()).as_str());
    }
    let _ = (session, n);
}
