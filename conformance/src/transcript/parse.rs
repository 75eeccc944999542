//! Reading captured UART logs in the formats serial terminals write.
//!
//! A log becomes a list of [`Entry`]s: one line of one direction each, with
//! the 1-based number of the source line it starts on. The format is
//! detected from the log itself ([`parse`]) or given ([`parse_as`]):
//!
//! - direction-marked lines ([`Format::Marked`]): `> AT+QVERSION` / `< OK`,
//!   `TX: …` / `RX: …`, `[TX] …` / `[RX] …`, `--> …` / `<-- …`. Unmarked lines
//!   continue the direction of the line before them (a terminal that wraps or
//!   prints a multi-line chunk); unmarked lines before the first marked one
//!   are a preamble and are skipped;
//! - a terminal capture of the module's output with no direction marks
//!   ([`Format::Echo`]): lines that start with `AT` (any case) or `+++` are the
//!   module's echo of the host's commands, everything else is module output;
//! - the raw bytes of the module's output ([`Format::Raw`]), lines ended by
//!   CR LF (or CR or LF alone), read as [`Format::Echo`] is.
//!
//! Text formats may carry a timestamp before (or right after) the direction
//! mark: `[2024-01-01 12:00:00.123]`, `2024-01-01T12:00:00Z`, `12:00:00.123`,
//! `[12345.678]`. When most lines have one, they are stripped.
//!
//! Text formats may show control bytes escaped: `\r`, `\n`, `\t`, `\\`, `\0`,
//! `\xHH`, `<CR>`, `<LF>`, `<SUB>`, `<ESC>`, `<NUL>`, `<TAB>`, `<CTRL+Z>`,
//! `<0xHH>`. When a log shows any of them, all are read back as the bytes
//! they stand for. When it shows line endings that way, the log records the
//! stream's bytes rather than its lines: a direction's consecutive chunks are
//! joined and cut into lines at CR / LF only (a chunk left unended is ended
//! by the next chunk of the other direction or by the end of the log).
//!
//! Text formats may annotate lines the way the manual's examples do,
//! `AT+QVERSION  // Query the firmware version.` or `+QMTOPEN: 0,0  # The
//! network is opened.`: a comment starts with `//`, or with `#` and a
//! space, at the start of a line or after a space or a tab, outside double
//! quotes. When a command line of the log carries one, or a line is
//! nothing but one, every line's comment is dropped and lines that are only
//! a comment are skipped, so an example copied from the manual reads as
//! the exchange it shows.
//!
//! Nothing here panics on any input: a log that cannot be read gets a
//! [`ParseError`].

use std::fmt;

use crate::outcome::Direction;

/// The largest log read, in bytes.
pub const MAX_LOG_BYTES: usize = 64 * 1024 * 1024;

/// One line of one direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The 1-based number of the source line it starts on (for a raw
    /// capture: one more than the number of line endings before it).
    pub line: usize,
    /// Who sent it. In the formats without direction marks, lines that start
    /// with `AT` or `+++` are [`Direction::Sent`] (the module's echo of them).
    pub direction: Direction,
    /// Its bytes, without the line ending (control bytes unescaped).
    pub bytes: Vec<u8>,
    /// How many bytes of line ending followed it in the stream: 2 for CR LF,
    /// 1 for CR or LF alone, 0 for a chunk that ended without one. Lines of a
    /// text log that shows no escaped line endings count as ended by CR LF.
    pub ending: usize,
}

impl Entry {
    /// The bytes as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// Whether the line is empty or only blanks.
    pub fn is_blank(&self) -> bool {
        self.bytes.iter().all(|b| matches!(b, b' ' | b'\t'))
    }
}

/// How a log marks the direction of its lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Marks {
    /// `> host line` / `< module line`.
    Arrows,
    /// `--> host line` / `<-- module line`.
    LongArrows,
    /// `TX: host line` / `RX: module line`.
    TxRx,
    /// `[TX] host line` / `[RX] module line`.
    BracketTxRx,
    /// `>> host line` / `<< module line`.
    DoubleArrows,
    /// QCOM's `[time_S:]host line` / `[time_R:]module line`.
    Qcom,
}

impl Marks {
    /// The marks as a log shows them.
    pub fn describe(self) -> &'static str {
        match self {
            Marks::Arrows => "`>` / `<`",
            Marks::LongArrows => "`-->` / `<--`",
            Marks::TxRx => "`TX:` / `RX:`",
            Marks::BracketTxRx => "`[TX]` / `[RX]`",
            Marks::DoubleArrows => "`>>` / `<<`",
            Marks::Qcom => "`[..._S:]` / `[..._R:]`",
        }
    }

    const ALL: [Marks; 6] = [
        Marks::Qcom,
        Marks::BracketTxRx,
        Marks::TxRx,
        Marks::DoubleArrows,
        Marks::LongArrows,
        Marks::Arrows,
    ];
}

