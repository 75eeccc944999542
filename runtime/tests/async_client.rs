//! The async client (tokio) against scripted modules on an in-memory
//! duplex link: URCs in the middle of a command for several subscribers,
//! an overflowing channel reported, a time limit then a late answer that
//! does not answer the next command, a payload, transparent mode ending
//! with `NO CARRIER`, a closed link. The same protocol logic as the
//! blocking client's (`client_scripts.rs`).

mod support;

use std::time::Duration;

use embedded_io_adapters::tokio_1::FromTokio;
use fcm242d::async_client::{AsyncClient, Error, Options};
use fcm242d::engine::Final;
use fcm242d::generated::commands::{qiopen, qisend, qversion, qwlmac};
use fcm242d::generated::urcs::Urc;
use fcm242d::pubsub::{NoopRawMutex, UrcChannel, WaitResult};
use fcm242d::session::Notice;
use fcm242d::timer::TokioTimer;
use fcm242d::value::Int;
use support::scripted::{step, Step};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

type Link = FromTokio<DuplexStream>;

/// A module playing `script` on a task; the host's end of the link.
fn module(script: Vec<Step>) -> (Link, tokio::task::JoinHandle<()>) {
    let (host, mut module) = tokio::io::duplex(4096);
    let handle = tokio::spawn(async move {
        for s in script {
            let mut got = Vec::new();
            while got.len() < s.expect.len() {
                let mut buf = [0u8; 256];
                match module.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(s.expect)
            );
            for chunk in s.answer {
                module.write_all(chunk).await.unwrap();
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
        }
        // Keep the link open until the host is done.
        let mut buf = [0u8; 64];
        while module.read(&mut buf).await.is_ok_and(|n| n > 0) {}
    });
    (FromTokio::new(host), handle)
}

fn quick() -> Options {
    Options {
        guard_time: Duration::from_millis(10),
        ..Options::default()
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_urc_in_the_middle_of_a_command_reaches_every_subscriber() {
    let (link, h) = module(vec![step(
        b"AT+QVERSION\r\n",
        &[
            b"\r\n+QVERSION: FCM242D",
            b"AAR01A05\r\n\r\n+QIURC: \"closed\",1\r\n",
            b"\r\nOK\r\n",
        ],
    )]);
    let urcs: UrcChannel<NoopRawMutex, 4, 2> = UrcChannel::new();
    let mut a = urcs.subscriber().unwrap();
    let mut b = urcs.subscriber().unwrap();
    let mut client = AsyncClient::with_options(link, TokioTimer::new(), quick());
    client.publish_to(&urcs);
    let r = client.send(&qversion::Execute {}).await.unwrap();
    assert_eq!(r.lines[0].version, "FCM242DAAR01A05");
    for sub in [&mut a, &mut b] {
        match sub.try_next_message() {
            Some(WaitResult::Message(Notice::Urc(Urc::QiurcClosed(c)))) => {
                assert_eq!(c.connect_id.get(), 1)
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(sub.try_next_message(), None);
    }
    drop(client);
    h.await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_full_channel_reports_what_a_subscriber_missed() {
    let (link, h) = module(vec![step(
        b"AT+QVERSION\r\n",
        &[
            b"\r\n+QIURC: \"closed\",0\r\n\r\n+QIURC: \"closed\",1\r\n",
            b"\r\n+QIURC: \"closed\",2\r\n\r\n+QVERSION: V\r\n\r\nOK\r\n",
        ],
    )]);
    let urcs: UrcChannel<NoopRawMutex, 2, 1> = UrcChannel::new();
    let mut sub = urcs.subscriber().unwrap();
    let mut client = AsyncClient::with_options(link, TokioTimer::new(), quick());
    client.publish_to(&urcs);
    client.send(&qversion::Execute {}).await.unwrap();
    assert_eq!(sub.try_next_message(), Some(WaitResult::Lagged(1)));
    let ids: Vec<i64> = std::iter::from_fn(|| sub.try_next_message())
        .map(|m| match m {
            WaitResult::Message(Notice::Urc(Urc::QiurcClosed(c))) => c.connect_id.get(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(ids, [1, 2]);
    drop(client);
    h.await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn after_a_time_out_a_late_answer_does_not_answer_the_next_command() {
    let (link, h) = module(vec![
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
    ]);
    let mut options = quick();
    options.timeout_override = Some(Duration::from_millis(300));
    let mut client = AsyncClient::with_options(link, TokioTimer::new(), options);
    let started = tokio::time::Instant::now();
    match client.send(&qwlmac::Execute {}).await {
        Err(Error::Timeout { waiting_for, .. }) => assert_eq!(waiting_for, "final result"),
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_millis(300));
    let r = client.send(&qversion::Execute {}).await.unwrap();
    assert_eq!(r.lines[0].version, "REAL");
    // The late answer was reported, not lost.
    let late = client.take_urcs();
    assert!(
        late.iter().any(|n| n == &Notice::Unknown("OK".into())),
        "{late:?}"
    );
    drop(client);
    h.await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_payload_after_the_prompt() {
    let (link, h) = module(vec![
        step(b"AT+QISEND=0,5\r\n", &[b"\r\n> "]),
        step(b"hello", &[b"\r\nSEND OK\r\n"]),
    ]);
    let mut client = AsyncClient::with_options(link, TokioTimer::new(), quick());
    let r = client
        .send_payload(
            &qisend::WriteConnectIdSendLength {
                connect_id: Int::new(0).unwrap(),
                send_length: Int::new(5).unwrap(),
            },
            b"hello",
        )
        .await
        .unwrap();
    assert_eq!(r.result, Final::SendOk);
    drop(client);
    h.await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn transparent_mode_until_no_carrier() {
    let (link, h) = module(vec![
        step(
            b"AT+QIOPEN=0,\"TCP\",\"192.0.2.2\",8009,0,2\r\n",
            &[b"\r\nCONNECT\r\n"],
        ),
        step(b"ping", &[b"pong", b"\r\nNO CARRIER\r\n"]),
    ]);
    let mut client = AsyncClient::with_options(link, TokioTimer::new(), quick());
    let r = client
        .send(&support::tcp_open(qiopen::AccessMode::Transparent))
        .await
        .unwrap();
    assert_eq!(r.result, Final::Connect);
    assert!(client.is_transparent());
    client.write_transparent(b"ping").await.unwrap();
    let mut got = Vec::new();
    loop {
        match client.read_transparent(Duration::from_secs(2)).await {
            Ok(bytes) => {
                assert!(!bytes.is_empty(), "nothing within 2 s");
                got.extend(bytes);
            }
            Err(Error::NoCarrier) => break,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(got, b"pong");
    drop(client);
    h.await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_closed_link_is_an_error_not_a_time_out() {
    let (host, module) = tokio::io::duplex(64);
    drop(module);
    let mut client = AsyncClient::with_options(FromTokio::new(host), TokioTimer::new(), quick());
    let e = client.send(&qversion::Execute {}).await.unwrap_err();
    assert!(matches!(e, Error::Io(_) | Error::Closed), "{e:?}");
    // The link's own error is the source.
    if let Error::Io(_) = e {
        assert!(std::error::Error::source(&e).is_some());
    }
}

#[tokio::test(flavor = "current_thread")]
async fn wait_for_picks_one_notice_and_leaves_the_others() {
    let (link, h) = module(vec![step(
        b"AT+QVERSION\r\n",
        &[
            b"\r\n+QVERSION: V\r\n\r\nOK\r\n",
            b"\r\n+QIURC: \"closed\",3\r\n\r\n+QIURC: \"closed\",4\r\n",
        ],
    )]);
    let mut client = AsyncClient::with_options(link, TokioTimer::new(), quick());
    client.send(&qversion::Execute {}).await.unwrap();
    let four = client
        .wait_for(Duration::from_secs(2), |n| match n.urc() {
            Some(Urc::QiurcClosed(c)) if c.connect_id.get() == 4 => Some(c.connect_id.get()),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(four, Some(4));
    assert!(matches!(
        &client.take_urcs()[..],
        [Notice::Urc(Urc::QiurcClosed(c))] if c.connect_id.get() == 3
    ));
    // Nothing more comes: `None` once the time passed.
    let none = client
        .wait_for(Duration::from_millis(50), |_| Some(()))
        .await
        .unwrap();
    assert_eq!(none, None);
    drop(client);
    h.await.unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_series_no_command_waits_for_is_collected_whole() {
    let (link, h) = module(vec![step(
        b"AT+QVERSION\r\n",
        &[
            b"\r\n+QVERSION: V\r\n\r\nOK\r\n",
            b"\r\n+QPING: 0,\"192.0.2.2\",32,3,64\r\n\r\n+QIURC: \"closed\",2\r\n",
            b"\r\n+QPING: 0,\"192.0.2.2\",32,6,64\r\n\r\n+QPING: 0,2,2,0,3,6,4\r\n",
        ],
    )]);
    let mut client = AsyncClient::with_options(link, TokioTimer::new(), quick());
    client.send(&qversion::Execute {}).await.unwrap();
    let series = client
        .wait_for_series(Duration::from_secs(2), |u| matches!(u, Urc::QpingReply(_)))
        .await
        .unwrap()
        .expect("the series did not complete");
    assert_eq!(series.len(), 3, "{series:?}");
    assert!(matches!(series[2], Urc::QpingFinal(_)));
    // The URC in between was not taken: it went on to the queue.
    assert!(matches!(
        &client.take_urcs()[..],
        [Notice::Urc(Urc::QiurcClosed(c))] if c.connect_id.get() == 2
    ));
    drop(client);
    h.await.unwrap();
}
