//! The async client with tokio against the simulator, over a TCP link
//! through `embedded-io-adapters`' tokio adapter: a command, a completion
//! (QIOPEN), a series (QPING), a data phase (QISEND), and URCs for several
//! subscribers of a fixed-capacity channel (its overflow: the runtime's
//! scripted tests, `runtime/tests/async_client.rs`).

use std::time::Duration;

use embedded_io_adapters::tokio_1::FromTokio;
use fcm242d::async_client::{AsyncClient, Error};
use fcm242d::generated::commands::{qiclose, qiopen, qird, qisend, qping, qstaapinfo, qversion};
use fcm242d::generated::urcs::{qping_final, qstastat, Urc};
use fcm242d::pubsub::{CriticalSectionRawMutex, UrcChannel, WaitResult};
use fcm242d::session::Notice;
use fcm242d::timer::TokioTimer;
use fcm242d::value::{Host, Int, Text};
use fcm242d_sim::world::World;
use tokio::net::TcpStream;

type Link = FromTokio<TcpStream>;

/// A simulator serving TCP connections on a port of its own.
async fn module() -> Link {
    let addr = fcm242d_sim::serve::tcp_in_process(World::default()).unwrap();
    FromTokio::new(TcpStream::connect(addr).await.unwrap())
}

fn got_ip(n: &Notice) -> Option<()> {
    matches!(n.urc(), Some(Urc::Qstastat(s)) if s.event == qstastat::Event::GotIp).then_some(())
}

/// Joins the world's access point and waits for the address.
async fn join(client: &mut AsyncClient<'_, Link, TokioTimer>) {
    client
        .send(&qstaapinfo::Write {
            ssid: Text::new("sim-ap").unwrap(),
            pwd: Some(Text::new("sim-password").unwrap()),
        })
        .await
        .unwrap();
    let joined = client
        .wait_for(Duration::from_secs(20), got_ip)
        .await
        .unwrap();
    assert!(joined.is_some(), "no +QSTASTAT: \"GOT_IP\"");
}

#[tokio::test(flavor = "current_thread")]
async fn a_command() {
    let mut client = AsyncClient::new(module().await, TokioTimer::new());
    let r = client.send(&qversion::Execute {}).await.unwrap();
    assert_eq!(r.lines.len(), 1);
    assert!(!r.lines[0].version.is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn a_completion_a_data_phase_and_the_echo() {
    let mut client = AsyncClient::new(module().await, TokioTimer::new());
    join(&mut client).await;
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
        .await
        .unwrap();
    assert!(
        matches!(r.completion, Some(Urc::Qiopen(ref o)) if o.connect_id.get() == 1 && o.err.is_success()),
        "{r:?}"
    );
    let send = qisend::WriteConnectIdSendLength {
        connect_id: Int::new(1).unwrap(),
        send_length: Int::new(5).unwrap(),
    };
    // Refused before a byte is written; the link stays in step.
    assert!(matches!(
        client.send_payload(&send, &[b'x'; 1461]).await,
        Err(Error::Payload(_))
    ));
    client.send_payload(&send, b"hello").await.unwrap();
    let mut got = Vec::new();
    for _ in 0..200 {
        if got.ends_with(b"hello") {
            break;
        }
        let r = client
            .send(&qird::WriteConnectIdReadLength {
                connect_id: Int::new(1).unwrap(),
                read_length: Some(Int::new(100).unwrap()),
            })
            .await
            .unwrap();
        got.extend(r.data.concat());
        client.poll_urcs(Duration::from_millis(20)).await.unwrap();
    }
    assert!(got.ends_with(b"hello"), "{got:?}");
    client
        .send(&qiclose::Write {
            connect_id: Int::new(1).unwrap(),
            timeout: None,
        })
        .await
        .unwrap();
}

#[tokio::test(flavor = "current_thread")]
async fn a_ping_series() {
    let mut client = AsyncClient::new(module().await, TokioTimer::new());
    join(&mut client).await;
    let r = client
        .send(&qping::Write {
            host: Host::new("192.0.2.2").unwrap(),
            timeout_group: Some(qping::WriteTimeoutGroup {
                timeout: Int::new(1).unwrap(),
                pingnum: Some(Int::new(3).unwrap()),
            }),
        })
        .await
        .unwrap();
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
    // Delivered once: in the reply, not also as notices.
    let left = client.poll_urcs(Duration::from_millis(100)).await.unwrap();
    assert!(
        !left
            .iter()
            .any(|n| matches!(n, Notice::Urc(Urc::QpingReply(_) | Urc::QpingFinal(_)))),
        "{left:?}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn every_subscriber_gets_the_urcs() {
    let wide: UrcChannel<CriticalSectionRawMutex, 16, 2> = UrcChannel::new();
    let mut first = wide.subscriber().unwrap();
    let mut second = wide.subscriber().unwrap();

    let mut client = AsyncClient::new(module().await, TokioTimer::new());
    client.publish_to(&wide);
    client
        .send(&qstaapinfo::Write {
            ssid: Text::new("sim-ap").unwrap(),
            pwd: Some(Text::new("sim-password").unwrap()),
        })
        .await
        .unwrap();
    let got_ip_in = |sub: &mut fcm242d::pubsub::Subscriber<'_, _, Notice, 16, 2, 1>| {
        let mut seen = Vec::new();
        while let Some(m) = sub.try_next_message() {
            seen.push(m);
        }
        seen
    };
    // Both subscribers see the same notices, the address among them.
    let mut a = Vec::new();
    let mut b = Vec::new();
    for _ in 0..200 {
        client.poll_urcs(Duration::from_millis(50)).await.unwrap();
        a.extend(got_ip_in(&mut first));
        b.extend(got_ip_in(&mut second));
        if a.iter()
            .any(|m| matches!(m, WaitResult::Message(n) if got_ip(n).is_some()))
        {
            break;
        }
    }
    assert!(
        a.iter()
            .any(|m| matches!(m, WaitResult::Message(n) if got_ip(n).is_some())),
        "{a:?}"
    );
    assert_eq!(a, b);
    assert!(a.len() >= 2, "{a:?}");
    assert!(a.iter().all(|m| matches!(m, WaitResult::Message(_))));
}
