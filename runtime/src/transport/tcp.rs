//! A TCP stream as the link: the simulator's TCP front end, a ser2net-style
//! serial-over-TCP bridge, or a module's transparent-mode socket.

use super::{closed, context, Deadline, Transport};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::string::String;
use std::time::Duration;

/// A [`Transport`] over a [`TcpStream`].
///
/// Reads wait with the socket's read timeout (or a non-blocking read for a
/// zero timeout); a timeout gives `Ok(0)`. The peer closing the connection
/// (orderly or by reset) gives [`io::ErrorKind::UnexpectedEof`]. Nagle's
/// algorithm is turned off so short commands leave at once.
///
/// ```no_run
/// use fcm242d::transport::{TcpTransport, Transport};
/// use std::time::Duration;
///
/// // e.g. `fcm242d-sim --tcp 127.0.0.1:5000`
/// let mut link = TcpTransport::connect("127.0.0.1:5000", Duration::from_secs(2))?;
/// link.write_all(b"AT\r\n")?;
/// let mut buf = [0u8; 256];
/// let n = link.read(&mut buf, Duration::from_millis(300))?;
/// println!("{} answered {:?}", link.describe(), &buf[..n]);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct TcpTransport {
    stream: TcpStream,
    name: String,
    /// The socket's non-blocking flag as last set by us (`None`: unknown).
    nonblocking: Option<bool>,
    /// The socket's read timeout as last set by us (`None`: unknown).
    read_timeout: Option<Duration>,
}

impl TcpTransport {
    /// Connects to `addr`, trying each address it resolves to in turn, each
    /// with at most `timeout` to complete the handshake.
    pub fn connect(addr: impl ToSocketAddrs, timeout: Duration) -> io::Result<TcpTransport> {
        let addrs: std::vec::Vec<SocketAddr> = addr
            .to_socket_addrs()
            .map_err(|e| context("tcp: cannot resolve address", e))?
            .collect();
        let mut last_err = None;
        for a in &addrs {
            match TcpStream::connect_timeout(a, timeout) {
                Ok(stream) => return Ok(TcpTransport::from_stream(stream)),
                Err(e) => last_err = Some(context(&std::format!("tcp:{a}: connect"), e)),
            }
        }
        Err(last_err.unwrap_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "tcp: address resolved to nothing",
            )
        }))
    }

    /// Wraps an already connected stream (e.g. one accepted by a listener).
    pub fn from_stream(stream: TcpStream) -> TcpTransport {
        // Best effort: a failure here only costs latency.
        let _ = stream.set_nodelay(true);
        let name = match stream.peer_addr() {
            Ok(peer) => std::format!("tcp:{peer}"),
            Err(_) => String::from("tcp:(unconnected)"),
        };
        TcpTransport {
            stream,
            name,
            nonblocking: None,
            read_timeout: None,
        }
    }

    /// The underlying stream (e.g. for its addresses, or to shut it down).
    ///
    /// The transport manages the socket's read timeout and blocking mode
    /// itself: changing them through this handle, or through a clone of it,
    /// may make a later read or write misbehave.
    pub fn stream(&self) -> &TcpStream {
        &self.stream
    }

    /// Sets how long a write may block before failing (`None`: forever, the
    /// default).
    pub fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.stream
            .set_write_timeout(timeout)
            .map_err(|e| context(&self.name, e))
    }

    fn set_nonblocking(&mut self, on: bool) -> io::Result<()> {
        if self.nonblocking != Some(on) {
            self.stream
                .set_nonblocking(on)
                .map_err(|e| context(&self.name, e))?;
            self.nonblocking = Some(on);
        }
        Ok(())
    }

    fn set_read_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        if self.read_timeout != Some(timeout) {
            // `timeout` is never zero here (std rejects a zero read timeout).
            self.stream
                .set_read_timeout(Some(timeout))
                .map_err(|e| context(&self.name, e))?;
            self.read_timeout = Some(timeout);
        }
        Ok(())
    }
}

impl Transport for TcpTransport {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.set_nonblocking(false)?;
        self.stream
            .write_all(bytes)
            .and_then(|()| self.stream.flush())
            .map_err(|e| context(&self.name, e))
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let deadline = Deadline::after(timeout);
        let mut left = timeout;
        loop {
            if left.is_zero() {
                self.set_nonblocking(true)?;
            } else {
                self.set_nonblocking(false)?;
                self.set_read_timeout(left)?;
            }
            match self.stream.read(buf) {
                Ok(0) => return Err(closed(&self.name, "peer closed the connection")),
                Ok(n) => return Ok(n),
                Err(e) => match e.kind() {
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => return Ok(0),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
                        return Err(closed(&self.name, &std::format!("{e}")))
                    }
                    io::ErrorKind::Interrupted => match deadline.remaining() {
                        Some(rest) => left = rest,
                        None => return Ok(0),
                    },
                    _ => return Err(context(&self.name, e)),
                },
            }
        }
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}
