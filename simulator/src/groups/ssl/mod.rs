//! The SSL group: six SSL contexts (`AT+QSSLCFG`) and SSL client
//! connections over real TLS to the simulated network (`AT+QSSLOPEN`,
//! `AT+QSSLSEND`, `AT+QSSLRECV`, `AT+QSSLCLOSE`, `AT+QSSLSTATE`, the URCs
//! `+QSSLOPEN`, `+QSSLURC: "recv"` and `+QSSLURC: "closed"`).
//!
//! # Model
//!
//! The plain-data part of each connection (addresses, state, access mode,
//! receive buffer, counters, bytes waiting to be sent) is a [`Connection`]
//! in `state.ssl.connections`; its TLS session is a [`Link`] in
//! [`Net`]`::ssl` (a [`TlsClient`] from [`crate::services::tls`], over a
//! non-blocking socket). [`poll`] completes opens, writes what waits,
//! reads what arrived and prints the URCs. How each `AT+QSSLCFG` setting
//! acts on a connection, and how the simulator maps the module's TLS
//! versions and cipher suites onto what rustls has, is described in
//! [`crate::services::tls`].
//!
//! - `AT+QSSLCFG`: every sub-command sets a context's value, or with the
//!   key and `<SSL_ctxID>` alone answers `+QSSLCFG: "<key>",<SSL_ctxID>,<value(s)>`
//!   (errata SSL-2). Nothing is checked when a value is set (a certificate
//!   file may be written after it is named); the configuration is used when
//!   a connection opens. Not saved: a reboot restores the defaults of
//!   [`SslContext`].
//! - `<connectID>` is a "Socket ID. Range: 0--11" (manual, `AT+QSSLOPEN`):
//!   SSL connections and the TCP/UDP group's socket services **share** the
//!   twelve socket IDs. `AT+QSSLOPEN` on an ID a socket service uses gets
//!   `<err>` 561 (Socket identity has been used), and `AT+QIOPEN` on an ID an
//!   SSL connection uses gets the same.
//! - `AT+QSSLOPEN` needs the station to be joined to a network ("Before
//!   executing AT+QSSLOPEN, execute AT+QSTAAPINFO"); without it: `ERROR`
//!   (569). Access modes 0 and 1: `OK`, then `+QSSLOPEN: <id>,<err>` once
//!   the TCP connect and the handshake ended (on a helper thread). Access
//!   mode 2: the module connects before answering (at most
//!   [`TRANSPARENT_CONNECT_TIMEOUT`]) and answers `CONNECT`, or `ERROR`.
//! - `<err>` (the manual's "TCP/UDP/SSL Result Codes"; it names no code for
//!   a TLS failure): 561 ID in use, 563 a name the hosts table does not
//!   list, 564 (Socket connect failed) for a refused or unreachable TCP
//!   connect **and for a failed handshake** (a server certificate the
//!   `"cacert"` does not vouch for, a client certificate the server
//!   refuses, no common cipher suite), 567 when the TCP connect
//!   ([`CONNECT_TIMEOUT`]) or the handshake (`"negotiatetime"`) takes too
//!   long, 552 (Invalid parameters) when the context cannot be used (no
//!   `"cacert"` with `seclevel` 1/2, a named certificate file missing from
//!   the UFS or unreadable, `"clientcert"` without `"clientkey"`).
//! - Buffer access mode (0): received data is kept (up to [`RX_BUFFER`]
//!   bytes; past that the module stops reading and TCP holds the rest back)
//!   and `+QSSLURC: "recv",<id>` is printed when data arrives while no such
//!   URC was printed since the buffer was last emptied. `AT+QSSLRECV=<id>,<len>`
//!   answers `+QSSLRECV: <n>` and the bytes, or `+QSSLRECV: 0` (TSF-R1); in
//!   the other access modes it answers `ERROR` (569). Direct push mode (1):
//!   `+QSSLURC: "recv",<id>,<len>` CR LF data, in blocks of at most
//!   [`PUSH_CHUNK`] bytes.
//! - `AT+QSSLSEND=<id>` (Ctrl+Z ends, Esc cancels: `ERROR`, 568) and
//!   `AT+QSSLSEND=<id>,<len>`: at most [`MAX_SEND`] bytes; an empty or longer
//!   payload gets `ERROR` (552). Accepted bytes join the connection's send
//!   queue ([`TX_BUFFER`] bytes; a payload that does not fit gets `SEND
//!   FAIL`, 566) and [`poll`] hands them to TLS, which runs right after the
//!   payload; TLS takes the next bytes once it has written what it holds,
//!   so a server that stops reading after the handshake
//!   ([`crate::world::Service::Unread`] with `tls`) fills the queue (errata
//!   COND-7). No connection: 552; still opening: 569; closed by the peer: 565.
//! - When the server ends the connection (or the station leaves its
//!   network): `+QSSLURC: "closed",<id>`, state "closing" (4); unread data
//!   can still be read, `AT+QSSLCLOSE` frees the ID.
//! - `AT+QSSLCLOSE=<id>[,<close_timeout>]` sends `close_notify` and closes
//!   at once (the timeout is never needed on the loopback); an ID with no
//!   SSL connection: `ERROR` (552).
//! - `AT+QSSLSTATE` / `AT+QSSLSTATE?`: one line per connection;
//!   `AT+QSSLSTATE=1,<id>` that connection (`ERROR`, 552, if none);
//!   `AT+QSSLSTATE=0,<n>` the connections of SSL context `<n>` (the manual
//!   calls the field `<connectID>` but says "query the connection state of
//!   the specified context", SSL-3; IDs above 5 match no context). `<IP_address>`
//!   is the server's address (a domain name resolved), `<serverID>` the
//!   connection's own ID (as in the manual's example, SSL-9),
//!   `<devname>` `"uart1"`.
//! - Transparent mode (access mode 2): `Net::transparent` names the
//!   connection; [`transparent_send`] queues and sends host bytes,
//!   [`poll`] writes the server's bytes raw and serves no other
//!   connection; a lost connection prints `NO CARRIER` (and the UART
//!   returns to command mode). `+++` leaves the mode with the connection
//!   open (its data waits, without URCs); `ATO` resumes it while it is
//!   connected ([`transparent_live`]).
//! - `AT+QIGETERROR` reports the last SSL command's result code too: every
//!   command of the group records 0 or the code of its failure (the
//!   `<err>` of a deferred `+QSSLOPEN` when it is printed).

