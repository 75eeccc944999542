//! `transcript check` and `transcript replay` on fixture logs in several
//! formats, and against the in-process simulator.

use std::path::PathBuf;
use std::time::Duration;

use fcm242d_conformance::transcript::check::{Category, Kind};
use fcm242d_conformance::transcript::parse::{self, Format, Marks};
use fcm242d_conformance::transcript::replay::{self, Verdict};
use fcm242d_conformance::transcript::{self, CheckReport, Error, ParseError, ReplayOptions};
use proptest::prelude::*;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/transcripts")
        .join(name)
}

fn check(name: &str) -> CheckReport {
    transcript::check_file(fixture(name)).unwrap()
}

fn format_of(name: &str) -> parse::Transcript {
    parse::parse(&std::fs::read(fixture(name)).unwrap()).unwrap()
}

/// Options that keep a failing replay short (the simulator answers at once).
fn quick() -> ReplayOptions {
    ReplayOptions {
        command_timeout: Duration::from_secs(5),
        guard_time: Duration::from_millis(100),
        quiet: Duration::from_millis(20),
    }
}

const CONFORMING: &[(&str, Format)] = &[
    ("conforming_arrows.log", Format::Marked(Marks::Arrows)),
    ("conforming_txrx_escaped.log", Format::Marked(Marks::TxRx)),
    (
        "conforming_brackets.log",
        Format::Marked(Marks::BracketTxRx),
    ),
    (
        "conforming_long_arrows.log",
        Format::Marked(Marks::LongArrows),
    ),
    ("conforming_echo.log", Format::Echo),
    ("conforming_raw.bin", Format::Raw),
];

#[test]
fn conforming_logs_have_no_deviation() {
    for (name, format) in CONFORMING {
        let t = format_of(name);
        assert_eq!(t.format, *format, "{name}");
        let r = check(name);
        assert!(r.is_clean(), "{name}:\n{}", r.render());
        assert!(r.commands > 0, "{name}");
        assert!(r.render().contains("no deviation"), "{name}");
    }
}

