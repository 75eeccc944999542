//! Sans-IO framing of the module's UART output.
//!
//! The module's output is mostly lines (responses, result codes, URCs), but
//! not only: after `AT+QISEND` it sends a `>` prompt with no line ending;
//! some lines announce a block of raw bytes that follows them (`+QIRD: 18`,
//! `+QIURC: "recv",0,5`, `CONNECT 1757`, `+QBLERECV: 0,"fff2",10`); an HTTP
//! body after `CONNECT` runs until `\r\nOK\r\n`; and in transparent mode
//! everything is raw until `\r\nNO CARRIER\r\n`. The [`Framer`] turns the byte
//! stream into [`Frame`]s, whatever the fragmentation of the input.
//!
//! It does no I/O and keeps no clock: the caller feeds it bytes as they
//! arrive and tells it which lines announce data (through a [`DataOracle`]),
//! when a prompt is expected, and when transparent mode starts or ends.
//!
//! # Why the oracle decides, and why one frame at a time
//!
//! Whatever must change at a line boundary is asked of the oracle at that
//! very boundary ([`DataOracle::data_length`], or [`DataOracle::follow`] for
//! the other kinds of data phase): a caller that waits for `Line("CONNECT")`
//! and only then calls [`Framer::read_until`] is too late when the body
//! arrived in the same chunk, since those bytes would be framed as lines.
//!
//! The oracle's answers themselves depend on earlier frames (once a final
//! result has ended the command, its lines no longer announce data; after
//! `ERROR`, a `CONNECT` enters nothing). [`Framer::step`] therefore hands out
//! one frame at a time and frames no further byte until the caller asks
//! again, so the caller acts on each frame before the bytes after it are
//! looked at, however the input was split. [`Framer::feed`] is the loop over
//! `step` for callers whose oracle does not change.
//!
//! # Cost
//!
//! Every byte is looked at a bounded number of times: lines and data blocks
//! grow by appending, a terminator is recognised by comparing only the last
//! `terminator.len()` bytes, and `\r\nNO CARRIER\r\n` is matched incrementally
//! (a small automaton over the fixed pattern). Feeding one byte at a time
//! costs about the same per byte as feeding everything at once.
//!
//! When a chunk holds more than one byte of a line, the line's ordinary
//! bytes are not looked at one by one: the next CR or LF is found with
//! `memchr` (a machine word at a time) and everything before it is copied in
//! one go; only line endings, a possible prompt and the overflow limit go
//! through the per-byte decisions. A complete line is lent out of the
//! framer's own buffers ([`Framer::next_frame`] gives `FrameRef::Line(&[u8])`):
//! the two line buffers swap and keep their capacity from line to line, so
//! framing a line allocates nothing once they have grown to the longest line
//! seen. [`Framer::step`] and [`Framer::feed`] hand out owned frames (a copy
//! of the line) for callers that keep them.

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::mem;

/// What the framer recognised in the module's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A complete line without its line ending (CR LF, LF, or CR alone). Empty
    /// lines are skipped.
    Line(Vec<u8>),
    /// The data-phase prompt `>` (the module sends "\r\n> " or ">" with no
    /// line ending). Only recognised while a prompt is expected (see
    /// [`Framer::expect_prompt`]), and only at the start of a line.
    Prompt,
    /// A data block: exactly the number of bytes the line before it announced
    /// (see [`DataOracle`]), or the bytes before a terminator (see
    /// [`Framer::read_until`]). May contain CR, LF, '>', NUL, anything.
    Data(Vec<u8>),
    /// Bytes received in transparent mode (see [`Framer::set_transparent`]),
    /// coalesced per [`Framer::feed`] call. Never empty.
    Raw(Vec<u8>),
    /// A line longer than the limit: its bytes are discarded up to the next
    /// line ending. Reported once per such line, as soon as the limit is
    /// exceeded, with its length so far (the limit plus one).
    Overflow {
        /// How many bytes of the line had been received when it was reported.
        discarded: usize,
    },
}

/// A frame as [`Framer::next_frame`] hands it out: a line is lent from the
/// framer's buffer (valid until the next call), everything else is as in
/// [`Frame`].
#[derive(Debug, PartialEq, Eq)]
pub enum FrameRef<'a> {
    /// A complete line without its line ending (see [`Frame::Line`]).
    Line(&'a [u8]),
    /// See [`Frame::Prompt`].
    Prompt,
    /// See [`Frame::Data`].
    Data(Vec<u8>),
    /// See [`Frame::Raw`].
    Raw(Vec<u8>),
    /// See [`Frame::Overflow`].
    Overflow {
        /// How many bytes of the line had been received when it was reported.
        discarded: usize,
    },
}

