//! Parameter value types: every value that reaches the wire was checked
//! against the catalogue's range, length and character rules when it was
//! built, so an out-of-range value or a string that could smuggle a second
//! command cannot be sent.

use alloc::borrow::Cow;
use alloc::string::{String, ToString};
use core::fmt;

/// Why a value was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValueError {
    /// An integer outside its range.
    OutOfRange {
        /// The value given.
        value: i64,
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
    },
    /// A string whose byte length is outside its limits.
    BadLength {
        /// The length given.
        len: usize,
        /// Fewest bytes allowed.
        min: usize,
        /// Most bytes allowed.
        max: usize,
    },
    /// A byte the module cannot carry in this position (CR, LF, `"`, NUL, other
    /// control bytes; `,` in an unquoted value): it could end the command line
    /// or start another field, so it is refused rather than escaped.
    ForbiddenByte {
        /// The byte.
        byte: u8,
        /// Its position in the value.
        at: usize,
    },
    /// A character that is not a hex digit where only hex digits are allowed.
    NotHex {
        /// Its position in the value.
        at: usize,
    },
    /// Text that does not have the required shape (IPv4 address, number, ...).
    Malformed {
        /// What was expected.
        expected: &'static str,
    },
    /// A wire value that is not one of an enumeration's values.
    UnknownValue {
        /// The enumeration.
        of: &'static str,
    },
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueError::OutOfRange { value, min, max } => {
                write!(f, "{value} is outside the range {min}..={max}")
            }
            ValueError::BadLength { len, min, max } if *max == UNBOUNDED => {
                write!(f, "length {len} bytes is below the minimum of {min}")
            }
            ValueError::BadLength { len, min, max } => {
                write!(f, "length {len} bytes is outside {min}..={max}")
            }
            // A printable byte is shown as itself, which is how the user typed it.
            ValueError::ForbiddenByte { byte, at } if byte.is_ascii_graphic() => write!(
                f,
                "'{}' (byte 0x{byte:02X}) at {at} cannot be sent in this field",
                char::from(*byte)
            ),
            ValueError::ForbiddenByte { byte, at } => {
                write!(f, "byte 0x{byte:02X} at {at} cannot be sent in this field")
            }
            ValueError::NotHex { at } => write!(f, "character at {at} is not a hex digit"),
            ValueError::Malformed { expected } => write!(f, "expected {expected}"),
            ValueError::UnknownValue { of } => write!(f, "not a value of {of}"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ValueError {}

/// An integer bounded to `MIN..=MAX` by the catalogue.
///
/// ```
/// use fcm242d::value::Int;
/// type ConnectId = Int<0, 11>;
/// assert!(ConnectId::new(11).is_ok());
/// assert!(ConnectId::new(12).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize), serde(transparent))]
pub struct Int<const MIN: i64, const MAX: i64>(i64);

impl<const MIN: i64, const MAX: i64> Int<MIN, MAX> {
    /// Smallest allowed value.
    pub const MIN: i64 = MIN;
    /// Largest allowed value.
    pub const MAX: i64 = MAX;

    /// The value, if it lies in the range.
    pub fn new(value: i64) -> Result<Self, ValueError> {
        if (MIN..=MAX).contains(&value) {
            Ok(Int(value))
        } else {
            Err(ValueError::OutOfRange {
                value,
                min: MIN,
                max: MAX,
            })
        }
    }

    /// The number.
    pub fn get(self) -> i64 {
        self.0
    }

    /// A literal value, checked when the program is compiled: no `Result`
    /// to handle. The range comes from the field's type.
    ///
    /// ```
    /// use fcm242d::value::Int;
    /// let port: Int<1, 65535> = Int::lit::<8009>();
    /// assert_eq!(port.get(), 8009);
    /// const SOCKET: Int<0, 11> = Int::lit::<1>();
    /// assert_eq!(SOCKET.get(), 1);
    /// ```
    ///
    /// A value out of range does not compile:
    ///
    /// ```compile_fail
    /// use fcm242d::value::Int;
    /// let socket: Int<0, 11> = Int::lit::<12>();
    /// ```
    pub const fn lit<const V: i64>() -> Self {
        const {
            assert!(
                V >= MIN && V <= MAX,
                "the literal is out of the field's range"
            );
        }
        Int(V)
    }
}

impl<const MIN: i64, const MAX: i64> fmt::Display for Int<MIN, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<const MIN: i64, const MAX: i64> TryFrom<i64> for Int<MIN, MAX> {
    type Error = ValueError;
    fn try_from(v: i64) -> Result<Self, ValueError> {
        Self::new(v)
    }
}

/// Reads a decimal integer and checks its range (`"8009".parse::<Int<0, 65535>>()`).
impl<const MIN: i64, const MAX: i64> core::str::FromStr for Int<MIN, MAX> {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        parse_int(s).and_then(Self::new)
    }
}

