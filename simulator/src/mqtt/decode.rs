//! Reading control packets from bytes. Every check of the specification
//! that concerns the packet's form is made here; what a packet means for a
//! session (a topic name with wildcards, a second CONNECT) is for its user.

use std::fmt;

use super::packet::{
    ConnAck, Connect, ConnectReturnCode, Packet, ProtocolLevel, Publish, QoS, SubAck, SubAckReturn,
    Subscribe, Unsubscribe, Will,
};

/// Why bytes are not an MQTT control packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Packet type 0 or 15.
    ReservedPacketType(u8),
    /// Fixed-header flags the packet type does not allow.
    BadFixedHeaderFlags {
        /// The packet type.
        kind: u8,
        /// The low nibble of the first byte.
        flags: u8,
    },
    /// The remaining length takes more than four bytes.
    MalformedRemainingLength,
    /// The packet is longer than the reader accepts.
    TooLarge {
        /// The remaining length the fixed header announces.
        length: usize,
        /// The most the reader accepts.
        max: usize,
    },
    /// A field runs past the end of the packet.
    Truncated {
        /// The packet type.
        kind: u8,
    },
    /// Bytes follow the packet's last field.
    TrailingBytes {
        /// The packet type.
        kind: u8,
    },
    /// A string is not UTF-8 or contains U+0000.
    InvalidString,
    /// CONNECT names a protocol other than `MQTT` or `MQIsdp`.
    UnknownProtocol(String),
    /// CONNECT asks for a protocol level this codec does not speak (the
    /// server answers CONNACK with return code 1).
    UnsupportedProtocolLevel(u8),
    /// The reserved bit of the CONNECT flags is set.
    ReservedConnectFlag,
    /// Will QoS or Will Retain set without the Will Flag.
    BadWillFlags,
    /// The Password Flag set without the User Name Flag.
    PasswordWithoutUsername,
    /// A QoS of 3.
    BadQoS(u8),
    /// A packet identifier of 0.
    ZeroPacketId,
    /// Reserved bits of the CONNACK acknowledge flags are set.
    BadConnAckFlags(u8),
    /// A CONNACK or SUBACK return code the specification does not define.
    BadReturnCode(u8),
    /// SUBSCRIBE, SUBACK or UNSUBSCRIBE without any topic filter.
    NoTopicFilters,
    /// Reserved bits of a SUBSCRIBE requested-QoS byte are set.
    BadSubscriptionOptions(u8),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::ReservedPacketType(t) => write!(f, "reserved packet type {t}"),
            DecodeError::BadFixedHeaderFlags { kind, flags } => {
                write!(
                    f,
                    "flags {flags:#06b} are not allowed on packet type {kind}"
                )
            }
            DecodeError::MalformedRemainingLength => write!(f, "malformed remaining length"),
            DecodeError::TooLarge { length, max } => {
                write!(f, "packet of {length} bytes (at most {max} accepted)")
            }
            DecodeError::Truncated { kind } => write!(f, "packet type {kind} ends inside a field"),
            DecodeError::TrailingBytes { kind } => {
                write!(f, "bytes after the last field of packet type {kind}")
            }
            DecodeError::InvalidString => write!(f, "a string is not UTF-8 or contains U+0000"),
            DecodeError::UnknownProtocol(p) => write!(f, "unknown protocol {p:?}"),
            DecodeError::UnsupportedProtocolLevel(l) => write!(f, "unsupported protocol level {l}"),
            DecodeError::ReservedConnectFlag => write!(f, "reserved CONNECT flag set"),
            DecodeError::BadWillFlags => write!(f, "will QoS or retain without the will flag"),
            DecodeError::PasswordWithoutUsername => write!(f, "password without user name"),
            DecodeError::BadQoS(q) => write!(f, "QoS {q}"),
            DecodeError::ZeroPacketId => write!(f, "packet identifier 0"),
            DecodeError::BadConnAckFlags(b) => write!(f, "CONNACK flags {b:#04x}"),
            DecodeError::BadReturnCode(c) => write!(f, "return code {c:#04x}"),
            DecodeError::NoTopicFilters => write!(f, "no topic filter"),
            DecodeError::BadSubscriptionOptions(b) => write!(f, "subscription options {b:#04x}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// Reads the packet at the front of `buf`: `Ok(None)` while it is
/// incomplete, else the packet and the number of bytes it took. A packet
/// whose remaining length exceeds `max` is refused as soon as its fixed
/// header is complete (so a reader never buffers more than it accepts).
pub fn decode(buf: &[u8], max: usize) -> Result<Option<(Packet, usize)>, DecodeError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let kind = first >> 4;
    let flags = first & 0x0F;
    check_flags(kind, flags)?;
    let mut length: usize = 0;
    let mut header = 1;
    loop {
        let Some(&b) = buf.get(header) else {
            return Ok(None);
        };
        // At most four length bytes; the fourth cannot continue.
        length |= usize::from(b & 0x7F) << (7 * (header - 1));
        header += 1;
        if b & 0x80 == 0 {
            break;
        }
        if header == 5 {
            return Err(DecodeError::MalformedRemainingLength);
        }
    }
    if length > max {
        return Err(DecodeError::TooLarge { length, max });
    }
    let Some(end) = header.checked_add(length) else {
        return Err(DecodeError::TooLarge { length, max });
    };
    let Some(body) = buf.get(header..end) else {
        return Ok(None);
    };
    let packet = body_of(kind, flags, body)?;
    Ok(Some((packet, end)))
}

