//! The group's commands other than `AT+QMTCFG`: they check the client's
//! phase and queue what the network must carry; [`super::protocol::poll`]
//! carries it.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::Ipv4Addr;
use std::time::Duration;

use fcm242d::generated::commands::{qmtcfg, qmtconn, qmtopen, qmtpub, qmtsub, AnyCommand};
use fcm242d::generated::urcs::{qmtclose, qmtopen as qmtopen_urc, Qmtclose, Qmtopen};
use fcm242d::value::Int;

use super::wire::{self, TlsSetup};
use super::{recv, Client, Interface, Link, Outbound, Phase, Wire};
use crate::groups::{line, network, ssl, tcpip};
use crate::mqtt::{topic, QoS};
use crate::net::{Net, Pending};
use crate::reply::{DataRequest, Final, Payload, Reply};
use crate::services::Route;
use crate::state::State;
use crate::world::{Protocol, World};

/// Delay of a URC known when the command is answered: right after `OK`.
const AT_ONCE: Duration = Duration::from_millis(5);
/// The longest `AT+QMTPUB` payload (bytes typed in the data phase).
pub const MAX_PUBLISH: usize = 2048;
/// Publications of QoS 1 and 2 that may wait for acknowledgement (the
/// manual's "inflight window size (5)").
pub const INFLIGHT_WINDOW: usize = 5;
/// Bytes waiting for a connection that does not take them (a server that
/// stopped reading) beyond which `AT+QMTPUB` answers `ERROR`.
pub const SEND_BUFFER: usize = 256 * 1024;

pub(super) fn handle(
    cmd: &AnyCommand,
    state: &mut State,
    world: &World,
    net: &mut Net,
) -> Option<Reply> {
    Some(match cmd {
        AnyCommand::QmtopenWrite(w) => open(w, state, world, net),
        AnyCommand::QmtopenRead(_) => Reply::lines(
            state
                .mqtt
                .clients
                .iter()
                .enumerate()
                .filter_map(|(idx, c)| {
                    let link = c.link.as_ref().filter(|l| l.phase != Phase::Opening)?;
                    Some(line(qmtopen::ReadLine {
                        client_idx: Int::new(idx as i64).ok()?,
                        host_name: link.host.clone(),
                        port: Int::new(i64::from(link.port)).ok()?,
                    }))
                })
                .collect(),
        ),
        AnyCommand::QmtcloseWrite(w) => close(w.client_idx, state, net),
        AnyCommand::QmtconnWrite(w) => connect(w, state),
        AnyCommand::QmtconnRead(_) => Reply::lines(
            state
                .mqtt
                .clients
                .iter()
                .enumerate()
                .filter_map(|(idx, c)| {
                    let link = c.link.as_ref()?;
                    Some(line(qmtconn::ReadLine {
                        client_idx: Int::new(idx as i64).ok()?,
                        state: match link.phase {
                            Phase::Opening | Phase::Open => qmtconn::State::Initializing,
                            Phase::Connecting => qmtconn::State::Connecting,
                            Phase::Connected => qmtconn::State::Connected,
                            Phase::Disconnecting => qmtconn::State::Disconnecting,
                        },
                    }))
                })
                .collect(),
        ),
        AnyCommand::QmtdiscWrite(w) => match connected(state, w.client_idx) {
            Some(link) => {
                link.phase = Phase::Disconnecting;
                link.outbox.push_back(Outbound::Disconnect);
                Reply::ok()
            }
            None => Reply::error(),
        },
        AnyCommand::QmtsubWrite(w) => subscribe(w, state),
        AnyCommand::QmtunsWrite(w) => {
            let filters: Vec<String> = std::iter::once(&w.topic)
                .chain(w.more_topic.iter())
                .map(|t| t.as_str().to_string())
                .collect();
            let topics = filters.clone();
            queue_request(state, w.client_idx, w.msg_id, topics.iter(), |msg_id| {
                Outbound::Unsubscribe { msg_id, filters }
            })
        }
        AnyCommand::QmtpubWrite(w) => publish(w, state, net),
        AnyCommand::QmtrecvRead(_) => Reply::lines(
            state
                .mqtt
                .clients
                .iter()
                .enumerate()
                .filter(|(_, c)| c.link.is_some() || c.slots.iter().any(Option::is_some))
                .filter_map(|(idx, c)| recv::status_line(idx, c))
                .collect(),
        ),
        AnyCommand::QmtrecvWrite(w) => {
            let idx = index(w.client_idx);
            let id = w.receive_id.and_then(|r| usize::try_from(r.get()).ok());
            match state.mqtt.clients.get_mut(idx) {
                Some(client) => recv::read(idx, client, id),
                None => Reply::error(),
            }
        }
        _ => return None,
    })
}

