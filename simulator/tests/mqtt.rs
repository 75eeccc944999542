//! The MQTT group and the embedded broker: the packet codec (properties
//! over arbitrary packets and bytes), the broker through a plain MQTT
//! client built on the codec, and the module through the runtime client
//! (and byte-exact through `Module` where the payload is not text). Every
//! test uses its own topics and client identifiers: the broker is shared by
//! the whole test process.

use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use fcm242d::client::{Client, Error};
use fcm242d::generated::commands::{
    qmtcfg, qmtclose, qmtconn, qmtdisc, qmtopen, qmtpub, qmtrecv, qmtsub, qmtuns, qstaapinfo,
    qstastop,
};
use fcm242d::generated::urcs::Urc;
use fcm242d::session::Notice;
use fcm242d::transport::MemoryTransport;
use fcm242d::value::{Host, Int, Text};
use fcm242d_sim::module::Module;
use fcm242d_sim::mqtt::{
    decode, encode, topic, ConnAck, Connect, ConnectReturnCode, DecodeError, Packet, ProtocolLevel,
    Publish, QoS, SubAck, SubAckReturn, Subscribe, Unsubscribe, Will,
};
use fcm242d_sim::serve::in_process;
use fcm242d_sim::world::{Protocol, Service, World};
use proptest::prelude::*;

/// How long a test waits for something the network should cause.
const PATIENCE: Duration = Duration::from_secs(10);

