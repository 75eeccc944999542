//! The reviewer's programs for the blocking client, one function per
//! scenario, written against the crate's documentation. Each returns what it
//! observed, so `tests/reviewer_programs.rs` can check the outcome.

use std::collections::BTreeMap;
use std::time::Duration;

use fcm242d::client::Client;
use fcm242d::generated::commands::{
    qbleadvstart, qblegattschar, qblegattsntfy, qblegattssrv, qblegattssrvdone, qbleinit, qblename,
    qhttpcfg, qhttppost, qhttpread, qiclose, qiopen, qisend, qmtcfg, qmtconn, qmtdisc, qmtopen,
    qmtsub, qping, qstaapinfo,
};
use fcm242d::generated::shared::Qos;
use fcm242d::generated::urcs::{qblestat, qstastat, Urc};
use fcm242d::transport::Transport;
use fcm242d::value::{Host, Int, Text, Uuid};

/// What the programs go by (the simulator's world names them all).
pub type Env = BTreeMap<String, String>;

/// Why a program failed.
pub type Failure = Box<dyn std::error::Error + Send + Sync>;

/// The socket, MQTT client and topics the programs use.
const SOCKET: Int<0, 11> = Int::lit::<1>();
const MQTT: Int<0, 5> = Int::lit::<0>();

fn get<'e>(env: &'e Env, key: &str) -> Result<&'e str, Failure> {
    env.get(key)
        .map(String::as_str)
        .ok_or_else(|| format!("the environment has no `{key}`").into())
}

/// Joins the access point and waits for `+QSTASTAT: "GOT_IP"`.
pub fn join<T: Transport>(client: &mut Client<T>, env: &Env) -> Result<(), Failure> {
    client.send(&qstaapinfo::Write {
        ssid: Text::new(get(env, "wifi_ssid")?)?,
        pwd: Some(Text::new(get(env, "wifi_key")?)?),
    })?;
    let joined = client.wait_for(Duration::from_secs(20), |n| {
        matches!(n.urc(), Some(Urc::Qstastat(s)) if s.event == qstastat::Event::GotIp).then_some(())
    })?;
    joined.ok_or_else(|| "no IP address within 20 s".into())
}

/// QIOPEN + QISEND: sends `payload` to the echo server and returns what
/// came back (direct push mode: the data arrives in `+QIURC: "recv"`).
pub fn qisend<T: Transport>(
    client: &mut Client<T>,
    env: &Env,
    payload: &[u8],
) -> Result<Vec<u8>, Failure> {
    join(client, env)?;
    let port = Int::new(get(env, "tcp_echo_port")?.parse()?)?;
    let open = qiopen::Write::new(
        SOCKET,
        qiopen::ServiceType::Tcp,
        get(env, "tcp_echo_host")?,
        port,
    )?
    .access_mode(qiopen::AccessMode::DirectPush);
    match client.send(&open)?.completion {
        Some(Urc::Qiopen(o)) if o.err.is_success() => {}
        other => return Err(format!("QIOPEN failed: {other:?}").into()),
    }
    client.send_payload(&qisend::WriteConnectIdSendLength::to(SOCKET), payload)?;
    let echoed = client.wait_for(Duration::from_secs(5), |n| match n.urc() {
        Some(Urc::QiurcRecvDirectPush(r)) if r.connect_id == SOCKET => Some(r.data.clone()),
        _ => None,
    })?;
    client.send(&qiclose::Write {
        connect_id: SOCKET,
        timeout: None,
    })?;
    echoed.ok_or_else(|| "no echo within 5 s".into())
}

/// QMTCFG "will": sets a will, reads it back, clears it, reads it again.
pub fn will<T: Transport>(
    client: &mut Client<T>,
) -> Result<(qmtcfg::WillLine, qmtcfg::WillLine), Failure> {
    client.send(&qmtcfg::Will::set(
        MQTT,
        Qos::AtLeastOnce,
        qmtcfg::WillRetain::Retain,
        Text::new("status/dev1")?,
        Text::new("offline")?,
    ))?;
    let set = client.send(&qmtcfg::Will::query(MQTT))?;
    client.send(&qmtcfg::Will::clear(MQTT))?;
    let cleared = client.send(&qmtcfg::Will::query(MQTT))?;
    let first = |mut lines: Vec<qmtcfg::WillLine>| {
        (!lines.is_empty())
            .then(|| lines.swap_remove(0))
            .ok_or("no +QMTCFG: \"will\" line")
    };
    Ok((first(set.lines)?, first(cleared.lines)?))
}

