//! The hand-written number readers and writers agree with the standard
//! library's on every input: decimal integers read by `value::parse_int`
//! (a fast path for plain digits, `str::parse` for the rest) and written
//! by `LineWriter::int` (digit by digit, without `core::fmt`), and IPv4
//! addresses read by `value::parse_ipv4` (four plain octets, exactly what
//! `Ipv4Addr::from_str` accepts), and integers read by a straight-line
//! walk as it matches them (`scan::Cursor::int`), and so are IPv4
//! addresses (`scan::Cursor::ipv4`, the same as `parse_ipv4` of the text
//! the step matched). And final result codes
//! read from bytes (`Final::parse_bytes`, no UTF-8 check for `OK`) as
//! `Final::parse` reads the same text.

use std::net::Ipv4Addr;

use fcm242d::engine::Final;
use fcm242d::scan::Cursor;
use fcm242d::value::{parse_int, parse_ipv4, scanned_int, scanned_ipv4};
use fcm242d::wire::LineWriter;
use proptest::prelude::*;

/// What `parse_int` did before its fast path: trim, then `str::parse`.
fn reference(s: &str) -> Option<i64> {
    s.trim().parse().ok()
}

/// What a walk's integer step reads at the start of `s`: how much text it
/// captured, and the value it read.
fn walked_int(s: &str) -> Option<(String, Result<i64, fcm242d::value::ValueError>)> {
    let mut v = [None];
    let mut n = [None];
    Cursor::with_numbers(s, &mut v, &mut n).int(0)?;
    Some((v[0]?.to_string(), scanned_int(n[0])))
}

/// What a walk's IPv4 step (quoted or not) reads at the start of `s`: the
/// text it matched and the address it read.
fn walked_ipv4(
    s: &str,
    quoted: bool,
) -> Option<(String, Result<Ipv4Addr, fcm242d::value::ValueError>)> {
    let mut v = [None];
    let mut n = [None];
    Cursor::with_numbers(s, &mut v, &mut n).ipv4(0, quoted)?;
    Some((v[0]?.to_string(), scanned_ipv4(n[0])))
}

