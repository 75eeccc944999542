//! The operating-system side of an MQTT client: its connection (plain TCP
//! or TLS), never blocking the serve loop. A connect (and a TLS handshake)
//! runs on a helper thread that sends its outcome; the connected stream is
//! non-blocking.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::activity::Activity;
use crate::net::Pending;
use crate::services::tls::{ConnectError, Recv, TlsClient};

/// How long a TCP connect may take (the manual allows `AT+QMTOPEN` 120 s,
/// "determined by the network"; on the loopback a connect ends at once).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// A connected stream.
#[derive(Debug)]
pub enum Stream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS (`AT+QMTCFG="ssl",<idx>,1,<ctx>`).
    Tls(Box<TlsClient>),
}

/// What a read found.
pub enum Received {
    /// Bytes from the server.
    Data(Vec<u8>),
    /// Nothing now.
    Nothing,
    /// The server closed the connection, or it failed.
    Closed,
}

impl Stream {
    /// Up to `max` bytes, without blocking.
    pub fn recv(&mut self, max: usize) -> Received {
        match self {
            Stream::Plain(s) => {
                let mut buf = vec![0u8; max.clamp(1, 64 * 1024)];
                loop {
                    return match s.read(&mut buf) {
                        Ok(0) => Received::Closed,
                        Ok(n) => {
                            buf.truncate(n);
                            Received::Data(buf)
                        }
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Received::Nothing,
                        Err(_) => Received::Closed,
                    };
                }
            }
            Stream::Tls(t) => match t.recv(max) {
                Recv::Data(d) => Received::Data(d),
                Recv::WouldBlock => Received::Nothing,
                Recv::Closed | Recv::Failed(_) => Received::Closed,
            },
        }
    }

    /// Writes as much of `data` as the stream takes now; an error means the
    /// connection is broken.
    pub fn send(&mut self, data: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => {
                let mut done = 0;
                while done < data.len() {
                    match s.write(data.get(done..).unwrap_or_default()) {
                        Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                        Ok(n) => done += n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(done)
            }
            Stream::Tls(t) => {
                t.flush()?;
                t.send(data)
            }
        }
    }

    /// Whether bytes the stream took still wait for the socket (TLS records).
    pub fn pending(&mut self) -> io::Result<bool> {
        match self {
            Stream::Plain(_) => Ok(false),
            Stream::Tls(t) => {
                t.flush()?;
                Ok(t.has_pending_output())
            }
        }
    }

    /// The TCP stream under the connection.
    pub fn socket(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(t) => t.socket(),
        }
    }

    /// Closes the connection (the peer sees the end at once).
    pub fn close(&mut self) {
        match self {
            Stream::Plain(s) => {
                // Unread bytes at close make the OS reset the connection,
                // and a reset can destroy what was just written (a
                // DISCONNECT): read them first.
                let mut buf = [0u8; 4096];
                for _ in 0..64 {
                    match s.read(&mut buf) {
                        Ok(n) if n > 0 => {}
                        _ => break,
                    }
                }
                let _ = s.shutdown(Shutdown::Both);
            }
            Stream::Tls(t) => t.close(),
        }
    }
}

/// How a connect ended.
pub type Connected = Result<Stream, ConnectFailure>;

/// Why a connect failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectFailure {
    /// Refused, unreachable, timed out, or the TLS handshake failed.
    Network,
}

/// TLS parameters of a connect.
pub struct TlsSetup {
    /// The client configuration of the SSL context.
    pub config: Arc<rustls::ClientConfig>,
    /// The name the certificate must carry (the host the command named).
    pub host: String,
    /// How long the handshake may take (the context's `negotiatetime`).
    pub handshake_timeout: Duration,
}

/// Starts connecting to `peer` on a helper thread of the world of
/// `activity`; the module gives up at `deadline` (its clock).
pub fn connect(
    peer: SocketAddr,
    tls: Option<TlsSetup>,
    activity: &Arc<Activity>,
    deadline: Instant,
) -> io::Result<Pending<Connected>> {
    let rx = crate::activity::helper(activity, "qmtopen".into(), move |busy| match tls {
        // A connect counts as work: to a server of the world it ends at
        // once, and a peer outside the world keeps the clock real anyway.
        None => TcpStream::connect(peer)
            .and_then(|s| {
                s.set_nonblocking(true)?;
                let _ = s.set_nodelay(true);
                Ok(Stream::Plain(s))
            })
            .map_err(|_| ConnectFailure::Network),
        Some(t) => TlsClient::connect_watched(
            peer,
            &t.host,
            t.config,
            // The module's clock ends a handshake that takes too long.
            t.handshake_timeout + Duration::from_secs(5),
            busy,
        )
        .map(|c| Stream::Tls(Box::new(c)))
        .map_err(|_: ConnectError| ConnectFailure::Network),
    })?;
    Ok(Pending::helper(rx, peer, deadline))
}

/// The time limit of a connect: the TCP connect's, and a TLS handshake's.
pub fn limit(tls: Option<&TlsSetup>) -> Duration {
    match tls {
        Some(t) => t.handshake_timeout.min(CONNECT_TIMEOUT),
        None => CONNECT_TIMEOUT,
    }
}
