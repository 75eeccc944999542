//! Servers that fail on purpose: the conditions the provocation scenarios
//! use (see [`crate::world::Service`] and [`crate::environment`]). Each
//! serves one connection (TLS, if any, already unwrapped).

use std::io::{self, Read, Write};
use std::os::fd::AsFd;

use nix::sys::socket::{setsockopt, sockopt};

use super::{activity_of, echo, socket_of, Conn};
use crate::mqtt::{decode, encode, ConnAck, ConnectReturnCode, Packet};

/// Sends `greeting` (if any) and closes the connection: its end of it at
/// once, then it waits for the peer's end, dropping what comes (a socket
/// closed with unread input would reset the connection, and a reset can
/// destroy what was sent before it).
pub fn close(mut conn: Box<dyn Conn>, greeting: Option<&str>) {
    if let Some(g) = greeting {
        let _ = conn.write_all(g.as_bytes()).and_then(|_| conn.flush());
    }
    if let Some(s) = socket_of(&*conn) {
        let _ = s.shutdown(std::net::Shutdown::Write);
        // Recorded while this thread is still busy: a client of the world
        // knows the close is on its way before the kernel delivers it.
        if let (Some(activity), Ok(peer)) = (activity_of(&*conn), s.peer_addr()) {
            activity.ended(peer);
        }
    }
    echo::stall(conn);
}

/// Resets the connection (the socket closes with a zero linger time, so
/// the peer gets a TCP RST).
pub fn reset(conn: Box<dyn Conn>) {
    if let Some(s) = socket_of(&*conn) {
        let linger = nix::libc::linger {
            l_onoff: 1,
            l_linger: 0,
        };
        let _ = setsockopt(&s.as_fd(), sockopt::Linger, &linger);
    }
    // Every handle of the socket closes when the handler ends.
}

/// Resets the connection once the client's first flight (its hello)
/// arrived: the handshake breaks off.
pub fn tls_reset(mut conn: Box<dyn Conn>) {
    let mut buf = [0u8; 4096];
    if matches!(conn.read(&mut buf), Ok(n) if n > 0) {
        reset(conn);
    }
}

/// The TLS record of a fatal `handshake_failure` alert (TLS 1.2 framing).
const HANDSHAKE_FAILURE: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28];

/// Answers the client's first flight (its hello) with a fatal
/// `handshake_failure` alert and closes.
pub fn tls_fail(mut conn: Box<dyn Conn>) {
    let mut buf = [0u8; 4096];
    match conn.read(&mut buf) {
        Ok(n) if n > 0 => {
            let _ = conn
                .write_all(&HANDSHAKE_FAILURE)
                .and_then(|_| conn.flush());
        }
        _ => return,
    }
    close(conn, None);
}

/// Sends `data`, then reads and drops until the peer closes.
pub fn garbage(mut conn: Box<dyn Conn>, data: &str) {
    if conn
        .write_all(data.as_bytes())
        .and_then(|_| conn.flush())
        .is_err()
    {
        return;
    }
    echo::stall(conn);
}

/// Reads until a whole MQTT packet came; `None` when the peer closed or
/// sent something that is not MQTT.
fn read_packet(conn: &mut Box<dyn Conn>) -> Option<Packet> {
    let mut rx = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match decode(&rx, 64 * 1024) {
            Ok(Some((packet, _))) => return Some(packet),
            Ok(None) => {}
            Err(_) => return None,
        }
        match conn.read(&mut buf) {
            Ok(0) => return None,
            Ok(n) => rx.extend_from_slice(buf.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}

fn connack(conn: &mut Box<dyn Conn>, code: ConnectReturnCode) -> bool {
    let Ok(bytes) = encode(&Packet::ConnAck(ConnAck {
        session_present: false,
        code,
    })) else {
        return false;
    };
    conn.write_all(&bytes).and_then(|_| conn.flush()).is_ok()
}

/// The CONNACK return code of `code` (1–5; anything else: 5).
fn refusal(code: u8) -> ConnectReturnCode {
    match code {
        1 => ConnectReturnCode::UnacceptableProtocolVersion,
        2 => ConnectReturnCode::IdentifierRejected,
        3 => ConnectReturnCode::ServerUnavailable,
        4 => ConnectReturnCode::BadUserNameOrPassword,
        _ => ConnectReturnCode::NotAuthorized,
    }
}

/// Refuses CONNECT with return `code`, then closes (MQTT 3.1.1, 3.2.2.3).
pub fn mqtt_refuse(mut conn: Box<dyn Conn>, code: u8) {
    if let Some(Packet::Connect(_)) = read_packet(&mut conn) {
        connack(&mut conn, refusal(code));
    }
    close(conn, None);
}

/// Accepts CONNECT, then answers nothing.
pub fn mqtt_mute(mut conn: Box<dyn Conn>) {
    match read_packet(&mut conn) {
        Some(Packet::Connect(_)) if connack(&mut conn, ConnectReturnCode::Accepted) => {
            echo::stall(conn)
        }
        _ => close(conn, None),
    }
}

/// Closes the connection when CONNECT arrives, without CONNACK.
pub fn mqtt_hang_up(mut conn: Box<dyn Conn>) {
    let _ = read_packet(&mut conn);
    close(conn, None);
}
