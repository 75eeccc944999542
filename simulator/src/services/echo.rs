//! Echo servers: TCP (optionally greeting first) and UDP.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::Arc;
use std::thread;

use super::Conn;
use crate::activity::{udp_recv, Activity};

/// Sends `greeting`, then echoes every byte until the peer closes. With
/// `once`, only the bytes of the first read are echoed (the first message
/// a client sends, when it sends one at a time); later bytes are read and
/// dropped, so the connection stays open until the peer closes it.
pub fn handle(mut conn: Box<dyn Conn>, greeting: Option<&str>, once: bool) {
    if let Some(g) = greeting {
        if conn
            .write_all(g.as_bytes())
            .and_then(|_| conn.flush())
            .is_err()
        {
            return;
        }
    }
    let mut answered = false;
    let mut buf = [0u8; 16 * 1024];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
            Ok(_) if once && answered => {}
            Ok(n) => {
                answered = true;
                if conn
                    .write_all(buf.get(..n).unwrap_or_default())
                    .and_then(|_| conn.flush())
                    .is_err()
                {
                    return;
                }
            }
        }
    }
}

/// Reads and drops everything until the peer closes: a server that never
/// answers.
pub fn stall(mut conn: Box<dyn Conn>) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// Starts a UDP echo server on the loopback, in the world of `activity`;
/// it stops once `stopped` says so (after its next datagram).
pub fn start_udp(
    activity: Arc<Activity>,
    stopped: Arc<dyn Fn() -> bool + Send + Sync>,
) -> io::Result<SocketAddr> {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    let addr = socket.local_addr()?;
    // A datagram not yet read is work for the world, from the start.
    let watch = activity.watch(&socket);
    let mut busy = activity.busy();
    thread::Builder::new()
        .name(format!("sim-udp-echo-{}", addr.port()))
        .spawn(move || {
            let _watch = watch;
            let mut buf = [0u8; 65_536];
            while let Ok((n, from)) = udp_recv(&socket, &mut busy, &mut buf) {
                if stopped() {
                    return;
                }
                let _ = socket.send_to(&buf[..n], from);
                activity.changed();
            }
        })?;
    Ok(addr)
}
