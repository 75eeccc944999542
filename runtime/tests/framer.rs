//! Tests of the sans-IO line framer.

use fcm242d::framer::{DataOracle, Follow, Frame, FrameRef, Framer, NoData, Peek};
use proptest::prelude::*;

/// Announces `<n>` bytes of data after a line `+DATA: <n>` (digits only).
struct TestOracle;

fn announced(line: &[u8]) -> Option<usize> {
    let digits = line.strip_prefix(b"+DATA: ")?;
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    digits.iter().try_fold(0usize, |n, d| {
        n.checked_mul(10)?.checked_add(usize::from(d - b'0'))
    })
}

impl DataOracle for TestOracle {
    fn data_length(&self, line: &[u8]) -> Option<usize> {
        announced(line)
    }
}

/// Like the runtime's: `+QIRD: <n>`, `+QIURC: "recv",<id>,<n>`,
/// `CONNECT <n>` and `+QBLERECV: <idx>,<uuid>,<n>` announce `<n>` bytes;
/// `CONNECT` alone starts an HTTP body up to "\r\nOK\r\n"; `CONNECT T` starts
/// transparent mode.
struct ModuleOracle;

impl DataOracle for ModuleOracle {
    fn data_length(&self, line: &[u8]) -> Option<usize> {
        let text = core::str::from_utf8(line).ok()?;
        let last = |s: &str| s.rsplit(',').next()?.trim().parse().ok();
        if let Some(rest) = text.strip_prefix("+QIRD: ") {
            rest.parse().ok()
        } else if let Some(rest) = text.strip_prefix("+QIURC: \"recv\",") {
            rest.contains(',').then(|| last(rest)).flatten()
        } else if let Some(rest) = text.strip_prefix("CONNECT ") {
            rest.parse().ok()
        } else if let Some(rest) = text.strip_prefix("+QBLERECV: ") {
            last(rest)
        } else {
            None
        }
    }

    fn follow(&self, line: &[u8]) -> Follow {
        match line {
            b"CONNECT" => Follow::DataUntil(b"\r\nOK\r\n".to_vec()),
            b"CONNECT T" => Follow::Transparent,
            _ => match self.data_length(line) {
                Some(n) => Follow::Data(n),
                None => Follow::Lines,
            },
        }
    }
}

fn line(s: &[u8]) -> Frame {
    Frame::Line(s.to_vec())
}

fn data(s: &[u8]) -> Frame {
    Frame::Data(s.to_vec())
}

fn raw(s: &[u8]) -> Frame {
    Frame::Raw(s.to_vec())
}

/// Feeds each chunk in turn, collecting the frames.
fn feed_chunks(framer: &mut Framer, chunks: &[&[u8]], oracle: &dyn DataOracle) -> Vec<Frame> {
    let mut frames = Vec::new();
    for chunk in chunks {
        framer.feed(chunk, oracle, &mut |f| frames.push(f));
    }
    frames
}

fn frames_of(chunks: &[&[u8]], oracle: &dyn DataOracle) -> Vec<Frame> {
    feed_chunks(&mut Framer::new(256), chunks, oracle)
}

/// Feeds `bytes` whole, then one byte at a time, and checks both agree.
fn frames_any_split(bytes: &[u8], oracle: &dyn DataOracle) -> Vec<Frame> {
    let whole = frames_of(&[bytes], oracle);
    let singles: Vec<&[u8]> = bytes.chunks(1).collect();
    assert_eq!(
        merge_raw(frames_of(&singles, oracle)),
        merge_raw(whole.clone()),
        "one byte at a time differs from whole"
    );
    whole
}

/// Joins adjacent `Raw` frames (their boundaries follow the `feed` calls).
fn merge_raw(frames: Vec<Frame>) -> Vec<Frame> {
    let mut merged: Vec<Frame> = Vec::new();
    for frame in frames {
        match (merged.last_mut(), frame) {
            (Some(Frame::Raw(prev)), Frame::Raw(next)) => prev.extend_from_slice(&next),
            (_, frame) => merged.push(frame),
        }
    }
    merged
}

// ---------------------------------------------------------------- line endings

#[test]
fn crlf_lf_and_cr_endings() {
    assert_eq!(
        frames_any_split(b"OK\r\nERROR\nREADY\rNEXT\r\n", &NoData),
        vec![line(b"OK"), line(b"ERROR"), line(b"READY"), line(b"NEXT")]
    );
}

#[test]
fn cr_split_from_lf_across_feeds_is_one_ending() {
    assert_eq!(
        frames_of(&[b"OK\r", b"\nREADY\r", b"\n"], &NoData),
        vec![line(b"OK"), line(b"READY")]
    );
}

#[test]
fn a_line_is_reported_at_its_cr_without_waiting_for_the_lf() {
    let mut framer = Framer::new(64);
    assert_eq!(
        feed_chunks(&mut framer, &[b"OK\r"], &NoData),
        vec![line(b"OK")]
    );
    assert_eq!(feed_chunks(&mut framer, &[b"\n"], &NoData), vec![]);
}

