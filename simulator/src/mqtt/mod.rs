//! An MQTT 3.1.1 (and 3.1) packet codec, shared by the module's MQTT client
//! ([`crate::groups::mqtt`]) and the embedded broker
//! ([`crate::services::broker`]).
//!
//! [`decode`] reads one control packet from the front of a buffer: it
//! answers `Ok(None)` while the packet is incomplete, and a typed
//! [`DecodeError`] for anything the specification does not allow. It never
//! panics, whatever the bytes. [`encode`] writes a packet, refusing values
//! the wire cannot carry ([`EncodeError`]). A packet that encodes decodes to
//! the same value.
//!
//! ```
//! use fcm242d_sim::mqtt::{decode, encode, Packet, Publish, QoS};
//!
//! let p = Packet::Publish(Publish {
//!     dup: false,
//!     qos: QoS::AtLeastOnce,
//!     retain: true,
//!     topic: "topic/example".into(),
//!     packet_id: Some(7),
//!     payload: b"hello".to_vec(),
//! });
//! let bytes = encode(&p).unwrap();
//! assert_eq!(decode(&bytes, 1024).unwrap(), Some((p, bytes.len())));
//! ```
//!
//! [`topic`] checks topic names and filters and matches them.

mod decode;
mod encode;
mod packet;
pub mod topic;

pub use decode::{decode, DecodeError};
pub use encode::{encode, EncodeError};
pub use packet::{
    ConnAck, Connect, ConnectReturnCode, Packet, ProtocolLevel, Publish, QoS, SubAck, SubAckReturn,
    Subscribe, Unsubscribe, Will,
};

/// The largest remaining length the fixed header can express (268 435 455).
pub const MAX_REMAINING_LENGTH: usize = 268_435_455;
