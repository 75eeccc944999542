//! What every generated command form and response line provides: its catalogue
//! metadata as constants, its encoding, and its decoding.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::any::Any;
use core::fmt;

use crate::generated::urcs::UrcKind;
use crate::value::ValueError;
use crate::wire::DecodeError;

/// Kind of a command form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FormKind {
    /// `AT+X=?`
    Test,
    /// `AT+X?`
    Read,
    /// `AT+X=…`
    Write,
    /// `AT+X`
    Execute,
}

/// Conformance safety class of a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Safety {
    /// Reads state, or changes volatile state that can be restored.
    Safe,
    /// Needs set-up and tear-down.
    Stateful,
    /// Writes saved configuration.
    Persistent,
    /// Ends or suspends the session.
    Disruptive,
    /// Cannot be undone from the host.
    Destructive,
}

/// The catalogue's maximum response time, as the manual gives it. The time for
/// a particular command value is [`AtCommand::time_limit_ms`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeLimit {
    /// A fixed limit.
    Fixed {
        /// Milliseconds.
        ms: u64,
    },
    /// The largest of the limits of several situations.
    Conditional {
        /// Milliseconds.
        max_ms: u64,
    },
    /// Set by a parameter of the command.
    Param,
    /// Set by configuration; the limit with the default configuration.
    Config {
        /// Milliseconds, when the manual gives the default.
        default_ms: Option<u64>,
    },
    /// Determined by the network.
    Network {
        /// Milliseconds.
        ms: u64,
    },
    /// The network's time plus a parameter's value.
    NetworkPlusParam {
        /// The network part, when given.
        ms: Option<u64>,
    },
    /// The manual gives no limit.
    NotGiven,
}

/// The prompt of a data phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// `>`
    Greater,
    /// `CONNECT`
    Connect,
}

/// A data phase: the prompt, then the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataPhase {
    /// What the module prints to ask for the payload.
    pub prompt: Prompt,
    /// The parameter giving the payload's length, when the form has one.
    pub length_param: Option<&'static str>,
    /// The byte that ends a variable-length payload (Ctrl+Z, 0x1A).
    pub terminator: Option<u8>,
    /// The byte that cancels the payload (Esc, 0x1B).
    pub cancel: Option<u8>,
    /// The largest payload, in bytes.
    pub max_length: Option<usize>,
}

/// What follows a `CONNECT` final result of a form that reads data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterConnect {
    /// Nothing special (a data prompt or transparent mode, if anything).
    Nothing,
    /// `CONNECT <n>`, then exactly n bytes, then a final result (QFREAD).
    Length,
    /// `CONNECT`, then a body up to the final `OK` (QHTTPREAD).
    UntilOk,
}

/// The length of the data block a line announces, read from its length field
/// alone: a block is framed by its length even when another field of the
/// line is out of range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announced {
    /// The parameter that gives the length (`current_recvlength`).
    pub field: &'static str,
    /// The length, or why it is not one (not a number, beyond the
    /// catalogue's maximum).
    pub length: Result<usize, ValueError>,
}

/// A line read with its type, and what it announces about the bytes after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<T> {
    /// The typed value, or why the line is not one.
    pub value: Result<T, DecodeError>,
    /// The data block the line announces after its line ending, if its
    /// template has one and the line has the template's shape.
    pub data: Option<Announced>,
}

impl<T> Decoded<T> {
    /// A line that announces no data block.
    pub fn plain(value: Result<T, DecodeError>) -> Self {
        Decoded { value, data: None }
    }

    /// The same, with the value mapped.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Decoded<U> {
        Decoded {
            value: self.value.map(f),
            data: self.data,
        }
    }
}

/// The error for a line that is not text.
pub fn not_text(line: &[u8]) -> DecodeError {
    DecodeError::NoMatch {
        expected: "a line of text (UTF-8)",
        at: core::str::from_utf8(line).err().map(|e| e.valid_up_to()),
    }
}