#[test]
fn empty_lines_are_skipped() {
    assert_eq!(
        frames_any_split(b"\r\n\r\nOK\r\n\n\n\r\r\r\nA\n\r\nB\r\n", &NoData),
        vec![line(b"OK"), line(b"A"), line(b"B")]
    );
}

#[test]
fn lf_cr_is_two_endings_around_an_empty_line() {
    assert_eq!(
        frames_any_split(b"A\n\rB\r\n", &NoData),
        vec![line(b"A"), line(b"B")]
    );
}

#[test]
fn lines_are_bytes_not_utf8() {
    assert_eq!(
        frames_any_split(b"\xff\xfe\x00abc\x80\r\n", &NoData),
        vec![line(b"\xff\xfe\x00abc\x80")]
    );
}

#[test]
fn partial_line_waits_for_its_ending() {
    let mut framer = Framer::new(64);
    assert_eq!(
        feed_chunks(&mut framer, &[b"+QIURC: \"clo"], &NoData),
        vec![]
    );
    assert_eq!(
        feed_chunks(&mut framer, &[b"sed\",1\r\n"], &NoData),
        vec![line(b"+QIURC: \"closed\",1")]
    );
}

// ---------------------------------------------------------------------- prompt

#[test]
fn prompt_with_space_when_expected() {
    let mut framer = Framer::new(64);
    framer.expect_prompt(true);
    let frames = feed_chunks(&mut framer, &[b"\r\n> ", b"\r\nSEND OK\r\n"], &NoData);
    assert_eq!(frames, vec![Frame::Prompt, line(b"SEND OK")]);
    assert!(!framer.is_prompt_expected(), "the flag clears itself");
}

#[test]
fn prompt_without_space_or_line_ending() {
    let mut framer = Framer::new(64);
    framer.expect_prompt(true);
    assert_eq!(
        feed_chunks(&mut framer, &[b">"], &NoData),
        vec![Frame::Prompt]
    );
    // No space: the next byte starts a line.
    assert_eq!(
        feed_chunks(&mut framer, &[b"SEND OK\r\n"], &NoData),
        vec![line(b"SEND OK")]
    );
}

#[test]
fn prompt_space_arriving_in_a_later_feed_belongs_to_the_prompt() {
    let mut framer = Framer::new(64);
    framer.expect_prompt(true);
    assert_eq!(
        feed_chunks(&mut framer, &[b"\r\n>", b" ", b"SEND OK\r\n"], &NoData),
        vec![Frame::Prompt, line(b"SEND OK")]
    );
}

#[test]
fn only_one_space_belongs_to_the_prompt() {
    let mut framer = Framer::new(64);
    framer.expect_prompt(true);
    assert_eq!(
        feed_chunks(&mut framer, &[b">  x\r\n"], &NoData),
        vec![Frame::Prompt, line(b" x")]
    );
}

#[test]
fn prompt_after_echo_ending_in_cr() {
    let mut framer = Framer::new(64);
    framer.expect_prompt(true);
    assert_eq!(
        feed_chunks(&mut framer, &[b"AT+QISEND=0,5\r\r\n> "], &NoData),
        vec![line(b"AT+QISEND=0,5"), Frame::Prompt]
    );
}

#[test]
fn no_prompt_when_not_expected() {
    assert_eq!(
        frames_any_split(b"\r\n> abc\r\n>\r\n", &NoData),
        vec![line(b"> abc"), line(b">")]
    );
}

#[test]
fn prompt_only_at_the_start_of_a_line() {
    let mut framer = Framer::new(64);
    framer.expect_prompt(true);
    let frames = feed_chunks(&mut framer, &[b"a>b\r\n"], &NoData);
    assert_eq!(frames, vec![line(b"a>b")]);
    assert!(framer.is_prompt_expected(), "still waiting for the prompt");
    let frames = feed_chunks(&mut framer, &[b"> >\r\n"], &NoData);
    assert_eq!(frames, vec![Frame::Prompt, line(b">")]);
}

#[test]
fn expect_prompt_false_cancels() {
    let mut framer = Framer::new(64);
    framer.expect_prompt(true);
    framer.expect_prompt(false);
    assert_eq!(
        feed_chunks(&mut framer, &[b"> \r\n"], &NoData),
        vec![line(b"> ")]
    );
}

// ----------------------------------------------------------------- data blocks

#[test]
fn qird_block_containing_ok_and_prompt_chars() {
    let block = b"ab\r\nOK\r\n> \r\n\0\xffxy";
    let mut stream = b"\r\n+QIRD: 16\r\n".to_vec();
    stream.extend_from_slice(block);
    stream.extend_from_slice(b"\r\n\r\nOK\r\n");
    assert_eq!(block.len(), 16);
    assert_eq!(
        frames_any_split(&stream, &ModuleOracle),
        vec![line(b"+QIRD: 16"), data(block), line(b"OK")]
    );
}

