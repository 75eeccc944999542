//! Live network resources of the module (sockets on the host's loopback).
//! They are not part of [`crate::state::State`], which is plain data that a
//! reboot rebuilds; a reboot drops them instead (closing every socket).

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::mpsc::Receiver;

/// The operating-system side of one socket service of the module. Every
/// socket here is non-blocking: the serve loop must never wait on the network.
#[derive(Debug)]
pub enum Link {
    /// A TCP client whose connect runs on a helper thread (a connect cannot
    /// be made non-blocking with `std` alone); the thread sends its outcome.
    Connecting(Receiver<io::Result<TcpStream>>),
    /// A connected TCP stream: a client, or a connection a listener accepted.
    Tcp(TcpStream),
    /// A UDP socket: connected to its peer (a client) or only bound (a service).
    Udp(UdpSocket),
    /// A TCP listener.
    Listener {
        /// The listening socket.
        socket: TcpListener,
        /// Connections taken from the socket that wait for `AT+QIACCEPT`
        /// (while automatic acceptance, `AT+QICFG="tcp/accept"`, is off).
        pending: VecDeque<(TcpStream, SocketAddr)>,
    },
}

/// What the UART carries in transparent mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// A TCP/UDP socket service (`<connectID>`).
    Socket(i64),
    /// An SSL connection (`<connectID>`).
    Ssl(i64),
    /// The BLE link (`AT+QBLETRANMODE`).
    Ble,
}

/// The module's sockets and other live links.
#[derive(Debug, Default)]
pub struct Net {
    /// The live socket of each open socket service, by `<connectID>`. A
    /// service whose peer closed it keeps its entry in the state (it is
    /// "closing") but has no link any more.
    pub sockets: BTreeMap<i64, Link>,
    /// The link the UART is in transparent mode with. A command that
    /// answers `CONNECT` sets it (the module then switches its UART); the
    /// owning group's `poll` clears it when the connection ends.
    pub transparent: Option<Channel>,
    /// The link that was last in transparent mode, for `ATO`.
    pub last_transparent: Option<Channel>,
    /// Live SSL connections.
    pub ssl: crate::groups::ssl::Live,
    /// Live MQTT clients.
    pub mqtt: crate::groups::mqtt::Live,
    /// The live HTTP(S) request.
    pub http: crate::groups::http::Live,
}
