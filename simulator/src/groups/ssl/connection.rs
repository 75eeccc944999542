//! The commands on SSL connections: `AT+QSSLOPEN`, `AT+QSSLSEND`,
//! `AT+QSSLRECV`, `AT+QSSLCLOSE`, `AT+QSSLSTATE`; and transparent mode.

use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::time::Duration;

use fcm242d::generated::commands::{qsslopen, qsslrecv, qsslstate, AnyCommand};
use fcm242d::generated::results::TcpipCode;
use fcm242d::generated::urcs::Qsslopen;
use fcm242d::value::Int;

use super::{
    Connection, Link, Outcome, CONNECT_TIMEOUT, MAX_SEND, TRANSPARENT_CONNECT_TIMEOUT, TX_BUFFER,
};
use crate::groups::{line, network, tcpip};
use crate::net::{Channel, Net, Pending};
use crate::reply::{DataRequest, Final, Payload, Reply};
use crate::services::tls::{self, ConnectError, TlsClient};
use crate::services::Route;
use crate::state::State;
use crate::world::{Protocol, World};

/// How much longer than the module's time limit a helper thread may wait
/// for its server before it gives up by itself.
const HELPER_SLACK: Duration = Duration::from_secs(5);
/// Delay of a `+QSSLOPEN` known when the command is answered (an early
/// failure): printed right after `OK`.
const OPEN_DELAY: Duration = Duration::from_millis(5);

/// The `<err>` of a failed connect or handshake.
pub(super) fn connect_error(e: &ConnectError) -> TcpipCode {
    match e {
        ConnectError::Timeout => TcpipCode::Timeout,
        ConnectError::BadName(_) => TcpipCode::InvalidParameters,
        ConnectError::Tcp(_) | ConnectError::Handshake(_) | ConnectError::Io(_) => {
            TcpipCode::SocketConnectFailed
        }
    }
}

// ------------------------------------------------------------------ QSSLOPEN

/// `OK`, then `+QSSLOPEN: <id>,<err>` right after it; `err` is recorded.
fn deferred(state: &mut State, id: Int<0, 11>, err: TcpipCode) -> Reply {
    tcpip::set_error(state, err);
    Reply::ok().with_urc(
        OPEN_DELAY,
        line(Qsslopen {
            connect_id: id,
            err,
        }),
    )
}

/// A failed open: `ERROR` at once in transparent mode (which answers only
/// when the connection is made), else `OK` then `+QSSLOPEN: <id>,<err>`.
fn open_failed(state: &mut State, id: Int<0, 11>, err: TcpipCode, transparent: bool) -> Outcome {
    if transparent {
        Err(err)
    } else {
        Ok(deferred(state, id, err))
    }
}

/// The station's own address on network `ssid`.
fn own_address(state: &State, world: &World, ssid: &str) -> Ipv4Addr {
    let text = match &state.wifi.station_static {
        Some(s) => Some(s[0].clone()),
        None => world
            .access_points
            .iter()
            .find(|a| a.ssid == ssid)
            .map(|a| a.ip.clone()),
    };
    text.and_then(|t| t.parse().ok())
        .unwrap_or(Ipv4Addr::UNSPECIFIED)
}

