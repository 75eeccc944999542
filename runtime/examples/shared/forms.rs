//! What the reviewer's blocking and async programs share: the commands they
//! send and how they read the answers. Only the sending differs (a blocking
//! call or an `.await`).

use std::collections::BTreeMap;

use fcm242d::generated::commands::{
    qblegattsntfy, qhttpcfg, qiopen, qisend, qmtcfg, qmtconn, qmtopen, qmtsub, qping, qstaapinfo,
};
use fcm242d::generated::shared::{OpenResult, PacketResult, Qos};
use fcm242d::generated::urcs::{qblestat, qstastat, Urc};
use fcm242d::session::Notice;
use fcm242d::value::{Host, Int, Text, Uuid};

/// What the programs go by: the simulator's world names them all
/// (`World::environment`).
pub type Env = BTreeMap<String, String>;

/// Why a program failed.
pub type Failure = Box<dyn std::error::Error + Send + Sync>;

/// The socket and the MQTT client the programs use.
pub const SOCKET: Int<0, 11> = Int::lit::<1>();
pub const MQTT: Int<0, 5> = Int::lit::<0>();

/// The GATT service and characteristic of the BLE program.
pub const SERVICE: &str = "FFF1";
pub const CHARACTERISTIC: &str = "FFF2";

/// The programs' names, in the order `all` runs them.
pub const PROGRAMS: [&str; 6] = ["qisend", "will", "qmtsub", "qhttppost", "ble", "qping"];

pub fn get<'e>(env: &'e Env, key: &str) -> Result<&'e str, Failure> {
    env.get(key)
        .map(String::as_str)
        .ok_or_else(|| format!("the environment has no `{key}`").into())
}

/// `AT+QSTAAPINFO=<ssid>,<key>` for the world's access point.
pub fn join(env: &Env) -> Result<qstaapinfo::Write, Failure> {
    Ok(qstaapinfo::Write {
        ssid: Text::new(get(env, "wifi_ssid")?)?,
        pwd: Some(Text::new(get(env, "wifi_key")?)?),
    })
}

/// `+QSTASTAT: "GOT_IP"`.
pub fn got_ip(urc: &Urc) -> bool {
    matches!(urc, Urc::Qstastat(s) if s.event == qstastat::Event::GotIp)
}

/// A TCP socket to the echo server, in direct push mode (received data
/// comes in `+QIURC: "recv"`).
pub fn open_echo(env: &Env) -> Result<qiopen::Write, Failure> {
    let port = Int::new(get(env, "tcp_echo_port")?.parse()?)?;
    let open = qiopen::Write::new(
        SOCKET,
        qiopen::ServiceType::Tcp,
        get(env, "tcp_echo_host")?,
        port,
    )?;
    Ok(open.access_mode(qiopen::AccessMode::DirectPush))
}

/// Whether `+QIOPEN` said the socket is open.
pub fn opened(completion: Option<Urc>) -> Result<(), Failure> {
    match completion {
        Some(Urc::Qiopen(o)) if o.err.is_success() => Ok(()),
        other => Err(format!("QIOPEN failed: {other:?}").into()),
    }
}

/// `AT+QISEND=<socket>,<length>`, the length taken from the payload.
pub fn send() -> qisend::WriteConnectIdSendLength {
    qisend::WriteConnectIdSendLength::to(SOCKET)
}

/// The data of `+QIURC: "recv"` for the socket.
pub fn received(notice: &Notice) -> Option<Vec<u8>> {
    match notice.urc() {
        Some(Urc::QiurcRecvDirectPush(r)) if r.connect_id == SOCKET => Some(r.data.clone()),
        _ => None,
    }
}

/// The will the program sets.
pub fn will() -> Result<qmtcfg::Will, Failure> {
    Ok(qmtcfg::Will::set(
        MQTT,
        Qos::AtLeastOnce,
        qmtcfg::Retain::Retain,
        Text::new("status/dev1")?,
        Text::new("offline")?,
    ))
}

