//! Byte links to a module (or to the simulator).
//!
//! A [`Transport`] moves raw bytes; it knows nothing about AT commands. The
//! blocking client drives the sans-IO engine over one of these:
//!
//! | Transport            | Link                                   | `describe()`                    |
//! |----------------------|----------------------------------------|---------------------------------|
//! | [`SerialTransport`]  | a serial port (USB-UART, pseudo-tty)   | `serial:/dev/ttyUSB0@115200`    |
//! | [`TcpTransport`]     | a TCP stream (simulator, ser2net, …)   | `tcp:127.0.0.1:5000`            |
//! | [`ChildTransport`]   | a child process's stdin / stdout       | `child:fcm242d-sim --stdio`     |
//! | [`MemoryTransport`]  | an in-memory pipe pair (tests)         | `memory:a` / `memory:b`         |
//!
//! Errors are plain [`std::io::Error`]s whose messages name the link. Two
//! outcomes of [`Transport::read`] carry meaning for the client:
//!
//! - `Ok(0)`: nothing arrived within the timeout (try again later);
//! - `Err(e)` with `e.kind() == ErrorKind::UnexpectedEof`: the link is closed
//!   for good (peer hung up, child exited, device unplugged).
//!
//! Anything else is an I/O error the client may report or retry.
//!
//! ```
//! use fcm242d::transport::{MemoryTransport, Transport};
//! use std::time::Duration;
//!
//! fn ping(link: &mut dyn Transport) -> std::io::Result<Vec<u8>> {
//!     link.write_all(b"AT\r\n")?;
//!     let mut buf = [0u8; 64];
//!     let n = link.read(&mut buf, Duration::from_millis(100))?;
//!     Ok(buf[..n].to_vec())
//! }
//!
//! let (mut host, mut module) = MemoryTransport::pair();
//! module.write_all(b"\r\nOK\r\n").unwrap();
//! assert_eq!(ping(&mut host).unwrap(), b"\r\nOK\r\n");
//! ```

mod child;
mod memory;
#[cfg(feature = "serial")]
mod serial;
mod tcp;

pub use child::ChildTransport;
pub use memory::MemoryTransport;
#[cfg(feature = "serial")]
pub use serial::{available_ports, ParseTargetError, SerialTransport, DEFAULT_BAUD};
pub use tcp::TcpTransport;

use std::boxed::Box;
use std::io;
use std::string::String;
use std::time::{Duration, Instant};

/// Opens the link a target names, as the `describe()` column above writes
/// it: `tcp:HOST:PORT`, or `serial:PATH[@BAUD]` (`serial:` may be left out;
/// the baud rate defaults to [`DEFAULT_BAUD`]). What a program takes on its
/// command line to choose the module:
///
/// ```no_run
/// let link = fcm242d::transport::open("serial:/dev/ttyUSB0@115200")?;
/// let client = fcm242d::client::Client::new(link);
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg(feature = "serial")]
pub fn open(target: &str) -> io::Result<Box<dyn Transport>> {
    if let Some(addr) = target.strip_prefix("tcp:") {
        return Ok(Box::new(TcpTransport::connect(
            addr,
            Duration::from_secs(5),
        )?));
    }
    let (path, baud) = SerialTransport::parse_target(target)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    Ok(Box::new(SerialTransport::open(&path, baud)?))
}

/// A byte link to a module (or to the simulator).
pub trait Transport: Send {
    /// Writes all bytes (and flushes).
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()>;

    /// Reads whatever is available into `buf`, waiting at most `timeout` for
    /// the first byte.
    ///
    /// Returns `Ok(0)` when nothing arrived in time (or when `buf` is empty);
    /// `Err` of kind [`io::ErrorKind::UnexpectedEof`] when the link is closed
    /// for good.
    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize>;

    /// A short human-readable description (e.g.
    /// `"serial:/dev/ttyUSB0@115200"`, `"tcp:127.0.0.1:5000"`).
    fn describe(&self) -> String;
}

impl<T: Transport + ?Sized> Transport for Box<T> {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        (**self).write_all(bytes)
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        (**self).read(buf, timeout)
    }

    fn describe(&self) -> String {
        (**self).describe()
    }
}

impl<T: Transport + ?Sized> Transport for &mut T {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        (**self).write_all(bytes)
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        (**self).read(buf, timeout)
    }

    fn describe(&self) -> String {
        (**self).describe()
    }
}

/// A point in time after which a read gives up; `None` means "never"
/// (the timeout was too large to represent).
#[derive(Clone, Copy)]
pub(crate) struct Deadline(Option<Instant>);

impl Deadline {
    pub(crate) fn after(timeout: Duration) -> Self {
        Deadline(Instant::now().checked_add(timeout))
    }

    /// Time left, or `None` when the deadline has passed.
    pub(crate) fn remaining(&self) -> Option<Duration> {
        match self.0 {
            None => Some(Duration::MAX),
            Some(at) => {
                let now = Instant::now();
                if now >= at {
                    None
                } else {
                    Some(at - now)
                }
            }
        }
    }
}

/// An `UnexpectedEof` error naming the link.
pub(crate) fn closed(what: &str, detail: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::UnexpectedEof,
        std::format!("{what}: link closed ({detail})"),
    )
}

/// Prefixes an error's message with the link's description, keeping its kind.
pub(crate) fn context(what: &str, err: io::Error) -> io::Error {
    io::Error::new(err.kind(), std::format!("{what}: {err}"))
}