pub(super) fn open(
    w: &qsslopen::Write,
    state: &mut State,
    world: &World,
    net: &mut Net,
) -> Outcome {
    let id = w.connect_id;
    let transparent = w.access_mode == Some(qsslopen::AccessMode::Transparent);
    let remote_port = u16::try_from(w.server_port).map_err(|_| TcpipCode::InvalidParameters)?;
    let network = state
        .wifi
        .station
        .clone()
        .filter(|_| state.wifi.has_ip(net.now));
    let Some(network) = network else {
        return Err(TcpipCode::NotAllowed);
    };
    if state.ssl.connections.contains_key(&id.get()) || state.tcpip.sockets.contains_key(&id.get())
    {
        return open_failed(state, id, TcpipCode::SocketIdInUse, transparent);
    }
    let host = w.server_address.as_str().to_string();
    let Some(ip) = network::resolve(&host, world).and_then(|a| a.first().copied()) else {
        return open_failed(state, id, TcpipCode::DnsFailed, transparent);
    };
    let own = own_address(state, world, &network);
    let Some(route) = tcpip::route(ip, remote_port, Protocol::Tcp, own, world, net) else {
        return open_failed(state, id, TcpipCode::SocketConnectFailed, transparent);
    };
    let ctx_id = w.ssl_ctx_id;
    let ctx = super::context(state, ctx_id.get()).clone();
    let config = match tls::client_config(&state.saved.files, &ctx) {
        Ok(c) => c,
        Err(_) => return open_failed(state, id, TcpipCode::InvalidParameters, transparent),
    };
    if tls::server_name(&host).is_err() {
        return open_failed(state, id, TcpipCode::InvalidParameters, transparent);
    }
    let handshake_time = Duration::from_secs(u64::try_from(ctx.negotiate_time).unwrap_or(300));
    let access_mode = match w.access_mode {
        Some(qsslopen::AccessMode::DirectPush) => qsslstate::AccessMode::DirectPush,
        Some(qsslopen::AccessMode::Transparent) => qsslstate::AccessMode::Transparent,
        _ => qsslstate::AccessMode::Buffer,
    };
    let mut connection = Connection {
        ctx_id,
        ip,
        remote_port,
        local_port: 0,
        state: qsslstate::SocketState::Opening,
        access_mode,
        network,
        rx: VecDeque::new(),
        received: 0,
        retrieved: 0,
        notified: false,
        sent: 0,
        unsent: Vec::new(),
        peer_window: tcpip::peer_window(ip, remote_port, own, world),
    };

    let peer = match route {
        Route::To(peer) => peer,
        // A server that never answers: the open times out.
        Route::Silent if transparent => return Err(TcpipCode::Timeout),
        Route::Silent => {
            state.ssl.connections.insert(id.get(), connection);
            net.ssl.links.insert(
                id.get(),
                Link::Connecting(Pending::silent(net.now + CONNECT_TIMEOUT)),
            );
            return Ok(Reply::ok());
        }
    };

    if transparent {
        // The module answers `CONNECT` or `ERROR` only once the connection
        // is made, so it connects before answering.
        let mut client = TlsClient::connect(
            peer,
            &host,
            config,
            TRANSPARENT_CONNECT_TIMEOUT,
            handshake_time.min(TRANSPARENT_CONNECT_TIMEOUT),
        )
        .map_err(|e| connect_error(&e))?;
        client.set_peer_window(connection.peer_window);
        connection.local_port = client.local_addr().map(|a| a.port()).unwrap_or(0);
        connection.state = qsslstate::SocketState::Connected;
        state.ssl.connections.insert(id.get(), connection);
        net.ssl.links.insert(id.get(), Link::Open(Box::new(client)));
        return Ok(enter(state, net, id.get()));
    }

    // Buffer and push modes: connect on a helper thread; `poll` prints
    // `+QSSLOPEN` when it ends (or when the time limit passes on the
    // module's clock: the TCP connect's, then the handshake's).
    let spawned = crate::activity::helper(
        net.services.activity(),
        format!("qsslopen-{}", id.get()),
        move |busy| {
            TlsClient::connect_watched(
                peer,
                &host,
                config,
                // The module's clock ends a handshake that takes too long;
                // the thread's own limit only frees it later.
                handshake_time + HELPER_SLACK,
                busy,
            )
        },
    );
    let Ok(rx) = spawned else {
        return Ok(deferred(state, id, TcpipCode::SocketCreateFailed));
    };
    state.ssl.connections.insert(id.get(), connection);
    net.ssl.links.insert(
        id.get(),
        Link::Connecting(Pending::helper(rx, peer, net.now + handshake_time)),
    );
    Ok(Reply::ok())
}

// ------------------------------------------------------------------ transparent mode

/// `CONNECT`: the UART goes into transparent mode with connection `id`.
fn enter(state: &mut State, net: &mut Net, id: i64) -> Reply {
    tcpip::set_error(state, TcpipCode::Success);
    net.transparent = Some(Channel::Ssl(id));
    net.last_transparent = Some(Channel::Ssl(id));
    Reply::result(Final::Connect)
}

/// Whether SSL connection `id` can carry transparent mode again (`ATO`):
/// it is connected, in transparent access mode, with its TLS session.
pub fn transparent_live(state: &State, net: &Net, id: i64) -> bool {
    state.ssl.connections.get(&id).is_some_and(|c| {
        c.state == qsslstate::SocketState::Connected
            && c.access_mode == qsslstate::AccessMode::Transparent
    }) && matches!(net.ssl.links.get(&id), Some(Link::Open(_)))
}