/// A response or URC line type.
pub trait Line: Sized + fmt::Debug + Clone + PartialEq + Send + Sync + 'static {
    /// What the line's templates start with (`+QIRD: `); an empty prefix is a
    /// template that matches any line (QBLEGATTCRD's `<data>`).
    const PREFIXES: &'static [&'static str];
    /// Reads the line (without its line ending).
    fn parse(line: &str) -> Result<Self, DecodeError>;
    /// Reads the line's bytes (without its line ending), and the length of
    /// the data block it announces. Lines whose payload may hold any byte
    /// (`+QMTRECV` framed by `<payload_length>`) are read here, not by
    /// [`parse`](Line::parse).
    fn decode(line: &[u8]) -> Decoded<Self> {
        Decoded::plain(match core::str::from_utf8(line) {
            Ok(text) => Self::parse(text),
            Err(_) => Err(not_text(line)),
        })
    }
    /// Whether [`inline_remaining`](Line::inline_remaining) can answer
    /// anything but `None`: when `false` the engine does not ask it for
    /// every line this type claims. The default, `true`, is always correct
    /// (a type that overrides `inline_remaining` keeps it); the generated
    /// types say `false` when their templates have no in-line payload.
    const INLINE_PAYLOAD: bool = true;
    /// For a line not yet ended that has met a CR or LF: how many more bytes
    /// belong to it whatever they are (see
    /// [`DataOracle::inline_remaining`](crate::framer::DataOracle::inline_remaining)).
    fn inline_remaining(partial: &[u8]) -> Option<usize> {
        let _ = partial;
        None
    }
    /// Writes the line (without its line ending). A payload that is not text
    /// comes out with U+FFFD in place of its bad bytes: use
    /// [`render_bytes`](Line::render_bytes) to send it.
    fn render(&self) -> String;
    /// Writes the line's bytes (without its line ending).
    fn render_bytes(&self) -> Vec<u8> {
        self.render().into_bytes()
    }
}

/// The line type of a form that has no information lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoLine {}

impl Line for NoLine {
    const PREFIXES: &'static [&'static str] = &[];
    const INLINE_PAYLOAD: bool = false;
    fn parse(_line: &str) -> Result<Self, DecodeError> {
        Err(DecodeError::NoMatch {
            expected: "no information line",
            at: None,
        })
    }
    fn render(&self) -> String {
        match *self {}
    }
}

/// Any [`Line`] type, behind a pointer: what the engine hands out for an
/// information line before the caller names the form's line type. Not
/// `Debug`: every method of a trait object's vtable is linked, and the
/// line types' derived `Debug` (with `str`'s character escaping) would cost
/// a firmware about 2.5 KiB of `.text` that it never calls.
pub trait AnyLine: Any + Send + Sync {
    /// A copy.
    fn clone_box(&self) -> Box<dyn AnyLine>;
    /// Whether `other` is the same type and value.
    fn eq_dyn(&self, other: &dyn AnyLine) -> bool;
    /// For downcasting.
    fn as_any(&self) -> &dyn Any;
    /// For downcasting by value.
    fn into_any(self: Box<Self>) -> Box<dyn Any>;
    /// The line's bytes, as [`Line::render_bytes`] writes them.
    fn render_dyn(&self) -> Vec<u8>;
}

impl<L: Line> AnyLine for L {
    fn clone_box(&self) -> Box<dyn AnyLine> {
        Box::new(self.clone())
    }
    fn eq_dyn(&self, other: &dyn AnyLine) -> bool {
        other.as_any().downcast_ref::<L>() == Some(self)
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
    fn render_dyn(&self) -> Vec<u8> {
        self.render_bytes()
    }
}

/// An information line of a command, decoded with the form's line type when
/// it was classified: [`get`](InfoLine::get) or [`downcast`](InfoLine::downcast)
/// it to that type (`C::Line`).
pub struct InfoLine(Box<dyn AnyLine>);

impl InfoLine {
    /// Wraps a typed line.
    pub fn new<L: Line>(line: L) -> Self {
        InfoLine(Box::new(line))
    }

    /// The typed line, if it is an `L`.
    pub fn get<L: Line>(&self) -> Option<&L> {
        self.0.as_any().downcast_ref::<L>()
    }

