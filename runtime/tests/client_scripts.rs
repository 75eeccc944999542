//! The blocking client against scripted modules on an in-memory link: what
//! a host program sees (typed completions delivered once, series, multi-topic
//! subscriptions, time-outs followed by late answers, the end of transparent
//! mode arriving with data, notices for what no command claims).

mod support;

use std::thread;
use std::time::Duration;

use fcm242d::client::{Client, Error, Options};
use fcm242d::engine::Final;
use fcm242d::generated::commands::{qiopen, qmtsub, qping, qversion, qwlmac};
use fcm242d::generated::urcs::{qping_final, Urc};
use fcm242d::session::Notice;
use fcm242d::transport::MemoryTransport;
use fcm242d::value::{Host, Int, Text};
use support::scripted::{self, step, Step};

fn module(
    script: Vec<Step>,
    options: Options,
) -> (Client<MemoryTransport>, thread::JoinHandle<()>) {
    let (host, handle) = scripted::module(script, Duration::from_millis(3));
    (Client::with_options(host, options), handle)
}

fn quick() -> Options {
    Options {
        guard_time: Duration::from_millis(10),
        ..Options::default()
    }
}

#[test]
fn a_two_topic_subscription() {
    let (mut client, h) = module(
        vec![step(
            b"AT+QMTSUB=0,1,\"sensors/#\",1,\"cmd\",2\r\n",
            &[b"\r\nOK\r\n", b"\r\n+QMTSUB: 0,1,0,1,2\r\n"],
        )],
        quick(),
    );
    let r = client
        .send(&qmtsub::Write {
            client_idx: Int::new(0).unwrap(),
            msg_id: Int::new(1).unwrap(),
            topic: Text::new("sensors/#").unwrap(),
            qos: qmtsub::Qos::AtLeastOnce,
            more_topic: vec![qmtsub::WriteTopicItem {
                topic: Text::new("cmd").unwrap(),
                qos: qmtsub::Qos::ExactlyOnce,
            }],
        })
        .unwrap();
    match r.completion {
        Some(Urc::Qmtsub(u)) => assert_eq!(u.value, [1, 2]),
        other => panic!("{other:?}"),
    }
    // Delivered once: not also a notice.
    assert!(client
        .poll_urcs(Duration::from_millis(50))
        .unwrap()
        .is_empty());
    drop(client);
    h.join().unwrap();
}

#[test]
fn a_ping_series_and_its_error_form() {
    let (mut client, h) = module(
        vec![
            step(
                b"AT+QPING=\"192.0.2.2\"\r\n",
                &[
                    b"\r\nOK\r\n\r\n+QPING: 0,\"192.0.2.2\",32,3,64\r\n",
                    b"\r\n+QPING: 0,\"192.0.2.2\",32,6,64\r\n\r\n+QPING: 0,2,2,0,3,6,4\r\n",
                ],
            ),
            step(
                b"AT+QPING=\"nowhere\"\r\n",
                &[b"\r\nOK\r\n\r\n+QPING: 563\r\n"],
            ),
        ],
        quick(),
    );
    let cmd = |h: &str| qping::Write {
        host: Host::new(h).unwrap(),
        timeout_group: None,
    };
    let r = client.send(&cmd("192.0.2.2")).unwrap();
    assert_eq!(r.series.len(), 3);
    assert!(matches!(
        r.completion,
        Some(Urc::QpingFinal(ref f)) if f.finresult == qping_final::Finresult::Success
    ));
    let r = client.send(&cmd("nowhere")).unwrap();
    assert!(matches!(
        &r.series[..],
        [Urc::QpingFinal(f)] if f.finresult == qping_final::Finresult::Other(563)
    ));
    drop(client);
    h.join().unwrap();
}

#[test]
fn a_completion_for_another_socket_is_not_taken() {
    let (mut client, h) = module(
        vec![step(
            b"AT+QIOPEN=0,\"TCP\",\"192.0.2.2\",8009\r\n",
            &[b"\r\nOK\r\n\r\n+QIOPEN: 1,565\r\n", b"\r\n+QIOPEN: 0,0\r\n"],
        )],
        quick(),
    );
    let r = client
        .send(&qiopen::Write {
            connect_id: Int::new(0).unwrap(),
            service_type: qiopen::ServiceType::Tcp,
            ip_address_or_domain_name: qiopen::WriteIpAddressOrDomainName::IpAddress(
                "192.0.2.2".parse().unwrap(),
            ),
            remote_port: Int::new(8009).unwrap(),
            local_port_group: None,
        })
        .unwrap();
    assert!(
        matches!(r.completion, Some(Urc::Qiopen(ref u)) if u.connect_id.get() == 0 && u.err.is_success())
    );
    let other = client.take_urcs();
    assert!(
        matches!(&other[..], [Notice::Urc(Urc::Qiopen(u))] if u.connect_id.get() == 1),
        "{other:?}"
    );
    drop(client);
    h.join().unwrap();
}