#[test]
fn data_block_is_not_a_prompt_even_when_one_is_expected() {
    let mut framer = Framer::new(64);
    framer.expect_prompt(true);
    let frames = feed_chunks(&mut framer, &[b"+DATA: 2\r\n> \r\n"], &TestOracle);
    assert_eq!(frames, vec![line(b"+DATA: 2"), data(b"> ")]);
    assert!(framer.is_prompt_expected());
}

#[test]
fn direct_push_urc_and_ble_receive() {
    let stream = b"\r\n+QIURC: \"recv\",0,5\r\nhello\r\n+QBLERECV: 0,\"fff2\",10\r\nfrom phone\r\n+QIURC: \"recv\",1\r\n";
    assert_eq!(
        frames_any_split(stream, &ModuleOracle),
        vec![
            line(b"+QIURC: \"recv\",0,5"),
            data(b"hello"),
            line(b"+QBLERECV: 0,\"fff2\",10"),
            data(b"from phone"),
            line(b"+QIURC: \"recv\",1"),
        ]
    );
}

#[test]
fn data_after_cr_only_ending_skips_the_lf_even_in_a_later_feed() {
    assert_eq!(
        frames_of(&[b"+DATA: 3\r", b"\nabc", b"OK\r\n"], &TestOracle),
        vec![line(b"+DATA: 3"), data(b"abc"), line(b"OK")]
    );
    // A CR alone really is the whole ending when no LF follows.
    assert_eq!(
        frames_of(&[b"+DATA: 3\r", b"abcOK\r\n"], &TestOracle),
        vec![line(b"+DATA: 3"), data(b"abc"), line(b"OK")]
    );
    // After an LF-only ending, an LF is data.
    assert_eq!(
        frames_of(&[b"+DATA: 3\n", b"\nab", b"OK\r\n"], &TestOracle),
        vec![line(b"+DATA: 3"), data(b"\nab"), line(b"OK")]
    );
}

#[test]
fn data_block_fragmented_in_many_feeds() {
    assert_eq!(
        frames_of(
            &[
                b"+DATA: 10",
                b"\r",
                b"\n0123",
                b"",
                b"45",
                b"6789\r\nOK",
                b"\r\n"
            ],
            &TestOracle
        ),
        vec![line(b"+DATA: 10"), data(b"0123456789"), line(b"OK")]
    );
}

#[test]
fn zero_length_block_is_an_empty_data_frame() {
    assert_eq!(
        frames_any_split(b"+QIRD: 0\r\n\r\nOK\r\n", &ModuleOracle),
        vec![line(b"+QIRD: 0"), data(b""), line(b"OK")]
    );
}

#[test]
fn file_read_connect_with_length() {
    assert_eq!(
        frames_any_split(b"\r\nCONNECT 4\r\n\r\n\r\n\r\nOK\r\n", &ModuleOracle),
        vec![line(b"CONNECT 4"), data(b"\r\n\r\n"), line(b"OK")]
    );
}

#[test]
fn closure_oracle() {
    let oracle = |l: &[u8]| (l == b"X").then_some(2);
    assert_eq!(
        frames_any_split(b"X\r\nabY\r\n", &oracle),
        vec![line(b"X"), data(b"ab"), line(b"Y")]
    );
}

// ------------------------------------------------------------------ read_until

#[test]
fn read_until_with_terminator_split_across_feeds() {
    let mut framer = Framer::new(64);
    assert_eq!(
        feed_chunks(&mut framer, &[b"\r\nCONNECT\r\n"], &NoData),
        vec![line(b"CONNECT")]
    );
    framer.read_until(b"\r\nOK\r\n");
    let frames = feed_chunks(
        &mut framer,
        &[
            b"<html>\r\nOK\r",
            b"X</html>\r",
            b"\nO",
            b"K",
            b"\r",
            b"\n+QHTTPURC: \"end\",0\r\n",
        ],
        &NoData,
    );
    assert_eq!(
        frames,
        vec![
            data(b"<html>\r\nOK\rX</html>"),
            line(b"OK"),
            line(b"+QHTTPURC: \"end\",0"),
        ]
    );
}

#[test]
fn read_until_byte_by_byte() {
    let stream = b"body\r\n\r\nOK\r\r\nOK\r\nnext\r\n";
    let mut framer = Framer::new(64);
    framer.read_until(b"\r\nOK\r\n");
    let chunks: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(
        feed_chunks(&mut framer, &chunks, &NoData),
        vec![data(b"body\r\n\r\nOK\r"), line(b"OK"), line(b"next")]
    );
}

#[test]
fn read_until_after_connect_ending_in_cr_skips_its_lf() {
    let mut framer = Framer::new(64);
    assert_eq!(
        feed_chunks(&mut framer, &[b"CONNECT\r"], &NoData),
        vec![line(b"CONNECT")]
    );
    framer.read_until(b"\r\nOK\r\n");
    assert_eq!(
        feed_chunks(&mut framer, &[b"\nbody\r\nOK\r\n"], &NoData),
        vec![data(b"body"), line(b"OK")]
    );
}