fn index(client_idx: Int<0, 5>) -> usize {
    usize::try_from(client_idx.get()).unwrap_or(usize::MAX)
}

fn client(state: &mut State, client_idx: Int<0, 5>) -> Option<&mut Client> {
    state.mqtt.clients.get_mut(index(client_idx))
}

/// The link of a client whose MQTT session is up.
fn connected(state: &mut State, client_idx: Int<0, 5>) -> Option<&mut Link> {
    client(state, client_idx)?
        .link
        .as_mut()
        .filter(|l| l.phase == Phase::Connected)
}

// ------------------------------------------------------------------ QMTOPEN

/// `OK`, then `+QMTOPEN: <idx>,<result>` right after it.
fn opened(client_idx: Int<0, 5>, result: qmtopen_urc::OpenResult) -> Reply {
    Reply::ok().with_urc(AT_ONCE, line(Qmtopen { client_idx, result }))
}

/// The interface the module's connections go through, and its own address
/// there: the station when it is joined, else the soft AP.
pub(super) fn interface(
    state: &State,
    world: &World,
    now: std::time::Instant,
) -> Option<(Interface, Ipv4Addr)> {
    if let Some(ssid) = state
        .wifi
        .station
        .as_ref()
        .filter(|_| state.wifi.has_ip(now))
    {
        let own = match &state.wifi.station_static {
            Some(s) => s[0].parse().ok(),
            None => world
                .access_points
                .iter()
                .find(|a| &a.ssid == ssid)
                .and_then(|a| a.ip.parse().ok()),
        };
        return Some((
            Interface::Station(ssid.clone()),
            own.unwrap_or(Ipv4Addr::UNSPECIFIED),
        ));
    }
    state.wifi.soft_ap.as_ref()?;
    let own = match &state.wifi.ap_static {
        Some(s) => s[0].parse().ok(),
        None => Some(Ipv4Addr::new(192, 168, 4, 1)),
    };
    Some((Interface::Ap, own.unwrap_or(Ipv4Addr::UNSPECIFIED)))
}