/// The IPv4 token of the grammar (`ipv4_token`), quoted or not, at the
/// start of `s`: the text it matches, as the shared token reader sees it.
fn ipv4_token(s: &str, quoted: bool) -> Option<String> {
    let b = s.as_bytes();
    let end = if quoted {
        fcm242d::scan::quoted_ipv4(b, 0)?
    } else {
        fcm242d::scan::ipv4(b, 0)?
    };
    s.get(..end).map(str::to_string)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn final_results_read_from_bytes_as_from_text(
        line in prop_oneof![
            Just(b"OK".to_vec()),
            "(OK|ERROR|SEND OK|SEND FAIL|CONNECT|NO CARRIER|CONNECT [0-9 ]{0,22}|\\+CME ERROR: ?[0-9a-z ]{0,8}|CONNECT \u{3000}7)"
                .prop_map(String::into_bytes),
            proptest::collection::vec(any::<u8>(), 0..16),
        ]
    ) {
        let from_text = std::str::from_utf8(&line).ok().and_then(Final::parse);
        prop_assert_eq!(Final::parse_bytes(&line), from_text);
    }

    /// Digits with leading zeros, a sign, too many digits for an `i64`,
    /// and text after them: the value read as the digits are matched is
    /// `parse_int` of the captured text (which is the standard library's
    /// reading of it), error for error.
    #[test]
    fn integers_read_while_walking_are_read_as_parse_int_reads_them(
        s in "-?0{0,4}[0-9]{0,22}[,a\\r\"]?",
    ) {
        match walked_int(&s) {
            Some((text, value)) => {
                prop_assert!(s.starts_with(&text));
                prop_assert_eq!(value, parse_int(&text), "{:?}", s);
            }
            // Nothing captured: no digit where the integer starts.
            None => prop_assert!(
                !s.trim_start_matches('-').starts_with(|c: char| c.is_ascii_digit()),
                "{:?}", s
            ),
        }
    }

    #[test]
    fn every_i64_is_read_while_walking(n in any::<i64>()) {
        let text = n.to_string();
        prop_assert_eq!(walked_int(&text), Some((text.clone(), Ok(n))));
    }

    #[test]
    fn every_i64_reads_back(n in any::<i64>()) {
        prop_assert_eq!(parse_int(&n.to_string()).ok(), Some(n));
    }

    #[test]
    fn digit_strings_read_as_the_standard_library_reads_them(s in "[-+ ]?[0-9]{0,22} ?") {
        prop_assert_eq!(parse_int(&s).ok(), reference(&s), "{:?}", s);
    }

    #[test]
    fn any_text_reads_as_the_standard_library_reads_it(s in ".{0,24}") {
        prop_assert_eq!(parse_int(&s).ok(), reference(&s), "{:?}", s);
    }

    #[test]
    fn every_address_reads_back(n in any::<u32>()) {
        let a = Ipv4Addr::from(n);
        prop_assert_eq!(parse_ipv4(&a.to_string()).ok(), Some(a));
    }

    #[test]
    fn address_like_text_reads_as_the_standard_library_reads_it(s in "[0-9.]{0,17}") {
        prop_assert_eq!(parse_ipv4(&s).ok(), s.parse::<Ipv4Addr>().ok(), "{:?}", s);
    }

    #[test]
    fn any_text_reads_as_an_address_as_the_standard_library_reads_it(s in ".{0,20}") {
        prop_assert_eq!(parse_ipv4(&s).ok(), s.parse::<Ipv4Addr>().ok(), "{:?}", s);
    }

    #[test]
    fn addresses_read_while_walking_are_read_as_parse_ipv4_reads_them(
        s in "\"?[0-9.]{0,17}\"?[,x]?",
        quoted in any::<bool>(),
    ) {
        let walked = walked_ipv4(&s, quoted);
        // The step matches exactly what the token matches...
        prop_assert_eq!(walked.as_ref().map(|(t, _)| t.clone()), ipv4_token(&s, quoted));
        // ...and reads the address `parse_ipv4` reads from that text.
        if let Some((text, address)) = walked {
            let bare = text.trim_matches('"');
            prop_assert_eq!(address.ok(), parse_ipv4(bare).ok());
        }
    }

    #[test]
    fn every_address_is_read_while_walking(n in any::<u32>(), quoted in any::<bool>()) {
        let address = Ipv4Addr::from(n);
        let text = if quoted { format!("\"{address}\"") } else { address.to_string() };
        prop_assert_eq!(walked_ipv4(&text, quoted), Some((text.clone(), Ok(address))));
    }

    #[test]
    fn every_i64_is_written_as_format_writes_it(n in any::<i64>()) {
        let mut w = LineWriter::new("+X: ");
        w.field();
        w.int(n);
        prop_assert_eq!(w.finish(), format!("+X: {n}"));
    }
}

#[test]
fn the_extremes() {
    for n in [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX] {
        assert_eq!(parse_int(&n.to_string()), Ok(n));
        let mut w = LineWriter::new("");
        w.int(n);
        assert_eq!(w.finish(), n.to_string());
    }
    assert!(parse_int("-").is_err());
    assert!(parse_int("").is_err());
    assert!(parse_int("99999999999999999999").is_err());
    for bad in [
        "01.2.3.4",
        "1.2.3",
        "1.2.3.4.5",
        "256.1.1.1",
        "1..2.3",
        "",
        "1.2.3.4 ",
    ] {
        assert!(parse_ipv4(bad).is_err(), "{bad:?}");
    }
    assert_eq!(parse_ipv4("0.0.0.0"), Ok(Ipv4Addr::UNSPECIFIED));
    assert_eq!(parse_ipv4("255.255.255.255"), Ok(Ipv4Addr::BROADCAST));
}
