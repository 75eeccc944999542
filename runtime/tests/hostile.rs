//! A corpus of hostile but legal streams, as a module's UART may deliver
//! them: each fed whole, byte by byte, at every two-way split and at random
//! splits. Every URC comes out exactly once, with exact typed values and
//! data bytes, and the events are the same for every split.

mod support;

use fcm242d::engine::{Event, Final};
use fcm242d::generated::commands::{qfread, qhttpread, qiopen, qird, qisend, qmtrecv, qversion};
use fcm242d::generated::urcs::Urc;
use fcm242d::value::{Int, ValueError};
use fcm242d::wire::DecodeError;
use proptest::prelude::*;
use support::{recv, send, split_at, split_invariant, Step};

/// The URC a line reads as, with its data block.
fn urc(line: &[u8], data: &[u8]) -> Urc {
    let mut u = Urc::decode(line)
        .expect("a URC prefix")
        .value
        .unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(line)));
    if u.data().is_some() {
        u.set_data(data.to_vec());
    }
    u
}

fn qird(n: i64) -> qird::WriteConnectIdReadLength {
    qird::WriteConnectIdReadLength {
        connect_id: Int::new(0).unwrap(),
        read_length: Some(Int::new(n).unwrap()),
    }
}

fn transparent_open() -> qiopen::Write {
    support::tcp_open(qiopen::AccessMode::Transparent)
}

/// A stream and the URCs it holds, in order.
struct Case {
    name: &'static str,
    script: Vec<Step>,
    urcs: Vec<Urc>,
    /// Other events that must be there (finals, data, raw bytes).
    also: Vec<Event>,
}

fn mqtt_line(payload: &[u8], quoted: bool) -> Vec<u8> {
    let mut l = format!("+QMTRECV: 0,7,\"sensors/a,b\",{},", payload.len()).into_bytes();
    if quoted {
        l.push(b'"');
    }
    l.extend_from_slice(payload);
    if quoted {
        l.push(b'"');
    }
    l
}