#[test]
fn oracle_starts_read_until_within_the_same_chunk() {
    assert_eq!(
        frames_any_split(b"\r\nCONNECT\r\nline1\r\n>2\r\n\r\nOK\r\n", &ModuleOracle),
        vec![line(b"CONNECT"), data(b"line1\r\n>2\r\n"), line(b"OK")]
    );
}

#[test]
fn empty_body() {
    assert_eq!(
        frames_any_split(b"CONNECT\r\n\r\nOK\r\n", &ModuleOracle),
        vec![line(b"CONNECT"), data(b""), line(b"OK")]
    );
}

#[test]
fn read_until_takes_a_partial_line_as_the_start_of_the_data() {
    let mut framer = Framer::new(64);
    assert_eq!(feed_chunks(&mut framer, &[b"par"], &NoData), vec![]);
    framer.read_until(b"END");
    assert_eq!(
        feed_chunks(&mut framer, &[b"tialEND\r\n"], &NoData),
        vec![data(b"partial"), line(b"END")]
    );
}

#[test]
fn read_until_empty_terminator() {
    let mut framer = Framer::new(64);
    framer.read_until(b"");
    assert_eq!(
        feed_chunks(&mut framer, &[b"", b"OK\r\n"], &NoData),
        vec![data(b""), line(b"OK")]
    );
}

// ------------------------------------------------------------ transparent mode

#[test]
fn transparent_raw_is_coalesced_per_feed() {
    let mut framer = Framer::new(64);
    framer.set_transparent(true);
    assert!(framer.is_transparent());
    assert_eq!(
        feed_chunks(&mut framer, &[b"ab\r\nOK\r\n> x", b"", b"\0\xff"], &NoData),
        vec![raw(b"ab\r\nOK\r\n> x"), raw(b"\0\xff")]
    );
}

#[test]
fn no_carrier_ends_transparent_mode_even_split_across_feeds() {
    let mut framer = Framer::new(64);
    framer.set_transparent(true);
    let frames = feed_chunks(
        &mut framer,
        &[b"data\r", b"\nNO CAR", b"RIER\r", b"\nOK\r\n+DATA: 1\r\n>"],
        &TestOracle,
    );
    assert_eq!(
        frames,
        vec![
            raw(b"data"),
            line(b"NO CARRIER"),
            line(b"OK"),
            line(b"+DATA: 1"),
            data(b">")
        ]
    );
    assert!(!framer.is_transparent());
}

#[test]
fn no_carrier_one_byte_at_a_time() {
    let mut framer = Framer::new(64);
    framer.set_transparent(true);
    let stream = b"xy\r\nNO CARRIER\r\nOK\r\n";
    let chunks: Vec<&[u8]> = stream.chunks(1).collect();
    assert_eq!(
        feed_chunks(&mut framer, &chunks, &NoData),
        vec![raw(b"x"), raw(b"y"), line(b"NO CARRIER"), line(b"OK")]
    );
}

#[test]
fn partial_match_that_is_not_no_carrier_is_raw() {
    let mut framer = Framer::new(64);
    framer.set_transparent(true);
    // Held back while it might be NO CARRIER...
    assert_eq!(
        feed_chunks(&mut framer, &[b"a\r\nNO CARR"], &NoData),
        vec![raw(b"a")]
    );
    // ...then released with the byte that rules it out.
    assert_eq!(
        feed_chunks(&mut framer, &[b"Y\r\n"], &NoData),
        vec![raw(b"\r\nNO CARRY")]
    );
    assert!(framer.is_transparent());
    // The CR LF just held back may start the real thing.
    assert_eq!(
        feed_chunks(&mut framer, &[b"NO CARRIER\r\n"], &NoData),
        vec![line(b"NO CARRIER")]
    );
}

#[test]
fn near_miss_keeps_the_overlapping_cr() {
    let mut framer = Framer::new(64);
    framer.set_transparent(true);
    let stream = b"\r\nNO CARRIER\r\r\nNO CARRIER\r\n";
    assert_eq!(
        feed_chunks(&mut framer, &[stream], &NoData),
        vec![raw(b"\r\nNO CARRIER\r"), line(b"NO CARRIER")]
    );
    assert!(!framer.is_transparent());
}

#[test]
fn no_carrier_without_leading_crlf_is_raw() {
    let mut framer = Framer::new(64);
    framer.set_transparent(true);
    // The trailing CR LF is held back: it may start the real thing.
    assert_eq!(
        feed_chunks(&mut framer, &[b"NO CARRIER\r\n"], &NoData),
        vec![raw(b"NO CARRIER")]
    );
    assert_eq!(
        feed_chunks(&mut framer, &[b"x"], &NoData),
        vec![raw(b"\r\nx")]
    );
    assert!(framer.is_transparent());
}

