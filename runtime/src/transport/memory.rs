//! An in-memory pipe pair, for tests and for wiring the client to an
//! in-process simulator.

use super::{closed, Deadline, Transport};
use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::string::String;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// One direction of the link: bytes in flight plus a "closed" flag.
#[derive(Default)]
struct Pipe {
    state: Mutex<PipeState>,
    ready: Condvar,
}

#[derive(Default)]
struct PipeState {
    bytes: VecDeque<u8>,
    closed: bool,
}

impl Pipe {
    /// Locks the state; a poisoned lock is still usable (the state is a
    /// plain buffer and a flag, always consistent).
    fn lock(&self) -> MutexGuard<'_, PipeState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }
}

/// One end of an in-memory, bidirectional byte link.
///
/// [`MemoryTransport::pair`] makes two connected ends: bytes written to one
/// are read from the other, in order and intact. The buffers are unbounded,
/// so writes never block. Either end may be moved to another thread.
///
/// Closing the link ([`MemoryTransport::close`], or dropping either end)
/// closes both directions: reads on either end first drain what is
/// buffered and then fail with [`io::ErrorKind::UnexpectedEof`]; writes fail
/// with [`io::ErrorKind::BrokenPipe`].
///
/// ```
/// use fcm242d::transport::{MemoryTransport, Transport};
/// use std::time::Duration;
///
/// let (mut host, mut module) = MemoryTransport::pair();
/// host.write_all(b"AT\r\n").unwrap();
///
/// let mut buf = [0u8; 16];
/// let n = module.read(&mut buf, Duration::from_millis(10)).unwrap();
/// assert_eq!(&buf[..n], b"AT\r\n");
///
/// // Nothing more: the read times out with Ok(0).
/// assert_eq!(module.read(&mut buf, Duration::from_millis(10)).unwrap(), 0);
///
/// drop(host);
/// let err = module.read(&mut buf, Duration::from_millis(10)).unwrap_err();
/// assert_eq!(err.kind(), std::io::ErrorKind::UnexpectedEof);
/// ```
pub struct MemoryTransport {
    /// The pipe this end writes to (the peer reads it).
    tx: Arc<Pipe>,
    /// The pipe this end reads from (the peer writes it).
    rx: Arc<Pipe>,
    name: &'static str,
}

impl MemoryTransport {
    /// Two connected ends, described as `memory:a` and `memory:b`.
    pub fn pair() -> (MemoryTransport, MemoryTransport) {
        let a_to_b = Arc::new(Pipe::default());
        let b_to_a = Arc::new(Pipe::default());
        let a = MemoryTransport {
            tx: Arc::clone(&a_to_b),
            rx: Arc::clone(&b_to_a),
            name: "memory:a",
        };
        let b = MemoryTransport {
            tx: b_to_a,
            rx: a_to_b,
            name: "memory:b",
        };
        (a, b)
    }

    /// Closes the link in both directions, as if the peer had hung up.
    ///
    /// Bytes already written stay readable; once they are drained, reads on
    /// either end return [`io::ErrorKind::UnexpectedEof`]. Closing twice is
    /// harmless.
    pub fn close(&self) {
        self.tx.close();
        self.rx.close();
    }

    /// Whether the link has been closed (by either end).
    pub fn is_closed(&self) -> bool {
        self.tx.lock().closed || self.rx.lock().closed
    }
}

impl Transport for MemoryTransport {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut state = self.tx.lock();
        if state.closed {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                std::format!("{}: write on a closed link", self.name),
            ));
        }
        state.bytes.extend(bytes.iter().copied());
        drop(state);
        self.tx.ready.notify_all();
        Ok(())
    }

    fn read(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let deadline = Deadline::after(timeout);
        let mut state = self.rx.lock();
        loop {
            if !state.bytes.is_empty() {
                let n = buf.len().min(state.bytes.len());
                let (front, back) = state.bytes.as_slices();
                let from_front = n.min(front.len());
                buf[..from_front].copy_from_slice(&front[..from_front]);
                buf[from_front..n].copy_from_slice(&back[..n - from_front]);
                state.bytes.drain(..n);
                return Ok(n);
            }
            if state.closed {
                return Err(closed(self.name, "peer closed or dropped"));
            }
            let Some(left) = deadline.remaining() else {
                return Ok(0);
            };
            state = if left == Duration::MAX {
                self.rx
                    .ready
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner)
            } else {
                self.rx
                    .ready
                    .wait_timeout(state, left)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0
            };
        }
    }

    fn describe(&self) -> String {
        String::from(self.name)
    }
}

impl Drop for MemoryTransport {
    fn drop(&mut self) {
        self.close();
    }
}

impl fmt::Debug for MemoryTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryTransport")
            .field("name", &self.name)
            .field("closed", &self.is_closed())
            .finish()
    }
}
