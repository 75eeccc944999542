//! The engine never panics, and never loses or invents a URC, whatever the
//! bytes and however they are split.

use fcm242d::engine::{Engine, Event, Final};
use fcm242d::generated::commands::{qird, qversion};
use fcm242d::generated::urcs::Urc;
use fcm242d::value::Int;
use proptest::prelude::*;

/// URCs as the manual prints them, with the data blocks some of them carry.
const URCS: &[&str] = &[
    "+QIURC: \"closed\",1\r\n",
    "+QIURC: \"recv\",2\r\n",
    "+QIURC: \"recv\",0,5\r\nhe\r\nl\r\n",
    "+QIURC: \"incoming full\"\r\n",
    "+QMTSTAT: 0,1\r\n",
    "+QBLERECV: 0,\"fff2\",10\r\nfrom phone\r\n",
    "+QIOPEN: 0,0\r\n",
    "+QMTRECV: 0,0,\"topic/pub\",30,\"This is test data, hello MQTT.\"\r\n",
    "+QSSLURC: \"recv\",4,18\r\nTest data from SSL\r\n",
];

fn qird() -> qird::WriteConnectIdReadLength {
    qird::WriteConnectIdReadLength {
        connect_id: Int::new(0).unwrap(),
        read_length: Some(Int::new(1500).unwrap()),
    }
}

/// The module's answer to `AT+QIRD=0,1500`, with URCs between its parts.
fn stream(urcs_at: &[(usize, usize)]) -> (Vec<u8>, Vec<&'static str>) {
    let parts: [&[u8]; 4] = [b"\r\n", b"+QIRD: 6\r\nab\r\nOK\r\n", b"\r\n", b"OK\r\n"];
    let mut out = Vec::new();
    let mut expected = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        for (pos, urc) in urcs_at {
            if *pos == i {
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(URCS[*urc].as_bytes());
                expected.push(URCS[*urc]);
            }
        }
        out.extend_from_slice(part);
    }
    (out, expected)
}

fn events(chunks: &[&[u8]]) -> Vec<Event> {
    let mut engine = Engine::new();
    let _ = engine.command(&qird());
    let mut out = Vec::new();
    for c in chunks {
        engine.feed(c);
        while let Some(e) = engine.poll() {
            out.push(e);
        }
    }
    out
}

fn split_at_points<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    points.sort_unstable();
    points.dedup();
    let mut chunks = Vec::new();
    let mut start = 0;
    for p in points {
        chunks.push(&bytes[start..p]);
        start = p;
    }
    chunks.push(&bytes[start..]);
    chunks
}

#[test]
fn every_sample_urc_decodes() {
    for line in URCS {
        let first = line.split("\r\n").next().unwrap();
        assert!(matches!(Urc::parse(first), Some(Ok(_))), "{first}");
    }
}

#[test]
fn a_response_with_urcs_between_its_parts() {
    let (bytes, expected) = stream(&[(1, 2), (2, 5), (3, 0)]);
    let evs = events(&[&bytes]);
    let urcs: Vec<String> = evs
        .iter()
        .filter_map(|e| match e {
            Event::Urc(u) => Some(u.render()),
            _ => None,
        })
        .collect();
    assert_eq!(urcs.len(), expected.len());
    assert!(evs.contains(&Event::Data(b"ab\r\nOK".to_vec())));
    assert_eq!(evs.last(), Some(&Event::Final(Final::Ok)));
    let with_data: Vec<&Urc> = evs
        .iter()
        .filter_map(|e| match e {
            Event::Urc(u) if u.data().is_some() => Some(u),
            _ => None,
        })
        .collect();
    assert_eq!(with_data[0].data(), Some(&b"he\r\nl"[..]));
    assert_eq!(with_data[1].data(), Some(&b"from phone"[..]));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048), cuts in prop::collection::vec(any::<usize>(), 0..16)) {
        for chunk in split_at_points(&bytes, &cuts) {
            let mut engine = Engine::new();
            engine.feed(chunk);
            while engine.poll().is_some() {}
        }
        let mut engine = Engine::new();
        let _ = engine.command(&qversion::Execute {});
        for chunk in split_at_points(&bytes, &cuts) {
            engine.feed(chunk);
            while engine.poll().is_some() {}
        }
    }

    #[test]
    fn fragmentation_changes_nothing_and_loses_no_urc(
        placements in prop::collection::vec((0usize..4, 0usize..URCS.len()), 0..8),
        cuts in prop::collection::vec(any::<usize>(), 0..40),
    ) {
        let (bytes, expected) = stream(&placements);
        let whole = events(&[&bytes]);
        let split = events(&split_at_points(&bytes, &cuts));
        let one_by_one: Vec<&[u8]> = bytes.chunks(1).collect();
        let bytewise = events(&one_by_one);
        prop_assert_eq!(&whole, &split);
        prop_assert_eq!(&whole, &bytewise);
        let urcs: Vec<String> = whole.iter().filter_map(|e| match e { Event::Urc(u) => Some(u.render()), _ => None }).collect();
        let want: Vec<&str> = expected.iter().map(|l| l.split("\r\n").next().unwrap_or("")).collect();
        prop_assert_eq!(urcs, want);
        prop_assert!(whole.contains(&Event::Data(b"ab\r\nOK".to_vec())));
        prop_assert_eq!(whole.last(), Some(&Event::Final(Final::Ok)));
        let stray = whole.iter().any(|e| matches!(e, Event::Unsolicited(_) | Event::BadUrc { .. }));
        prop_assert!(!stray, "{:?}", whole);
    }
}

