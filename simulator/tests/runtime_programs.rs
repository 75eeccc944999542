//! Programs a host developer writes against the runtime's bindings and the
//! in-process simulator: MQTT with two topics and binary and JSON payloads,
//! a PING series, a socket's data phase. (A form with a data phase given to
//! `Client::send` does not compile: see the runtime's `client` docs.)

use std::time::{Duration, Instant};

use fcm242d::client::{Client, Error};
use fcm242d::generated::commands::{
    qiclose, qiopen, qird, qisend, qmtconn, qmtopen, qmtpub, qmtsub, qping, qstaapinfo,
};
use fcm242d::generated::urcs::{qping_final, qstastat, Urc};
use fcm242d::session::Notice;
use fcm242d::transport::MemoryTransport;
use fcm242d::value::{Host, Int, Text};
use fcm242d_sim::serve::in_process;
use fcm242d_sim::world::World;

/// A module on the world's access point, with its IP address.
fn online() -> (Client<MemoryTransport>, std::thread::JoinHandle<()>) {
    let (link, handle) = in_process(World::default());
    let mut client = Client::new(link);
    client
        .send(&qstaapinfo::Write {
            ssid: Text::new("sim-ap").unwrap(),
            pwd: Some(Text::new("sim-password").unwrap()),
        })
        .unwrap();
    wait_for(&mut client, |u| {
        matches!(u, Urc::Qstastat(s) if s.event == qstastat::Event::GotIp).then_some(())
    });
    (client, handle)
}

/// Waits for the first URC `f` picks.
fn wait_for<T>(client: &mut Client<MemoryTransport>, f: impl Fn(&Urc) -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        assert!(Instant::now() < deadline, "the URC did not come");
        for n in client.poll_urcs(Duration::from_millis(20)).unwrap() {
            if let Some(t) = n.urc().and_then(&f) {
                return t;
            }
        }
    }
}

/// A topic of this test's own (the embedded broker is shared by the process).
fn topic(name: &str) -> String {
    format!("programs/{}/{name}", std::process::id())
}

#[test]
fn mqtt_two_topics_binary_and_json_payloads() {
    let (mut client, handle) = online();
    let open = client
        .send(&qmtopen::Write {
            client_idx: Int::new(0).unwrap(),
            host_name: Host::new("192.0.2.2").unwrap(),
            port: Int::new(1883).unwrap(),
        })
        .unwrap();
    assert!(matches!(open.completion, Some(Urc::Qmtopen(ref o)) if o.result.wire() == 0));
    let conn = client
        .send(&qmtconn::Write {
            client_idx: Int::new(0).unwrap(),
            client_id: Text::new(format!("programs-{}", std::process::id())).unwrap(),
            username_group: Some(qmtconn::WriteUsernameGroup {
                username: Text::new("quectel").unwrap(),
                password: Text::new("quectel").unwrap(),
            }),
        })
        .unwrap();
    assert!(matches!(conn.completion, Some(Urc::Qmtconn(ref c)) if c.result.wire() == 0));

    // Two topics: one granted QoS per topic.
    let (bin, json) = (topic("bin"), topic("json"));
    let sub = client
        .send(&qmtsub::Write {
            client_idx: Int::new(0).unwrap(),
            msg_id: Int::new(1).unwrap(),
            topic: Text::new(bin.as_str()).unwrap(),
            qos: qmtsub::Qos::AtLeastOnce,
            more_topic: vec![qmtsub::WriteTopicItem {
                topic: Text::new(json.as_str()).unwrap(),
                qos: qmtsub::Qos::AtMostOnce,
            }],
        })
        .unwrap();
    match sub.completion {
        Some(Urc::Qmtsub(s)) => {
            assert_eq!(s.result.wire(), 0);
            assert_eq!(s.value, [1, 0]);
        }
        other => panic!("{other:?}"),
    }

    // A binary payload (every byte value, CR LF and quotes among them) and
    // a JSON one, published to ourselves and received byte for byte.
    let binary: Vec<u8> = (0..=255u8).collect();
    let document = br#"{"t":21.5,"unit":"C","tags":["a","b"]}"#.to_vec();
    for (msg_id, t, payload) in [(2, &bin, binary), (3, &json, document)] {
        let r = client
            .send_payload(
                &qmtpub::Write {
                    client_idx: Int::new(0).unwrap(),
                    msg_id: Int::new(msg_id).unwrap(),
                    qos: qmtpub::Qos::AtLeastOnce,
                    retain: qmtpub::Retain::NoRetain,
                    topic: Text::new(t.as_str()).unwrap(),
                    length: Some(Int::new(payload.len() as i64).unwrap()),
                },
                &payload,
            )
            .unwrap();
        assert!(
            matches!(r.completion, Some(Urc::Qmtpub(ref p)) if p.msg_id.get() == msg_id && p.result.wire() == 0)
        );
        let got = wait_for(&mut client, |u| match u {
            Urc::QmtrecvMessage(m) if &m.topic == t => Some(m.payload.clone()),
            _ => None,
        });
        assert_eq!(got, payload);
    }
    drop(client);
    handle.join().unwrap();
}