impl FrameRef<'_> {
    /// The owned frame (the line copied).
    pub fn into_owned(self) -> Frame {
        match self {
            FrameRef::Line(l) => Frame::Line(l.to_vec()),
            FrameRef::Prompt => Frame::Prompt,
            FrameRef::Data(d) => Frame::Data(d),
            FrameRef::Raw(r) => Frame::Raw(r),
            FrameRef::Overflow { discarded } => Frame::Overflow { discarded },
        }
    }
}

/// What follows a complete line, as decided by a [`DataOracle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Follow {
    /// More lines (the usual case).
    Lines,
    /// A data block of exactly this many bytes, starting right after the
    /// line's full ending. `Data(0)` yields an empty [`Frame::Data`] at once.
    Data(usize),
    /// A data block running up to (not including) this terminator, which is
    /// then framed normally, as with [`Framer::read_until`]. An empty
    /// terminator yields an empty [`Frame::Data`] at once.
    DataUntil(Vec<u8>),
    /// Transparent mode starts right after the line's full ending, as with
    /// [`Framer::set_transparent`]`(true)`.
    Transparent,
}

/// Tells the framer which lines announce a data block (e.g. `+QIRD: 18` then
/// CR LF then 18 bytes; `+QIURC: "recv",0,5` in direct-push mode;
/// `CONNECT 1757` of QFREAD; `+QBLERECV: 0,"fff2",10`). The runtime implements
/// it from the catalogue.
///
/// The oracle is consulted for every non-empty complete line (never for empty
/// or overflowing lines), at the moment the line ends, so that the bytes right
/// after it are framed accordingly even when they arrived in the same chunk.
pub trait DataOracle {
    /// For a complete line, the byte count of the data block that follows it
    /// after its line ending, if any.
    fn data_length(&self, line: &[u8]) -> Option<usize>;

    /// For a complete line, what follows it. The default asks
    /// [`data_length`](DataOracle::data_length); override it to start a data
    /// block that ends at a terminator (an HTTP body after `CONNECT`) or
    /// transparent mode (`CONNECT` of a transparent-mode open) right at the
    /// line boundary.
    fn follow(&self, line: &[u8]) -> Follow {
        match self.data_length(line) {
            Some(n) => Follow::Data(n),
            None => Follow::Lines,
        }
    }

    /// For a line not yet ended that has just met a CR or LF (`partial` is
    /// the line so far, without that byte): how many more bytes, counting
    /// that CR or LF, belong to the line whatever they are. This is how a
    /// payload inside a line, framed by a length field of the same line
    /// (`+QMTRECV: 0,1,"t",5,"a\r\nbc"`), keeps its CR LF. `None` (the
    /// default): the CR or LF ends the line.
    fn inline_remaining(&self, partial: &[u8]) -> Option<usize> {
        let _ = partial;
        None
    }

    /// Asked right after [`follow`](DataOracle::follow) for the same line:
    /// whether the caller needs the line's bytes in its [`Frame::Line`].
    /// `false` hands out an empty `Frame::Line` instead (nothing is copied
    /// or allocated): for a caller that has already decoded what it needs
    /// from the line while answering `follow`. The default: `true`. Only
    /// the owned frames of [`Framer::step`] and [`Framer::feed`] depend on
    /// it: [`Framer::next_frame`] always lends the line.
    fn keep_line(&self, line: &[u8]) -> bool {
        let _ = line;
        true
    }
}

/// An oracle for which no line announces data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoData;

impl DataOracle for NoData {
    fn data_length(&self, _line: &[u8]) -> Option<usize> {
        None
    }
}

/// Any `Fn(&[u8]) -> Option<usize>` is an oracle (handy in tests and for
/// simple callers).
impl<F> DataOracle for F
where
    F: Fn(&[u8]) -> Option<usize>,
{
    fn data_length(&self, line: &[u8]) -> Option<usize> {
        self(line)
    }
}