/// A command of one's own whose line is as long as asked (`encode_into` is
/// the default: encoded, then copied if it fits).
struct Long(usize);

impl fcm242d::command::AtCommand for Long {
    const NAME: &'static str = "AT+QLONG";
    const KIND: fcm242d::command::FormKind = fcm242d::command::FormKind::Write;
    type Line = fcm242d::command::NoLine;
    fn encode(&self) -> String {
        format!("AT+QLONG=\"{}\"", "x".repeat(self.0))
    }
}

#[test]
fn command_bytes_come_from_one_reused_buffer() {
    use fcm242d::command::AtCommand;
    use fcm242d::generated::commands::escape;
    let mut engine = Engine::new();
    assert_eq!(engine.command(&qversion::Execute {}), b"AT+QVERSION\r\n");
    // Lines longer than the buffer, then shorter ones again.
    for n in [10, 300, 5000, 20, 245, 246, 247, 0] {
        let expected = format!("{}\r\n", Long(n).encode());
        assert_eq!(engine.command(&Long(n)), expected.as_bytes(), "{n}");
    }
    assert_eq!(engine.command(&qird()), b"AT+QIRD=0,1500\r\n");
    // `+++` without CR LF.
    assert_eq!(engine.command(&escape::Execute {}), b"+++");
    assert_eq!(engine.command(&qversion::Execute {}), b"AT+QVERSION\r\n");
    // The echo is still recognised.
    engine.feed(b"AT+QVERSION\r\r\n+QVERSION: X\r\n\r\nOK\r\n");
    assert!(matches!(engine.poll(), Some(Event::Line(_))));
    assert_eq!(engine.poll(), Some(Event::Final(Final::Ok)));
    assert_eq!(engine.poll(), None);
}

/// `#RAW: <n>,<n bytes>` (a made-up line whose payload may hold CR LF, with
/// a prefix that does not start with `+`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct RawLine(Vec<u8>);

impl RawLine {
    /// The announced length and where the payload starts.
    fn framing(line: &[u8]) -> Option<(usize, usize)> {
        let rest = line.strip_prefix(b"#RAW: ")?;
        let comma = rest.iter().position(|b| *b == b',')?;
        let n = std::str::from_utf8(&rest[..comma]).ok()?.parse().ok()?;
        Some((n, 6 + comma + 1))
    }
}

impl fcm242d::command::Line for RawLine {
    const PREFIXES: &'static [&'static str] = &["#RAW: "];
    fn parse(line: &str) -> Result<Self, fcm242d::error::DecodeError> {
        Self::decode(line.as_bytes()).value
    }
    fn decode(line: &[u8]) -> fcm242d::command::Decoded<Self> {
        let value = Self::framing(line)
            .filter(|(n, start)| line.len() == start + n)
            .map(|(_, start)| RawLine(line[start..].to_vec()))
            .ok_or(fcm242d::error::DecodeError::NoMatch {
                expected: "#RAW: <n>,<payload>",
                at: None,
            });
        fcm242d::command::Decoded::plain(value)
    }
    fn inline_remaining(partial: &[u8]) -> Option<usize> {
        let (n, start) = Self::framing(partial)?;
        let have = partial.len() - start;
        (have < n).then(|| n - have)
    }
    fn render(&self) -> String {
        format!(
            "#RAW: {},{}",
            self.0.len(),
            String::from_utf8_lossy(&self.0)
        )
    }
}

struct Raw;

impl fcm242d::command::AtCommand for Raw {
    const NAME: &'static str = "AT#RAW";
    const KIND: fcm242d::command::FormKind = fcm242d::command::FormKind::Execute;
    type Line = RawLine;
    fn encode(&self) -> String {
        "AT#RAW".into()
    }
}

#[test]
fn an_in_line_payload_of_a_line_without_plus() {
    let answer: &[u8] = b"\r\n#RAW: 7,a\r\nOK\r\n\r\nOK\r\n";
    for chunk in [1, 2, 5, answer.len()] {
        let mut engine = Engine::new();
        let _ = engine.command(&Raw);
        for piece in answer.chunks(chunk) {
            engine.feed(piece);
        }
        let Some(Event::Line(line)) = engine.poll() else {
            panic!("no line ({chunk})")
        };
        assert_eq!(
            line.get::<RawLine>(),
            Some(&RawLine(b"a\r\nOK\r\n".to_vec()))
        );
        assert_eq!(engine.poll(), Some(Event::Final(Final::Ok)));
        assert_eq!(engine.poll(), None);
    }
}