#[test]
fn comments_in_the_manuals_style_are_dropped() {
    let name = "conforming_manual_annotated.log";
    let t = format_of(name);
    assert_eq!(t.format, Format::Echo);
    assert!(t.annotated);
    assert!(t.describe().contains("comments"), "{}", t.describe());
    let r = check(name);
    assert!(r.is_clean(), "{}", r.render());
    assert_eq!(r.commands, 14, "{}", r.render());
    // A `//` or `# ` inside double quotes is not a comment.
    let texts: Vec<String> = t.entries.iter().map(|e| e.text()).collect();
    assert!(
        texts.contains(&r#"AT+QSTAAPINFO="ssid//x","pwd # yes""#.to_string()),
        "{texts:?}"
    );
    assert!(texts.contains(&"+QSSLRECV: 18".to_string()), "{texts:?}");
    // The comment lines are gone, not read as module output.
    assert!(!texts
        .iter()
        .any(|t| t.starts_with("//") || t.starts_with('#')));
    // In a log whose commands carry no comment, a `//` is kept: here it is
    // part of a data block, which must keep its announced length.
    let t = parse::parse(b"AT+QIRD=0,1500\n+QIRD: 8\nab // cd\nOK\n").unwrap();
    assert!(!t.annotated);
    assert!(CheckReport::new("x", &t).is_clean());
    // Also in a direction-marked log.
    let t = parse::parse(b"> AT  // Test.\n< OK  # Good.\n").unwrap();
    assert!(t.annotated);
    let texts: Vec<String> = t.entries.iter().map(|e| e.text()).collect();
    assert_eq!(texts, vec!["AT".to_string(), "OK".to_string()]);
}

#[test]
fn formats_are_read_with_timestamps_and_escapes() {
    let t = format_of("conforming_arrows.log");
    assert!(t.timestamps);
    assert!(!t.escaped);
    // The comment line before the first marked line is a preamble.
    assert_eq!(t.entries[0].line, 2);
    assert_eq!(t.entries[0].text(), "AT");

    let t = format_of("conforming_txrx_escaped.log");
    assert!(t.timestamps && t.escaped && t.stream);
    // The payload keeps its own CR LF.
    let payload = t.entries.iter().find(|e| e.line == 9).unwrap();
    assert_eq!(payload.bytes, b"ab");
    let ok = t
        .entries
        .iter()
        .find(|e| e.text() == "+QFWRITE: 6,6")
        .unwrap();
    assert_eq!(ok.line, 10);

    let t = format_of("conforming_brackets.log");
    assert!(t.timestamps && t.escaped);

    let t = format_of("conforming_long_arrows.log");
    assert!(!t.timestamps && t.escaped && !t.stream);
    let payload = t.entries.iter().find(|e| e.line == 6).unwrap();
    assert_eq!(payload.bytes, b"hello\x1a");

    let t = format_of("conforming_raw.bin");
    assert!(t.stream);
    let version = t
        .entries
        .iter()
        .find(|e| e.text().starts_with("+QVERSION"))
        .unwrap();
    // Each CR, LF or CR LF ends a line, as an editor shows the capture.
    assert_eq!(version.line, 7);
}

#[test]
fn malformed_urc_is_reported_with_its_line() {
    let r = check("malformed_urc.log");
    assert_eq!(r.deviations.len(), 1, "{}", r.render());
    let d = &r.deviations[0];
    assert_eq!(d.line, 4);
    assert_eq!(d.kind, Kind::MalformedUrc);
    assert_eq!(d.kind.category(), Category::Module);
    assert_eq!(d.text, "+QIURC: \"closed\",x");
    assert_eq!(d.after_command.as_deref(), Some("AT+QVERSION"));
    assert!(
        d.detail.starts_with("malformed URC +QIURC: \"closed\""),
        "{}",
        d.detail
    );
    assert!(
        d.entry.contains("+QIURC: \"closed\",<connectID>"),
        "{}",
        d.entry
    );
    assert!(
        r.render().contains("malformed_urc.log:line 4"),
        "{}",
        r.render()
    );
}

#[test]
fn unknown_response_line_is_reported_with_its_line() {
    let r = check("unknown_line.log");
    assert_eq!(r.deviations.len(), 1, "{}", r.render());
    let d = &r.deviations[0];
    assert_eq!(d.line, 4);
    assert_eq!(d.kind, Kind::UnknownLine);
    assert_eq!(d.text, "VERSION FCM242DAAR01A05_SIM");
    assert_eq!(d.after_command.as_deref(), Some("AT+QVERSION"));
    assert_eq!(d.entry, "AT+QVERSION `AT+QVERSION`: `+QVERSION: <version>`");
}

#[test]
fn missing_final_result_is_reported_at_the_command() {
    let r = check("missing_final.log");
    assert_eq!(r.deviations.len(), 1, "{}", r.render());
    let d = &r.deviations[0];
    assert_eq!(d.line, 1);
    assert_eq!(d.kind, Kind::MissingFinal);
    assert_eq!(d.text, "AT+QVERSION");
    assert!(d.detail.contains("line 3"), "{}", d.detail);
}

#[test]
fn out_of_range_host_command_is_a_host_error() {
    let r = check("out_of_range.log");
    assert_eq!(r.deviations.len(), 1, "{}", r.render());
    let d = &r.deviations[0];
    assert_eq!(d.line, 1);
    assert_eq!(d.kind, Kind::OutOfRange);
    assert_eq!(d.kind.category(), Category::Host);
    assert!(d.detail.contains("99999"), "{}", d.detail);
    assert!(d.entry.starts_with("AT+QICFG"), "{}", d.entry);
    assert!(r.render().contains("[host]"), "{}", r.render());
}

fn check_text(log: &str) -> CheckReport {
    transcript::check_bytes("inline.log", log.as_bytes()).unwrap()
}

fn kinds(r: &CheckReport) -> Vec<(usize, Kind)> {
    r.deviations.iter().map(|d| (d.line, d.kind)).collect()
}

#[test]
fn other_deviations() {
    // A response line of another command.
    let r = check_text("> AT\n< +QVERSION: FCM242DAAR01A05\n< OK\n");
    assert_eq!(
        kinds(&r),
        vec![(2, Kind::ForeignResponse)],
        "{}",
        r.render()
    );
    assert!(r.deviations[0].entry.starts_with("AT+QVERSION"));

    // An unknown command.
    let r = check_text("> AT+QNOSUCH=1\n< ERROR\n");
    assert_eq!(kinds(&r), vec![(1, Kind::UnknownCommand)], "{}", r.render());

    // A malformed command (wrong shape).
    let r = check_text("> AT+QFCLOSE=1,2,3\n< ERROR\n");
    assert_eq!(
        kinds(&r),
        vec![(1, Kind::MalformedCommand)],
        "{}",
        r.render()
    );

    // A prompt not followed by the payload.
    let r = check_text("> AT+QISEND=0\n< >\n< SEND OK\n");
    assert_eq!(
        kinds(&r),
        vec![(2, Kind::PromptWithoutData)],
        "{}",
        r.render()
    );
    let r = check_text("> AT+QISEND=0\n< >\n> AT\n< OK\n");
    assert_eq!(
        kinds(&r),
        vec![(2, Kind::PromptWithoutData)],
        "{}",
        r.render()
    );

    // An information line after the final result.
    let r = check_text("> AT+QVERSION\n< OK\n< +QVERSION: X\n");
    assert_eq!(kinds(&r), vec![(3, Kind::LineAfterFinal)], "{}", r.render());

    // A final result with no command.
    let r = check_text("< OK\n> AT\n< OK\n");
    assert_eq!(
        kinds(&r),
        vec![(1, Kind::UnexpectedFinal)],
        "{}",
        r.render()
    );

    // The module's echo, URCs between the lines, and the end of the log
    // before the final result.
    let r = check_text(
        "> AT+QVERSION\n< AT+QVERSION\n< +QIURC: \"closed\",1\n< +QVERSION: X\n< OK\n> AT\n",
    );
    assert_eq!(kinds(&r), vec![(6, Kind::MissingFinal)], "{}", r.render());
}

#[test]
fn transparent_mode_is_skipped_until_it_ends() {
    let r = check_text(
        "> AT+QIOPEN=1,\"TCP\",\"192.0.2.2\",8009,0,2\n< CONNECT\n> hello\n< Test 1\n< hello\n\
         > +++\n< OK\n> ATO\n< CONNECT\n< bye\n< NO CARRIER\n> AT\n< OK\n",
    );
    assert!(r.is_clean(), "{}", r.render());
}

#[test]
fn a_few_escaped_line_endings_do_not_make_a_log_a_stream() {
    // The manual prints an HTTP header with `<CR><LF>` at its lines' ends,
    // in a log of plain lines: each source line is still one line.
    let log = b"AT+QHTTPREAD=80\nCONNECT\nHTTP/1.1 200 OK <CR><LF>\nServer: nginx<CR><LF>\n\
                Content-Length: 12<CR><LF>\n<CR><LF>\n<body>hi</body>\nOK\n+QHTTPREAD: 0\n";
    let t = parse::parse(log).unwrap();
    assert!(t.escaped && !t.stream);
    let r = CheckReport::new("x", &t);
    assert!(r.is_clean(), "{}", r.render());
    assert_eq!(r.commands, 1);
    // Endings with more of the stream after them: a stream.
    let t = parse::parse(b"[RX] <CR><LF>OK<CR><LF>\n[TX] AT<CR><LF>\n").unwrap();
    assert!(t.stream);
    // Every line ended by an escaped ending: a stream too (a chunk cut
    // short is joined to the next).
    let t =
        parse::parse(b"TX: AT<CR><LF>\nRX: <CR><LF>\nRX: OK<CR><LF>\nTX: ATI<CR><LF>\n").unwrap();
    assert!(t.stream);
}

#[test]
fn a_malformed_command_is_named_after_the_form_it_follows_furthest() {
    // The manual's own example, with a multiplication sign for the `x`.
    let r = check_text("AT+QSSLCFG=\"ciphersuite\",1,0\u{d7}0035\nOK\n");
    assert_eq!(
        kinds(&r),
        vec![(1, Kind::MalformedCommand)],
        "{}",
        r.render()
    );
    let detail = &r.deviations[0].detail;
    assert!(detail.contains("AT+QSSLCFG=\"ciphersuite\""), "{detail}");
}

#[test]
fn without_marks_an_echoed_command_ends_transparent_mode() {
    // The manual's example: the `+++` that ends transparent mode is not in
    // a capture of the module's output, the next command's echo is.
    let r = check_text(
        "AT+QIOPEN=0,\"TCP\",\"192.0.2.2\",8009,0,2\nCONNECT\nTest 1\nOK\nAT+QICLOSE=0\nOK\n",
    );
    assert!(r.is_clean(), "{}", r.render());
    assert_eq!(r.commands, 2, "{}", r.render());
    // With marks, a host line in transparent mode is data it sends.
    let r = check_text(
        "> AT+QIOPEN=0,\"TCP\",\"192.0.2.2\",8009,0,2\n< CONNECT\n> AT+QICLOSE=0\n< NO CARRIER\n> AT\n< OK\n",
    );
    assert!(r.is_clean(), "{}", r.render());
    assert_eq!(r.commands, 2, "{}", r.render());
}

#[test]
fn other_layouts_are_detected() {
    // An echo-style capture with timestamps.
    let t = parse::parse(b"12:00:00.100 AT\n12:00:00.110 OK\n12:00:01.000 AT+QVERSION\n12:00:01.010 +QVERSION: V\n12:00:01.011 OK\n").unwrap();
    assert_eq!(t.format, Format::Echo);
    assert!(t.timestamps);
    assert!(CheckReport::new("x", &t).is_clean());
    // A marked log with Windows line endings and a timestamp after the mark.
    let t = parse::parse(b"TX: [12:00:00.100] AT\r\nRX: [12:00:00.110] OK\r\n").unwrap();
    assert_eq!(t.format, Format::Marked(Marks::TxRx));
    assert!(t.timestamps);
    assert_eq!(t.entries[1].text(), "OK");
    assert!(CheckReport::new("x", &t).is_clean());
    // A capture split in chunks that cut a line: joined again.
    let t = parse::parse(b"[RX] \\r\\n+QVERS\n[RX] ION: V\\r\\n\\r\\nOK\\r\\n\n").unwrap();
    let texts: Vec<(usize, String)> = t
        .entries
        .iter()
        .filter(|e| !e.is_blank())
        .map(|e| (e.line, e.text()))
        .collect();
    assert_eq!(
        texts,
        vec![(1, "+QVERSION: V".to_string()), (2, "OK".to_string())]
    );
}

#[test]
fn data_blocks_are_skipped() {
    // The block's bytes look like lines of every kind.
    let r = check_text(
        "> AT+QIRD=0,1500\n< +QIRD: 13\n< OK\n< ERROR\n< OK\n< OK\n> AT+QIRD=0,0\n< +QIRD: 10,5,5\n< OK\n",
    );
    assert!(r.is_clean(), "{}", r.render());
    // A URC's data block.
    let r = check_text("< +QIURC: \"recv\",0,4\n< OK\n> AT\n< OK\n");
    assert!(r.is_clean(), "{}", r.render());
    // Without its block the next line is read as a line.
    let r = check_text("> AT+QIRD=0,0\n< +QIRD: 10,5,5\n< hello\n< OK\n");
    assert_eq!(kinds(&r), vec![(3, Kind::UnknownLine)], "{}", r.render());
}

#[test]
fn unreadable_logs_get_typed_errors() {
    let missing = transcript::check_file(fixture("no_such_file.log"));
    assert!(matches!(missing, Err(Error::Read { .. })));
    assert!(matches!(
        transcript::check_bytes("x", b" \r\n\t\n"),
        Err(Error::Parse {
            source: ParseError::Empty,
            ..
        })
    ));
    assert!(matches!(
        parse::parse(&[0u8, 1, 2, 3, 4, 5, 6, 7]),
        Err(ParseError::NotALog { .. })
    ));
    assert!(matches!(
        parse::parse_as(b"AT\nOK\n", Format::Marked(Marks::TxRx)),
        Err(ParseError::NoMarks { .. })
    ));
}

fn sim_replay(log: &[u8], options: &ReplayOptions) -> replay::ReplayReport {
    let t = parse::parse(log).unwrap();
    let (mut link, _thread) = fcm242d_sim::serve::in_process(fcm242d_sim::world::World::default());
    replay::replay("inline.log", &t, &mut link, options)
}

#[test]
fn conforming_logs_replay_against_the_simulator() {
    for name in [
        "conforming_arrows.log",
        "conforming_txrx_escaped.log",
        "conforming_brackets.log",
        "conforming_echo.log",
    ] {
        let (mut link, _thread) =
            fcm242d_sim::serve::in_process(fcm242d_sim::world::World::default());
        let r = transcript::replay_file(fixture(name), &mut link, quick()).unwrap();
        assert!(r.is_clean(), "{name}:\n{}", r.render());
        assert!(
            r.commands.iter().all(|c| c.verdict == Verdict::Match),
            "{name}:\n{}",
            r.render()
        );
        assert_eq!(r.not_replayed, 0);
        assert_eq!(r.target, "memory:a");
    }
}

#[test]
fn replay_lists_changed_values_apart() {
    let r = sim_replay(
        b"> AT+QVERSION\n< +QVERSION: FCM242DAAR01A05\n< OK\n",
        &quick(),
    );
    assert!(r.is_clean(), "{}", r.render());
    let c = &r.commands[0];
    assert_eq!(c.verdict, Verdict::ChangedValues, "{}", r.render());
    assert_eq!(c.changed.len(), 1);
    assert_eq!(c.changed[0].recorded, "+QVERSION: FCM242DAAR01A05");
    assert_eq!(c.changed[0].received, "+QVERSION: FCM242DAAR01A05_SIM");
    assert!(r.render().contains("changed:"), "{}", r.render());
}

#[test]
fn replay_reports_differences() {
    // The simulator refuses an unknown command; the log says OK.
    let r = sim_replay(b"> AT+QNOSUCH\n< OK\n> AT\n< OK\n", &quick());
    assert!(!r.is_clean());
    assert_eq!(r.commands[0].verdict, Verdict::Differs, "{}", r.render());
    assert!(r.commands[0].differences[0].contains("final result"));
    assert_eq!(r.commands[1].verdict, Verdict::Match, "{}", r.render());

    // A line missing from the log.
    let r = sim_replay(b"> AT+QVERSION\n< OK\n", &quick());
    assert_eq!(r.commands[0].verdict, Verdict::Differs, "{}", r.render());

    // A URC the target does not send.
    let r = sim_replay(b"> AT\n< OK\n< +QIURC: \"closed\",1\n", &quick_urc());
    assert_eq!(r.commands[0].verdict, Verdict::Differs, "{}", r.render());
    assert!(r.commands[0].differences[0].contains("not received"));
}

/// A short limit: the awaited URC never comes.
fn quick_urc() -> ReplayOptions {
    ReplayOptions {
        command_timeout: Duration::from_millis(300),
        ..quick()
    }
}

#[test]
fn replay_of_a_command_with_no_answer_is_bounded() {
    // The payload is missing from the log: the target waits for it, the
    // replay gives up at the limit and the next command still answers.
    let r = sim_replay(
        b"> AT+QFOPEN=\"a.txt\",0\n< +QFOPEN: 1\n< OK\n> AT+QFWRITE=1,5\n< CONNECT\n< +QFWRITE: 5,5\n< OK\n",
        &ReplayOptions {
            command_timeout: Duration::from_millis(500),
            ..quick()
        },
    );
    assert_eq!(r.commands.len(), 2);
    assert_eq!(r.commands[1].verdict, Verdict::Differs, "{}", r.render());
    assert!(
        r.commands[1]
            .differences
            .iter()
            .any(|d| d.contains("no final result")),
        "{}",
        r.render()
    );
}

#[test]
fn replay_through_transparent_mode() {
    let log = b"> AT+QSTAAPINFO=\"sim-ap\",\"sim-password\"\n< OK\n\
        < +QSTASTAT: \"WLAN_CONNECTED\"\n< +QSTASTAT: \"GOT_IP\"\n\
        > AT+QIOPEN=0,\"TCP\",\"192.0.2.2\",8009,0,2\n< CONNECT\n\
        > hello\n< Test 1hello\n> +++\n< OK\n> AT+QICLOSE=0\n< OK\n";
    let t = parse::parse(log).unwrap();
    assert!(CheckReport::new("x", &t).is_clean());
    let world = fcm242d_sim::world::World {
        guard_time_ms: 100,
        ..fcm242d_sim::world::World::default()
    };
    let (mut link, _thread) = fcm242d_sim::serve::in_process(world);
    let options = ReplayOptions {
        guard_time: Duration::from_millis(300),
        ..quick()
    };
    let r = replay::replay("inline.log", &t, &mut link, &options);
    assert!(r.is_clean(), "{}", r.render());
    assert!(
        r.commands.iter().all(|c| c.verdict == Verdict::Match),
        "{}",
        r.render()
    );
}

/// Pieces logs are made of, to build inputs that reach deep into the parser.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"> ".to_vec()),
        Just(b"< ".to_vec()),
        Just(b"TX: ".to_vec()),
        Just(b"[RX] ".to_vec()),
        Just(b"<-- ".to_vec()),
        Just(b"[2024-01-01 12:00:00.123] ".to_vec()),
        Just(b"12:00:00.5 ".to_vec()),
        Just(b"[12.5]".to_vec()),
        Just(b"\\r\\n".to_vec()),
        Just(b"<CR><LF>".to_vec()),
        Just(b"\\x1".to_vec()),
        Just(b"<0x".to_vec()),
        Just(b"AT+QVERSION".to_vec()),
        Just(b"AT+QIRD=0,10".to_vec()),
        Just(b"+QIRD: 3".to_vec()),
        Just(b"+QIURC: \"recv\",0,2".to_vec()),
        Just(b"CONNECT 4".to_vec()),
        Just(b"AT+QFREAD=1,4".to_vec()),
        Just(b"AT+QHTTPREAD".to_vec()),
        Just(b"AT+QISEND=0".to_vec()),
        Just(b"CONNECT".to_vec()),
        Just(b">".to_vec()),
        Just(b"OK".to_vec()),
        Just(b"+++".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..8),
    ]
}

