//! Live network resources of the module (sockets on the host's loopback).
//! They are not part of [`crate::state::State`], which is plain data that a
//! reboot rebuilds; a reboot drops them instead (closing every socket).

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::Instant;

use crate::services::Services;
use crate::world::Protocol;

/// The operating-system side of one socket service of the module. Every
/// socket here is non-blocking: the serve loop must never wait on the network.
#[derive(Debug)]
pub enum Link {
    /// A TCP client whose connect runs on a helper thread (a connect cannot
    /// be made non-blocking with `std` alone); the thread sends its outcome.
    Connecting(Pending<io::Result<TcpStream>>),
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
#[derive(Debug)]
pub struct Net {
    /// The world's running services (where connects go, and whether the
    /// world is busy).
    pub services: Arc<Services>,
    /// The module's clock when the command being handled came (groups
    /// measure their time limits on it).
    pub now: Instant,
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
    /// The module's ports of its listeners and UDP services, by
    /// `<connectID>` (see [`crate::services::PortLease`]).
    pub ports: BTreeMap<i64, crate::services::PortLease>,
}

impl Net {
    /// No live link yet, in the world of `services`.
    pub fn new(services: Arc<Services>, now: Instant) -> Net {
        Net {
            services,
            now,
            sockets: BTreeMap::new(),
            transparent: None,
            last_transparent: None,
            ssl: Default::default(),
            mqtt: Default::default(),
            http: Default::default(),
            ports: BTreeMap::new(),
        }
    }
}

/// A connect in progress: on a helper thread, or towards a peer that never
/// answers (a silent address of the world), which only the time limit ends.
#[derive(Debug)]
pub struct Pending<T> {
    /// The helper's outcome; `None` for a peer that never answers.
    pub rx: Option<Receiver<T>>,
    /// Where it connects.
    pub peer: Option<SocketAddr>,
    /// When the module gives up, on its clock.
    pub deadline: Instant,
}

/// What became of a [`Pending`] connect.
#[derive(Debug)]
pub enum Settled<T> {
    /// Still under way.
    Waiting,
    /// The helper's outcome.
    Done(T),
    /// The helper is gone without an outcome (never expected).
    Lost,
    /// The time limit passed first.
    TimedOut,
}

impl<T> Pending<T> {
    /// A connect run by a helper thread (see [`crate::activity::helper`]).
    pub fn helper(rx: Receiver<T>, peer: SocketAddr, deadline: Instant) -> Pending<T> {
        Pending {
            rx: Some(rx),
            peer: Some(peer),
            deadline,
        }
    }

    /// A connect to a peer that never answers.
    pub fn silent(deadline: Instant) -> Pending<T> {
        Pending {
            rx: None,
            peer: None,
            deadline,
        }
    }

    /// Its state at `now`.
    pub fn settle(&self, now: Instant) -> Settled<T> {
        match self.rx.as_ref().map(|rx| rx.try_recv()) {
            Some(Ok(outcome)) => Settled::Done(outcome),
            Some(Err(std::sync::mpsc::TryRecvError::Disconnected)) => Settled::Lost,
            Some(Err(std::sync::mpsc::TryRecvError::Empty)) | None => {
                if now >= self.deadline {
                    Settled::TimedOut
                } else {
                    Settled::Waiting
                }
            }
        }
    }
}

/// One live socket of the module, as a host waiting for the module sees it.
#[derive(Debug)]
pub struct Socket<'a> {
    /// The socket, to wait for its input (`None` while a helper thread owns it).
    pub fd: Option<std::os::fd::BorrowedFd<'a>>,
    /// Its peer (`None` for a listener or an unconnected UDP service).
    pub peer: Option<SocketAddr>,
    /// Its own address on the host (`None` while a helper thread owns it).
    pub local: Option<SocketAddr>,
}

impl Default for Net {
    /// No live link, in the process's shared world, at the current time.
    fn default() -> Self {
        Net::new(Services::shared(), Instant::now())
    }
}

impl Net {
    /// Where the module's own listener or UDP service with `<local_port>`
    /// `port` really is (a connect to the module's own address goes there).
    pub fn own_port(&self, protocol: Protocol, port: u16) -> Option<SocketAddr> {
        self.ports
            .values()
            .find(|l| l.protocol == protocol && l.port == port)
            .map(|l| l.host)
    }
}