mod config;
mod connection;
mod poll;

use std::collections::{BTreeMap, VecDeque};
use std::net::Ipv4Addr;
use std::time::Instant;

use fcm242d::generated::commands::{qsslcfg, qsslstate, AnyCommand};
use fcm242d::generated::results::TcpipCode;
use fcm242d::value::Int;

use crate::groups::tcpip;
use crate::net::Net;
use crate::reply::Reply;
use crate::services::tls::{ConnectError, TlsClient};
use crate::state::State;
use crate::world::World;

pub use connection::{transparent_live, transparent_send};

/// The number of SSL contexts (`<SSL_ctxID>` 0–5).
pub const CONTEXTS: usize = 6;
/// The longest payload of `AT+QSSLSEND` (bytes).
pub const MAX_SEND: usize = 1460;
/// Received bytes a connection keeps for `AT+QSSLRECV`; past this the
/// module stops reading (TCP flow control holds the rest at the server).
pub const RX_BUFFER: usize = 64 * 1024;
/// Accepted bytes a connection keeps while TLS cannot take them; a payload
/// that does not fit gets `SEND FAIL`. The module's sending buffer, the
/// same size as a socket service's (errata COND-7).
pub use tcpip::TX_BUFFER;
/// The largest block one direct-push URC carries.
pub const PUSH_CHUNK: usize = 1460;
/// How long a TCP connect may take before `+QSSLOPEN: <id>,567`.
pub use tcpip::CONNECT_TIMEOUT;
/// How long a transparent-mode open (TCP connect and handshake) may take
/// before `ERROR` (567): it blocks the UART; on the loopback it is quick.
pub use tcpip::TRANSPARENT_CONNECT_TIMEOUT;

