//! What the module says that no command is waiting for: the URC
//! subscriber's events. Every line ends up somewhere, so a line that is not
//! a URC reaches the subscriber too.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::command::InfoLine;
use crate::generated::urcs::Urc;
use crate::wire::DecodeError;

/// Something the module said that no exchange claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// A URC of the catalogue, with its data block when it carries one.
    Urc(Urc),
    /// A line that starts like a URC (or like a command's information
    /// line) but does not decode, with the data block it announced when that
    /// was framed anyway.
    Undecodable {
        /// The line (bytes that are not UTF-8 shown as U+FFFD).
        line: String,
        /// Why it does not decode.
        error: DecodeError,
        /// The data block its length field announced.
        data: Option<Vec<u8>>,
    },
    /// A line that is neither a URC nor part of an answer: a late answer
    /// after a time-out, a final result no command waits for, garbage.
    Unknown(String),
    /// A line a command's response prints after the command completed
    /// (QBLESCAN results): [`InfoLine::get`] it as the form's line type.
    Line(InfoLine),
    /// A line longer than the engine's limit: its bytes were dropped.
    Overflow {
        /// How many bytes were dropped when it was noticed.
        discarded: usize,
    },
    /// A data block no exchange was waiting for.
    Data(Vec<u8>),
}

impl Notice {
    /// The URC, if this is one.
    pub fn urc(&self) -> Option<&Urc> {
        match self {
            Notice::Urc(u) => Some(u),
            _ => None,
        }
    }

    /// The URC by value, if this is one.
    pub fn into_urc(self) -> Option<Urc> {
        match self {
            Notice::Urc(u) => Some(u),
            _ => None,
        }
    }
}

impl fmt::Display for Notice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Notice::Urc(u) => f.write_str(&String::from_utf8_lossy(&u.render_bytes())),
            Notice::Undecodable { line, error, .. } => {
                write!(f, "`{line}` does not decode: {error}")
            }
            Notice::Unknown(line) => write!(f, "unexpected line `{line}`"),
            Notice::Line(l) => write!(
                f,
                "late information line `{}`",
                String::from_utf8_lossy(&l.render())
            ),
            Notice::Overflow { discarded } => {
                write!(f, "a line too long to keep ({discarded} bytes dropped)")
            }
            Notice::Data(d) => write!(f, "a data block of {} bytes no command waited for", d.len()),
        }
    }
}
