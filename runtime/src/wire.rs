//! Writing and reading the fields of one line. The generated bindings call
//! these helpers; the rules of the manual's line format live here once.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::value::ValueError;

/// Builds one line field by field, putting the commas between fields, into
/// a `String` ([`LineWriter::new`]) or into a caller's buffer without
/// allocating ([`LineWriter::into_slice`]).
#[derive(Debug, Default)]
pub struct LineWriter<W = String> {
    line: W,
    fields: usize,
    /// The output refused a write (a caller's buffer is full).
    full: bool,
    /// Text written before the next non-empty text (see `before_next`).
    pending: &'static str,
}

impl LineWriter<String> {
    /// A line that starts with `prefix` (`AT+QIOPEN=`, `+QIOPEN: `).
    pub fn new(prefix: &str) -> Self {
        LineWriter {
            line: prefix.to_string(),
            fields: 0,
            full: false,
            pending: "",
        }
    }

    /// The finished line (without line ending).
    pub fn finish(self) -> String {
        self.line
    }
}

impl<'a> LineWriter<SliceOut<'a>> {
    /// A line that starts with `prefix`, written into `buf`.
    pub fn into_slice(buf: &'a mut [u8], prefix: &str) -> Self {
        let mut w = LineWriter {
            line: SliceOut { buf, len: 0 },
            fields: 0,
            full: false,
            pending: "",
        };
        w.raw(prefix);
        w
    }

    /// How many bytes of the buffer the line took, or [`BufferFull`].
    pub fn finish_len(self) -> Result<usize, BufferFull> {
        if self.full {
            Err(BufferFull)
        } else {
            Ok(self.line.len)
        }
    }
}

/// Where a [`LineWriter`] writes: a `String`, or a caller's buffer ([`SliceOut`]).
pub trait LineOut: fmt::Write {
    /// Appends ASCII bytes (the digits of a number) without checking them
    /// as UTF-8 first, which would cost more than writing them.
    fn write_ascii(&mut self, ascii: &[u8]) -> fmt::Result {
        ascii
            .iter()
            .try_for_each(|&b| self.write_char(char::from(b)))
    }
}

impl LineOut for String {
    fn write_ascii(&mut self, ascii: &[u8]) -> fmt::Result {
        self.extend(ascii.iter().map(|&b| char::from(b)));
        Ok(())
    }
}

impl LineOut for SliceOut<'_> {
    fn write_ascii(&mut self, ascii: &[u8]) -> fmt::Result {
        let end = self.len.checked_add(ascii.len()).ok_or(fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(ascii);
        self.len = end;
        Ok(())
    }
}

impl<W: LineOut> LineWriter<W> {
    /// `text` goes out before the next non-empty text, if any comes (the
    /// `=` of `AT+QX[=<a>]`, written only with arguments); `""` drops it.
    pub fn before_next(&mut self, text: &'static str) {
        self.pending = text;
    }

    fn flush_pending(&mut self) {
        let p = core::mem::take(&mut self.pending);
        if !p.is_empty() && self.line.write_str(p).is_err() {
            self.full = true;
        }
    }

    fn put(&mut self, s: &str) {
        if !s.is_empty() {
            self.flush_pending();
        }
        if self.line.write_str(s).is_err() {
            self.full = true;
        }
    }

    fn put_fmt(&mut self, args: fmt::Arguments<'_>) {
        // Numbers and displayed values are never empty.
        self.flush_pending();
        if self.line.write_fmt(args).is_err() {
            self.full = true;
        }
    }

    /// Starts a field: a comma unless it is the first.
    pub fn field(&mut self) -> &mut Self {
        if self.fields > 0 {
            self.put(",");
        }
        self.fields += 1;
        self
    }

    /// Appends text as it is (literals, the `=` of `AT+QX[=…]`).
    pub fn raw(&mut self, s: &str) -> &mut Self {
        self.put(s);
        self
    }

    /// Appends a decimal integer (written digit by digit: the formatting
    /// machinery costs more than the number, and every command has some).
    pub fn int(&mut self, v: i64) -> &mut Self {
        let mut digits = [0u8; 20];
        let text = decimal(v, &mut digits);
        // A number is never empty: what `before_next` held goes out first.
        self.flush_pending();
        if self.line.write_ascii(text).is_err() {
            self.full = true;
        }
        self
    }

