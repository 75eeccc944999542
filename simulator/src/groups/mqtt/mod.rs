//! The MQTT group: six MQTT 3.1.1 clients (`<client_idx>` 0–5) speaking
//! real MQTT over real sockets (`AT+QMTCFG`, `AT+QMTOPEN`, `AT+QMTCLOSE`,
//! `AT+QMTCONN`, `AT+QMTDISC`, `AT+QMTSUB`, `AT+QMTUNS`, `AT+QMTPUB`,
//! `AT+QMTRECV`; URCs `+QMTSTAT` and `+QMTRECV`).
//!
//! # Model
//!
//! Each client's settings and protocol state (phase, packets waiting to be
//! written, packets waiting for their acknowledgement, received messages)
//! are plain data in [`MqttState`]; its connection is in [`Live`]. Commands
//! only change the state (a `SUBSCRIBE` to send, say); [`poll`] (called
//! right after every input and at least every 50 ms) completes connects,
//! writes and reads packets, runs the timers and prints the URCs. Nothing
//! blocks the serve loop: a connect (and TLS handshake) runs on a helper
//! thread, the connected socket is non-blocking. The packets are encoded
//! and decoded by [`crate::mqtt`].
//!
//! - `AT+QMTOPEN`: `OK`, then `+QMTOPEN: <idx>,<result>`: 0 once the TCP
//!   (or TLS) connection is up; 2 when the client is open already ("MQTT ID
//!   is occupied"); 4 for a name the world's hosts table does not list; 3
//!   ("Network error") when the connect is refused, times out or nothing
//!   listens at that address in the simulated world, or the TLS handshake
//!   fails; 1 ("Wrong parameter") when the client's SSL context cannot be
//!   built (a certificate file missing from the UFS, say); 5 ("Errors due to
//!   network disconnection") when the module has no IP interface (neither
//!   the station nor the soft AP is up). With `AT+QMTCFG="ssl",<idx>,1,<ctx>`
//!   the connection is TLS with SSL context `<ctx>` (`AT+QSSLCFG`). The
//!   network is the simulated world's (see [`crate::groups::tcpip::route`]).
//! - `AT+QMTCONN`: needs an open client that is not connected (else
//!   `ERROR`); sends CONNECT with the client's `"version"`, `"keepalive"`,
//!   `"session"` and `"will"` settings, and prints
//!   `+QMTCONN: <idx>,0,<retcode>` with the CONNACK's return code. No
//!   CONNACK within `<pkt_timeout>`: `+QMTCONN: <idx>,2`, then
//!   `+QMTSTAT: <idx>,4` and the connection is closed (CONNECT cannot be
//!   resent on a connection). A write failure: `+QMTCONN: <idx>,2`,
//!   `+QMTSTAT: <idx>,3`. A refused connection (return code 1–5) leaves the
//!   client open until the server closes the connection (`+QMTSTAT: <idx>,1`).
//! - `AT+QMTSUB` / `AT+QMTUNS` / `AT+QMTPUB`: need a connected client (else
//!   `ERROR`). The host's `<msgID>` is the packet identifier; it must not be
//!   in use by a packet that waits for its acknowledgement (`ERROR`). MQTT
//!   forbids packet identifier 0, so a SUBSCRIBE or UNSUBSCRIBE for
//!   `<msgID>` 0 goes out with the highest identifier not in use, and its
//!   URCs report `<msgID>` 0 (errata MQTT-19); a QoS 0 publication has no
//!   identifier, and QoS 1 and 2 need a non-zero `<msgID>` (errata RT-4). `+QMTSUB: <idx>,
//!   <msgID>,0,<granted QoS>[,<granted QoS>...]` (one per topic, as the
//!   manual's "vector"; 128 for a refused filter), `+QMTUNS: <idx>,<msgID>,0`,
//!   `+QMTPUB: <idx>,<msgID>,0` when the acknowledgement arrives (PUBACK;
//!   PUBCOMP for QoS 2), and for QoS 0 once the packet is handed to the
//!   network.
//! - `AT+QMTPUB` data phase: `>`, then `<length>` bytes (any byte values:
//!   the length ends the payload, Ctrl+Z and Esc are data), or without
//!   `<length>` up to Ctrl+Z (Esc cancels with `ERROR`; at most 2048 bytes,
//!   more is `ERROR`; an empty payload is allowed and removes a retained
//!   message). With `AT+QMTCFG="dataformat",<idx>,1,<recv>` the payload is
//!   hex text (two digits a byte; anything else is `ERROR`) and `<length>`
//!   counts the hex digits typed. At most 5 publications of QoS 1 or 2 may
//!   wait for their acknowledgement (the manual's inflight window); a sixth
//!   gets `ERROR`, as does any publication while more than
//!   [`commands::SEND_BUFFER`] bytes wait for a server that stopped reading.
//!   Bytes typed after `<length>` bytes are a new command line (the
//!   simulator cannot tell where the host meant the payload to end).
//! - Retransmission (`AT+QMTCFG="timeout",<idx>,<pkt_timeout>,<retry_times>,
//!   <timeout_notice>`): a SUBSCRIBE, UNSUBSCRIBE, PUBLISH (DUP set) or
//!   PUBREL without its acknowledgement after `<pkt_timeout>` is sent again,
//!   at most `<retry_times>` times; with `<timeout_notice>` 1 each
//!   retransmission is reported as `<result>` 1 with `<value>` the number of
//!   retransmissions so far (`+QMTPUB: 0,1,1,1`). When the last one is not
//!   acknowledged within `<pkt_timeout>` either, the command ends with
//!   `<result>` 2 and the client closes the connection (`+QMTSTAT: <idx>,6`).
//!   An acknowledgement after retransmissions ends the command with 0. So
//!   the command ends after at most (`<retry_times>` + 1) × `<pkt_timeout>`:
//!   the manual's maximum response time (`<pkt_timeout>` × `<retry_times>`)
//!   does not count the wait after the last retransmission.
//! - Keep-alive: with `"keepalive"` above 0 the client sends PINGREQ when it
//!   has sent nothing for that long; no PINGRESP within `<pkt_timeout>`:
//!   `+QMTSTAT: <idx>,2`, the connection is closed.
//! - `AT+QMTDISC`: sends DISCONNECT, closes the connection, `+QMTDISC:
//!   <idx>,0`; the client is closed (open it again with `AT+QMTOPEN`).
//!   `AT+QMTCLOSE` closes the connection at once, without DISCONNECT (so the
//!   server publishes the client's will), then `+QMTCLOSE: <idx>,0`; it
//!   answers `ERROR` for a client that is not open.
//! - `+QMTSTAT: <idx>,<err_code>` when the connection ends without a
//!   command: 1 the server closed it (or it failed); 2 PINGRESP missing; 3,
//!   4 as above; 6 retransmissions exhausted; 7 the module's IP interface
//!   went down; 8 the server broke the protocol (an undecodable packet, a
//!   packet a server does not send, a packet longer than
//!   [`protocol::MAX_PACKET`]), so the client closed the connection. Commands
//!   that were waiting end first with `<result>` 2 (`+QMTCONN: <idx>,2`,
//!   `+QMTSUB: <idx>,<msgID>,2`, …) so that no host waits for them.
//! - `AT+QMTOPEN?` lists the open clients; `AT+QMTCONN?` the state of every
//!   client that is open (1 opening or open, 2 connecting, 3 connected, 4
//!   disconnecting).
//!
//! # Receiving
//!
//! A message from the server (QoS 1 acknowledged with PUBACK; QoS 2 with
//! PUBREC, PUBREL, PUBCOMP and reported once however often it is resent)
//! is reported as `+QMTRECV: <idx>,<msgID>,"<topic>",<payload_length>,
//! "<payload>"` (`"recv/mode"` 0), `<msgID>` being 0 for QoS 0 and the
//! server's packet identifier otherwise. The manual's `"recv/mode"` has no
//! switch for `<payload_length>` (other Quectel modules have one) and all
//! its examples print it, so it is always printed. With `"recv/mode"` 1 the
//! message is kept in one of 5 buffers (`<recv_id>` 0–4, the lowest free
//! one) and `+QMTRECV: <idx>,<recv_id>` is printed; `AT+QMTRECV=<idx>`
//! reads (and frees) all of them in the order they arrived,
//! `AT+QMTRECV=<idx>,<recv_id>` one (`ERROR` if that buffer is empty), and
//! `AT+QMTRECV?` shows which buffers hold a message. Messages that arrive
//! while all 5 buffers are full wait (up to [`recv::MAX_WAITING`]; beyond
//! that the client stops reading its socket, so TCP holds the rest at the
//! server) and take a buffer, with its URC, when one is read.
//!
//! The payload field: with `"dataformat"` `<recv_mode>` 0 the payload's
//! bytes are printed between the quotes exactly as they arrived. The module
//! does not escape them, so only a payload of UTF-8 text without `"`, CR
//! and LF gives a line that matches the catalogue's grammar (and that the
//! runtime decodes as a typed URC); any other bytes are still printed as
//! they are, and a host that reads the line by its `<payload_length>` (as
//! the catalogue's erratum URC-7 advises) gets them back unchanged. Binary
//! payloads belong in hex mode (`<recv_mode>` 1): the payload is printed as
//! hex digits (two per byte, upper case) and `<payload_length>` is still
//! the message's length in bytes (the manual: "Length of the received
//! message"). A message longer than 10240 bytes (the top of
//! `<payload_length>`) is acknowledged but not reported: the module has no
//! room for it.
//!
//! # Not modelled
//!
//! `"aliauth"` and `"onenet"` are stored and reported, but `AT+QMTCONN`
//! does not derive credentials from them. The client keeps no session
//! state across connections (unacknowledged publications are not resent
//! after a reconnect).