#[test]
fn a_ping_series_and_a_name_that_does_not_resolve() {
    let (mut client, handle) = online();
    let ping = |host: &str| qping::Write {
        host: Host::new(host).unwrap(),
        timeout_group: Some(qping::WriteTimeoutGroup {
            timeout: Int::new(1).unwrap(),
            pingnum: Some(Int::new(3).unwrap()),
        }),
    };
    let r = client.send(&ping("192.0.2.2")).unwrap();
    assert_eq!(r.series.len(), 4, "{:?}", r.series);
    assert!(r.series[..3]
        .iter()
        .all(|u| matches!(u, Urc::QpingReply(_))));
    match r.completion {
        Some(Urc::QpingFinal(f)) => {
            assert_eq!(f.finresult, qping_final::Finresult::Success);
            assert_eq!(f.sent_group.map(|g| (g.sent, g.rcvd)), Some((3, 3)));
        }
        other => panic!("{other:?}"),
    }
    // The single-line error form ends the series.
    let r = client.send(&ping("no-such-host.example")).unwrap();
    assert!(matches!(
        &r.series[..],
        [Urc::QpingFinal(f)] if f.finresult == qping_final::Finresult::Other(563)
    ));
    // Nothing of either series is left over as a notice.
    let left = client.poll_urcs(Duration::from_millis(100)).unwrap();
    assert!(
        !left
            .iter()
            .any(|n| matches!(n, Notice::Urc(Urc::QpingReply(_) | Urc::QpingFinal(_)))),
        "{left:?}"
    );
    drop(client);
    handle.join().unwrap();
}

#[test]
fn a_socket_payload_goes_through_send_payload() {
    let (mut client, handle) = online();
    let r = client
        .send(&qiopen::Write {
            connect_id: Int::new(1).unwrap(),
            service_type: qiopen::ServiceType::Tcp,
            ip_address_or_domain_name: qiopen::WriteIpAddressOrDomainName::IpAddress(
                "192.0.2.2".parse().unwrap(),
            ),
            remote_port: Int::new(8009).unwrap(),
            local_port_group: None,
        })
        .unwrap();
    assert!(
        matches!(r.completion, Some(Urc::Qiopen(ref o)) if o.connect_id.get() == 1 && o.err.is_success())
    );
    let send = qisend::WriteConnectIdSendLength {
        connect_id: Int::new(1).unwrap(),
        send_length: Int::new(5).unwrap(),
    };
    // A payload longer than the form allows is refused before anything is
    // written, and the link is still in step afterwards.
    assert!(matches!(
        client.send_payload(&send, &[b'x'; 1461]),
        Err(Error::Payload(_))
    ));
    client.send_payload(&send, b"hello").unwrap();
    // The echo comes back (after the world's echo server's greeting,
    // "Test 1", as in the manual): read the buffer until it is there.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    while !got.ends_with(b"hello") {
        assert!(Instant::now() < deadline, "{got:?}");
        let r = client
            .send(&qird::WriteConnectIdReadLength {
                connect_id: Int::new(1).unwrap(),
                read_length: Some(Int::new(100).unwrap()),
            })
            .unwrap();
        got.extend(r.data.concat());
        client.poll_urcs(Duration::from_millis(20)).unwrap();
    }
    client
        .send(&qiclose::Write {
            connect_id: Int::new(1).unwrap(),
            timeout: None,
        })
        .unwrap();
    drop(client);
    handle.join().unwrap();
}
