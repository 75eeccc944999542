//! Writing and reading the fields of one line. The generated bindings call
//! these helpers; the rules of the manual's line format live here once.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::{self, Write as _};

use crate::value::ValueError;

/// Builds one line field by field, putting the commas between fields.
#[derive(Debug, Default)]
pub struct LineWriter {
    line: String,
    fields: usize,
}

impl LineWriter {
    /// A line that starts with `prefix` (`AT+QIOPEN=`, `+QIOPEN: `).
    pub fn new(prefix: &str) -> Self {
        LineWriter {
            line: prefix.to_string(),
            fields: 0,
        }
    }

    /// Starts a field: a comma unless it is the first.
    pub fn field(&mut self) -> &mut Self {
        if self.fields > 0 {
            self.line.push(',');
        }
        self.fields += 1;
        self
    }

    /// Appends text as it is (literals, the `=` of `AT+QX[=…]`).
    pub fn raw(&mut self, s: &str) -> &mut Self {
        self.line.push_str(s);
        self
    }

    /// Appends a decimal integer.
    pub fn int(&mut self, v: i64) -> &mut Self {
        let _ = write!(self.line, "{v}");
        self
    }

    /// Appends a hex integer with at least `width` upper-case digits, with `0x` when `prefix`.
    pub fn hex(&mut self, v: i64, prefix: bool, width: usize) -> &mut Self {
        if prefix {
            self.line.push_str("0x");
        }
        let _ = write!(self.line, "{v:0width$X}");
        self
    }

    /// Appends a string in double quotes (the value was checked when it was built).
    pub fn quoted(&mut self, s: &str) -> &mut Self {
        self.line.push('"');
        self.line.push_str(s);
        self.line.push('"');
        self
    }

    /// Appends anything displayable, unquoted.
    pub fn display(&mut self, v: &dyn fmt::Display) -> &mut Self {
        let _ = write!(self.line, "{v}");
        self
    }

    /// Appends anything displayable, in double quotes.
    pub fn quoted_display(&mut self, v: &dyn fmt::Display) -> &mut Self {
        let _ = write!(self.line, "\"{v}\"");
        self
    }

    /// The finished line (without line ending).
    pub fn finish(self) -> String {
        self.line
    }
}

/// Why a line could not be read as the expected type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The line does not have the shape of this template.
    NoMatch {
        /// What was expected (the template's grammar rule).
        expected: &'static str,
        /// Where the match failed (byte offset), when known.
        at: Option<usize>,
    },
    /// A field is missing.
    Missing {
        /// The parameter.
        field: &'static str,
    },
    /// A field's value is not allowed.
    Value {
        /// The parameter.
        field: &'static str,
        /// Why.
        error: ValueError,
    },
}

impl DecodeError {
    /// A bad value in `field`.
    pub fn value(field: &'static str, error: ValueError) -> Self {
        DecodeError::Value { field, error }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::NoMatch {
                expected,
                at: Some(at),
            } => {
                write!(f, "the line does not match {expected} (from byte {at})")
            }
            DecodeError::NoMatch { expected, at: None } => {
                write!(f, "the line does not match {expected}")
            }
            DecodeError::Missing { field } => write!(f, "<{field}> is missing"),
            DecodeError::Value { field, error } => write!(f, "<{field}>: {error}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DecodeError {}

/// A required captured field.
pub fn req<'a>(v: Option<&'a str>, field: &'static str) -> Result<&'a str, DecodeError> {
    v.ok_or(DecodeError::Missing { field })
}

/// The text between the double quotes of a quoted field, or the field itself.
pub fn unquote(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(s)
}

/// Checks a received string's byte length.
pub fn check_len(s: &str, min: usize, max: usize) -> Result<(), ValueError> {
    if s.len() < min || s.len() > max {
        return Err(ValueError::BadLength {
            len: s.len(),
            min,
            max,
        });
    }
    Ok(())
}

/// A received string, checked against its length limits.
pub fn text(s: &str, min: usize, max: usize) -> Result<String, ValueError> {
    let s = unquote(s);
    check_len(s, min, max)?;
    Ok(s.to_string())
}

/// The length a line announces for the data block after it: a decimal count
/// of bytes, at most `max` (the catalogue's largest block).
pub fn announced(s: &str, max: usize) -> Result<usize, ValueError> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ValueError::Malformed {
            expected: "a byte count",
        });
    }
    let big = || ValueError::OutOfRange {
        value: s.parse::<i64>().unwrap_or(i64::MAX),
        min: 0,
        max: i64::try_from(max).unwrap_or(i64::MAX),
    };
    match s.parse::<usize>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(big()),
    }
}

/// The captures of a parsed line, in order: (rule, text).
pub type Captures<'a, R> = Vec<(R, &'a str)>;
