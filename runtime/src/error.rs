//! Why a command failed, for the blocking and the async client alike. The
//! type is generic over the link's own error (`std::io::Error` for the
//! blocking client's transports, the `embedded-io` error of the async
//! client's link).

use alloc::string::String;
use core::fmt;
use core::time::Duration;

use crate::generated::results::HttpCode;
use crate::session::Refused;
pub use crate::wire::DecodeError;

/// Why a command failed. `E` is the link's error.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error<E> {
    /// The link failed.
    Io(E),
    /// The link is closed for good (a read returned end of file).
    Closed,
    /// No final result (or prompt, or completion) within the time limit.
    /// The next command resynchronises the link first.
    Timeout {
        /// The command line.
        command: String,
        /// What was awaited.
        waiting_for: &'static str,
        /// How long the client waited.
        waited: Duration,
    },
    /// The module answered `ERROR`.
    Error {
        /// The command line.
        command: String,
    },
    /// The module answered `+CME ERROR: <err>` (the HTTP(S) commands).
    Cme {
        /// The command line.
        command: String,
        /// The result code.
        code: HttpCode,
    },
    /// The module answered `+CME ERROR: <text>` (a text, or a code too
    /// large for a number).
    CmeText {
        /// The command line.
        command: String,
        /// What followed `+CME ERROR:`.
        text: String,
    },
    /// The module answered `SEND FAIL` (its send buffer is full).
    SendFail,
    /// `NO CARRIER`: no connection to enter, or transparent mode ended.
    NoCarrier,
    /// An information line of the command does not match the catalogue.
    Decode {
        /// The line.
        line: String,
        /// Why.
        error: DecodeError,
    },
    /// The payload does not fit the command's data phase (nothing was written).
    Payload(&'static str),
    /// The session refused to start the command (nothing was written).
    Refused(Refused),
}

impl<E: fmt::Display> fmt::Display for Error<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "link: {e}"),
            Error::Closed => f.write_str("link closed"),
            Error::Timeout {
                command,
                waiting_for,
                waited,
            } => {
                write!(
                    f,
                    "`{command}`: no {waiting_for} within {} ms",
                    waited.as_millis()
                )
            }
            Error::Error { command } => write!(f, "`{command}`: ERROR"),
            Error::Cme { command, code } => write!(f, "`{command}`: +CME ERROR: {code}"),
            Error::CmeText { command, text } => write!(f, "`{command}`: +CME ERROR: {text}"),
            Error::SendFail => write!(f, "SEND FAIL: the module's send buffer is full"),
            Error::NoCarrier => write!(f, "NO CARRIER"),
            Error::Decode { line, error } => write!(f, "`{line}`: {error}"),
            Error::Payload(why) => write!(f, "payload: {why}"),
            Error::Refused(r) => write!(f, "{r}"),
        }
    }
}

impl<E: core::error::Error + 'static> core::error::Error for Error<E> {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            #[cfg(feature = "std")]
            Error::Decode { error, .. } => Some(error),
            Error::Refused(r) => Some(r),
            _ => None,
        }
    }
}

impl<E> From<Refused> for Error<E> {
    fn from(r: Refused) -> Self {
        match r {
            Refused::Payload(why) => Error::Payload(why),
            other => Error::Refused(other),
        }
    }
}

#[cfg(feature = "std")]
impl From<std::io::Error> for Error<std::io::Error> {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}
