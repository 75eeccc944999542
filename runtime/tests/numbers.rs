//! The hand-written number readers and writers agree with the standard
//! library's on every input: decimal integers read by `value::parse_int`
//! (a fast path for plain digits, `str::parse` for the rest) and written
//! by `LineWriter::int` (digit by digit, without `core::fmt`), and IPv4
//! addresses read by `value::parse_ipv4` (a fast path for four plain
//! octets, `Ipv4Addr::from_str` for the rest).

use std::net::Ipv4Addr;

use fcm242d::value::{parse_int, parse_ipv4};
use fcm242d::wire::LineWriter;
use proptest::prelude::*;

/// What `parse_int` did before its fast path: trim, then `str::parse`.
fn reference(s: &str) -> Option<i64> {
    s.trim().parse().ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

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
