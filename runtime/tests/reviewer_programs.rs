//! The reviewer's programs (`examples/reviewer_blocking`,
//! `examples/reviewer_async`), each run against a freshly booted simulator,
//! with what it observed checked against what the simulated world did: the
//! echo server's bytes, the will as the module keeps it, the broker's
//! granted QoS per topic, the web server's echo, the notification the phone
//! got, the ping replies. The async half needs the `tokio` feature.

#[cfg(feature = "tokio")]
#[path = "../examples/reviewer_async/programs.rs"]
mod async_programs;
#[cfg(feature = "tokio")]
#[path = "../examples/shared/bridge.rs"]
mod bridge;
#[path = "../examples/shared/forms.rs"]
#[allow(dead_code)]
mod forms;
#[path = "../examples/reviewer_blocking/programs.rs"]
mod programs;

use fcm242d::client::{Client, Error};
use fcm242d::generated::commands::qhttppost;
use fcm242d::generated::commands::qmtcfg::{Retain, WillFlag, WillLine};
use fcm242d::generated::shared::{Finresult, Qos};
use fcm242d::generated::urcs::Urc;
use fcm242d_sim::sim::{SimOptions, Simulated};
use fcm242d_sim::world::World;

use forms::Env;

/// A client on a freshly booted module (virtual time: waiting is free).
fn module() -> (Client<Simulated>, Env) {
    let world = World::default();
    let env = world.environment();
    (
        Client::new(Simulated::start(world, SimOptions::default())),
        env,
    )
}

fn check_will(set: &WillLine, cleared: &WillLine) {
    assert_eq!(set.will_flag, WillFlag::Set);
    let group = set.will_qos_group.as_ref().expect("the will's QoS group");
    assert_eq!(group.will_qos, Qos::AtLeastOnce);
    assert_eq!(group.will_retain, Retain::Retain);
    assert_eq!(group.will_topic, "status/dev1");
    assert_eq!(group.will_message, "offline");
    assert_eq!(cleared.will_flag, WillFlag::Ignore);
    assert_eq!(cleared.will_qos_group, None);
}

/// Two replies from the address the host name resolves to, then a summary
/// counting them.
fn check_ping(series: &[Urc], env: &Env) {
    assert_eq!(series.len(), 3, "{series:?}");
    for reply in &series[..2] {
        let Urc::QpingReply(r) = reply else {
            panic!("not a reply: {reply:?}")
        };
        let from = r.ip_address_group.as_ref().expect("a replying address");
        assert_eq!(from.ip_address.to_string(), env["http_host"]);
    }
    let Urc::QpingFinal(last) = &series[2] else {
        panic!("not a summary: {:?}", series[2])
    };
    assert_eq!(last.finresult, Finresult::Success);
    let counts = last.sent_group.as_ref().expect("the counts");
    assert_eq!((counts.sent, counts.rcvd, counts.lost), (2, 2, 0));
}

#[test]
fn qisend_data_comes_back_from_the_echo_server() {
    let (mut client, env) = module();
    let echoed = programs::qisend(&mut client, &env, b"hello echo").unwrap();
    assert_eq!(echoed, b"hello echo");
}

#[test]
fn a_payload_longer_than_qisend_takes_is_refused_before_anything_is_written() {
    let (mut client, env) = module();
    programs::join(&mut client, &env).unwrap();
    forms::opened(
        client
            .send(&forms::open_echo(&env).unwrap())
            .unwrap()
            .completion,
    )
    .unwrap();
    let too_long = client.send_payload(&forms::send(), &[b'x'; 1461]);
    assert!(matches!(too_long, Err(Error::Payload(_))), "{too_long:?}");
}

#[test]
fn an_empty_payload_is_refused_with_the_reason() {
    let (mut client, env) = module();
    programs::join(&mut client, &env).unwrap();
    // `AT+QISEND=1,0` would ask for the acknowledged bytes instead.
    let empty = client.send_payload(&forms::send(), b"");
    assert!(
        matches!(empty, Err(Error::Payload(why)) if why.starts_with("empty")),
        "{empty:?}"
    );
    // `<data_length>` of QHTTPPOST starts at 1: the length is what is wrong.
    client.send(&forms::post_url(&env).unwrap()).unwrap();
    let post = client.send_payload(&qhttppost::Write::body(), b"");
    assert!(matches!(post, Err(Error::Payload(_))), "{post:?}");
    // Nothing was written: the next command is answered as usual.
    let (status, _) = programs::qhttppost(&mut client, &env, b"x").unwrap();
    assert_eq!(status, 200);
}

