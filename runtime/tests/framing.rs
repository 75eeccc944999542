//! Data is framed by the lengths lines announce, robustly: a block is framed
//! even when another field of its line is wrong; a length beyond its limit
//! is an error and the engine goes on at the next line; an MQTT payload is
//! the `<payload_length>` bytes of its line, whatever they are.

mod support;

use fcm242d::engine::{Event, Final};
use fcm242d::generated::commands::{qird, qmtrecv, qversion};
use fcm242d::generated::urcs::{QmtrecvMessage, Urc};
use fcm242d::value::{Int, ValueError};
use fcm242d::wire::DecodeError;
use proptest::prelude::*;
use support::{recv, send, split_invariant};

/// The URCs and bad URCs of a stream fed at every split.
fn urcs_of(bytes: &[u8]) -> Vec<Event> {
    split_invariant(&[recv(bytes)])
}

fn message(e: &Event) -> &QmtrecvMessage {
    match e {
        Event::Urc(Urc::QmtrecvMessage(m)) => m,
        other => panic!("not a +QMTRECV message: {other:?}"),
    }
}

#[test]
fn an_mqtt_payload_holding_cr_lf_ok_and_a_fake_urc_is_one_payload() {
    let payload = b"line 1\r\n+QIURC: \"closed\",0\r\nOK\r\n";
    let mut bytes = format!("+QMTRECV: 0,1,\"t/a\",{},\"", payload.len()).into_bytes();
    bytes.extend_from_slice(payload);
    bytes.extend_from_slice(b"\"\r\n+QMTSTAT: 0,1\r\n");
    let events = urcs_of(&bytes);
    assert_eq!(events.len(), 2, "{events:?}");
    let m = message(&events[0]);
    assert_eq!(m.payload, payload);
    assert_eq!(m.topic, "t/a");
    assert_eq!(m.payload_length.map(Int::get), Some(payload.len() as i64));
    assert!(matches!(events[1], Event::Urc(Urc::Qmtstat(_))));
}

#[test]
fn json_binary_and_quoted_payloads_keep_their_bytes() {
    let json = br#"{"t":21.5,"s":"ok"}"#.to_vec();
    let binary: Vec<u8> = (0..=255u8).collect();
    let quotes = b"say \"hi\", \"bye\"".to_vec();
    for payload in [json, binary, quotes, Vec::new()] {
        let mut bytes = format!("+QMTRECV: 2,7,\"a,b\",{},\"", payload.len()).into_bytes();
        bytes.extend_from_slice(&payload);
        bytes.extend_from_slice(b"\"\r\n");
        let events = urcs_of(&bytes);
        assert_eq!(events.len(), 1, "{events:?}");
        let m = message(&events[0]);
        assert_eq!(m.payload, payload);
        assert_eq!(m.topic, "a,b");
        // Rendered back byte for byte.
        assert_eq!(
            fcm242d::command::Line::render_bytes(m),
            bytes[..bytes.len() - 2]
        );
    }
}

#[test]
fn the_largest_payload_is_framed_and_one_byte_more_is_an_error() {
    let payload: Vec<u8> = (0..10240u32)
        .map(|i| b"ab\r\n\"x"[(i % 6) as usize])
        .collect();
    let mut bytes = b"+QMTRECV: 0,1,\"big\",10240,\"".to_vec();
    bytes.extend_from_slice(&payload);
    bytes.extend_from_slice(b"\"\r\n");
    let mut engine = fcm242d::engine::Engine::new();
    engine.feed(&bytes);
    let e = engine.poll().unwrap();
    assert_eq!(message(&e).payload, payload);
    assert_eq!(engine.poll(), None);

    // 10241: an error of the line; the line ends at its first CR, and the
    // engine goes on line by line.
    let mut bytes = b"+QMTRECV: 0,1,\"big\",10241,\"ab\r\n+QMTSTAT: 0,1\r\n".to_vec();
    bytes.extend_from_slice(b"");
    let events = urcs_of(&bytes);
    assert!(matches!(events[0], Event::BadUrc { .. }), "{events:?}");
    assert!(
        matches!(events[1], Event::Urc(Urc::Qmtstat(_))),
        "{events:?}"
    );
}

#[test]
fn a_payload_as_the_manual_prints_it_without_quotes() {
    let events = urcs_of(b"+QMTRECV: 0,0,\"topic/pub\",30,This is test data, hello MQTT.\r\n");
    assert_eq!(
        message(&events[0]).payload,
        b"This is test data, hello MQTT."
    );
    // Unquoted, holding CR LF: the length frames it too.
    let events = urcs_of(b"+QMTRECV: 0,0,\"t\",4,a\r\nb\r\n+QMTSTAT: 0,1\r\n");
    assert_eq!(message(&events[0]).payload, b"a\r\nb");
    assert_eq!(events.len(), 2);
}

#[test]
fn without_a_length_the_quotes_delimit_the_payload() {
    let events = urcs_of(b"+QMTRECV: 0,0,\"t\",\"a \"quoted\" word\"\r\n");
    let m = message(&events[0]);
    assert_eq!(m.payload, b"a \"quoted\" word");
    assert_eq!(m.payload_length, None);
    // A CR LF without a length ends the line: both halves are reported.
    let events = urcs_of(b"+QMTRECV: 0,0,\"t\",\"a\r\nb\"\r\n");
    assert!(matches!(events[0], Event::BadUrc { .. }), "{events:?}");
    assert_eq!(events[1], Event::Unsolicited("b\"".into()));
}