/// In transparent mode: bytes from the host, sent on the SSL connection the
/// UART is switched to. What TLS cannot take at once waits (up to
/// [`TX_BUFFER`] bytes; more is lost, as on a module whose host ignores
/// flow control) and [`super::poll`] sends it.
pub fn transparent_send(state: &mut State, net: &mut Net, data: &[u8]) {
    let Some(Channel::Ssl(id)) = net.transparent else {
        return;
    };
    let Some(c) = state.ssl.connections.get_mut(&id) else {
        return;
    };
    if data.is_empty() || c.state != qsslstate::SocketState::Connected {
        return;
    }
    let room = TX_BUFFER.saturating_sub(c.unsent.len());
    let kept = data.len().min(room);
    c.unsent
        .extend_from_slice(data.get(..kept).unwrap_or_default());
    c.sent += kept as u64;
    if let Some(Link::Open(client)) = net.ssl.links.get_mut(&id) {
        // A broken connection shows in the next `poll`.
        let _ = pump(client, c);
    }
}

/// Hands queued bytes to TLS and writes what the socket takes; an error
/// means the connection is broken. TLS takes the next bytes only once it
/// has written what it holds: what the server has not taken stays in the
/// connection's own queue, the buffer `SEND FAIL` measures.
pub(super) fn pump(client: &mut TlsClient, c: &mut Connection) -> std::io::Result<()> {
    client.flush()?;
    while !c.unsent.is_empty() && !client.has_pending_output() {
        let n = c.unsent.len().min(MAX_SEND);
        let taken = client.send(c.unsent.get(..n).unwrap_or_default())?;
        if taken == 0 {
            break;
        }
        c.unsent.drain(..taken.min(c.unsent.len()));
    }
    client.flush()
}

// ------------------------------------------------------------------ QSSLSEND

/// Checks that connection `id` can send.
fn sendable(id: i64, state: &State) -> Result<(), TcpipCode> {
    let c = state
        .ssl
        .connections
        .get(&id)
        .ok_or(TcpipCode::InvalidParameters)?;
    match c.state {
        qsslstate::SocketState::Connected => Ok(()),
        qsslstate::SocketState::Closing => Err(TcpipCode::SocketClosed),
        _ => Err(TcpipCode::NotAllowed),
    }
}

/// `AT+QSSLSEND=<id>[,<len>]`: the `>` prompt, then the payload.
pub(super) fn send(id: i64, length: Option<usize>, state: &mut State) -> Outcome {
    sendable(id, state)?;
    let request = DataRequest {
        greater_prompt: true,
        length,
        ctrl_z: length.is_none(),
        timeout: None,
        then: Box::new(move |state: &mut State, payload: Payload| deliver(state, id, payload)),
    };
    Ok(Reply {
        phase: Some(request),
        ..Reply::result(Final::Nothing)
    })
}

/// `ERROR` with `code` recorded (for continuations, which build their reply themselves).
fn failed(state: &mut State, code: TcpipCode) -> Reply {
    tcpip::set_error(state, code);
    Reply::error()
}

/// The payload of `AT+QSSLSEND`, queued for TLS ([`super::poll`] runs right
/// after it and sends it).
fn deliver(state: &mut State, id: i64, payload: Payload) -> Reply {
    let data = match payload {
        Payload::Cancelled => return failed(state, TcpipCode::SendCancelled),
        Payload::Data(d) => d,
    };
    if data.is_empty() || data.len() > MAX_SEND {
        return failed(state, TcpipCode::InvalidParameters);
    }
    if let Err(code) = sendable(id, state) {
        return failed(state, code);
    }
    let Some(c) = state.ssl.connections.get_mut(&id) else {
        return failed(state, TcpipCode::SocketClosed);
    };
    if c.unsent.len() + data.len() > TX_BUFFER {
        tcpip::set_error(state, TcpipCode::Busy);
        return Reply::result(Final::SendFail);
    }
    c.unsent.extend_from_slice(&data);
    c.sent += data.len() as u64;
    tcpip::set_error(state, TcpipCode::Success);
    Reply::result(Final::SendOk)
}

// ------------------------------------------------------------------ QSSLRECV

/// `AT+QSSLRECV=<id>,<read_length>`.
pub(super) fn recv(id: i64, max: usize, state: &mut State) -> Outcome {
    let c = state
        .ssl
        .connections
        .get_mut(&id)
        .ok_or(TcpipCode::InvalidParameters)?;
    if c.access_mode != qsslstate::AccessMode::Buffer {
        return Err(TcpipCode::NotAllowed);
    }
    let n = max.min(c.rx.len());
    if n == 0 {
        return Ok(Reply::lines(vec![line(qsslrecv::WriteNoDataLine {})]));
    }
    let data: Vec<u8> = c.rx.drain(..n).collect();
    c.retrieved += n as u64;
    if c.rx.is_empty() {
        c.notified = false;
    }
    let have_readlen = i64::try_from(n).unwrap_or(i64::MAX);
    Ok(Reply {
        data: Some(data),
        ..Reply::lines(vec![line(qsslrecv::WriteReceivedLine { have_readlen })])
    })
}