/// Checks the bytes of a string field: `quoted` fields may not contain CR, LF,
/// `"`, NUL or other control bytes; unquoted ones may not contain `,` either.
fn check_bytes(s: &str, quoted: bool) -> Result<(), ValueError> {
    for (at, &byte) in s.as_bytes().iter().enumerate() {
        let control = byte < 0x20 || byte == 0x7F;
        if control || byte == b'"' || (!quoted && byte == b',') {
            return Err(ValueError::ForbiddenByte { byte, at });
        }
    }
    Ok(())
}

/// Why a literal text is refused, in a `const fn` (the checks of
/// [`check_len`] and [`check_bytes`], which a `const fn` cannot call): the
/// message of the compile-time error.
const fn literal_fault(s: &str, min: usize, max: usize, quoted: bool) -> Option<&'static str> {
    let bytes = s.as_bytes();
    if bytes.len() < min {
        return Some("the literal text is shorter than the field allows");
    }
    if bytes.len() > max {
        return Some("the literal text is longer than the field allows");
    }
    let mut at = 0;
    while at < bytes.len() {
        let byte = bytes[at];
        if byte < 0x20 || byte == 0x7F || byte == b'"' || (!quoted && byte == b',') {
            return Some("the literal text holds a byte the field refuses (a control byte, `\"`, or `,` unquoted)");
        }
        at += 1;
    }
    None
}