pub mod commands;
pub mod config;
pub mod protocol;
pub mod recv;
mod wire;

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Instant;

use fcm242d::generated::commands::AnyCommand;

use crate::mqtt::{Packet, QoS};
use crate::net::Net;
use crate::reply::Reply;
use crate::state::State;
use crate::world::World;

pub use config::Config;

/// The number of clients (`<client_idx>` 0–5).
pub const CLIENTS: usize = 6;
/// The number of receive buffers per client (`<recv_id>` 0–4).
pub const SLOTS: usize = 5;

/// The group's state (part of [`State`]; rebuilt by a reboot).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MqttState {
    /// The clients, by `<client_idx>`.
    pub clients: [Client; CLIENTS],
}

/// One MQTT client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Client {
    /// Its `AT+QMTCFG` settings.
    pub config: Config,
    /// Its network connection, while it is open.
    pub link: Option<Link>,
    /// Received messages kept for `AT+QMTRECV` (`"recv/mode"` 1).
    pub slots: [Option<Message>; SLOTS],
    /// Received messages waiting for a free buffer.
    pub waiting: VecDeque<Message>,
    /// The arrival number of the next message.
    pub next_seq: u64,
}

/// A received application message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Arrival order.
    pub seq: u64,
    /// `<msgID>`: 0 for QoS 0, else the server's packet identifier.
    pub msg_id: u16,
    /// The topic.
    pub topic: String,
    /// The payload.
    pub payload: Vec<u8>,
}