/// The format of a log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Both directions, each line marked.
    Marked(Marks),
    /// A text capture of the module's output, its echo included, no marks.
    Echo,
    /// The raw bytes of the module's output (CR LF lines, echo included).
    Raw,
}

impl Format {
    /// A short description for reports.
    pub fn describe(self) -> String {
        match self {
            Format::Marked(m) => format!("direction-marked ({})", m.describe()),
            Format::Echo => "echo-style text capture (no direction marks)".to_string(),
            Format::Raw => "raw byte capture of the module's output".to_string(),
        }
    }
}

/// A log, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transcript {
    /// Its format.
    pub format: Format,
    /// Whether timestamps were stripped.
    pub timestamps: bool,
    /// Whether escaped control bytes were read back.
    pub escaped: bool,
    /// Whether the log records the byte stream (escaped line endings, or a
    /// raw capture) rather than one line per source line.
    pub stream: bool,
    /// Whether comments in the manual's style (`  // …`) were dropped.
    pub annotated: bool,
    /// Its lines, in order.
    pub entries: Vec<Entry>,
}

impl Transcript {
    /// A one-line description of how the log was read.
    pub fn describe(&self) -> String {
        let mut s = self.format.describe();
        if self.timestamps {
            s.push_str(", timestamps stripped");
        }
        if self.escaped {
            s.push_str(", escaped control bytes");
        }
        if self.annotated {
            s.push_str(", comments (`//`, `#`) dropped");
        }
        s
    }

    /// Whether the directions come from the log's marks (rather than from
    /// guessing that `AT…` lines are the host's).
    pub fn has_marks(&self) -> bool {
        matches!(self.format, Format::Marked(_))
    }
}

/// Why a log cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// It holds nothing but blanks.
    Empty,
    /// It is larger than [`MAX_LOG_BYTES`].
    TooLarge {
        /// Its size.
        len: usize,
    },
    /// It is neither text nor a capture with line endings (binary data).
    NotALog {
        /// Bytes that are neither printable nor line endings.
        unprintable: usize,
        /// The log's size.
        len: usize,
    },
    /// The format was given as direction-marked, and no line has the marks.
    NoMarks {
        /// The marks looked for.
        marks: Marks,
    },
    /// No known layout: no direction marks, no command echoed, and most
    /// lines are not what a module prints. Judging it would only give
    /// false deviations.
    Unrecognised {
        /// The first line of the log that is not a module's output.
        sample: String,
    },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::Empty => write!(f, "the log is empty"),
            ParseError::TooLarge { len } => write!(
                f,
                "the log is {len} bytes, more than the {MAX_LOG_BYTES} bytes read"
            ),
            ParseError::NotALog { unprintable, len } => write!(
                f,
                "the log is not a UART capture: {unprintable} of its {len} bytes are \
                 unprintable and it has no line endings"
            ),
            ParseError::NoMarks { marks } => {
                write!(f, "no line of the log has the marks {}", marks.describe())
            }
            ParseError::Unrecognised { sample } => write!(
                f,
                "the log's layout is not recognised (no `>`/`<`, `>>`/`<<`, `-->`/`<--`, `TX:`/`RX:`, `[TX]`/`[RX]` or QCOM `[..._S:]`/`[..._R:]` marks, no echoed command, and lines such as `{sample}` are not module output)"
            ),
        }
    }
}

impl std::error::Error for ParseError {}

/// Reads a log, detecting its format.
pub fn parse(bytes: &[u8]) -> Result<Transcript, ParseError> {
    precheck(bytes)?;
    let lines = source_lines(bytes);
    let timestamps = has_timestamps(&lines);
    let marks = detect_marks(&lines, timestamps);
    let format = match marks {
        Some(m) => Format::Marked(m),
        None if !timestamps && !has_escapes(&lines) && looks_raw(bytes) => Format::Raw,
        None => Format::Echo,
    };
    if format == Format::Echo {
        unmarked_layout_known(&lines, timestamps)?;
    }
    read(bytes, &lines, format, timestamps)
}