proptest! {
    #[test]
    fn parse_and_check_never_panic_on_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        if let Ok(t) = parse::parse(&bytes) {
            let r = CheckReport::new("fuzz", &t);
            let _ = r.render();
        }
        for format in [Format::Raw, Format::Echo, Format::Marked(Marks::Arrows)] {
            if let Ok(t) = parse::parse_as(&bytes, format) {
                let _ = CheckReport::new("fuzz", &t);
            }
        }
    }

    #[test]
    fn parse_and_check_never_panic_on_log_pieces(pieces in proptest::collection::vec(piece(), 0..60)) {
        let bytes = pieces.concat();
        if let Ok(t) = parse::parse(&bytes) {
            for e in &t.entries {
                prop_assert!(e.line >= 1);
                prop_assert!(e.ending <= 2);
            }
            let r = CheckReport::new("fuzz", &t);
            for d in &r.deviations {
                prop_assert!(d.line >= 1);
            }
            let _ = r.render();
        }
    }
}

#[test]
fn double_arrows_and_qcom_layouts_are_read() {
    let log = b">> AT+QVERSION\n<< +QVERSION: FCM242DAAR01A05\n<< OK\n";
    let t = parse::parse(log).expect("read");
    assert_eq!(t.format, Format::Marked(Marks::DoubleArrows));
    assert_eq!(t.entries.len(), 3);
    let qcom = b"[2024-05-04 14:22:31.123_S:]AT+QVERSION\r\n[2024-05-04 14:22:31.200_R:]+QVERSION: FCM242DAAR01A05\r\n[2024-05-04 14:22:31.201_R:]OK\r\n";
    let t = parse::parse(qcom).expect("read");
    assert_eq!(t.format, Format::Marked(Marks::Qcom));
    assert_eq!(t.entries[0].text(), "AT+QVERSION");
    assert_eq!(t.entries[2].text(), "OK");
}