/// A name no other test uses (the broker is shared by the process).
fn unique(what: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{what}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

fn broker() -> SocketAddr {
    fcm242d_sim::services::started(&Service::Mqtt, Protocol::Tcp).unwrap()
}

// ====================================================================== codec

fn qos() -> impl Strategy<Value = QoS> {
    prop_oneof![
        Just(QoS::AtMostOnce),
        Just(QoS::AtLeastOnce),
        Just(QoS::ExactlyOnce)
    ]
}

fn text() -> impl Strategy<Value = String> {
    "[^\u{0}]{0,40}"
}

fn id() -> impl Strategy<Value = u16> {
    1..=u16::MAX
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

fn packet() -> impl Strategy<Value = Packet> {
    let will =
        (text(), bytes(40), qos(), any::<bool>()).prop_map(|(topic, message, qos, retain)| Will {
            topic,
            message,
            qos,
            retain,
        });
    let connect = (
        any::<bool>(),
        text(),
        any::<bool>(),
        any::<u16>(),
        proptest::option::of(will),
        proptest::option::of((text(), proptest::option::of(bytes(40)))),
    )
        .prop_map(|(v31, client_id, clean_session, keep_alive, will, login)| {
            let (username, password) = match login {
                Some((u, p)) => (Some(u), p),
                None => (None, None),
            };
            Packet::Connect(Connect {
                protocol: if v31 {
                    ProtocolLevel::V31
                } else {
                    ProtocolLevel::V311
                },
                client_id,
                clean_session,
                keep_alive,
                will,
                username,
                password,
            })
        });
    let connack = (any::<bool>(), 0u8..6).prop_map(|(session_present, code)| {
        Packet::ConnAck(ConnAck {
            session_present,
            code: ConnectReturnCode::from_u8(code).unwrap(),
        })
    });
    let publish = (
        qos(),
        any::<bool>(),
        any::<bool>(),
        text(),
        id(),
        bytes(300),
    )
        .prop_map(|(qos, dup, retain, topic, id, payload)| {
            let zero = qos == QoS::AtMostOnce;
            Packet::Publish(Publish {
                dup: dup && !zero,
                qos,
                retain,
                topic,
                packet_id: (!zero).then_some(id),
                payload,
            })
        });
    let subscribe = (id(), proptest::collection::vec((text(), qos()), 1..5))
        .prop_map(|(packet_id, filters)| Packet::Subscribe(Subscribe { packet_id, filters }));
    let suback = (
        id(),
        proptest::collection::vec(
            prop_oneof![
                qos().prop_map(SubAckReturn::Granted),
                Just(SubAckReturn::Failure)
            ],
            1..5,
        ),
    )
        .prop_map(|(packet_id, codes)| Packet::SubAck(SubAck { packet_id, codes }));
    let unsubscribe = (id(), proptest::collection::vec(text(), 1..5))
        .prop_map(|(packet_id, filters)| Packet::Unsubscribe(Unsubscribe { packet_id, filters }));
    prop_oneof![
        connect,
        connack,
        publish,
        id().prop_map(Packet::PubAck),
        id().prop_map(Packet::PubRec),
        id().prop_map(Packet::PubRel),
        id().prop_map(Packet::PubComp),
        subscribe,
        suback,
        unsubscribe,
        id().prop_map(Packet::UnsubAck),
        Just(Packet::PingReq),
        Just(Packet::PingResp),
        Just(Packet::Disconnect),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Every packet value encodes, decodes to itself from exactly its
    /// bytes, and is incomplete (not an error) at every shorter prefix.
    #[test]
    fn codec_round_trips(p in packet(), tail in bytes(8)) {
        let encoded = encode(&p).unwrap();
        let mut buf = encoded.clone();
        buf.extend_from_slice(&tail);
        prop_assert_eq!(decode(&buf, 1 << 20), Ok(Some((p.clone(), encoded.len()))));
        for cut in 0..encoded.len() {
            prop_assert_eq!(decode(&encoded[..cut], 1 << 20), Ok(None));
        }
    }

    /// Arbitrary bytes never panic the decoder; whatever it accepts
    /// encodes again and decodes to the same packet.
    #[test]
    fn codec_takes_arbitrary_bytes(buf in bytes(64), max in 0usize..80) {
        if let Ok(Some((p, used))) = decode(&buf, max) {
            prop_assert!(used <= buf.len());
            let again = encode(&p).unwrap();
            prop_assert_eq!(decode(&again, 1 << 20), Ok(Some((p, again.len()))));
        }
    }

    /// Arbitrary bytes behind a valid fixed header (the body parsers).
    #[test]
    fn codec_takes_arbitrary_bodies(first in any::<u8>(), body in bytes(64)) {
        let mut buf = vec![first, body.len() as u8];
        buf.extend_from_slice(&body);
        let _ = decode(&buf, 1 << 20);
    }

    /// Topic filters: a filter equal to the topic matches; `#` matches
    /// everything that does not start with `$`.
    #[test]
    fn topics_match_themselves(t in "[a-z$/]{1,12}") {
        prop_assert!(topic::matches(&t, &t) || t.contains(['+', '#']));
        prop_assert_eq!(topic::matches("#", &t), !t.starts_with('$'));
    }
}

#[test]
fn codec_reports_malformed_packets() {
    let max = 1 << 20;
    assert_eq!(
        decode(&[0x00, 0x00], max),
        Err(DecodeError::ReservedPacketType(0))
    );
    assert_eq!(
        decode(&[0xF0, 0x00], max),
        Err(DecodeError::ReservedPacketType(15))
    );
    assert_eq!(
        decode(&[0xC1, 0x00], max),
        Err(DecodeError::BadFixedHeaderFlags { kind: 12, flags: 1 })
    );
    assert_eq!(
        decode(&[0x60, 0x02, 0x00, 0x01], max),
        Err(DecodeError::BadFixedHeaderFlags { kind: 6, flags: 0 })
    );
    assert_eq!(decode(&[0x36, 0x00], max), Err(DecodeError::BadQoS(3)));
    assert_eq!(
        decode(&[0x38, 0x03, 0x00, 0x01, b'a'], max),
        Err(DecodeError::BadFixedHeaderFlags { kind: 3, flags: 8 })
    );
    assert_eq!(
        decode(&[0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], max),
        Err(DecodeError::MalformedRemainingLength)
    );
    assert_eq!(
        decode(&[0x30, 0xFF, 0x7F], 100),
        Err(DecodeError::TooLarge {
            length: 16383,
            max: 100
        })
    );
    assert_eq!(
        decode(&[0x40, 0x02, 0x00, 0x00], max),
        Err(DecodeError::ZeroPacketId)
    );
    assert_eq!(
        decode(&[0x40, 0x03, 0x00, 0x01, 0x00], max),
        Err(DecodeError::TrailingBytes { kind: 4 })
    );
    assert_eq!(
        decode(&[0x40, 0x01, 0x00], max),
        Err(DecodeError::Truncated { kind: 4 })
    );
    assert_eq!(
        decode(&[0x32, 0x03, 0x00, 0x01, b'a'], max),
        Err(DecodeError::Truncated { kind: 3 })
    );
    assert_eq!(
        decode(&[0x30, 0x03, 0x00, 0x01, 0xFF], max),
        Err(DecodeError::InvalidString)
    );
    assert_eq!(
        decode(&[0x30, 0x03, 0x00, 0x01, 0x00], max),
        Err(DecodeError::InvalidString)
    );
    assert_eq!(
        decode(&[0x82, 0x02, 0x00, 0x01], max),
        Err(DecodeError::NoTopicFilters)
    );
    assert_eq!(
        decode(&[0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x04], max),
        Err(DecodeError::BadSubscriptionOptions(4))
    );
    assert_eq!(
        decode(&[0x90, 0x03, 0x00, 0x01, 0x03], max),
        Err(DecodeError::BadReturnCode(3))
    );
    assert_eq!(
        decode(&[0x20, 0x02, 0x02, 0x00], max),
        Err(DecodeError::BadConnAckFlags(2))
    );
    assert_eq!(
        decode(&[0x20, 0x02, 0x00, 0x06], max),
        Err(DecodeError::BadReturnCode(6))
    );
    let connect = |name: &[u8], level: u8, flags: u8| {
        let mut body = vec![0, name.len() as u8];
        body.extend_from_slice(name);
        body.extend_from_slice(&[level, flags, 0, 60, 0, 1, b'c']);
        let mut p = vec![0x10, body.len() as u8];
        p.extend(body);
        decode(&p, 1 << 20)
    };
    assert_eq!(
        connect(b"MQTT", 5, 2),
        Err(DecodeError::UnsupportedProtocolLevel(5))
    );
    assert_eq!(
        connect(b"MQTX", 4, 2),
        Err(DecodeError::UnknownProtocol("MQTX".into()))
    );
    assert_eq!(
        connect(b"MQTT", 4, 3),
        Err(DecodeError::ReservedConnectFlag)
    );
    assert_eq!(connect(b"MQTT", 4, 0b1000), Err(DecodeError::BadWillFlags));
    assert_eq!(
        connect(b"MQTT", 4, 0b0100_0000),
        Err(DecodeError::PasswordWithoutUsername)
    );
    assert!(matches!(connect(b"MQIsdp", 3, 2), Ok(Some(_))));
    // Encoding refuses what the wire cannot carry.
    let publish = |qos, packet_id| {
        encode(&Packet::Publish(Publish {
            dup: false,
            qos,
            retain: false,
            topic: "t".into(),
            packet_id,
            payload: vec![],
        }))
    };
    assert!(publish(QoS::AtLeastOnce, None).is_err());
    assert!(publish(QoS::AtMostOnce, Some(1)).is_err());
    assert!(publish(QoS::AtLeastOnce, Some(0)).is_err());
    assert!(encode(&Packet::Unsubscribe(Unsubscribe {
        packet_id: 1,
        filters: vec![]
    }))
    .is_err());
}

#[test]
fn topic_names_and_filters() {
    assert!(topic::valid_filter("+") && topic::valid_filter("#") && topic::valid_filter("+/+/#"));
    assert!(
        !topic::valid_filter("") && !topic::valid_filter("a/b+") && !topic::valid_filter("#/a")
    );
    assert!(topic::matches("a/+/c", "a/b/c") && !topic::matches("a/+/c", "a/b/d"));
    assert!(topic::matches("a/+", "a/") && !topic::matches("a/+", "a"));
    assert!(topic::matches("a/#", "a") && topic::matches("a/#", "a/b/c"));
    assert!(!topic::matches("+/x", "$SYS/x") && topic::matches("$SYS/+", "$SYS/x"));
    assert!(!topic::valid_name("") && !topic::valid_name("a/#"));
}

// ====================================================================== harnesses

/// A plain MQTT client over TCP, built on the codec (to check what the
/// module publishes, to publish to it, and to test the broker).
struct Peer {
    stream: TcpStream,
    rx: Vec<u8>,
    next_id: u16,
    /// Messages that arrived while an acknowledgement was awaited.
    stash: VecDeque<Publish>,
}

impl Peer {
    fn connect(addr: SocketAddr, client_id: &str) -> Peer {
        Peer::connect_with(addr, client_id, true, None).0
    }

    /// Connects; returns the peer and the CONNACK.
    fn connect_with(
        addr: SocketAddr,
        client_id: &str,
        clean_session: bool,
        will: Option<Will>,
    ) -> (Peer, ConnAck) {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let mut peer = Peer {
            stream,
            rx: Vec::new(),
            next_id: 1,
            stash: VecDeque::new(),
        };
        peer.send(&Packet::Connect(Connect {
            protocol: ProtocolLevel::V311,
            client_id: client_id.into(),
            clean_session,
            keep_alive: 60,
            will,
            username: Some("any".into()),
            password: Some(b"thing".to_vec()),
        }));
        match peer.recv() {
            Some(Packet::ConnAck(a)) => (peer, a),
            other => panic!("no CONNACK: {other:?}"),
        }
    }

    fn send(&mut self, p: &Packet) {
        self.stream.write_all(&encode(p).unwrap()).unwrap();
    }

    /// The next packet, or `None` after `PATIENCE` (or when the server closed).
    fn recv(&mut self) -> Option<Packet> {
        self.recv_within(PATIENCE)
    }

    fn recv_within(&mut self, wait: Duration) -> Option<Packet> {
        let deadline = Instant::now() + wait;
        loop {
            if let Some((p, n)) = decode(&self.rx, 1 << 24).unwrap() {
                self.rx.drain(..n);
                return Some(p);
            }
            if Instant::now() >= deadline {
                return None;
            }
            let mut buf = [0u8; 65536];
            match self.stream.read(&mut buf) {
                Ok(0) => return None,
                Ok(n) => self.rx.extend_from_slice(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return None,
            }
        }
    }

    /// Whether the server closed the connection (within `PATIENCE`).
    fn closed(&mut self) -> bool {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            let mut buf = [0u8; 4096];
            match self.stream.read(&mut buf) {
                Ok(0) => return true,
                Ok(n) => self.rx.extend_from_slice(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return true,
            }
        }
        false
    }

    fn subscribe(&mut self, filter: &str, qos: QoS) -> SubAckReturn {
        let packet_id = self.id();
        self.send(&Packet::Subscribe(Subscribe {
            packet_id,
            filters: vec![(filter.into(), qos)],
        }));
        match self.ack() {
            Packet::SubAck(a) if a.packet_id == packet_id => a.codes[0],
            other => panic!("no SUBACK: {other:?}"),
        }
    }

    fn id(&mut self) -> u16 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1).max(1);
        id
    }

    /// Publishes and completes the QoS flow.
    fn publish(&mut self, topic: &str, payload: &[u8], qos: QoS, retain: bool) {
        let packet_id = (qos != QoS::AtMostOnce).then(|| self.id());
        self.send(&Packet::Publish(Publish {
            dup: false,
            qos,
            retain,
            topic: topic.into(),
            packet_id,
            payload: payload.to_vec(),
        }));
        match qos {
            QoS::AtMostOnce => {}
            QoS::AtLeastOnce => assert_eq!(self.ack(), Packet::PubAck(packet_id.unwrap())),
            QoS::ExactlyOnce => {
                assert_eq!(self.ack(), Packet::PubRec(packet_id.unwrap()));
                self.send(&Packet::PubRel(packet_id.unwrap()));
                assert_eq!(self.ack(), Packet::PubComp(packet_id.unwrap()));
            }
        }
    }

    /// The next packet that is not a message (those are acknowledged and
    /// kept for [`Peer::message`]).
    fn ack(&mut self) -> Packet {
        loop {
            match self.recv() {
                Some(Packet::Publish(p)) => {
                    self.acknowledge(&p);
                    self.stash.push_back(p);
                }
                Some(Packet::PubRel(id)) => self.send(&Packet::PubComp(id)),
                Some(p) => return p,
                None => panic!("no acknowledgement"),
            }
        }
    }

    fn acknowledge(&mut self, p: &Publish) {
        match (p.qos, p.packet_id) {
            (QoS::AtLeastOnce, Some(id)) => self.send(&Packet::PubAck(id)),
            (QoS::ExactlyOnce, Some(id)) => self.send(&Packet::PubRec(id)),
            _ => {}
        }
    }

    /// The next PUBLISH, acknowledged as its QoS asks.
    fn message(&mut self) -> Option<Publish> {
        self.message_within(PATIENCE)
    }

    fn message_within(&mut self, wait: Duration) -> Option<Publish> {
        if let Some(p) = self.stash.pop_front() {
            return Some(p);
        }
        loop {
            match self.recv_within(wait)? {
                Packet::Publish(p) => {
                    self.acknowledge(&p);
                    return Some(p);
                }
                Packet::PubRel(id) => self.send(&Packet::PubComp(id)),
                _ => {}
            }
        }
    }
}

/// The module behind its UART, byte for byte (for exact lines and for
/// payloads that are not text).
struct Uart {
    m: Module,
    /// Output not yet consumed by an expectation.
    buf: Vec<u8>,
}

impl Uart {
    fn new(world: World) -> Uart {
        fcm242d_sim::catalog::catalog();
        Uart {
            m: Module::new(world),
            buf: Vec::new(),
        }
    }

    /// A module joined to the world's access point.
    fn online() -> Uart {
        let mut u = Uart::new(World::default());
        u.send("AT+QSTAAPINFO=\"sim-ap\",\"sim-password\"");
        u.expect("+QSTASTAT: \"GOT_IP\"");
        u.buf.clear();
        u
    }

    fn pump(&mut self) {
        let out = self.m.poll(Instant::now());
        self.buf.extend(out);
    }

    fn write(&mut self, bytes: &[u8]) {
        let out = self.m.input(bytes, Instant::now());
        self.buf.extend(out);
        self.pump();
    }

    fn send(&mut self, line: &str) {
        self.write(format!("{line}\r\n").as_bytes());
    }

    /// Waits until `f` finds something in the output and returns it.
    fn wait<T>(&mut self, what: &str, mut f: impl FnMut(&mut Vec<u8>) -> Option<T>) -> T {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(t) = f(&mut self.buf) {
                return t;
            }
            assert!(
                Instant::now() < deadline,
                "no {what} in {:?}",
                String::from_utf8_lossy(&self.buf)
            );
            std::thread::sleep(Duration::from_millis(2));
            self.pump();
        }
    }

    /// Consumes the line `text` (wherever it is in the output).
    fn expect(&mut self, text: &str) {
        let framed = format!("\r\n{text}\r\n").into_bytes();
        self.wait(text, |buf| {
            let at = find(buf, &framed)?;
            buf.drain(at..at + framed.len());
            Some(())
        });
    }

    /// Consumes the `>` prompt.
    fn prompt(&mut self) {
        self.wait("prompt", |buf| {
            let at = find(buf, b"\r\n> ")?;
            buf.drain(at..at + 4);
            Some(())
        });
    }

    /// Consumes a `+QMTRECV: <idx>,<msgID>,"<topic>",<len>,"<payload>"` line,
    /// reading the payload by its length; returns msgID, topic, payload.
    fn message(&mut self, idx: u8) -> (u16, String, Vec<u8>) {
        self.message_printed(idx, 1)
    }

    /// As [`Uart::message`], in hex mode: the hex text decoded.
    fn message_hex(&mut self, idx: u8) -> (u16, String, Vec<u8>) {
        let (id, topic, text) = self.message_printed(idx, 2);
        (id, topic, unhex(std::str::from_utf8(&text).unwrap()))
    }

    /// A message line whose payload field is `scale` times its length.
    fn message_printed(&mut self, idx: u8, scale: usize) -> (u16, String, Vec<u8>) {
        let head = format!("\r\n+QMTRECV: {idx},").into_bytes();
        self.wait("+QMTRECV", |buf| {
            let at = find(buf, &head)?;
            let rest = &buf[at + head.len()..];
            let fields_end = find(rest, b",\"")?;
            let msg_id: u16 = std::str::from_utf8(&rest[..fields_end])
                .ok()?
                .parse()
                .ok()?;
            let rest = &rest[fields_end + 2..];
            let topic_end = find(rest, b"\",")?;
            let topic = String::from_utf8(rest[..topic_end].to_vec()).ok()?;
            let rest = &rest[topic_end + 2..];
            let len_end = find(rest, b",\"")?;
            let len: usize = std::str::from_utf8(&rest[..len_end]).ok()?.parse().ok()?;
            let len = len * scale;
            let payload = rest.get(len_end + 2..len_end + 2 + len)?.to_vec();
            let tail = rest.get(len_end + 2 + len..len_end + 2 + len + 3)?;
            assert_eq!(tail, b"\"\r\n", "the payload ends where its length says");
            let total = head.len() + fields_end + 2 + topic_end + 2 + len_end + 2 + len + 3;
            buf.drain(at..at + total);
            Some((msg_id, topic, payload))
        })
    }

    /// Lets `wait` pass and asserts that nothing else was printed.
    fn quiet(&mut self, wait: Duration) {
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
            self.pump();
        }
        assert!(
            self.buf.iter().all(|b| b.is_ascii_whitespace()),
            "unexpected output {:?}",
            String::from_utf8_lossy(&self.buf)
        );
        self.buf.clear();
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A module behind the runtime client, and the URCs seen so far.
struct Sim {
    client: Client<MemoryTransport>,
    seen: Vec<Urc>,
    handle: Option<JoinHandle<()>>,
}

impl Sim {
    fn offline_in(world: World) -> Sim {
        // Load the catalogue before the first command (the module loads it
        // lazily, which can exceed a 300 ms limit in a parallel debug run).
        fcm242d_sim::catalog::catalog();
        let (link, handle) = in_process(world);
        Sim {
            client: Client::new(link),
            seen: Vec::new(),
            handle: Some(handle),
        }
    }

    fn online() -> Sim {
        Sim::online_in(World::default())
    }

    fn online_in(world: World) -> Sim {
        let mut sim = Sim::offline_in(world);
        sim.client
            .send(&qstaapinfo::Write {
                ssid: Text::new("sim-ap").unwrap(),
                pwd: Some(Text::new("sim-password").unwrap()),
            })
            .unwrap();
        sim.settle(Duration::from_millis(300));
        sim.seen.clear();
        sim
    }

    fn settle(&mut self, wait: Duration) {
        let got = self.client.poll_urcs(wait).unwrap();
        self.seen
            .extend(got.into_iter().filter_map(Notice::into_urc));
    }

    /// Waits for the first URC `f` picks, and removes it from `seen`.
    fn wait_for<T>(&mut self, what: &str, f: impl Fn(&Urc) -> Option<T>) -> T {
        let deadline = Instant::now() + PATIENCE;
        loop {
            self.seen.extend(
                self.client
                    .take_urcs()
                    .into_iter()
                    .filter_map(Notice::into_urc),
            );
            if let Some(i) = self.seen.iter().position(|u| f(u).is_some()) {
                let u = self.seen.remove(i);
                return f(&u).unwrap();
            }
            assert!(Instant::now() < deadline, "no {what}; seen {:?}", self.seen);
            let got = self.client.poll_urcs(Duration::from_millis(20)).unwrap();
            self.seen
                .extend(got.into_iter().filter_map(Notice::into_urc));
        }
    }

    /// `AT+QMTOPEN`: the `<result>` of `+QMTOPEN`.
    fn open(&mut self, idx: i64, host: &str, port: u16) -> i64 {
        let r = self
            .client
            .send(&qmtopen::Write {
                client_idx: Int::new(idx).unwrap(),
                host_name: Host::new(host).unwrap(),
                port: Int::new(port.into()).unwrap(),
            })
            .unwrap();
        match r.completion {
            Some(Urc::Qmtopen(o)) => {
                assert_eq!(o.client_idx.get(), idx);
                o.result.wire()
            }
            other => panic!("no +QMTOPEN: {other:?}"),
        }
    }

    /// `AT+QMTCONN`: `<result>` and `<retcode>` of `+QMTCONN`.
    fn conn(&mut self, idx: i64, client_id: &str) -> (i64, Option<i64>) {
        let r = self
            .client
            .send(&qmtconn::Write {
                client_idx: Int::new(idx).unwrap(),
                client_id: Text::new(client_id).unwrap(),
                username_group: Some(qmtconn::WriteUsernameGroup {
                    username: Text::new("quectel").unwrap(),
                    password: Text::new("quectel").unwrap(),
                }),
            })
            .unwrap();
        match r.completion {
            Some(Urc::Qmtconn(c)) => (c.result.wire(), c.retcode.map(|r| r.wire())),
            other => panic!("no +QMTCONN: {other:?}"),
        }
    }

    /// Opens client `idx` to the embedded broker and connects it.
    fn connected(&mut self, idx: i64, client_id: &str) {
        assert_eq!(self.open(idx, "192.0.2.2", 1883), 0);
        assert_eq!(self.conn(idx, client_id), (0, Some(0)));
    }

    /// `AT+QMTSUB` with one topic: `<result>` and `<value>`.
    fn sub(&mut self, idx: i64, msg_id: i64, topic: &str, qos: qmtsub::Qos) -> (i64, Option<i64>) {
        let r = self
            .client
            .send(&qmtsub::Write {
                client_idx: Int::new(idx).unwrap(),
                msg_id: Int::new(msg_id).unwrap(),
                topic: Text::new(topic).unwrap(),
                qos,
                more_topic: vec![],
            })
            .unwrap();
        match r.completion {
            Some(Urc::Qmtsub(s)) => {
                assert_eq!(s.msg_id.get(), msg_id);
                (s.result.wire(), s.value.first().copied())
            }
            other => panic!("no +QMTSUB: {other:?}"),
        }
    }

    /// `AT+QMTPUB` with a length: the `+QMTPUB` (`<result>`, `<value>`).
    fn publish(
        &mut self,
        idx: i64,
        msg_id: i64,
        qos: qmtpub::Qos,
        retain: bool,
        topic: &str,
        payload: &[u8],
    ) -> Result<(i64, Option<i64>), Error> {
        let r = self.client.send_payload(
            &qmtpub::Write {
                client_idx: Int::new(idx).unwrap(),
                msg_id: Int::new(msg_id).unwrap(),
                qos,
                retain: if retain {
                    qmtpub::Retain::Retain
                } else {
                    qmtpub::Retain::NoRetain
                },
                topic: Text::new(topic).unwrap(),
                length: Some(Int::new(payload.len() as i64).unwrap()),
            },
            payload,
        )?;
        match r.completion {
            Some(Urc::Qmtpub(p)) => {
                assert_eq!(p.msg_id.get(), msg_id);
                Ok((p.result.wire(), p.value))
            }
            other => panic!("no +QMTPUB: {other:?}"),
        }
    }

    /// The next `+QMTRECV` message of client `idx`: msgID, topic, payload.
    fn received(&mut self, idx: i64) -> (i64, String, String) {
        self.wait_for("+QMTRECV", |u| match u {
            Urc::QmtrecvMessage(m) if m.client_idx.get() == idx => {
                // The length of the message (hex text is twice as long).
                let len = m.payload_length.map(|l| l.get() as usize);
                assert!(len == Some(m.payload.len()) || len == Some(m.payload.len() / 2));
                Some((
                    m.msg_id.get(),
                    m.topic.clone(),
                    String::from_utf8_lossy(&m.payload).into_owned(),
                ))
            }
            _ => None,
        })
    }

    fn stat(&mut self, idx: i64) -> i64 {
        self.wait_for("+QMTSTAT", |u| match u {
            Urc::Qmtstat(s) if s.client_idx.get() == idx => Some(s.err_code.wire()),
            _ => None,
        })
    }

    fn cfg<C: fcm242d::command::Payloadless>(&mut self, cmd: &C) -> Result<Vec<C::Line>, Error> {
        self.client.send(cmd).map(|r| r.lines)
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        // Dropping the link stops the module; wait for it when the test passed.
        if let Some(h) = self.handle.take() {
            if !std::thread::panicking() {
                let (link, _) = MemoryTransport::pair();
                drop(std::mem::replace(&mut self.client, Client::new(link)));
                h.join().unwrap();
            }
        }
    }
}

fn idx(i: i64) -> Int<0, 5> {
    Int::new(i).unwrap()
}

fn refused<T: std::fmt::Debug>(r: Result<T, Error>) -> bool {
    matches!(r, Err(Error::Error { .. }))
}

// ====================================================================== the manual's example

/// "MQTT Operation Without SSL", step by step from the catalogue, every
/// line exactly; nothing else is printed. The module joins the world's
/// access point first (the example's implied precondition).
#[test]
fn manual_example_mqtt_without_ssl() {
    let scenario = fcm242d_sim::catalog::catalog()
        .scenarios()
        .map(|(_, e)| &e.value)
        .find(|s| s.name == "mqtt_without_ssl")
        .expect("the scenario");
    let fill = |s: &str| {
        scenario
            .placeholders
            .iter()
            .fold(s.to_string(), |s, (k, v)| {
                s.replace(&format!("${{{k}}}"), v)
            })
    };
    let mut u = Uart::online();
    for step in &scenario.steps {
        if let Some(line) = &step.send {
            u.send(&fill(line));
        }
        if let Some(line) = step.expect.as_ref().or(step.expect_urc.as_ref()) {
            u.expect(&fill(line));
        }
        if step.expect_prompt.is_some() {
            u.prompt();
        }
        if let Some(data) = &step.send_data {
            assert_eq!(step.end, Some(fcm242d_codegen::model::DataEnd::None));
            u.write(fill(data).as_bytes());
        }
    }
    u.quiet(Duration::from_millis(300));
}

// ====================================================================== AT+QMTCFG

/// Every sub-command: the defaults, a value set and read back, per client.
#[test]
fn every_qmtcfg_subcommand_sets_and_queries() {
    let mut sim = Sim::offline_in(World::default());
    // Defaults.
    assert_eq!(
        sim.cfg(&qmtcfg::Version {
            client_idx: idx(0),
            vsn: None
        })
        .unwrap()[0]
            .vsn,
        qmtcfg::Vsn::Mqtt311
    );
    let ka = sim
        .cfg(&qmtcfg::Keepalive {
            client_idx: idx(0),
            keep_alive_time: None,
        })
        .unwrap();
    assert_eq!(ka[0].keep_alive_time.get(), 120);
    let t = sim
        .cfg(&qmtcfg::Timeout {
            client_idx: idx(0),
            pkt_timeout_group: None,
        })
        .unwrap();
    assert_eq!(
        (
            t[0].pkt_timeout.get(),
            t[0].retry_times.get(),
            t[0].timeout_notice
        ),
        (5, 3, qmtcfg::TimeoutNotice::NoReport)
    );

    // Set on client 3, read back; client 0 keeps its values.
    let c = idx(3);
    sim.cfg(&qmtcfg::Version {
        client_idx: c,
        vsn: Some(qmtcfg::Vsn::Mqtt31),
    })
    .unwrap();
    assert_eq!(
        sim.cfg(&qmtcfg::Version {
            client_idx: c,
            vsn: None
        })
        .unwrap()[0]
            .vsn,
        qmtcfg::Vsn::Mqtt31
    );
    assert_eq!(
        sim.cfg(&qmtcfg::Version {
            client_idx: idx(0),
            vsn: None
        })
        .unwrap()[0]
            .vsn,
        qmtcfg::Vsn::Mqtt311
    );

    sim.cfg(&qmtcfg::Ssl {
        client_idx: c,
        ssl_enable_group: Some(qmtcfg::SslSslEnableGroup {
            ssl_enable: qmtcfg::SslEnable::Ssl,
            ssl_ctx_id: Some(Int::new(2).unwrap()),
        }),
    })
    .unwrap();
    let ssl = sim
        .cfg(&qmtcfg::Ssl {
            client_idx: c,
            ssl_enable_group: None,
        })
        .unwrap();
    assert_eq!(ssl[0].ssl_enable, qmtcfg::SslEnable::Ssl);
    assert_eq!(ssl[0].ssl_ctx_id.map(|i| i.get()), Some(2));
    // The catalogue's rule: SSL needs a context.
    assert!(refused(sim.cfg(&qmtcfg::Ssl {
        client_idx: c,
        ssl_enable_group: Some(qmtcfg::SslSslEnableGroup {
            ssl_enable: qmtcfg::SslEnable::Ssl,
            ssl_ctx_id: None,
        }),
    })));

    sim.cfg(&qmtcfg::Keepalive {
        client_idx: c,
        keep_alive_time: Some(Int::new(3600).unwrap()),
    })
    .unwrap();
    assert_eq!(
        sim.cfg(&qmtcfg::Keepalive {
            client_idx: c,
            keep_alive_time: None
        })
        .unwrap()[0]
            .keep_alive_time
            .get(),
        3600
    );

    sim.cfg(&qmtcfg::Session {
        client_idx: c,
        clean_session: Some(qmtcfg::CleanSession::Persistent),
    })
    .unwrap();
    assert_eq!(
        sim.cfg(&qmtcfg::Session {
            client_idx: c,
            clean_session: None
        })
        .unwrap()[0]
            .clean_session,
        qmtcfg::CleanSession::Persistent
    );

    // Will: unset, set, the rule, cleared.
    let will = |sim: &mut Sim| {
        sim.cfg(&qmtcfg::Will {
            client_idx: c,
            will_flag_group: None,
        })
        .unwrap()
        .remove(0)
    };
    assert_eq!(will(&mut sim).will_flag, qmtcfg::WillFlag::Ignore);
    sim.cfg(&qmtcfg::Will {
        client_idx: c,
        will_flag_group: Some(qmtcfg::WillWillFlagGroup {
            will_flag: qmtcfg::WillFlag::Set,
            will_qos_group: Some(qmtcfg::WillWillFlagGroupWillQosGroup {
                will_qos: qmtcfg::Qos::ExactlyOnce,
                will_retain: qmtcfg::Retain::Retain,
                will_topic: Text::new("will/topic").unwrap(),
                will_message: Text::new("gone, bye").unwrap(),
            }),
        }),
    })
    .unwrap();
    let w = will(&mut sim);
    assert_eq!(w.will_flag, qmtcfg::WillFlag::Set);
    let g = w.will_qos_group.unwrap();
    assert_eq!(
        (
            g.will_qos,
            g.will_retain,
            g.will_topic.as_str(),
            g.will_message.as_str()
        ),
        (
            qmtcfg::Qos::ExactlyOnce,
            qmtcfg::Retain::Retain,
            "will/topic",
            "gone, bye"
        )
    );
    assert!(refused(sim.cfg(&qmtcfg::Will {
        client_idx: c,
        will_flag_group: Some(qmtcfg::WillWillFlagGroup {
            will_flag: qmtcfg::WillFlag::Set,
            will_qos_group: None,
        }),
    })));
    sim.cfg(&qmtcfg::Will {
        client_idx: c,
        will_flag_group: Some(qmtcfg::WillWillFlagGroup {
            will_flag: qmtcfg::WillFlag::Ignore,
            will_qos_group: None,
        }),
    })
    .unwrap();
    assert!(will(&mut sim).will_qos_group.is_none());

    sim.cfg(&qmtcfg::RecvMode {
        client_idx: c,
        msg_recv_mode: Some(qmtcfg::MsgRecvMode::Buffer),
    })
    .unwrap();
    assert_eq!(
        sim.cfg(&qmtcfg::RecvMode {
            client_idx: c,
            msg_recv_mode: None
        })
        .unwrap()[0]
            .msg_recv_mode,
        qmtcfg::MsgRecvMode::Buffer
    );

    sim.cfg(&qmtcfg::Dataformat {
        client_idx: c,
        send_mode_group: Some(qmtcfg::DataformatSendModeGroup {
            send_mode: qmtcfg::SendDataFormat::Hex,
            recvmode: qmtcfg::RecvDataFormat::String,
        }),
    })
    .unwrap();
    let d = sim
        .cfg(&qmtcfg::Dataformat {
            client_idx: c,
            send_mode_group: None,
        })
        .unwrap();
    assert_eq!(
        (d[0].send_mode, d[0].recvmode),
        (qmtcfg::SendDataFormat::Hex, qmtcfg::RecvDataFormat::String)
    );

    sim.cfg(&qmtcfg::Timeout {
        client_idx: c,
        pkt_timeout_group: Some(qmtcfg::TimeoutPktTimeoutGroup {
            pkt_timeout: Int::new(1200).unwrap(),
            retry_times: Int::new(0).unwrap(),
            timeout_notice: qmtcfg::TimeoutNotice::Report,
        }),
    })
    .unwrap();
    let t = sim
        .cfg(&qmtcfg::Timeout {
            client_idx: c,
            pkt_timeout_group: None,
        })
        .unwrap();
    assert_eq!(
        (
            t[0].pkt_timeout.get(),
            t[0].retry_times.get(),
            t[0].timeout_notice
        ),
        (1200, 0, qmtcfg::TimeoutNotice::Report)
    );

    sim.cfg(&qmtcfg::Aliauth {
        client_idx: c,
        product_key_group: Some(qmtcfg::AliauthProductKeyGroup {
            product_key: Text::new("pk").unwrap(),
            device_name: Text::new("dn").unwrap(),
            device_secret: Text::new("ds").unwrap(),
        }),
    })
    .unwrap();
    let a = sim
        .cfg(&qmtcfg::Aliauth {
            client_idx: c,
            product_key_group: None,
        })
        .unwrap();
    assert_eq!(
        (
            a[0].product_key.as_str(),
            a[0].device_name.as_str(),
            a[0].device_secret.as_str()
        ),
        ("pk", "dn", "ds")
    );
    sim.cfg(&qmtcfg::Onenet {
        client_idx: c,
        product_id_group: Some(qmtcfg::OnenetProductIdGroup {
            product_id: Text::new("pid").unwrap(),
            access_key: Text::new("key").unwrap(),
        }),
    })
    .unwrap();
    let o = sim
        .cfg(&qmtcfg::Onenet {
            client_idx: c,
            product_id_group: None,
        })
        .unwrap();
    assert_eq!(
        (o[0].product_id.as_str(), o[0].access_key.as_str()),
        ("pid", "key")
    );

    // Not saved: a reboot restores the defaults.
    sim.client
        .send(&fcm242d::generated::commands::qrst::Execute {})
        .unwrap();
    sim.settle(Duration::from_millis(500));
    assert_eq!(
        sim.cfg(&qmtcfg::Version {
            client_idx: c,
            vsn: None
        })
        .unwrap()[0]
            .vsn,
        qmtcfg::Vsn::Mqtt311
    );
}

// ====================================================================== publish and receive

const Q0: qmtpub::Qos = qmtpub::Qos::AtMostOnce;
const Q1: qmtpub::Qos = qmtpub::Qos::AtLeastOnce;
const Q2: qmtpub::Qos = qmtpub::Qos::ExactlyOnce;

/// QoS 0, 1 and 2 both ways, with the downgrade to the subscription's QoS;
/// an outside client sees what the module publishes (QoS, retain).
#[test]
fn publishes_and_receives_at_qos_0_1_2() {
    let topic = unique("qos");
    let mut peer = Peer::connect(broker(), &unique("peer"));
    assert_eq!(
        peer.subscribe(&format!("{topic}/#"), QoS::ExactlyOnce),
        SubAckReturn::Granted(QoS::ExactlyOnce)
    );
    let mut sim = Sim::online();
    sim.connected(0, &unique("qos-module"));
    assert_eq!(
        sim.sub(0, 1, &format!("{topic}/2"), qmtsub::Qos::ExactlyOnce),
        (0, Some(2))
    );
    assert_eq!(
        sim.sub(0, 2, &format!("{topic}/1"), qmtsub::Qos::AtLeastOnce),
        (0, Some(1))
    );

    // The module publishes at each QoS to its QoS 2 subscription.
    for (n, qos) in [(0, Q0), (1, Q1), (2, Q2)] {
        let msg_id = if n == 0 { 0 } else { 10 + n };
        let body = format!("qos {n} message");
        assert_eq!(
            sim.publish(
                0,
                msg_id,
                qos,
                false,
                &format!("{topic}/2"),
                body.as_bytes()
            )
            .unwrap(),
            (0, None)
        );
        let (id, t, payload) = sim.received(0);
        assert_eq!(
            (t.as_str(), payload.as_str()),
            (format!("{topic}/2").as_str(), body.as_str())
        );
        // msgID 0 exactly for QoS 0 deliveries.
        assert_eq!(id == 0, n == 0, "msgID {id} for QoS {n}");
        let seen = peer.message().unwrap();
        assert_eq!(seen.qos.as_u8(), n as u8);
        assert_eq!((seen.payload, seen.retain), (body.into_bytes(), false));
    }
    // A QoS 2 publication to a QoS 1 subscription arrives at QoS 1.
    assert_eq!(
        sim.publish(0, 20, Q2, false, &format!("{topic}/1"), b"down")
            .unwrap(),
        (0, None)
    );
    let (id, _, payload) = sim.received(0);
    assert!(id > 0);
    assert_eq!(payload, "down");
    assert_eq!(peer.message().unwrap().qos, QoS::ExactlyOnce);

    // From the outside to the module, at each QoS.
    for qos in [QoS::AtMostOnce, QoS::AtLeastOnce, QoS::ExactlyOnce] {
        peer.publish(&format!("{topic}/2"), b"from outside", qos, false);
        let (id, _, payload) = sim.received(0);
        assert_eq!(
            (id == 0, payload.as_str()),
            (qos == QoS::AtMostOnce, "from outside")
        );
        let _ = peer.message(); // its own subscription's copy
    }

    // Retained: a later subscriber gets it with RETAIN; an empty payload removes it.
    assert_eq!(
        sim.publish(0, 30, Q1, true, &format!("{topic}/kept"), b"kept")
            .unwrap(),
        (0, None)
    );
    let _ = peer.message();
    let mut late = Peer::connect(broker(), &unique("late"));
    late.subscribe(&format!("{topic}/kept"), QoS::AtLeastOnce);
    let kept = late.message().unwrap();
    assert!(kept.retain);
    assert_eq!(kept.payload, b"kept");
    let r = sim.client.send_payload(
        &qmtpub::Write {
            client_idx: idx(0),
            msg_id: Int::new(31).unwrap(),
            qos: Q1,
            retain: qmtpub::Retain::Retain,
            topic: Text::new(format!("{topic}/kept")).unwrap(),
            length: None,
        },
        b"",
    );
    assert!(matches!(r.unwrap().completion, Some(Urc::Qmtpub(_))));
    let mut later = Peer::connect(broker(), &unique("later"));
    later.subscribe(&format!("{topic}/kept"), QoS::AtLeastOnce);
    assert!(later.message_within(Duration::from_millis(300)).is_none());

    // Unsubscribed: nothing more arrives.
    let r = sim
        .client
        .send(&qmtuns::Write {
            client_idx: idx(0),
            msg_id: Int::new(3).unwrap(),
            topic: Text::new(format!("{topic}/2")).unwrap(),
            more_topic: vec![],
        })
        .unwrap();
    match r.completion {
        Some(Urc::Qmtuns(u)) => {
            assert_eq!(
                (u.msg_id.get(), u.result.wire(), u.value),
                (3, 0, Vec::new())
            )
        }
        other => panic!("{other:?}"),
    }
    peer.publish(
        &format!("{topic}/2"),
        b"not for you",
        QoS::AtLeastOnce,
        false,
    );
    sim.settle(Duration::from_millis(300));
    assert!(!sim.seen.iter().any(|u| matches!(u, Urc::QmtrecvMessage(_))));

    let r = sim
        .client
        .send(&qmtdisc::Write { client_idx: idx(0) })
        .unwrap();
    assert!(matches!(r.completion, Some(Urc::Qmtdisc(d)) if d.result.wire() == 0));
}

/// Several topics in one `AT+QMTSUB`: the granted QoS of each (the
/// manual's "vector"), 128 for a refused filter.
#[test]
fn a_subscription_to_several_topics_reports_each_granted_qos() {
    let topic = unique("multi");
    let mut u = Uart::online();
    u.send("AT+QMTOPEN=0,\"192.0.2.2\",1883");
    u.expect("OK");
    u.expect("+QMTOPEN: 0,0");
    u.send(&format!("AT+QMTCONN=0,\"{}\"", unique("multi-module")));
    u.expect("OK");
    u.expect("+QMTCONN: 0,0,0");
    u.send(&format!(
        "AT+QMTSUB=0,7,\"{topic}/a\",1,\"{topic}/b+\",2,\"{topic}/c\",2"
    ));
    u.expect("OK");
    u.expect("+QMTSUB: 0,7,0,1,128,2");
    u.send("AT+QMTCONN?");
    u.expect("+QMTCONN: 0,3");
    u.expect("OK");
    u.send("AT+QMTOPEN?");
    u.expect("+QMTOPEN: 0,\"192.0.2.2\",1883");
    u.expect("OK");
    u.send("AT+QMTDISC=0");
    u.expect("OK");
    u.expect("+QMTDISC: 0,0");
    u.send("AT+QMTOPEN?");
    u.expect("OK");
    u.send("AT+QMTCONN?");
    u.expect("OK");
    u.quiet(Duration::from_millis(200));
}

// ====================================================================== will, +QMTSTAT

fn set_will(sim: &mut Sim, i: i64, topic: &str, message: &str) {
    sim.cfg(&qmtcfg::Will {
        client_idx: idx(i),
        will_flag_group: Some(qmtcfg::WillWillFlagGroup {
            will_flag: qmtcfg::WillFlag::Set,
            will_qos_group: Some(qmtcfg::WillWillFlagGroupWillQosGroup {
                will_qos: qmtcfg::Qos::AtLeastOnce,
                will_retain: qmtcfg::Retain::NoRetain,
                will_topic: Text::new(topic).unwrap(),
                will_message: Text::new(message).unwrap(),
            }),
        }),
    })
    .unwrap();
}

/// The will goes out when the link drops (`AT+QMTCLOSE`, a reboot), not
/// after `AT+QMTDISC`.
#[test]
fn the_will_is_published_when_the_link_drops() {
    let topic = unique("will");
    let mut sim = Sim::online();
    set_will(&mut sim, 0, &topic, "client 0 is gone");
    sim.connected(0, &unique("will-0"));
    sim.connected(1, &unique("will-1"));
    assert_eq!(
        sim.sub(1, 1, &topic, qmtsub::Qos::AtLeastOnce),
        (0, Some(1))
    );

    // A clean DISCONNECT: no will.
    sim.client
        .send(&qmtdisc::Write { client_idx: idx(0) })
        .unwrap();
    sim.settle(Duration::from_millis(300));
    assert!(!sim.seen.iter().any(|u| matches!(u, Urc::QmtrecvMessage(_))));

    // The link closed without DISCONNECT: the will.
    sim.connected(0, &unique("will-0"));
    let r = sim
        .client
        .send(&qmtclose::Write { client_idx: idx(0) })
        .unwrap();
    assert!(matches!(r.completion, Some(Urc::Qmtclose(c)) if c.result.wire() == 0));
    let (id, t, payload) = sim.received(1);
    assert!(id > 0, "delivered at QoS 1");
    assert_eq!(
        (t.as_str(), payload.as_str()),
        (topic.as_str(), "client 0 is gone")
    );
    // Closed: a second close is refused.
    assert!(refused(
        sim.client.send(&qmtclose::Write { client_idx: idx(0) })
    ));

    // A module that reboots drops its links: the will of its client.
    let mut peer = Peer::connect(broker(), &unique("will-peer"));
    peer.subscribe(&topic, QoS::AtMostOnce);
    let mut other = Sim::online();
    set_will(&mut other, 2, &topic, "rebooted");
    other.connected(2, &unique("will-2"));
    other
        .client
        .send(&fcm242d::generated::commands::qrst::Execute {})
        .unwrap();
    assert_eq!(peer.message().unwrap().payload, b"rebooted");
}

/// The server closes the link: `+QMTSTAT: <idx>,1` (here because another
/// connection took the client identifier over), and the client is closed.
#[test]
fn qmtstat_when_the_broker_closes_the_link() {
    let id = unique("takeover");
    let mut sim = Sim::online();
    sim.connected(0, &id);
    let r = sim.client.send(&qmtsub::Write {
        client_idx: idx(0),
        msg_id: Int::new(1).unwrap(),
        topic: Text::new(unique("t")).unwrap(),
        qos: qmtsub::Qos::AtMostOnce,
        more_topic: vec![],
    });
    assert!(r.is_ok());
    let _peer = Peer::connect(broker(), &id);
    assert_eq!(sim.stat(0), 1);
    assert!(refused(
        sim.client.send(&qmtdisc::Write { client_idx: idx(0) })
    ));
    // It can be opened again.
    sim.connected(0, &unique("again"));
}

/// A server that accepts one connection and answers as `script` says.
fn fake_server(script: impl FnOnce(&mut Peer) + Send + 'static) -> (u16, JoinHandle<()>) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let handle = std::thread::spawn(move || {
        listener.set_nonblocking(true).unwrap();
        let deadline = Instant::now() + PATIENCE;
        let stream = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
                Err(_) => return,
            }
        };
        stream.set_nonblocking(false).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let mut peer = Peer {
            stream,
            rx: Vec::new(),
            next_id: 1,
            stash: VecDeque::new(),
        };
        script(&mut peer);
    });
    (port, handle)
}