fn open(w: &qmtopen::Write, state: &mut State, world: &World, net: &mut Net) -> Reply {
    use qmtopen_urc::OpenResult as R;
    let idx = index(w.client_idx);
    let Some(client) = state.mqtt.clients.get(idx) else {
        return Reply::error();
    };
    if client.link.is_some() {
        return opened(w.client_idx, R::IdInUse);
    }
    let Some((interface, own)) = interface(state, world, net.now) else {
        return opened(w.client_idx, R::NetworkDisconnected);
    };
    let host = w.host_name.as_str();
    let Some(ip) = network::resolve(host, world).and_then(|a| a.first().copied()) else {
        return opened(w.client_idx, R::DnsFailed);
    };
    let port = u16::try_from(w.port.get()).unwrap_or(0);
    let Some(route) = tcpip::route(ip, port, Protocol::Tcp, own, world, net) else {
        return opened(w.client_idx, R::NetworkError);
    };
    let tls = if client.config.ssl == qmtcfg::SslEnable::Ssl {
        let ctx_id = client.config.ssl_ctx.map_or(0, Int::get);
        let ctx = ssl::context(state, ctx_id);
        match crate::services::tls::client_config(&state.saved.files, ctx) {
            Ok(config) => Some(TlsSetup {
                config,
                host: host.to_string(),
                handshake_timeout: Duration::from_secs(ctx.negotiate_time.unsigned_abs()),
            }),
            Err(_) => return opened(w.client_idx, R::WrongParameter),
        }
    } else {
        None
    };
    let pending = match route {
        Route::To(peer) => {
            let deadline = net.now + wire::limit(tls.as_ref());
            let Ok(pending) = wire::connect(peer, tls, net.services.activity(), deadline) else {
                return opened(w.client_idx, R::OutOfMemory);
            };
            pending
        }
        // A server that never answers: the open times out.
        Route::Silent => Pending::silent(net.now + wire::CONNECT_TIMEOUT),
    };
    if let Some(client) = state.mqtt.clients.get_mut(idx) {
        client.link = Some(Link {
            host: host.to_string(),
            port,
            interface,
            phase: Phase::Opening,
            outbox: VecDeque::new(),
            inflight: BTreeMap::new(),
            incoming_qos2: BTreeSet::new(),
            connect_sent: None,
            last_sent: None,
            ping_sent: None,
        });
    }
    net.mqtt.wires.insert(idx, Wire::Connecting(pending));
    Reply::ok()
}

// ------------------------------------------------------------------ QMTCLOSE

fn close(client_idx: Int<0, 5>, state: &mut State, net: &mut Net) -> Reply {
    let idx = index(client_idx);
    let Some(client) = state.mqtt.clients.get_mut(idx) else {
        return Reply::error();
    };
    if client.link.take().is_none() {
        return Reply::error();
    }
    // Closed at once, without DISCONNECT: the server publishes the will.
    if let Some(Wire::Open { mut stream, .. }) = net.mqtt.wires.remove(&idx) {
        stream.close();
    }
    Reply::ok().with_urc(
        AT_ONCE,
        line(Qmtclose {
            client_idx,
            result: qmtclose::CloseResult::Success,
        }),
    )
}

// ------------------------------------------------------------------ QMTCONN

fn connect(w: &qmtconn::Write, state: &mut State) -> Reply {
    let link = client(state, w.client_idx)
        .and_then(|c| c.link.as_mut())
        .filter(|l| l.phase == Phase::Open);
    let Some(link) = link else {
        return Reply::error();
    };
    link.phase = Phase::Connecting;
    link.outbox.push_back(Outbound::Connect {
        client_id: w.client_id.as_str().to_string(),
        credentials: w.username_group.as_ref().map(|g| {
            (
                g.username.as_str().to_string(),
                g.password.as_str().to_string(),
            )
        }),
    });
    Reply::ok()
}

// ------------------------------------------------------------------ QMTSUB, QMTUNS

/// Queues a SUBSCRIBE or UNSUBSCRIBE of a connected client: `<msgID>` must
/// be a free packet identifier (0 included: the manual gives 0--65535, see
/// erratum RT-3) and no topic may be empty.
fn queue_request<'a>(
    state: &mut State,
    client_idx: Int<0, 5>,
    msg_id: Int<0, 65535>,
    mut topics: impl Iterator<Item = &'a String>,
    request: impl FnOnce(u16) -> Outbound,
) -> Reply {
    let Ok(id) = u16::try_from(msg_id.get()) else {
        return Reply::error();
    };
    if topics.any(String::is_empty) {
        return Reply::error();
    }
    match connected(state, client_idx) {
        Some(link) if !link.id_in_use(id) => {
            link.outbox.push_back(request(id));
            Reply::ok()
        }
        _ => Reply::error(),
    }
}