#[test]
fn an_unknown_layout_is_a_clear_error_not_a_flood_of_deviations() {
    let log = b"host: AT+QVERSION\ndev: +QVERSION: x\ndev: OK\nhost: AT\n";
    let e = parse::parse(log).unwrap_err();
    assert!(matches!(e, ParseError::Unrecognised { .. }), "{e}");
    assert!(e.to_string().contains("not recognised"), "{e}");
}

#[test]
fn results_are_checked_against_the_form_and_the_tables() {
    let log = b"> AT+QBLESTAT\n< SEND OK\n> AT+QHTTPGET=60\n< +CME ERROR: 999\n> AT+QVERSION\n< +CME ERROR: 3\n> AT+QHTTPGET=60\n< +CME ERROR: 710\n> AT+QVERSION\n< +QVERSION: X\n< OK\n";
    let r = transcript::check_bytes("results.log", log).expect("read");
    let wrong: Vec<usize> = r
        .deviations
        .iter()
        .filter(|d| d.kind == Kind::WrongFinal)
        .map(|d| d.line)
        .collect();
    assert_eq!(wrong, [2, 4, 6], "{}", r.render());
    assert!(r.render().contains("SEND OK` is not a result of this form"));
    assert!(r
        .render()
        .contains("999 is not a code of AT+QHTTPGET's result table"));
}
