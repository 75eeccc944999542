//! A blocking [`Transport`] (the simulator in this process, a TCP port, a
//! serial port) as an `embedded-io-async` link for the async client on
//! tokio. The crate's async client wants `embedded_io_async::Read + Write`;
//! its docs show a `tokio::net::TcpStream`, which this crate's own examples
//! cannot use (its tokio dev-dependency has no `net`), and the in-process
//! simulator is a blocking transport. So the bytes cross an in-memory
//! duplex pipe, carried by two threads.

use std::sync::mpsc;
use std::time::Duration;

use embedded_io_adapters::tokio_1::FromTokio;
use fcm242d::transport::Transport;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::runtime::Handle;

/// How long the carrier waits for the module before it looks for host bytes.
const TURN: Duration = Duration::from_millis(2);

/// The host's end of a link to `link`; the carrying threads end when the
/// host's end is dropped (or the transport closes).
pub fn bridge(mut link: impl Transport + 'static) -> FromTokio<DuplexStream> {
    let handle = Handle::current();
    let (host, far) = tokio::io::duplex(4096);
    let (mut from_host, mut to_host) = tokio::io::split(far);
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let reader = handle.clone();
    // Host → module: whatever the client writes.
    std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        while let Ok(n @ 1..) = reader.block_on(from_host.read(&mut buf)) {
            if tx.send(buf[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    // Module → host, and the host's bytes handed to the module in turn (a
    // transport is used from one thread).
    std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        loop {
            loop {
                match rx.try_recv() {
                    Ok(bytes) if link.write_all(&bytes).is_ok() => {}
                    Err(mpsc::TryRecvError::Empty) => break,
                    _ => return,
                }
            }
            match link.read(&mut buf, TURN) {
                Ok(0) => {}
                Ok(n) if handle.block_on(to_host.write_all(&buf[..n])).is_ok() => {}
                _ => return,
            }
        }
    });
    FromTokio::new(host)
}
