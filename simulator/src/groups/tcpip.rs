//! The TCP/UDP group: socket services 0–11 backed by real sockets on the
//! host's loopback (`AT+QIOPEN`, `AT+QISEND`, `AT+QIRD`, `AT+QICLOSE`,
//! `AT+QISTATE`, `AT+QIACCEPT`, `AT+QISWTMD`, `AT+QICFG`, `AT+QIGETERROR`,
//! `ATO`).
//!
//! # Model
//!
//! The plain-data part of each socket service (type, addresses, state,
//! access mode, receive buffer, counters) is a [`Socket`] in
//! `state.tcpip.sockets`; its operating-system socket is a
//! [`Link`] in [`Net`]. Every OS socket is non-blocking;
//! [`poll`] (called by the serve loop at least every 50 ms and after every
//! input) completes connects, accepts connections, reads what arrived,
//! flushes what could not be written at once, and prints the URCs.
//!
//! - Opening needs an IP interface: the station (`<ap_priority>` 0 or
//!   omitted) or the soft AP (`<ap_priority>` 1). Without it `AT+QIOPEN`
//!   answers `ERROR` (569, Operation not allowed). A socket whose interface
//!   goes down (the station leaves or joins another network, the AP stops)
//!   is closed as by the network: `+QIURC: "closed",<id>`, state "closing".
//! - `"TCP"`: `OK`, then `+QIOPEN: <id>,0` once the connect succeeds,
//!   `+QIOPEN: <id>,564` when it is refused, `567` when it times out
//!   ([`CONNECT_TIMEOUT`]), `563` for a name the world's hosts table does not
//!   list, `561` when `<connectID>` is in use. The connect runs on a helper
//!   thread. `"UDP"`: a connected UDP socket. `"TCP LISTENER"` and `"UDP
//!   SERVICE"` bind `127.0.0.1:<local_port>` (`570` Port busy when it is
//!   taken, `556` for another bind failure).
//! - The reachable network is the simulated world's: loopback addresses,
//!   the module's own address (mapped to 127.0.0.1, so a client can reach
//!   the module's own listener) and the addresses of the world's hosts
//!   table. Any other address is unreachable (`+QIOPEN: <id>,564`) and no
//!   packet leaves the machine for it.
//! - The catalogue's rules: a listener or service needs `<local_port>`
//!   1–65535 and cannot take access mode 2 (`ERROR`, 552).
//! - Buffer access mode (0): received data is kept (up to [`RX_BUFFER`]
//!   bytes; beyond that the socket is not read, so TCP pushes back) and
//!   `+QIURC: "recv",<id>` is printed when the buffer holds data and no URC
//!   was printed since it was last empty. Direct push mode (1): each read
//!   is printed as `+QIURC: "recv",<id>,<len>` CR LF data CR LF (with the
//!   sender for a UDP service).
//! - `AT+QISEND` takes a payload into the socket's sending buffer
//!   ([`TX_BUFFER`] bytes, errata COND-7), which holds what the peer has
//!   not acknowledged, and transmits at once what the peer's receive window
//!   and the OS take; [`poll`] transmits the rest as they open. A payload
//!   that does not fit in what the buffer has left gets `SEND FAIL` and is
//!   not taken (the host can resend it). A peer that reads acknowledges
//!   what the OS hands it (on the loopback at once); a peer of the world
//!   that stopped reading ([`crate::world::Service::Unread`]) takes its
//!   receive window and then nothing, so the buffer fills. `AT+QISEND=<id>,0`
//!   reports the bytes taken in total, those transmitted ("acked") and
//!   those still in the buffer ("unacked"). Esc cancels with `ERROR` (568,
//!   Cancel sending).
//! - When the peer closes a TCP connection: `+QIURC: "closed",<id>` and the
//!   state becomes "closing" (4); buffered data can still be read, and
//!   `AT+QICLOSE` frees the `<connectID>`. With
//!   `AT+QICFG="passiveclosed",1` the module frees it itself.
//! - A listener accepts connections automatically while
//!   `AT+QICFG="tcp/accept"` is 1 (the default): lowest free `<connectID>`,
//!   `+QIURC: "incoming",<id>,<serverID>,<remoteIP>,<remote_port>`, or
//!   `+QIURC: "incoming full"` (and the connection is dropped) when all 12
//!   are used. While it is 0, connections wait (up to [`MAX_PENDING`]) for
//!   `AT+QIACCEPT=<listener>,1[,<id>]` (`+QIACCEPT: <id>,<ip>,<port>`) or
//!   `AT+QIACCEPT=<listener>,0` (dropped); the manual gives no URC for a
//!   waiting connection, so none is printed. With nothing waiting
//!   `AT+QIACCEPT` answers `ERROR` (569).
//! - `AT+QISTATE`: `<IP_address>` is the peer for clients and incoming
//!   connections and the module's own address for listeners and services;
//!   `<serverID>` is the listener for an incoming connection and the
//!   socket's own `<connectID>` otherwise (as in the manual's QSSLSTATE
//!   example); a UDP service reports state 2; `<AT_port>` is `"uart1"`.
//! - `AT+QICFG`: every sub-command stores and reports its values (not
//!   saved). `"dataformat"` is applied (hex text in `AT+QISEND` payloads and
//!   in received data, where the announced length is the length printed);
//!   `"tcp/accept"` and `"passiveclosed"` as above; `"udp/broadcast"` sets
//!   `SO_BROADCAST` on new UDP sockets. The others only store: keep-alive
//!   and TIME_WAIT cannot be set with `std`, and `"transpktsize"` /
//!   `"transwaittm"` have no effect (transparent bytes are sent as they come).
//!   Defaults the manual does not give: tcp/accept 1, qisend/timeout 0,
//!   passiveclosed 0, dataformat 0,0, close/mode 0, tcp/kalive
//!   0,7200,20,8, tcp/tw_cycle 1 (Disable), udp/broadcast 0.
//! - `AT+QIGETERROR` reports `state.tcpip.last_error`, which every command
//!   of the group except itself and `ATO` sets: 0 on success, the code of
//!   the failure otherwise (also the `<err>` of a deferred `+QIOPEN`).
//!
//! - Transparent mode (access mode 2, TCP and UDP clients and incoming
//!   connections): `AT+QIOPEN` connects before answering (at most
//!   [`TRANSPARENT_CONNECT_TIMEOUT`]) and answers `CONNECT`, or `ERROR` with
//!   the code the deferred `+QIOPEN` would carry; `AT+QISWTMD=<id>,2` on a
//!   connected socket answers `CONNECT` (565 when the peer closed it, 569
//!   while it opens). `Net::transparent` then names the socket the UART
//!   belongs to (the module's line discipline handles `+++` and its guard
//!   time): [`transparent_send`] writes host bytes, [`poll`] writes the
//!   peer's bytes raw (first what buffer access mode had kept) and serves
//!   no other socket, and a lost connection prints `NO CARRIER` instead of
//!   `+QIURC: "closed"`. After `+++` the socket keeps access mode 2: data
//!   that arrives waits without a URC for `ATO`, which resumes the socket
//!   that was last in transparent mode if it is still connected and still
//!   in mode 2 (`CONNECT`), else answers `NO CARRIER`.
//!
//! # Not modelled
//!
//! A TCP client's `<local_port>` is not bound (`std` cannot bind before
//! connecting); `AT+QISTATE` reports the port the OS chose.
//!
//! # Result codes chosen where the manual gives none
//!
//! No socket with that `<connectID>`: 552. A form that does not fit the
//! socket's type (an address on a TCP send, none on a UDP service send):
//! 552. An operation the socket's type does not have (sending on a
//! listener, switching a listener's mode, reading in direct push mode): 555
//! or 569. A socket that is still opening: 569; one the peer closed: 565.
//! An empty or over-long (1460 bytes) payload: 552.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use fcm242d::generated::commands::{
    qiaccept, qicfg, qigeterror, qiopen, qird, qistate, qiswtmd, AnyCommand,
};
use fcm242d::generated::results::TcpipCode;
use fcm242d::generated::urcs::{
    Qiopen, QiurcClosed, QiurcIncoming, QiurcIncomingFull, QiurcRecvBuffer, QiurcRecvDirectPush,
    QiurcRecvDirectPushUdpService,
};
use fcm242d::value::Int;

use crate::groups::{line, network};
use crate::net::{Channel, Link, Net, Pending, Settled};
use crate::reply::{DataRequest, Final, Payload, Reply};
use crate::services::Route;
use crate::state::{State, Wifi};
use crate::world::{Protocol, World};