fn check_len(s: &str, min: usize, max: usize) -> Result<(), ValueError> {
    let len = s.len();
    if len < min || len > max {
        return Err(ValueError::BadLength { len, min, max });
    }
    Ok(())
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, quoted = $quoted:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize), serde(transparent))]
        // A literal borrows its `&'static str` (so that a `const` can hold
        // one); text built at run time owns its bytes.
        pub struct $name<const MIN: usize, const MAX: usize>(Cow<'static, str>);

        impl<const MIN: usize, const MAX: usize> $name<MIN, MAX> {
            /// Fewest bytes allowed.
            pub const MIN_LEN: usize = MIN;
            /// Most bytes allowed.
            pub const MAX_LEN: usize = MAX;

            /// The text, if its length and bytes are allowed.
            pub fn new(s: impl Into<String>) -> Result<Self, ValueError> {
                let s = s.into();
                check_len(&s, MIN, MAX)?;
                check_bytes(&s, $quoted)?;
                Ok($name(Cow::Owned(s)))
            }

            /// A literal text, checked when it is built in a constant
            /// context (a `const` item, or a `const { … }` block): a text of
            /// the wrong length or with a byte the field refuses does not
            /// compile, and nothing is allocated. Outside a constant
            /// context the same check panics; text that comes from outside
            /// the program goes through [`Self::new`].
            pub const fn lit(s: &'static str) -> Self {
                if let Some(fault) = literal_fault(s, MIN, MAX, $quoted) {
                    panic!("{}", fault);
                }
                $name(Cow::Borrowed(s))
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl<const MIN: usize, const MAX: usize> fmt::Display for $name<MIN, MAX> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl<const MIN: usize, const MAX: usize> TryFrom<&str> for $name<MIN, MAX> {
            type Error = ValueError;
            fn try_from(s: &str) -> Result<Self, ValueError> {
                Self::new(s)
            }
        }
    };
}

text_type!(
    /// A string written in double quotes, `MIN..=MAX` bytes long. CR, LF, `"`,
    /// NUL and other control bytes are refused: the module has no escape for them.
    ///
    /// ```
    /// use fcm242d::value::Text;
    /// assert!(Text::<1, 32>::new("my-ssid").is_ok());
    /// assert!(Text::<1, 32>::new("x\"\r\nAT+QRST").is_err());
    /// ```
    ///
    /// A literal is checked at compile time with [`Text::lit`] in a
    /// constant context:
    ///
    /// ```
    /// use fcm242d::value::Text;
    /// const SSID: Text<1, 32> = Text::lit("my-ssid");
    /// let key: Text<8, 64> = const { Text::lit("sim-password") };
    /// assert_eq!((SSID.as_str(), key.as_str()), ("my-ssid", "sim-password"));
    /// ```
    ///
    /// A literal too long for its field does not compile:
    ///
    /// ```compile_fail
    /// use fcm242d::value::Text;
    /// const SSID: Text<1, 4> = Text::lit("my-ssid");
    /// ```
    ///
    /// nor does one that could end the quoted field:
    ///
    /// ```compile_fail
    /// use fcm242d::value::Text;
    /// const SSID: Text<1, 32> = Text::lit("x\"\r\nAT+QRST");
    /// ```
    Text,
    quoted = true
);

text_type!(
    /// A string written without quotes, `MIN..=MAX` bytes long. Besides the
    /// bytes [`Text`] refuses, `,` is refused: it would start another field.
    Bare,
    quoted = false
);

/// The largest length the catalogue leaves open.
pub const UNBOUNDED: usize = usize::MAX;

/// A string of hex digits, `MIN..=MAX` characters long (e.g. advertising data).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize), serde(transparent))]
pub struct HexText<const MIN: usize, const MAX: usize>(String);

impl<const MIN: usize, const MAX: usize> HexText<MIN, MAX> {
    /// The text, if it is all hex digits and its length is allowed.
    pub fn new(s: impl Into<String>) -> Result<Self, ValueError> {
        let s = s.into();
        check_len(&s, MIN, MAX)?;
        if let Some(at) = s.bytes().position(|b| !b.is_ascii_hexdigit()) {
            return Err(ValueError::NotHex { at });
        }
        Ok(HexText(s))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A 48-bit MAC or BLE device address written as 12 hex digits (`90395E8A70D1`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize), serde(transparent))]
pub struct HexAddr(String);

impl HexAddr {
    /// The address, if it is exactly 12 hex digits.
    pub fn new(s: impl Into<String>) -> Result<Self, ValueError> {
        let s = s.into();
        check_len(&s, 12, 12)?;
        if let Some(at) = s.bytes().position(|b| !b.is_ascii_hexdigit()) {
            return Err(ValueError::NotHex { at });
        }
        Ok(HexAddr(s))
    }

    /// The 12 hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A BLE UUID: 4 hex digits (16-bit) or 32 hex digits (128-bit).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize), serde(transparent))]
pub struct Uuid(String);

impl Uuid {
    /// The UUID, if it is 4 or 32 hex digits.
    pub fn new(s: impl Into<String>) -> Result<Self, ValueError> {
        let s = s.into();
        if s.len() != 4 && s.len() != 32 {
            // Not a range: 4 or 32, nothing between.
            return Err(ValueError::Malformed {
                expected: "4 or 32 hex digits (a 16- or 128-bit UUID)",
            });
        }
        if let Some(at) = s.bytes().position(|b| !b.is_ascii_hexdigit()) {
            return Err(ValueError::NotHex { at });
        }
        Ok(Uuid(s))
    }

    /// The hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IP address or a domain name (quoted on the wire).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize), serde(transparent))]
pub struct Host(String);

impl Host {
    /// The host, if it is non-empty and has no byte the module cannot carry.
    pub fn new(s: impl Into<String>) -> Result<Self, ValueError> {
        let s = s.into();
        check_len(&s, 1, UNBOUNDED)?;
        check_bytes(&s, true)?;
        Ok(Host(s))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Parses a dotted-decimal IPv4 address.
pub fn parse_ipv4(s: &str) -> Result<core::net::Ipv4Addr, ValueError> {
    // Read directly: the standard parser costs more than the rest of a
    // `+QISTATE` line, and about 0.5 KiB of a firmware's `.text`.
    // `plain_ipv4` accepts exactly what `Ipv4Addr::from_str` accepts (the
    // property tests of `tests/numbers.rs` compare them).
    plain_ipv4(s.as_bytes()).ok_or(ValueError::Malformed {
        expected: "a dotted-decimal IPv4 address",
    })
}

/// The value of an integer a straight-line walk read
/// ([`Cursor::int`](crate::scan::Cursor::int)): `None` stands for one too
/// large for an `i64`, the same error as [`parse_int`]'s.
pub fn scanned_int(n: Option<i64>) -> Result<i64, ValueError> {
    n.ok_or(ValueError::Malformed {
        expected: "a decimal integer",
    })
}

/// The value of an IPv4 address a straight-line walk read
/// ([`Cursor::ipv4`](crate::scan::Cursor::ipv4)): `None` stands for text
/// [`parse_ipv4`] does not accept, with its error.
pub fn scanned_ipv4(n: Option<i64>) -> Result<core::net::Ipv4Addr, ValueError> {
    n.and_then(|n| u32::try_from(n).ok())
        .map(core::net::Ipv4Addr::from)
        .ok_or(ValueError::Malformed {
            expected: "a dotted-decimal IPv4 address",
        })
}

/// Parses a decimal integer (optionally negative).
pub fn parse_int(s: &str) -> Result<i64, ValueError> {
    // Nearly every field is plain digits: read them directly; anything else
    // (spaces, a `+`, 19 digits or more) goes through `str::parse`.
    if let Some(n) = plain_int(s.as_bytes()) {
        return Ok(n);
    }
    s.trim().parse().map_err(|_| ValueError::Malformed {
        expected: "a decimal integer",
    })
}

/// Four dot-separated octets of 1 to 3 digits, each at most 255, without a
/// leading zero, and nothing else: what `Ipv4Addr::from_str` accepts.
fn plain_ipv4(b: &[u8]) -> Option<core::net::Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut at = 0;
    for (k, octet) in octets.iter_mut().enumerate() {
        if k > 0 {
            if b.get(at) != Some(&b'.') {
                return None;
            }
            at += 1;
        }
        let start = at;
        let mut n: u16 = 0;
        while let Some(&d) = b.get(at).filter(|d| d.is_ascii_digit()) {
            if at - start == 3 {
                return None;
            }
            n = n * 10 + u16::from(d - b'0');
            at += 1;
        }
        let digits = at - start;
        if digits == 0 || (digits > 1 && b.get(start) == Some(&b'0')) {
            return None;
        }
        *octet = u8::try_from(n).ok()?;
    }
    (at == b.len()).then_some(core::net::Ipv4Addr::from(octets))
}

/// `-`? and 1 to 18 ASCII digits (never more than `i64` holds), else `None`.
fn plain_int(b: &[u8]) -> Option<i64> {
    let (negative, digits) = match b {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut n: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(d - b'0');
    }
    Some(if negative { -n } else { n })
}

/// Parses a hex integer with or without `0x`.
pub fn parse_hex(s: &str) -> Result<i64, ValueError> {
    let s = s.trim();
    let digits = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    i64::from_str_radix(digits, 16).map_err(|_| ValueError::Malformed {
        expected: "a hex integer",
    })
}

/// A value that shows as `***` in logs and reports (keys and passwords).
pub fn mask(secret: bool, value: &str) -> String {
    if secret {
        "***".to_string()
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ints_are_bounded() {
        assert_eq!(Int::<1, 3>::new(2).map(Int::get), Ok(2));
        assert!(matches!(
            Int::<1, 3>::new(4),
            Err(ValueError::OutOfRange {
                value: 4,
                min: 1,
                max: 3
            })
        ));
    }

    /// Literals built in constant contexts, checked by the compiler.
    const SSID: Text<1, 32> = Text::lit("sim-ap");
    const EMPTY: Text<0, 4> = Text::lit("");
    const BARE: Bare<1, 8> = Bare::lit("a b");

    #[test]
    fn literals_equal_the_checked_text() {
        assert_eq!(SSID, Text::<1, 32>::new("sim-ap").unwrap());
        assert_eq!(EMPTY.as_str(), "");
        assert_eq!(BARE.to_string(), "a b");
        let at_the_limit: Text<1, 2> = const { Text::lit("ü") };
        assert_eq!(at_the_limit, Text::<1, 2>::new("ü").unwrap());
    }

    #[test]
    fn literal_checks_agree_with_the_run_time_checks() {
        let samples = [
            "",
            "ok",
            "a,b",
            "a\"b",
            "a\rb",
            "a\x7Fb",
            "long text",
            "Grüße",
        ];
        for s in samples {
            for quoted in [true, false] {
                let run_time = check_len(s, 1, 8).and_then(|()| check_bytes(s, quoted));
                assert_eq!(
                    literal_fault(s, 1, 8, quoted).is_none(),
                    run_time.is_ok(),
                    "{s:?} quoted={quoted}"
                );
            }
        }
    }

    #[test]
    #[should_panic(expected = "longer than the field allows")]
    fn a_bad_literal_outside_a_constant_context_panics() {
        let text = String::from("too long for it");
        // Leaked only to get a `&'static str` that is not a constant.
        let _ = Text::<1, 4>::lit(alloc::boxed::Box::leak(text.into_boxed_str()));
    }

    #[test]
    fn ints_read_from_text() {
        assert_eq!("8009".parse::<Int<0, 65535>>(), Ok(Int::lit::<8009>()));
        assert!(matches!(
            "70000".parse::<Int<0, 65535>>(),
            Err(ValueError::OutOfRange { value: 70000, .. })
        ));
        assert!(matches!(
            "x".parse::<Int<0, 9>>(),
            Err(ValueError::Malformed { .. })
        ));
    }

    #[test]
    fn strings_refuse_injection_bytes() {
        for bad in ["a\rb", "a\nb", "a\"b", "a\0b", "a\x1Ab", "a\x1Bb"] {
            assert!(Text::<0, 64>::new(bad).is_err(), "{bad:?}");
            assert!(Bare::<0, 64>::new(bad).is_err(), "{bad:?}");
        }
        assert!(Text::<0, 64>::new("a,b").is_ok());
        assert!(Bare::<0, 64>::new("a,b").is_err());
        assert!(Text::<0, 64>::new("Grüße").is_ok());
    }

    #[test]
    fn lengths_count_bytes() {
        assert!(Text::<1, 2>::new("ü").is_ok());
        assert!(Text::<1, 1>::new("ü").is_err());
        assert!(Text::<1, 4>::new("").is_err());
    }

    #[test]
    fn refusals_read_as_the_user_wrote_the_value() {
        let empty = Host::new("").map(|_| ()).unwrap_err().to_string();
        assert_eq!(empty, "length 0 bytes is below the minimum of 1");
        let quote = Text::<0, 8>::new("a\"b")
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert_eq!(quote, "'\"' (byte 0x22) at 1 cannot be sent in this field");
        let cr = Text::<0, 8>::new("a\rb")
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert_eq!(cr, "byte 0x0D at 1 cannot be sent in this field");
    }

    #[test]
    fn addresses_and_uuids() {
        assert!(HexAddr::new("90395E8A70D1").is_ok());
        assert!(HexAddr::new("90:39:5E:8A:70:D1").is_err());
        assert!(Uuid::new("FFF2").is_ok());
        assert!(Uuid::new("FFF").is_err());
        assert!(Uuid::new("0000FFF200001000800000805F9B34FB").is_ok());
        assert_eq!(parse_hex("0x0035"), Ok(53));
        assert_eq!(parse_hex("FF"), Ok(255));
    }
}