/// QMTOPEN, QMTCONN, then QMTSUB with two topics: the QoS the broker
/// granted for each.
pub fn qmtsub<T: Transport>(
    client: &mut Client<T>,
    env: &Env,
) -> Result<Vec<Option<Qos>>, Failure> {
    join(client, env)?;
    let open = client.send(&qmtopen::Write {
        client_idx: MQTT,
        host_name: Host::new(get(env, "mqtt_broker_host")?)?,
        port: Int::new(get(env, "mqtt_broker_port")?.parse()?)?,
    })?;
    match open.completion {
        Some(Urc::Qmtopen(o)) if o.result == fcm242d::generated::shared::OpenResult::Success => {}
        other => return Err(format!("QMTOPEN failed: {other:?}").into()),
    }
    let conn = client.send(&qmtconn::Write::new(MQTT, Text::new("reviewer")?))?;
    match conn.completion {
        Some(Urc::Qmtconn(c))
            if c.result == fcm242d::generated::shared::PacketResult::Acknowledged => {}
        other => return Err(format!("QMTCONN failed: {other:?}").into()),
    }
    let sub = qmtsub::Write::new(
        MQTT,
        Int::lit::<1>(),
        Text::new("sensors/temp")?,
        Qos::AtLeastOnce,
    )
    .and(Text::new("sensors/door")?, Qos::ExactlyOnce);
    let granted = match client.send(&sub)?.completion {
        Some(Urc::Qmtsub(s)) => s.granted(),
        other => return Err(format!("QMTSUB failed: {other:?}").into()),
    };
    client.send(&qmtdisc::Write { client_idx: MQTT })?;
    Ok(granted)
}

/// QHTTPPOST to the echo URL, then QHTTPREAD: the status and the body.
pub fn qhttppost<T: Transport>(
    client: &mut Client<T>,
    env: &Env,
    body: &[u8],
) -> Result<(i64, Vec<u8>), Failure> {
    join(client, env)?;
    client.send(&qhttpcfg::Url::set(get(env, "http_echo_url")?)?)?;
    let post = client.send_payload(&qhttppost::Write::body(), body)?;
    let status = match post.completion {
        Some(Urc::Qhttppost(p)) if p.err.is_success() => p.status().ok_or("no HTTP status")?,
        other => return Err(format!("QHTTPPOST failed: {other:?}").into()),
    };
    let read = client.send(&qhttpread::Write { wait_time: None })?;
    Ok((status, read.data.concat()))
}

/// A BLE peripheral with one service: waits for the world's phone to
/// connect, then notifies it of `text` on characteristic FFF2.
pub fn ble_notify<T: Transport>(
    client: &mut Client<T>,
    env: &Env,
    text: &str,
) -> Result<(), Failure> {
    client.send(&qbleinit::Write {
        role: qbleinit::Role::Peripheral,
        auto_adv: None,
    })?;
    client.send(&qblename::Write {
        ble_name: Text::new(get(env, "phone_name")?)?,
    })?;
    client.send(&qblegattssrv::Write {
        srv_uuid: Uuid::new("FFF1")?,
    })?;
    client.send(&qblegattschar::Write {
        char_uuid: Uuid::new("FFF2")?,
        att_cfg: None,
    })?;
    client.send(&qblegattssrvdone::Execute {})?;
    client.send(&qbleadvstart::Execute {})?;
    let connected = client.wait_for(Duration::from_secs(10), |n| {
        matches!(n.urc(), Some(Urc::Qblestat(s)) if s.event == qblestat::Event::Connected)
            .then_some(())
    })?;
    connected.ok_or("the phone did not connect within 10 s")?;
    client.send(&qblegattsntfy::Write::text(Uuid::new("FFF2")?, text)?)?;
    Ok(())
}

/// QPING: the replies and the summary.
pub fn qping<T: Transport>(client: &mut Client<T>, env: &Env) -> Result<Vec<Urc>, Failure> {
    join(client, env)?;
    let ping = qping::Write::new(Host::new(get(env, "host_name")?)?)
        .times(Int::lit::<2>(), Int::lit::<1>());
    Ok(client.send(&ping)?.series)
}