#[test]
fn a_hex_format_payload_is_the_text_between_the_quotes() {
    let events = urcs_of(b"+QMTRECV: 0,0,\"t\",3,\"616263\"\r\n");
    assert_eq!(message(&events[0]).payload, b"616263");
}

#[test]
fn the_read_form_of_qmtrecv_frames_its_payload_too() {
    let script = [send(
        qmtrecv::Write {
            client_idx: Int::new(0).unwrap(),
            receive_id: None,
        },
        b"\r\n+QMTRECV: 0,3,\"t\",5,\"a\r\nOK\"\r\n\r\nOK\r\n",
    )];
    let events = split_invariant(&script);
    let Event::Line(l) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(l.get::<qmtrecv::WriteLine>().unwrap().payload, b"a\r\nOK");
    assert_eq!(events[1], Event::Final(Final::Ok));
}

#[test]
fn a_data_urc_with_a_bad_field_keeps_its_framing() {
    // connectID 12 is out of range; the 7 bytes still belong to the URC,
    // and their OK does not answer the pending command.
    let script = [send(
        qversion::Execute {},
        b"\r\n+QIURC: \"recv\",12,7\r\n\r\nOK\r\n\r\n+QVERSION: X\r\n\r\nOK\r\n",
    )];
    let events = split_invariant(&script);
    assert_eq!(
        events[0],
        Event::BadUrc {
            line: "+QIURC: \"recv\",12,7".into(),
            error: DecodeError::Value {
                field: "connectID",
                error: ValueError::OutOfRange {
                    value: 12,
                    min: 0,
                    max: 11
                }
            },
            data: Some(b"\r\nOK\r\n\r".to_vec()),
        }
    );
    assert!(matches!(events[1], Event::Line(_)), "{events:?}");
    assert_eq!(events[2], Event::Final(Final::Ok));
    assert_eq!(events.len(), 3);

    // A dashed UUID.
    let events = urcs_of(b"+QBLERECV: 0,\"0000-FFF2\",10\r\nfrom\r\nOK\r\n\r\n+QMTSTAT: 0,1\r\n");
    match &events[0] {
        Event::BadUrc { data, error, .. } => {
            assert_eq!(data.as_deref(), Some(&b"from\r\nOK\r\n"[..]));
            assert!(matches!(error, DecodeError::Value { field: "UUID", .. }));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(events[1], Event::Urc(Urc::Qmtstat(_))));
}

#[test]
fn an_absurd_length_is_an_error_and_the_next_line_is_read() {
    let events = urcs_of(b"+QIURC: \"recv\",0,4000000000\r\nabc\r\n+QIURC: \"closed\",0\r\n");
    match &events[0] {
        Event::BadUrc {
            data: None, error, ..
        } => assert!(
            matches!(
                error,
                DecodeError::Value {
                    field: "current_recvlength",
                    error: ValueError::OutOfRange { .. }
                }
            ),
            "{error:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(events[1], Event::Unsolicited("abc".into()));
    assert!(matches!(events[2], Event::Urc(Urc::QiurcClosed(_))));

    // Beyond the catalogue's maximum (+QBLERECV: 511).
    let events = urcs_of(b"+QBLERECV: 0,\"FFF2\",512\r\n+QMTSTAT: 0,1\r\n");
    assert!(
        matches!(events[0], Event::BadUrc { data: None, .. }),
        "{events:?}"
    );
    assert!(matches!(events[1], Event::Urc(Urc::Qmtstat(_))));
}

#[test]
fn a_block_longer_than_the_command_asked_for_is_an_error() {
    let read = qird::WriteConnectIdReadLength {
        connect_id: Int::new(0).unwrap(),
        read_length: Some(Int::new(4).unwrap()),
    };
    let events = split_invariant(&[send(read, b"\r\n+QIRD: 5\r\nabcde\r\n\r\nOK\r\n")]);
    assert!(
        matches!(&events[0], Event::BadLine { line, error: DecodeError::Value { field: "read_actual_length", .. } } if line == "+QIRD: 5"),
        "{events:?}"
    );
    assert_eq!(events[1], Event::Unsolicited("abcde".into()));
    assert_eq!(events[2], Event::Final(Final::Ok));
}

#[test]
fn an_empty_data_block_belongs_to_its_urc() {
    let events =
        urcs_of(b"+QIURC: \"recv\",1,0\r\n+QSSLURC: \"recv\",2,0\r\n\r\n+QIURC: \"closed\",1\r\n");
    assert_eq!(events.len(), 3, "{events:?}");
    assert!(matches!(&events[0], Event::Urc(u) if u.data() == Some(&b""[..])));
    assert!(matches!(&events[1], Event::Urc(u) if u.data() == Some(&b""[..])));
}

proptest! {
    #[test]
    fn any_payload_survives_any_split(
        payload in prop::collection::vec(any::<u8>(), 0..300),
        quoted in any::<bool>(),
        cuts in prop::collection::vec(any::<usize>(), 0..10),
    ) {
        let mut bytes = format!("\r\n+QMTRECV: 1,9,\"x/y\",{},", payload.len()).into_bytes();
        if quoted { bytes.push(b'"'); }
        bytes.extend_from_slice(&payload);
        if quoted { bytes.push(b'"'); }
        bytes.extend_from_slice(b"\r\n+QMTSTAT: 1,1\r\n");
        let whole = support::whole(&[recv(&bytes)]);
        let split = support::split_at(&[recv(&bytes)], &[cuts]);
        prop_assert_eq!(&whole, &split);
        prop_assert_eq!(whole.len(), 2);
        prop_assert_eq!(&message(&whole[0]).payload, &payload);
    }
}