/// What [`Framer::peek_line`] found at the front of the input.
#[derive(Debug, PartialEq, Eq)]
pub enum Peek<'i> {
    /// A whole line (without its CR or LF), not yet taken.
    Line(&'i [u8]),
    /// Nothing was in progress and the input is used up: no frame.
    UsedUp,
    /// Something only the byte-level path of
    /// [`next_frame`](Framer::next_frame) handles: a line in progress or
    /// incomplete, a possible prompt, a data block, transparent mode, a
    /// line over the limit, frames queued.
    Slow,
}

/// What [`Framer::next_frame`]'s fast path found.
enum InPlace<'i> {
    /// A whole line, lent from the input.
    Line(&'i [u8]),
    /// Nothing was in progress and the input is used up: no frame.
    UsedUp,
    /// Something the byte-level path handles.
    Slow,
}

/// The sequence that ends transparent mode (the module dropped the link).
const NO_CARRIER: &[u8] = b"\r\nNO CARRIER\r\n";

/// The line reported when [`NO_CARRIER`] ends transparent mode.
const NO_CARRIER_LINE: &[u8] = b"NO CARRIER";

/// What the bytes being received are part of.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    /// A line, accumulated in `Framer::buf`.
    Line,
    /// A data block of known length; `remaining` bytes are still to come,
    /// the ones received so far are in `Framer::buf`.
    Counted { remaining: usize },
    /// A data block running up to `terminator` (never empty here), received
    /// so far in `Framer::buf`; the terminator is appended there too until it
    /// is recognised, then cut off and framed again as ordinary output.
    Until { terminator: Vec<u8> },
    /// Inside a line, bytes that belong to it whatever they are (see
    /// [`DataOracle::inline_remaining`]); `remaining` more are to come, then
    /// the line goes on as usual.
    Inline { remaining: usize },
    /// Transparent mode. `matched` bytes at the end of what was received are
    /// a prefix of [`NO_CARRIER`]: they are held back (not yet in `raw`)
    /// because they may still turn out to be the end of transparent mode.
    /// They are not stored, being exactly `NO_CARRIER[..matched]`.
    Transparent { matched: usize },
}

/// The sans-IO framer: feed it bytes, get [`Frame`]s.
///
/// State is kept across calls so that any split of the input (a CR in one
/// chunk and its LF in the next, a terminator cut in three, one byte per
/// call) yields the same frames as the whole input at once; only
/// [`Frame::Raw`] boundaries depend on the chunking.
#[derive(Debug, Clone)]
pub struct Framer {
    /// The longest line kept, in bytes.
    max_line: usize,
    /// What incoming bytes belong to.
    mode: Mode,
    /// The unframed bytes of the current line or data block. One buffer
    /// serves both because only one is ever in progress, which also makes
    /// "whatever was received since the last frame" well defined when the
    /// caller switches modes.
    buf: Vec<u8>,
    /// Bytes the current line may have beyond `max_line`: the in-line
    /// payloads its own length fields announced.
    allowance: usize,
    /// The current line overflowed (and was reported): drop bytes up to the
    /// next line ending.
    discarding: bool,
    /// The last byte was a CR ending a line (or an overflowing line): an LF
    /// right after it is the rest of that ending, not an empty line nor the
    /// first byte of a data block. A flag rather than a look-ahead because
    /// the LF may arrive in a later call.
    skip_lf: bool,
    /// A prompt `>` was just reported: a space right after it belongs to it.
    skip_space: bool,
    /// The caller expects a prompt (see [`Framer::expect_prompt`]).
    prompt_expected: bool,
    /// Raw bytes not yet reported. Transparent-mode bytes gather here so that
    /// the bytes of one call come out as one [`Frame::Raw`]; it is flushed
    /// before any other frame (to keep the order) and when the input of a
    /// call is used up. Between calls it holds only what a mode switch
    /// released (see [`Framer::set_transparent`]).
    raw: Vec<u8>,
    /// Bytes received earlier that must be framed again before any new input:
    /// the terminator of a data block (`\r\nOK\r\n`), which is ordinary output.
    replay: Vec<u8>,
    /// The last complete line, lent out by [`Framer::next_frame`]. It and
    /// `buf` swap when a line ends, so both keep their capacity.
    line: Vec<u8>,
    /// Whether the caller wants the bytes of the last line (see
    /// [`DataOracle::keep_line`]); an owned [`Frame::Line`] is empty if not.
    line_kept: bool,
    /// Frames complete but not yet handed out (a raw flush and the frame that
    /// caused it come out together). A line is queued as an empty
    /// `Frame::Line`: its bytes are in `line` (at most one line is ever
    /// queued, since framing stops at the first complete frame).
    ready: VecDeque<Frame>,
}