/// The number of socket services (`<connectID>` 0–11).
pub const MAX_SOCKETS: i64 = 12;
/// The longest payload of `AT+QISEND` (bytes).
pub const MAX_SEND: usize = 1460;
/// The most `AT+QIRD` returns at once (the top of `<read_length>`).
pub const MAX_READ: usize = 1500;
/// Received bytes a socket keeps for `AT+QIRD`; past this the module stops
/// reading the socket (TCP flow control holds the rest at the peer).
pub const RX_BUFFER: usize = 64 * 1024;
/// A socket's sending buffer: the bytes `AT+QISEND` took that the peer has
/// not acknowledged. A payload that does not fit in what is left gets
/// `SEND FAIL`. The manual gives no size; four full-size payloads
/// (errata COND-7).
pub const TX_BUFFER: usize = 4 * MAX_SEND;
/// The largest block one direct-push URC carries.
pub const PUSH_CHUNK: usize = 1460;
/// How long a transparent-mode TCP connect may take before `ERROR` (567).
/// It blocks the UART, so it is short; on the loopback a connect ends at once.
pub const TRANSPARENT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a TCP connect may take before `+QIOPEN: <id>,567`.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);
/// Connections a listener keeps for `AT+QIACCEPT` while automatic
/// acceptance is off (others wait in the OS backlog).
pub const MAX_PENDING: usize = 4;
/// Delay of a `+QIOPEN` known when the command is answered (a listener, a
/// UDP socket, an early failure): printed right after `OK`.
const OPEN_DELAY: Duration = Duration::from_millis(5);
/// Peers a UDP service remembers (see [`Socket::aliases`]).
const MAX_ALIASES: usize = 32;
/// Bytes read from one socket per [`poll`], so that one busy peer cannot
/// hold up the UART.
const READ_PER_POLL: usize = 64 * 1024;

/// The interface a socket service was opened on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interface {
    /// The station, joined to this network (SSID).
    Station(String),
    /// The soft AP.
    Ap,
}

/// Received data not yet handed to the host: TCP bytes, or one UDP datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// The sender's address and port.
    pub from: (Ipv4Addr, u16),
    /// The bytes.
    pub data: Vec<u8>,
}

/// One socket service, as `AT+QISTATE` and the other commands see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Socket {
    /// `"TCP"`, `"UDP"`, `"TCP LISTENER"`, `"TCP INCOMING"` or `"UDP SERVICE"`.
    pub service: qistate::ServiceType,
    /// `<IP_address>` of `AT+QISTATE`: the peer (clients, incoming
    /// connections) or the module's own address (listeners, services).
    pub ip: Ipv4Addr,
    /// The peer's port (0 for listeners and services).
    pub remote_port: u16,
    /// The local port (0 while a client is connecting).
    pub local_port: u16,
    /// Opening, connected, listening or closing.
    pub state: qistate::SocketState,
    /// `<serverID>`: the listener of an incoming connection, else the
    /// socket's own `<connectID>`.
    pub server_id: i64,
    /// Buffer access (0) or direct push (1).
    pub access_mode: qistate::AccessMode,
    /// The interface it was opened on.
    pub interface: Interface,
    /// Received data kept for `AT+QIRD` (buffer access mode).
    pub rx: VecDeque<Chunk>,
    /// Bytes received in total.
    pub received: u64,
    /// Bytes handed to the host (`AT+QIRD` or direct push).
    pub retrieved: u64,
    /// Whether `+QIURC: "recv",<id>` was printed since the buffer was last empty.
    pub notified: bool,
    /// Bytes accepted by `AT+QISEND` in total.
    pub sent: u64,
    /// The sending buffer: accepted bytes not yet transmitted (TCP), for
    /// lack of receive window or because the OS cannot take them now.
    pub unsent: Vec<u8>,
    /// The receive window a peer that stopped reading still has open (it
    /// shrinks as the module transmits and never reopens); `None` for a
    /// peer that reads, whose flow control the OS handles.
    pub peer_window: Option<usize>,
    /// A UDP service's peers: where a datagram really went on the host,
    /// and the address the host gave for it (what the module reports as
    /// the sender of an answer from there).
    pub aliases: VecDeque<(SocketAddr, (Ipv4Addr, u16))>,
}

impl Socket {
    fn new(
        service: qistate::ServiceType,
        ip: Ipv4Addr,
        remote_port: u16,
        server_id: i64,
        access_mode: qistate::AccessMode,
        interface: Interface,
    ) -> Socket {
        Socket {
            service,
            ip,
            remote_port,
            local_port: 0,
            state: qistate::SocketState::Opening,
            server_id,
            access_mode,
            interface,
            rx: VecDeque::new(),
            received: 0,
            retrieved: 0,
            notified: false,
            sent: 0,
            unsent: Vec::new(),
            peer_window: None,
            aliases: VecDeque::new(),
        }
    }

    /// Whether bytes wait in the sending buffer that the peer's window
    /// lets the module transmit (a closed window waits for nothing the
    /// simulated world will do).
    fn can_transmit(&self) -> bool {
        !self.unsent.is_empty() && self.peer_window != Some(0)
    }

    /// Remembers that datagrams to `real` stand for `shown`.
    fn remember(&mut self, real: SocketAddr, shown: (Ipv4Addr, u16)) {
        self.aliases.retain(|(r, _)| *r != real);
        self.aliases.push_front((real, shown));
        self.aliases.truncate(MAX_ALIASES);
    }

    /// The sender a datagram from `from` is reported as: the address the
    /// host sent to there, the peer of a UDP client, or `from` itself.
    fn sender(&self, from: (Ipv4Addr, u16)) -> (Ipv4Addr, u16) {
        if self.service == qistate::ServiceType::Udp {
            return (self.ip, self.remote_port);
        }
        let real = SocketAddr::from(from);
        self.aliases
            .iter()
            .find(|(r, _)| *r == real)
            .map_or(from, |(_, shown)| *shown)
    }

    fn buffered(&self) -> usize {
        self.rx.iter().map(|c| c.data.len()).sum()
    }

    fn is_udp(&self) -> bool {
        matches!(
            self.service,
            qistate::ServiceType::Udp | qistate::ServiceType::UdpService
        )
    }
}

/// The `AT+QICFG` settings, as wire values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `"transpktsize"` (bytes).
    pub transpktsize: i64,
    /// `"transwaittm"` (100 ms).
    pub transwaittm: i64,
    /// `"tcp/accept"`: automatic acceptance of incoming connections.
    pub accept: qicfg::Enable,
    /// `"qisend/timeout"` (s).
    pub send_timeout: i64,
    /// `"passiveclosed"`.
    pub passive_closed: qicfg::Enable,
    /// `"dataformat"`: format of `AT+QISEND` payloads.
    pub send_format: qicfg::SendDataFormat,
    /// `"dataformat"`: format of received data.
    pub recv_format: qicfg::RecvDataFormat,
    /// `"close/mode"`.
    pub close_mode: qicfg::Enable,
    /// `"tcp/kalive"`: on/off, idle (s), interval (s), probes.
    pub keepalive: (fcm242d::generated::shared::Enable, i64, i64, i64),
    /// `"tcp/tw_cycle"`.
    pub tw_cycle: qicfg::TwEnable,
    /// `"udp/broadcast"`.
    pub udp_broadcast: qicfg::Broadcast,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            transpktsize: 1024,
            transwaittm: 2,
            accept: qicfg::Enable::Enable,
            send_timeout: 0,
            passive_closed: qicfg::Enable::Disable,
            send_format: qicfg::SendDataFormat::Text,
            recv_format: qicfg::RecvDataFormat::Text,
            close_mode: qicfg::Enable::Disable,
            keepalive: (fcm242d::generated::shared::Enable::Disable, 7200, 20, 8),
            tw_cycle: qicfg::TwEnable::Disable,
            udp_broadcast: qicfg::Broadcast::Off,
        }
    }
}

/// What a command of the group ends with: a reply, or `ERROR` with a code.
type Outcome = Result<Reply, TcpipCode>;