    /// The typed line by value, if it is an `L` (else the line back).
    pub fn downcast<L: Line>(self) -> Result<L, InfoLine> {
        if self.get::<L>().is_none() {
            return Err(self);
        }
        self.0
            .into_any()
            .downcast::<L>()
            .map(|b| *b)
            .map_err(|_| InfoLine(Box::new(NoValue)))
    }

    /// The line as the module wrote it (re-rendered from the typed value).
    pub fn render(&self) -> Vec<u8> {
        self.0.render_dyn()
    }
}

/// Stands in for a value taken out (never observed: `downcast` checks first).
#[derive(Debug)]
struct NoValue;

impl AnyLine for NoValue {
    fn clone_box(&self) -> Box<dyn AnyLine> {
        Box::new(NoValue)
    }
    fn eq_dyn(&self, _other: &dyn AnyLine) -> bool {
        false
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any> {
        self
    }
    fn render_dyn(&self) -> Vec<u8> {
        Vec::new()
    }
}

impl Clone for InfoLine {
    fn clone(&self) -> Self {
        InfoLine(self.0.clone_box())
    }
}

impl PartialEq for InfoLine {
    fn eq(&self, other: &Self) -> bool {
        self.0.eq_dyn(&*other.0)
    }
}

impl Eq for InfoLine {}

/// Shows the line as the module wrote it (`InfoLine(+QVERSION: ...)`),
/// rendered from the typed value; [`get`](InfoLine::get) gives the value.
impl fmt::Debug for InfoLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InfoLine(")?;
        f.write_str(&String::from_utf8_lossy(&self.render()))?;
        f.write_str(")")
    }
}

/// A URC's place in a series of URCs that completes a command (QPING's
/// replies then its final line; QIDNSGIP's result then its addresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeriesStep {
    /// Not part of a series: it completes its command alone.
    Single,
    /// Starts a series of `parts` further URCs (none: it is the last).
    Head {
        /// How many part URCs follow.
        parts: usize,
    },
    /// One URC of the series before its end.
    Part,
    /// The URC that ends the series.
    Final,
}

/// Lines a form's response prints after its final result (QBLEGATTCRD's
/// `<data>` after `OK`; QBLESCAN's results).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinesAfter {
    /// None.
    None,
    /// Exactly this many: the command is complete after them.
    Exactly(usize),
    /// Any number (scan results): they come as they come, the command is
    /// complete at its final result.
    Any,
}

/// One form of one command, with typed parameters.
///
/// The generated forms implement every item. A command of your own (a
/// form the catalogue lacks, a vendor extension) needs only its name, kind,
/// line type and encoding: the rest has defaults (no data phase, no
/// completion, the client's default time limit).
///
/// ```
/// use fcm242d::client::Client;
/// use fcm242d::command::{AtCommand, FormKind, Line, Payloadless};
/// use fcm242d::error::DecodeError;
/// # use fcm242d::transport::{MemoryTransport, Transport};
///
/// /// `AT+QTEMP` → `+QTEMP: <celsius>`, `OK` (a made-up command).
/// struct Temp;
///
/// #[derive(Debug, Clone, PartialEq, Eq)]
/// struct TempLine { celsius: i64 }
///
/// impl Line for TempLine {
///     const PREFIXES: &'static [&'static str] = &["+QTEMP:"];
///     fn parse(line: &str) -> Result<Self, DecodeError> {
///         line.strip_prefix("+QTEMP:")
///             .and_then(|v| v.trim().parse().ok())
///             .map(|celsius| TempLine { celsius })
///             .ok_or(DecodeError::NoMatch { expected: "+QTEMP: <celsius>", at: None })
///     }
///     fn render(&self) -> String { format!("+QTEMP: {}", self.celsius) }
/// }
///
/// impl AtCommand for Temp {
///     const NAME: &'static str = "AT+QTEMP";
///     const KIND: FormKind = FormKind::Execute;
///     type Line = TempLine;
///     fn encode(&self) -> String { "AT+QTEMP".into() }
/// }
/// impl Payloadless for Temp {}
///
/// # let (link, mut module) = MemoryTransport::pair();
/// # module.write_all(b"\r\n+QTEMP: 41\r\n\r\nOK\r\n").unwrap();
/// let mut client = Client::new(link);
/// let r = client.send(&Temp)?;
/// assert_eq!(r.lines, [TempLine { celsius: 41 }]);
/// # Ok::<(), fcm242d::client::Error>(())
/// ```
pub trait AtCommand: Sized {
    /// The command's name (`AT+QIOPEN`).
    const NAME: &'static str;
    /// The form's kind.
    const KIND: FormKind;
    /// The form's syntax in the manual's notation.
    const SYNTAX: &'static str = "";
    /// The sub-command key, for QICFG-style commands.
    const SUBCOMMAND: Option<&'static str> = None;
    /// Conformance safety class.
    const SAFETY: Safety = Safety::Stateful;
    /// Maximum response time as the manual gives it.
    const TIME_LIMIT: TimeLimit = TimeLimit::NotGiven;
    /// The form's data phase.
    const DATA_PHASE: Option<DataPhase> = None;
    /// The URC that completes the command after its final result.
    const COMPLETION: Option<UrcKind> = None;
    /// Whether a successful response switches to transparent mode.
    const ENTERS_TRANSPARENT: bool = false;
    /// What follows `CONNECT`, for forms that read data after it.
    const AFTER_CONNECT: AfterConnect = AfterConnect::Nothing;
    /// The type of the form's information lines ([`NoLine`] when it has none).
    type Line: Line;
    /// The positions (0-based, counting the comma-separated fields after
    /// `=`) of the values that are secrets (Wi-Fi keys, MQTT passwords,
    /// private-key passwords): the clients' logs show them as `***`.
    const SECRET_FIELDS: &'static [usize] = &[];

