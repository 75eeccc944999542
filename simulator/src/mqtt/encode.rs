//! Writing control packets as bytes.

use std::fmt;

use super::packet::{Connect, Packet, QoS};
use super::MAX_REMAINING_LENGTH;

/// Why a packet value cannot be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodeError {
    /// A string or binary field is longer than 65 535 bytes.
    FieldTooLong,
    /// A string contains U+0000.
    InvalidString,
    /// The packet is longer than the remaining length can express.
    PacketTooLarge,
    /// A packet identifier of 0.
    ZeroPacketId,
    /// A PUBLISH whose packet identifier does not match its QoS (one is
    /// needed exactly for QoS 1 and 2).
    PacketIdMismatch,
    /// A QoS 0 PUBLISH marked DUP.
    DupWithQoS0,
    /// A password without a user name.
    PasswordWithoutUsername,
    /// SUBSCRIBE, SUBACK or UNSUBSCRIBE without any topic filter.
    NoTopicFilters,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EncodeError::FieldTooLong => "a field is longer than 65535 bytes",
            EncodeError::InvalidString => "a string contains U+0000",
            EncodeError::PacketTooLarge => "the packet is too large",
            EncodeError::ZeroPacketId => "packet identifier 0",
            EncodeError::PacketIdMismatch => {
                "a packet identifier is needed exactly for QoS 1 and 2"
            }
            EncodeError::DupWithQoS0 => "DUP on a QoS 0 PUBLISH",
            EncodeError::PasswordWithoutUsername => "password without user name",
            EncodeError::NoTopicFilters => "no topic filter",
        })
    }
}

impl std::error::Error for EncodeError {}

/// The bytes of a body under construction.
#[derive(Default)]
struct Writer {
    out: Vec<u8>,
}

impl Writer {
    fn u8(&mut self, v: u8) {
        self.out.push(v);
    }

    fn u16(&mut self, v: u16) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }

    fn packet_id(&mut self, id: u16) -> Result<(), EncodeError> {
        if id == 0 {
            return Err(EncodeError::ZeroPacketId);
        }
        self.u16(id);
        Ok(())
    }

    fn binary(&mut self, b: &[u8]) -> Result<(), EncodeError> {
        let n = u16::try_from(b.len()).map_err(|_| EncodeError::FieldTooLong)?;
        self.u16(n);
        self.out.extend_from_slice(b);
        Ok(())
    }

    fn string(&mut self, s: &str) -> Result<(), EncodeError> {
        if s.contains('\0') {
            return Err(EncodeError::InvalidString);
        }
        self.binary(s.as_bytes())
    }
}

/// The bytes of `packet`.
pub fn encode(packet: &Packet) -> Result<Vec<u8>, EncodeError> {
    let mut w = Writer::default();
    let mut flags = 0u8;
    match packet {
        Packet::Connect(c) => connect(&mut w, c)?,
        Packet::ConnAck(a) => {
            w.u8(u8::from(a.session_present));
            w.u8(a.code.as_u8());
        }
        Packet::Publish(p) => {
            if p.dup && p.qos == QoS::AtMostOnce {
                return Err(EncodeError::DupWithQoS0);
            }
            flags = (u8::from(p.dup) << 3) | (p.qos.as_u8() << 1) | u8::from(p.retain);
            w.string(&p.topic)?;
            match (p.qos, p.packet_id) {
                (QoS::AtMostOnce, None) => {}
                (QoS::AtLeastOnce | QoS::ExactlyOnce, Some(id)) => w.packet_id(id)?,
                _ => return Err(EncodeError::PacketIdMismatch),
            }
            w.out.extend_from_slice(&p.payload);
        }
        Packet::PubAck(id) | Packet::PubRec(id) | Packet::PubComp(id) | Packet::UnsubAck(id) => {
            w.packet_id(*id)?
        }
        Packet::PubRel(id) => {
            flags = 0b0010;
            w.packet_id(*id)?;
        }
        Packet::Subscribe(s) => {
            flags = 0b0010;
            if s.filters.is_empty() {
                return Err(EncodeError::NoTopicFilters);
            }
            w.packet_id(s.packet_id)?;
            for (filter, qos) in &s.filters {
                w.string(filter)?;
                w.u8(qos.as_u8());
            }
        }
        Packet::SubAck(s) => {
            if s.codes.is_empty() {
                return Err(EncodeError::NoTopicFilters);
            }
            w.packet_id(s.packet_id)?;
            for c in &s.codes {
                w.u8(c.as_u8());
            }
        }
        Packet::Unsubscribe(u) => {
            flags = 0b0010;
            if u.filters.is_empty() {
                return Err(EncodeError::NoTopicFilters);
            }
            w.packet_id(u.packet_id)?;
            for filter in &u.filters {
                w.string(filter)?;
            }
        }
        Packet::PingReq | Packet::PingResp | Packet::Disconnect => {}
    }
    frame(packet.kind(), flags, w.out)
}

fn connect(w: &mut Writer, c: &Connect) -> Result<(), EncodeError> {
    if c.password.is_some() && c.username.is_none() {
        return Err(EncodeError::PasswordWithoutUsername);
    }
    w.string(c.protocol.name())?;
    w.u8(c.protocol.level());
    let mut flags = u8::from(c.clean_session) << 1;
    if let Some(will) = &c.will {
        flags |= 0b100 | (will.qos.as_u8() << 3) | (u8::from(will.retain) << 5);
    }
    if c.password.is_some() {
        flags |= 0b100_0000;
    }
    if c.username.is_some() {
        flags |= 0b1000_0000;
    }
    w.u8(flags);
    w.u16(c.keep_alive);
    w.string(&c.client_id)?;
    if let Some(will) = &c.will {
        w.string(&will.topic)?;
        w.binary(&will.message)?;
    }
    if let Some(u) = &c.username {
        w.string(u)?;
    }
    if let Some(p) = &c.password {
        w.binary(p)?;
    }
    Ok(())
}

/// The fixed header, then the body.
fn frame(kind: u8, flags: u8, body: Vec<u8>) -> Result<Vec<u8>, EncodeError> {
    if body.len() > MAX_REMAINING_LENGTH {
        return Err(EncodeError::PacketTooLarge);
    }
    let mut out = Vec::with_capacity(body.len() + 5);
    out.push((kind << 4) | flags);
    let mut n = body.len();
    loop {
        // The low seven bits of what is left, as one byte of the length.
        let mut b = u8::try_from(n % 128).unwrap_or_default();
        n /= 128;
        if n > 0 {
            b |= 0x80;
        }
        out.push(b);
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&body);
    Ok(out)
}
