//! The sans-IO session: completions matched on their fields, series, data
//! phases, time limits kept without a clock, resynchronisation after a
//! time-out, transparent mode, notices. Time is whatever the test says.

use fcm242d::command::AtCommand;
use fcm242d::engine::Final;
use fcm242d::generated::commands::{
    qblegattcrd, qidnsgip, qiopen, qisend, qmtpub, qmtsub, qping, qversion, qwlmac,
};
use fcm242d::generated::urcs::{qping_final, qping_reply, Urc};
use fcm242d::session::{Action, Notice, Options, Refused, Reply, Session, Timeout};
use fcm242d::value::{Host, Int, Text, Uuid};
use proptest::prelude::*;

fn session() -> Session {
    Session::new(Options::default())
}

fn open(id: i64) -> qiopen::Write {
    qiopen::Write {
        connect_id: Int::new(id).unwrap(),
        service_type: qiopen::ServiceType::Tcp,
        ip_address_or_domain_name: qiopen::WriteIpAddressOrDomainName::IpAddress(
            "192.0.2.2".parse().unwrap(),
        ),
        remote_port: Int::new(8009).unwrap(),
        local_port_group: None,
    }
}

fn subscribe_two() -> qmtsub::Write {
    qmtsub::Write {
        client_idx: Int::new(0).unwrap(),
        msg_id: Int::new(1).unwrap(),
        topic: Text::new("a").unwrap(),
        qos: qmtsub::Qos::AtLeastOnce,
        more_topic: vec![qmtsub::WriteTopicItem {
            topic: Text::new("b").unwrap(),
            qos: qmtsub::Qos::AtMostOnce,
        }],
    }
}

fn ping() -> qping::Write {
    qping::Write {
        host: Host::new("192.0.2.2").unwrap(),
        timeout_group: None,
    }
}

fn writes(s: &mut Session) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(a) = s.next_action() {
        match a {
            Action::Write(b) | Action::WriteGuarded(b) => out.extend(b),
        }
    }
    out
}

fn notices(s: &mut Session) -> Vec<Notice> {
    std::iter::from_fn(|| s.take_notice()).collect()
}

fn reply(s: &mut Session) -> Reply {
    s.take_outcome()
        .expect("the exchange ended")
        .expect("no time-out")
}

#[test]
fn a_completion_is_matched_on_its_fields_and_delivered_once() {
    let mut s = session();
    s.start(&open(0), 0).unwrap();
    assert_eq!(
        writes(&mut s),
        open(0)
            .encode()
            .into_bytes()
            .iter()
            .chain(b"\r\n")
            .copied()
            .collect::<Vec<_>>()
    );
    s.feed(b"\r\nOK\r\n\r\n+QIOPEN: 1,565\r\n", 10);
    assert!(
        !s.has_outcome(),
        "socket 1's URC does not complete socket 0's open"
    );
    s.feed(b"\r\n+QIOPEN: 0,0\r\n", 20);
    let r = reply(&mut s);
    assert!(matches!(&r.series[..], [Urc::Qiopen(u)] if u.connect_id.get() == 0));
    // Socket 1's went to the notices; socket 0's did not.
    let n = notices(&mut s);
    assert!(
        matches!(&n[..], [Notice::Urc(Urc::Qiopen(u))] if u.connect_id.get() == 1),
        "{n:?}"
    );
}

#[test]
fn a_two_topic_subscription_completes_with_one_qos_per_topic() {
    let mut s = session();
    s.start(&subscribe_two(), 0).unwrap();
    writes(&mut s);
    s.feed(
        b"\r\nOK\r\n\r\n+QMTSUB: 0,2,0,1\r\n\r\n+QMTSUB: 0,1,0,1,0\r\n",
        5,
    );
    let r = reply(&mut s);
    match &r.series[..] {
        [Urc::Qmtsub(u)] => {
            assert_eq!(u.msg_id.get(), 1);
            assert_eq!(u.value, [1, 0]);
        }
        other => panic!("{other:?}"),
    }
    // The other message ID's URC is a notice.
    assert!(matches!(&notices(&mut s)[..], [Notice::Urc(Urc::Qmtsub(u))] if u.msg_id.get() == 2));
}

