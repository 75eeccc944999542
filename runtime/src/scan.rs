//! The building blocks of the generated line matchers
//! (`generated/decode.rs`): byte-level token scanners, literals, and the
//! PEG combinators (sequence, optional, repetition, ordered choice) with the
//! exact semantics of the reference pest grammar (`fcm242d-grammar`), so that
//! both accept the same lines and capture the same spans. A differential
//! test (`grammar/tests/differential.rs`) holds them to that.
//!
//! A matcher walks the line once, left to right, and records each capture
//! (a parameter occurrence, or an optional group that was present) as a
//! span in [`Caps`]; a branch that fails drops what it recorded, as pest
//! drops the tokens of a failed branch. Nothing is allocated for lines with
//! up to [`INLINE`] captures.

use alloc::vec::Vec;

use crate::wire::DecodeError;

/// Captures kept without allocating.
pub const INLINE: usize = 24;

/// The id of an optional group's capture: `GROUP | <group number>`; a
/// parameter occurrence's id is its number.
pub const GROUP: u16 = 0x8000;

/// The captures of one matched line, in the order pest would list them
/// (pre-order: a group before what it contains).
#[derive(Debug)]
pub struct Caps<'a> {
    line: &'a str,
    inline: [(u16, u32, u32); INLINE],
    len: usize,
    spill: Vec<(u16, u32, u32)>,
    /// The furthest position where something failed to match.
    far: usize,
}

impl<'a> Caps<'a> {
    /// No captures yet, over `line`.
    pub fn new(line: &'a str) -> Self {
        Caps {
            line,
            inline: [(0, 0, 0); INLINE],
            len: 0,
            spill: Vec::new(),
            far: 0,
        }
    }

    /// The line's bytes.
    #[inline]
    pub fn bytes(&self) -> &'a [u8] {
        self.line.as_bytes()
    }

    /// How many captures are recorded.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is recorded.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Records a capture; returns its index.
    #[inline]
    fn push(&mut self, id: u16, start: usize, end: usize) -> usize {
        // Lines are bounded by the engine's limits far below 4 GiB; a longer
        // one saturates (its captures then fail to slice and read as empty).
        let entry = (
            id,
            u32::try_from(start).unwrap_or(u32::MAX),
            u32::try_from(end).unwrap_or(u32::MAX),
        );
        let i = self.len;
        if i < INLINE {
            self.inline[i] = entry;
        } else {
            self.spill.push(entry);
        }
        self.len += 1;
        i
    }

    fn set_end(&mut self, i: usize, end: usize) {
        let end = u32::try_from(end).unwrap_or(u32::MAX);
        if i < INLINE {
            self.inline[i].2 = end;
        } else if let Some(e) = self.spill.get_mut(i - INLINE) {
            e.2 = end;
        }
    }

    /// Drops every capture from index `len` on.
    #[inline]
    fn truncate(&mut self, len: usize) {
        if len < self.len {
            self.len = len;
            self.spill.truncate(len.saturating_sub(INLINE));
        }
    }

    #[inline]
    fn fail(&mut self, at: usize) {
        if at > self.far {
            self.far = at;
        }
    }

    /// The capture at index `i`: its id and text.
    fn get(&self, i: usize) -> Option<(u16, &'a str)> {
        let (id, s, e) = if i < INLINE {
            if i >= self.len {
                return None;
            }
            self.inline[i]
        } else {
            *self.spill.get(i - INLINE)?
        };
        let text = self.line.get(s as usize..e as usize).unwrap_or("");
        Some((id, text))
    }

    /// The captures, in order: `(id, text)`.
    pub fn iter(&self) -> impl Iterator<Item = (u16, &'a str)> + '_ {
        (0..self.len).filter_map(move |i| self.get(i))
    }
}