    /// The command line, without its line ending.
    fn encode(&self) -> String;
    /// Writes the same line as [`encode`](AtCommand::encode) into `buf`
    /// (without line ending); returns its length, or
    /// [`BufferFull`](crate::wire::BufferFull) when it does not fit (what
    /// `buf` then holds is unspecified). The generated forms allocate
    /// nothing; by default, the line is encoded and copied.
    fn encode_into(&self, buf: &mut [u8]) -> Result<usize, crate::wire::BufferFull> {
        let line = self.encode();
        let out = buf.get_mut(..line.len()).ok_or(crate::wire::BufferFull)?;
        out.copy_from_slice(line.as_bytes());
        Ok(line.len())
    }
    /// Reads a command line (what the simulator does); by default, no line
    /// is this command.
    fn parse(line: &str) -> Result<Self, DecodeError> {
        let _ = line;
        Err(DecodeError::NoMatch {
            expected: Self::NAME,
            at: None,
        })
    }
    /// The time limit for this value, in milliseconds (parameter-dependent
    /// limits use the parameter or its default); `None` when the manual gives none.
    /// By default, the limit [`TIME_LIMIT`](AtCommand::TIME_LIMIT) gives.
    fn time_limit_ms(&self) -> Option<u64> {
        match Self::TIME_LIMIT {
            TimeLimit::Fixed { ms } | TimeLimit::Network { ms } => Some(ms),
            TimeLimit::Conditional { max_ms } => Some(max_ms),
            TimeLimit::Config { default_ms } => default_ms,
            TimeLimit::NetworkPlusParam { ms } => ms,
            TimeLimit::Param | TimeLimit::NotGiven => None,
        }
    }
    /// The payload length this value announces for its data phase.
    fn payload_length(&self) -> Option<usize> {
        None
    }
    /// This value with its data phase's length field set to `n`
    /// (`send_payload` fills it in from the payload); `None` when the form
    /// has no such field or `n` is outside its range.
    fn with_payload_length(&self, n: usize) -> Option<Self> {
        let _ = n;
        None
    }
    /// For an information line of this form that announces a data block
    /// (`+QIRD: <read_actual_length>`), the block's length.
    fn data_length_of(line: &str) -> Option<usize> {
        let _ = line;
        None
    }
    /// Lines the response prints after its final result.
    const LINES_AFTER_FINAL: LinesAfter = LinesAfter::None;
    /// The largest data block this value's response may carry: what the
    /// command asked for (`AT+QIRD=0,100` reads at most 100 bytes), or the
    /// catalogue's maximum for it. `None`: only the engine's own limit.
    fn data_limit(&self) -> Option<usize> {
        let _ = self;
        None
    }
    /// The fields the completion URC repeats from this command, with their
    /// values (`("connectID", 1)`): a URC of the completion's kind completes
    /// this command only when it carries the same values.
    fn completion_match(&self) -> Vec<(&'static str, i64)> {
        let _ = self;
        Vec::new()
    }
    /// The time limit for the completion URC after the final result, in
    /// milliseconds, when the catalogue gives one apart from the command's.
    fn completion_time_limit_ms(&self) -> Option<u64> {
        let _ = self;
        None
    }
}