/// The interface a client's connection goes through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interface {
    /// The station, joined to this network (SSID).
    Station(String),
    /// The soft AP.
    Ap,
}

/// Where a client's connection is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The TCP (TLS) connect runs.
    Opening,
    /// Connected to the server; no MQTT session ("initializing").
    Open,
    /// CONNECT sent (or about to be); waiting for CONNACK.
    Connecting,
    /// The MQTT session is up.
    Connected,
    /// DISCONNECT is on its way; the connection then closes.
    Disconnecting,
}

/// A packet a command asked for, written by [`poll`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outbound {
    /// CONNECT (`AT+QMTCONN`).
    Connect {
        /// `<clientID>`.
        client_id: String,
        /// `<username>`, `<password>`.
        credentials: Option<(String, String)>,
    },
    /// SUBSCRIBE (`AT+QMTSUB`).
    Subscribe {
        /// `<msgID>`.
        msg_id: u16,
        /// Topic filters and QoS.
        filters: Vec<(String, QoS)>,
    },
    /// UNSUBSCRIBE (`AT+QMTUNS`).
    Unsubscribe {
        /// `<msgID>`.
        msg_id: u16,
        /// Topic filters.
        filters: Vec<String>,
    },
    /// PUBLISH (`AT+QMTPUB`).
    Publish {
        /// `<msgID>` (the packet identifier for QoS 1 and 2).
        msg_id: u16,
        /// `<qos>`.
        qos: QoS,
        /// `<retain>`.
        retain: bool,
        /// `<topic>`.
        topic: String,
        /// The payload.
        payload: Vec<u8>,
    },
    /// DISCONNECT (`AT+QMTDISC`).
    Disconnect,
}

