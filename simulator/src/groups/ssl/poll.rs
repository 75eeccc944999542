//! What the network caused: opens that ended, received data, closed
//! connections.

use std::time::Instant;

use fcm242d::generated::commands::qsslstate;
use fcm242d::generated::results::TcpipCode;
use fcm242d::generated::urcs::{Qsslopen, QsslurcClosed, QsslurcRecvBuffer, QsslurcRecvDirectPush};
use fcm242d::value::Int;

use super::connection::{connect_error, drop_link, pump};
use super::{Link, PUSH_CHUNK, RX_BUFFER};
use crate::groups::{line, tcpip};
use crate::net::{Channel, Net, Settled};
use crate::services::tls::{ConnectError, Recv, TlsClient};
use crate::state::State;

/// Bytes read from one connection per poll, so that one busy server cannot
/// hold up the UART.
const READ_PER_POLL: usize = 64 * 1024;

/// Appends a URC line.
fn urc(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Appends what ends transparent mode when its connection is lost.
fn no_carrier(out: &mut Vec<u8>, net: &mut Net) {
    net.transparent = None;
    out.extend_from_slice(b"\r\nNO CARRIER\r\n");
}

/// Output caused by the network since the last call.
pub(super) fn poll(state: &mut State, net: &mut Net, now: Instant) -> Vec<u8> {
    let mut out = Vec::new();
    if state.ssl.connections.is_empty() && net.ssl.links.is_empty() {
        return out;
    }
    drop_orphans(state, net);
    station_gone(state, net, &mut out);
    let ids: Vec<i64> = net.ssl.links.keys().copied().collect();
    for id in ids {
        let Ok(cid) = Int::<0, 11>::new(id) else {
            continue;
        };
        // While the UART is in transparent mode it belongs to one link:
        // the others wait (their data in the OS) until command mode.
        if net.transparent.is_some_and(|t| t != Channel::Ssl(id)) {
            continue;
        }
        if !connecting(id, cid, state, net, now, &mut out) {
            continue;
        }
        serve(id, cid, state, net, &mut out);
    }
    out
}

/// Reads what the server sent (at most `room` bytes); `true` in the second
/// place when the connection is over.
fn read_some(client: &mut TlsClient, room: usize) -> (Vec<u8>, bool) {
    let mut data = Vec::new();
    while data.len() < room {
        match client.recv(room - data.len()) {
            Recv::Data(d) => data.extend(d),
            Recv::WouldBlock => return (data, false),
            Recv::Closed | Recv::Failed(_) => return (data, true),
        }
    }
    (data, false)
}

/// Sends, reads and reports for one open connection.
fn serve(id: i64, cid: Int<0, 11>, state: &mut State, net: &mut Net, out: &mut Vec<u8>) {
    let raw = net.transparent == Some(Channel::Ssl(id));
    let (Some(Link::Open(client)), Some(c)) = (
        net.ssl.links.get_mut(&id),
        state.ssl.connections.get_mut(&id),
    ) else {
        return;
    };
    let mut broken = pump(client, c).is_err();
    let push = c.access_mode == qsslstate::AccessMode::DirectPush;
    let room = if push || raw {
        READ_PER_POLL
    } else {
        RX_BUFFER.saturating_sub(c.rx.len())
    };
    if room > 0 {
        let (data, over) = read_some(client, room);
        broken |= over;
        c.received += data.len() as u64;
        c.rx.extend(data);
    }
    if raw {
        // Transparent mode: the server's bytes go to the UART as they are
        // (first what waited while the UART was in command mode).
        c.retrieved += c.rx.len() as u64;
        out.extend(c.rx.drain(..));
    } else if push {
        while !c.rx.is_empty() {
            let n = c.rx.len().min(PUSH_CHUNK);
            let data: Vec<u8> = c.rx.drain(..n).collect();
            c.retrieved += n as u64;
            urc(
                out,
                &line(QsslurcRecvDirectPush {
                    connect_id: cid,
                    current_recvlength: i64::try_from(n).unwrap_or(i64::MAX),
                    data: Vec::new(),
                }),
            );
            out.extend_from_slice(&data);
            out.extend_from_slice(b"\r\n");
        }
    } else if c.access_mode == qsslstate::AccessMode::Buffer && !c.rx.is_empty() && !c.notified {
        c.notified = true;
        urc(out, &line(QsslurcRecvBuffer { connect_id: cid }));
    }
    if broken {
        c.state = qsslstate::SocketState::Closing;
        c.unsent.clear();
        if let Some(link) = net.ssl.links.remove(&id) {
            drop_link(link);
        }
        if raw {
            no_carrier(out, net);
        } else {
            urc(out, &line(QsslurcClosed { connect_id: cid }));
        }
    }
}

/// Completes a pending open; `true` when `id` is (now) an open link.
fn connecting(
    id: i64,
    cid: Int<0, 11>,
    state: &mut State,
    net: &mut Net,
    now: Instant,
    out: &mut Vec<u8>,
) -> bool {
    let Some(Link::Connecting(pending)) = net.ssl.links.get(&id) else {
        return true;
    };
    let outcome = match pending.settle(now) {
        Settled::Waiting => return false,
        Settled::Done(r) => r,
        Settled::Lost => Err(ConnectError::Io(
            std::io::ErrorKind::ConnectionAborted.into(),
        )),
        Settled::TimedOut => Err(ConnectError::Timeout),
    };
    let err = match outcome {
        Ok(mut client) => {
            if let Some(c) = state.ssl.connections.get_mut(&id) {
                c.local_port = client.local_addr().map(|a| a.port()).unwrap_or(0);
                c.state = qsslstate::SocketState::Connected;
                client.set_peer_window(c.peer_window);
            }
            net.ssl.links.insert(id, Link::Open(Box::new(client)));
            TcpipCode::Success
        }
        Err(e) => {
            net.ssl.links.remove(&id);
            state.ssl.connections.remove(&id);
            connect_error(&e)
        }
    };
    tcpip::set_error(state, err);
    urc(
        out,
        &line(Qsslopen {
            connect_id: cid,
            err,
        }),
    );
    err == TcpipCode::Success
}

/// Drops links whose connection no longer exists (never expected: every
/// path removes both together), so no session leaks.
fn drop_orphans(state: &State, net: &mut Net) {
    let orphans: Vec<i64> = net
        .ssl
        .links
        .keys()
        .filter(|id| !state.ssl.connections.contains_key(id))
        .copied()
        .collect();
    for id in orphans {
        if let Some(link) = net.ssl.links.remove(&id) {
            drop_link(link);
        }
    }
}

/// Closes the connections whose network the station left.
fn station_gone(state: &mut State, net: &mut Net, out: &mut Vec<u8>) {
    let station = state.wifi.station.clone();
    let down: Vec<i64> = state
        .ssl
        .connections
        .iter()
        .filter(|(_, c)| {
            c.state != qsslstate::SocketState::Closing
                && station.as_deref() != Some(c.network.as_str())
        })
        .map(|(id, _)| *id)
        .collect();
    for id in down {
        let Ok(cid) = Int::<0, 11>::new(id) else {
            continue;
        };
        if let Some(link) = net.ssl.links.remove(&id) {
            drop_link(link);
        }
        let opening = state
            .ssl
            .connections
            .get(&id)
            .is_some_and(|c| c.state == qsslstate::SocketState::Opening);
        if opening {
            state.ssl.connections.remove(&id);
            tcpip::set_error(state, TcpipCode::SocketConnectFailed);
            urc(
                out,
                &line(Qsslopen {
                    connect_id: cid,
                    err: TcpipCode::SocketConnectFailed,
                }),
            );
        } else if let Some(c) = state.ssl.connections.get_mut(&id) {
            c.state = qsslstate::SocketState::Closing;
            c.unsent.clear();
            if net.transparent == Some(Channel::Ssl(id)) {
                no_carrier(out, net);
            } else {
                urc(out, &line(QsslurcClosed { connect_id: cid }));
            }
        }
    }
}
