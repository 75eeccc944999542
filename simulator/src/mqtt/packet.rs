//! The control packets of MQTT 3.1.1 as values.

/// A quality-of-service level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum QoS {
    /// 0: at most once.
    AtMostOnce,
    /// 1: at least once.
    AtLeastOnce,
    /// 2: exactly once.
    ExactlyOnce,
}

impl QoS {
    /// The level from its wire value (0–2).
    pub fn from_u8(v: u8) -> Option<QoS> {
        match v {
            0 => Some(QoS::AtMostOnce),
            1 => Some(QoS::AtLeastOnce),
            2 => Some(QoS::ExactlyOnce),
            _ => None,
        }
    }

    /// The wire value (0–2).
    pub fn as_u8(self) -> u8 {
        match self {
            QoS::AtMostOnce => 0,
            QoS::AtLeastOnce => 1,
            QoS::ExactlyOnce => 2,
        }
    }
}

/// The protocol a CONNECT asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtocolLevel {
    /// MQTT 3.1: protocol name `MQIsdp`, level 3.
    V31,
    /// MQTT 3.1.1: protocol name `MQTT`, level 4.
    V311,
}

impl ProtocolLevel {
    /// The protocol name of the variable header.
    pub fn name(self) -> &'static str {
        match self {
            ProtocolLevel::V31 => "MQIsdp",
            ProtocolLevel::V311 => "MQTT",
        }
    }

    /// The protocol level byte.
    pub fn level(self) -> u8 {
        match self {
            ProtocolLevel::V31 => 3,
            ProtocolLevel::V311 => 4,
        }
    }
}

/// A will message, published by the server when the client's connection
/// ends without DISCONNECT.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Will {
    /// Where it is published.
    pub topic: String,
    /// What is published.
    pub message: Vec<u8>,
    /// Its QoS.
    pub qos: QoS,
    /// Whether the server retains it.
    pub retain: bool,
}

/// CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    /// The protocol asked for.
    pub protocol: ProtocolLevel,
    /// The client identifier (may be empty with a clean session).
    pub client_id: String,
    /// Whether the session starts clean (and ends with the connection).
    pub clean_session: bool,
    /// The keep-alive interval (s); 0 turns the mechanism off.
    pub keep_alive: u16,
    /// The will message.
    pub will: Option<Will>,
    /// The user name.
    pub username: Option<String>,
    /// The password (binary data; only with a user name).
    pub password: Option<Vec<u8>>,
}

/// The return code of CONNACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectReturnCode {
    /// 0: connection accepted.
    Accepted,
    /// 1: unacceptable protocol version.
    UnacceptableProtocolVersion,
    /// 2: identifier rejected.
    IdentifierRejected,
    /// 3: server unavailable.
    ServerUnavailable,
    /// 4: bad user name or password.
    BadUserNameOrPassword,
    /// 5: not authorized.
    NotAuthorized,
}

impl ConnectReturnCode {
    /// The code from its wire value (0–5).
    pub fn from_u8(v: u8) -> Option<ConnectReturnCode> {
        Some(match v {
            0 => ConnectReturnCode::Accepted,
            1 => ConnectReturnCode::UnacceptableProtocolVersion,
            2 => ConnectReturnCode::IdentifierRejected,
            3 => ConnectReturnCode::ServerUnavailable,
            4 => ConnectReturnCode::BadUserNameOrPassword,
            5 => ConnectReturnCode::NotAuthorized,
            _ => return None,
        })
    }

    /// The wire value.
    pub fn as_u8(self) -> u8 {
        match self {
            ConnectReturnCode::Accepted => 0,
            ConnectReturnCode::UnacceptableProtocolVersion => 1,
            ConnectReturnCode::IdentifierRejected => 2,
            ConnectReturnCode::ServerUnavailable => 3,
            ConnectReturnCode::BadUserNameOrPassword => 4,
            ConnectReturnCode::NotAuthorized => 5,
        }
    }
}

/// CONNACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnAck {
    /// Whether the server kept a session for the client.
    pub session_present: bool,
    /// Accepted, or why not.
    pub code: ConnectReturnCode,
}

/// PUBLISH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    /// A re-delivery of an earlier attempt (QoS 1 and 2 only).
    pub dup: bool,
    /// Its QoS.
    pub qos: QoS,
    /// Retained by the server (from a client), or a retained message (from a server).
    pub retain: bool,
    /// The topic name.
    pub topic: String,
    /// The packet identifier: present exactly when `qos` is 1 or 2.
    pub packet_id: Option<u16>,
    /// The application message.
    pub payload: Vec<u8>,
}

/// SUBSCRIBE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscribe {
    /// The packet identifier (non-zero).
    pub packet_id: u16,
    /// Topic filters and the QoS asked for each (at least one).
    pub filters: Vec<(String, QoS)>,
}

/// One return code of SUBACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubAckReturn {
    /// The subscription was granted at this QoS.
    Granted(QoS),
    /// 0x80: the subscription was refused.
    Failure,
}

impl SubAckReturn {
    /// The wire value (0, 1, 2 or 0x80).
    pub fn as_u8(self) -> u8 {
        match self {
            SubAckReturn::Granted(q) => q.as_u8(),
            SubAckReturn::Failure => 0x80,
        }
    }
}

/// SUBACK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubAck {
    /// The SUBSCRIBE's packet identifier.
    pub packet_id: u16,
    /// One return code per topic filter, in order.
    pub codes: Vec<SubAckReturn>,
}

/// UNSUBSCRIBE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsubscribe {
    /// The packet identifier (non-zero).
    pub packet_id: u16,
    /// Topic filters (at least one).
    pub filters: Vec<String>,
}

/// An MQTT control packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// Client to server: open a session.
    Connect(Connect),
    /// Server to client: the answer to CONNECT.
    ConnAck(ConnAck),
    /// An application message.
    Publish(Publish),
    /// QoS 1 acknowledgement.
    PubAck(u16),
    /// QoS 2, step 1: received.
    PubRec(u16),
    /// QoS 2, step 2: release.
    PubRel(u16),
    /// QoS 2, step 3: complete.
    PubComp(u16),
    /// Client to server: subscribe.
    Subscribe(Subscribe),
    /// Server to client: the answer to SUBSCRIBE.
    SubAck(SubAck),
    /// Client to server: unsubscribe.
    Unsubscribe(Unsubscribe),
    /// Server to client: the answer to UNSUBSCRIBE.
    UnsubAck(u16),
    /// Client to server: keep-alive.
    PingReq,
    /// Server to client: the answer to PINGREQ.
    PingResp,
    /// Client to server: a clean end of the connection.
    Disconnect,
}

impl Packet {
    /// The packet type (the high nibble of the first byte).
    pub fn kind(&self) -> u8 {
        match self {
            Packet::Connect(_) => 1,
            Packet::ConnAck(_) => 2,
            Packet::Publish(_) => 3,
            Packet::PubAck(_) => 4,
            Packet::PubRec(_) => 5,
            Packet::PubRel(_) => 6,
            Packet::PubComp(_) => 7,
            Packet::Subscribe(_) => 8,
            Packet::SubAck(_) => 9,
            Packet::Unsubscribe(_) => 10,
            Packet::UnsubAck(_) => 11,
            Packet::PingReq => 12,
            Packet::PingResp => 13,
            Packet::Disconnect => 14,
        }
    }
}