/// An unmarked capture must echo a command or consist mostly of what a
/// module prints (results, `+` lines, prompts); anything else is a layout
/// this reader does not know.
fn unmarked_layout_known(lines: &[&[u8]], timestamps: bool) -> Result<(), ParseError> {
    let texts: Vec<String> = lines
        .iter()
        .filter(|l| !is_blank(l))
        .map(|l| {
            String::from_utf8_lossy(content(l, timestamps))
                .trim()
                .to_string()
        })
        .collect();
    let echoes = texts
        .iter()
        .any(|t| t.to_ascii_uppercase().starts_with("AT") || t == "+++");
    let output = |t: &str| {
        t.starts_with('+') || t.starts_with('>') || fcm242d::engine::Final::parse(t).is_some()
    };
    let module_lines = texts.iter().filter(|t| output(t)).count();
    if echoes || module_lines * 2 >= texts.len() {
        return Ok(());
    }
    let sample = texts
        .iter()
        .find(|t| !output(t))
        .cloned()
        .unwrap_or_default();
    Err(ParseError::Unrecognised {
        sample: sample.chars().take(60).collect(),
    })
}

/// Reads a log in the given format (timestamps and escapes still detected).
pub fn parse_as(bytes: &[u8], format: Format) -> Result<Transcript, ParseError> {
    precheck(bytes)?;
    let lines = source_lines(bytes);
    let timestamps = format != Format::Raw && has_timestamps(&lines);
    if let Format::Marked(m) = format {
        let marked = lines.iter().any(|l| marked(l, timestamps, m).is_some());
        if !marked {
            return Err(ParseError::NoMarks { marks: m });
        }
    }
    read(bytes, &lines, format, timestamps)
}

fn precheck(bytes: &[u8]) -> Result<(), ParseError> {
    if bytes.len() > MAX_LOG_BYTES {
        return Err(ParseError::TooLarge { len: bytes.len() });
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ParseError::Empty);
    }
    let has_endings = bytes.iter().any(|&b| b == b'\r' || b == b'\n');
    let unprintable = bytes
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\r' | b'\n' | b'\t'))
        .count();
    // A capture of one short answer has no line ending only if it is a bare
    // prompt or a fragment; mostly-control data with no line at all is not
    // a UART log of an AT command set.
    if !has_endings && unprintable * 4 > bytes.len() {
        return Err(ParseError::NotALog {
            unprintable,
            len: bytes.len(),
        });
    }
    Ok(())
}

/// The log's lines (split at LF, a CR before it dropped), for the text formats.
fn source_lines(bytes: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = bytes
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .collect();
    // The final LF ends the last line; it does not start an empty one.
    if bytes.last() == Some(&b'\n') {
        lines.pop();
    }
    lines
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|b| b.is_ascii_whitespace())
}

/// Whether most non-blank lines start with a timestamp (before or right
/// after a direction mark).
fn has_timestamps(lines: &[&[u8]]) -> bool {
    let mut nonblank = 0usize;
    let mut stamped = 0usize;
    for l in lines.iter().filter(|l| !is_blank(l)) {
        nonblank += 1;
        let stamped_here = strip_timestamp(l).is_some()
            || Marks::ALL
                .iter()
                .filter_map(|&m| marker(l, m))
                .any(|(_, rest)| strip_timestamp(rest).is_some());
        if stamped_here {
            stamped += 1;
        }
    }
    nonblank > 0 && stamped * 2 >= nonblank
}

/// The line with a leading timestamp removed, when timestamps are on.
fn content(line: &[u8], timestamps: bool) -> &[u8] {
    if timestamps {
        strip_timestamp(line).unwrap_or(line)
    } else {
        line
    }
}

/// The marks most lines have, if the log is direction-marked.
fn detect_marks(lines: &[&[u8]], timestamps: bool) -> Option<Marks> {
    let nonblank = lines.iter().filter(|l| !is_blank(l)).count();
    let mut best: Option<(Marks, usize)> = None;
    for m in Marks::ALL {
        let mut sent = 0usize;
        let mut received = 0usize;
        for l in lines {
            match marked(l, timestamps, m) {
                Some((Direction::Sent, _)) => sent += 1,
                Some((Direction::Received, _)) => received += 1,
                None => {}
            }
        }
        // `>` alone is also the module's data prompt in an unmarked capture:
        // arrows count only when both directions appear.
        if m == Marks::Arrows && (sent == 0 || received == 0) {
            continue;
        }
        let count = sent + received;
        if count > 0 && count * 2 >= nonblank && best.is_none_or(|(_, c)| count > c) {
            best = Some((m, count));
        }
    }
    best.map(|(m, _)| m)
}