/// What an unacknowledged packet waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Awaiting {
    /// SUBACK.
    SubAck,
    /// UNSUBACK.
    UnsubAck,
    /// PUBACK (QoS 1).
    PubAck,
    /// PUBREC (QoS 2, first step).
    PubRec,
    /// PUBCOMP (QoS 2, after PUBREL).
    PubComp,
}

/// A packet sent and not yet acknowledged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inflight {
    /// The host's `<msgID>` (the packet identifier, except that a
    /// `<msgID>` 0 goes out under another one: [`Link::packet_id_for`]).
    pub msg_id: u16,
    /// What it waits for.
    pub awaiting: Awaiting,
    /// The packet, to send again.
    pub packet: Packet,
    /// When it was last sent.
    pub sent_at: Instant,
    /// Retransmissions so far.
    pub retries: i64,
}

/// A client's open network connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// `<host_name>` as given.
    pub host: String,
    /// `<port>`.
    pub port: u16,
    /// The interface it goes through.
    pub interface: Interface,
    /// Where it is.
    pub phase: Phase,
    /// Packets the commands asked for, not yet written.
    pub outbox: VecDeque<Outbound>,
    /// Packets waiting for their acknowledgement, by packet identifier.
    pub inflight: BTreeMap<u16, Inflight>,
    /// QoS 2 messages from the server that were reported and await PUBREL.
    pub incoming_qos2: BTreeSet<u16>,
    /// When CONNECT was written.
    pub connect_sent: Option<Instant>,
    /// When a packet was last written.
    pub last_sent: Option<Instant>,
    /// When a PINGREQ without PINGRESP was written.
    pub ping_sent: Option<Instant>,
}

impl Link {
    /// Whether packet identifier `id` is taken by a packet that waits for
    /// its acknowledgement or has not been written yet.
    pub fn id_in_use(&self, id: u16) -> bool {
        self.inflight.contains_key(&id)
            || self.inflight.values().any(|i| i.msg_id == id)
            || self.outbox.iter().any(|o| match o {
                Outbound::Subscribe { msg_id, .. } | Outbound::Unsubscribe { msg_id, .. } => {
                    *msg_id == id
                }
                Outbound::Publish { msg_id, qos, .. } => *qos != QoS::AtMostOnce && *msg_id == id,
                Outbound::Connect { .. } | Outbound::Disconnect => false,
            })
    }

    /// The packet identifier a SUBSCRIBE or UNSUBSCRIBE for the host's
    /// `<msgID>` goes out with: `<msgID>` itself, except 0, which MQTT
    /// forbids (3.1.1, 2.3.1): then the highest identifier no packet uses
    /// (errata MQTT-19). `None` when all are in use.
    pub fn packet_id_for(&self, msg_id: u16) -> Option<u16> {
        if msg_id != 0 {
            return Some(msg_id);
        }
        (1..=u16::MAX).rev().find(|id| !self.id_in_use(*id))
    }

    /// Publications of QoS 1 or 2 that wait for their acknowledgement or
    /// to be written (the inflight window counts them).
    pub fn publications_in_flight(&self) -> usize {
        let sent = self
            .inflight
            .values()
            .filter(|i| {
                matches!(
                    i.awaiting,
                    Awaiting::PubAck | Awaiting::PubRec | Awaiting::PubComp
                )
            })
            .count();
        let queued = self
            .outbox
            .iter()
            .filter(|o| matches!(o, Outbound::Publish { qos, .. } if *qos != QoS::AtMostOnce))
            .count();
        sent + queued
    }
}

/// The live connection of one client.
#[derive(Debug)]
pub(crate) enum Wire {
    /// The connect runs on a helper thread.
    Connecting(crate::net::Pending<wire::Connected>),
    /// Connected: the stream, bytes read and not yet decoded, bytes not yet written.
    Open {
        stream: wire::Stream,
        rx: Vec<u8>,
        tx: Vec<u8>,
    },
}