    /// Appends a hex integer with at least `width` upper-case digits, with `0x` when `prefix`.
    pub fn hex(&mut self, v: i64, prefix: bool, width: usize) -> &mut Self {
        if prefix {
            self.put("0x");
        }
        self.put_fmt(format_args!("{v:0width$X}"));
        self
    }

    /// Appends a string in double quotes (the value was checked when it was built).
    pub fn quoted(&mut self, s: &str) -> &mut Self {
        self.put("\"");
        self.put(s);
        self.put("\"");
        self
    }

    /// Appends an IPv4 address in dotted-decimal form, unquoted (without
    /// `core::fmt`, which costs more than the rest of a command line).
    pub fn ipv4(&mut self, v: &core::net::Ipv4Addr) -> &mut Self {
        for (i, octet) in v.octets().into_iter().enumerate() {
            if i > 0 {
                self.put(".");
            }
            self.int(i64::from(octet));
        }
        self
    }

    /// Appends an IPv4 address in dotted-decimal form, in double quotes.
    pub fn quoted_ipv4(&mut self, v: &core::net::Ipv4Addr) -> &mut Self {
        self.put("\"");
        self.ipv4(v);
        self.put("\"");
        self
    }

    /// Appends anything displayable, unquoted.
    pub fn display(&mut self, v: &dyn fmt::Display) -> &mut Self {
        self.put_fmt(format_args!("{v}"));
        self
    }

    /// Appends anything displayable, in double quotes.
    pub fn quoted_display(&mut self, v: &dyn fmt::Display) -> &mut Self {
        self.put_fmt(format_args!("\"{v}\""));
        self
    }
}

/// `v` in decimal (ASCII digits and maybe a `-`), written at the end of
/// `buf` (`i64::MIN` has 19 digits and a sign: 20 bytes).
fn decimal(v: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut n = v.unsigned_abs();
    let mut at = buf.len();
    loop {
        at -= 1;
        // `n % 10` is below 10: the cast cannot truncate.
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    buf.get(at..).unwrap_or_default()
}

/// A caller's buffer as the output of a [`LineWriter`]: bytes go in from
/// the front; a write that does not fit is refused whole.
#[derive(Debug)]
pub struct SliceOut<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl fmt::Write for SliceOut<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(fmt::Error)?;
        let dst = self.buf.get_mut(self.len..end).ok_or(fmt::Error)?;
        dst.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// The caller's buffer is too small for the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferFull;

impl fmt::Display for BufferFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the buffer is too small for the line")
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

/// Where a payload printed inside a line sits, and how long it is, when a
/// length field of the same line frames it:
/// `<prefix><field>,…,<field>,[<length>,]<payload>` with the payload last,
/// in double quotes or not (`+QMTRECV: 0,1,"topic",5,"a\r\nbc"`). The
/// payload is the `<length>` bytes after the comma (after the opening quote
/// when there is one), whatever they are: CR, LF, quotes, `OK`, binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InlineFraming {
    /// What the line starts with (`+QMTRECV: `).
    pub prefix: &'static str,
    /// How many fields come before the length field.
    pub before: usize,
    /// Whether the length field may be left out (`[,<payload_length>]`);
    /// the payload is then delimited by its quotes or the line's end.
    pub length_optional: bool,
    /// The largest payload the catalogue allows.
    pub max: usize,
    /// Whether the catalogue writes the payload in double quotes.
    pub quoted: bool,
}

/// A line split around its framed payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framed<'a> {
    /// The line up to its payload field: what the template's matcher reads
    /// (the payload's token, `framed`, matches the empty rest as it matches
    /// the payload itself), so nothing is copied.
    pub head: &'a str,
    /// The payload's bytes.
    pub payload: &'a [u8],
}

/// Where the payload field of a (possibly partial) line starts.
struct Located {
    /// Index of the payload field (its opening quote, if any).
    field: usize,
    /// Index of the payload's first byte.
    start: usize,
    /// The announced length, when the line has the length field.
    length: Option<usize>,
}