#[test]
fn leaving_transparent_flushes_held_bytes_as_raw() {
    let mut framer = Framer::new(64);
    framer.set_transparent(true);
    assert_eq!(
        feed_chunks(&mut framer, &[b"zz\r\nNO"], &NoData),
        vec![raw(b"zz")]
    );
    framer.set_transparent(false);
    assert!(!framer.is_transparent());
    assert_eq!(
        feed_chunks(&mut framer, &[b"\r\nOK\r\n"], &NoData),
        vec![raw(b"\r\nNO"), line(b"OK")]
    );
    // An empty feed is enough to get them.
    framer.set_transparent(true);
    feed_chunks(&mut framer, &[b"\r\n"], &NoData);
    framer.set_transparent(false);
    assert_eq!(
        feed_chunks(&mut framer, &[b""], &NoData),
        vec![raw(b"\r\n")]
    );
}

#[test]
fn oracle_starts_transparent_mode_within_the_same_chunk() {
    let mut framer = Framer::new(64);
    let frames = feed_chunks(
        &mut framer,
        &[b"\r\nCONNECT T\r\nhello\r\nworld\r\nNO CARRIER\r\nOK\r\n"],
        &ModuleOracle,
    );
    assert_eq!(
        frames,
        vec![
            line(b"CONNECT T"),
            raw(b"hello\r\nworld"),
            line(b"NO CARRIER"),
            line(b"OK")
        ]
    );
}

#[test]
fn set_transparent_is_idempotent() {
    let mut framer = Framer::new(64);
    framer.set_transparent(false);
    assert_eq!(feed_chunks(&mut framer, &[b"AB"], &NoData), vec![]);
    framer.set_transparent(false);
    assert_eq!(
        feed_chunks(&mut framer, &[b"C\r\n"], &NoData),
        vec![line(b"ABC")]
    );
    framer.set_transparent(true);
    feed_chunks(&mut framer, &[b"\r\nNO"], &NoData);
    framer.set_transparent(true);
    assert_eq!(
        feed_chunks(&mut framer, &[b" CARRIER\r\n"], &NoData),
        vec![line(b"NO CARRIER")]
    );
}

// -------------------------------------------------------------------- overflow

#[test]
fn overflow_is_reported_once_and_the_line_discarded() {
    let mut framer = Framer::new(4);
    let frames = feed_chunks(
        &mut framer,
        &[b"abcd\r\nabcdefgh", b"ijk\r", b"\nOK\r\n"],
        &NoData,
    );
    assert_eq!(
        frames,
        vec![line(b"abcd"), Frame::Overflow { discarded: 5 }, line(b"OK")]
    );
}

#[test]
fn overflow_byte_by_byte_matches_whole() {
    let stream = b"0123456789\n>\rOK\n";
    let mut whole = Framer::new(3);
    let mut single = Framer::new(3);
    let chunks: Vec<&[u8]> = stream.chunks(1).collect();
    let expected = vec![Frame::Overflow { discarded: 4 }, line(b">"), line(b"OK")];
    assert_eq!(feed_chunks(&mut whole, &[stream], &NoData), expected);
    assert_eq!(feed_chunks(&mut single, &chunks, &NoData), expected);
}

#[test]
fn overflowing_line_announces_nothing() {
    let mut framer = Framer::new(4);
    assert_eq!(
        feed_chunks(&mut framer, &[b"+DATA: 2\r\nab\r\n"], &TestOracle),
        vec![Frame::Overflow { discarded: 5 }, line(b"ab")]
    );
}

#[test]
fn zero_limit_overflows_every_line_but_not_the_prompt() {
    let mut framer = Framer::new(0);
    framer.expect_prompt(true);
    assert_eq!(
        feed_chunks(&mut framer, &[b"> a\r\nb\r\n"], &NoData),
        vec![
            Frame::Prompt,
            Frame::Overflow { discarded: 1 },
            Frame::Overflow { discarded: 1 }
        ]
    );
}

// ----------------------------------------------------------------------- reset

#[test]
fn reset_drops_partial_state() {
    let mut framer = Framer::new(64);
    feed_chunks(&mut framer, &[b"garb"], &NoData);
    framer.reset();
    assert_eq!(
        feed_chunks(&mut framer, &[b"READY\r\n"], &NoData),
        vec![line(b"READY")]
    );

    feed_chunks(&mut framer, &[b"+DATA: 100\r\nxx"], &TestOracle);
    framer.reset();
    assert_eq!(
        feed_chunks(&mut framer, &[b"READY\r\n"], &TestOracle),
        vec![line(b"READY")]
    );

    framer.set_transparent(true);
    framer.expect_prompt(true);
    feed_chunks(&mut framer, &[b"\r\nNO"], &NoData);
    framer.reset();
    assert!(!framer.is_transparent());
    assert!(!framer.is_prompt_expected());
    assert_eq!(
        feed_chunks(&mut framer, &[b"> \r\n"], &NoData),
        vec![line(b"> ")]
    );
}