/// One step of a line rule's description: what the generated decoder
/// (`generated/decode.rs`) emits for every command form, response line and
/// URC variant, interpreted by [`exec`]. A table instead of one function per
/// rule keeps the firmware small: the walking code exists once, and each rule
/// costs only its description in read-only data.
#[derive(Debug, Clone, Copy)]
pub enum Op {
    /// `"text"`.
    Lit(&'static [u8]),
    /// `^"text"` (ASCII case-insensitive).
    LitCi(&'static [u8]),
    /// A capture with this id of what the token matches.
    Cap(u16, Token),
    /// `(a | b)`: the first capture's token, else the second's.
    Alt(u16, Token, u16, Token),
    /// `(seq)?`: the sequence, else nothing (what it captured is dropped).
    Opt(&'static [Op]),
    /// A named group (`<rule>__g<n>`): the sequence, captured as a whole.
    Group(u16, &'static [Op]),
    /// `(seq)*`: the sequence as many times as it matches.
    Star(&'static [Op]),
}

/// A matcher of one whole line: its description, matched up to the end of
/// the line.
pub type Matcher = &'static [Op];

/// Matches the sequence `ops` at `p`: the position after it.
pub fn exec(c: &mut Caps<'_>, mut p: usize, ops: &[Op]) -> Option<usize> {
    for op in ops {
        p = match *op {
            Op::Lit(text) => lit(c, p, text)?,
            Op::LitCi(text) => lit_ci(c, p, text)?,
            Op::Cap(id, tok) => cap(c, id, p, tok)?,
            Op::Alt(ia, ta, ib, tb) => {
                alt(c, p, |c, p| cap(c, ia, p, ta), |c, p| cap(c, ib, p, tb))?
            }
            Op::Opt(inner) => opt(c, p, |c, p| exec(c, p, inner)),
            Op::Group(id, inner) => group(c, id, p, |c, p| exec(c, p, inner))?,
            Op::Star(inner) => star(c, p, |c, p| exec(c, p, inner)),
        };
    }
    Some(p)
}

/// Runs `m` over `line`: its captures, or `NoMatch` naming `expected`.
#[inline(never)]
pub fn run<'a>(line: &'a str, expected: &'static str, m: Matcher) -> Result<Caps<'a>, DecodeError> {
    matched(line, expected, m)
}

/// [`run`], inlined into [`fields`] so that the captures are not copied out.
#[inline(always)]
fn matched<'a>(line: &'a str, expected: &'static str, m: Matcher) -> Result<Caps<'a>, DecodeError> {
    let mut c = Caps::new(line);
    let matched = exec(&mut c, 0, m).and_then(|p| eoi(&mut c, p));
    match matched {
        Some(()) => Ok(c),
        None => Err(DecodeError::NoMatch {
            expected,
            at: Some(c.far),
        }),
    }
}

/// Runs `m` over `line` and gathers its captures: the text of parameter
/// occurrence `i` into `v[i]` (a later capture of the same occurrence wins),
/// `groups[n] = true` for optional group `n` when present. One shared
/// function that every generated decoder of a rule without repetition
/// calls: no decoder carries its own copy of the captures or its own loop.
/// When the line does not match, what `v` and `groups` hold is unspecified.
#[inline(never)]
pub fn fields<'a>(
    line: &'a str,
    expected: &'static str,
    m: Matcher,
    v: &mut [Option<&'a str>],
    groups: &mut [bool],
) -> Result<(), DecodeError> {
    // Without repetition each occurrence is captured at most once, so the
    // captures can go straight into `v` and `groups`, and a failed branch
    // is undone by clearing what it wrote (a bit per slot): no capture
    // list to fill and copy out. A matcher this walk does not cover (a
    // repetition, a slot captured twice, more than 64 slots) takes the
    // general walk below, with the same result.
    if v.len() <= direct::SLOTS && groups.len() <= direct::SLOTS {
        let mut d = direct::Direct::new(line, v, groups);
        match d.exec(0, m) {
            Some(p) if p == line.len() => return Ok(()),
            Some(p) => {
                d.fail(p);
                return Err(DecodeError::NoMatch {
                    expected,
                    at: Some(d.far),
                });
            }
            None if !d.unsupported => {
                return Err(DecodeError::NoMatch {
                    expected,
                    at: Some(d.far),
                })
            }
            None => {
                v.fill(None);
                groups.fill(false);
            }
        }
    }
    let c = matched(line, expected, m)?;
    for (id, text) in c.iter() {
        if id & GROUP != 0 {
            if let Some(g) = groups.get_mut(usize::from(id & !GROUP)) {
                *g = true;
            }
        } else if let Some(slot) = v.get_mut(usize::from(id)) {
            *slot = Some(text);
        }
    }
    Ok(())
}

// ---- straight-line walks ----

/// A walk of a line rule made only of literals and captures (no optional
/// group, repetition or nesting): the generator emits it as straight-line
/// code (`generated/decode.rs`, `walk_<rule>`) calling these steps in the
/// order the rule's [`Op`]s list them, with the same semantics as
/// [`fields`]' walk of the table. Each step either moves on or records
/// where the line stopped matching and returns `None`: a sequence does not
/// backtrack, so the first failure is the furthest.
#[derive(Debug)]
pub struct Cursor<'a, 'v> {
    line: &'a str,
    p: usize,
    v: &'v mut [Option<&'a str>],
    /// The values of the integers read by [`int`](Cursor::int).
    n: &'v mut [Option<i64>],
    /// Where the line stopped matching.
    far: usize,
}

impl<'a, 'v> Cursor<'a, 'v> {
    /// At the start of `line`, capturing parameter occurrence `i` into `v[i]`.
    pub fn new(line: &'a str, v: &'v mut [Option<&'a str>]) -> Self {
        Self::with_numbers(line, v, &mut [])
    }

    /// The same, and the value of an integer occurrence `i` into `n[i]`
    /// (see [`int`](Cursor::int)).
    pub fn with_numbers(
        line: &'a str,
        v: &'v mut [Option<&'a str>],
        n: &'v mut [Option<i64>],
    ) -> Self {
        Cursor {
            line,
            p: 0,
            v,
            n,
            far: 0,
        }
    }

    /// Records a failure at the current position.
    #[cold]
    fn miss(&mut self) -> Option<()> {
        self.far = self.p;
        None
    }

    /// The one-byte literal `byte` (the comma between fields, mostly).
    #[inline]
    pub fn byte(&mut self, byte: u8) -> Option<()> {
        if self.line.as_bytes().get(self.p) == Some(&byte) {
            self.p += 1;
            Some(())
        } else {
            self.miss()
        }
    }

    /// The literal `text`.
    #[inline]
    pub fn lit(&mut self, text: &[u8]) -> Option<()> {
        match self.line.as_bytes().get(self.p..self.p + text.len()) {
            Some(s) if same(s, text) => {
                self.p += text.len();
                Some(())
            }
            _ => self.miss(),
        }
    }

    /// The literal `text`, ASCII case-insensitive.
    #[inline]
    pub fn lit_ci(&mut self, text: &[u8]) -> Option<()> {
        match self.line.as_bytes().get(self.p..self.p + text.len()) {
            Some(s) if s.eq_ignore_ascii_case(text) => {
                self.p += text.len();
                Some(())
            }
            _ => self.miss(),
        }
    }

    /// Stores the capture `p..e` in slot `id` and moves to `e`.
    #[inline(always)]
    fn store(&mut self, id: usize, e: usize) {
        let text = self.line.get(self.p..e).unwrap_or("");
        if let Some(slot) = self.v.get_mut(id) {
            *slot = Some(text);
        }
        self.p = e;
    }

    /// A capture, in slot `id`, of what `tok` matches.
    #[inline(always)]
    pub fn cap(&mut self, id: usize, tok: Token) -> Option<()> {
        match tok.end(self.line.as_bytes(), self.p) {
            Some(e) => {
                self.store(id, e);
                Some(())
            }
            None => self.miss(),
        }
    }

    /// A capture, in slot `id`, of an integer ([`Token::Int`]: `-`? and
    /// digits), read in the same pass: `n[id]` is its value, as
    /// `str::parse::<i64>` reads it, or `None` when it does not fit an
    /// `i64`. The typed decoder then needs no second pass over the digits.
    #[inline(always)]
    pub fn int(&mut self, id: usize) -> Option<()> {
        let rest = self.line.as_bytes().get(self.p..).unwrap_or_default();
        let (negative, digits) = match rest {
            [b'-', tail @ ..] => (true, tail),
            _ => (false, rest),
        };
        // Up to 18 digits cannot overflow: summed without checks, in the
        // one loop that also finds where the digits end.
        let mut magnitude: u64 = 0;
        let mut len = 0;
        for &d in digits {
            let digit = d.wrapping_sub(b'0');
            if digit > 9 {
                break;
            }
            magnitude = magnitude.wrapping_mul(10).wrapping_add(u64::from(digit));
            len += 1;
        }
        if len == 0 {
            return self.miss();
        }
        let e = self.p + usize::from(negative) + len;
        let value = if len <= 18 {
            // Below 10^18: fits an `i64` either way.
            i64::try_from(magnitude)
                .ok()
                .map(|m| if negative { -m } else { m })
        } else {
            // Longer (leading zeros, or too large): as the standard
            // library reads it.
            self.line.get(self.p..e).and_then(|t| t.parse().ok())
        };
        if let Some(slot) = self.n.get_mut(id) {
            *slot = value;
        }
        self.store(id, e);
        Some(())
    }

    /// A capture, in slot `id`, of an IPv4 address ([`Token::Ipv4`], or
    /// [`Token::QuotedIpv4`] when `quoted`), read in the same pass: `n[id]`
    /// is the address as a `u32` when [`parse_ipv4`] would accept the text
    /// (no octet over 255, no leading zero), else `None`. The typed decoder
    /// then needs no second pass over the digits.
    ///
    /// [`parse_ipv4`]: crate::value::parse_ipv4
    #[inline]
    pub fn ipv4(&mut self, id: usize, quoted: bool) -> Option<()> {
        let b = self.line.as_bytes();
        let mut at = self.p;
        if quoted {
            if b.get(at) != Some(&b'"') {
                return self.miss();
            }
            at += 1;
        }
        let mut address: u32 = 0;
        let mut plain = true;
        for k in 0..4 {
            if k > 0 {
                if b.get(at) != Some(&b'.') {
                    return self.miss();
                }
                at += 1;
            }
            // One to three digits, greedy, as the token reads them.
            let start = at;
            let mut octet: u32 = 0;
            while at - start < 3 {
                match b.get(at) {
                    Some(&d) if d.is_ascii_digit() => octet = octet * 10 + u32::from(d - b'0'),
                    _ => break,
                }
                at += 1;
            }
            if at == start {
                return self.miss();
            }
            plain &= octet <= 255 && (at - start == 1 || b.get(start) != Some(&b'0'));
            address = address << 8 | (octet & 0xff);
        }
        if quoted {
            if b.get(at) != Some(&b'"') {
                return self.miss();
            }
            at += 1;
        }
        if let Some(slot) = self.n.get_mut(id) {
            *slot = plain.then_some(i64::from(address));
        }
        self.store(id, at);
        Some(())
    }

    /// `(a | b)`: a capture in slot `ia` of what `ta` matches, else one in
    /// slot `ib` of what `tb` matches.
    #[inline]
    pub fn alt(&mut self, ia: usize, ta: Token, ib: usize, tb: Token) -> Option<()> {
        let b = self.line.as_bytes();
        if let Some(e) = ta.end(b, self.p) {
            self.store(ia, e);
            return Some(());
        }
        match tb.end(b, self.p) {
            Some(e) => {
                self.store(ib, e);
                Some(())
            }
            None => self.miss(),
        }
    }

    /// The end of the line.
    #[inline]
    pub fn end(&mut self) -> Option<()> {
        if self.p == self.line.len() {
            Some(())
        } else {
            self.miss()
        }
    }
}

/// [`walk`], with the values of the integers the walk reads (see
/// [`Cursor::int`]) in `n`.
#[inline]
pub fn walk_numbers<'a>(
    line: &'a str,
    expected: &'static str,
    v: &mut [Option<&'a str>],
    n: &mut [Option<i64>],
    w: impl FnOnce(&mut Cursor<'a, '_>) -> Option<()>,
) -> Result<(), DecodeError> {
    let mut c = Cursor::with_numbers(line, v, n);
    match w(&mut c) {
        Some(()) => Ok(()),
        None => Err(DecodeError::NoMatch {
            expected,
            at: Some(c.far),
        }),
    }
}

/// Runs the straight-line walk `w` over `line`, capturing parameter
/// occurrence `i` into `v[i]`; `NoMatch` naming `expected` when the line
/// does not match (what `v` holds is then unspecified).
#[inline]
pub fn walk<'a>(
    line: &'a str,
    expected: &'static str,
    v: &mut [Option<&'a str>],
    w: impl FnOnce(&mut Cursor<'a, '_>) -> Option<()>,
) -> Result<(), DecodeError> {
    walk_numbers(line, expected, v, &mut [], w)
}

// ---- literals and the end of the line ----

/// `"text"` at `p`.
#[inline]
pub fn lit(c: &mut Caps<'_>, p: usize, text: &[u8]) -> Option<usize> {
    let b = c.bytes();
    match b.get(p..p + text.len()) {
        Some(s) if same(s, text) => Some(p + text.len()),
        _ => {
            c.fail(p);
            None
        }
    }
}

/// Whether `a` and `b` hold the same bytes: eight at a time, then one at a
/// time, since the literals of the grammar are short (a prefix such as
/// `+QISTATE: `) and a call to `memcmp` per literal costs more than
/// comparing them. One copy, not inlined: the firmware's `.text` is
/// counted.
#[inline(never)]
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let (a1, b1) = (a8.remainder(), b8.remainder());
    a8.zip(b8).all(|(x, y)| x == y) && a1.iter().zip(b1).all(|(x, y)| x == y)
}

/// `^"text"` at `p` (ASCII case-insensitive, as pest's `match_insensitive`).
#[inline]
pub fn lit_ci(c: &mut Caps<'_>, p: usize, text: &[u8]) -> Option<usize> {
    let b = c.bytes();
    match b.get(p..p + text.len()) {
        Some(s) if s.eq_ignore_ascii_case(text) => Some(p + text.len()),
        _ => {
            c.fail(p);
            None
        }
    }
}

/// `EOI` at `p`.
#[inline]
pub fn eoi(c: &mut Caps<'_>, p: usize) -> Option<()> {
    if p == c.bytes().len() {
        Some(())
    } else {
        c.fail(p);
        None
    }
}

// ---- combinators ----

/// A capture of what `tok` matches at `p`, with id `id`.
#[inline]
pub fn cap(c: &mut Caps<'_>, id: u16, p: usize, tok: Token) -> Option<usize> {
    match tok.end(c.bytes(), p) {
        Some(e) => {
            c.push(id, p, e);
            Some(e)
        }
        None => {
            c.fail(p);
            None
        }
    }
}

/// `(e)?`: what `e` matches at `p`, else nothing (and what `e` captured is dropped).
#[inline]
pub fn opt<'a>(
    c: &mut Caps<'a>,
    p: usize,
    e: impl FnOnce(&mut Caps<'a>, usize) -> Option<usize>,
) -> usize {
    let mark = c.len();
    match e(c, p) {
        Some(q) => q,
        None => {
            c.truncate(mark);
            p
        }
    }
}

/// `(e)*`: `e` as many times as it matches (greedy, as PEG repetition).
#[inline]
pub fn star<'a>(
    c: &mut Caps<'a>,
    mut p: usize,
    e: impl Fn(&mut Caps<'a>, usize) -> Option<usize>,
) -> usize {
    loop {
        let mark = c.len();
        match e(c, p) {
            // A repetition that consumes nothing would repeat forever; the
            // grammar's repeated groups all start with a comma.
            Some(q) if q > p => p = q,
            Some(_) => return p,
            None => {
                c.truncate(mark);
                return p;
            }
        }
    }
}

/// A named group (`<rule>__g<n>`): `e` at `p`, captured as a whole with id `id`.
#[inline]
pub fn group<'a>(
    c: &mut Caps<'a>,
    id: u16,
    p: usize,
    e: impl FnOnce(&mut Caps<'a>, usize) -> Option<usize>,
) -> Option<usize> {
    let i = c.push(id, p, p);
    match e(c, p) {
        Some(q) => {
            c.set_end(i, q);
            Some(q)
        }
        None => {
            c.truncate(i);
            None
        }
    }
}

/// `(a | b)`: `a` at `p`, else `b` at `p`.
#[inline]
pub fn alt<'a>(
    c: &mut Caps<'a>,
    p: usize,
    a: impl FnOnce(&mut Caps<'a>, usize) -> Option<usize>,
    b: impl FnOnce(&mut Caps<'a>, usize) -> Option<usize>,
) -> Option<usize> {
    let mark = c.len();
    if let Some(q) = a(c, p) {
        return Some(q);
    }
    c.truncate(mark);
    b(c, p)
}

// ---- tokens (the grammar's `*_token` rules) ----

/// A token of the grammar (its `*_token` rules). An enum rather than a
/// function pointer: the walk dispatches on it with a jump and the scanners
/// are inlined into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Token {
    /// [`int`]
    Int,
    /// [`hex`]
    Hex,
    /// [`quoted_ipv4`]
    QuotedIpv4,
    /// [`ipv4`]
    Ipv4,
    /// [`quoted`]
    Quoted,
    /// [`rest`]
    Rest,
    /// [`bare`]
    Bare,
    /// [`framed`]
    Framed,
    /// [`range`]
    Range,
}

impl Token {
    /// The end of the token that starts at `p`, if one does.
    #[inline(always)]
    pub fn end(self, b: &[u8], p: usize) -> Option<usize> {
        match self {
            Token::Int => int(b, p),
            Token::Hex => hex(b, p),
            Token::QuotedIpv4 => quoted_ipv4(b, p),
            Token::Ipv4 => ipv4(b, p),
            Token::Quoted => quoted(b, p),
            Token::Rest => rest(b, p),
            Token::Bare => bare(b, p),
            Token::Framed => framed(b, p),
            Token::Range => range(b, p),
        }
    }
}

/// Skips bytes from `p` while `keep` holds.
#[inline]
fn skip(b: &[u8], p: usize, keep: impl Fn(u8) -> bool) -> usize {
    match b.get(p..) {
        Some(rest) => p + rest.iter().position(|&x| !keep(x)).unwrap_or(rest.len()),
        None => p,
    }
}

/// `int_token = "-"? ~ ASCII_DIGIT+`
pub fn int(b: &[u8], p: usize) -> Option<usize> {
    let p = if b.get(p) == Some(&b'-') { p + 1 } else { p };
    let e = skip(b, p, |x| x.is_ascii_digit());
    (e > p).then_some(e)
}

/// `hex_token = ("0x" | "0X")? ~ ASCII_HEX_DIGIT+` (PEG: once `0x` is
/// taken, digits must follow it).
pub fn hex(b: &[u8], p: usize) -> Option<usize> {
    let p = match b.get(p..p + 2) {
        Some(b"0x") | Some(b"0X") => p + 2,
        _ => p,
    };
    let e = skip(b, p, |x| x.is_ascii_hexdigit());
    (e > p).then_some(e)
}

/// One to three digits (`ASCII_DIGIT{1,3}`, greedy).
#[inline]
fn digits3(b: &[u8], p: usize) -> Option<usize> {
    let mut e = p;
    while e < p + 3 && b.get(e).is_some_and(u8::is_ascii_digit) {
        e += 1;
    }
    (e > p).then_some(e)
}

/// `ipv4_token = ASCII_DIGIT{1,3} ~ ("." ~ ASCII_DIGIT{1,3}){3}`
pub fn ipv4(b: &[u8], p: usize) -> Option<usize> {
    let mut e = digits3(b, p)?;
    for _ in 0..3 {
        if b.get(e) != Some(&b'.') {
            return None;
        }
        e = digits3(b, e + 1)?;
    }
    Some(e)
}

/// `"\"" ~ ipv4_token ~ "\""`
pub fn quoted_ipv4(b: &[u8], p: usize) -> Option<usize> {
    if b.get(p) != Some(&b'"') {
        return None;
    }
    let e = ipv4(b, p + 1)?;
    (b.get(e) == Some(&b'"')).then_some(e + 1)
}

/// `quoted_token = "\"" ~ (!("\"" | "\r" | "\n") ~ ANY)* ~ "\""`
pub fn quoted(b: &[u8], p: usize) -> Option<usize> {
    if b.get(p) != Some(&b'"') {
        return None;
    }
    let e = skip(b, p + 1, |x| !matches!(x, b'"' | b'\r' | b'\n'));
    (b.get(e) == Some(&b'"')).then_some(e + 1)
}

/// `bare_token = (!("," | "\r" | "\n") ~ ANY)*`
pub fn bare(b: &[u8], p: usize) -> Option<usize> {
    Some(skip(b, p, |x| !matches!(x, b',' | b'\r' | b'\n')))
}

/// `rest_token = (!("\r" | "\n") ~ ANY)*`
pub fn rest(b: &[u8], p: usize) -> Option<usize> {
    Some(skip(b, p, |x| !matches!(x, b'\r' | b'\n')))
}

/// `framed_token = "\"" ~ (!("\"" ~ EOI) ~ ANY)* ~ "\"" | (!EOI ~ ANY)*`:
/// both alternatives end at the end of the line, so the token is the rest
/// of the line, whatever it holds.
pub fn framed(b: &[u8], p: usize) -> Option<usize> {
    Some(b.len().max(p))
}

/// `range_token = "(" ~ (!(")" | "\r" | "\n") ~ ANY)* ~ ")" | (!("," | "\r" | "\n") ~ ANY)+`
pub fn range(b: &[u8], p: usize) -> Option<usize> {
    if b.get(p) == Some(&b'(') {
        let e = skip(b, p + 1, |x| !matches!(x, b')' | b'\r' | b'\n'));
        if b.get(e) == Some(&b')') {
            return Some(e + 1);
        }
    }
    let e = skip(b, p, |x| !matches!(x, b',' | b'\r' | b'\n'));
    (e > p).then_some(e)
}

/// The head of a module line: everything up to and including its first
/// `": "` (`+QIURC: `), which is how URCs are dispatched on their prefix;
/// empty when the line has none.
#[inline]
pub fn head(line: &[u8]) -> &[u8] {
    let mut from = 0;
    while let Some(i) = line.get(from..).and_then(|r| memchr::memchr(b':', r)) {
        let at = from + i;
        if line.get(at + 1) == Some(&b' ') {
            return line.get(..at + 2).unwrap_or_default();
        }
        from = at + 1;
    }
    &[]
}

/// The walk of [`fields`] for matchers without repetition: captures are
/// written where the decoder reads them.
mod direct {
    use super::{same, Op};

    /// Slots (parameter occurrences, groups) a walk can track.
    pub const SLOTS: usize = 64;

    /// A walk over one line. A walk that meets what it does not cover (a
    /// repetition, a slot captured twice) stops and sets `unsupported`:
    /// the caller then takes the general walk.
    pub struct Direct<'a, 'v> {
        line: &'a str,
        v: &'v mut [Option<&'a str>],
        groups: &'v mut [bool],
        /// Bit `i`: `v[i]` was written.
        written: u64,
        /// Bit `n`: `groups[n]` was set.
        present: u64,
        /// The furthest position where something failed to match.
        pub far: usize,
        /// The matcher needs the general walk.
        pub unsupported: bool,
    }

    impl<'a, 'v> Direct<'a, 'v> {
        pub fn new(line: &'a str, v: &'v mut [Option<&'a str>], groups: &'v mut [bool]) -> Self {
            Direct {
                line,
                v,
                groups,
                written: 0,
                present: 0,
                far: 0,
                unsupported: false,
            }
        }

        #[inline]
        pub fn fail(&mut self, at: usize) {
            if at > self.far {
                self.far = at;
            }
        }

        /// Something did not match at `at`: the walk of this sequence ends.
        #[cold]
        fn miss(&mut self, at: usize) -> Option<usize> {
            self.fail(at);
            None
        }

        /// The walk cannot go on: the general walk takes over.
        #[cold]
        fn give_up(&mut self) -> Option<usize> {
            self.unsupported = true;
            None
        }

        /// Undoes what was written since the marks `(written, present)`.
        fn undo(&mut self, mark: (u64, u64)) {
            let mut bits = self.written & !mark.0;
            while bits != 0 {
                let i = bits.trailing_zeros() as usize;
                if let Some(slot) = self.v.get_mut(i) {
                    *slot = None;
                }
                bits &= bits - 1;
            }
            let mut bits = self.present & !mark.1;
            while bits != 0 {
                let i = bits.trailing_zeros() as usize;
                if let Some(g) = self.groups.get_mut(i) {
                    *g = false;
                }
                bits &= bits - 1;
            }
            self.written = mark.0;
            self.present = mark.1;
        }

        /// Records the capture `p..e` in slot `id`; `false` when the walk
        /// cannot (a group id, a slot past the 64 tracked, a second capture
        /// of the same slot).
        #[inline(always)]
        fn store(&mut self, id: u16, p: usize, e: usize) -> bool {
            let i = usize::from(id);
            if i >= SLOTS {
                return false;
            }
            let bit = 1u64 << i;
            if self.written & bit != 0 {
                return false;
            }
            if let Some(slot) = self.v.get_mut(i) {
                *slot = Some(self.line.get(p..e).unwrap_or(""));
                self.written |= bit;
            }
            true
        }

        /// The sequence `ops` at `p`: the position after it, `None` when it
        /// does not match (what it wrote is then undone by the caller) or
        /// when the walk gave up (`unsupported`).
        pub fn exec(&mut self, mut p: usize, ops: &[Op]) -> Option<usize> {
            let b = self.line.as_bytes();
            for op in ops {
                p = match *op {
                    // A one-byte literal (the comma between fields, most
                    // of them) is one comparison.
                    Op::Lit(&[byte]) => {
                        if b.get(p) != Some(&byte) {
                            return self.miss(p);
                        }
                        p + 1
                    }
                    Op::Lit(text) => match b.get(p..p + text.len()) {
                        Some(s) if same(s, text) => p + text.len(),
                        _ => return self.miss(p),
                    },
                    Op::LitCi(text) => match b.get(p..p + text.len()) {
                        Some(s) if s.eq_ignore_ascii_case(text) => p + text.len(),
                        _ => return self.miss(p),
                    },
                    Op::Cap(id, tok) => match tok.end(b, p) {
                        Some(e) if self.store(id, p, e) => e,
                        Some(_) => return self.give_up(),
                        None => return self.miss(p),
                    },
                    Op::Alt(ia, ta, ib, tb) => {
                        let (id, e) = match ta.end(b, p) {
                            Some(e) => (ia, e),
                            None => {
                                self.fail(p);
                                match tb.end(b, p) {
                                    Some(e) => (ib, e),
                                    None => return self.miss(p),
                                }
                            }
                        };
                        if !self.store(id, p, e) {
                            return self.give_up();
                        }
                        e
                    }
                    Op::Opt(inner) => {
                        let mark = (self.written, self.present);
                        match self.exec(p, inner) {
                            Some(q) => q,
                            None if self.unsupported => return None,
                            None => {
                                self.undo(mark);
                                p
                            }
                        }
                    }
                    Op::Group(id, inner) => {
                        let mark = (self.written, self.present);
                        let Some(q) = self.exec(p, inner) else {
                            if !self.unsupported {
                                self.undo(mark);
                            }
                            return None;
                        };
                        if id & super::GROUP == 0 {
                            return self.give_up();
                        }
                        let n = usize::from(id & !super::GROUP);
                        if let Some(g) = self.groups.get_mut(n) {
                            let bit = 1u64 << n;
                            if self.present & bit != 0 {
                                return self.give_up();
                            }
                            *g = true;
                            self.present |= bit;
                        }
                        q
                    }
                    Op::Star(_) => return self.give_up(),
                };
            }
            Some(p)
        }
    }
}