#[test]
fn a_ping_series_is_collected_up_to_its_final_line() {
    let mut s = session();
    s.start(&ping(), 0).unwrap();
    writes(&mut s);
    s.feed(b"\r\nOK\r\n\r\n+QPING: 0,\"192.0.2.2\",32,20,52\r\n", 10);
    s.feed(b"\r\n+QPING: 567\r\n", 4010);
    assert!(!s.has_outcome(), "a per-request time-out is a reply");
    s.feed(
        b"\r\n+QPING: 0,\"192.0.2.2\",32,23,52\r\n\r\n+QPING: 0,3,2,1,20,23,21\r\n",
        4100,
    );
    let r = reply(&mut s);
    assert_eq!(r.series.len(), 4);
    assert!(
        matches!(&r.series[1], Urc::QpingReply(u) if u.ping_result == qping_reply::PingResult::TimedOut)
    );
    assert!(
        matches!(&r.series[3], Urc::QpingFinal(u) if u.finresult == qping_final::Finresult::Success)
    );
    assert!(notices(&mut s).is_empty());
}

#[test]
fn the_single_line_error_form_ends_a_ping_series() {
    let mut s = session();
    s.start(&ping(), 0).unwrap();
    writes(&mut s);
    s.feed(b"\r\nOK\r\n\r\n+QPING: 563\r\n", 10);
    let r = reply(&mut s);
    assert!(
        matches!(&r.series[..], [Urc::QpingFinal(u)] if u.finresult == qping_final::Finresult::Other(563))
    );
}

#[test]
fn a_dns_series_ends_after_the_announced_addresses() {
    let mut s = session();
    let cmd = qidnsgip::Write {
        hostname: Host::new("sim.example").unwrap(),
    };
    s.start(&cmd, 0).unwrap();
    writes(&mut s);
    s.feed(
        b"\r\nOK\r\n\r\n+QIURC: \"dnsgip\",0,2,600\r\n\r\n+QIURC: \"dnsgip\",\"192.0.2.1\"\r\n",
        10,
    );
    assert!(!s.has_outcome());
    s.feed(
        b"\r\n+QIURC: \"dnsgip\",\"192.0.2.2\"\r\n\r\n+QIURC: \"dnsgip\",\"192.0.2.3\"\r\n",
        20,
    );
    assert_eq!(reply(&mut s).series.len(), 3);
    // A third address was not announced: it is a notice.
    assert_eq!(notices(&mut s).len(), 1);

    s.start(&cmd, 100).unwrap();
    s.feed(b"\r\nOK\r\n\r\n+QIURC: \"dnsgip\",563,0,0\r\n", 110);
    assert_eq!(reply(&mut s).series.len(), 1);
}

#[test]
fn a_payload_goes_out_at_the_prompt() {
    let mut s = session();
    // The length field is filled in from the payload.
    let cmd = qisend::WriteConnectIdSendLength {
        connect_id: Int::new(0).unwrap(),
        send_length: Int::new(1).unwrap(),
    };
    // Longer than the form allows: refused before any byte is written.
    assert_eq!(
        s.start_with_payload(&cmd, &[b'x'; 1461], 0),
        Err(Refused::Payload("longer than the command's maximum"))
    );
    assert_eq!(s.next_action(), None);
    s.start_with_payload(&cmd, b"hello", 0).unwrap();
    assert_eq!(writes(&mut s), b"AT+QISEND=0,5\r\n");
    s.feed(b"\r\n> ", 5);
    assert_eq!(writes(&mut s), b"hello");
    s.feed(b"\r\nSEND OK\r\n", 9);
    assert_eq!(reply(&mut s).result, Final::SendOk);

    // Ctrl+Z ends a payload without a length; it may not contain one.
    let pub0 = qmtpub::Write {
        client_idx: Int::new(0).unwrap(),
        msg_id: Int::new(0).unwrap(),
        qos: qmtpub::Qos::AtMostOnce,
        retain: qmtpub::Retain::NoRetain,
        topic: Text::new("t").unwrap(),
        length: None,
    };
    assert!(matches!(
        s.start_with_payload(&pub0, b"a\x1ab", 20),
        Err(Refused::Payload(_))
    ));
    s.start_with_payload(&pub0, b"{\"t\":1}", 20).unwrap();
    writes(&mut s);
    s.feed(b"\r\n> ", 25);
    assert_eq!(writes(&mut s), b"{\"t\":1}\x1a");
    s.feed(b"\r\nOK\r\n\r\n+QMTPUB: 0,0,0\r\n", 30);
    assert!(matches!(&reply(&mut s).series[..], [Urc::Qmtpub(_)]));
}