// ------------------------------------------------------------------ QSSLCLOSE

/// Ends a live connection (`close_notify` for an open session).
pub(super) fn drop_link(link: Link) {
    match link {
        Link::Open(mut client) => client.close(),
        // The helper thread's outcome is dropped with the channel.
        Link::Connecting(_) => {}
    }
}

/// `AT+QSSLCLOSE=<id>[,<close_timeout>]`.
pub(super) fn close(id: i64, state: &mut State, net: &mut Net) -> Outcome {
    if state.ssl.connections.remove(&id).is_none() {
        return Err(TcpipCode::InvalidParameters);
    }
    if let Some(link) = net.ssl.links.remove(&id) {
        drop_link(link);
    }
    Ok(Reply::ok())
}

// ------------------------------------------------------------------ QSSLSTATE

/// The fields of one `+QSSLSTATE` line.
struct Row {
    connect_id: Int<0, 11>,
    ip_address: String,
    remote_port: Int<0, 65535>,
    local_port: Int<0, 65535>,
    socket_state: qsslstate::SocketState,
    server_id: i64,
    access_mode: qsslstate::AccessMode,
    ssl_ctx_id: Int<0, 5>,
}

fn row(id: i64, c: &Connection) -> Option<Row> {
    Some(Row {
        connect_id: Int::new(id).ok()?,
        ip_address: c.ip.to_string(),
        remote_port: Int::new(c.remote_port.into()).ok()?,
        local_port: Int::new(c.local_port.into()).ok()?,
        socket_state: c.state,
        // "Reserved"; the manual's examples show the connection's own ID.
        server_id: id,
        access_mode: c.access_mode,
        ssl_ctx_id: c.ctx_id,
    })
}

/// `AT+QSSLSTATE` and `AT+QSSLSTATE?`: every connection.
pub(super) fn states(state: &State, cmd: &AnyCommand) -> Reply {
    let rows = state
        .ssl
        .connections
        .iter()
        .filter_map(|(id, c)| row(*id, c));
    let lines = if matches!(cmd, AnyCommand::QsslstateRead(_)) {
        rows.map(|r| {
            line(qsslstate::ReadLine {
                connect_id: r.connect_id,
                ip_address: r.ip_address,
                remote_port: r.remote_port,
                local_port: r.local_port,
                socket_state: r.socket_state,
                server_id: r.server_id,
                access_mode: r.access_mode,
                devname: qsslstate::AtPort::Uart1,
                ssl_ctx_id: r.ssl_ctx_id,
            })
        })
        .collect()
    } else {
        rows.map(|r| {
            line(qsslstate::ExecuteLine {
                connect_id: r.connect_id,
                ip_address: r.ip_address,
                remote_port: r.remote_port,
                local_port: r.local_port,
                socket_state: r.socket_state,
                server_id: r.server_id,
                access_mode: r.access_mode,
                devname: qsslstate::AtPort::Uart1,
                ssl_ctx_id: r.ssl_ctx_id,
            })
        })
        .collect()
    };
    Reply::lines(lines)
}

fn write_line(r: Row) -> String {
    line(qsslstate::WriteLine {
        connect_id: r.connect_id,
        ip_address: r.ip_address,
        remote_port: r.remote_port,
        local_port: r.local_port,
        socket_state: r.socket_state,
        server_id: r.server_id,
        access_mode: r.access_mode,
        devname: qsslstate::AtPort::Uart1,
        ssl_ctx_id: r.ssl_ctx_id,
    })
}

/// `AT+QSSLSTATE=<query_type>,<n>`: the connections of context `<n>` (0),
/// or connection `<n>` (1).
pub(super) fn state_of(w: &qsslstate::Write, state: &State) -> Outcome {
    let n = w.connect_id.get();
    match w.query_type {
        qsslstate::QueryType::Context => Ok(Reply::lines(
            state
                .ssl
                .connections
                .iter()
                .filter(|(_, c)| c.ctx_id.get() == n)
                .filter_map(|(id, c)| row(*id, c))
                .map(write_line)
                .collect(),
        )),
        qsslstate::QueryType::Connection => {
            let r = state
                .ssl
                .connections
                .get(&n)
                .and_then(|c| row(n, c))
                .ok_or(TcpipCode::InvalidParameters)?;
            Ok(Reply::lines(vec![write_line(r)]))
        }
    }
}