/// A form without a data phase: what
/// [`Client::send`](crate::client::Client::send) takes. A form with a data
/// phase (`AT+QISEND=<id>,<len>`) does not implement it, so sending it
/// without its payload is refused when the program is compiled.
pub trait Payloadless: AtCommand {}

/// A form with a data phase: what
/// [`Client::send_payload`](crate::client::Client::send_payload) takes.
pub trait WithPayload: AtCommand {}

/// One template of the catalogue with its reader: what conformance checks and
/// round-trip tests iterate over (an internal of the tests and tools, not
/// part of the stable API).
#[doc(hidden)]
#[derive(Debug, Clone, Copy)]
pub struct Template {
    /// The command (`AT+QIOPEN`) or URC (`+QIURC`) it belongs to.
    pub owner: &'static str,
    /// The form's syntax (for information lines: the form they answer).
    pub form: &'static str,
    /// The template text.
    pub template: &'static str,
    /// The name of its grammar rule.
    pub rule: &'static str,
    /// Decodes a line with the template's type and writes it back.
    pub reencode: fn(&str) -> Result<String, DecodeError>,
}

/// The fields after the first `=` of a command line, each as `(start, end)`
/// byte offsets: split on commas outside double quotes.
fn field_spans(line: &str) -> Vec<(usize, usize)> {
    let Some(eq) = line.find('=') else {
        return Vec::new();
    };
    let mut spans = Vec::new();
    let mut start = eq + 1;
    let mut quoted = false;
    for (i, b) in line.bytes().enumerate().skip(eq + 1) {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => {
                spans.push((start, i));
                start = i + 1;
            }
            _ => {}
        }
    }
    spans.push((start, line.len()));
    spans
}

/// The values of a command line at `secret_fields` (without their quotes).
pub fn secret_values<'a>(line: &'a str, secret_fields: &[usize]) -> Vec<&'a str> {
    let spans = field_spans(line);
    secret_fields
        .iter()
        .filter_map(|&i| spans.get(i))
        .map(|&(a, b)| line[a..b].trim_matches('"'))
        .filter(|v| !v.is_empty())
        .collect()
}

/// A command line with the values at `secret_fields` shown as `***` (quoted
/// values keep their quotes): what logs and error messages show.
///
/// ```
/// use fcm242d::command::{masked_line, AtCommand};
/// use fcm242d::generated::commands::qstaapinfo;
/// use fcm242d::value::Text;
///
/// let join = qstaapinfo::Write {
///     ssid: Text::new("home").unwrap(),
///     pwd: Some(Text::new("hunter22").unwrap()),
/// };
/// let line = join.encode();
/// assert_eq!(masked_line(&line, qstaapinfo::Write::SECRET_FIELDS), r#"AT+QSTAAPINFO="home","***""#);
/// ```
pub fn masked_line(line: &str, secret_fields: &[usize]) -> String {
    if secret_fields.is_empty() {
        return String::from(line);
    }
    let spans = field_spans(line);
    let mut out = String::with_capacity(line.len());
    let mut at = 0;
    for (i, &(a, b)) in spans.iter().enumerate() {
        if !secret_fields.contains(&i) || a == b {
            continue;
        }
        out.push_str(&line[at..a]);
        let quoted = line[a..b].starts_with('"');
        out.push_str(if quoted { "\"***\"" } else { "***" });
        at = b;
    }
    out.push_str(&line[at..]);
    out
}