/// The one `+QMTCFG: "will"` line of a query.
pub fn will_line(mut lines: Vec<qmtcfg::WillLine>) -> Result<qmtcfg::WillLine, Failure> {
    match lines.len() {
        1 => Ok(lines.remove(0)),
        n => Err(format!("{n} +QMTCFG: \"will\" lines").into()),
    }
}

/// `AT+QMTOPEN` to the world's broker.
pub fn open_broker(env: &Env) -> Result<qmtopen::Write, Failure> {
    Ok(qmtopen::Write {
        client_idx: MQTT,
        host_name: Host::new(get(env, "mqtt_broker_host")?)?,
        port: Int::new(get(env, "mqtt_broker_port")?.parse()?)?,
    })
}

/// Whether `+QMTOPEN` said the network is open.
pub fn broker_opened(completion: Option<Urc>) -> Result<(), Failure> {
    match completion {
        Some(Urc::Qmtopen(o)) if o.result == OpenResult::Success => Ok(()),
        other => Err(format!("QMTOPEN failed: {other:?}").into()),
    }
}

pub fn connect() -> Result<qmtconn::Write, Failure> {
    Ok(qmtconn::Write::new(MQTT, Text::new("reviewer")?))
}

/// Whether `+QMTCONN` said the broker accepted the client.
pub fn connected(completion: Option<Urc>) -> Result<(), Failure> {
    match completion {
        Some(Urc::Qmtconn(c)) if c.result == PacketResult::Acknowledged => Ok(()),
        other => Err(format!("QMTCONN failed: {other:?}").into()),
    }
}

/// One SUBSCRIBE with two topics.
pub fn subscribe() -> Result<qmtsub::Write, Failure> {
    let first = Text::new("sensors/temp")?;
    Ok(
        qmtsub::Write::new(MQTT, Int::lit::<1>(), first, Qos::AtLeastOnce)
            .and(Text::new("sensors/door")?, Qos::ExactlyOnce),
    )
}

/// The QoS granted per topic, from `+QMTSUB`.
pub fn granted(completion: Option<Urc>) -> Result<Vec<Option<Qos>>, Failure> {
    match completion {
        Some(Urc::Qmtsub(s)) if s.result == PacketResult::Acknowledged => Ok(s.granted()),
        other => Err(format!("QMTSUB failed: {other:?}").into()),
    }
}

/// `AT+QHTTPCFG="url"` of the world's echoing web page.
pub fn post_url(env: &Env) -> Result<qhttpcfg::Url, Failure> {
    Ok(qhttpcfg::Url::set(get(env, "http_echo_url")?)?)
}

/// The HTTP status, from `+QHTTPPOST`.
pub fn posted(completion: Option<Urc>) -> Result<i64, Failure> {
    match completion {
        Some(Urc::Qhttppost(p)) if p.err.is_success() => Ok(p.status().ok_or("no HTTP status")?),
        other => Err(format!("QHTTPPOST failed: {other:?}").into()),
    }
}

/// `+QBLESTAT: "CONNECTED"`: a central (the phone) connected.
pub fn phone_connected(urc: &Urc) -> bool {
    matches!(urc, Urc::Qblestat(s) if s.event == qblestat::Event::Connected)
}

/// The notification of `text` on the program's characteristic.
pub fn notify(text: &str) -> Result<qblegattsntfy::Write, Failure> {
    Ok(qblegattsntfy::Write::text(
        Uuid::new(CHARACTERISTIC)?,
        text,
    )?)
}

/// Two pings of the world's host name, a second each at most.
pub fn ping(env: &Env) -> Result<qping::Write, Failure> {
    let host = Host::new(get(env, "host_name")?)?;
    Ok(qping::Write::new(host).times(Int::lit::<2>(), Int::lit::<1>()))
}