#[test]
fn the_line_after_ok_belongs_to_the_command() {
    let mut s = session();
    let cmd = qblegattcrd::Write {
        conn_idx: Int::new(0).unwrap(),
        uuid: Uuid::new("FFF1").unwrap(),
    };
    s.start(&cmd, 0).unwrap();
    s.feed(b"\r\nOK\r\n\r\n+QBLESTAT: \"DISCONNECTED\"\r\n", 5);
    assert!(!s.has_outcome());
    s.feed(b"\r\n0102AB\r\n", 6);
    let r = reply(&mut s);
    assert_eq!(
        r.lines[0].get::<qblegattcrd::WriteLine>().unwrap().data,
        "0102AB"
    );
    assert!(matches!(
        &notices(&mut s)[..],
        [Notice::Urc(Urc::Qblestat(_))]
    ));
}

#[test]
fn a_late_answer_never_answers_the_next_command() {
    let mut s = Session::new(Options {
        timeout_override_ms: Some(100),
        ..Options::default()
    });
    s.start(&qwlmac::Execute {}, 0).unwrap();
    writes(&mut s);
    s.tick(99);
    assert!(!s.has_outcome());
    s.tick(100);
    let t: Timeout = s.take_outcome().unwrap().unwrap_err();
    assert_eq!(t.waiting_for, "final result");
    assert!(s.needs_resync());
    assert_eq!(
        s.start(&qversion::Execute {}, 101),
        Err(Refused::NeedsResync)
    );

    // The late answer comes while the probe is on its way.
    s.resync(102);
    assert_eq!(writes(&mut s), b"AT+QVERSION\r\n");
    s.feed(b"\r\n+QWLMAC: 90395E8A70D1\r\n\r\nOK\r\n", 110);
    assert!(!s.is_idle(), "the late OK is not the probe's");
    s.feed(b"\r\n+QVERSION: X\r\n\r\nOK\r\n", 120);
    assert!(s.is_idle() && !s.needs_resync());
    let late = notices(&mut s);
    assert_eq!(late.len(), 2, "{late:?}");

    // The next command gets its own answer.
    s.start(&qversion::Execute {}, 130).unwrap();
    s.feed(b"\r\n+QVERSION: Y\r\n\r\nOK\r\n", 140);
    let r = reply(&mut s);
    assert_eq!(
        r.lines[0].get::<qversion::ExecuteLine>().unwrap().version,
        "Y"
    );
}

#[test]
fn the_probe_after_qversion_is_another_command() {
    let mut s = Session::new(Options {
        timeout_override_ms: Some(10),
        ..Options::default()
    });
    s.start(&qversion::Execute {}, 0).unwrap();
    writes(&mut s);
    s.tick(10);
    let _ = s.take_outcome();
    s.resync(11);
    assert_eq!(writes(&mut s), b"AT+QWLMAC\r\n");
}

#[test]
fn a_time_out_at_the_prompt_cancels_the_data_phase_first() {
    let mut s = Session::new(Options {
        timeout_override_ms: Some(10),
        ..Options::default()
    });
    let cmd = qisend::WriteConnectId {
        connect_id: Int::new(0).unwrap(),
    };
    s.start_with_payload(&cmd, b"x", 0).unwrap();
    writes(&mut s);
    s.tick(10);
    assert_eq!(
        s.take_outcome().unwrap().unwrap_err().waiting_for,
        "data prompt"
    );
    s.resync(11);
    assert_eq!(writes(&mut s), b"\x1bAT+QVERSION\r\n");
}

