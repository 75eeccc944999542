//! The JSON results: the serde form of [`RunReport`] (firmware version,
//! target, every case's outcome with the exchanged lines of the failing
//! ones), pretty-printed. `diff` reads two of these back.

use std::fmt;

use crate::outcome::RunReport;

/// The run as pretty-printed JSON.
pub fn write(report: &RunReport) -> String {
    match serde_json::to_string_pretty(report) {
        Ok(text) => text,
        // The report holds only strings, integers, vectors and enums, which
        // serde_json always serializes; this arm exists only so that no input
        // can make the writer panic.
        Err(err) => format!("{{\"error\": {:?}}}", err.to_string()),
    }
}

/// Why a text is not a run report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    /// The text is empty (or only white space).
    Empty,
    /// The text is not JSON.
    NotJson {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What the JSON parser found.
        message: String,
    },
    /// The text is JSON, but not the JSON of a run report (a field missing,
    /// of the wrong type, or the top level not an object).
    NotAReport {
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column of the problem.
        column: usize,
        /// What does not fit.
        message: String,
    },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Empty => write!(
                f,
                "the file is empty; expected the JSON report of a conformance run"
            ),
            ReadError::NotJson {
                line,
                column,
                message,
            } => write!(
                f,
                "not JSON (line {line}, column {column}: {message}); expected the JSON report of a conformance run"
            ),
            ReadError::NotAReport {
                line,
                column,
                message,
            } => write!(
                f,
                "JSON, but not a conformance run report (line {line}, column {column}: {message})"
            ),
        }
    }
}

impl std::error::Error for ReadError {}

/// Reads a report written by [`write`](fn@write).
pub fn read(text: &str) -> Result<RunReport, ReadError> {
    if text.trim().is_empty() {
        return Err(ReadError::Empty);
    }
    serde_json::from_str(text).map_err(|err| {
        // serde_json appends " at line L column C" to its messages; the
        // position is given separately here.
        let full = err.to_string();
        let message = match full.rfind(" at line ") {
            Some(at) => full[..at].to_string(),
            None => full,
        };
        let (line, column) = (err.line(), err.column());
        match err.classify() {
            serde_json::error::Category::Data => ReadError::NotAReport {
                line,
                column,
                message,
            },
            serde_json::error::Category::Io
            | serde_json::error::Category::Syntax
            | serde_json::error::Category::Eof => ReadError::NotJson {
                line,
                column,
                message,
            },
        }
    })
}