/// Reads the CONNECT and accepts it.
fn accept_connect(p: &mut Peer) -> Connect {
    match p.recv() {
        Some(Packet::Connect(c)) => {
            p.send(&Packet::ConnAck(ConnAck {
                session_present: false,
                code: ConnectReturnCode::Accepted,
            }));
            c
        }
        other => panic!("no CONNECT: {other:?}"),
    }
}

fn set_timeout(sim: &mut Sim, i: i64, timeout: i64, retries: i64, notice: bool) {
    sim.cfg(&qmtcfg::Timeout {
        client_idx: idx(i),
        pkt_timeout_group: Some(qmtcfg::TimeoutPktTimeoutGroup {
            pkt_timeout: Int::new(timeout).unwrap(),
            retry_times: Int::new(retries).unwrap(),
            timeout_notice: if notice {
                qmtcfg::TimeoutNotice::Report
            } else {
                qmtcfg::TimeoutNotice::NoReport
            },
        }),
    })
    .unwrap();
}

/// CONNECT carries the configured version, session, keep-alive, will and
/// login; a refused CONNACK is reported with its return code.
#[test]
fn connect_carries_the_configuration_and_reports_refusals() {
    let (tx, rx) = mpsc::channel();
    let (port, server) = fake_server(move |p| {
        let c = match p.recv() {
            Some(Packet::Connect(c)) => c,
            other => panic!("{other:?}"),
        };
        p.send(&Packet::ConnAck(ConnAck {
            session_present: false,
            code: ConnectReturnCode::BadUserNameOrPassword,
        }));
        tx.send(c).unwrap();
        std::thread::sleep(Duration::from_millis(200));
    });
    let mut sim = Sim::online();
    sim.cfg(&qmtcfg::Version {
        client_idx: idx(4),
        vsn: Some(qmtcfg::Vsn::Mqtt31),
    })
    .unwrap();
    sim.cfg(&qmtcfg::Session {
        client_idx: idx(4),
        clean_session: Some(qmtcfg::CleanSession::Persistent),
    })
    .unwrap();
    sim.cfg(&qmtcfg::Keepalive {
        client_idx: idx(4),
        keep_alive_time: Some(Int::new(0).unwrap()),
    })
    .unwrap();
    set_will(&mut sim, 4, "w/t", "w m");
    assert_eq!(sim.open(4, "127.0.0.1", port), 0);
    assert_eq!(sim.conn(4, "cfg-client"), (0, Some(4)));
    let c = rx.recv_timeout(PATIENCE).unwrap();
    assert_eq!(c.protocol, ProtocolLevel::V31);
    assert_eq!(
        (c.client_id.as_str(), c.clean_session, c.keep_alive),
        ("cfg-client", false, 0)
    );
    assert_eq!(c.username.as_deref(), Some("quectel"));
    assert_eq!(c.password.as_deref(), Some(&b"quectel"[..]));
    assert_eq!(
        c.will,
        Some(Will {
            topic: "w/t".into(),
            message: b"w m".to_vec(),
            qos: QoS::AtLeastOnce,
            retain: false
        })
    );
    // The server then closes the connection.
    assert_eq!(sim.stat(4), 1);
    server.join().unwrap();
}