impl Framer {
    /// `max_line`: the longest line kept (bytes); longer lines become
    /// [`Frame::Overflow`].
    pub fn new(max_line: usize) -> Self {
        Framer {
            max_line,
            mode: Mode::Line,
            buf: Vec::new(),
            allowance: 0,
            discarding: false,
            skip_lf: false,
            skip_space: false,
            prompt_expected: false,
            raw: Vec::new(),
            replay: Vec::new(),
            line: Vec::new(),
            line_kept: false,
            ready: VecDeque::new(),
        }
    }

    /// The longest line kept, in bytes.
    pub fn max_line(&self) -> usize {
        self.max_line
    }

    /// Feeds bytes as they arrive (any fragmentation, down to one byte at a
    /// time); calls `out` for each complete frame in order.
    ///
    /// Raw bytes released by a mode switch since the last call (see
    /// [`set_transparent`](Framer::set_transparent)) come out first; feeding
    /// an empty slice just reports those.
    ///
    /// Every frame is framed with the oracle's answers as they are when the
    /// frame's bytes arrive, but `out` cannot change what the oracle will
    /// answer for the rest of `bytes`. A caller whose answers depend on the
    /// frames (a final result ends the command whose lines announce data)
    /// uses [`step`](Framer::step) instead.
    pub fn feed(&mut self, bytes: &[u8], oracle: &dyn DataOracle, out: &mut dyn FnMut(Frame)) {
        let mut input = bytes;
        while let Some(frame) = self.step(&mut input, oracle) {
            out(frame);
        }
    }

    /// Frames bytes from the front of `input` until one frame is complete,
    /// and returns it; `input` is left at the first byte not yet framed.
    /// `None` when `input` is used up without completing a frame (its bytes
    /// are kept: a partial line, a partial data block).
    ///
    /// Calling `step` until it returns `None` is [`feed`](Framer::feed), with
    /// one difference that matters: the caller handles each frame before a
    /// single further byte is framed, so whatever the frame changes (the
    /// oracle's answers, an expected prompt, transparent mode) applies to the
    /// very next byte, wherever the input was split. Raw bytes of one call
    /// come out as one [`Frame::Raw`] when the input is used up (or before
    /// the frame that ends transparent mode).
    pub fn step(&mut self, input: &mut &[u8], oracle: &dyn DataOracle) -> Option<Frame> {
        match self.next_queued(input, oracle)? {
            Frame::Line(_) if !self.line_kept => Some(Frame::Line(Vec::new())),
            Frame::Line(_) => Some(Frame::Line(self.line.clone())),
            frame => Some(frame),
        }
    }