#[test]
fn a_missing_completion_times_out_without_a_resync() {
    let mut s = session();
    s.start(&open(0), 0).unwrap();
    s.feed(b"\r\nOK\r\n", 10);
    // QIOPEN's limit is 150 s plus the slack, from the final result.
    s.tick(150_209);
    assert!(!s.has_outcome());
    s.tick(150_210);
    let t = s.take_outcome().unwrap().unwrap_err();
    assert_eq!(t.waiting_for, "completion URC");
    assert_eq!(t.partial.result, Final::Ok);
    // The module had answered: the link is in step.
    assert!(!s.needs_resync());
}

#[test]
fn no_carrier_is_reported_even_when_it_comes_with_data() {
    let mut s = session();
    let mut cmd = open(0);
    cmd.local_port_group = Some(qiopen::WriteLocalPortGroup {
        local_port: Int::new(0).unwrap(),
        access_mode: Some(qiopen::AccessMode::Transparent),
        ap_priority: None,
    });
    s.start(&cmd, 0).unwrap();
    s.feed(b"\r\nCONNECT\r\nbytes\r\nNO CARRIER\r\n", 5);
    assert_eq!(reply(&mut s).result, Final::Connect);
    assert_eq!(s.take_raw(), b"bytes");
    assert!(s.carrier_lost());
    assert!(!s.is_transparent());
}

#[test]
fn a_text_cme_error_is_a_final_result() {
    let mut s = session();
    s.start(&qversion::Execute {}, 0).unwrap();
    s.feed(b"\r\n+CME ERROR: operation not allowed\r\n", 5);
    assert_eq!(
        reply(&mut s).result,
        Final::CmeText("operation not allowed".into())
    );
}

#[test]
fn lines_nobody_asked_for_are_notices() {
    let mut s = session();
    s.feed(
        b"\r\n+QIURC: \"recv\",99\r\n\r\ngarbage\r\n\r\nOK\r\n\r\n+QBLESTAT: \"CONNECTED\"\r\n",
        0,
    );
    let n = notices(&mut s);
    assert!(matches!(n[0], Notice::Undecodable { .. }), "{n:?}");
    assert_eq!(n[1], Notice::Unknown("garbage".into()));
    assert_eq!(n[2], Notice::Unknown("OK".into()));
    assert!(matches!(n[3], Notice::Urc(Urc::Qblestat(_))));
}

/// The script of one exchange: what the session does for every split.
fn outcome_of(pieces: &[&[u8]]) -> (Option<Result<Reply, Timeout>>, Vec<Notice>) {
    let mut s = session();
    s.start(&ping(), 0).unwrap();
    for (i, p) in pieces.iter().enumerate() {
        s.feed(p, i as u64);
    }
    (s.take_outcome(), notices(&mut s))
}

proptest! {
    #[test]
    fn the_session_is_independent_of_the_split(cuts in prop::collection::vec(any::<usize>(), 0..12)) {
        let stream: &[u8] = b"\r\nOK\r\n+QIURC: \"closed\",0\r\n\r\n+QPING: 0,\"192.0.2.2\",32,20,52\r\n+QPING: 567\r\n\r\n+QPING: 0,2,1,1,20,20,20\r\n\r\n+QIOPEN: 3,0\r\n";
        let whole = outcome_of(&[stream]);
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
        points.sort_unstable();
        let mut pieces = Vec::new();
        let mut start = 0;
        for p in points {
            pieces.push(&stream[start..p]);
            start = p;
        }
        pieces.push(&stream[start..]);
        prop_assert_eq!(outcome_of(&pieces), whole.clone());
        let (outcome, n) = whole;
        prop_assert_eq!(outcome.unwrap().unwrap().series.len(), 3);
        prop_assert_eq!(n.len(), 2);
    }
}
