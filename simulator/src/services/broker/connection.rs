//! One client connection of the broker: reads packets, answers them, and
//! writes the messages the registry routes to its session. One thread does
//! all of it: reads wait at most [`TICK`] (a read timeout on the socket
//! under the connection), so messages for the client go out promptly and
//! the keep-alive is checked.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::mpsc::{Receiver, TryRecvError};
use std::time::{Duration, Instant};

use std::sync::Arc;

use super::registry::{Broker, Event, Message};
use crate::mqtt::{
    decode, encode, topic, ConnAck, Connect, ConnectReturnCode, DecodeError, Packet, Publish, QoS,
    SubAck, Will,
};
use crate::services::Conn;

/// How long a read waits before the thread looks at its other work.
pub const TICK: Duration = Duration::from_millis(5);
/// How long a new connection may take to send CONNECT.
pub const CONNECT_WAIT: Duration = Duration::from_secs(30);
/// The longest packet the broker accepts (remaining length).
pub const MAX_PACKET: usize = 16 * 1024 * 1024;
/// Messages sent to the client and not yet acknowledged, at most; later
/// ones wait.
const MAX_INFLIGHT: usize = 256;

/// Serves `conn` until it ends.
pub fn serve(conn: Box<dyn Conn>, broker: Arc<Broker>) {
    let socket = crate::services::socket_of(&*conn);
    if let Some(s) = &socket {
        // Without the timeout, messages for this client would wait until
        // it sends something; every connection type the services create
        // has a socket, so this always succeeds in practice.
        let _ = s.set_read_timeout(Some(TICK));
        let _ = s.set_nodelay(true);
    }
    let mut c = Connection {
        conn,
        socket,
        id: broker.new_connection(),
        broker,
        rx: Vec::new(),
        started: Instant::now(),
        last_heard: Instant::now(),
        session: None,
        next_packet_id: 1,
        outgoing: BTreeMap::new(),
        waiting: VecDeque::new(),
        incoming_qos2: HashSet::new(),
    };
    let end = c.run();
    c.finish(end);
}

/// Why a connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// DISCONNECT: the will is discarded.
    Clean,
    /// Closed by the client or the network, a protocol error, or the
    /// keep-alive: the will is published.
    Abnormal,
    /// Another connection took the session over.
    TakenOver,
    /// Closed before a session was made (no CONNECT, or CONNECT refused).
    Refused,
}

/// The session a CONNECT made.
struct Session {
    client_id: String,
    keep_alive: Duration,
    will: Option<Will>,
    events: Receiver<Event>,
}

/// What a message sent to the client waits for: PUBACK, PUBREC, PUBCOMP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Awaiting {
    Ack,
    Received,
    Complete,
}

struct Connection {
    conn: Box<dyn Conn>,
    broker: Arc<Broker>,
    socket: Option<TcpStream>,
    id: u64,
    rx: Vec<u8>,
    started: Instant,
    last_heard: Instant,
    session: Option<Session>,
    next_packet_id: u16,
    /// Messages sent to the client, by packet identifier, with what each waits for.
    outgoing: BTreeMap<u16, (Message, Awaiting)>,
    /// Messages for the client while [`MAX_INFLIGHT`] are unacknowledged.
    waiting: VecDeque<Message>,
    /// QoS 2 messages from the client that were routed and await PUBREL.
    incoming_qos2: HashSet<u16>,
}

