//! Getting back in step with the module after a time-out: whatever the
//! module still says about the command that ran out must not answer the
//! next one.
//!
//! The session sends a probe, a command whose answer has an information
//! line no other command prints, and reads until that line and the `OK`
//! after it: everything before is a late answer (reported as notices), and
//! the module is idle after it. A bare `AT` would not do: a late `OK` of the
//! command that ran out would be taken for the probe's, and the probe's own
//! `OK` would then answer the next command.

use crate::engine::Engine;
use crate::generated::commands::{qversion, qwlmac};

/// The probe command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Probe {
    /// `AT+QVERSION` → `+QVERSION: <version>`, `OK`.
    Version,
    /// `AT+QWLMAC` → `+QWLMAC: <MAC>`, `OK` (when the command that ran out
    /// was `AT+QVERSION` itself, whose late line would look like the probe's).
    Mac,
}

impl Probe {
    /// The probe to send after `timed_out` (a command name) ran out.
    pub(crate) fn after(timed_out: Option<&str>) -> Self {
        match timed_out {
            Some(name) if name.eq_ignore_ascii_case("AT+QVERSION") => Probe::Mac,
            _ => Probe::Version,
        }
    }

    /// Tells the engine about the probe; returns its bytes (lent by the
    /// engine).
    pub(crate) fn start(self, engine: &mut Engine) -> &[u8] {
        match self {
            Probe::Version => engine.command(&qversion::Execute {}),
            Probe::Mac => engine.command(&qwlmac::Execute {}),
        }
    }
}

/// Where a resynchronisation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// `+++` was sent to leave transparent mode; waiting for its `OK`.
    Escaping,
    /// The probe was sent; `seen_line` once its information line came.
    Probing { seen_line: bool },
}

/// A resynchronisation in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Resync {
    pub(crate) probe: Probe,
    pub(crate) stage: Stage,
    pub(crate) started: u64,
    pub(crate) deadline: u64,
}