// ------------------------------------------------------------------ properties

/// `bytes` cut at the given points (taken modulo the length), in order.
fn pieces<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort_unstable();
    let mut out = Vec::new();
    let mut start = 0;
    for point in points.into_iter().chain([bytes.len()]) {
        out.push(bytes.get(start..point).unwrap_or_default());
        start = point;
    }
    out
}

/// A framer as the properties use it.
fn new_framer(prompt: bool) -> Framer {
    let mut framer = Framer::new(32);
    framer.expect_prompt(prompt);
    framer
}

/// Feeds `bytes` split at the given cut points (taken modulo the length).
fn frames_split_at(
    bytes: &[u8],
    cuts: &[usize],
    oracle: &dyn DataOracle,
    prompt: bool,
) -> Vec<Frame> {
    let mut framer = new_framer(prompt);
    let mut frames = Vec::new();
    for chunk in pieces(bytes, cuts) {
        framer.feed(chunk, oracle, &mut |f| frames.push(f));
    }
    merge_raw(frames)
}

/// [`frames_split_at`] through [`Framer::next_frame`]: lines lent from the
/// framer's buffer, copied here only to compare them.
fn lent_frames_split_at(
    bytes: &[u8],
    cuts: &[usize],
    oracle: &dyn DataOracle,
    prompt: bool,
) -> Vec<Frame> {
    let mut framer = new_framer(prompt);
    let mut frames = Vec::new();
    for mut chunk in pieces(bytes, cuts) {
        while let Some(f) = framer.next_frame(&mut chunk, oracle) {
            frames.push(f.into_owned());
        }
    }
    merge_raw(frames)
}

/// [`lent_frames_split_at`] the way the engine frames: a whole line shown
/// by [`Framer::peek_line`] is classified by the caller (here the oracle)
/// and taken with [`Framer::take_line`]; everything else, and a line with
/// an in-line payload, goes through [`Framer::next_frame_bytewise`].
fn peeked_frames_split_at(
    bytes: &[u8],
    cuts: &[usize],
    oracle: &dyn DataOracle,
    prompt: bool,
) -> Vec<Frame> {
    let mut framer = new_framer(prompt);
    let mut frames = Vec::new();
    for mut chunk in pieces(bytes, cuts) {
        loop {
            match framer.peek_line(&mut chunk) {
                Peek::UsedUp => break,
                Peek::Line(line) if oracle.inline_remaining(line).is_none_or(|n| n == 0) => {
                    let follow = oracle.follow(line);
                    framer.take_line(&mut chunk, line, follow);
                    frames.push(Frame::Line(line.to_vec()));
                    continue;
                }
                _ => {}
            }
            match framer.next_frame_bytewise(&mut chunk, oracle) {
                Some(f) => frames.push(f.into_owned()),
                None => break,
            }
        }
    }
    merge_raw(frames)
}

#[test]
fn a_lent_line_is_the_line_and_the_next_line_reuses_the_buffer() {
    let mut framer = Framer::new(64);
    let mut input: &[u8] = b"+QIRD: 3\r\nabcOK\r\nSECOND LINE\r\n";
    let mut seen = Vec::new();
    while let Some(f) = framer.next_frame(&mut input, &ModuleOracle) {
        match f {
            FrameRef::Line(l) => seen.push(line(l)),
            other => seen.push(other.into_owned()),
        }
    }
    assert_eq!(
        seen,
        vec![
            line(b"+QIRD: 3"),
            data(b"abc"),
            line(b"OK"),
            line(b"SECOND LINE")
        ]
    );
}

/// Bytes likely to exercise every rule: fragments of announcements, line
/// endings, prompts, terminators and NO CARRIER, among arbitrary bytes.
fn tricky_bytes() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        3 => prop::collection::vec(any::<u8>(), 0..6),
        2 => Just(b"\r\n".to_vec()),
        1 => Just(b"\r".to_vec()),
        1 => Just(b"\n".to_vec()),
        1 => Just(b"> ".to_vec()),
        1 => Just(b"OK".to_vec()),
        1 => (0usize..12).prop_map(|n| format!("+DATA: {n}").into_bytes()),
        1 => Just(b"CONNECT".to_vec()),
        1 => Just(b"CONNECT T".to_vec()),
        1 => Just(b"\r\nNO CARRIER\r\n".to_vec()),
        1 => Just(b"NO CARR".to_vec()),
        1 => Just(b"0123456789abcdefghijklmnopqrstuvwxyz".to_vec()),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

/// Announces data like `TestOracle`, and also ends HTTP-like bodies and
/// transparent mode like `ModuleOracle`.
struct RichOracle;

impl DataOracle for RichOracle {
    fn data_length(&self, line: &[u8]) -> Option<usize> {
        announced(line)
    }