/// One SSL context's `AT+QSSLCFG` settings. Defaults where the manual gives
/// none: `sslversion` 4 (All), `seclevel` 0, `ciphersuite` 0xFFFF (All),
/// `sni` 0, empty certificate paths and password, `ignorelocaltime` 0 (the
/// manual's MQTT example sets it to 1 explicitly), `session_cache` 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SslContext {
    /// `"sslversion"`.
    pub version: qsslcfg::ProtocolVersion,
    /// `"seclevel"`.
    pub seclevel: qsslcfg::SecurityLevel,
    /// `"ciphersuite"`.
    pub ciphersuite: qsslcfg::CipherSuites,
    /// `"negotiatetime"` (s, 10–300; default 300 per the manual).
    pub negotiate_time: i64,
    /// `"sni"`.
    pub sni: qsslcfg::Enable,
    /// `"cacert"`: a file name in the UFS (`state.saved.files`).
    pub cacert: String,
    /// `"clientcert"`: a file name in the UFS.
    pub clientcert: String,
    /// `"clientkey"`: a file name in the UFS.
    pub clientkey: String,
    /// `"clientkey"`'s `<key_pwd>`.
    pub key_pwd: String,
    /// `"ignorelocaltime"`.
    pub ignore_localtime: qsslcfg::IgnoreLtime,
    /// `"session_cache"`.
    pub session_cache: qsslcfg::Enable,
}

impl Default for SslContext {
    fn default() -> Self {
        SslContext {
            version: qsslcfg::ProtocolVersion::All,
            seclevel: qsslcfg::SecurityLevel::NoAuth,
            ciphersuite: qsslcfg::CipherSuites::All,
            negotiate_time: 300,
            sni: qsslcfg::Enable::Disable,
            cacert: String::new(),
            clientcert: String::new(),
            clientkey: String::new(),
            key_pwd: String::new(),
            ignore_localtime: qsslcfg::IgnoreLtime::Check,
            session_cache: qsslcfg::Enable::Disable,
        }
    }
}

/// One SSL connection, as `AT+QSSLSTATE` and the other commands see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The SSL context it was opened with.
    pub ctx_id: Int<0, 5>,
    /// The server's address.
    pub ip: Ipv4Addr,
    /// The server's port.
    pub remote_port: u16,
    /// The local port (0 while opening).
    pub local_port: u16,
    /// Opening, connected or closing.
    pub state: qsslstate::SocketState,
    /// Buffer access, direct push or transparent.
    pub access_mode: qsslstate::AccessMode,
    /// The station's network it was opened on (it closes when the station
    /// leaves it).
    pub network: String,
    /// Received bytes kept for `AT+QSSLRECV` (and, in transparent mode,
    /// for the UART).
    pub rx: VecDeque<u8>,
    /// Bytes received in total.
    pub received: u64,
    /// Bytes handed to the host.
    pub retrieved: u64,
    /// Whether `+QSSLURC: "recv",<id>` was printed since the buffer was last empty.
    pub notified: bool,
    /// Bytes accepted from the host in total.
    pub sent: u64,
    /// The sending buffer: accepted bytes TLS has not taken yet. TLS takes
    /// more only once it has written what it holds, so what the server has
    /// not taken stays here (errata COND-7).
    pub unsent: Vec<u8>,
    /// The receive window of a server that stops reading after the
    /// handshake (see [`crate::world::Service::Unread`]), given to the TLS
    /// session when it opens; `None` for a server that reads.
    pub peer_window: Option<usize>,
}

/// The group's state (part of [`State`]; rebuilt by a reboot).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SslState {
    /// The contexts, by `<SSL_ctxID>`.
    pub contexts: [SslContext; CONTEXTS],
    /// The connections, by `<connectID>` (0–11, shared with the socket services).
    pub connections: BTreeMap<i64, Connection>,
}

/// The live side of one connection.
#[derive(Debug)]
pub enum Link {
    /// The TCP connect and handshake run on a helper thread, which sends
    /// the outcome.
    Connecting(crate::net::Pending<Result<TlsClient, ConnectError>>),
    /// An established TLS session.
    Open(Box<TlsClient>),
}

/// The group's live network resources (part of [`Net`]; dropped by a reboot).
#[derive(Debug, Default)]
pub struct Live {
    /// The TLS session of each connection, by `<connectID>`. A connection the
    /// server closed keeps its [`Connection`] ("closing") but has no link.
    pub links: BTreeMap<i64, Link>,
}

/// The settings of SSL context `ctx_id` (0–5; any other id gets the
/// defaults, as a context no command can address). The MQTT and HTTP groups
/// build their TLS client with
/// `crate::services::tls::client_config(&state.saved.files, context(state, id))`.
pub fn context(state: &State, ctx_id: i64) -> &SslContext {
    static DEFAULT: std::sync::OnceLock<SslContext> = std::sync::OnceLock::new();
    usize::try_from(ctx_id)
        .ok()
        .and_then(|i| state.ssl.contexts.get(i))
        .unwrap_or_else(|| DEFAULT.get_or_init(SslContext::default))
}