/// No CONNACK: `+QMTCONN: <idx>,2`, `+QMTSTAT: <idx>,4`.
#[test]
fn a_missing_connack_fails_the_connect() {
    let (port, server) = fake_server(|p| {
        let _ = p.recv();
        let _ = p.closed();
    });
    let mut sim = Sim::online();
    set_timeout(&mut sim, 0, 1, 3, false);
    assert_eq!(sim.open(0, "127.0.0.1", port), 0);
    assert_eq!(sim.conn(0, "no-connack"), (2, None));
    assert_eq!(sim.stat(0), 4);
    server.join().unwrap();
}

/// No PINGRESP: `+QMTSTAT: <idx>,2`; the PINGREQ came after the
/// keep-alive interval.
#[test]
fn a_missing_pingresp_ends_the_connection() {
    let (tx, rx) = mpsc::channel();
    let (port, server) = fake_server(move |p| {
        accept_connect(p);
        let started = Instant::now();
        if let Some(Packet::PingReq) = p.recv() {
            tx.send(started.elapsed()).unwrap();
        }
        let _ = p.closed();
    });
    let mut sim = Sim::online();
    set_timeout(&mut sim, 0, 1, 3, false);
    sim.cfg(&qmtcfg::Keepalive {
        client_idx: idx(0),
        keep_alive_time: Some(Int::new(1).unwrap()),
    })
    .unwrap();
    assert_eq!(sim.open(0, "127.0.0.1", port), 0);
    assert_eq!(sim.conn(0, "no-pingresp"), (0, Some(0)));
    assert_eq!(sim.stat(0), 2);
    assert!(rx.recv_timeout(PATIENCE).unwrap() >= Duration::from_millis(900));
    server.join().unwrap();
}