fn qos_of_sub(q: qmtsub::Qos) -> QoS {
    match q {
        qmtsub::Qos::AtMostOnce => QoS::AtMostOnce,
        qmtsub::Qos::AtLeastOnce => QoS::AtLeastOnce,
        qmtsub::Qos::ExactlyOnce => QoS::ExactlyOnce,
    }
}

fn subscribe(w: &qmtsub::Write, state: &mut State) -> Reply {
    let filters: Vec<(String, QoS)> = std::iter::once((&w.topic, w.qos))
        .chain(w.more_topic.iter().map(|i| (&i.topic, i.qos)))
        .map(|(t, q)| (t.as_str().to_string(), qos_of_sub(q)))
        .collect();
    let topics: Vec<String> = filters.iter().map(|(t, _)| t.clone()).collect();
    queue_request(state, w.client_idx, w.msg_id, topics.iter(), |msg_id| {
        Outbound::Subscribe { msg_id, filters }
    })
}

// ------------------------------------------------------------------ QMTPUB

/// What a publication needs, checked when the command comes and again when
/// its payload has come.
fn publishable(
    state: &mut State,
    client_idx: Int<0, 5>,
    msg_id: u16,
    qos: QoS,
    topic_name: &str,
) -> Result<(), ()> {
    if !topic::valid_name(topic_name) || (qos != QoS::AtMostOnce && msg_id == 0) {
        return Err(());
    }
    let link = connected(state, client_idx).ok_or(())?;
    if qos != QoS::AtMostOnce
        && (link.id_in_use(msg_id) || link.publications_in_flight() >= INFLIGHT_WINDOW)
    {
        return Err(());
    }
    Ok(())
}

fn from_hex(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}

fn publish(w: &qmtpub::Write, state: &mut State, net: &Net) -> Reply {
    let client_idx = w.client_idx;
    if let Some(Wire::Open { tx, .. }) = net.mqtt.wires.get(&index(client_idx)) {
        if tx.len() > SEND_BUFFER {
            return Reply::error();
        }
    }
    let Ok(msg_id) = u16::try_from(w.msg_id.get()) else {
        return Reply::error();
    };
    let qos = match w.qos {
        qmtpub::Qos::AtMostOnce => QoS::AtMostOnce,
        qmtpub::Qos::AtLeastOnce => QoS::AtLeastOnce,
        qmtpub::Qos::ExactlyOnce => QoS::ExactlyOnce,
    };
    let retain = w.retain == qmtpub::Retain::Retain;
    let topic_name = w.topic.as_str().to_string();
    if publishable(state, client_idx, msg_id, qos, &topic_name).is_err() {
        return Reply::error();
    }
    let length = w.length.and_then(|l| usize::try_from(l.get()).ok());
    let then = move |state: &mut State, payload: Payload| -> Reply {
        let Payload::Data(typed) = payload else {
            return Reply::error();
        };
        if typed.len() > MAX_PUBLISH {
            return Reply::error();
        }
        let Some(client) = client(state, client_idx) else {
            return Reply::error();
        };
        let payload = match client.config.send_format {
            qmtcfg::SendDataFormat::Hex => match from_hex(&typed) {
                Some(p) => p,
                None => return Reply::error(),
            },
            qmtcfg::SendDataFormat::String => typed,
        };
        // The connection may have changed while the payload came.
        if publishable(state, client_idx, msg_id, qos, &topic_name).is_err() {
            return Reply::error();
        }
        match connected(state, client_idx) {
            Some(link) => {
                link.outbox.push_back(Outbound::Publish {
                    msg_id,
                    qos,
                    retain,
                    topic: topic_name,
                    payload,
                });
                Reply::ok()
            }
            None => Reply::error(),
        }
    };
    Reply {
        phase: Some(DataRequest {
            greater_prompt: true,
            length,
            ctrl_z: length.is_none(),
            timeout: None,
            then: Box::new(then),
        }),
        ..Reply::result(Final::Nothing)
    }
}