    /// [`step`](Framer::step) without copying a line: the line is lent from
    /// the framer's buffer until the next call. What the engine uses:
    /// framing a line allocates nothing.
    pub fn next_frame<'s, 'i: 's>(
        &'s mut self,
        input: &mut &'i [u8],
        oracle: &dyn DataOracle,
    ) -> Option<FrameRef<'s>> {
        match self.line_in_place(input, oracle) {
            InPlace::Line(line) => return Some(FrameRef::Line(line)),
            // Nothing in progress and nothing left: no frame, and no need
            // to look at the (empty) queues.
            InPlace::UsedUp => return None,
            InPlace::Slow => {}
        }
        self.next_frame_bytewise(input, oracle)
    }

    /// The byte-level path of [`next_frame`](Framer::next_frame), for a
    /// caller that has already seen with [`peek_line`](Framer::peek_line)
    /// that the fast path does not apply (it decides the same either way:
    /// this only saves looking twice).
    pub fn next_frame_bytewise<'s>(
        &'s mut self,
        input: &mut &[u8],
        oracle: &dyn DataOracle,
    ) -> Option<FrameRef<'s>> {
        Some(match self.next_queued(input, oracle)? {
            Frame::Line(_) => FrameRef::Line(&self.line),
            Frame::Prompt => FrameRef::Prompt,
            Frame::Data(d) => FrameRef::Data(d),
            Frame::Raw(r) => FrameRef::Raw(r),
            Frame::Overflow { discarded } => FrameRef::Overflow { discarded },
        })
    }

    /// The fast path of [`next_frame`](Framer::next_frame): when nothing is
    /// in progress and `input` holds a whole line, the line is lent straight
    /// from `input` — not copied, not queued. It decides exactly as the
    /// byte-level path would (same empty-line, overflow, prompt and in-line
    /// payload rules); whatever it does not handle (a partial line, a
    /// possible prompt, a line with an in-line payload, an overflowing line)
    /// is left untouched in `input` for that path.
    fn line_in_place<'i>(&mut self, input: &mut &'i [u8], oracle: &dyn DataOracle) -> InPlace<'i> {
        match self.peek_line(input) {
            Peek::Line(line) => {
                if oracle.inline_remaining(line).is_some_and(|n| n > 0) {
                    return InPlace::Slow;
                }
                let follow = oracle.follow(line);
                self.take_line(input, line, follow);
                InPlace::Line(line)
            }
            Peek::UsedUp => InPlace::UsedUp,
            Peek::Slow => InPlace::Slow,
        }
    }

    /// For a caller that classifies whole lines itself (the engine, on its
    /// fast path): when nothing is in progress, skips what the byte-level
    /// path would skip at the front of `input` (the rest of the last
    /// frame's ending, empty lines) and shows the whole line that follows
    /// without taking it. The caller then either hands it back with
    /// [`take_line`](Framer::take_line), having decided what follows it, or
    /// — when the line holds an in-line payload its own length field
    /// announces ([`DataOracle::inline_remaining`]) — leaves it to
    /// [`next_frame_bytewise`](Framer::next_frame_bytewise), as it does
    /// whenever the answer is [`Peek::Slow`].
    pub fn peek_line<'i>(&mut self, input: &mut &'i [u8]) -> Peek<'i> {
        let idle = self.mode == Mode::Line
            && self.buf.is_empty()
            && !self.discarding
            && self.ready.is_empty()
            && self.replay.is_empty()
            && self.raw.is_empty();
        if !idle {
            return Peek::Slow;
        }
        loop {
            let bytes: &'i [u8] = input;
            let Some(&first) = bytes.first() else {
                return Peek::UsedUp;
            };
            if self.ends_last_frame(first) {
                *input = bytes.get(1..).unwrap_or_default();
                continue;
            }
            if self.prompt_expected && first == b'>' {
                return Peek::Slow;
            }
            if first == b'\r' || first == b'\n' {
                // An empty line (the CR LF that opens most answers):
                // nothing to report, and no search needed to see it.
                self.skip_lf = first == b'\r';
                *input = bytes.get(1..).unwrap_or_default();
                continue;
            }
            return match memchr::memchr2(b'\r', b'\n', bytes) {
                Some(end) if end <= self.max_line => {
                    Peek::Line(bytes.get(..end).unwrap_or_default())
                }
                _ => Peek::Slow,
            };
        }
    }

    /// Takes the line [`peek_line`](Framer::peek_line) just showed (`line`,
    /// at the front of `input`, nothing fed in between) and its CR or LF,
    /// `follow` saying what comes after it, as the byte-level path does
    /// when a line ends.
    pub fn take_line(&mut self, input: &mut &[u8], line: &[u8], follow: Follow) {
        let bytes: &[u8] = input;
        self.skip_lf = bytes.get(line.len()) == Some(&b'\r');
        self.allowance = 0;
        *input = bytes.get(line.len() + 1..).unwrap_or_default();
        self.start(follow);
    }

    /// Whether `byte`, the next one received, is the rest of the previous
    /// frame: the LF of a CR LF ending, or the space after a prompt. Either
    /// expectation lasts for one byte only.
    #[inline]
    fn ends_last_frame(&mut self, byte: u8) -> bool {
        (mem::take(&mut self.skip_lf) && byte == b'\n')
            || (mem::take(&mut self.skip_space) && byte == b' ')
    }

    /// The next queued frame (a line's bytes are in `line`).
    fn next_queued(&mut self, input: &mut &[u8], oracle: &dyn DataOracle) -> Option<Frame> {
        loop {
            if let Some(frame) = self.ready.pop_front() {
                return Some(frame);
            }
            // `read_until(b"")` completes without any byte.
            self.complete_empty_until();
            if !self.ready.is_empty() {
                continue;
            }
            if !self.replay.is_empty() {
                let replay = mem::take(&mut self.replay);
                let used = self.consume(&replay, oracle);
                // A terminator found inside the replayed bytes is framed
                // before what follows it.
                let mut next = mem::take(&mut self.replay);
                next.extend_from_slice(replay.get(used..).unwrap_or_default());
                self.replay = next;
                continue;
            }
            if input.is_empty() {
                self.flush_raw();
                return self.ready.pop_front();
            }
            let used = self.consume(input, oracle);
            *input = input.get(used..).unwrap_or_default();
        }
    }

    /// While true, a `>` at the start of a line is reported as
    /// [`Frame::Prompt`] (and the flag clears itself). An optional single
    /// space after '>' belongs to the prompt.
    ///
    /// Call it before sending the command that provokes the prompt
    /// (`AT+QISEND=…`), so that the prompt is recognised whichever chunk it
    /// arrives in.
    pub fn expect_prompt(&mut self, expected: bool) {
        self.prompt_expected = expected;
    }

    /// Whether a prompt is currently expected (see
    /// [`expect_prompt`](Framer::expect_prompt)).
    pub fn is_prompt_expected(&self) -> bool {
        self.prompt_expected
    }

    /// The next bytes up to (not including) `terminator` are one
    /// [`Frame::Data`]; the terminator itself is then framed normally (e.g.
    /// `read_until(b"\r\nOK\r\n")` for an HTTP body after CONNECT yields
    /// `Data(body)` then `Line("OK")`). Survives arbitrary fragmentation of
    /// the terminator.
    ///
    /// Bytes received but not yet framed (a partial line) become the start of
    /// the data; the rest of a line ending just received (an LF after CR) is
    /// still skipped. This leaves transparent mode. An empty terminator yields
    /// an empty `Data` (or the unframed bytes) at the next call.
    ///
    /// When the data phase starts right after a line (`CONNECT`), prefer
    /// [`DataOracle::follow`].
    pub fn read_until(&mut self, terminator: &[u8]) {
        let data = self.take_unframed();
        self.buf = data;
        self.mode = Mode::Until {
            terminator: terminator.to_vec(),
        };
    }

    /// Transparent mode: every byte is passed through as [`Frame::Raw`]
    /// (coalesced per call), except that the exact sequence
    /// "\r\nNO CARRIER\r\n" (also split across calls) ends transparent mode
    /// and is reported as `Frame::Line(b"NO CARRIER")` — bytes before it are
    /// Raw, bytes after it are framed normally.
    ///
    /// `set_transparent(false)` leaves transparent mode (the host sent
    /// `+++`); bytes held back while checking for a partial
    /// "\r\nNO CARRIER\r\n" match are flushed as Raw then, that is, first
    /// thing at the next call (which may be empty).
    ///
    /// Entering transparent mode turns bytes received but not yet framed (a
    /// partial line) into Raw. Switching to the mode the framer is already in
    /// does nothing. When transparent mode starts right after a line
    /// (`CONNECT`), prefer [`Follow::Transparent`] from the oracle.
    pub fn set_transparent(&mut self, on: bool) {
        match (on, self.is_transparent()) {
            (true, false) => {
                let pending = self.take_unframed();
                self.raw.extend_from_slice(&pending);
                self.mode = Mode::Transparent { matched: 0 };
            }
            (false, true) => {
                let held = self.take_unframed();
                self.raw.extend_from_slice(&held);
            }
            // Already in (or, for `false`, already out of) transparent mode.
            _ => {}
        }
    }

    /// Whether the framer is in transparent mode.
    pub fn is_transparent(&self) -> bool {
        matches!(self.mode, Mode::Transparent { .. })
    }

    /// Whether the framer is in the middle of a data block (a counted block
    /// or one that runs to a terminator).
    pub fn in_data(&self) -> bool {
        matches!(self.mode, Mode::Counted { .. } | Mode::Until { .. })
    }

    /// Drops any partial line or pending data state (after a module reboot or
    /// a resynchronisation): the framer is as [`new`](Framer::new) made it,
    /// out of transparent mode, expecting no prompt, holding no bytes.
    pub fn reset(&mut self) {
        *self = Framer::new(self.max_line);
    }

    /// Ends whatever was in progress and returns the bytes received since the
    /// last frame: a partial line (none if it overflowed: those were
    /// reported), a partial data block, or the held-back prefix of
    /// "\r\nNO CARRIER\r\n". Leaves line mode. `skip_lf` and `skip_space`
    /// survive: they concern a frame already reported.
    fn take_unframed(&mut self) -> Vec<u8> {
        let held = match mem::replace(&mut self.mode, Mode::Line) {
            Mode::Transparent { matched } => NO_CARRIER.get(..matched).unwrap_or_default(),
            _ => &[],
        };
        let mut taken = mem::take(&mut self.buf);
        self.allowance = 0;
        if self.discarding {
            taken.clear();
            self.discarding = false;
        }
        taken.extend_from_slice(held);
        taken
    }

    /// Frames bytes from the front of `bytes` until a frame is ready (or the
    /// bytes are used up); returns how many were used.
    fn consume(&mut self, bytes: &[u8], oracle: &dyn DataOracle) -> usize {
        let mut used = 0;
        while let Some(&byte) = bytes.get(used) {
            // Checked in every mode, since a data block or transparent mode
            // begins only after the previous frame's ending.
            if self.ends_last_frame(byte) {
                used += 1;
                continue;
            }
            match &mut self.mode {
                Mode::Line => {
                    let rest = bytes.get(used..).unwrap_or_default();
                    let run = self.line_run(rest);
                    if run > 0 {
                        // Ordinary bytes of the line, taken in one copy.
                        self.buf
                            .extend_from_slice(rest.get(..run).unwrap_or_default());
                        used += run;
                        continue;
                    }
                    used += 1;
                    self.line_byte(byte, oracle);
                }
                Mode::Counted { remaining } | Mode::Inline { remaining } => {
                    // Take as much of the block as this chunk holds at once.
                    let rest = bytes.get(used..).unwrap_or_default();
                    let take = (*remaining).min(rest.len());
                    *remaining -= take;
                    let done = *remaining == 0;
                    self.buf
                        .extend_from_slice(rest.get(..take).unwrap_or_default());
                    used += take;
                    if done {
                        let counted = matches!(self.mode, Mode::Counted { .. });
                        self.mode = Mode::Line;
                        if counted {
                            let data = mem::take(&mut self.buf);
                            self.emit(Frame::Data(data));
                        }
                    }
                }
                Mode::Until { terminator } => {
                    // The body can end only at a byte equal to the
                    // terminator's last: everything before the next such
                    // byte (found with `memchr`) is taken in one copy.
                    let rest = bytes.get(used..).unwrap_or_default();
                    let take = match terminator.last() {
                        Some(&last) => memchr::memchr(last, rest).map_or(rest.len(), |i| i + 1),
                        None => 1,
                    };
                    self.buf
                        .extend_from_slice(rest.get(..take).unwrap_or_default());
                    used += take;
                    // Only the tail is compared, so the cost per byte is
                    // bounded by the terminator's length, not the body's.
                    if !terminator.is_empty() && self.buf.ends_with(terminator) {
                        let terminator = mem::take(terminator);
                        self.mode = Mode::Line;
                        let body_len = self.buf.len().saturating_sub(terminator.len());
                        self.buf.truncate(body_len);
                        let data = mem::take(&mut self.buf);
                        self.emit(Frame::Data(data));
                        // The terminator (e.g. "\r\nOK\r\n") is ordinary output.
                        self.replay = terminator;
                    }
                }
                Mode::Transparent { matched } => {
                    let matched = *matched;
                    used += 1;
                    let matched = self.transparent_byte(matched, byte);
                    if matched >= NO_CARRIER.len() {
                        self.mode = Mode::Line;
                        self.line.clear();
                        self.line.extend_from_slice(NO_CARRIER_LINE);
                        self.line_kept = true;
                        self.emit(Frame::Line(Vec::new()));
                    } else {
                        self.mode = Mode::Transparent { matched };
                    }
                }
            }
            if !self.ready.is_empty() {
                break;
            }
        }
        used
    }

    /// How many bytes at the front of `rest` are ordinary bytes of the line
    /// being received: everything before the next CR or LF (found with
    /// `memchr`, a word at a time), as long as the line stays within its
    /// limit, no prompt can start here and no overflowing line is being
    /// dropped. Those bytes need none of [`line_byte`](Self::line_byte)'s
    /// decisions, so a whole chunk's line is copied at once; 0 sends the
    /// next byte through `line_byte`.
    fn line_run(&self, rest: &[u8]) -> usize {
        if self.discarding || (self.prompt_expected && self.buf.is_empty()) {
            return 0;
        }
        let end = memchr::memchr2(b'\r', b'\n', rest).unwrap_or(rest.len());
        let room = self
            .max_line
            .saturating_add(self.allowance)
            .saturating_sub(self.buf.len());
        end.min(room)
    }

    /// One byte of a line.
    fn line_byte(&mut self, byte: u8, oracle: &dyn DataOracle) {
        match byte {
            b'\r' | b'\n' => {
                if !self.discarding && !self.buf.is_empty() {
                    // A payload inside the line, framed by the line's own
                    // length field, may hold CR and LF.
                    if let Some(more) = oracle.inline_remaining(&self.buf).filter(|n| *n > 0) {
                        self.buf.push(byte);
                        self.allowance = self.allowance.saturating_add(more);
                        if more > 1 {
                            self.mode = Mode::Inline {
                                remaining: more - 1,
                            };
                        }
                        return;
                    }
                }
                // A CR ends the line at once (the module may send CR alone);
                // an LF right after it is then swallowed as part of the ending.
                self.skip_lf = byte == b'\r';
                self.allowance = 0;
                if mem::take(&mut self.discarding) || self.buf.is_empty() {
                    // The end of an overflowing line (already reported), or
                    // an empty line: nothing to report, nothing announced.
                    return;
                }
                let follow = oracle.follow(&self.buf);
                self.line_kept = oracle.keep_line(&self.buf);
                // The line moves to `line` (lent out from there) and `buf`
                // takes the previous line's buffer: no copy, no allocation
                // once both have grown.
                mem::swap(&mut self.buf, &mut self.line);
                self.buf.clear();
                self.emit(Frame::Line(Vec::new()));
                self.start(follow);
            }
            _ if self.discarding => {}
            b'>' if self.prompt_expected && self.buf.is_empty() => {
                self.prompt_expected = false;
                self.skip_space = true;
                self.emit(Frame::Prompt);
            }
            _ if self.buf.len() >= self.max_line.saturating_add(self.allowance) => {
                // Report now rather than at the line's end: the line may never
                // end (garbage, unannounced binary data), and the caller
                // should learn at once that something was lost.
                let discarded = self.buf.len().saturating_add(1);
                self.buf = Vec::new();
                self.allowance = 0;
                self.discarding = true;
                self.emit(Frame::Overflow { discarded });
            }
            _ => self.buf.push(byte),
        }
    }

    /// Enters what the oracle said follows the line just reported.
    fn start(&mut self, follow: Follow) {
        match follow {
            Follow::Lines => {}
            Follow::Data(0) => self.emit(Frame::Data(Vec::new())),
            Follow::Data(remaining) => self.mode = Mode::Counted { remaining },
            Follow::DataUntil(terminator) => {
                self.mode = Mode::Until { terminator };
                self.complete_empty_until();
            }
            Follow::Transparent => self.mode = Mode::Transparent { matched: 0 },
        }
    }

    /// An empty terminator ends its data block before any byte.
    #[inline]
    fn complete_empty_until(&mut self) {
        if matches!(&self.mode, Mode::Until { terminator } if terminator.is_empty()) {
            self.mode = Mode::Line;
            let data = mem::take(&mut self.buf);
            self.emit(Frame::Data(data));
        }
    }

    /// One byte in transparent mode, `matched` bytes of [`NO_CARRIER`] being
    /// held back; returns the new count. Bytes that can no longer be part of
    /// the sequence are released to `raw`.
    ///
    /// On a mismatch all held bytes are released and the byte is tried again
    /// as a possible start. In general (KMP) the longest held suffix that is
    /// also a prefix of the pattern should stay held, but this pattern's only
    /// such overlap is the CR ending "\r\nNO CARRIER\r", and keeping that CR
    /// would pay off only if the byte were LF, which would have matched.
    fn transparent_byte(&mut self, matched: usize, byte: u8) -> usize {
        if NO_CARRIER.get(matched) == Some(&byte) {
            return matched + 1;
        }
        self.raw
            .extend_from_slice(NO_CARRIER.get(..matched).unwrap_or_default());
        if NO_CARRIER.first() == Some(&byte) {
            1
        } else {
            self.raw.push(byte);
            0
        }
    }

    /// Queues a frame, after any raw bytes gathered before it.
    fn emit(&mut self, frame: Frame) {
        self.flush_raw();
        self.ready.push_back(frame);
    }

    /// Queues the raw bytes gathered so far, if any, as one frame.
    fn flush_raw(&mut self) {
        if !self.raw.is_empty() {
            self.ready.push_back(Frame::Raw(mem::take(&mut self.raw)));
        }
    }
}
