//! The blocking client against a scripted module on an in-memory link.

mod support;

use std::thread;
use std::time::Duration;

use fcm242d::client::{Client, Error, Options};
use fcm242d::engine::Final;
use fcm242d::generated::commands::{escape, qhttpget, qiopen, qird, qisend, qversion};
use fcm242d::generated::results::HttpCode;
use fcm242d::generated::urcs::Urc;
use fcm242d::session::Notice;
use fcm242d::transport::MemoryTransport;
use fcm242d::value::Int;
use support::scripted::{self, step, Step};
use support::tcp_open;

/// Runs a module that plays `script` on the other end of the link.
fn module(script: Vec<Step>) -> (Client<MemoryTransport>, thread::JoinHandle<()>) {
    let (host, handle) = scripted::module(script, Duration::from_millis(5));
    let options = Options {
        guard_time: Duration::from_millis(20),
        ..Options::default()
    };
    (Client::with_options(host, options), handle)
}

#[test]
fn a_urc_in_the_middle_of_a_command_goes_to_the_subscriber() {
    let (mut client, h) = module(vec![step(
        b"AT+QVERSION\r\n",
        &[
            b"\r\n+QIURC: \"clo",
            b"sed\",1\r\n\r\n+QVERSION: FCM242D",
            b"AAR01A05\r\n\r\nOK\r\n",
        ],
    )]);
    let urcs = client.urc_channel();
    let r = client.send(&qversion::Execute {}).unwrap();
    assert_eq!(r.lines.len(), 1);
    assert_eq!(r.lines[0].version, "FCM242DAAR01A05");
    assert_eq!(r.result, Final::Ok);
    let u = urcs.try_recv().expect("the URC was delivered");
    assert!(
        matches!(u, Notice::Urc(Urc::QiurcClosed(ref c)) if c.connect_id.get() == 1),
        "{u:?}"
    );
    drop(client);
    h.join().unwrap();
}

#[test]
fn echo_is_stripped() {
    let (mut client, h) = module(vec![step(
        b"AT+QVERSION\r\n",
        &[b"AT+QVERSION\r\r\n+QVERSION: X1\r\n\r\nOK\r\n"],
    )]);
    let r = client.send(&qversion::Execute {}).unwrap();
    assert_eq!(r.lines[0].version, "X1");
    assert!(r.unexpected.is_empty(), "{:?}", r.unexpected);
    drop(client);
    h.join().unwrap();
}

#[test]
fn a_urc_between_the_prompt_and_send_ok_is_not_lost() {
    let (mut client, h) = module(vec![
        step(b"AT+QISEND=0,5\r\n", &[b"\r\n> "]),
        step(
            b"hello",
            &[b"\r\n+QIURC: \"recv\",0\r\n", b"\r\nSEND OK\r\n"],
        ),
    ]);
    let urcs = client.urc_channel();
    let cmd = qisend::WriteConnectIdSendLength {
        connect_id: Int::new(0).unwrap(),
        send_length: Int::new(5).unwrap(),
    };
    let r = client.send_payload(&cmd, b"hello").unwrap();
    assert_eq!(r.result, Final::SendOk);
    assert!(matches!(
        urcs.try_recv(),
        Ok(Notice::Urc(Urc::QiurcRecvBuffer(_)))
    ));
    drop(client);
    h.join().unwrap();
}

#[test]
fn a_variable_payload_ends_with_ctrl_z() {
    let (mut client, h) = module(vec![
        step(b"AT+QISEND=1\r\n", &[b"\r\n> "]),
        step(b"Test data\x1a", &[b"\r\nSEND OK\r\n"]),
    ]);
    let cmd = qisend::WriteConnectId {
        connect_id: Int::new(1).unwrap(),
    };
    assert!(client.send_payload(&cmd, b"Test data").is_ok());
    assert!(matches!(
        client.send_payload(&cmd, b"bad\x1a"),
        Err(Error::Payload(_))
    ));
    drop(client);
    h.join().unwrap();
}