#[test]
fn the_will_is_set_read_back_and_cleared() {
    let (mut client, _) = module();
    let (set, cleared) = programs::will(&mut client).unwrap();
    check_will(&set, &cleared);
}

#[test]
fn one_subscribe_with_two_topics_completes_with_two_granted_qos() {
    let (mut client, env) = module();
    let granted = programs::qmtsub(&mut client, &env).unwrap();
    assert_eq!(granted, [Some(Qos::AtLeastOnce), Some(Qos::ExactlyOnce)]);
}

#[test]
fn an_http_post_is_answered_and_its_answer_read() {
    let (mut client, env) = module();
    let (status, body) = programs::qhttppost(&mut client, &env, b"Message=HelloQuectel").unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        body, b"Message=HelloQuectel",
        "the echo page answers the body"
    );
}

#[test]
fn the_connected_phone_gets_the_notification() {
    let (mut client, env) = module();
    programs::ble_notify(&mut client, &env, "hello phone").unwrap();
    let ble = &client.transport_mut().module().state().ble;
    assert_eq!(
        ble.last_notification,
        Some(("fff2".to_string(), b"hello phone".to_vec()))
    );
}

#[test]
fn qping_replies_then_sums_up() {
    let (mut client, env) = module();
    let series = programs::qping(&mut client, &env).unwrap();
    check_ping(&series, &env);
}

/// The same programs with the async client on tokio, over the bridge the
/// async example uses, to a simulator on the system's clock.
#[cfg(feature = "tokio")]
mod on_tokio {
    use std::sync::Arc;
    use std::thread::JoinHandle;

    use fcm242d::async_client::AsyncClient;
    use fcm242d::generated::shared::Qos;
    use fcm242d::timer::TokioTimer;
    use fcm242d_sim::clock::SystemClock;
    use fcm242d_sim::faults::Faults;
    use fcm242d_sim::module::Module;
    use fcm242d_sim::world::World;

    use super::{check_ping, check_will};
    use crate::async_programs::{self as programs, Modem};
    use crate::bridge;
    use crate::forms::Env;

    /// An async client on a freshly booted module, and the module's thread
    /// (it hands the module back once the client is gone).
    fn module() -> (Modem<'static>, Env, JoinHandle<Module>) {
        let world = World::default();
        let env = world.environment();
        let (link, module) =
            fcm242d_sim::serve::in_process_with(world, Faults::none(), Arc::new(SystemClock));
        let client = AsyncClient::new(bridge::bridge(link), TokioTimer::new());
        (client, env, module)
    }

    #[tokio::test(flavor = "current_thread")]
    async fn qisend_data_comes_back_from_the_echo_server() {
        let (mut client, env, _module) = module();
        let echoed = programs::qisend(&mut client, &env, b"hello echo")
            .await
            .unwrap();
        assert_eq!(echoed, b"hello echo");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_will_is_set_read_back_and_cleared() {
        let (mut client, _, _module) = module();
        let (set, cleared) = programs::will(&mut client).await.unwrap();
        check_will(&set, &cleared);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn one_subscribe_with_two_topics_completes_with_two_granted_qos() {
        let (mut client, env, _module) = module();
        let granted = programs::qmtsub(&mut client, &env).await.unwrap();
        assert_eq!(granted, [Some(Qos::AtLeastOnce), Some(Qos::ExactlyOnce)]);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_http_post_is_answered_and_its_answer_read() {
        let (mut client, env, _module) = module();
        let (status, body) = programs::qhttppost(&mut client, &env, b"Message=HelloQuectel")
            .await
            .unwrap();
        assert_eq!(status, 200);
        assert_eq!(body, b"Message=HelloQuectel");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn the_connected_phone_gets_the_notification() {
        let (mut client, env, module) = module();
        programs::ble_notify(&mut client, &env, "hello phone")
            .await
            .unwrap();
        // The link closes with the client; the module's thread ends.
        drop(client);
        let module = tokio::task::spawn_blocking(move || module.join().unwrap())
            .await
            .unwrap();
        assert_eq!(
            module.state().ble.last_notification,
            Some(("fff2".to_string(), b"hello phone".to_vec()))
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn qping_replies_then_sums_up() {
        let (mut client, env, _module) = module();
        let series = programs::qping(&mut client, &env).await.unwrap();
        check_ping(&series, &env);
    }
}