/// Without acknowledgement: retransmissions (DUP set), each reported with
/// `<timeout_notice>` 1, then `<result>` 2 and `+QMTSTAT: <idx>,6`. An
/// acknowledgement after a retransmission ends the command with 0.
#[test]
fn unacknowledged_packets_are_retransmitted() {
    let (tx, rx) = mpsc::channel();
    let (port, server) = fake_server(move |p| {
        accept_connect(p);
        // Message 1: never acknowledged (three sends).
        for _ in 0..3 {
            match p.recv() {
                Some(Packet::Publish(m)) => tx.send((m.packet_id, m.dup)).unwrap(),
                other => panic!("{other:?}"),
            }
        }
        let _ = p.closed();
    });
    let mut sim = Sim::online();
    set_timeout(&mut sim, 0, 1, 2, true);
    assert_eq!(sim.open(0, "127.0.0.1", port), 0);
    assert_eq!(sim.conn(0, "retry"), (0, Some(0)));
    // The notices (<result> 1, <value> 1 and 2) are part of the command's
    // series, which the failure (<result> 2) ends.
    assert_eq!(sim.publish(0, 1, Q1, false, "t", b"x").unwrap(), (2, None));
    assert_eq!(sim.stat(0), 6);
    let sends: Vec<_> = rx.try_iter().collect();
    assert_eq!(
        sends,
        vec![(Some(1), false), (Some(1), true), (Some(1), true)]
    );
    server.join().unwrap();

    // Acknowledged after one retransmission (notices off): result 0.
    let (port, server) = fake_server(|p| {
        accept_connect(p);
        let Some(Packet::Subscribe(s)) = p.recv() else {
            panic!("no SUBSCRIBE")
        };
        let Some(Packet::Subscribe(again)) = p.recv() else {
            panic!("no second SUBSCRIBE")
        };
        assert_eq!(s, again);
        p.send(&Packet::SubAck(SubAck {
            packet_id: s.packet_id,
            codes: vec![SubAckReturn::Granted(QoS::AtLeastOnce)],
        }));
        let _ = p.closed();
    });
    set_timeout(&mut sim, 1, 1, 3, false);
    assert_eq!(sim.open(1, "127.0.0.1", port), 0);
    assert_eq!(sim.conn(1, "retry-2"), (0, Some(0)));
    assert_eq!(sim.sub(1, 9, "s", qmtsub::Qos::AtLeastOnce), (0, Some(1)));
    sim.client
        .send(&qmtclose::Write { client_idx: idx(1) })
        .unwrap();
    server.join().unwrap();
}