#[test]
fn after_a_time_out_a_late_answer_does_not_answer_the_next_command() {
    let (mut client, h) = module(
        vec![
            // Silent for the first command ...
            step(b"AT+QWLMAC\r\n", &[]),
            // ... whose answer comes late, after the client's probe.
            step(
                b"AT+QVERSION\r\n",
                &[
                    b"\r\n+QWLMAC: 90395E8A70D1\r\n\r\nOK\r\n",
                    b"\r\n+QVERSION: PROBE\r\n\r\nOK\r\n",
                ],
            ),
            step(b"AT+QVERSION\r\n", &[b"\r\n+QVERSION: REAL\r\n\r\nOK\r\n"]),
        ],
        Options {
            // Long enough for the probe and the next command to be answered
            // on a loaded machine (the limit applies to them too).
            timeout_override: Some(Duration::from_millis(1000)),
            ..quick()
        },
    );
    match client.send(&qwlmac::Execute {}) {
        Err(Error::Timeout { waiting_for, .. }) => assert_eq!(waiting_for, "final result"),
        other => panic!("{other:?}"),
    }
    let r = client.send(&qversion::Execute {}).unwrap();
    assert_eq!(r.lines[0].version, "REAL");
    // The late answer was reported, not lost.
    let late = client.take_urcs();
    assert!(
        late.iter().any(|n| n == &Notice::Unknown("OK".into())),
        "{late:?}"
    );
    drop(client);
    h.join().unwrap();
}

#[test]
fn an_explicit_resync() {
    let (mut client, h) = module(
        vec![step(
            b"AT+QVERSION\r\n",
            &[
                b"\r\n+QIURC: \"closed\",0\r\n",
                b"\r\n+QVERSION: P\r\n\r\nOK\r\n",
            ],
        )],
        quick(),
    );
    client.resync().unwrap();
    assert!(matches!(
        &client.take_urcs()[..],
        [Notice::Urc(Urc::QiurcClosed(_))]
    ));
    drop(client);
    h.join().unwrap();
}

#[test]
fn no_carrier_in_the_same_read_as_the_last_data() {
    let (mut client, h) = module(
        vec![step(
            b"AT+QIOPEN=0,\"TCP\",\"192.0.2.2\",8009,0,2\r\n",
            &[b"\r\nCONNECT\r\nlast bytes\r\nNO CARRIER\r\n"],
        )],
        quick(),
    );
    let r = client
        .send(&support::tcp_open(qiopen::AccessMode::Transparent))
        .unwrap();
    assert_eq!(r.result, Final::Connect);
    // Wait until both came, so they arrive in one read.
    thread::sleep(Duration::from_millis(50));
    assert_eq!(
        client.read_transparent(Duration::from_secs(1)).unwrap(),
        b"last bytes"
    );
    assert!(matches!(
        client.read_transparent(Duration::from_secs(1)),
        Err(Error::NoCarrier)
    ));
    drop(client);
    h.join().unwrap();
}

#[test]
fn lines_nobody_asked_for_are_returned_by_poll_urcs() {
    let (mut client, h) = module(
        vec![step(
            b"AT+QVERSION\r\n",
            &[b"\r\n+QVERSION: X\r\n\r\nOK\r\n\r\n+QMTSTAT: 9,1\r\n\r\nhello?\r\n+QSTASTAT: \"GOT_IP\"\r\n"],
        )],
        quick(),
    );
    client.send(&qversion::Execute {}).unwrap();
    let n = client.poll_urcs(Duration::from_millis(100)).unwrap();
    assert!(matches!(n[0], Notice::Undecodable { .. }), "{n:?}");
    assert_eq!(n[1], Notice::Unknown("hello?".into()));
    assert!(matches!(n[2], Notice::Urc(Urc::Qstastat(_))));
    assert_eq!(n.len(), 3);
    // Each once.
    assert!(client.take_urcs().is_empty());
    drop(client);
    h.join().unwrap();
}

#[test]
fn wait_for_series_takes_a_series_from_the_queue_and_the_link() {
    let (mut client, h) = module(
        vec![step(
            b"AT+QVERSION\r\n",
            &[
                b"\r\n+QVERSION: V\r\n\r\nOK\r\n\r\n+QPING: 0,\"192.0.2.2\",32,3,64\r\n",
                b"\r\n+QPING: 0,\"192.0.2.2\",32,6,64\r\n\r\n+QPING: 0,2,2,0,3,6,4\r\n",
            ],
        )],
        quick(),
    );
    client.send(&qversion::Execute {}).unwrap();
    // The first reply came in the same read as `OK`: it waits in the queue.
    let series = client
        .wait_for_series(Duration::from_secs(2), |u| matches!(u, Urc::QpingReply(_)))
        .unwrap()
        .expect("the series did not complete");
    assert_eq!(series.len(), 3, "{series:?}");
    assert!(matches!(series[2], Urc::QpingFinal(_)));
    drop(client);
    h.join().unwrap();
}