#[test]
fn data_blocks_keep_their_line_endings() {
    let (mut client, h) = module(vec![step(
        b"AT+QIRD=0,1500\r\n",
        &[b"\r\n+QIRD: 6\r\nab\r\n", b"OK\r\n\r\nOK\r\n"],
    )]);
    let cmd = qird::WriteConnectIdReadLength {
        connect_id: Int::new(0).unwrap(),
        read_length: Some(Int::new(1500).unwrap()),
    };
    let r = client.send(&cmd).unwrap();
    assert_eq!(r.data, vec![b"ab\r\nOK".to_vec()]);
    drop(client);
    h.join().unwrap();
}

#[test]
fn a_deferred_completion_is_awaited() {
    let (mut client, h) = module(vec![step(
        b"AT+QIOPEN=0,\"TCP\",\"192.0.2.2\",8009,0,0\r\n",
        &[b"\r\nOK\r\n", b"\r\n+QIOPEN: 0,0\r\n"],
    )]);
    let cmd = tcp_open(qiopen::AccessMode::Buffer);
    let r = client.send(&cmd).unwrap();
    match r.completion {
        Some(Urc::Qiopen(u)) => assert!(u.err.is_success()),
        other => panic!("{other:?}"),
    }
    drop(client);
    h.join().unwrap();
}

#[test]
fn cme_errors_are_typed() {
    let (mut client, h) = module(vec![step(
        b"AT+QHTTPGET=80\r\n",
        &[b"\r\n+CME ERROR: 703\r\n"],
    )]);
    let cmd = qhttpget::Write {
        rsptime: Some(Int::new(80).unwrap()),
    };
    match client.send(&cmd) {
        Err(Error::Cme { code, .. }) => assert_eq!(code, HttpCode::from_code(703)),
        other => panic!("{other:?}"),
    }
    drop(client);
    h.join().unwrap();
}

#[test]
fn a_silent_module_times_out() {
    let (mut client, h) = module(vec![step(b"AT+QVERSION\r\n", &[])]);
    client.options_mut().timeout_override = Some(Duration::from_millis(150));
    match client.send(&qversion::Execute {}) {
        Err(Error::Timeout { waiting_for, .. }) => assert_eq!(waiting_for, "final result"),
        other => panic!("{other:?}"),
    }
    drop(client);
    h.join().unwrap();
}

#[test]
fn transparent_mode_in_and_out_and_no_carrier() {
    let (mut client, h) = module(vec![
        step(
            b"AT+QIOPEN=0,\"TCP\",\"192.0.2.2\",8009,0,2\r\n",
            &[b"\r\nCONNECT\r\n", b"from peer"],
        ),
        step(b"to peer", &[b"echo: to peer"]),
        step(b"+++", &[b"\r\nOK\r\n"]),
        step(
            b"ATO\r\n",
            &[b"\r\nCONNECT\r\n", b"last\r\nNO CAR", b"RIER\r\n"],
        ),
    ]);
    let open = tcp_open(qiopen::AccessMode::Transparent);
    let r = client.send(&open).unwrap();
    assert_eq!(r.result, Final::Connect);
    assert!(client.is_transparent());
    assert_eq!(
        client.read_transparent(Duration::from_secs(1)).unwrap(),
        b"from peer"
    );
    client.write_transparent(b"to peer").unwrap();
    assert_eq!(
        client.read_transparent(Duration::from_secs(1)).unwrap(),
        b"echo: to peer"
    );
    let r = client.send(&escape::Execute {}).unwrap();
    assert_eq!(r.result, Final::Ok);
    assert!(!client.is_transparent());
    let r = client
        .send(&fcm242d::generated::commands::ato::Execute {})
        .unwrap();
    assert_eq!(r.result, Final::Connect);
    assert_eq!(
        client.read_transparent(Duration::from_secs(1)).unwrap(),
        b"last"
    );
    assert!(matches!(
        client.read_transparent(Duration::from_secs(1)),
        Err(Error::NoCarrier)
    ));
    assert!(!client.is_transparent());
    drop(client);
    h.join().unwrap();
}