    fn follow(&self, line: &[u8]) -> Follow {
        match line {
            b"CONNECT" => Follow::DataUntil(b"\r\nOK\r\n".to_vec()),
            b"CONNECT T" => Follow::Transparent,
            _ => match announced(line) {
                Some(n) => Follow::Data(n),
                None => Follow::Lines,
            },
        }
    }
}

/// One item of a generated module output stream.
#[derive(Debug, Clone)]
enum Item {
    /// A line (no CR/LF inside) with its ending.
    Line(Vec<u8>, &'static [u8]),
    /// `+DATA: <n>` with its ending, then the block.
    Block(&'static [u8], Vec<u8>),
}

fn ending() -> impl Strategy<Value = &'static [u8]> {
    prop_oneof![
        3 => Just(&b"\r\n"[..]),
        1 => Just(&b"\n"[..]),
        1 => Just(&b"\r"[..]),
    ]
}

fn item() -> impl Strategy<Value = Item> {
    let plain = prop::collection::vec(any::<u8>(), 1..40).prop_map(|mut l| {
        for b in &mut l {
            if *b == b'\r' || *b == b'\n' {
                *b = b'.';
            }
        }
        if l.first() == Some(&b'+') {
            l[0] = b'#';
        }
        l
    });
    let urc = prop_oneof![
        Just(b"+QIURC: \"closed\",1".to_vec()),
        Just(b"+QIURC: \"recv\",0".to_vec()),
        Just(b"+QSTASTAT: \"WLAN_CONNECTED\"".to_vec()),
        Just(b"+QHTTPURC: \"end\",0".to_vec()),
        Just(b"OK".to_vec()),
        Just(b"SEND OK".to_vec()),
        Just(b"+CME ERROR: 550".to_vec()),
        Just(b"> not a prompt".to_vec()),
        (0u16..1000).prop_map(|n| format!("+QPING: 0,\"192.0.2.1\",32,{n},255").into_bytes()),
    ];
    prop_oneof![
        3 => (plain, ending()).prop_map(|(l, e)| Item::Line(l, e)),
        2 => (urc, ending()).prop_map(|(l, e)| Item::Line(l, e)),
        2 => (ending(), prop::collection::vec(any::<u8>(), 0..50)).prop_map(|(e, mut d)| {
            // After a CR-only ending, a leading LF would be taken as the rest
            // of the ending (by design).
            if e == b"\r" && d.first() == Some(&b'\n') {
                d[0] = b'x';
            }
            Item::Block(e, d)
        }),
        1 => (ending(), prop::collection::vec(prop_oneof![
            Just(b'\r'), Just(b'\n'), Just(b'>'), Just(b'O'), Just(b'K'), Just(b'+'),
        ], 1..30)).prop_map(|(e, mut d)| {
            if e == b"\r" && d.first() == Some(&b'\n') {
                d[0] = b'x';
            }
            Item::Block(e, d)
        }),
    ]
}

fn render(items: &[Item], gaps: &[bool]) -> (Vec<u8>, Vec<Frame>) {
    let mut stream = Vec::new();
    let mut expected = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match item {
            Item::Line(l, e) => {
                stream.extend_from_slice(l);
                stream.extend_from_slice(e);
                expected.push(Frame::Line(l.clone()));
            }
            Item::Block(e, d) => {
                let header = format!("+DATA: {}", d.len()).into_bytes();
                stream.extend_from_slice(&header);
                stream.extend_from_slice(e);
                stream.extend_from_slice(d);
                expected.push(Frame::Line(header));
                expected.push(Frame::Data(d.clone()));
            }
        }
        // Blank lines between items, as the module sends them.
        if gaps.get(i).copied().unwrap_or(false) {
            stream.extend_from_slice(b"\r\n");
        }
    }
    (stream, expected)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any chunking, down to one byte per feed, yields the same frames as
    /// feeding everything at once (only Raw boundaries may differ).
    #[test]
    fn chunking_does_not_matter(
        bytes in tricky_bytes(),
        cuts in prop::collection::vec(any::<usize>(), 0..20),
        prompt in any::<bool>(),
    ) {
        let whole = frames_split_at(&bytes, &[], &TestOracle, prompt);
        prop_assert_eq!(&frames_split_at(&bytes, &cuts, &TestOracle, prompt), &whole);
        let all_cuts: Vec<usize> = (0..bytes.len()).collect();
        prop_assert_eq!(&frames_split_at(&bytes, &all_cuts, &TestOracle, prompt), &whole);
    }

    /// The same, with an oracle that also starts bodies and transparent mode.
    #[test]
    fn chunking_does_not_matter_with_every_kind_of_data_phase(
        bytes in tricky_bytes(),
        cuts in prop::collection::vec(any::<usize>(), 0..20),
        prompt in any::<bool>(),
    ) {
        let whole = frames_split_at(&bytes, &[], &RichOracle, prompt);
        prop_assert_eq!(&frames_split_at(&bytes, &cuts, &RichOracle, prompt), &whole);
        let all_cuts: Vec<usize> = (0..bytes.len()).collect();
        prop_assert_eq!(&frames_split_at(&bytes, &all_cuts, &RichOracle, prompt), &whole);
    }