/// The group's answer, if `cmd` is one of its commands.
pub fn handle(cmd: &AnyCommand, state: &mut State, world: &World, net: &mut Net) -> Option<Reply> {
    match cmd {
        AnyCommand::QigeterrorExecute(_) => return Some(geterror(state)),
        AnyCommand::AtoExecute(_) => return Some(resume(state, net)),
        _ => {}
    }
    set_error(state, TcpipCode::Success);
    let outcome = match cmd {
        AnyCommand::QiopenWrite(w) => open(w, state, world, net),
        AnyCommand::QicloseWrite(w) => close(w.connect_id.get(), state, net),
        AnyCommand::QistateRead(_) => Ok(Reply::lines(
            state
                .tcpip
                .sockets
                .iter()
                .filter_map(|(id, s)| Some(line(state_line(row(*id, s)?))))
                .collect(),
        )),
        AnyCommand::QistateExecute(_) => Ok(Reply::lines(
            state
                .tcpip
                .sockets
                .iter()
                .filter_map(|(id, s)| Some(line(execute_line(row(*id, s)?))))
                .collect(),
        )),
        AnyCommand::QistateWrite(w) => {
            let id = w.connect_id.get();
            match state.tcpip.sockets.get(&id).and_then(|s| row(id, s)) {
                Some(r) => Ok(Reply::lines(vec![line(write_line(r))])),
                None => Err(TcpipCode::InvalidParameters),
            }
        }
        AnyCommand::QisendWriteConnectId(w) => send(w.connect_id.get(), None, None, state, net),
        AnyCommand::QisendWriteConnectIdSendLength(w) => match w.send_length.get() {
            0 => send_totals(w.connect_id.get(), state),
            n => send(w.connect_id.get(), Some(n), None, state, net),
        },
        AnyCommand::QisendWriteConnectIdSendLengthRemoteIpRemotePort(w) => {
            match (w.send_length.get(), u16::try_from(w.remote_port.get())) {
                (0, _) | (_, Err(_)) => Err(TcpipCode::InvalidParameters),
                (n, Ok(port)) => {
                    let to = SocketAddrV4::new(w.remote_ip, port);
                    let id = w.connect_id.get();
                    let real = service_route(id, to, state, world, net);
                    send(id, Some(n), Some((to, real)), state, net)
                }
            }
        }
        AnyCommand::QisendWriteConnectId0(w) => send_totals(w.connect_id.get(), state),
        AnyCommand::QirdWriteConnectIdReadLength(w) => match w.read_length.map(|l| l.get()) {
            Some(0) => read_totals(w.connect_id.get(), state),
            limit => read(w.connect_id.get(), limit, state),
        },
        AnyCommand::QirdWriteConnectId(w) => read(w.connect_id.get(), None, state),
        AnyCommand::QirdWriteConnectId0(w) => read_totals(w.connect_id.get(), state),
        AnyCommand::QiacceptWrite(w) => accept(w, state, net),
        AnyCommand::QiswtmdWrite(w) => switch_mode(w, state, net),
        AnyCommand::QicfgTranspktsize(w) => configure(
            state,
            w.transpktsize.map(|v| v.get()),
            |c, v| c.transpktsize = v,
            |c| {
                Ok(line(qicfg::TranspktsizeLine {
                    transpktsize: int(c.transpktsize)?,
                }))
            },
        ),
        AnyCommand::QicfgTranswaittm(w) => configure(
            state,
            w.transwaittm.map(|v| v.get()),
            |c, v| c.transwaittm = v,
            |c| {
                Ok(line(qicfg::TranswaittmLine {
                    transwaittm: int(c.transwaittm)?,
                }))
            },
        ),
        AnyCommand::QicfgTcpAccept(w) => configure(
            state,
            w.state,
            |c, v| c.accept = v,
            |c| Ok(line(qicfg::TcpAcceptLine { state: c.accept })),
        ),
        AnyCommand::QicfgQisendTimeout(w) => configure(
            state,
            w.timeout.map(|v| v.get()),
            |c, v| c.send_timeout = v,
            |c| {
                Ok(line(qicfg::QisendTimeoutLine {
                    timeout: int(c.send_timeout)?,
                }))
            },
        ),
        AnyCommand::QicfgPassiveclosed(w) => configure(
            state,
            w.closed,
            |c, v| c.passive_closed = v,
            |c| {
                Ok(line(qicfg::PassiveclosedLine {
                    closed: c.passive_closed,
                }))
            },
        ),
        AnyCommand::QicfgDataformat(w) => configure(
            state,
            w.send_data_format_group
                .as_ref()
                .map(|g| (g.send_data_format, g.recv_data_format)),
            |c, (send, recv)| {
                c.send_format = send;
                c.recv_format = recv;
            },
            |c| {
                Ok(line(qicfg::DataformatLine {
                    send_data_format: c.send_format,
                    recv_data_format: c.recv_format,
                }))
            },
        ),
        AnyCommand::QicfgCloseMode(w) => configure(
            state,
            w.close_mode,
            |c, v| c.close_mode = v,
            |c| {
                Ok(line(qicfg::CloseModeLine {
                    close_mode: c.close_mode,
                }))
            },
        ),
        AnyCommand::QicfgTcpKalive(w) => configure(
            state,
            w.kalive_onoff_group.as_ref().map(|g| {
                (
                    g.kalive_onoff,
                    g.kalive_idle.get(),
                    g.kalive_interval.get(),
                    g.kalive_cnt.get(),
                )
            }),
            |c, v| c.keepalive = v,
            |c| {
                let (onoff, idle, interval, count) = c.keepalive;
                Ok(line(qicfg::TcpKaliveLine {
                    kalive_onoff: onoff,
                    kalive_idle: int(idle)?,
                    kalive_interval: int(interval)?,
                    kalive_cnt: int(count)?,
                }))
            },
        ),
        AnyCommand::QicfgTcpTwCycle(w) => configure(
            state,
            w.tw_enable,
            |c, v| c.tw_cycle = v,
            |c| {
                Ok(line(qicfg::TcpTwCycleLine {
                    tw_enable: c.tw_cycle,
                }))
            },
        ),
        AnyCommand::QicfgUdpBroadcast(w) => configure(
            state,
            w.udp_broadcast,
            |c, v| c.udp_broadcast = v,
            |c| {
                Ok(line(qicfg::UdpBroadcastLine {
                    udp_broadcast: c.udp_broadcast,
                }))
            },
        ),
        _ => return None,
    };
    Some(outcome.unwrap_or_else(|code| {
        set_error(state, code);
        Reply::error()
    }))
}

/// Records the result code for `AT+QIGETERROR` (also for the SSL group).
pub fn set_error(state: &mut State, code: TcpipCode) {
    state.tcpip.last_error = (code.code(), code.description().to_string());
}

/// `ERROR` with `code` recorded (for continuations, which build their reply themselves).
fn failed(state: &mut State, code: TcpipCode) -> Reply {
    set_error(state, code);
    Reply::error()
}

/// A value for a generated line; the state only holds values that fit.
fn int<const MIN: i64, const MAX: i64>(v: i64) -> Result<Int<MIN, MAX>, TcpipCode> {
    Int::new(v).map_err(|_| TcpipCode::Unknown)
}

/// `AT+QIGETERROR`: the last result code (0 before any TCP/IP command).
fn geterror(state: &State) -> Reply {
    let (code, description) = &state.tcpip.last_error;
    let err = TcpipCode::from_code(*code);
    let errcode_description = if description.is_empty() {
        err.description().to_string()
    } else {
        description.clone()
    };
    Reply::lines(vec![line(qigeterror::ExecuteLine {
        err,
        errcode_description,
    })])
}

/// An `AT+QICFG` sub-command: stores `value` with `set` when given, else
/// reports the setting with `query`.
fn configure<V>(
    state: &mut State,
    value: Option<V>,
    set: impl FnOnce(&mut Config, V),
    query: impl FnOnce(&Config) -> Result<String, TcpipCode>,
) -> Outcome {
    match value {
        Some(v) => {
            set(&mut state.tcpip.config, v);
            Ok(Reply::ok())
        }
        None => Ok(Reply::lines(vec![query(&state.tcpip.config)?])),
    }
}

// ------------------------------------------------------------------ QIOPEN

/// `OK`, then `+QIOPEN: <id>,<err>` right after it; `err` is recorded.
fn deferred(state: &mut State, id: Int<0, 11>, err: TcpipCode) -> Reply {
    set_error(state, err);
    Reply::ok().with_urc(
        OPEN_DELAY,
        line(Qiopen {
            connect_id: id,
            err,
        }),
    )
}

/// Whether `interface` is up in `wifi`.
fn interface_up(wifi: &Wifi, interface: &Interface) -> bool {
    match interface {
        Interface::Station(ssid) => wifi.station.as_ref() == Some(ssid),
        Interface::Ap => wifi.soft_ap.is_some(),
    }
}

/// The module's own address on `interface`.
fn own_address(state: &State, world: &World, interface: &Interface) -> Ipv4Addr {
    let text = match interface {
        Interface::Station(ssid) => match &state.wifi.station_static {
            Some(s) => Some(s[0].clone()),
            None => world
                .access_points
                .iter()
                .find(|a| &a.ssid == ssid)
                .map(|a| a.ip.clone()),
        },
        Interface::Ap => Some(match &state.wifi.ap_static {
            Some(s) => s[0].clone(),
            None => "192.168.4.1".into(),
        }),
    };
    text.and_then(|t| t.parse().ok())
        .unwrap_or(Ipv4Addr::UNSPECIFIED)
}

/// Where the simulator really sends traffic for `ip:port`: the module's
/// own address to its own listener or UDP service with that port (none:
/// refused), a loopback address to the host's port, an endpoint of the
/// world to its service (an external one where the world says so); `None`
/// for anything else (unreachable: no packet leaves the host for an
/// address the world does not serve).
pub fn route(
    ip: Ipv4Addr,
    port: u16,
    protocol: Protocol,
    own: Ipv4Addr,
    world: &World,
    net: &Net,
) -> Option<Route> {
    if ip == own {
        return net.own_port(protocol, port).map(Route::To);
    }
    if ip.is_loopback() {
        return Some(Route::To(SocketAddr::from((ip, port))));
    }
    net.services.address(world, ip, port, protocol)
}

/// The receive window of a peer of the world that stopped reading (see
/// [`crate::world::Service::receive_window`]), which it advertises when
/// the connection opens; `None` for every other peer. The module's own
/// address and loopback addresses come before the world's endpoints, as in
/// [`route`].
pub(crate) fn peer_window(ip: Ipv4Addr, port: u16, own: Ipv4Addr, world: &World) -> Option<usize> {
    if ip == own || ip.is_loopback() {
        return None;
    }
    world
        .endpoint(ip, port, Protocol::Tcp)?
        .service
        .receive_window()
}