/// Whether an SSL connection uses socket ID `id` (the TCP/UDP group must
/// not open a socket service on it).
pub fn in_use(state: &State, id: i64) -> bool {
    state.ssl.connections.contains_key(&id)
}

/// What a command of the group ends with: a reply, or `ERROR` with a code.
type Outcome = Result<Reply, TcpipCode>;

/// The group's answer, if `cmd` is one of its commands.
pub fn handle(cmd: &AnyCommand, state: &mut State, world: &World, net: &mut Net) -> Option<Reply> {
    let outcome = match cmd {
        AnyCommand::QsslopenWrite(w) => {
            tcpip::set_error(state, TcpipCode::Success);
            connection::open(w, state, world, net)
        }
        AnyCommand::QsslsendWriteConnectId(w) => {
            tcpip::set_error(state, TcpipCode::Success);
            connection::send(w.connect_id.get(), None, state)
        }
        AnyCommand::QsslsendWriteConnectIdSendLength(w) => {
            tcpip::set_error(state, TcpipCode::Success);
            let length = usize::try_from(w.send_length.get()).unwrap_or(0);
            connection::send(w.connect_id.get(), Some(length), state)
        }
        AnyCommand::QsslrecvWrite(w) => {
            tcpip::set_error(state, TcpipCode::Success);
            let max = usize::try_from(w.read_length.get()).unwrap_or(0);
            connection::recv(w.connect_id.get(), max, state)
        }
        AnyCommand::QsslcloseWrite(w) => {
            tcpip::set_error(state, TcpipCode::Success);
            connection::close(w.connect_id.get(), state, net)
        }
        AnyCommand::QsslstateRead(_) | AnyCommand::QsslstateExecute(_) => {
            tcpip::set_error(state, TcpipCode::Success);
            Ok(connection::states(state, cmd))
        }
        AnyCommand::QsslstateWrite(w) => {
            tcpip::set_error(state, TcpipCode::Success);
            connection::state_of(w, state)
        }
        _ => {
            let reply = config::handle(cmd, state)?;
            tcpip::set_error(state, TcpipCode::Success);
            reply
        }
    };
    Some(outcome.unwrap_or_else(|code| {
        tcpip::set_error(state, code);
        Reply::error()
    }))
}

/// What the network caused since the last call: `+QSSLOPEN` of opens that
/// ended, `+QSSLURC` URCs, pushed data, transparent-mode data, `NO CARRIER`.
pub fn poll(state: &mut State, net: &mut Net, _world: &World, now: Instant) -> Vec<u8> {
    poll::poll(state, net, now)
}

/// When an open's time limit passes (the only timer of the group).
pub fn next_wake(net: &Net) -> Option<Instant> {
    net.ssl
        .links
        .values()
        .filter_map(|l| match l {
            Link::Connecting(p) => Some(p.deadline),
            Link::Open(_) => None,
        })
        .min()
}

/// Whether an open runs, a handshake goes on or accepted bytes wait to be
/// written while the server's window is open (a closed one waits for
/// nothing the simulated world will do).
pub fn in_flight(state: &State, net: &Net) -> bool {
    net.ssl.links.values().any(|l| match l {
        Link::Connecting(_) => true,
        Link::Open(c) => c.is_handshaking(),
    }) || state.ssl.connections.iter().any(|(id, c)| {
        !c.unsent.is_empty()
            && match net.ssl.links.get(id) {
                Some(Link::Open(client)) => client.window_open(),
                _ => true,
            }
    })
}

/// The group's sockets and their peers (see [`crate::net::Socket`]).
pub fn sockets<'a>(net: &'a Net, out: &mut Vec<crate::net::Socket<'a>>) {
    use std::os::fd::AsFd;
    for link in net.ssl.links.values() {
        match link {
            Link::Open(c) => out.push(crate::net::Socket {
                fd: Some(c.socket().as_fd()),
                peer: c.peer_addr().ok(),
                local: c.local_addr().ok(),
            }),
            Link::Connecting(p) => out.push(crate::net::Socket {
                fd: None,
                peer: p.peer,
                local: None,
            }),
        }
    }
}