/// MQTT forbids packet identifier 0: a SUBSCRIBE or UNSUBSCRIBE for
/// `<msgID>` 0 goes out with a non-zero one (the highest free), and the
/// URCs report `<msgID>` 0 (errata MQTT-19).
#[test]
fn msg_id_0_goes_out_with_a_valid_packet_identifier() {
    let (tx, rx) = mpsc::channel();
    let (port, server) = fake_server(move |p| {
        accept_connect(p);
        let Some(Packet::Subscribe(s)) = p.recv() else {
            panic!("no SUBSCRIBE")
        };
        tx.send(s.packet_id).unwrap();
        p.send(&Packet::SubAck(SubAck {
            packet_id: s.packet_id,
            codes: vec![SubAckReturn::Granted(QoS::AtLeastOnce)],
        }));
        let Some(Packet::Unsubscribe(u)) = p.recv() else {
            panic!("no UNSUBSCRIBE")
        };
        tx.send(u.packet_id).unwrap();
        p.send(&Packet::UnsubAck(u.packet_id));
        let _ = p.closed();
    });
    let mut u = Uart::online();
    u.send(&format!("AT+QMTOPEN=0,\"127.0.0.1\",{port}"));
    u.expect("OK");
    u.expect("+QMTOPEN: 0,0");
    u.send("AT+QMTCONN=0,\"zero\"");
    u.expect("OK");
    u.expect("+QMTCONN: 0,0,0");
    u.send("AT+QMTSUB=0,0,\"t\",1");
    u.expect("OK");
    u.expect("+QMTSUB: 0,0,0,1");
    u.send("AT+QMTUNS=0,0,\"t\"");
    u.expect("OK");
    u.expect("+QMTUNS: 0,0,0");
    let ids: Vec<u16> = rx.try_iter().collect();
    assert_eq!(
        ids,
        vec![u16::MAX, u16::MAX],
        "packet identifiers on the wire"
    );
    u.send("AT+QMTCLOSE=0");
    u.expect("OK");
    u.expect("+QMTCLOSE: 0,0");
    u.quiet(Duration::from_millis(100));
    server.join().unwrap();
}

/// The inflight window: five QoS 1 publications without acknowledgement,
/// the sixth is refused; so are a used or zero `<msgID>`, a topic with a
/// wildcard, and commands of a client that is not connected.
#[test]
fn commands_refused_by_the_client_state() {
    let (port, server) = fake_server(|p| {
        accept_connect(p);
        let _ = p.closed();
    });
    let mut u = Uart::online();
    // Not open, not connected.
    u.send("AT+QMTPUB=0,1,1,0,\"t\",1");
    u.expect("ERROR");
    u.send("AT+QMTCONN=0,\"x\"");
    u.expect("ERROR");
    u.send("AT+QMTCLOSE=0");
    u.expect("ERROR");
    u.send(&format!("AT+QMTOPEN=0,\"127.0.0.1\",{port}"));
    u.expect("OK");
    u.expect("+QMTOPEN: 0,0");
    u.send(&format!("AT+QMTOPEN=0,\"127.0.0.1\",{port}"));
    u.expect("OK");
    u.expect("+QMTOPEN: 0,2"); // MQTT ID is occupied
    u.send("AT+QMTDISC=0");
    u.expect("ERROR");
    u.send("AT+QMTSUB=0,1,\"t\",0");
    u.expect("ERROR");
    u.send("AT+QMTCONN=0,\"window\"");
    u.expect("OK");
    u.expect("+QMTCONN: 0,0,0");
    u.send("AT+QMTCONN=0,\"again\"");
    u.expect("ERROR");
    // Five QoS 1 publications that are never acknowledged.
    for id in 1..=5 {
        u.send(&format!("AT+QMTPUB=0,{id},1,0,\"t\",1"));
        u.prompt();
        u.write(b"x");
        u.expect("OK");
    }
    u.send("AT+QMTPUB=0,6,1,0,\"t\",1");
    u.expect("ERROR");
    u.send("AT+QMTPUB=0,6,2,0,\"t\",1");
    u.expect("ERROR");
    // QoS 0 is not counted (and needs no identifier).
    u.send("AT+QMTPUB=0,0,0,0,\"t\",1");
    u.prompt();
    u.write(b"x");
    u.expect("OK");
    u.expect("+QMTPUB: 0,0,0");
    u.send("AT+QMTPUB=0,0,1,0,\"t\",1");
    u.expect("ERROR");
    u.send("AT+QMTPUB=0,7,0,0,\"t/#\",1");
    u.expect("ERROR");
    // A used identifier (0 is a valid one: the manual gives 0--65535,
    // erratum RT-3).
    u.send("AT+QMTSUB=0,3,\"t\",0");
    u.expect("ERROR");
    u.send("AT+QMTCONN?");
    u.expect("+QMTCONN: 0,3");
    u.expect("OK");
    u.send("AT+QMTCLOSE=0");
    u.expect("OK");
    u.expect("+QMTCLOSE: 0,0");
    u.quiet(Duration::from_millis(100));
    server.join().unwrap();
}

/// `+QMTOPEN` results for the failures the simulated network can cause.
#[test]
fn open_reports_network_failures() {
    let mut sim = Sim::offline_in(World::default());
    assert_eq!(sim.open(0, "192.0.2.2", 1883), 5, "no IP interface");
    let mut sim = Sim::online();
    assert_eq!(sim.open(0, "no-such-host.example", 1883), 4);
    assert_eq!(sim.open(0, "192.0.2.99", 1883), 3, "nothing there");
    let closed = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    assert_eq!(sim.open(0, "127.0.0.1", port), 3, "refused");
    assert_eq!(sim.open(0, "www.example.com", 1883), 0, "a host name");
    sim.client
        .send(&qmtclose::Write { client_idx: idx(0) })
        .unwrap();
    assert_eq!(sim.open(0, "127.0.0.1", port), 3);
}

/// The station leaves its network: `+QMTSTAT: <idx>,7`.
#[test]
fn losing_the_network_ends_the_connection() {
    let mut sim = Sim::online();
    sim.connected(0, &unique("netloss"));
    sim.client.send(&qstastop::Execute {}).unwrap();
    assert_eq!(sim.stat(0), 7);
}

// ====================================================================== buffered receive

/// `"recv/mode"` 1: messages go to the five buffers with `+QMTRECV:
/// <idx>,<recv_id>`; `AT+QMTRECV?` shows them, `AT+QMTRECV=<idx>,<id>`
/// reads one, `AT+QMTRECV=<idx>` the rest in arrival order; messages that
/// found the buffers full take the freed ones.
#[test]
fn buffered_receive() {
    let topic = unique("buffered");
    let mut sim = Sim::online();
    sim.cfg(&qmtcfg::RecvMode {
        client_idx: idx(2),
        msg_recv_mode: Some(qmtcfg::MsgRecvMode::Buffer),
    })
    .unwrap();
    sim.connected(2, &unique("buffered-module"));
    assert_eq!(
        sim.sub(2, 1, &topic, qmtsub::Qos::AtLeastOnce),
        (0, Some(1))
    );
    let mut peer = Peer::connect(broker(), &unique("buffered-peer"));
    for n in 0..7 {
        peer.publish(
            &topic,
            format!("message {n}").as_bytes(),
            QoS::AtLeastOnce,
            false,
        );
    }
    let stored = |sim: &mut Sim| {
        sim.wait_for("+QMTRECV stored", |u| match u {
            Urc::QmtrecvStored(s) if s.client_idx.get() == 2 => Some(s.recv_id.get()),
            _ => None,
        })
    };
    for slot in 0..5 {
        assert_eq!(stored(&mut sim), slot);
    }
    sim.settle(Duration::from_millis(200));
    assert!(
        !sim.seen.iter().any(|u| matches!(u, Urc::QmtrecvStored(_))),
        "two wait"
    );
    let status = sim.cfg(&qmtrecv::Read {}).unwrap();
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].client_idx.get(), 2);
    assert_eq!(status[0].store_status4, qmtrecv::StoreStatus::HasMessages);

    // Read buffer 3: message 3; message 5 takes buffer 3.
    let one = sim
        .cfg(&qmtrecv::Write {
            client_idx: idx(2),
            receive_id: Some(Int::new(3).unwrap()),
        })
        .unwrap();
    assert_eq!(one.len(), 1);
    assert_eq!(
        (one[0].topic.as_str(), one[0].payload.as_slice()),
        (topic.as_str(), &b"message 3"[..])
    );
    assert!(one[0].msg_id.get() > 0);
    assert_eq!(one[0].payload_len.get(), 9);
    assert_eq!(stored(&mut sim), 3);

    // Read all: arrival order 0, 1, 2, 4, 5 (in buffer 3); then message 6.
    let all = sim
        .cfg(&qmtrecv::Write {
            client_idx: idx(2),
            receive_id: None,
        })
        .unwrap();
    let texts: Vec<&str> = all
        .iter()
        .map(|l| std::str::from_utf8(&l.payload).unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "message 0",
            "message 1",
            "message 2",
            "message 4",
            "message 5"
        ]
    );
    assert_eq!(stored(&mut sim), 0);
    let last = sim
        .cfg(&qmtrecv::Write {
            client_idx: idx(2),
            receive_id: Some(Int::new(0).unwrap()),
        })
        .unwrap();
    assert_eq!(last[0].payload, b"message 6");
    // Empty now.
    assert!(refused(sim.cfg(&qmtrecv::Write {
        client_idx: idx(2),
        receive_id: Some(Int::new(0).unwrap()),
    })));
    assert!(sim
        .cfg(&qmtrecv::Write {
            client_idx: idx(2),
            receive_id: None,
        })
        .unwrap()
        .is_empty());
    let status = sim.cfg(&qmtrecv::Read {}).unwrap();
    assert_eq!(status[0].store_status0, qmtrecv::StoreStatus::Empty);
    assert!(!sim.seen.iter().any(|u| matches!(u, Urc::QmtrecvMessage(_))));
}

// ====================================================================== data integrity