/// The fixed-header flags each packet type allows.
fn check_flags(kind: u8, flags: u8) -> Result<(), DecodeError> {
    let ok = match kind {
        0 | 15 => return Err(DecodeError::ReservedPacketType(kind)),
        // PUBLISH: DUP, QoS and RETAIN; QoS 3 and DUP with QoS 0 are malformed.
        3 => {
            let qos = (flags >> 1) & 0b11;
            if qos == 3 {
                return Err(DecodeError::BadQoS(qos));
            }
            !(qos == 0 && flags & 0b1000 != 0)
        }
        6 | 8 | 10 => flags == 0b0010,
        _ => flags == 0,
    };
    if ok {
        Ok(())
    } else {
        Err(DecodeError::BadFixedHeaderFlags { kind, flags })
    }
}

/// A cursor over one packet's body.
struct Reader<'a> {
    kind: u8,
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn truncated(&self) -> DecodeError {
        DecodeError::Truncated { kind: self.kind }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or_else(|| self.truncated())?;
        let bytes = self
            .buf
            .get(self.pos..end)
            .ok_or_else(|| self.truncated())?;
        self.pos = end;
        Ok(bytes)
    }

    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?.first().copied().unwrap_or_default())
    }

    fn u16(&mut self) -> Result<u16, DecodeError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([
            b.first().copied().unwrap_or_default(),
            b.get(1).copied().unwrap_or_default(),
        ]))
    }

    fn packet_id(&mut self) -> Result<u16, DecodeError> {
        match self.u16()? {
            0 => Err(DecodeError::ZeroPacketId),
            id => Ok(id),
        }
    }

    fn binary(&mut self) -> Result<Vec<u8>, DecodeError> {
        let n = self.u16()?;
        Ok(self.take(usize::from(n))?.to_vec())
    }

    fn string(&mut self) -> Result<String, DecodeError> {
        let bytes = self.binary()?;
        let s = String::from_utf8(bytes).map_err(|_| DecodeError::InvalidString)?;
        if s.contains('\0') {
            return Err(DecodeError::InvalidString);
        }
        Ok(s)
    }

    fn rest(&mut self) -> &'a [u8] {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        self.pos = self.buf.len();
        rest
    }

    fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn end(&self) -> Result<(), DecodeError> {
        if self.at_end() {
            Ok(())
        } else {
            Err(DecodeError::TrailingBytes { kind: self.kind })
        }
    }
}

fn qos(v: u8) -> Result<QoS, DecodeError> {
    QoS::from_u8(v).ok_or(DecodeError::BadQoS(v))
}