fn with_crlf(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(p);
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn corpus() -> Vec<Case> {
    let json = br#"{"t":21.5,"msg":"say \"hi\"","list":[1,2]}"#;
    let crlf_payload = b"line1\r\nOK\r\n+QIURC: \"closed\",0\r\n> ";
    let binary: Vec<u8> = (0..=255u8).rev().collect();
    let big: Vec<u8> = (0..10240u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut cases = vec![
        Case {
            name: "URCs between the lines of a response",
            script: vec![send(
                qversion::Execute {},
                b"\r\n+QIURC: \"closed\",1\r\n+QVERSION: FCM242DAAR01A05\r\n+QMTSTAT: 0,1\r\n\r\nOK\r\n+QSTASTAT: \"GOT_IP\"\r\n",
            )],
            urcs: vec![
                urc(b"+QIURC: \"closed\",1", b""),
                urc(b"+QMTSTAT: 0,1", b""),
                urc(b"+QSTASTAT: \"GOT_IP\"", b""),
            ],
            also: vec![Event::Final(Final::Ok)],
        },
        Case {
            name: "direct-push data holding OK, a URC and a prompt",
            script: vec![recv(
                b"\r\n+QIURC: \"recv\",3,21\r\nx\r\nOK\r\n+QIURC: \"closed\r\n> \r\n+QIURC: \"incoming full\"\r\n",
            )],
            urcs: vec![
                urc(b"+QIURC: \"recv\",3,21", b"x\r\nOK\r\n+QIURC: \"close"),
                urc(b"+QIURC: \"incoming full\"", b""),
            ],
            // The block's remaining bytes: `d\r\n> ` then CR LF.
            also: vec![Event::Unsolicited("d".into()), Event::Unsolicited("> ".into())],
        },
        Case {
            name: "a data URC right after OK in the same read",
            script: vec![send(
                qird(10),
                b"\r\n+QIRD: 4\r\nOK\r\n\r\nOK\r\n+QSSLURC: \"recv\",4,6\r\nSEND O\r\n+QIURC: \"recv\",0\r\n",
            )],
            urcs: vec![
                urc(b"+QSSLURC: \"recv\",4,6", b"SEND O"),
                urc(b"+QIURC: \"recv\",0", b""),
            ],
            also: vec![Event::Data(b"OK\r\n".to_vec()), Event::Final(Final::Ok)],
        },
        Case {
            name: "BLE data with CR LF and a quote",
            script: vec![recv(
                b"+QBLERECV: 0,\"fff2\",10\r\nfrom\r\n\"ph\"\r\n+QBLEMTU: 247\r\n",
            )],
            urcs: vec![
                urc(b"+QBLERECV: 0,\"fff2\",10", b"from\r\n\"ph\""),
                urc(b"+QBLEMTU: 247", b""),
            ],
            also: vec![],
        },
        Case {
            name: "HTTP data announced by a URC",
            script: vec![recv(b"\r\n+QHTTPURC: \"recv\",12\r\nHTTP/1.1 200\r\n+QHTTPURC: \"closed\"\r\n")],
            urcs: vec![
                urc(b"+QHTTPURC: \"recv\",12", b"HTTP/1.1 200"),
                urc(b"+QHTTPURC: \"closed\"", b""),
            ],
            also: vec![],
        },
        Case {
            name: "CR alone and LF alone end lines",
            script: vec![recv(b"+QIURC: \"closed\",2\r+QMTSTAT: 1,2\n+QIURC: \"recv\",0,3\rabc\n\n+QAPSTAT: \"AP_UP\"\r\r\n")],
            urcs: vec![
                urc(b"+QIURC: \"closed\",2", b""),
                urc(b"+QMTSTAT: 1,2", b""),
                urc(b"+QIURC: \"recv\",0,3", b"abc"),
                urc(b"+QAPSTAT: \"AP_UP\"", b""),
            ],
            also: vec![],
        },
        Case {
            name: "echo, empty lines and a URC before the answer",
            script: vec![send(
                qversion::Execute {},
                b"AT+QVERSION\r\r\n\r\n\r\n\r\n+QBLESTAT: \"CONNECTED\"\r\n\r\n+QVERSION: X\r\n\r\n\r\nOK\r\n",
            )],
            urcs: vec![urc(b"+QBLESTAT: \"CONNECTED\"", b"")],
            also: vec![Event::Final(Final::Ok)],
        },
        Case {
            name: "a URC between the prompt and SEND OK",
            script: vec![
                send(
                    qisend::WriteConnectIdSendLength {
                        connect_id: Int::new(0).unwrap(),
                        send_length: Int::new(3).unwrap(),
                    },
                    b"\r\n> ",
                ),
                recv(b"\r\n+QIURC: \"recv\",0,2\r\n> \r\nSEND OK\r\n"),
            ],
            urcs: vec![urc(b"+QIURC: \"recv\",0,2", b"> ")],
            also: vec![Event::Prompt, Event::Final(Final::SendOk)],
        },
        Case {
            name: "a bad field keeps the framing; an absurd length does not swallow",
            script: vec![recv(
                b"+QIURC: \"recv\",12,5\r\nOK\r\n\r\n+QIURC: \"recv\",0,99999999999\r\n+QIURC: \"closed\",0\r\n",
            )],
            urcs: vec![urc(b"+QIURC: \"closed\",0", b"")],
            also: vec![
                Event::BadUrc {
                    line: "+QIURC: \"recv\",12,5".into(),
                    error: DecodeError::value(
                        "connectID",
                        ValueError::OutOfRange {
                            value: 12,
                            min: 0,
                            max: 11,
                        },
                    ),
                    data: Some(b"OK\r\n\r".to_vec()),
                },
                Event::BadUrc {
                    line: "+QIURC: \"recv\",0,99999999999".into(),
                    error: DecodeError::value(
                        "current_recvlength",
                        ValueError::OutOfRange {
                            value: 99_999_999_999,
                            min: 0,
                            max: 1500,
                        },
                    ),
                    data: None,
                },
            ],
        },
        Case {
            name: "file content holding NO CARRIER and OK",
            script: vec![send(
                qfread::Write {
                    filehandle: 1,
                    length: Some(18),
                },
                b"\r\nCONNECT 18\r\n\r\nNO CARRIER\r\nOK\r\n\r\nOK\r\n+QIURC: \"closed\",0\r\n",
            )],
            urcs: vec![urc(b"+QIURC: \"closed\",0", b"")],
            also: vec![
                Event::Connect(Some(18)),
                Event::Data(b"\r\nNO CARRIER\r\nOK\r\n".to_vec()),
                Event::Final(Final::Ok),
            ],
        },
        Case {
            name: "an HTTP body, OK, then the completion",
            script: vec![send(
                qhttpread::Write { wait_time: None },
                b"\r\nCONNECT\r\nHTTP/1.1 200 OK\r\n\r\n+QIURC: \"closed\",0\r\nOK\r\n\r\n+QHTTPREAD: 0\r\n",
            )],
            urcs: vec![urc(b"+QHTTPREAD: 0", b"")],
            also: vec![
                Event::Connect(None),
                Event::Data(b"HTTP/1.1 200 OK\r\n\r\n+QIURC: \"closed\",0".to_vec()),
                Event::Final(Final::Ok),
            ],
        },
        Case {
            name: "transparent bytes that look like lines, then NO CARRIER",
            script: vec![send(
                transparent_open(),
                b"\r\nCONNECT\r\n+QIURC: \"closed\",0\nNO CARRIER\rOK\r\n\r\nNO CARRIER\r\n+QIURC: \"closed\",0\r\n",
            )],
            urcs: vec![urc(b"+QIURC: \"closed\",0", b"")],
            also: vec![
                Event::Final(Final::Connect),
                Event::Raw(b"+QIURC: \"closed\",0\nNO CARRIER\rOK\r\n".to_vec()),
                Event::Final(Final::NoCarrier),
            ],
        },
        Case {
            name: "ERROR then CONNECT and a URC in one read",
            script: vec![send(
                transparent_open(),
                b"\r\nERROR\r\n\r\nCONNECT\r\n+QIOPEN: 0,564\r\n",
            )],
            urcs: vec![urc(b"+QIOPEN: 0,564", b"")],
            also: vec![Event::Final(Final::Error), Event::Unsolicited("CONNECT".into())],
        },
        Case {
            name: "URCs back to back at their largest values",
            script: vec![recv(
                b"+QIURC: \"incoming\",11,11,\"255.255.255.255\",65535\r\n+QMTSTAT: 5,8\r\n+QIURC: \"recv\",11,0\r\n+QPING: 0,\"10.0.0.1\",32,4294967,255\r\n+QNTP: 0,\"25/12/31,23:59:59+00\"\r\n",
            )],
            urcs: vec![
                urc(b"+QIURC: \"incoming\",11,11,\"255.255.255.255\",65535", b""),
                urc(b"+QMTSTAT: 5,8", b""),
                urc(b"+QIURC: \"recv\",11,0", b""),
                urc(b"+QPING: 0,\"10.0.0.1\",32,4294967,255", b""),
                urc(b"+QNTP: 0,\"25/12/31,23:59:59+00\"", b""),
            ],
            also: vec![],
        },
        Case {
            name: "the read form of QMTRECV and a message URC",
            script: vec![send(
                qmtrecv::Write {
                    client_idx: Int::new(0).unwrap(),
                    receive_id: None,
                },
                b"\r\n+QMTRECV: 0,3\r\n+QMTRECV: 0,1,\"t\",4,\"a\r\nb\"\r\n\r\nOK\r\n+QMTRECV: 0,0,\"t\",2,\"\r\n\"\r\n",
            )],
            urcs: vec![
                urc(b"+QMTRECV: 0,3", b""),
                urc(b"+QMTRECV: 0,0,\"t\",2,\"\r\n\"", b""),
            ],
            also: vec![Event::Final(Final::Ok)],
        },
    ];
    for (name, payload, quoted) in [
        ("a JSON payload with quotes", &json[..], true),
        (
            "a payload holding CR LF, OK and a fake URC",
            &crlf_payload[..],
            true,
        ),
        ("a binary payload", &binary[..], true),
        ("the largest payload", &big[..], true),
        (
            "an unquoted payload",
            &b"This is test data, hello MQTT."[..],
            false,
        ),
        ("an empty payload", &b""[..], true),
    ] {
        let line = mqtt_line(payload, quoted);
        let mut bytes = b"\r\n".to_vec();
        bytes.extend_from_slice(&line);
        bytes.extend_from_slice(&with_crlf(&[b"", b"+QMTSTAT: 0,1"]));
        cases.push(Case {
            name,
            script: vec![recv(&bytes)],
            urcs: vec![urc(&line, b""), urc(b"+QMTSTAT: 0,1", b"")],
            also: vec![],
        });
    }
    cases
}

fn check(case: &Case, events: &[Event]) {
    let got: Vec<&Urc> = events
        .iter()
        .filter_map(|e| match e {
            Event::Urc(u) => Some(u),
            _ => None,
        })
        .collect();
    let want: Vec<&Urc> = case.urcs.iter().collect();
    assert_eq!(got, want, "{}: {events:?}", case.name);
    for e in &case.also {
        assert!(events.contains(e), "{}: no {e:?} in {events:?}", case.name);
    }
    // Nothing else: the command's own lines, and what the case lists.
    for e in events {
        let expected = matches!(e, Event::Urc(_) | Event::Line(_)) || case.also.contains(e);
        assert!(expected, "{}: unexpected {e:?} in {events:?}", case.name);
    }
}

#[test]
fn every_stream_whole_bytewise_and_at_every_split() {
    for case in corpus() {
        // The largest payload is checked whole, byte by byte and at random
        // splits (every two-way split of it would take long).
        let events = if case.name == "the largest payload" {
            let whole = support::whole(&case.script);
            assert_eq!(support::bytewise(&case.script), whole);
            whole
        } else {
            split_invariant(&case.script)
        };
        check(&case, &events);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn every_stream_at_random_splits(
        points in prop::collection::vec(prop::collection::vec(any::<usize>(), 0..24), 0..3),
    ) {
        for case in corpus() {
            let events = split_at(&case.script, &points);
            prop_assert_eq!(&events, &support::whole(&case.script), "{}", case.name);
            check(&case, &events);
        }
    }
}