fn hex(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02X}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// A reproducible stream of bytes (xorshift).
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// Hex mode both ways carries every byte value: about 2 MB the module
/// publishes to itself (QoS 0 and 1) come back in order, each exactly once
/// and unchanged, and match what an outside subscriber got.
#[test]
fn hex_mode_carries_every_byte_value_through_megabytes() {
    let topic = unique("hex");
    let mut peer = Peer::connect(broker(), &unique("hex-peer"));
    peer.subscribe(&topic, QoS::AtLeastOnce);
    let mut sim = Sim::online();
    sim.cfg(&qmtcfg::Dataformat {
        client_idx: idx(0),
        send_mode_group: Some(qmtcfg::DataformatSendModeGroup {
            send_mode: qmtcfg::SendDataFormat::Hex,
            recvmode: qmtcfg::RecvDataFormat::Hex,
        }),
    })
    .unwrap();
    sim.connected(0, &unique("hex-module"));
    assert_eq!(
        sim.sub(0, 1, &topic, qmtsub::Qos::AtLeastOnce),
        (0, Some(1))
    );
    let all: Vec<u8> = (0..=255u8).collect();
    let mut sent = Vec::new();
    let mut total = 0;
    let mut n = 0u64;
    while total < 2 * 1024 * 1024 {
        // Every byte value in the first messages, then noise of many sizes.
        let payload = if n < 4 {
            let mut p = all.clone();
            p.rotate_left(n as usize * 64);
            p.extend_from_slice(&all);
            p.extend_from_slice(&all);
            p.extend_from_slice(&all);
            p
        } else {
            noise(n, 1 + (n as usize * 37) % 1024)
        };
        // Some at QoS 1 (each waits for its PUBACK, which the serve loop
        // notices at its next poll, so not too many).
        let (qos, msg_id) = if n.is_multiple_of(64) {
            (Q1, 1 + (n % 1000) as i64)
        } else {
            (Q0, 0)
        };
        assert_eq!(
            sim.publish(0, msg_id, qos, false, &topic, hex(&payload).as_bytes())
                .unwrap(),
            (0, None)
        );
        total += payload.len();
        sent.push(payload);
        n += 1;
        // Keep up with what comes back, so the client's queue stays short.
        sim.seen.extend(
            sim.client
                .take_urcs()
                .into_iter()
                .filter_map(Notice::into_urc),
        );
    }
    let mut got = Vec::new();
    while got.len() < sent.len() {
        let (_, t, payload) = sim.received(0);
        assert_eq!(t, topic);
        got.push(unhex(&payload));
    }
    assert_eq!(got.len(), sent.len());
    assert!(got == sent, "the payloads came back unchanged, in order");
    for expected in &sent {
        assert_eq!(&peer.message().unwrap().payload, expected);
    }
    sim.settle(Duration::from_millis(200));
    assert!(
        !sim.seen.iter().any(|u| matches!(u, Urc::QmtrecvMessage(_))),
        "no duplicates"
    );
}

/// String mode, byte for byte: a payload of every byte value (CR, LF,
/// `"`, Ctrl+Z, Esc, NUL and bytes that are not UTF-8 included) goes out
/// exactly as typed with a fixed `<length>`, and comes back between the
/// quotes exactly as it arrived, found by its `<payload_length>`. Up to
/// 10240 bytes are reported; a longer message is not. About 1 MB in all.
#[test]
fn string_mode_passes_payload_bytes_unchanged() {
    let topic = unique("raw");
    let mut peer = Peer::connect(broker(), &unique("raw-peer"));
    peer.subscribe(&topic, QoS::ExactlyOnce);
    let mut u = Uart::online();
    u.send("AT+QMTOPEN=1,\"192.0.2.2\",1883");
    u.expect("OK");
    u.expect("+QMTOPEN: 1,0");
    u.send(&format!("AT+QMTCONN=1,\"{}\"", unique("raw-module")));
    u.expect("OK");
    u.expect("+QMTCONN: 1,0,0");
    u.send(&format!("AT+QMTSUB=1,1,\"{topic}\",2"));
    u.expect("OK");
    u.expect("+QMTSUB: 1,1,0,2");

    // Host to server: every byte value, fixed length.
    let mut all: Vec<u8> = (0..=255u8).collect();
    all.extend((0..=255u8).rev());
    for (i, qos) in [(1u16, 0u8), (2, 1), (3, 2)] {
        u.send(&format!(
            "AT+QMTPUB=1,{i},{qos},0,\"{topic}\",{}",
            all.len()
        ));
        u.prompt();
        u.write(&all);
        u.expect("OK");
        u.expect(&format!("+QMTPUB: 1,{i},0"));
        let m = peer.message().unwrap();
        assert_eq!((m.payload.as_slice(), m.qos.as_u8()), (all.as_slice(), qos));
        // And back to the module, through its own subscription.
        let (id, t, payload) = u.message(1);
        assert_eq!((id == 0, t.as_str()), (qos == 0, topic.as_str()));
        assert_eq!(payload, all);
    }

    // Server to host: messages of many sizes and contents.
    let mut total = 0;
    let mut n = 0u64;
    while total < 1024 * 1024 {
        let len = [0, 1, 2, 255, 4096, 10239, 10240][n as usize % 7];
        let payload = noise(n + 99, len);
        peer.publish(&topic, &payload, QoS::AtLeastOnce, false);
        let m = peer.message().unwrap(); // its own copy
        assert_eq!(m.payload, payload);
        let (id, _, got) = u.message(1);
        assert!(id > 0);
        assert_eq!(got, payload, "message {n} ({len} bytes)");
        total += len;
        n += 1;
    }
    // Longer than <payload_length> allows: not reported.
    peer.publish(&topic, &vec![b'x'; 10241], QoS::AtLeastOnce, false);
    let _ = peer.message();
    peer.publish(&topic, b"after", QoS::AtLeastOnce, false);
    let _ = peer.message();
    let (_, _, got) = u.message(1);
    assert_eq!(got, b"after");
    u.quiet(Duration::from_millis(200));
}

/// A text payload with commas, quotes and non-ASCII characters comes back
/// through the runtime client as a typed URC: the payload is framed by its
/// `<payload_length>` (errata RT-1), so a quote inside it is just a byte.
#[test]
fn text_payloads_reach_the_runtime_client() {
    let topic = unique("text");
    let mut sim = Sim::online();
    sim.connected(5, &unique("text-module"));
    assert_eq!(
        sim.sub(5, 1, &topic, qmtsub::Qos::ExactlyOnce),
        (0, Some(2))
    );
    for text in [
        "a,b,c",
        "héllo wörld ✓",
        "x",
        "1,\"q\"",
        &"long ".repeat(400),
    ] {
        assert_eq!(
            sim.publish(5, 2, Q2, false, &topic, text.as_bytes())
                .unwrap(),
            (0, None)
        );
        let (id, _, payload) = sim.received(5);
        assert!(id > 0);
        assert_eq!(payload, text);
    }
}

// ====================================================================== MQTT over TLS

/// Writes `data` to the UFS file `name` the way the manual's example does.
fn write_file(u: &mut Uart, name: &str, data: &[u8]) {
    u.send(&format!("AT+QFOPEN=\"{name}\""));
    u.expect("+QFOPEN: 1");
    u.expect("OK");
    u.send(&format!("AT+QFWRITE=1,{}", data.len()));
    u.expect("CONNECT");
    u.write(data);
    u.expect(&format!("+QFWRITE: {0},{0}", data.len()));
    u.expect("OK");
    u.send("AT+QFCLOSE=1");
    u.expect("OK");
}

/// "MQTT Operation with SSL" against the embedded broker behind TLS with
/// client authentication (192.0.2.2:8307), with the test PKI's files. As
/// printed, the example puts the certificate paths on SSL context 1 but
/// binds MQTT client 0 to context 2 (erratum SCN-21): that open fails with
/// `<result>` 1 (context 2 has no CA file for its `seclevel` 2). With the
/// paths on context 2 every line of the example follows, exactly.
#[test]
fn manual_example_mqtt_with_ssl() {
    use fcm242d_sim::services::tls::{CA_PEM, CLIENT_CERT_PEM, CLIENT_KEY_PEM};
    let mut u = Uart::online();
    u.send("AT+QMTCFG=\"recv/mode\",0,0");
    u.expect("OK");
    u.send("AT+QMTCFG=\"ssl\",0,1,2");
    u.expect("OK");
    write_file(&mut u, "ca.pem", CA_PEM.as_bytes());
    write_file(&mut u, "user.pem", CLIENT_CERT_PEM.as_bytes());
    write_file(&mut u, "user_key.pem", CLIENT_KEY_PEM.as_bytes());
    for line in [
        "AT+QSSLCFG=\"cacert\",1,\"ca.pem\"",
        "AT+QSSLCFG=\"clientcert\",1,\"user.pem\"",
        "AT+QSSLCFG=\"clientkey\",1,\"user_key.pem\"",
        "AT+QSSLCFG=\"seclevel\",2,2",
        "AT+QSSLCFG=\"sslversion\",2,4",
        "AT+QSSLCFG=\"ciphersuite\",2,0xFFFF",
        "AT+QSSLCFG=\"ignorelocaltime\",2,1",
    ] {
        u.send(line);
        u.expect("OK");
    }
    // As printed: context 2 has no CA certificate.
    u.send("AT+QMTOPEN=0,\"192.0.2.2\",8307");
    u.expect("OK");
    u.expect("+QMTOPEN: 0,1");
    // The certificates on the context the client uses.
    for line in [
        "AT+QSSLCFG=\"cacert\",2,\"ca.pem\"",
        "AT+QSSLCFG=\"clientcert\",2,\"user.pem\"",
        "AT+QSSLCFG=\"clientkey\",2,\"user_key.pem\"",
    ] {
        u.send(line);
        u.expect("OK");
    }
    let topic = "$aws/things/M26_0206/shadow/update/accepted";
    u.send("AT+QMTOPEN=0,\"192.0.2.2\",8307");
    u.expect("OK");
    u.expect("+QMTOPEN: 0,0");
    // (Not the example's "test": that client is the plain example's, and
    // the broker is shared by the test process.)
    u.send("AT+QMTCONN=0,\"test-ssl\",\"quectel\",\"quectel\"");
    u.expect("OK");
    u.expect("+QMTCONN: 0,0,0");
    u.send(&format!("AT+QMTSUB=0,1,\"{topic}\",1"));
    u.expect("OK");
    u.expect("+QMTSUB: 0,1,0,1");
    u.send(&format!("AT+QMTPUB=0,1,1,0,\"{topic}\",32"));
    u.prompt();
    u.write(b"This is publish data from client");
    u.expect("OK");
    u.expect("+QMTPUB: 0,1,0");
    u.expect(&format!(
        "+QMTRECV: 0,1,\"{topic}\",32,\"This is publish data from client\""
    ));
    u.send("AT+QMTDISC=0");
    u.expect("OK");
    u.expect("+QMTDISC: 0,0");
    u.quiet(Duration::from_millis(300));
}

/// TLS without client authentication (192.0.2.2:8883, seclevel 1 with the
/// CA file) carries the same traffic; a handshake the module refuses (no
/// CA file names the server's issuer) fails the open with `<result>` 3.
#[test]
fn mqtt_over_tls_verifies_the_server() {
    use fcm242d_sim::services::tls::CA_PEM;
    let topic = unique("tls");
    let mut u = Uart::online();
    write_file(&mut u, "ca.pem", CA_PEM.as_bytes());
    write_file(
        &mut u,
        "other.pem",
        fcm242d_sim::services::tls::CLIENT_CERT_PEM.as_bytes(),
    );
    for line in [
        "AT+QSSLCFG=\"seclevel\",3,1",
        "AT+QSSLCFG=\"cacert\",3,\"other.pem\"",
        "AT+QMTCFG=\"ssl\",2,1,3",
        "AT+QMTCFG=\"dataformat\",2,1,1",
    ] {
        u.send(line);
        u.expect("OK");
    }
    u.send("AT+QMTOPEN=2,\"www.example.com\",8883");
    u.expect("OK");
    u.expect("+QMTOPEN: 2,3");
    u.send("AT+QSSLCFG=\"cacert\",3,\"ca.pem\"");
    u.expect("OK");
    u.send("AT+QMTOPEN=2,\"www.example.com\",8883");
    u.expect("OK");
    u.expect("+QMTOPEN: 2,0");
    u.send(&format!("AT+QMTCONN=2,\"{}\"", unique("tls-module")));
    u.expect("OK");
    u.expect("+QMTCONN: 2,0,0");
    u.send(&format!("AT+QMTSUB=2,5,\"{topic}\",2"));
    u.expect("OK");
    u.expect("+QMTSUB: 2,5,0,2");
    let payload: Vec<u8> = (0..=255u8).collect();
    for (i, qos) in [(0, 0), (6, 1), (7, 2)] {
        u.send(&format!("AT+QMTPUB=2,{i},{qos},0,\"{topic}\",512"));
        u.prompt();
        u.write(hex(&payload).as_bytes());
        u.expect("OK");
        u.expect(&format!("+QMTPUB: 2,{i},0"));
        let (_, t, got) = u.message_hex(2);
        assert_eq!(t, topic);
        assert_eq!(got, payload);
    }
    u.send("AT+QMTDISC=2");
    u.expect("OK");
    u.expect("+QMTDISC: 2,0");
    u.quiet(Duration::from_millis(200));
}

