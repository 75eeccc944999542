//! The embedded MQTT broker: a real MQTT 3.1.1 (and 3.1) server, shared by
//! every connection of one world's services ([`crate::services::Services`]:
//! the world's `mqtt` and `mqtt_tls` endpoints, e.g. `192.0.2.2:8306`,
//! `192.0.2.2:1883`, and over TLS `192.0.2.2:8307`, `192.0.2.2:8883`, all
//! reach the same broker).
//!
//! What it does:
//!
//! - Sessions: a clean session ends with its connection; a persistent one
//!   (clean session 0) keeps its subscriptions and queues the QoS 1 and 2
//!   messages that arrive while its client is away (up to
//!   [`registry::MAX_QUEUED`]; QoS 0 messages are not queued), and CONNACK
//!   says whether a session was present. A CONNECT with a client identifier
//!   that is connected already takes the session over: the older
//!   connection is closed (without publishing its will).
//! - An empty client identifier is given a generated one with a clean
//!   session, and refused (return code 2) with a persistent one.
//! - User name and password: any are accepted (the simulated network has
//!   no accounts; the manual's examples log in as `quectel`/`quectel`).
//! - Subscriptions with `+` and `#` wildcards (a filter that starts with a
//!   wildcard does not match `$` topics); an invalid filter is refused in
//!   SUBACK (0x80). Each message reaches a client once, at the QoS of the
//!   publication or of the client's best matching subscription, whichever
//!   is lower.
//! - QoS 0, 1 and 2 in both directions (PUBACK; PUBREC, PUBREL, PUBCOMP; a
//!   QoS 2 message is routed once however often it is resent). Messages to
//!   a client are numbered from packet identifier 1 on each connection.
//! - Retained messages: a PUBLISH with RETAIN replaces the topic's retained
//!   message (an empty payload removes it); a new subscription receives the
//!   retained messages it matches, with RETAIN set.
//! - Will messages: published when a connection ends without DISCONNECT
//!   (the client closed it, the network failed, a protocol error, or the
//!   keep-alive expired).
//! - Keep-alive: a connection that sends nothing for 1.5 times its
//!   keep-alive interval is closed (0 turns this off). A connection that
//!   sends no CONNECT within 30 s is closed.
//! - A protocol violation (a malformed packet, a PUBLISH to a topic with
//!   wildcards, a second CONNECT, a packet only a server sends) closes the
//!   connection. An unsupported protocol level gets CONNACK return code 1.
//!
//! The world the manual's examples expect: the broker starts with a
//! RETAINED message on `topic/example`, payload `This is the payload related
//! to topic` (36 bytes, QoS 0). So the manual's "MQTT Operation Without
//! SSL", which subscribes to `topic/example` and then expects
//! `+QMTRECV: 0,0,"topic/example",36,"This is the payload related to topic"`
//! ("other devices publish the same topic"), gets exactly that line: the
//! retained message is delivered at QoS 0, hence `<msgID>` 0.

mod connection;
pub mod registry;

use std::sync::Arc;

use super::Conn;
pub use registry::Broker;

/// Serves one MQTT connection (TLS, if any, is already unwrapped) until it
/// ends.
pub fn handle(conn: Box<dyn Conn>, broker: Arc<Broker>) {
    connection::serve(conn, broker);
}