/// The code of a failed bind.
fn bind_error(e: &io::Error) -> TcpipCode {
    if e.kind() == io::ErrorKind::AddrInUse {
        TcpipCode::PortBusy
    } else {
        TcpipCode::SocketBindFailed
    }
}

/// An IPv4 address and port of a socket address (IPv6 never occurs: every
/// socket is IPv4).
fn v4(addr: SocketAddr) -> (Ipv4Addr, u16) {
    match addr {
        SocketAddr::V4(a) => (*a.ip(), a.port()),
        SocketAddr::V6(a) => (
            a.ip().to_ipv4_mapped().unwrap_or(Ipv4Addr::UNSPECIFIED),
            a.port(),
        ),
    }
}

/// A failed open: `ERROR` at once for a transparent-mode open (which
/// answers only when the connection is made), else `OK` then
/// `+QIOPEN: <id>,<err>`.
fn open_failed(state: &mut State, id: Int<0, 11>, err: TcpipCode, transparent: bool) -> Outcome {
    if transparent {
        Err(err)
    } else {
        Ok(deferred(state, id, err))
    }
}

fn open(w: &qiopen::Write, state: &mut State, world: &World, net: &mut Net) -> Outcome {
    let id = w.connect_id;
    let (local_port, mode, ap) = match &w.local_port_group {
        Some(g) => (Some(g.local_port.get()), g.access_mode, g.ap_priority),
        None => (None, None, None),
    };
    let transparent = mode == Some(qiopen::AccessMode::Transparent);
    let server = matches!(
        w.service_type,
        qiopen::ServiceType::TcpListener | qiopen::ServiceType::UdpService
    );
    // The catalogue's rules: a listener or service needs a real local port
    // and cannot use transparent mode.
    if server && (local_port.is_none_or(|p| p < 1) || transparent) {
        return Err(TcpipCode::InvalidParameters);
    }
    let interface = if ap.is_some_and(|a| a.wire() == 1) {
        state.wifi.soft_ap.as_ref().map(|_| Interface::Ap)
    } else {
        state
            .wifi
            .station
            .clone()
            .filter(|_| state.wifi.has_ip(net.now))
            .map(Interface::Station)
    };
    let Some(interface) = interface else {
        return Err(TcpipCode::NotAllowed);
    };
    // SSL connections share the socket IDs.
    if state.tcpip.sockets.contains_key(&id.get()) || crate::groups::ssl::in_use(state, id.get()) {
        return open_failed(state, id, TcpipCode::SocketIdInUse, transparent);
    }
    let access_mode = match mode {
        Some(qiopen::AccessMode::DirectPush) => qistate::AccessMode::DirectPush,
        Some(qiopen::AccessMode::Transparent) => qistate::AccessMode::Transparent,
        _ => qistate::AccessMode::Buffer,
    };
    let own = own_address(state, world, &interface);
    let broadcast = state.tcpip.config.udp_broadcast == qicfg::Broadcast::On;
    let local_port = local_port.and_then(|p| u16::try_from(p).ok()).unwrap_or(0);
    let service = match w.service_type {
        qiopen::ServiceType::Tcp => qistate::ServiceType::Tcp,
        qiopen::ServiceType::Udp => qistate::ServiceType::Udp,
        qiopen::ServiceType::TcpListener => qistate::ServiceType::TcpListener,
        qiopen::ServiceType::UdpService => qistate::ServiceType::UdpService,
    };
    let mut socket = Socket::new(service, own, 0, id.get(), access_mode, interface);

    if server {
        // The module's port is its own: a free port of the host stands for
        // it, so that several simulators run side by side (see
        // `crate::services::PortLease`).
        let protocol = if service == qistate::ServiceType::TcpListener {
            Protocol::Tcp
        } else {
            Protocol::Udp
        };
        if net.own_port(protocol, local_port).is_some() {
            return Ok(deferred(state, id, TcpipCode::PortBusy));
        }
        let bound = if protocol == Protocol::Tcp {
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).and_then(|l| {
                l.set_nonblocking(true)?;
                let host = l.local_addr()?;
                Ok((
                    Link::Listener {
                        socket: l,
                        pending: VecDeque::new(),
                    },
                    host,
                ))
            })
        } else {
            UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).and_then(|u| {
                u.set_nonblocking(true)?;
                u.set_broadcast(broadcast)?;
                let host = u.local_addr()?;
                Ok((Link::Udp(u), host))
            })
        };
        return Ok(match bound {
            Ok((link, host)) => {
                net.ports
                    .insert(id.get(), net.services.lease(protocol, local_port, host));
                socket.local_port = local_port;
                socket.state = if service == qistate::ServiceType::TcpListener {
                    qistate::SocketState::Listening
                } else {
                    qistate::SocketState::Connected
                };
                state.tcpip.sockets.insert(id.get(), socket);
                net.sockets.insert(id.get(), link);
                deferred(state, id, TcpipCode::Success)
            }
            Err(e) => deferred(state, id, bind_error(&e)),
        });
    }

    // A client: find the peer in the simulated world.
    let remote_port = u16::try_from(w.remote_port.get()).unwrap_or(0);
    let target = match &w.ip_address_or_domain_name {
        qiopen::WriteIpAddressOrDomainName::IpAddress(ip) => Some(*ip),
        qiopen::WriteIpAddressOrDomainName::DomainName(host) => {
            network::resolve(host.as_str(), world).and_then(|a| a.first().copied())
        }
    };
    let Some(target) = target else {
        return open_failed(state, id, TcpipCode::DnsFailed, transparent);
    };
    let protocol = if service == qistate::ServiceType::Udp {
        Protocol::Udp
    } else {
        Protocol::Tcp
    };
    let Some(route) = route(target, remote_port, protocol, own, world, net) else {
        return open_failed(state, id, TcpipCode::SocketConnectFailed, transparent);
    };
    socket.ip = target;
    socket.remote_port = remote_port;
    if protocol == Protocol::Tcp {
        socket.peer_window = peer_window(target, remote_port, own, world);
    }
    let peer = match route {
        Route::To(peer) => peer,
        // A host that never answers: UDP sends into the void (a UDP socket
        // has no connect to fail), TCP waits for its time limit.
        Route::Silent if protocol == Protocol::Udp => {
            SocketAddr::from((Ipv4Addr::new(192, 0, 2, 255), remote_port))
        }
        Route::Silent if transparent => return Err(TcpipCode::Timeout),
        Route::Silent => {
            state.tcpip.sockets.insert(id.get(), socket);
            net.sockets.insert(
                id.get(),
                Link::Connecting(Pending::silent(net.now + CONNECT_TIMEOUT)),
            );
            return Ok(Reply::ok());
        }
    };

    if service == qistate::ServiceType::Udp {
        let bind_ip = if peer.ip().is_loopback() {
            Ipv4Addr::LOCALHOST
        } else {
            Ipv4Addr::UNSPECIFIED
        };
        // A free port of the host: the module's port is its own (see the
        // listeners), reported as given.
        let udp = match UdpSocket::bind((bind_ip, 0)) {
            Ok(u) => u,
            Err(e) => return open_failed(state, id, bind_error(&e), transparent),
        };
        let ready = udp
            .set_nonblocking(true)
            .and_then(|_| udp.set_broadcast(broadcast))
            .and_then(|_| udp.connect(peer))
            .and_then(|_| udp.local_addr());
        return match ready {
            Ok(local) => {
                socket.local_port = if local_port != 0 {
                    local_port
                } else {
                    local.port()
                };
                socket.state = qistate::SocketState::Connected;
                state.tcpip.sockets.insert(id.get(), socket);
                net.sockets.insert(id.get(), Link::Udp(udp));
                if transparent {
                    Ok(enter(state, net, id.get()))
                } else {
                    Ok(deferred(state, id, TcpipCode::Success))
                }
            }
            Err(_) => open_failed(state, id, TcpipCode::SocketConnectFailed, transparent),
        };
    }

    if transparent {
        // The module answers `CONNECT` or `ERROR` only once the connect
        // ended, so it connects before answering; on the loopback a connect
        // ends at once.
        let connected = TcpStream::connect_timeout(&peer, TRANSPARENT_CONNECT_TIMEOUT)
            .and_then(|s| {
                s.set_nonblocking(true)?;
                let _ = s.set_nodelay(true);
                let local = s.local_addr()?;
                Ok((s, local))
            })
            .map_err(|e| {
                if e.kind() == io::ErrorKind::TimedOut {
                    TcpipCode::Timeout
                } else {
                    TcpipCode::SocketConnectFailed
                }
            })?;
        let (stream, local) = connected;
        socket.local_port = local.port();
        socket.state = qistate::SocketState::Connected;
        state.tcpip.sockets.insert(id.get(), socket);
        net.sockets.insert(id.get(), Link::Tcp(stream));
        return Ok(enter(state, net, id.get()));
    }

    // TCP: connect on a helper thread; `poll` prints `+QIOPEN` when it ends
    // (or when the time limit passes on the module's clock).
    let spawned = crate::activity::helper(
        net.services.activity(),
        format!("qiopen-{}", id.get()),
        // A blocking connect: the module's clock ends one that takes too
        // long, and a peer that accepts and resets at once still connects
        // (a connect with a time limit reports that reset instead).
        move |_busy| TcpStream::connect(peer),
    );
    let Ok(rx) = spawned else {
        return Ok(deferred(state, id, TcpipCode::SocketCreateFailed));
    };
    state.tcpip.sockets.insert(id.get(), socket);
    net.sockets.insert(
        id.get(),
        Link::Connecting(Pending::helper(rx, peer, net.now + CONNECT_TIMEOUT)),
    );
    Ok(Reply::ok())
}