/// The direction a line's mark gives, and the rest of the line (the one
/// blank after the mark removed).
fn marker(line: &[u8], marks: Marks) -> Option<(Direction, &[u8])> {
    let t = trim_start(line);
    let (dir, rest) = match marks {
        Marks::Qcom => {
            // `[2024-05-04 14:22:31.123_S:]AT`: the bracket holds the time
            // and ends with the direction.
            if t.first() != Some(&b'[') {
                return None;
            }
            let end = t.iter().take(64).position(|&b| b == b']')?;
            let inside = &t[..end];
            let dir = if inside.len() >= 3
                && inside[inside.len() - 3..].eq_ignore_ascii_case(b"_S:")
            {
                Direction::Sent
            } else if inside.len() >= 3 && inside[inside.len() - 3..].eq_ignore_ascii_case(b"_R:") {
                Direction::Received
            } else {
                return None;
            };
            (dir, &t[end + 1..])
        }
        Marks::DoubleArrows => {
            if t.starts_with(b">>") {
                (Direction::Sent, &t[2..])
            } else if t.starts_with(b"<<") {
                (Direction::Received, &t[2..])
            } else {
                return None;
            }
        }
        Marks::BracketTxRx => {
            if starts_with_ci(t, b"[TX]") {
                (Direction::Sent, &t[4..])
            } else if starts_with_ci(t, b"[RX]") {
                (Direction::Received, &t[4..])
            } else {
                return None;
            }
        }
        Marks::TxRx => {
            if starts_with_ci(t, b"TX:") {
                (Direction::Sent, &t[3..])
            } else if starts_with_ci(t, b"RX:") {
                (Direction::Received, &t[3..])
            } else {
                return None;
            }
        }
        Marks::LongArrows => {
            if t.starts_with(b"-->") {
                (Direction::Sent, &t[3..])
            } else if t.starts_with(b"<--") {
                (Direction::Received, &t[3..])
            } else {
                return None;
            }
        }
        Marks::Arrows => {
            let dir = match t.first() {
                Some(b'>') => Direction::Sent,
                Some(b'<') => Direction::Received,
                _ => return None,
            };
            let rest = &t[1..];
            // `<CR>` and `<--` are not this mark: it stands alone.
            if !(rest.is_empty() || rest[0] == b' ' || rest[0] == b'\t') {
                return None;
            }
            (dir, rest)
        }
    };
    let rest = match rest.first() {
        Some(b' ' | b'\t') => &rest[1..],
        _ => rest,
    };
    Some((dir, rest))
}

/// The mark of a line, after its timestamp or (QCOM: the timestamp is in
/// the mark) before.
fn marked(line: &[u8], timestamps: bool, m: Marks) -> Option<(Direction, &[u8])> {
    marker(content(line, timestamps), m).or_else(|| marker(line, m))
}

fn trim_start(s: &[u8]) -> &[u8] {
    let n = s.iter().take_while(|b| matches!(b, b' ' | b'\t')).count();
    &s[n..]
}

