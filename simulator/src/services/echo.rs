//! Echo servers: TCP (optionally greeting first) and UDP.

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::thread;

use super::Conn;

/// Sends `greeting`, then echoes every byte until the peer closes.
pub fn handle(mut conn: Box<dyn Conn>, greeting: Option<&str>) {
    if let Some(g) = greeting {
        if conn
            .write_all(g.as_bytes())
            .and_then(|_| conn.flush())
            .is_err()
        {
            return;
        }
    }
    let mut buf = [0u8; 16 * 1024];
    loop {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if conn
                    .write_all(&buf[..n])
                    .and_then(|_| conn.flush())
                    .is_err()
                {
                    return;
                }
            }
        }
    }
}

/// Starts a UDP echo server on the loopback.
pub fn start_udp() -> io::Result<SocketAddr> {
    let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
    let addr = socket.local_addr()?;
    thread::Builder::new()
        .name(format!("sim-udp-echo-{}", addr.port()))
        .spawn(move || {
            let mut buf = [0u8; 65_536];
            while let Ok((n, from)) = socket.recv_from(&mut buf) {
                let _ = socket.send_to(&buf[..n], from);
            }
        })?;
    Ok(addr)
}
