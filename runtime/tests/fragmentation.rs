//! The engine gives the same events for every split of the module's output,
//! including bytes that follow a final result in the same read: each frame
//! is acted on before the bytes after it are framed.

mod support;

use fcm242d::engine::{Event, Final};
use fcm242d::generated::commands::{
    qblegattcrd, qfread, qhttpread, qiopen, qird, qisend, qversion,
};
use fcm242d::generated::urcs::Urc;
use fcm242d::value::{Int, Uuid};
use proptest::prelude::*;
use support::{recv, send, split_at, split_invariant, Step};

fn qird() -> qird::WriteConnectIdReadLength {
    qird::WriteConnectIdReadLength {
        connect_id: Int::new(0).unwrap(),
        read_length: Some(Int::new(1500).unwrap()),
    }
}

fn transparent_open() -> qiopen::Write {
    support::tcp_open(qiopen::AccessMode::Transparent)
}

fn qisend() -> qisend::WriteConnectIdSendLength {
    qisend::WriteConnectIdSendLength {
        connect_id: Int::new(0).unwrap(),
        send_length: Int::new(5).unwrap(),
    }
}

fn gatt_read() -> qblegattcrd::Write {
    qblegattcrd::Write {
        conn_idx: Int::new(0).unwrap(),
        uuid: Uuid::new("FFF1").unwrap(),
    }
}

/// Every scenario: commands, the module's answers, and what follows them in
/// the same read.
fn scenarios() -> Vec<(&'static str, Vec<Step>)> {
    vec![
        (
            "data URC right after OK, its data holding OK",
            vec![send(
                qird(),
                b"\r\n+QIRD: 6\r\nab\r\nOK\r\n\r\nOK\r\n+QIURC: \"recv\",0,6\r\n\r\nOK\r\n\r\n+QIURC: \"closed\",0\r\n",
            )],
        ),
        (
            "ERROR then CONNECT in one read",
            vec![send(
                transparent_open(),
                b"\r\nERROR\r\n\r\nCONNECT\r\n+QIURC: \"closed\",0\r\n",
            )],
        ),
        (
            "CONNECT, raw bytes, NO CARRIER, then lines",
            vec![send(
                transparent_open(),
                b"\r\nCONNECT\r\nhello\r\nOK\r\n\r\nNO CARRIER\r\n+QIURC: \"closed\",0\r\n",
            )],
        ),
        (
            "prompt, SEND OK, then a data URC",
            vec![
                send(qisend(), b"\r\n> "),
                recv(b"\r\nSEND OK\r\n+QIURC: \"recv\",0,3\r\n> \r\n\r\n+QIURC: \"closed\",0\r\n"),
            ],
        ),
        (
            "CONNECT <n>, data holding OK, OK, then a URC",
            vec![send(
                qfread::Write {
                    filehandle: 1,
                    length: Some(7),
                },
                b"\r\nCONNECT 7\r\nab\r\nOK\r\n\r\nOK\r\n+QIURC: \"recv\",0,2\r\nOK\r\n",
            )],
        ),
        (
            "HTTP body up to OK, then the completion",
            vec![send(
                qhttpread::Write { wait_time: None },
                b"\r\nCONNECT\r\nHTTP/1.1 200 OK\r\n\r\n>body\r\nOK\r\n\r\n+QHTTPREAD: 0\r\n",
            )],
        ),
        (
            "a line after OK, a URC first",
            vec![send(
                gatt_read(),
                b"\r\nOK\r\n\r\n+QBLESTAT: \"CONNECTED\"\r\n\r\n48656C6C6F\r\n\r\n48656C6C6F\r\n",
            )],
        ),
        (
            "two commands, the second's echo and a URC between",
            vec![
                send(qversion::Execute {}, b"\r\n+QVERSION: FCM242DAAR01A05\r\n\r\nOK\r\n"),
                send(
                    qird(),
                    b"AT+QIRD=0,1500\r\r\n+QIURC: \"recv\",1,2\r\nhi\r\n+QIRD: 0\r\n\r\nOK\r\n",
                ),
            ],
        ),
    ]
}

#[test]
fn every_two_way_split_gives_the_same_events() {
    for (name, script) in scenarios() {
        let events = split_invariant(&script);
        assert!(!events.is_empty(), "{name}");
    }
}

#[test]
fn bytes_after_ok_are_framed_for_the_state_after_it() {
    let script = &scenarios()[0].1;
    let events = support::whole(script);
    let urcs: Vec<&Urc> = events
        .iter()
        .filter_map(|e| match e {
            Event::Urc(u) => Some(u),
            _ => None,
        })
        .collect();
    assert_eq!(urcs.len(), 2, "{events:?}");
    assert_eq!(urcs[0].data(), Some(&b"\r\nOK\r\n"[..]));
    assert!(events.contains(&Event::Data(b"ab\r\nOK".to_vec())));
    assert!(!events
        .iter()
        .any(|e| matches!(e, Event::Unsolicited(_) | Event::BadUrc { .. })));
}

#[test]
fn error_then_connect_enters_nothing() {
    let events = support::whole(&scenarios()[1].1);
    assert_eq!(
        events,
        vec![
            Event::Final(Final::Error),
            Event::Unsolicited("CONNECT".into()),
            Event::Urc(Urc::parse("+QIURC: \"closed\",0").unwrap().unwrap()),
        ]
    );
}

#[test]
fn transparent_mode_ends_with_no_carrier() {
    let events = support::whole(&scenarios()[2].1);
    assert_eq!(
        events,
        vec![
            Event::Final(Final::Connect),
            Event::Raw(b"hello\r\nOK\r\n".to_vec()),
            Event::Final(Final::NoCarrier),
            Event::Urc(Urc::parse("+QIURC: \"closed\",0").unwrap().unwrap()),
        ]
    );
}

#[test]
fn a_prompt_only_while_one_is_expected() {
    let events = support::whole(&scenarios()[3].1);
    assert_eq!(events[0], Event::Prompt);
    assert_eq!(events[1], Event::Final(Final::SendOk));
    let Event::Urc(u) = &events[2] else {
        panic!("{events:?}")
    };
    // After SEND OK no prompt is expected: "> \r\n" is the data.
    assert_eq!(u.data(), Some(&b"> \r"[..]));
}

#[test]
fn the_line_after_ok_is_the_commands_and_the_urc_is_a_urc() {
    let events = support::whole(&scenarios()[6].1);
    assert_eq!(events[0], Event::Final(Final::Ok));
    assert!(
        matches!(events[1], Event::Urc(Urc::Qblestat(_))),
        "{events:?}"
    );
    let Event::Line(l) = &events[2] else {
        panic!("{events:?}")
    };
    assert_eq!(
        l.get::<qblegattcrd::WriteLine>().unwrap().data,
        "48656C6C6F"
    );
    // Exactly one line follows OK: the next is nobody's.
    assert_eq!(events[3], Event::Unsolicited("48656C6C6F".into()));
}

proptest! {
    #[test]
    fn random_splits_give_the_same_events(
        which in 0usize..8,
        points in prop::collection::vec(prop::collection::vec(any::<usize>(), 0..12), 0..3),
    ) {
        let (_, script) = scenarios().swap_remove(which);
        let reference = support::whole(&script);
        prop_assert_eq!(split_at(&script, &points), reference);
    }
}