// ====================================================================== the broker

/// A persistent session keeps its subscriptions and the QoS 1 and 2
/// messages that came while its client was away; a clean one does not.
#[test]
fn broker_keeps_persistent_sessions() {
    let id = unique("persistent");
    let topic = unique("persistent-topic");
    let (mut p, ack) = Peer::connect_with(broker(), &id, false, None);
    assert!(!ack.session_present);
    p.subscribe(&topic, QoS::ExactlyOnce);
    p.send(&Packet::Disconnect);
    assert!(p.closed());

    let mut publisher = Peer::connect(broker(), &unique("publisher"));
    publisher.publish(&topic, b"kept 1", QoS::AtLeastOnce, false);
    publisher.publish(&topic, b"dropped", QoS::AtMostOnce, false);
    publisher.publish(&topic, b"kept 2", QoS::ExactlyOnce, false);

    let (mut p, ack) = Peer::connect_with(broker(), &id, false, None);
    assert!(ack.session_present);
    let first = p.message().unwrap();
    assert_eq!(
        (first.payload.as_slice(), first.qos),
        (&b"kept 1"[..], QoS::AtLeastOnce)
    );
    let second = p.message().unwrap();
    assert_eq!(
        (second.payload.as_slice(), second.qos),
        (&b"kept 2"[..], QoS::ExactlyOnce)
    );
    assert!(p.message_within(Duration::from_millis(200)).is_none());
    // Still subscribed.
    publisher.publish(&topic, b"live", QoS::AtLeastOnce, false);
    assert_eq!(p.message().unwrap().payload, b"live");
    p.send(&Packet::Disconnect);
    assert!(p.closed());

    // A clean session starts empty and ends with its connection.
    let (mut p, ack) = Peer::connect_with(broker(), &id, true, None);
    assert!(!ack.session_present);
    publisher.publish(&topic, b"nobody", QoS::AtLeastOnce, false);
    assert!(p.message_within(Duration::from_millis(200)).is_none());
}

/// Each message reaches a subscriber once, at the best QoS its matching
/// subscriptions grant; `#` and `+` skip `$` topics; a resent QoS 2
/// message is routed once.
#[test]
fn broker_routes_by_filters() {
    let base = unique("route");
    let mut sub = Peer::connect(broker(), &unique("router"));
    sub.subscribe(&format!("{base}/+/x"), QoS::AtMostOnce);
    sub.subscribe(&format!("{base}/#"), QoS::AtLeastOnce);
    // (Not `#`: the broker carries every test's traffic.)
    sub.subscribe(&format!("+/{base}"), QoS::AtMostOnce);
    let mut publisher = Peer::connect(broker(), &unique("router-pub"));
    publisher.publish(&format!("{base}/a/x"), b"one", QoS::ExactlyOnce, false);
    let m = sub.message().unwrap();
    assert_eq!(
        (m.payload.as_slice(), m.qos),
        (&b"one"[..], QoS::AtLeastOnce)
    );
    assert!(
        sub.message_within(Duration::from_millis(200)).is_none(),
        "once"
    );

    publisher.publish(&format!("$SYS/{base}"), b"dollar", QoS::AtMostOnce, false);
    assert!(sub.message_within(Duration::from_millis(200)).is_none());
    publisher.publish(&format!("SYS/{base}"), b"plain", QoS::AtMostOnce, false);
    assert_eq!(sub.message().unwrap().payload, b"plain");

    // QoS 2 sent twice (DUP) before PUBREL: one delivery.
    let p = Publish {
        dup: false,
        qos: QoS::ExactlyOnce,
        retain: false,
        topic: format!("{base}/q2"),
        packet_id: Some(77),
        payload: b"exactly once".to_vec(),
    };
    publisher.send(&Packet::Publish(p.clone()));
    assert_eq!(publisher.ack(), Packet::PubRec(77));
    publisher.send(&Packet::Publish(Publish { dup: true, ..p }));
    assert_eq!(publisher.ack(), Packet::PubRec(77));
    publisher.send(&Packet::PubRel(77));
    assert_eq!(publisher.ack(), Packet::PubComp(77));
    assert_eq!(sub.message().unwrap().payload, b"exactly once");
    assert!(
        sub.message_within(Duration::from_millis(200)).is_none(),
        "once"
    );
}

/// Keep-alive, protocol errors and refusals: the will is published when
/// the broker closes a connection that broke the rules or went silent.
#[test]
fn broker_closes_bad_or_silent_connections() {
    let topic = unique("broker-will");
    let mut watcher = Peer::connect(broker(), &unique("watcher"));
    watcher.subscribe(&topic, QoS::AtLeastOnce);
    let will = |m: &str| {
        Some(Will {
            topic: topic.clone(),
            message: m.as_bytes().to_vec(),
            qos: QoS::AtLeastOnce,
            retain: false,
        })
    };

    // Silent for 1.5 × keep-alive.
    let stream = TcpStream::connect(broker()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let mut silent = Peer {
        stream,
        rx: Vec::new(),
        next_id: 1,
        stash: VecDeque::new(),
    };
    silent.send(&Packet::Connect(Connect {
        protocol: ProtocolLevel::V311,
        client_id: unique("silent"),
        clean_session: true,
        keep_alive: 1,
        will: will("silent"),
        username: None,
        password: None,
    }));
    assert!(matches!(silent.recv(), Some(Packet::ConnAck(_))));
    let started = Instant::now();
    assert!(silent.closed());
    assert!(started.elapsed() >= Duration::from_millis(1400));
    assert_eq!(watcher.message().unwrap().payload, b"silent");

    // A PUBLISH to a topic with a wildcard.
    let (mut bad, _) = Peer::connect_with(broker(), &unique("bad"), true, will("bad"));
    bad.send(&Packet::Publish(Publish {
        dup: false,
        qos: QoS::AtMostOnce,
        retain: false,
        topic: "a/#".into(),
        packet_id: None,
        payload: vec![],
    }));
    assert!(bad.closed());
    assert_eq!(watcher.message().unwrap().payload, b"bad");

    // Bytes that are no packet.
    let (mut garbage, _) = Peer::connect_with(broker(), &unique("garbage"), true, will("garbage"));
    garbage.stream.write_all(&[0xF0, 0x00]).unwrap();
    assert!(garbage.closed());
    assert_eq!(watcher.message().unwrap().payload, b"garbage");

    // A clean DISCONNECT: no will.
    let (mut polite, _) = Peer::connect_with(broker(), &unique("polite"), true, will("polite"));
    polite.send(&Packet::Disconnect);
    assert!(polite.closed());
    assert!(watcher.message_within(Duration::from_millis(300)).is_none());

    // Refusals.
    let raw = |bytes: &[u8]| {
        let mut s = TcpStream::connect(broker()).unwrap();
        s.set_read_timeout(Some(PATIENCE)).unwrap();
        s.write_all(bytes).unwrap();
        let mut buf = [0u8; 16];
        let n = s.read(&mut buf).unwrap_or(0);
        buf[..n].to_vec()
    };
    let mut level5 = vec![
        0x10, 13, 0, 4, b'M', b'Q', b'T', b'T', 5, 2, 0, 60, 0, 1, b'c',
    ];
    assert_eq!(
        raw(&level5),
        [0x20, 2, 0, 1],
        "unacceptable protocol version"
    );
    level5[8] = 4;
    level5[9] = 0; // persistent session, empty client identifier:
    level5[13] = 0;
    level5.truncate(14);
    level5[1] = 12;
    assert_eq!(raw(&level5), [0x20, 2, 0, 2], "identifier rejected");
    assert_eq!(
        raw(&encode(&Packet::PingReq).unwrap()),
        b"",
        "CONNECT first"
    );
    // An empty identifier with a clean session gets one.
    let (mut anon, ack) = Peer::connect_with(broker(), "", true, None);
    assert_eq!(ack.code, ConnectReturnCode::Accepted);
    anon.send(&Packet::PingReq);
    assert_eq!(anon.recv(), Some(Packet::PingResp));
}

/// The world the manual's example expects: a retained message on
/// `topic/example`.
#[test]
fn broker_starts_with_the_manuals_retained_message() {
    let (qos, payload) =
        fcm242d_sim::services::broker::registry::retained("topic/example").unwrap();
    assert_eq!(qos, QoS::AtMostOnce);
    assert_eq!(payload, b"This is the payload related to topic");
    assert_eq!(payload.len(), 36);
}

/// While the UART is in transparent mode with a TCP socket, MQTT messages
/// still arrive, but their URCs wait for command mode.
#[test]
fn urcs_wait_while_the_uart_is_transparent() {
    let topic = unique("transparent");
    let mut u = Uart::new(World {
        guard_time_ms: 50,
        ..World::default()
    });
    u.send("AT+QSTAAPINFO=\"sim-ap\",\"sim-password\"");
    u.expect("+QSTASTAT: \"GOT_IP\"");
    u.buf.clear();
    u.send("AT+QMTOPEN=0,\"192.0.2.2\",1883");
    u.expect("OK");
    u.expect("+QMTOPEN: 0,0");
    u.send(&format!(
        "AT+QMTCONN=0,\"{}\"",
        unique("transparent-module")
    ));
    u.expect("OK");
    u.expect("+QMTCONN: 0,0,0");
    u.send(&format!("AT+QMTSUB=0,1,\"{topic}\",1"));
    u.expect("OK");
    u.expect("+QMTSUB: 0,1,0,1");
    u.send("AT+QIOPEN=1,\"TCP\",\"192.0.2.2\",7,0,2");
    u.expect("CONNECT");
    u.write(b"ping");
    u.wait("the echo", |buf| {
        let at = find(buf, b"ping")?;
        buf.drain(..at + 4);
        Some(())
    });
    let mut peer = Peer::connect(broker(), &unique("transparent-peer"));
    peer.publish(&topic, b"during", QoS::AtLeastOnce, false);
    let until = Instant::now() + Duration::from_millis(300);
    while Instant::now() < until {
        u.pump();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(u.buf.is_empty(), "{:?}", String::from_utf8_lossy(&u.buf));
    std::thread::sleep(Duration::from_millis(100));
    u.write(b"+++");
    std::thread::sleep(Duration::from_millis(100));
    u.pump();
    u.expect("OK");
    let (id, t, payload) = u.message(0);
    assert!(id > 0);
    assert_eq!((t, payload), (topic, b"during".to_vec()));
}
