//! A serial port as the link: the module's main UART behind a USB-UART
//! bridge, or a pseudo-terminal offered by the simulator.

use super::{closed, context, Deadline, Transport};
use serialport::SerialPort;
use std::boxed::Box;
use std::fmt;
use std::io;
use std::string::String;
use std::time::Duration;
use std::vec::Vec;

/// The module's factory UART rate (8N1, no flow control).
pub const DEFAULT_BAUD: u32 = 115_200;

/// How long one write may wait for room in the port's output buffer.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// A serial target string (`PATH[@BAUD]`) that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseTargetError {
    /// Nothing before the `@` (or an empty string).
    EmptyPath,
    /// The text after the last `@` is not a baud rate (a positive decimal
    /// number that fits in a `u32`).
    BadBaud {
        /// The whole target as given.
        target: String,
        /// The offending text after the `@`.
        baud: String,
    },
}

impl fmt::Display for ParseTargetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseTargetError::EmptyPath => {
                f.write_str("serial target has no device path (expected PATH[@BAUD])")
            }
            ParseTargetError::BadBaud { target, baud } => write!(
                f,
                "serial target {target:?}: {baud:?} is not a baud rate \
                 (expected PATH[@BAUD], e.g. /dev/ttyUSB0@115200)"
            ),
        }
    }
}

impl std::error::Error for ParseTargetError {}

impl From<ParseTargetError> for io::Error {
    fn from(e: ParseTargetError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidInput, e)
    }
}

/// A [`Transport`] over a serial port (8 data bits, no parity, 1 stop bit,
/// no flow control unless set otherwise through [`SerialTransport::port_mut`]).
///
/// A read timeout gives `Ok(0)`; the device hanging up (unplugged, or the
/// far side of a pseudo-terminal closed) gives
/// [`io::ErrorKind::UnexpectedEof`].
///
/// ```no_run
/// use fcm242d::transport::{SerialTransport, Transport};
/// use std::time::Duration;
///
/// let (path, baud) = SerialTransport::parse_target("/dev/ttyUSB0@115200")?;
/// let mut link = SerialTransport::open(&path, baud)?;
/// link.write_all(b"AT\r\n")?;
/// let mut buf = [0u8; 256];
/// let n = link.read(&mut buf, Duration::from_millis(300))?;
/// println!("{} answered {:?}", link.describe(), &buf[..n]);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct SerialTransport {
    port: Box<dyn SerialPort>,
    name: String,
    /// The port's timeout as last set by us.
    timeout: Duration,
}

impl SerialTransport {
    /// Opens the serial port at `path` (`/dev/ttyUSB0`, `COM3`, …) at `baud`.
    ///
    /// A missing device gives an error of kind
    /// [`io::ErrorKind::NotFound`]; the message names the port.
    pub fn open(path: &str, baud: u32) -> io::Result<SerialTransport> {
        let name = std::format!("serial:{path}@{baud}");
        let port = serialport::new(path, baud)
            .timeout(WRITE_TIMEOUT)
            .open()
            .map_err(|e| context(&std::format!("{name}: cannot open"), io::Error::from(e)))?;
        Ok(SerialTransport {
            port,
            name,
            timeout: WRITE_TIMEOUT,
        })
    }

    /// Parses `target` with [`SerialTransport::parse_target`] and opens it.
    pub fn open_target(target: &str) -> io::Result<SerialTransport> {
        let (path, baud) = SerialTransport::parse_target(target)?;
        SerialTransport::open(&path, baud)
    }

    /// Wraps a port opened by other means (e.g. with flow control, or a
    /// `TTYPort::pair()` in a test).
    pub fn from_port(port: Box<dyn SerialPort>) -> SerialTransport {
        let path = port.name().unwrap_or_else(|| String::from("?"));
        let name = match port.baud_rate() {
            Ok(baud) => std::format!("serial:{path}@{baud}"),
            Err(_) => std::format!("serial:{path}"),
        };
        let timeout = port.timeout();
        SerialTransport {
            port,
            name,
            timeout,
        }
    }