impl Connection {
    fn run(&mut self) -> End {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match self.conn.read(&mut buf) {
                Ok(0) => return self.closed(),
                Ok(n) => {
                    self.rx.extend_from_slice(buf.get(..n).unwrap_or_default());
                    self.last_heard = Instant::now();
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock
                            | io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                    ) => {}
                Err(_) => return self.closed(),
            }
            if let Err(end) = self.packets() {
                return end;
            }
            if let Err(end) = self.events() {
                return end;
            }
            if let Err(end) = self.timers() {
                return end;
            }
        }
    }

    fn closed(&self) -> End {
        if self.session.is_some() {
            End::Abnormal
        } else {
            End::Refused
        }
    }

    /// A protocol error: the connection ends as if the network failed.
    fn violation(&self) -> End {
        self.closed()
    }

    fn send(&mut self, packet: &Packet) -> Result<(), End> {
        let bytes = encode(packet).map_err(|_| self.violation())?;
        self.conn
            .write_all(&bytes)
            .and_then(|_| self.conn.flush())
            .map_err(|_| self.closed())
    }

    /// Handles every complete packet received.
    fn packets(&mut self) -> Result<(), End> {
        loop {
            let (packet, used) = match decode(&self.rx, MAX_PACKET) {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(()),
                Err(DecodeError::UnsupportedProtocolLevel(_)) if self.session.is_none() => {
                    let _ = self.send(&Packet::ConnAck(ConnAck {
                        session_present: false,
                        code: ConnectReturnCode::UnacceptableProtocolVersion,
                    }));
                    return Err(End::Refused);
                }
                Err(_) => return Err(self.violation()),
            };
            self.rx.drain(..used.min(self.rx.len()));
            self.packet(packet)?;
        }
    }

    fn packet(&mut self, packet: Packet) -> Result<(), End> {
        let Some(session) = &self.session else {
            return match packet {
                Packet::Connect(c) => self.connect(c),
                _ => Err(End::Refused),
            };
        };
        let client_id = session.client_id.clone();
        match packet {
            Packet::Publish(p) => self.publish(p),
            Packet::PubRel(id) => {
                self.incoming_qos2.remove(&id);
                self.send(&Packet::PubComp(id))
            }
            Packet::PubAck(id) => {
                self.acknowledged(id, Awaiting::Ack);
                self.send_waiting()
            }
            Packet::PubRec(id) => {
                if let Some(entry) = self.outgoing.get_mut(&id) {
                    if entry.1 == Awaiting::Received {
                        entry.1 = Awaiting::Complete;
                    }
                }
                self.send(&Packet::PubRel(id))
            }
            Packet::PubComp(id) => {
                self.acknowledged(id, Awaiting::Complete);
                self.send_waiting()
            }
            Packet::Subscribe(s) => {
                let (codes, retained) = self.broker.subscribe(&client_id, self.id, &s.filters);
                self.send(&Packet::SubAck(SubAck {
                    packet_id: s.packet_id,
                    codes,
                }))?;
                for m in retained {
                    self.deliver(m)?;
                }
                Ok(())
            }
            Packet::Unsubscribe(u) => {
                self.broker.unsubscribe(&client_id, self.id, &u.filters);
                self.send(&Packet::UnsubAck(u.packet_id))
            }
            Packet::PingReq => self.send(&Packet::PingResp),
            Packet::Disconnect => Err(End::Clean),
            // A second CONNECT, or a packet only a server sends.
            Packet::Connect(_)
            | Packet::ConnAck(_)
            | Packet::SubAck(_)
            | Packet::UnsubAck(_)
            | Packet::PingResp => Err(self.violation()),
        }
    }

    fn connect(&mut self, c: Connect) -> Result<(), End> {
        let refuse = |me: &mut Self, code| {
            let _ = me.send(&Packet::ConnAck(ConnAck {
                session_present: false,
                code,
            }));
            Err(End::Refused)
        };
        if let Some(w) = &c.will {
            if !topic::valid_name(&w.topic) {
                return Err(End::Refused);
            }
        }
        // User name and password are not checked: any are accepted.
        let joined = match self.broker.connect(&c.client_id, c.clean_session, self.id) {
            Ok(j) => j,
            Err(code) => return refuse(self, code),
        };
        self.session = Some(Session {
            client_id: joined.client_id,
            keep_alive: Duration::from_secs(u64::from(c.keep_alive)),
            will: c.will,
            events: joined.events,
        });
        self.send(&Packet::ConnAck(ConnAck {
            session_present: joined.session_present,
            code: ConnectReturnCode::Accepted,
        }))?;
        for m in joined.queued {
            self.deliver(m)?;
        }
        Ok(())
    }

    fn publish(&mut self, p: Publish) -> Result<(), End> {
        if !topic::valid_name(&p.topic) {
            return Err(self.violation());
        }
        let message = Message {
            topic: p.topic,
            payload: p.payload,
            qos: p.qos,
            retain: p.retain,
        };
        match (p.qos, p.packet_id) {
            (QoS::AtMostOnce, _) => {
                self.broker.publish(&message);
                Ok(())
            }
            (QoS::AtLeastOnce, Some(id)) => {
                self.broker.publish(&message);
                self.send(&Packet::PubAck(id))
            }
            (QoS::ExactlyOnce, Some(id)) => {
                // A resent QoS 2 message is routed once.
                if self.incoming_qos2.insert(id) {
                    self.broker.publish(&message);
                }
                self.send(&Packet::PubRec(id))
            }
            _ => Err(self.violation()),
        }
    }

    fn acknowledged(&mut self, id: u16, step: Awaiting) {
        if self.outgoing.get(&id).is_some_and(|(_, a)| *a == step) {
            self.outgoing.remove(&id);
        }
    }

    /// A free packet identifier for a message to the client.
    fn packet_id(&mut self) -> u16 {
        loop {
            let id = self.next_packet_id;
            self.next_packet_id = self.next_packet_id.checked_add(1).unwrap_or(1);
            if !self.outgoing.contains_key(&id) {
                return id;
            }
        }
    }

    /// Sends a message to the client (or keeps it while too many wait for
    /// acknowledgement).
    fn deliver(&mut self, m: Message) -> Result<(), End> {
        if m.qos != QoS::AtMostOnce && self.outgoing.len() >= MAX_INFLIGHT {
            self.waiting.push_back(m);
            return Ok(());
        }
        let packet_id = match m.qos {
            QoS::AtMostOnce => None,
            _ => Some(self.packet_id()),
        };
        self.send(&Packet::Publish(Publish {
            dup: false,
            qos: m.qos,
            retain: m.retain,
            topic: m.topic.clone(),
            packet_id,
            payload: m.payload.clone(),
        }))?;
        if let Some(id) = packet_id {
            let awaiting = if m.qos == QoS::AtLeastOnce {
                Awaiting::Ack
            } else {
                Awaiting::Received
            };
            self.outgoing.insert(id, (m, awaiting));
        }
        Ok(())
    }

    fn send_waiting(&mut self) -> Result<(), End> {
        while self.outgoing.len() < MAX_INFLIGHT {
            let Some(m) = self.waiting.pop_front() else {
                break;
            };
            self.deliver(m)?;
        }
        Ok(())
    }

    /// Messages and notices from the registry.
    fn events(&mut self) -> Result<(), End> {
        loop {
            let event = match &self.session {
                Some(s) => s.events.try_recv(),
                None => return Ok(()),
            };
            if event.is_ok() {
                self.broker.activity().taken();
            }
            match event {
                Ok(Event::Deliver(m)) => self.deliver(m)?,
                Ok(Event::TakenOver) => return Err(End::TakenOver),
                Err(TryRecvError::Empty) => return Ok(()),
                Err(TryRecvError::Disconnected) => return Err(End::TakenOver),
            }
        }
    }

    fn timers(&self) -> Result<(), End> {
        let now = Instant::now();
        match &self.session {
            None if now.duration_since(self.started) > CONNECT_WAIT => Err(End::Refused),
            // "within one and a half times the Keep Alive time period"
            Some(s)
                if !s.keep_alive.is_zero()
                    && now.duration_since(self.last_heard) > s.keep_alive.mul_f32(1.5) =>
            {
                Err(End::Abnormal)
            }
            _ => Ok(()),
        }
    }

    /// Ends the connection: the will (if the end was abnormal), the
    /// session's fate, then the socket.
    fn finish(mut self, end: End) {
        if let Some(session) = self.session.take() {
            if end == End::Abnormal {
                if let Some(w) = &session.will {
                    self.broker.publish(&Message {
                        topic: w.topic.clone(),
                        payload: w.message.clone(),
                        qos: w.qos,
                        retain: w.retain,
                    });
                }
            }
            let mut unacked: Vec<Message> = std::mem::take(&mut self.outgoing)
                .into_values()
                .filter(|(_, a)| *a != Awaiting::Complete)
                .map(|(m, _)| m)
                .collect();
            unacked.extend(self.waiting.drain(..));
            // Messages that were on their way when the connection ended.
            while let Ok(event) = session.events.try_recv() {
                self.broker.activity().taken();
                let Event::Deliver(m) = event else { continue };
                if m.qos != QoS::AtMostOnce {
                    unacked.push(m);
                }
            }
            self.broker.leave(&session.client_id, self.id, unacked);
            // The registry no longer sends here; what came meanwhile is
            // lost with the connection, but must not count as work to do.
            while session.events.try_recv().is_ok() {
                self.broker.activity().taken();
            }
        }
        let _ = self.conn.flush();
        if let Some(s) = &self.socket {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}