impl InlineFraming {
    fn locate(&self, line: &[u8]) -> Option<Located> {
        let mut i = line
            .strip_prefix(self.prefix.as_bytes())
            .map(|_| self.prefix.len())?;
        for _ in 0..self.before {
            let rest = line.get(i..)?;
            // The fields before the payload are short (client and message
            // ids, a topic): a plain search costs less than `memchr`'s
            // set-up for each.
            if rest.first() == Some(&b'"') {
                // A quoted field (a topic) may hold commas.
                let close = rest.get(1..)?.iter().position(|&b| b == b'"')?;
                i += close + 2;
            } else {
                i += rest.iter().position(|&b| b == b',')?;
            }
            if line.get(i) != Some(&b',') {
                return None;
            }
            i += 1;
        }
        let rest = line.get(i..)?;
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let length = if digits > 0 && rest.get(digits) == Some(&b',') {
            // Digits only: read without `str::parse`; a count too large
            // for a `usize` reads as `usize::MAX`, which no maximum allows.
            let n = rest.get(..digits)?.iter().try_fold(0usize, |n, d| {
                n.checked_mul(10)?.checked_add(usize::from(d - b'0'))
            });
            i += digits + 1;
            Some(n.unwrap_or(usize::MAX))
        } else if self.length_optional {
            None
        } else {
            return None;
        };
        let start = if line.get(i) == Some(&b'"') { i + 1 } else { i };
        Some(Located {
            field: i,
            start,
            length,
        })
    }

    /// For a line not yet ended that has met a CR or LF (`partial` is the
    /// line so far): how many more bytes, counting that CR or LF, belong to
    /// the payload. `None` when the line announces no length (or one beyond
    /// [`max`](InlineFraming::max)), or the payload is complete. A payload
    /// field that starts with a quote is read as quoted (an unquoted payload
    /// that starts with a quote then takes the line's CR along, which
    /// [`split`](InlineFraming::split) gives back).
    pub fn remaining(&self, partial: &[u8]) -> Option<usize> {
        let at = self.locate(partial)?;
        let length = at.length.filter(|n| *n <= self.max)?;
        let have = partial.len().saturating_sub(at.start);
        (have < length).then(|| length - have)
    }

    /// Splits a whole line (without its line ending) around its payload.
    /// With a length, the payload is that many bytes, quoted or not; a
    /// payload that does not have the announced length (a hex-format
    /// payload prints two digits a byte) is the text between the quotes, or
    /// the rest of the line.
    pub fn split<'a>(&self, line: &'a [u8]) -> Result<Framed<'a>, DecodeError> {
        let at = self.locate(line).ok_or(DecodeError::NoMatch {
            expected: self.prefix,
            at: None,
        })?;
        let rest = line.get(at.field..).unwrap_or_default();
        let quoted = rest.len() >= 2 && rest.first() == Some(&b'"') && rest.last() == Some(&b'"');
        let payload = match at.length {
            Some(n) if quoted && rest.len() == n.saturating_add(2) => &rest[1..=n],
            Some(n) if rest.len() == n => rest,
            // An unquoted payload that starts with a quote: `remaining`
            // took the line's CR for the closing quote.
            Some(n) if rest.len() == n.saturating_add(1) && rest.last() == Some(&b'\r') => {
                &rest[..n]
            }
            _ if quoted => &rest[1..rest.len() - 1],
            // An opening quote without its closing one: the line was cut
            // (a CR or LF in a payload no length frames).
            _ if rest.first() == Some(&b'"') => {
                return Err(DecodeError::NoMatch {
                    expected: "a payload in double quotes",
                    at: Some(at.field),
                })
            }
            _ => rest,
        };
        let head = line.get(..at.field).unwrap_or_default();
        let head = core::str::from_utf8(head).map_err(|_| crate::command::not_text(line))?;
        Ok(Framed { head, payload })
    }

    /// A rendered line whose payload was written as `""` (or nothing, when
    /// unquoted), with the payload put in.
    pub fn splice(&self, head: String, payload: &[u8]) -> Vec<u8> {
        let mut out = head.into_bytes();
        if self.quoted {
            out.pop();
            out.extend_from_slice(payload);
            out.push(b'"');
        } else {
            out.extend_from_slice(payload);
        }
        out
    }
}