    /// Splits a target `PATH[@BAUD]` into the device path and the baud rate
    /// ([`DEFAULT_BAUD`] when absent). A leading `serial:` is accepted, so
    /// the output of [`Transport::describe`] parses back.
    ///
    /// The baud rate follows the *last* `@`; a path that itself contains
    /// an `@` must therefore be given with an explicit rate.
    ///
    /// ```
    /// use fcm242d::transport::{ParseTargetError, SerialTransport};
    ///
    /// assert_eq!(
    ///     SerialTransport::parse_target("/dev/ttyUSB0").unwrap(),
    ///     ("/dev/ttyUSB0".to_string(), 115_200)
    /// );
    /// assert_eq!(
    ///     SerialTransport::parse_target("COM3@921600").unwrap(),
    ///     ("COM3".to_string(), 921_600)
    /// );
    /// assert!(matches!(
    ///     SerialTransport::parse_target("/dev/ttyUSB0@fast"),
    ///     Err(ParseTargetError::BadBaud { .. })
    /// ));
    /// ```
    pub fn parse_target(target: &str) -> Result<(String, u32), ParseTargetError> {
        let spec = target.strip_prefix("serial:").unwrap_or(target);
        let (path, baud) = match spec.rsplit_once('@') {
            None => (spec, DEFAULT_BAUD),
            Some((path, text)) => {
                let bad = || ParseTargetError::BadBaud {
                    target: String::from(target),
                    baud: String::from(text),
                };
                if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                match text.parse::<u32>() {
                    Ok(0) | Err(_) => return Err(bad()),
                    Ok(baud) => (path, baud),
                }
            }
        };
        if path.is_empty() {
            return Err(ParseTargetError::EmptyPath);
        }
        Ok((String::from(path), baud))
    }

    /// The underlying port, e.g. to set flow control or the DTR / RTS lines.
    pub fn port_mut(&mut self) -> &mut dyn SerialPort {
        &mut *self.port
    }

    fn set_timeout(&mut self, timeout: Duration) -> io::Result<()> {
        if self.timeout != timeout {
            self.port
                .set_timeout(timeout)
                .map_err(|e| context(&self.name, io::Error::from(e)))?;
            self.timeout = timeout;
        }
        Ok(())
    }
}

impl Transport for SerialTransport {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.set_timeout(WRITE_TIMEOUT)?;
        self.port
            .write_all(bytes)
            .and_then(|()| self.port.flush())
            .map_err(|e| context(&self.name, e))
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let deadline = Deadline::after(timeout);
        let mut left = timeout;
        loop {
            self.set_timeout(left)?;
            match self.port.read(buf) {
                // The port was ready yet gave nothing: it hung up.
                Ok(0) => return Err(closed(&self.name, "device hung up")),
                Ok(n) => return Ok(n),
                Err(e) => match e.kind() {
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => return Ok(0),
                    io::ErrorKind::BrokenPipe => {
                        return Err(closed(&self.name, "device hung up"));
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

impl fmt::Debug for SerialTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SerialTransport")
            .field("name", &self.name)
            .finish()
    }
}

/// The names of the serial ports this machine offers (sorted), e.g.
/// `/dev/ttyUSB0` or `COM3`.
///
/// Built without libudev, so on Linux the list comes from `/sys/class/tty`
/// and may miss some ports; where listing is not possible at all the
/// result is an error, never a panic.
pub fn available_ports() -> io::Result<Vec<String>> {
    #[cfg(target_os = "linux")]
    if !std::path::Path::new("/sys/class/tty").is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            "cannot list serial ports: /sys/class/tty is missing",
        ));
    }
    let listed = std::panic::catch_unwind(serialport::available_ports)
        .map_err(|_| io::Error::other("cannot list serial ports: the port enumerator failed"))?;
    let ports = listed.map_err(|e| context("cannot list serial ports", io::Error::from(e)))?;
    let mut names: Vec<String> = ports.into_iter().map(|p| p.port_name).collect();
    names.sort();
    names.dedup();
    Ok(names)
}