fn body_of(kind: u8, flags: u8, body: &[u8]) -> Result<Packet, DecodeError> {
    let mut r = Reader {
        kind,
        buf: body,
        pos: 0,
    };
    let packet = match kind {
        1 => Packet::Connect(connect(&mut r)?),
        2 => {
            let ack = r.u8()?;
            if ack & 0xFE != 0 {
                return Err(DecodeError::BadConnAckFlags(ack));
            }
            let rc = r.u8()?;
            Packet::ConnAck(ConnAck {
                session_present: ack & 1 == 1,
                code: ConnectReturnCode::from_u8(rc).ok_or(DecodeError::BadReturnCode(rc))?,
            })
        }
        3 => {
            let qos = qos((flags >> 1) & 0b11)?;
            let topic = r.string()?;
            let packet_id = if qos == QoS::AtMostOnce {
                None
            } else {
                Some(r.packet_id()?)
            };
            Packet::Publish(Publish {
                dup: flags & 0b1000 != 0,
                qos,
                retain: flags & 1 != 0,
                topic,
                packet_id,
                payload: r.rest().to_vec(),
            })
        }
        4 => Packet::PubAck(r.packet_id()?),
        5 => Packet::PubRec(r.packet_id()?),
        6 => Packet::PubRel(r.packet_id()?),
        7 => Packet::PubComp(r.packet_id()?),
        8 => {
            let packet_id = r.packet_id()?;
            let mut filters = Vec::new();
            while !r.at_end() {
                let filter = r.string()?;
                let options = r.u8()?;
                if options & 0xFC != 0 {
                    return Err(DecodeError::BadSubscriptionOptions(options));
                }
                filters.push((filter, qos(options)?));
            }
            if filters.is_empty() {
                return Err(DecodeError::NoTopicFilters);
            }
            Packet::Subscribe(Subscribe { packet_id, filters })
        }
        9 => {
            let packet_id = r.packet_id()?;
            let codes = r
                .rest()
                .iter()
                .map(|&c| match c {
                    0x80 => Ok(SubAckReturn::Failure),
                    c => QoS::from_u8(c)
                        .map(SubAckReturn::Granted)
                        .ok_or(DecodeError::BadReturnCode(c)),
                })
                .collect::<Result<Vec<_>, _>>()?;
            if codes.is_empty() {
                return Err(DecodeError::NoTopicFilters);
            }
            Packet::SubAck(SubAck { packet_id, codes })
        }
        10 => {
            let packet_id = r.packet_id()?;
            let mut filters = Vec::new();
            while !r.at_end() {
                filters.push(r.string()?);
            }
            if filters.is_empty() {
                return Err(DecodeError::NoTopicFilters);
            }
            Packet::Unsubscribe(Unsubscribe { packet_id, filters })
        }
        11 => Packet::UnsubAck(r.packet_id()?),
        12 => Packet::PingReq,
        13 => Packet::PingResp,
        14 => Packet::Disconnect,
        other => return Err(DecodeError::ReservedPacketType(other)),
    };
    r.end()?;
    Ok(packet)
}

fn connect(r: &mut Reader<'_>) -> Result<Connect, DecodeError> {
    let name = r.string()?;
    let level = r.u8()?;
    let protocol = match name.as_str() {
        "MQTT" if level == 4 => ProtocolLevel::V311,
        "MQIsdp" if level == 3 => ProtocolLevel::V31,
        "MQTT" | "MQIsdp" => return Err(DecodeError::UnsupportedProtocolLevel(level)),
        _ => return Err(DecodeError::UnknownProtocol(name)),
    };
    let flags = r.u8()?;
    if flags & 1 != 0 {
        return Err(DecodeError::ReservedConnectFlag);
    }
    let clean_session = flags & 0b10 != 0;
    let will_flag = flags & 0b100 != 0;
    let will_qos = (flags >> 3) & 0b11;
    let will_retain = flags & 0b10_0000 != 0;
    let password_flag = flags & 0b100_0000 != 0;
    let username_flag = flags & 0b1000_0000 != 0;
    if !will_flag && (will_qos != 0 || will_retain) {
        return Err(DecodeError::BadWillFlags);
    }
    let will_qos = qos(will_qos)?;
    if password_flag && !username_flag {
        return Err(DecodeError::PasswordWithoutUsername);
    }
    let keep_alive = r.u16()?;
    let client_id = r.string()?;
    let will = if will_flag {
        let topic = r.string()?;
        let message = r.binary()?;
        Some(Will {
            topic,
            message,
            qos: will_qos,
            retain: will_retain,
        })
    } else {
        None
    };
    let username = if username_flag {
        Some(r.string()?)
    } else {
        None
    };
    let password = if password_flag {
        Some(r.binary()?)
    } else {
        None
    };
    Ok(Connect {
        protocol,
        client_id,
        clean_session,
        keep_alive,
        will,
        username,
        password,
    })
}
