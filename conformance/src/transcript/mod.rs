//! Captured UART logs: `transcript check FILE` validates a log (both
//! directions, in the formats serial terminals write, with or without
//! timestamps) against the catalogue and reports each deviation with its
//! line number; `transcript replay FILE --target …` sends the host side of a
//! log to a target and compares the answers with the log's.
//!
//! - [`parse`] reads the log formats ([`parse::parse`] detects them);
//! - [`check`] walks the exchange and reports deviations;
//! - [`replay`] replays the host's lines and compares.
//!
//! ```
//! use fcm242d_conformance::transcript;
//!
//! let log = b"> AT+QVERSION\n< +QVERSION: FCM242DAAR01A05\n< OK\n";
//! let report = transcript::check_bytes("example.log", log).unwrap();
//! assert!(report.is_clean(), "{}", report.render());
//! ```

mod catalogue;
pub mod check;
pub mod parse;
pub mod replay;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use fcm242d::transport::Transport;

pub use catalogue::{Form, Prompt};
pub use check::{CheckReport, Deviation};
pub use parse::{Format, ParseError, Transcript};
pub use replay::{ReplayOptions, ReplayReport};

/// Why a log could not be checked or replayed.
#[derive(Debug)]
pub enum Error {
    /// The file could not be read.
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The file is not a log this tool reads.
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        source: ParseError,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Read { path, source } => write!(f, "{}: {source}", path.display()),
            Error::Parse { path, source } => write!(f, "{}: {source}", path.display()),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Read { source, .. } => Some(source),
            Error::Parse { source, .. } => Some(source),
        }
    }
}

/// Reads and parses a log file (format detected).
pub fn read_file(path: &Path) -> Result<Transcript, Error> {
    let len = std::fs::metadata(path)
        .map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    // Refuse before reading a huge file into memory.
    if len > parse::MAX_LOG_BYTES as u64 {
        return Err(Error::Parse {
            path: path.to_path_buf(),
            source: ParseError::TooLarge {
                len: usize::try_from(len).unwrap_or(usize::MAX),
            },
        });
    }
    let bytes = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse::parse(&bytes).map_err(|source| Error::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// Checks a log file against the catalogue.
pub fn check_file(path: impl AsRef<Path>) -> Result<CheckReport, Error> {
    let path = path.as_ref();
    let t = read_file(path)?;
    Ok(CheckReport::new(&path.display().to_string(), &t))
}

/// Checks a log given as bytes; `source` names it in the report.
pub fn check_bytes(source: &str, bytes: &[u8]) -> Result<CheckReport, Error> {
    let t = parse::parse(bytes).map_err(|e| Error::Parse {
        path: PathBuf::from(source),
        source: e,
    })?;
    Ok(CheckReport::new(source, &t))
}

/// Replays the host side of a log file to `link` and compares the answers.
pub fn replay_file(
    path: impl AsRef<Path>,
    link: &mut dyn Transport,
    options: ReplayOptions,
) -> Result<ReplayReport, Error> {
    let path = path.as_ref();
    let t = read_file(path)?;
    Ok(replay::replay(
        &path.display().to_string(),
        &t,
        link,
        &options,
    ))
}