/// The group's live network resources (part of [`Net`]; dropped by a reboot).
#[derive(Debug, Default)]
pub struct Live {
    /// The connection of each open client, by `<client_idx>`.
    pub(crate) wires: BTreeMap<usize, Wire>,
    /// URCs caused while the UART was in transparent mode with another
    /// group's link, printed once it is back in command mode.
    held: Vec<u8>,
}

/// The group's answer, if `cmd` is one of its commands.
pub fn handle(cmd: &AnyCommand, state: &mut State, world: &World, net: &mut Net) -> Option<Reply> {
    config::handle(cmd, &mut state.mqtt).or_else(|| commands::handle(cmd, state, world, net))
}

/// What the network caused since the last call (URCs). While the UART is
/// in transparent mode (with a socket, an SSL connection or BLE) the
/// clients keep running, and their URCs wait for command mode.
pub fn poll(state: &mut State, net: &mut Net, _world: &World, now: Instant) -> Vec<u8> {
    let out = protocol::poll(state, net, now);
    if net.transparent.is_some() {
        net.mqtt.held.extend(out);
        return Vec::new();
    }
    let mut all = std::mem::take(&mut net.mqtt.held);
    all.extend(out);
    all
}

/// The earliest of `next` and `at`.
fn earliest(next: &mut Option<Instant>, at: Option<Instant>) {
    if let Some(at) = at {
        *next = Some(next.map_or(at, |n| n.min(at)));
    }
}

/// When the clients' timers next need [`poll`]: a connect's time limit,
/// CONNACK's, a retransmission, the keep-alive's PINGREQ or its PINGRESP.
pub fn next_wake(state: &State, net: &Net) -> Option<Instant> {
    let mut next = None;
    for (idx, client) in state.mqtt.clients.iter().enumerate() {
        let Some(link) = &client.link else {
            continue;
        };
        if let Some(Wire::Connecting(p)) = net.mqtt.wires.get(&idx) {
            earliest(&mut next, Some(p.deadline));
        }
        let timeout = client.config.packet_timeout();
        if link.phase == Phase::Connecting {
            earliest(&mut next, link.connect_sent.map(|t| t + timeout));
            continue;
        }
        for i in link.inflight.values() {
            earliest(&mut next, Some(i.sent_at + timeout));
        }
        let keepalive = std::time::Duration::from_secs(client.config.keepalive.unsigned_abs());
        if link.phase == Phase::Connected && !keepalive.is_zero() {
            let at = match link.ping_sent {
                Some(t) => Some(t + timeout),
                None => link.last_sent.map(|t| t + keepalive),
            };
            earliest(&mut next, at);
        }
    }
    next
}

/// Whether a client waits for the network on behalf of a command whose
/// end the module prints (a connect, CONNACK, an acknowledgement, packets
/// not yet written). The keep-alive alone does not count: it prints
/// nothing while the server answers.
pub fn in_flight(state: &State, net: &Net) -> bool {
    state.mqtt.clients.iter().enumerate().any(|(idx, client)| {
        let Some(link) = &client.link else {
            return false;
        };
        let unwritten =
            matches!(net.mqtt.wires.get(&idx), Some(Wire::Open { tx, .. }) if !tx.is_empty());
        matches!(
            link.phase,
            Phase::Opening | Phase::Connecting | Phase::Disconnecting
        ) || !link.inflight.is_empty()
            || !link.outbox.is_empty()
            || unwritten
    })
}

/// The group's sockets and their peers (see [`crate::net::Socket`]).
pub fn sockets<'a>(net: &'a Net, out: &mut Vec<crate::net::Socket<'a>>) {
    for wire in net.mqtt.wires.values() {
        match wire {
            Wire::Open { stream, .. } => {
                let socket = stream.socket();
                out.push(crate::net::Socket {
                    fd: Some(std::os::fd::AsFd::as_fd(socket)),
                    peer: socket.peer_addr().ok(),
                    local: socket.local_addr().ok(),
                });
            }
            Wire::Connecting(p) => out.push(crate::net::Socket {
                fd: None,
                peer: p.peer,
                local: None,
            }),
        }
    }
}