    /// Lines lent by `next_frame` are the lines `feed` hands out, for any
    /// chunking and every kind of data phase.
    #[test]
    fn lent_frames_are_the_owned_frames(
        bytes in tricky_bytes(),
        cuts in prop::collection::vec(any::<usize>(), 0..20),
        prompt in any::<bool>(),
    ) {
        let owned = frames_split_at(&bytes, &cuts, &RichOracle, prompt);
        prop_assert_eq!(&lent_frames_split_at(&bytes, &cuts, &RichOracle, prompt), &owned);
        let all_cuts: Vec<usize> = (0..bytes.len()).collect();
        prop_assert_eq!(&lent_frames_split_at(&bytes, &all_cuts, &RichOracle, prompt), &owned);
        // And the engine's way: peek, classify, take.
        prop_assert_eq!(&peeked_frames_split_at(&bytes, &cuts, &RichOracle, prompt), &owned);
        prop_assert_eq!(&peeked_frames_split_at(&bytes, &all_cuts, &RichOracle, prompt), &owned);
    }

    /// Arbitrary bytes, calls and limits never panic.
    #[test]
    fn arbitrary_input_never_panics(
        chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..16),
        ops in prop::collection::vec(0u8..8, 0..16),
        max_line in 0usize..80,
    ) {
        let mut framer = Framer::new(max_line);
        for (i, chunk) in chunks.iter().enumerate() {
            match ops.get(i).copied().unwrap_or(7) {
                0 => framer.expect_prompt(true),
                1 => framer.set_transparent(true),
                2 => framer.set_transparent(false),
                3 => framer.read_until(b"\r\nOK\r\n"),
                4 => framer.read_until(b""),
                5 => framer.reset(),
                _ => {}
            }
            framer.feed(chunk, &RichOracle, &mut |_| {});
            framer.feed(chunk, &TestOracle, &mut |_| {});
        }
    }

    /// Every line of a stream of lines and URCs interleaved with announced
    /// data blocks comes out exactly once, in order, with the data intact.
    #[test]
    fn stream_of_lines_and_blocks_round_trips(
        items in prop::collection::vec(item(), 0..30),
        gaps in prop::collection::vec(any::<bool>(), 0..30),
        cuts in prop::collection::vec(any::<usize>(), 0..20),
    ) {
        let (stream, expected) = render(&items, &gaps);
        let mut framer = Framer::new(64);
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
        points.sort_unstable();
        let mut frames = Vec::new();
        let mut start = 0;
        for point in points.into_iter().chain([stream.len()]) {
            framer.feed(stream.get(start..point).unwrap_or_default(), &TestOracle, &mut |f| frames.push(f));
            start = point;
        }
        prop_assert_eq!(frames, expected);
    }
}

// ------------------------------------------------------------------------ cost

/// Feeding one byte at a time must not rescan what is buffered: with 200 kB
/// in each kind of pending state, a quadratic framer would not finish.
#[test]
fn one_byte_at_a_time_stays_linear() {
    const N: usize = 200_000;
    let body = vec![b'x'; N];
    let count = |framer: &mut Framer, stream: &[u8], oracle: &dyn DataOracle| {
        let mut frames = Vec::new();
        for byte in stream.chunks(1) {
            framer.feed(byte, oracle, &mut |f| frames.push(f));
        }
        frames
    };

    // A long line.
    let mut framer = Framer::new(N);
    let mut stream = body.clone();
    stream.extend_from_slice(b"\r\n");
    assert_eq!(
        count(&mut framer, &stream, &NoData),
        vec![Frame::Line(body.clone())]
    );

    // An overflowing line.
    let mut framer = Framer::new(16);
    assert_eq!(
        count(&mut framer, &stream, &NoData),
        vec![Frame::Overflow { discarded: 17 }]
    );

    // A counted block.
    let mut stream = format!("+DATA: {N}\r\n").into_bytes();
    stream.extend_from_slice(&body);
    let frames = count(&mut Framer::new(64), &stream, &TestOracle);
    assert_eq!(frames.last(), Some(&Frame::Data(body.clone())));

    // A body up to a terminator.
    let mut framer = Framer::new(64);
    framer.read_until(b"\r\nOK\r\n");
    let mut stream = body.clone();
    stream.extend_from_slice(b"\r\nOK\r\n");
    assert_eq!(
        count(&mut framer, &stream, &NoData),
        vec![Frame::Data(body.clone()), line(b"OK")]
    );

    // Transparent mode, with many near misses.
    let mut framer = Framer::new(64);
    framer.set_transparent(true);
    let stream = b"\r\nNO CARRIE".repeat(N / 11);
    let frames = count(&mut framer, &stream, &NoData);
    assert_eq!(
        merge_raw(frames),
        vec![Frame::Raw(stream[..stream.len() - 11].to_vec())]
    );
}