fn starts_with_ci(s: &[u8], prefix: &[u8]) -> bool {
    s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// The line after a leading timestamp (and the blanks or separator after
/// it), or `None` when it does not start with one.
pub fn strip_timestamp(line: &[u8]) -> Option<&[u8]> {
    let t = trim_start(line);
    let after = match t.first() {
        Some(&open @ (b'[' | b'(')) => {
            let close = if open == b'[' { b']' } else { b')' };
            let end = t.iter().take(48).position(|&b| b == close)?;
            let inner = &t[1..end];
            if !bracketed_time(inner) {
                return None;
            }
            &t[end + 1..]
        }
        _ => {
            let n = bare_time(t)?;
            let rest = &t[n..];
            // A bare stamp is followed by a blank (or nothing): `12.5V` is not one.
            if !(rest.is_empty() || matches!(rest[0], b' ' | b'\t' | b'|')) {
                return None;
            }
            rest
        }
    };
    let mut rest = trim_start(after);
    for sep in [&b"| "[..], b"- ", b": "] {
        if rest.starts_with(sep) {
            rest = trim_start(&rest[sep.len()..]);
            break;
        }
    }
    if rest == b"|" || rest == b"-" {
        rest = &[];
    }
    Some(rest)
}

/// Whether the text inside brackets is a time: digits with `-:.,/ T Z +`,
/// starting with a digit, with a `:` or a `.`.
fn bracketed_time(inner: &[u8]) -> bool {
    let inner = trim_start(inner);
    inner.first().is_some_and(u8::is_ascii_digit)
        && inner.iter().all(|&b| {
            b.is_ascii_digit()
                || matches!(
                    b,
                    b'-' | b':' | b'.' | b',' | b'/' | b' ' | b'T' | b'Z' | b'+'
                )
        })
        && inner.iter().any(|&b| b == b':' || b == b'.')
}

/// The length of a bare timestamp at the start of `t`: a date-time
/// (`2024-01-01 12:00:00.123`, `2024-01-01T12:00:00Z`), a time
/// (`12:00:00.123`), or seconds (`12345.678`).
fn bare_time(t: &[u8]) -> Option<usize> {
    let digits = |from: usize| {
        t.iter()
            .skip(from)
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let at = |i: usize| t.get(i).copied();
    // A date.
    if digits(0) == 4
        && at(4) == Some(b'-')
        && digits(5) == 2
        && at(7) == Some(b'-')
        && digits(8) == 2
    {
        let mut i = 10;
        if matches!(at(i), Some(b' ' | b'T')) {
            if let Some(n) = clock_time(&t[i + 1..]) {
                i += 1 + n;
                i += zone(&t[i..]);
            }
        }
        return Some(i);
    }
    if let Some(n) = clock_time(t) {
        return Some(n);
    }
    // Seconds since some start, with a fraction.
    let whole = digits(0);
    if whole > 0 && at(whole) == Some(b'.') {
        let frac = digits(whole + 1);
        if frac > 0 {
            return Some(whole + 1 + frac);
        }
    }
    None
}

/// `HH:MM:SS` with an optional fraction (`.123`, `,123`, `:123`).
fn clock_time(t: &[u8]) -> Option<usize> {
    let digits = |from: usize| {
        t.iter()
            .skip(from)
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let h = digits(0);
    if !(1..=2).contains(&h) || t.get(h) != Some(&b':') {
        return None;
    }
    let m = digits(h + 1);
    if m != 2 || t.get(h + 3) != Some(&b':') {
        return None;
    }
    let s = digits(h + 4);
    if s != 2 {
        return None;
    }
    let mut i = h + 6;
    if matches!(t.get(i), Some(b'.' | b',' | b':')) {
        let f = digits(i + 1);
        if f > 0 {
            i += 1 + f;
        }
    }
    Some(i)
}

/// The length of a time zone (`Z`, `+02:00`, `-0500`) at the start of `t`.
fn zone(t: &[u8]) -> usize {
    match t.first() {
        Some(b'Z') => 1,
        Some(b'+' | b'-') => {
            let n = t[1..]
                .iter()
                .take(5)
                .take_while(|b| b.is_ascii_digit() || **b == b':')
                .count();
            if n >= 2 {
                1 + n
            } else {
                0
            }
        }
        _ => 0,
    }
}

/// Escapes a log may use, longest first, case-insensitive (`\x`, `<0x..>` apart).
const NAMED_ESCAPES: &[(&[u8], u8)] = &[
    (b"<CTRL+Z>", 0x1A),
    (b"<CTRL-Z>", 0x1A),
    (b"<SUB>", 0x1A),
    (b"<ESC>", 0x1B),
    (b"<NUL>", 0x00),
    (b"<TAB>", b'\t'),
    (b"<CR>", b'\r'),
    (b"<LF>", b'\n'),
];

/// Whether the log shows escaped control bytes.
fn has_escapes(lines: &[&[u8]]) -> bool {
    lines.iter().any(|l| escape_at_any(l))
}

/// Whether the log records the byte stream with its line endings escaped
/// (`[RX] <CR><LF>OK<CR><LF>`) rather than one line per source line: a line
/// shows an escaped CR or LF with more of the stream after it, or nearly
/// every line ends with one (a stream log's lines without one are chunks
/// cut short, a few at most). Some lines that end with `<CR><LF>` in a log
/// of plain lines (the manual prints an HTTP header that way) do not make
/// the whole log a stream.
fn has_escaped_endings(lines: &[&[u8]]) -> bool {
    let mut content = 0usize;
    let mut ended = 0usize;
    for line in lines
        .iter()
        .map(|l| l.trim_ascii())
        .filter(|l| !l.is_empty())
    {
        content += 1;
        match escaped_endings(line) {
            // An ending with more of the stream after it on the same line.
            Endings::Inside => return true,
            Endings::AtEnd => ended += 1,
            Endings::None => {}
        }
    }
    ended > 0 && (content - ended) * 4 <= content
}

/// Where a line shows escaped CRs and LFs.
enum Endings {
    /// Nowhere.
    None,
    /// Only at its end (blanks aside).
    AtEnd,
    /// With more of the stream after one of them.
    Inside,
}

/// Where `line` shows escaped CRs and LFs, in one pass over its escapes.
fn escaped_endings(line: &[u8]) -> Endings {
    let mut seen = Endings::None;
    let mut i = 0;
    while i < line.len() {
        match escape_at(line.get(i..).unwrap_or_default()) {
            Some((b'\r' | b'\n', len)) => {
                seen = Endings::AtEnd;
                i += len;
                continue;
            }
            Some((_, len)) => i += len,
            None if line.get(i).is_some_and(u8::is_ascii_whitespace) => {
                i += 1;
                continue;
            }
            None => i += 1,
        }
        // Something other than an ending or a blank: after an ending, the
        // stream goes on on this line.
        if matches!(seen, Endings::AtEnd) {
            return Endings::Inside;
        }
    }
    seen
}

fn escape_at_any(line: &[u8]) -> bool {
    (0..line.len()).any(|i| escape_at(&line[i..]).is_some())
}

/// The byte an escape at the start of `s` stands for, and its length.
/// `\\` and `\t` alone do not make a log "escaped" (paths, tabs), but are
/// read back once it is.
fn escape_at(s: &[u8]) -> Option<(u8, usize)> {
    match s {
        [b'\\', b'r', ..] => Some((b'\r', 2)),
        [b'\\', b'n', ..] => Some((b'\n', 2)),
        [b'\\', b'x' | b'X', h, l, ..] => Some((hex_pair(*h, *l)?, 4)),
        [b'<', b'0', b'x' | b'X', h, l, b'>', ..] => Some((hex_pair(*h, *l)?, 6)),
        [b'<', ..] => NAMED_ESCAPES
            .iter()
            .find(|(name, _)| starts_with_ci(s, name))
            .map(|(name, b)| (*b, name.len())),
        _ => None,
    }
}

fn hex_pair(h: u8, l: u8) -> Option<u8> {
    let v = |c: u8| (c as char).to_digit(16);
    Some((v(h)? * 16 + v(l)?) as u8)
}

/// Reads back the escapes of a line.
fn unescape(line: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(line.len());
    let mut i = 0;
    while i < line.len() {
        let rest = &line[i..];
        if let Some((b, n)) = escape_at(rest) {
            out.push(b);
            i += n;
            continue;
        }
        match rest {
            [b'\\', b't', ..] => out.push(b'\t'),
            [b'\\', b'\\', ..] => out.push(b'\\'),
            [b'\\', b'0', ..] => out.push(0),
            _ => {
                out.push(rest[0]);
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    out
}

/// Whether the bytes look like a raw capture rather than a text log: bytes
/// that are not text (control bytes, invalid UTF-8) or CR line endings.
fn looks_raw(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_err()
        || bytes.contains(&b'\r')
        || bytes
            .iter()
            .any(|&b| b < 0x20 && !matches!(b, b'\n' | b'\t'))
}

/// Lines starting with `AT` or `+++` are the host's (the module's echo of
/// them) in a log without marks.
pub fn is_host_line(bytes: &[u8]) -> bool {
    let t = trim_start(bytes);
    starts_with_ci(t, b"AT") || t.starts_with(b"+++")
}

fn read(
    bytes: &[u8],
    lines: &[&[u8]],
    format: Format,
    timestamps: bool,
) -> Result<Transcript, ParseError> {
    let (escaped, stream, annotated, entries) = match format {
        Format::Raw => (false, true, false, raw_entries(bytes)),
        Format::Echo | Format::Marked(_) => {
            let annotated = has_annotations(lines, format, timestamps);
            let escaped = has_escapes(lines);
            // Judged without the comments (`<CR><LF>  # A comment.`).
            let uncommented: Vec<&[u8]> = lines
                .iter()
                .map(|l| if annotated { without_annotation(l) } else { l })
                .collect();
            let stream = escaped && has_escaped_endings(&uncommented);
            let chunks = chunks(lines, format, timestamps, escaped, annotated);
            let entries = if stream {
                stream_entries(&chunks)
            } else {
                chunks
                    .into_iter()
                    .map(|c| Entry {
                        line: c.line,
                        direction: c.direction,
                        bytes: c.bytes,
                        ending: 2,
                    })
                    .collect()
            };
            (escaped, stream, annotated, entries)
        }
    };
    let mut entries = entries;
    if !matches!(format, Format::Marked(_)) {
        for e in &mut entries {
            e.direction = if is_host_line(&e.bytes) {
                Direction::Sent
            } else {
                Direction::Received
            };
        }
    }
    if entries.iter().all(Entry::is_blank) {
        return Err(ParseError::Empty);
    }
    Ok(Transcript {
        format,
        timestamps,
        escaped,
        stream,
        annotated,
        entries,
    })
}

/// Where a comment in the manual's style starts in `line`: `//`, or `#`
/// and a space, at the start of the line or right after a space or a tab,
/// outside double quotes (a URL such as `"http://host/"` is not a comment,
/// nor is `a//b`).
fn annotation_at(line: &[u8]) -> Option<usize> {
    let mut quoted = false;
    for (i, &b) in line.iter().enumerate() {
        if b == b'"' {
            quoted = !quoted;
            continue;
        }
        let rest = line.get(i..).unwrap_or_default();
        let opens = rest.starts_with(b"//") || rest.starts_with(b"# ") || rest == b"#";
        let after_blank =
            i == 0 || matches!(line.get(..i).and_then(<[u8]>::last), Some(b' ' | b'\t'));
        if opens && after_blank && !quoted {
            return Some(i);
        }
    }
    None
}

/// Whether the log annotates its lines as the manual's examples do: one of
/// its command lines carries a comment, or a line is nothing but one. Only
/// then are comments dropped, so that a log that does not use them keeps
/// every byte of its lines (a data block may hold `//`).
fn has_annotations(lines: &[&[u8]], format: Format, timestamps: bool) -> bool {
    lines.iter().any(|raw| {
        let (sent, text) = match format {
            Format::Marked(m) => match marked_content(raw, timestamps, m) {
                Some((d, rest)) => (d == Direction::Sent, rest),
                None => return false,
            },
            _ => {
                let text = content(raw, timestamps);
                (is_host_line(text), text)
            }
        };
        let text = trim_start(text);
        match annotation_at(text) {
            Some(0) => true,
            Some(_) => sent,
            None => false,
        }
    })
}

/// A marked line's direction and content: the mark and, when the log has
/// them, the timestamp after it removed.
fn marked_content(raw: &[u8], timestamps: bool, m: Marks) -> Option<(Direction, &[u8])> {
    let (d, rest) = marked(raw, timestamps, m)?;
    Some((
        d,
        if timestamps {
            strip_timestamp(rest).unwrap_or(rest)
        } else {
            rest
        },
    ))
}

/// `line` without its comment and the blanks before it.
fn without_annotation(line: &[u8]) -> &[u8] {
    match annotation_at(line) {
        Some(i) => line.get(..i).unwrap_or(line).trim_ascii_end(),
        None => line,
    }
}

/// One source line's content, with its direction.
struct Chunk {
    line: usize,
    direction: Direction,
    bytes: Vec<u8>,
}

/// The content of each source line: timestamps and marks removed, escapes
/// read back; preamble lines of a marked log left out.
fn chunks(
    lines: &[&[u8]],
    format: Format,
    timestamps: bool,
    escaped: bool,
    annotated: bool,
) -> Vec<Chunk> {
    let mut out = Vec::new();
    let mut last: Option<Direction> = None;
    for (i, raw) in lines.iter().enumerate() {
        let l = content(raw, timestamps);
        let (direction, rest) = match format {
            Format::Marked(m) => match marked_content(raw, timestamps, m) {
                Some((d, rest)) => (d, rest),
                // A continuation of the line before; a preamble is skipped.
                None => match last {
                    Some(d) => (d, l),
                    None => continue,
                },
            },
            _ => (Direction::Received, l),
        };
        last = Some(direction);
        let rest = if annotated {
            let kept = without_annotation(rest);
            if is_blank(kept) && !is_blank(rest) {
                // A line that is only a comment.
                continue;
            }
            kept
        } else {
            rest
        };
        let bytes = if escaped {
            unescape(rest)
        } else {
            rest.to_vec()
        };
        out.push(Chunk {
            line: i + 1,
            direction,
            bytes,
        });
    }
    out
}

/// Cuts a byte stream into lines at CR, LF or CR LF.
#[derive(Default)]
struct Splitter {
    entries: Vec<Entry>,
    buf: Vec<u8>,
    /// The source line the current line started on.
    start: Option<usize>,
    direction: Option<Direction>,
    /// The last line ended with CR: an LF next is part of its ending.
    after_cr: bool,
}

impl Splitter {
    fn byte(&mut self, b: u8, line: usize, direction: Direction) {
        if self.direction != Some(direction) {
            self.flush();
            self.direction = Some(direction);
        }
        if b == b'\n' && self.after_cr {
            self.after_cr = false;
            if let Some(last) = self.entries.last_mut() {
                last.ending = 2;
            }
            return;
        }
        self.after_cr = b == b'\r';
        if b == b'\r' || b == b'\n' {
            self.entries.push(Entry {
                line: self.start.take().unwrap_or(line),
                direction,
                bytes: std::mem::take(&mut self.buf),
                ending: 1,
            });
        } else {
            if self.start.is_none() {
                self.start = Some(line);
            }
            self.buf.push(b);
        }
    }

    /// Ends an unended line (a direction change, the end of the log).
    fn flush(&mut self) {
        self.after_cr = false;
        if let (Some(start), Some(direction)) = (self.start.take(), self.direction) {
            self.entries.push(Entry {
                line: start,
                direction,
                bytes: std::mem::take(&mut self.buf),
                ending: 0,
            });
        }
    }

    fn finish(mut self) -> Vec<Entry> {
        self.flush();
        self.entries
    }
}

fn stream_entries(chunks: &[Chunk]) -> Vec<Entry> {
    let mut s = Splitter::default();
    for c in chunks {
        if s.direction != Some(c.direction) {
            s.flush();
            s.direction = Some(c.direction);
        }
        for &b in &c.bytes {
            s.byte(b, c.line, c.direction);
        }
    }
    s.finish()
}

fn raw_entries(bytes: &[u8]) -> Vec<Entry> {
    let mut s = Splitter::default();
    let mut line = 1usize;
    let mut prev = 0u8;
    for &b in bytes {
        // Directions are assigned once the lines are known.
        s.byte(b, line, Direction::Received);
        // A CR LF pair counts as one line ending.
        let crlf = prev == b'\r' && b == b'\n';
        if (b == b'\r' || b == b'\n') && !crlf {
            line += 1;
        }
        prev = b;
    }
    s.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_start_after_a_blank_outside_quotes() {
        use super::annotation_at;
        assert_eq!(annotation_at(b"AT  // Test."), Some(4));
        assert_eq!(annotation_at(b"AT //x"), Some(3));
        assert_eq!(annotation_at(b"OK\t# Fine."), Some(3));
        assert_eq!(annotation_at(b"// A whole line."), Some(0));
        assert_eq!(annotation_at(b"# A whole line."), Some(0));
        // Not comments: quoted, glued to a word, `#` without a space.
        assert_eq!(annotation_at(b"AT+QHTTPURL=\"http://a/b\""), None);
        assert_eq!(annotation_at(b"+X: a//b"), None);
        assert_eq!(annotation_at(b"+X: #1,\"a // b\""), None);
        assert_eq!(annotation_at(b"+X: \"a # b\" # c"), Some(12));
    }

    #[test]
    fn timestamps() {
        for (l, rest) in [
            (&b"[2024-01-01 12:00:00.123] > AT"[..], &b"> AT"[..]),
            (b"2024-01-01T12:00:00.123Z > AT", b"> AT"),
            (b"12:00:00.123 OK", b"OK"),
            (b"[12345.678] OK", b"OK"),
            (b"12345.678 OK", b"OK"),
            (b"(12:00:00) OK", b"OK"),
        ] {
            assert_eq!(
                strip_timestamp(l),
                Some(rest),
                "{}",
                String::from_utf8_lossy(l)
            );
        }
        for l in [&b"[TX] AT"[..], b"+QVERSION: 1", b"OK", b"12.5V", b"1234"] {
            assert_eq!(strip_timestamp(l), None, "{}", String::from_utf8_lossy(l));
        }
    }

    #[test]
    fn escapes() {
        assert_eq!(
            unescape(b"a\\r\\n<CR><LF>\\x1a<SUB><esc>\\\\"),
            b"a\r\n\r\n\x1a\x1a\x1b\\"
        );
        assert_eq!(unescape(b"<n> \\q"), b"<n> \\q");
    }

    #[test]
    fn raw_lines() {
        let t = parse(b"AT\r\r\n\r\nOK\r\n").unwrap();
        assert_eq!(t.format, Format::Raw);
        let texts: Vec<_> = t
            .entries
            .iter()
            .map(|e| (e.line, e.text(), e.ending))
            .collect();
        assert_eq!(
            texts,
            vec![
                (1, "AT".to_string(), 1),
                (2, "".to_string(), 2),
                (3, "".to_string(), 2),
                (4, "OK".to_string(), 2)
            ]
        );
    }
}