// ------------------------------------------------------------------ QICLOSE

/// Closes a live socket (TCP streams are shut down so the peer sees a FIN).
fn drop_link(link: Link) {
    match link {
        Link::Tcp(s) => {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
        Link::Listener { pending, .. } => {
            for (s, _) in pending {
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
        }
        Link::Connecting(_) | Link::Udp(_) => {}
    }
}

fn close(id: i64, state: &mut State, net: &mut Net) -> Outcome {
    if state.tcpip.sockets.remove(&id).is_none() {
        return Err(TcpipCode::InvalidParameters);
    }
    net.ports.remove(&id);
    if let Some(link) = net.sockets.remove(&id) {
        drop_link(link);
    }
    Ok(Reply::ok())
}

// ------------------------------------------------------------------ QISTATE

/// The fields of one `+QISTATE` line.
struct Row {
    connect_id: Int<0, 11>,
    service_type: qistate::ServiceType,
    ip_address: Ipv4Addr,
    remote_port: i64,
    local_port: i64,
    socket_state: qistate::SocketState,
    server_id: i64,
    access_mode: qistate::AccessMode,
}

fn row(id: i64, s: &Socket) -> Option<Row> {
    Some(Row {
        connect_id: Int::new(id).ok()?,
        service_type: s.service,
        ip_address: s.ip,
        remote_port: s.remote_port.into(),
        local_port: s.local_port.into(),
        socket_state: s.state,
        server_id: s.server_id,
        access_mode: s.access_mode,
    })
}

fn state_line(r: Row) -> qistate::ReadLine {
    qistate::ReadLine {
        connect_id: r.connect_id,
        service_type: r.service_type,
        ip_address: r.ip_address,
        remote_port: r.remote_port,
        local_port: r.local_port,
        socket_state: r.socket_state,
        server_id: r.server_id,
        access_mode: r.access_mode,
        at_port: qistate::AtPort::Uart1,
    }
}

fn execute_line(r: Row) -> qistate::ExecuteLine {
    qistate::ExecuteLine {
        connect_id: r.connect_id,
        service_type: r.service_type,
        ip_address: r.ip_address,
        remote_port: r.remote_port,
        local_port: r.local_port,
        socket_state: r.socket_state,
        server_id: r.server_id,
        access_mode: r.access_mode,
        at_port: qistate::AtPort::Uart1,
    }
}

fn write_line(r: Row) -> qistate::WriteLine {
    qistate::WriteLine {
        connect_id: r.connect_id,
        service_type: r.service_type,
        ip_address: r.ip_address,
        remote_port: r.remote_port,
        local_port: r.local_port,
        socket_state: r.socket_state,
        server_id: r.server_id,
        access_mode: r.access_mode,
        at_port: qistate::AtPort::Uart1,
    }
}

// ------------------------------------------------------------------ QISEND

/// A handle on the socket a payload goes to (a clone of the live socket,
/// so the continuation can write without the [`Net`]).
enum Out {
    Tcp(TcpStream),
    Udp(UdpSocket),
}

/// Checks that `id` can send, and whether it is a UDP service.
fn sendable(id: i64, state: &State) -> Result<bool, TcpipCode> {
    let s = state
        .tcpip
        .sockets
        .get(&id)
        .ok_or(TcpipCode::InvalidParameters)?;
    if s.service == qistate::ServiceType::TcpListener {
        return Err(TcpipCode::NotSupported);
    }
    match s.state {
        qistate::SocketState::Connected => Ok(s.service == qistate::ServiceType::UdpService),
        qistate::SocketState::Closing => Err(TcpipCode::SocketClosed),
        _ => Err(TcpipCode::NotAllowed),
    }
}

/// Where a UDP service's datagram to `to` really goes through the
/// simulated network (see [`route`]); `None`: nowhere (it is lost, as a
/// datagram to a host nobody runs is).
fn service_route(
    id: i64,
    to: SocketAddrV4,
    state: &State,
    world: &World,
    net: &Net,
) -> Option<SocketAddr> {
    let s = state.tcpip.sockets.get(&id)?;
    let own = own_address(state, world, &s.interface);
    match route(*to.ip(), to.port(), Protocol::Udp, own, world, net)? {
        Route::To(addr) => Some(addr),
        Route::Silent => None,
    }
}

/// A UDP service's destination: as the host gave it, and where it really
/// goes (see [`service_route`]).
type Destination = (SocketAddrV4, Option<SocketAddr>);

/// `AT+QISEND=<id>[,<len>[,<ip>,<port>]]`: the `>` prompt, then the payload.
fn send(
    id: i64,
    length: Option<i64>,
    to: Option<Destination>,
    state: &mut State,
    net: &mut Net,
) -> Outcome {
    let service = sendable(id, state)?;
    // A UDP service sends to the address given with each payload; the
    // others to their peer only.
    if service != to.is_some() {
        return Err(TcpipCode::InvalidParameters);
    }
    let out = match net.sockets.get(&id) {
        Some(Link::Tcp(s)) => s.try_clone().map(Out::Tcp),
        Some(Link::Udp(s)) => s.try_clone().map(Out::Udp),
        _ => return Err(TcpipCode::SocketClosed),
    }
    .map_err(|_| TcpipCode::SocketCreateFailed)?;
    let length = match length {
        Some(n) => Some(usize::try_from(n).map_err(|_| TcpipCode::InvalidParameters)?),
        None => None,
    };
    let request = DataRequest {
        greater_prompt: true,
        length,
        ctrl_z: length.is_none(),
        timeout: None,
        then: Box::new(move |state: &mut State, payload: Payload| {
            deliver(state, id, out, to, payload)
        }),
    };
    Ok(Reply {
        phase: Some(request),
        ..Reply::result(Final::Nothing)
    })
}

/// Writes as much of `data` as the non-blocking stream takes now.
fn write_some(stream: &mut TcpStream, data: &[u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < data.len() {
        match stream.write(data.get(done..).unwrap_or_default()) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Writes as much of `data` as the peer's receive window and the
/// non-blocking stream take now; the window shrinks by what went out.
fn transmit(stream: &mut TcpStream, socket: &mut Socket, data: &[u8]) -> io::Result<usize> {
    let allowed = socket.peer_window.map_or(data.len(), |w| w.min(data.len()));
    let n = write_some(stream, data.get(..allowed).unwrap_or_default())?;
    if let Some(w) = socket.peer_window.as_mut() {
        *w = w.saturating_sub(n);
    }
    Ok(n)
}

/// The payload of `AT+QISEND`, sent.
fn deliver(
    state: &mut State,
    id: i64,
    out: Out,
    to: Option<Destination>,
    payload: Payload,
) -> Reply {
    let data = match payload {
        Payload::Cancelled => return failed(state, TcpipCode::SendCancelled),
        Payload::Data(d) => d,
    };
    let data = if state.tcpip.config.send_format == qicfg::SendDataFormat::Hex {
        match from_hex(&data) {
            Some(d) => d,
            None => return failed(state, TcpipCode::InvalidParameters),
        }
    } else {
        data
    };
    if data.is_empty() || data.len() > MAX_SEND {
        return failed(state, TcpipCode::InvalidParameters);
    }
    let Some(socket) = state.tcpip.sockets.get_mut(&id) else {
        return failed(state, TcpipCode::SocketClosed);
    };
    if socket.state != qistate::SocketState::Connected {
        return failed(state, TcpipCode::SocketClosed);
    }
    let len = data.len() as u64;
    match out {
        Out::Tcp(mut stream) => {
            if socket.unsent.len() + data.len() > TX_BUFFER {
                set_error(state, TcpipCode::Busy);
                return Reply::result(Final::SendFail);
            }
            // Keep the order: while older bytes wait, new ones queue behind.
            let written = if socket.unsent.is_empty() {
                match transmit(&mut stream, socket, &data) {
                    Ok(n) => n,
                    Err(_) => return failed(state, TcpipCode::SocketWriteFailed),
                }
            } else {
                0
            };
            socket
                .unsent
                .extend_from_slice(data.get(written..).unwrap_or_default());
            socket.sent += len;
        }
        Out::Udp(udp) => {
            if let Some((shown, Some(real))) = to {
                socket.remember(real, (*shown.ip(), shown.port()));
            }
            let attempt = || match to {
                Some((_, Some(addr))) => udp.send_to(&data, addr),
                // Nobody runs that host: the datagram is lost on the way.
                Some((_, None)) => Ok(data.len()),
                None => udp.send(&data),
            };
            // A refusal reported here belongs to an earlier datagram (an
            // ICMP "port unreachable"); reading it clears it.
            let sent = match attempt() {
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => attempt(),
                r => r,
            };
            match sent {
                Ok(_) => socket.sent += len,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    set_error(state, TcpipCode::Busy);
                    return Reply::result(Final::SendFail);
                }
                Err(_) => return failed(state, TcpipCode::SocketWriteFailed),
            }
        }
    }
    set_error(state, TcpipCode::Success);
    Reply::result(Final::SendOk)
}

/// `AT+QISEND=<id>,0`.
fn send_totals(id: i64, state: &State) -> Outcome {
    let s = state
        .tcpip
        .sockets
        .get(&id)
        .ok_or(TcpipCode::InvalidParameters)?;
    if s.service == qistate::ServiceType::TcpListener {
        return Err(TcpipCode::NotSupported);
    }
    let total = i64::try_from(s.sent).unwrap_or(i64::MAX);
    let unacked = i64::try_from(s.unsent.len()).unwrap_or(i64::MAX);
    Ok(Reply::lines(vec![line(
        fcm242d::generated::commands::qisend::WriteConnectId0Line {
            total_send_length: total,
            ackedbytes: total.saturating_sub(unacked),
            unackedbytes: unacked,
        },
    )]))
}

// ------------------------------------------------------------------ QIRD

/// Takes up to `max` bytes of received data: across TCP segments, or from
/// the first UDP datagram only (a datagram's rest stays for the next read).
fn take(socket: &mut Socket, max: usize) -> Option<Chunk> {
    let udp = socket.is_udp();
    let first = socket.rx.front_mut()?;
    let from = first.from;
    let mut data = Vec::new();
    while data.len() < max {
        let Some(chunk) = socket.rx.front_mut() else {
            break;
        };
        let n = (max - data.len()).min(chunk.data.len());
        data.extend(chunk.data.drain(..n));
        if chunk.data.is_empty() {
            socket.rx.pop_front();
        }
        if udp {
            break;
        }
    }
    socket.retrieved += data.len() as u64;
    if socket.rx.is_empty() {
        socket.notified = false;
    }
    Some(Chunk { from, data })
}

/// Received bytes as the host gets them (`AT+QICFG="dataformat"`).
fn shown(config: &Config, data: Vec<u8>) -> Vec<u8> {
    if config.recv_format == qicfg::RecvDataFormat::Hex {
        to_hex(&data).into_bytes()
    } else {
        data
    }
}

/// `AT+QIRD=<id>[,<read_length>]`.
fn read(id: i64, limit: Option<i64>, state: &mut State) -> Outcome {
    let config = state.tcpip.config.clone();
    let s = state
        .tcpip
        .sockets
        .get_mut(&id)
        .ok_or(TcpipCode::InvalidParameters)?;
    if s.service == qistate::ServiceType::TcpListener {
        return Err(TcpipCode::NotSupported);
    }
    if s.access_mode != qistate::AccessMode::Buffer {
        return Err(TcpipCode::NotAllowed);
    }
    let max = limit
        .and_then(|l| usize::try_from(l).ok())
        .unwrap_or(MAX_READ);
    let service = s.service == qistate::ServiceType::UdpService;
    let Some(chunk) = take(s, max) else {
        return Ok(Reply::lines(vec![if service {
            line(qird::WriteConnectIdNoDataLine {})
        } else {
            line(qird::WriteConnectIdReadLengthNoDataLine {})
        }]));
    };
    let data = shown(&config, chunk.data);
    let read_actual_length = i64::try_from(data.len()).unwrap_or(i64::MAX);
    let head = if service {
        line(qird::WriteConnectIdDataLine {
            read_actual_length,
            remote_ip: chunk.from.0,
            remote_port: chunk.from.1.into(),
        })
    } else {
        line(qird::WriteConnectIdReadLengthDataLine { read_actual_length })
    };
    Ok(Reply {
        data: Some(data),
        ..Reply::lines(vec![head])
    })
}

/// `AT+QIRD=<id>,0`.
fn read_totals(id: i64, state: &State) -> Outcome {
    let s = state
        .tcpip
        .sockets
        .get(&id)
        .ok_or(TcpipCode::InvalidParameters)?;
    if s.service == qistate::ServiceType::TcpListener {
        return Err(TcpipCode::NotSupported);
    }
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    Ok(Reply::lines(vec![line(qird::WriteConnectId0Line {
        total_receive_length: count(s.received),
        have_read_length: count(s.retrieved),
        unread_length: count(s.buffered() as u64),
    })]))
}

// ------------------------------------------------------------------ QIACCEPT

/// The lowest `<connectID>` no socket service uses.
fn free_id(state: &State) -> Option<i64> {
    (0..MAX_SOCKETS)
        .find(|id| !state.tcpip.sockets.contains_key(id) && !crate::groups::ssl::in_use(state, *id))
}

/// Takes the connections waiting in a listener's OS backlog, as many as
/// `room` allows.
fn take_backlog(listener: &TcpListener, room: usize) -> Vec<(TcpStream, SocketAddr)> {
    let mut got = Vec::new();
    while got.len() < room {
        match listener.accept() {
            Ok((s, a)) => {
                let _ = s.set_nodelay(true);
                if s.set_nonblocking(true).is_ok() {
                    got.push((s, a));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    got
}

/// Registers an accepted connection as `"TCP INCOMING"` `id` of `server`.
fn adopt(
    state: &mut State,
    net: &mut Net,
    id: i64,
    server: i64,
    stream: TcpStream,
    peer: SocketAddr,
) -> Option<(Ipv4Addr, u16)> {
    let listener = state.tcpip.sockets.get(&server)?;
    let (mut ip, port) = v4(peer);
    // A connection from one of the module's own sockets (to its own
    // address) comes from the module's own address.
    let own = net
        .sockets
        .values()
        .any(|l| matches!(l, Link::Tcp(s) if s.local_addr().ok() == Some(peer)));
    if own {
        ip = listener.ip;
    }
    let mut s = Socket::new(
        qistate::ServiceType::TcpIncoming,
        ip,
        port,
        server,
        listener.access_mode,
        listener.interface.clone(),
    );
    s.local_port = listener.local_port;
    s.state = qistate::SocketState::Connected;
    state.tcpip.sockets.insert(id, s);
    net.sockets.insert(id, Link::Tcp(stream));
    Some((ip, port))
}

/// `AT+QIACCEPT=<listener_socketID>,<accept>[,<incoming_socketID>]`.
fn accept(w: &qiaccept::Write, state: &mut State, net: &mut Net) -> Outcome {
    let server = w.listener_socket_id.get();
    let listening = state.tcpip.sockets.get(&server).is_some_and(|s| {
        s.service == qistate::ServiceType::TcpListener && s.state == qistate::SocketState::Listening
    });
    if !listening {
        return Err(TcpipCode::InvalidParameters);
    }
    let Some(Link::Listener { socket, pending }) = net.sockets.get_mut(&server) else {
        return Err(TcpipCode::InvalidParameters);
    };
    if pending.is_empty() {
        pending.extend(take_backlog(socket, 1));
    }
    if pending.is_empty() {
        return Err(TcpipCode::NotAllowed);
    }
    if w.accept == qiaccept::Accept::Reject {
        if let Some((s, _)) = pending.pop_front() {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
        return Ok(Reply::ok());
    }
    let id = match w.incoming_socket_id {
        Some(id)
            if state.tcpip.sockets.contains_key(&id.get())
                || crate::groups::ssl::in_use(state, id.get()) =>
        {
            return Err(TcpipCode::SocketIdInUse)
        }
        Some(id) => id.get(),
        None => free_id(state).ok_or(TcpipCode::SocketAcceptFailed)?,
    };
    let Some((stream, peer)) = pending.pop_front() else {
        return Err(TcpipCode::NotAllowed);
    };
    let (ip, port) = adopt(state, net, id, server, stream, peer).ok_or(TcpipCode::Unknown)?;
    Ok(Reply::lines(vec![line(qiaccept::WriteLine {
        incoming_socket_id: int(id)?,
        remote_addr: ip,
        remote_port: port.into(),
    })]))
}

// ------------------------------------------------------------------ QISWTMD

fn switch_mode(w: &qiswtmd::Write, state: &mut State, net: &mut Net) -> Outcome {
    let id = w.connect_id.get();
    let s = state
        .tcpip
        .sockets
        .get_mut(&w.connect_id.get())
        .ok_or(TcpipCode::InvalidParameters)?;
    if matches!(
        s.service,
        qistate::ServiceType::TcpListener | qistate::ServiceType::UdpService
    ) {
        return Err(TcpipCode::NotSupported);
    }
    s.access_mode = match w.access_mode {
        qiswtmd::AccessMode::Buffer => qistate::AccessMode::Buffer,
        qiswtmd::AccessMode::DirectPush => qistate::AccessMode::DirectPush,
        qiswtmd::AccessMode::Transparent => {
            match s.state {
                qistate::SocketState::Connected => {}
                qistate::SocketState::Closing => return Err(TcpipCode::SocketClosed),
                _ => return Err(TcpipCode::NotAllowed),
            }
            if !matches!(net.sockets.get(&id), Some(Link::Tcp(_) | Link::Udp(_))) {
                return Err(TcpipCode::SocketClosed);
            }
            s.access_mode = qistate::AccessMode::Transparent;
            s.notified = false;
            return Ok(enter(state, net, id));
        }
    };
    s.notified = false;
    Ok(Reply::ok())
}

// ------------------------------------------------------------------ transparent mode

/// `CONNECT`: the UART goes into transparent mode with socket `id`.
fn enter(state: &mut State, net: &mut Net, id: i64) -> Reply {
    set_error(state, TcpipCode::Success);
    net.transparent = Some(Channel::Socket(id));
    net.last_transparent = Some(Channel::Socket(id));
    Reply::result(Final::Connect)
}

/// Whether `id` is a connected socket in transparent access mode.
fn transparent_live(state: &State, net: &Net, id: i64) -> bool {
    state.tcpip.sockets.get(&id).is_some_and(|s| {
        s.state == qistate::SocketState::Connected
            && s.access_mode == qistate::AccessMode::Transparent
    }) && matches!(net.sockets.get(&id), Some(Link::Tcp(_) | Link::Udp(_)))
}

/// `ATO`: back into transparent mode with the socket that was last in it,
/// if it is still connected (and was not switched to another mode).
fn resume(state: &State, net: &mut Net) -> Reply {
    match net.last_transparent {
        Some(Channel::Socket(id)) if transparent_live(state, net, id) => {
            net.transparent = Some(Channel::Socket(id));
            Reply::result(Final::Connect)
        }
        Some(Channel::Ssl(id)) if crate::groups::ssl::transparent_live(state, net, id) => {
            net.transparent = Some(Channel::Ssl(id));
            Reply::result(Final::Connect)
        }
        Some(Channel::Ble) if crate::groups::ble::transparent_live(state, net) => {
            net.transparent = Some(Channel::Ble);
            Reply::result(Final::Connect)
        }
        _ => Reply::result(Final::NoCarrier),
    }
}

/// In transparent mode: bytes from the host, sent to the peer as they are.
/// What the OS cannot take at once waits (up to [`TX_BUFFER`] bytes; more
/// is lost, as on a module whose host ignores flow control) and [`poll`]
/// writes it. A UDP socket sends each call's bytes as datagrams of at most
/// [`MAX_SEND`] bytes.
pub fn transparent_send(state: &mut State, net: &mut Net, data: &[u8]) {
    let Some(Channel::Socket(id)) = net.transparent else {
        return;
    };
    let (Some(link), Some(socket)) = (net.sockets.get_mut(&id), state.tcpip.sockets.get_mut(&id))
    else {
        return;
    };
    if data.is_empty() || socket.state != qistate::SocketState::Connected {
        return;
    }
    match link {
        Link::Tcp(stream) => {
            // Keep the order: while older bytes wait, new ones queue behind.
            // A write error shows again when `poll` reads or flushes.
            let written = if socket.unsent.is_empty() {
                transmit(stream, socket, data).unwrap_or(0)
            } else {
                0
            };
            let rest = data.get(written..).unwrap_or_default();
            let room = TX_BUFFER.saturating_sub(socket.unsent.len());
            let kept = rest.len().min(room);
            socket
                .unsent
                .extend_from_slice(rest.get(..kept).unwrap_or_default());
            socket.sent += (written + kept) as u64;
        }
        Link::Udp(udp) => {
            for datagram in data.chunks(MAX_SEND) {
                // A refusal reported here belongs to an earlier datagram.
                let sent = match udp.send(datagram) {
                    Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => udp.send(datagram),
                    r => r,
                };
                if sent.is_ok() {
                    socket.sent += datagram.len() as u64;
                }
            }
        }
        Link::Connecting(_) | Link::Listener { .. } => {}
    }
}

/// Appends what ends transparent mode when its connection is lost.
fn no_carrier(out: &mut Vec<u8>, net: &mut Net) {
    net.transparent = None;
    out.extend_from_slice(b"\r\nNO CARRIER\r\n");
}

// ------------------------------------------------------------------ hex

fn to_hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02X}")).collect()
}

fn from_hex(text: &[u8]) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(s, 16).ok()
        })
        .collect()
}

// ------------------------------------------------------------------ poll

/// Appends a URC line.
fn urc(out: &mut Vec<u8>, text: &str) {
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(text.as_bytes());
    out.extend_from_slice(b"\r\n");
}

/// Appends a URC line and the data block it announces.
fn urc_with_data(out: &mut Vec<u8>, text: &str, data: &[u8]) {
    urc(out, text);
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

fn connect_id(id: i64) -> Option<Int<0, 11>> {
    Int::new(id).ok()
}

/// What one socket's read found.
#[derive(Default)]
struct Reading {
    chunks: Vec<Chunk>,
    closed: bool,
}

/// Reads what a connected socket has, without blocking.
fn read_link(link: &mut Link, peer: (Ipv4Addr, u16), room: usize) -> Reading {
    let mut r = Reading::default();
    let mut budget = room.min(READ_PER_POLL);
    let mut buf = [0u8; PUSH_CHUNK];
    match link {
        Link::Tcp(stream) => {
            while budget > 0 {
                let want = budget.min(buf.len());
                match stream.read(buf.get_mut(..want).unwrap_or_default()) {
                    Ok(0) => {
                        r.closed = true;
                        break;
                    }
                    Ok(n) => {
                        budget = budget.saturating_sub(n);
                        r.chunks.push(Chunk {
                            from: peer,
                            data: buf.get(..n).unwrap_or_default().to_vec(),
                        });
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(_) => {
                        r.closed = true;
                        break;
                    }
                }
            }
        }
        Link::Udp(udp) => {
            // A datagram longer than the buffer is cut, as on a module
            // whose buffers hold one MSS.
            let mut errors = 0;
            while budget > 0 && errors < 4 {
                match udp.recv_from(&mut buf) {
                    Ok((n, from)) => {
                        budget = budget.saturating_sub(n.max(1));
                        r.chunks.push(Chunk {
                            from: v4(from),
                            data: buf.get(..n).unwrap_or_default().to_vec(),
                        });
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    // ICMP errors of earlier datagrams: UDP has no connection to lose.
                    Err(_) => errors += 1,
                }
            }
        }
        Link::Connecting(_) | Link::Listener { .. } => {}
    }
    r
}

/// Writes bytes that waited for the OS; `false` when the connection broke.
fn flush(link: &mut Link, socket: &mut Socket) -> bool {
    if socket.unsent.is_empty() {
        return true;
    }
    let Link::Tcp(stream) = link else {
        socket.unsent.clear();
        return true;
    };
    let unsent = std::mem::take(&mut socket.unsent);
    let written = transmit(stream, socket, &unsent);
    socket.unsent = unsent;
    match written {
        Ok(n) => {
            socket.unsent.drain(..n.min(socket.unsent.len()));
            true
        }
        Err(_) => false,
    }
}

/// Output caused by the network since the last call (URCs such as
/// `+QIURC: "recv"`, direct-push data), written to the UART as it is.
pub fn poll(state: &mut State, net: &mut Net, now: Instant) -> Vec<u8> {
    let mut out = Vec::new();
    if state.tcpip.sockets.is_empty() && net.sockets.is_empty() {
        net.ports.clear();
        return out;
    }
    drop_orphans(state, net);
    interfaces(state, net, &mut out);
    let ids: Vec<i64> = net.sockets.keys().copied().collect();
    for id in ids {
        let Some(cid) = connect_id(id) else { continue };
        // While the UART is in transparent mode it belongs to one socket:
        // the others wait (their data in the OS) until command mode.
        if net.transparent.is_some_and(|t| t != Channel::Socket(id)) {
            continue;
        }
        let raw = net.transparent == Some(Channel::Socket(id));
        let listening = matches!(net.sockets.get(&id), Some(Link::Listener { .. }));
        if listening {
            listen(id, state, net, &mut out);
            continue;
        }
        if !connecting(id, cid, state, net, now, &mut out) {
            continue;
        }
        let config = state.tcpip.config.clone();
        let (Some(link), Some(socket)) =
            (net.sockets.get_mut(&id), state.tcpip.sockets.get_mut(&id))
        else {
            continue;
        };
        let mut broken = !flush(link, socket);
        let push = socket.access_mode == qistate::AccessMode::DirectPush;
        let room = if push || raw {
            READ_PER_POLL
        } else {
            RX_BUFFER.saturating_sub(socket.buffered())
        };
        let reading = read_link(link, (socket.ip, socket.remote_port), room);
        broken |= reading.closed;
        for mut chunk in reading.chunks {
            socket.received += chunk.data.len() as u64;
            if socket.is_udp() {
                chunk.from = socket.sender(chunk.from);
            }
            socket.rx.push_back(chunk);
        }
        if raw {
            // Transparent mode: the peer's bytes go to the UART as they are.
            while let Some(chunk) = socket.rx.pop_front() {
                socket.retrieved += chunk.data.len() as u64;
                out.extend_from_slice(&chunk.data);
            }
        } else if push {
            while let Some(chunk) = socket.rx.pop_front() {
                socket.retrieved += chunk.data.len() as u64;
                let data = shown(&config, chunk.data);
                let current_recvlength = i64::try_from(data.len()).unwrap_or(i64::MAX);
                let text = if socket.service == qistate::ServiceType::UdpService {
                    line(QiurcRecvDirectPushUdpService {
                        connect_id: cid,
                        current_recvlength,
                        remote_ip: chunk.from.0,
                        remote_port: chunk.from.1.into(),
                        data: Vec::new(),
                    })
                } else {
                    line(QiurcRecvDirectPush {
                        connect_id: cid,
                        current_recvlength,
                        data: Vec::new(),
                    })
                };
                urc_with_data(&mut out, &text, &data);
            }
        } else if socket.access_mode == qistate::AccessMode::Buffer
            && !socket.rx.is_empty()
            && !socket.notified
        {
            socket.notified = true;
            urc(&mut out, &line(QiurcRecvBuffer { connect_id: cid }));
        }
        if broken && !socket.is_udp() {
            socket.state = qistate::SocketState::Closing;
            socket.unsent.clear();
            if let Some(link) = net.sockets.remove(&id) {
                drop_link(link);
            }
            if raw {
                no_carrier(&mut out, net);
            } else {
                urc(&mut out, &line(QiurcClosed { connect_id: cid }));
            }
            if config.passive_closed == qicfg::Enable::Enable {
                state.tcpip.sockets.remove(&id);
            }
        }
    }
    out
}

/// Drops live sockets whose service no longer exists (never expected:
/// every path removes both together), so no socket leaks.
fn drop_orphans(state: &State, net: &mut Net) {
    let Net { ports, sockets, .. } = net;
    ports.retain(|id, _| sockets.contains_key(id));
    let orphans: Vec<i64> = net
        .sockets
        .keys()
        .filter(|id| !state.tcpip.sockets.contains_key(id))
        .copied()
        .collect();
    for id in orphans {
        if let Some(link) = net.sockets.remove(&id) {
            drop_link(link);
        }
    }
}

/// Closes the sockets whose interface went down.
fn interfaces(state: &mut State, net: &mut Net, out: &mut Vec<u8>) {
    let wifi = &state.wifi;
    let down: Vec<i64> = state
        .tcpip
        .sockets
        .iter()
        .filter(|(_, s)| {
            s.state != qistate::SocketState::Closing && !interface_up(wifi, &s.interface)
        })
        .map(|(id, _)| *id)
        .collect();
    for id in down {
        let Some(cid) = connect_id(id) else { continue };
        if let Some(link) = net.sockets.remove(&id) {
            drop_link(link);
        }
        let opening = state
            .tcpip
            .sockets
            .get(&id)
            .is_some_and(|s| s.state == qistate::SocketState::Opening);
        if opening {
            state.tcpip.sockets.remove(&id);
            set_error(state, TcpipCode::SocketConnectFailed);
            urc(
                out,
                &line(Qiopen {
                    connect_id: cid,
                    err: TcpipCode::SocketConnectFailed,
                }),
            );
        } else if let Some(s) = state.tcpip.sockets.get_mut(&id) {
            s.state = qistate::SocketState::Closing;
            s.unsent.clear();
            if net.transparent == Some(Channel::Socket(id)) {
                no_carrier(out, net);
            } else {
                urc(out, &line(QiurcClosed { connect_id: cid }));
            }
        }
    }
}

/// Completes a pending connect; `true` when `id` is (now) a connected link.
fn connecting(
    id: i64,
    cid: Int<0, 11>,
    state: &mut State,
    net: &mut Net,
    now: Instant,
    out: &mut Vec<u8>,
) -> bool {
    let Some(Link::Connecting(pending)) = net.sockets.get(&id) else {
        return true;
    };
    let outcome = match pending.settle(now) {
        Settled::Waiting => return false,
        Settled::Done(r) => r,
        Settled::Lost => Err(io::ErrorKind::ConnectionAborted.into()),
        Settled::TimedOut => Err(io::ErrorKind::TimedOut.into()),
    };
    let connected = outcome.and_then(|s| {
        s.set_nonblocking(true)?;
        let _ = s.set_nodelay(true);
        let local = s.local_addr()?;
        Ok((s, local))
    });
    let err = match connected {
        Ok((stream, local)) => {
            net.sockets.insert(id, Link::Tcp(stream));
            if let Some(s) = state.tcpip.sockets.get_mut(&id) {
                s.local_port = local.port();
                s.state = qistate::SocketState::Connected;
            }
            TcpipCode::Success
        }
        Err(e) => {
            net.sockets.remove(&id);
            state.tcpip.sockets.remove(&id);
            if e.kind() == io::ErrorKind::TimedOut {
                TcpipCode::Timeout
            } else {
                TcpipCode::SocketConnectFailed
            }
        }
    };
    set_error(state, err);
    urc(
        out,
        &line(Qiopen {
            connect_id: cid,
            err,
        }),
    );
    err == TcpipCode::Success
}

/// Takes a listener's new connections: automatically (`"incoming"` URCs)
/// or into its waiting list for `AT+QIACCEPT`.
fn listen(server: i64, state: &mut State, net: &mut Net, out: &mut Vec<u8>) {
    let auto = state.tcpip.config.accept == qicfg::Enable::Enable;
    // A connection the module itself is still making to this listener is
    // taken once the module knows its own end (it then comes from the
    // module's own address).
    let host = match net.sockets.get(&server) {
        Some(Link::Listener { socket, .. }) => socket.local_addr().ok(),
        _ => None,
    };
    let making = net
        .sockets
        .values()
        .any(|l| matches!(l, Link::Connecting(p) if p.peer.is_some() && p.peer == host));
    if making {
        return;
    }
    let Some(Link::Listener { socket, pending }) = net.sockets.get_mut(&server) else {
        return;
    };
    let mut arrived: Vec<(TcpStream, SocketAddr)> = pending.drain(..).collect();
    let room = if auto {
        MAX_SOCKETS as usize + 1
    } else {
        MAX_PENDING.saturating_sub(arrived.len())
    };
    arrived.extend(take_backlog(socket, room));
    if !auto {
        pending.extend(arrived);
        return;
    }
    for (stream, peer) in arrived {
        let Some(id) = free_id(state) else {
            let _ = stream.shutdown(std::net::Shutdown::Both);
            urc(out, &line(QiurcIncomingFull {}));
            continue;
        };
        let (Some(cid), Some((ip, port))) =
            (connect_id(id), adopt(state, net, id, server, stream, peer))
        else {
            continue;
        };
        urc(
            out,
            &line(QiurcIncoming {
                connect_id: cid,
                server_id: server,
                remote_ip: ip,
                remote_port: port.into(),
            }),
        );
    }
}

/// When a connect's time limit passes (the only timer of the group).
pub fn next_wake(net: &Net) -> Option<Instant> {
    net.sockets
        .values()
        .filter_map(|l| match l {
            Link::Connecting(p) => Some(p.deadline),
            _ => None,
        })
        .min()
}

/// Whether a connect runs or accepted bytes wait to be written while the
/// peer's window is open: the module will print the outcome, or transmit.
pub fn in_flight(state: &State, net: &Net) -> bool {
    net.sockets
        .values()
        .any(|l| matches!(l, Link::Connecting(_)))
        || state.tcpip.sockets.values().any(Socket::can_transmit)
}

/// The group's sockets (for a host to wait on) and their peers (`None` for
/// listeners and services); connects under way give their peer alone.
pub fn sockets<'a>(net: &'a Net, out: &mut Vec<crate::net::Socket<'a>>) {
    use std::os::fd::AsFd;
    for link in net.sockets.values() {
        match link {
            Link::Tcp(s) => out.push(crate::net::Socket {
                fd: Some(s.as_fd()),
                peer: s.peer_addr().ok(),
                local: s.local_addr().ok(),
            }),
            Link::Udp(u) => out.push(crate::net::Socket {
                fd: Some(u.as_fd()),
                peer: u.peer_addr().ok(),
                local: u.local_addr().ok(),
            }),
            Link::Listener { socket, .. } => out.push(crate::net::Socket {
                fd: Some(socket.as_fd()),
                peer: None,
                local: socket.local_addr().ok(),
            }),
            Link::Connecting(p) => out.push(crate::net::Socket {
                fd: None,
                peer: p.peer,
                local: None,
            }),
        }
    }
}

/// Whether command `name` records its outcome for `AT+QIGETERROR`: the
/// TCP/UDP, SSL and network (DNS, PING, NTP) commands, except
/// `AT+QIGETERROR` itself. A line of theirs that the module cannot read
/// records 552 (Invalid parameters).
pub fn reports_errors(name: &str) -> bool {
    use fcm242d_codegen::model::Group;
    !name.eq_ignore_ascii_case("AT+QIGETERROR")
        && crate::catalog::catalog()
            .command(name)
            .is_some_and(|c| matches!(c.group, Some(Group::Tcpip | Group::Ssl | Group::Network)))
}
