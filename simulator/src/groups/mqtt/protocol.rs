//! The clients' side of the MQTT protocol, run by [`poll`]: completes
//! connects, writes what the commands queued, reads and answers the
//! server's packets, retransmits, keeps the connection alive, and prints
//! the URCs.

use std::time::{Duration, Instant};

use fcm242d::generated::urcs::{
    qmtconn, qmtdisc, qmtopen, qmtpub, qmtstat, qmtsub, qmtuns, Qmtconn, Qmtdisc, Qmtopen, Qmtpub,
    Qmtstat, Qmtsub, Qmtuns,
};
use fcm242d::value::Int;

use super::recv::{self, urc};
use super::wire::{Received, Stream};
use super::{Awaiting, Client, Inflight, Interface, Link, Outbound, Phase, Wire, CLIENTS};
use crate::groups::line;
use crate::mqtt::{
    decode, encode, ConnectReturnCode, Packet, ProtocolLevel, Publish, QoS, Subscribe, Unsubscribe,
    Will,
};
use crate::net::{Net, Settled};
use crate::state::{State, Wifi};
use fcm242d::generated::commands::qmtcfg;

/// The longest packet a client accepts from a server (remaining length);
/// a longer one ends the connection (`+QMTSTAT: <idx>,8`).
pub const MAX_PACKET: usize = 1024 * 1024;
/// Bytes read from one connection per [`poll`], so that one busy server
/// cannot hold up the UART for long.
const READ_PER_POLL: usize = 256 * 1024;

type ErrCode = qmtstat::ErrCode;

/// Output caused by the network since the last call.
pub fn poll(state: &mut State, net: &mut Net, now: Instant) -> Vec<u8> {
    let mut out = Vec::new();
    // A connection whose client is no longer open (a reboot rebuilt the
    // state, or a command closed it) is dropped.
    let stale: Vec<usize> = net
        .mqtt
        .wires
        .keys()
        .filter(|idx| {
            state
                .mqtt
                .clients
                .get(**idx)
                .is_none_or(|c| c.link.is_none())
        })
        .copied()
        .collect();
    for idx in stale {
        if let Some(Wire::Open { mut stream, .. }) = net.mqtt.wires.remove(&idx) {
            stream.close();
        }
    }
    let State { wifi, mqtt, .. } = state;
    for (idx, client) in mqtt.clients.iter_mut().enumerate().take(CLIENTS) {
        recv::fill_slots(idx, client, &mut out);
        let Some(link) = client.link.take() else {
            continue;
        };
        let wire = net.mqtt.wires.remove(&idx);
        let Ok(client_idx) = Int::new(idx as i64) else {
            continue;
        };
        let mut c = Step {
            idx,
            client_idx,
            client,
            link,
            out: &mut out,
            now,
        };
        if let Some(wire) = c.run(wifi, wire) {
            net.mqtt.wires.insert(idx, wire);
            client.link = Some(c.link);
        }
    }
    out
}

fn interface_up(wifi: &Wifi, interface: &Interface) -> bool {
    match interface {
        Interface::Station(ssid) => wifi.station.as_ref() == Some(ssid),
        Interface::Ap => wifi.soft_ap.is_some(),
    }
}

/// A packet identifier as `<msgID>` (every u16 is in range).
fn msg(id: u16) -> Option<Int<0, 65535>> {
    Int::new(i64::from(id)).ok()
}

/// Why a connection ends: the `+QMTSTAT` code, or a completed `AT+QMTDISC`.
enum Ending {
    Stat(ErrCode),
    Disconnected,
}

/// One client's turn in [`poll`].
struct Step<'a> {
    idx: usize,
    client_idx: Int<0, 5>,
    client: &'a mut Client,
    link: Link,
    out: &'a mut Vec<u8>,
    now: Instant,
}

impl Step<'_> {
    fn urc(&mut self, text: String) {
        urc(self.out, text.as_bytes());
    }

    /// Runs the client; returns its connection if it is still open.
    fn run(&mut self, wifi: &Wifi, wire: Option<Wire>) -> Option<Wire> {
        if !interface_up(wifi, &self.link.interface) {
            if self.link.phase == Phase::Opening {
                self.opened(qmtopen::OpenResult::NetworkDisconnected);
            } else {
                self.end(Ending::Stat(ErrCode::LinkDown));
            }
            if let Some(Wire::Open { mut stream, .. }) = wire {
                stream.close();
            }
            return None;
        }
        let wire = match wire {
            Some(Wire::Connecting(pending)) => match pending.settle(self.now) {
                Settled::Waiting => return Some(Wire::Connecting(pending)),
                Settled::Done(Ok(stream)) => {
                    self.link.phase = Phase::Open;
                    self.opened(qmtopen::OpenResult::Success);
                    Wire::Open {
                        stream,
                        rx: Vec::new(),
                        tx: Vec::new(),
                    }
                }
                Settled::Done(Err(_)) | Settled::Lost | Settled::TimedOut => {
                    self.opened(qmtopen::OpenResult::NetworkError);
                    return None;
                }
            },
            Some(open) => open,
            None => {
                self.end(Ending::Stat(ErrCode::ClosedByPeer));
                return None;
            }
        };
        let Wire::Open {
            mut stream,
            mut rx,
            mut tx,
        } = wire
        else {
            return Some(wire);
        };
        match self.exchange(&mut stream, &mut rx, &mut tx) {
            Ok(()) => Some(Wire::Open { stream, rx, tx }),
            Err(ending) => {
                self.end(ending);
                stream.close();
                None
            }
        }
    }

    fn opened(&mut self, result: qmtopen::OpenResult) {
        let client_idx = self.client_idx;
        self.urc(line(Qmtopen { client_idx, result }));
    }

    /// Reads, answers, writes and times one open connection.
    fn exchange(
        &mut self,
        stream: &mut Stream,
        rx: &mut Vec<u8>,
        tx: &mut Vec<u8>,
    ) -> Result<(), Ending> {
        let mut closed = false;
        let mut budget = READ_PER_POLL;
        while budget > 0 && recv::accepting(self.client) {
            match stream.recv(budget) {
                Received::Data(d) => {
                    budget = budget.saturating_sub(d.len());
                    rx.extend_from_slice(&d);
                }
                Received::Nothing => break,
                Received::Closed => {
                    closed = true;
                    break;
                }
            }
        }
        while recv::accepting(self.client) {
            match decode(rx, MAX_PACKET) {
                Ok(Some((packet, used))) => {
                    rx.drain(..used.min(rx.len()));
                    self.packet(packet, tx)?;
                }
                Ok(None) => break,
                Err(_) => return Err(Ending::Stat(ErrCode::ClosedByClient)),
            }
        }
        self.outbox(tx)?;
        self.timers(tx)?;
        match stream.send(tx) {
            Ok(n) => {
                tx.drain(..n.min(tx.len()));
            }
            Err(_) => closed = true,
        }
        if self.link.phase == Phase::Disconnecting
            && self.link.outbox.is_empty()
            && tx.is_empty()
            && !stream.pending().unwrap_or(false)
        {
            return Err(Ending::Disconnected);
        }
        if closed {
            return Err(match self.link.phase {
                Phase::Disconnecting => Ending::Disconnected,
                // The server hung up instead of answering CONNECT: the
                // CONNACK could not be received (errata MQTT-STAT-4).
                Phase::Connecting => Ending::Stat(ErrCode::ConnackFailed),
                _ => Ending::Stat(ErrCode::ClosedByPeer),
            });
        }
        Ok(())
    }

    /// Queues `packet` for the server.
    fn write(&mut self, packet: &Packet, tx: &mut Vec<u8>) -> bool {
        match encode(packet) {
            Ok(bytes) => {
                tx.extend_from_slice(&bytes);
                self.link.last_sent = Some(self.now);
                true
            }
            Err(_) => false,
        }
    }

    fn packet(&mut self, packet: Packet, tx: &mut Vec<u8>) -> Result<(), Ending> {
        let violation = Err(Ending::Stat(ErrCode::ClosedByClient));
        match packet {
            Packet::ConnAck(ack) => {
                if self.link.phase != Phase::Connecting {
                    return violation;
                }
                self.link.connect_sent = None;
                self.link.phase = if ack.code == ConnectReturnCode::Accepted {
                    Phase::Connected
                } else {
                    Phase::Open
                };
                let client_idx = self.client_idx;
                self.urc(line(Qmtconn {
                    client_idx,
                    result: qmtconn::PacketResult::Acknowledged,
                    retcode: Some(retcode(ack.code)),
                }));
            }
            Packet::Publish(p) => {
                if !matches!(self.link.phase, Phase::Connected | Phase::Disconnecting) {
                    return violation;
                }
                let id = p.packet_id.unwrap_or(0);
                let report = match p.qos {
                    QoS::AtMostOnce => true,
                    QoS::AtLeastOnce => {
                        self.write(&Packet::PubAck(id), tx);
                        true
                    }
                    QoS::ExactlyOnce => {
                        self.write(&Packet::PubRec(id), tx);
                        // A resent QoS 2 message is reported once.
                        self.link.incoming_qos2.insert(id)
                    }
                };
                if report {
                    recv::arrived(self.idx, self.client, id, p.topic, p.payload, self.out);
                }
            }
            Packet::PubAck(id) => {
                if let Some(msg_id) = self.acknowledged(id, Awaiting::PubAck) {
                    self.pub_result(msg_id, qmtpub::PacketResult::Acknowledged, None);
                }
            }
            Packet::PubRec(id) => {
                if let Some(i) = self.link.inflight.get_mut(&id) {
                    if i.awaiting == Awaiting::PubRec {
                        i.awaiting = Awaiting::PubComp;
                        i.packet = Packet::PubRel(id);
                        i.sent_at = self.now;
                    }
                }
                self.write(&Packet::PubRel(id), tx);
            }
            Packet::PubRel(id) => {
                self.link.incoming_qos2.remove(&id);
                self.write(&Packet::PubComp(id), tx);
            }
            Packet::PubComp(id) => {
                if let Some(msg_id) = self.acknowledged(id, Awaiting::PubComp) {
                    self.pub_result(msg_id, qmtpub::PacketResult::Acknowledged, None);
                }
            }
            Packet::SubAck(ack) => {
                if let Some(msg_id) = self.acknowledged(ack.packet_id, Awaiting::SubAck) {
                    let granted: Vec<i64> =
                        ack.codes.iter().map(|c| i64::from(c.as_u8())).collect();
                    let Some(msg_id) = msg(msg_id) else {
                        return Ok(());
                    };
                    let client_idx = self.client_idx;
                    // "a vector of granted QoS levels": one per topic.
                    let text = line(Qmtsub {
                        client_idx,
                        msg_id,
                        result: qmtsub::PacketResult::Acknowledged,
                        value: granted,
                    });
                    self.urc(text);
                }
            }
            Packet::UnsubAck(id) => {
                if let Some(msg_id) = self.acknowledged(id, Awaiting::UnsubAck).and_then(msg) {
                    let client_idx = self.client_idx;
                    self.urc(line(Qmtuns {
                        client_idx,
                        msg_id,
                        result: qmtuns::PacketResult::Acknowledged,
                        value: Vec::new(),
                    }));
                }
            }
            Packet::PingResp => self.link.ping_sent = None,
            Packet::Connect(_)
            | Packet::Subscribe(_)
            | Packet::Unsubscribe(_)
            | Packet::PingReq
            | Packet::Disconnect => return violation,
        }
        Ok(())
    }

    /// Removes packet `id` from the packets in flight if it waits for
    /// `step`; the host's `<msgID>` of it.
    fn acknowledged(&mut self, id: u16, step: Awaiting) -> Option<u16> {
        let waiting = self
            .link
            .inflight
            .get(&id)
            .is_some_and(|i| i.awaiting == step);
        if !waiting {
            return None;
        }
        self.link.inflight.remove(&id).map(|i| i.msg_id)
    }

    fn pub_result(&mut self, id: u16, result: qmtpub::PacketResult, value: Option<i64>) {
        let client_idx = self.client_idx;
        let Some(msg_id) = msg(id) else {
            return;
        };
        self.urc(line(Qmtpub {
            client_idx,
            msg_id,
            result,
            value,
        }));
    }

    /// Writes what the commands queued.
    fn outbox(&mut self, tx: &mut Vec<u8>) -> Result<(), Ending> {
        while let Some(o) = self.link.outbox.pop_front() {
            match o {
                Outbound::Connect {
                    client_id,
                    credentials,
                } => {
                    let connect = self.connect_packet(client_id, credentials);
                    if !self.write(&connect, tx) {
                        return Err(Ending::Stat(ErrCode::ConnectFailed));
                    }
                    self.link.connect_sent = Some(self.now);
                }
                Outbound::Subscribe { msg_id, filters } => {
                    // MQTT forbids identifier 0 (errata MQTT-19).
                    let Some(packet_id) = self.link.packet_id_for(msg_id) else {
                        self.fail(msg_id, Awaiting::SubAck);
                        continue;
                    };
                    let packet = Packet::Subscribe(Subscribe { packet_id, filters });
                    if self.write(&packet, tx) {
                        self.track(packet_id, msg_id, Awaiting::SubAck, packet);
                    } else {
                        self.fail(msg_id, Awaiting::SubAck);
                    }
                }
                Outbound::Unsubscribe { msg_id, filters } => {
                    let Some(packet_id) = self.link.packet_id_for(msg_id) else {
                        self.fail(msg_id, Awaiting::UnsubAck);
                        continue;
                    };
                    let packet = Packet::Unsubscribe(Unsubscribe { packet_id, filters });
                    if self.write(&packet, tx) {
                        self.track(packet_id, msg_id, Awaiting::UnsubAck, packet);
                    } else {
                        self.fail(msg_id, Awaiting::UnsubAck);
                    }
                }
                Outbound::Publish {
                    msg_id,
                    qos,
                    retain,
                    topic,
                    payload,
                } => {
                    let packet = Packet::Publish(Publish {
                        dup: false,
                        qos,
                        retain,
                        topic,
                        packet_id: (qos != QoS::AtMostOnce).then_some(msg_id),
                        payload,
                    });
                    let awaiting = match qos {
                        QoS::AtMostOnce => None,
                        QoS::AtLeastOnce => Some(Awaiting::PubAck),
                        QoS::ExactlyOnce => Some(Awaiting::PubRec),
                    };
                    match (self.write(&packet, tx), awaiting) {
                        (true, Some(a)) => self.track(msg_id, msg_id, a, packet),
                        (true, None) => {
                            self.pub_result(msg_id, qmtpub::PacketResult::Acknowledged, None)
                        }
                        (false, _) => {
                            self.pub_result(msg_id, qmtpub::PacketResult::SendFailed, None)
                        }
                    }
                }
                Outbound::Disconnect => {
                    self.write(&Packet::Disconnect, tx);
                }
            }
        }
        Ok(())
    }

    fn connect_packet(&self, client_id: String, credentials: Option<(String, String)>) -> Packet {
        let config = &self.client.config;
        let (username, password) = match credentials {
            Some((u, p)) => (Some(u), Some(p.into_bytes())),
            None => (None, None),
        };
        Packet::Connect(crate::mqtt::Connect {
            protocol: if config.version == qmtcfg::Vsn::Mqtt31 {
                ProtocolLevel::V31
            } else {
                ProtocolLevel::V311
            },
            client_id,
            clean_session: config.session == qmtcfg::CleanSession::Clean,
            keep_alive: u16::try_from(config.keepalive).unwrap_or(u16::MAX),
            will: config.will.as_ref().map(|w| Will {
                topic: w.topic.clone(),
                message: w.message.clone().into_bytes(),
                qos: match w.qos {
                    qmtcfg::Qos::AtMostOnce => QoS::AtMostOnce,
                    qmtcfg::Qos::AtLeastOnce => QoS::AtLeastOnce,
                    qmtcfg::Qos::ExactlyOnce => QoS::ExactlyOnce,
                },
                retain: w.retain == qmtcfg::Retain::Retain,
            }),
            username,
            password,
        })
    }

    /// Keeps packet `id` (sent for the host's `msg_id`) until its
    /// acknowledgement.
    fn track(&mut self, id: u16, msg_id: u16, awaiting: Awaiting, packet: Packet) {
        self.link.inflight.insert(
            id,
            Inflight {
                msg_id,
                awaiting,
                packet,
                sent_at: self.now,
                retries: 0,
            },
        );
    }

    /// The URC that ends the command of packet `id` with `<result>` 2.
    fn fail(&mut self, id: u16, awaiting: Awaiting) {
        let client_idx = self.client_idx;
        let Some(msg_id) = msg(id) else {
            return;
        };
        let text = match awaiting {
            Awaiting::SubAck => line(Qmtsub {
                client_idx,
                msg_id,
                result: qmtsub::PacketResult::SendFailed,
                value: Vec::new(),
            }),
            Awaiting::UnsubAck => line(Qmtuns {
                client_idx,
                msg_id,
                result: qmtuns::PacketResult::SendFailed,
                value: Vec::new(),
            }),
            Awaiting::PubAck | Awaiting::PubRec | Awaiting::PubComp => line(Qmtpub {
                client_idx,
                msg_id,
                result: qmtpub::PacketResult::SendFailed,
                value: None,
            }),
        };
        self.urc(text);
    }

    /// The notice of a retransmission (`<result>` 1, `<value>` the count).
    fn notice(&mut self, id: u16, awaiting: Awaiting, count: i64) {
        let client_idx = self.client_idx;
        let Some(msg_id) = msg(id) else {
            return;
        };
        let value = Some(count);
        let text = match awaiting {
            Awaiting::SubAck => line(Qmtsub {
                client_idx,
                msg_id,
                result: qmtsub::PacketResult::Resent,
                value: vec![count],
            }),
            Awaiting::UnsubAck => line(Qmtuns {
                client_idx,
                msg_id,
                result: qmtuns::PacketResult::Resent,
                value: vec![count],
            }),
            Awaiting::PubAck | Awaiting::PubRec | Awaiting::PubComp => line(Qmtpub {
                client_idx,
                msg_id,
                result: qmtpub::PacketResult::Resent,
                value,
            }),
        };
        self.urc(text);
    }

    fn timers(&mut self, tx: &mut Vec<u8>) -> Result<(), Ending> {
        let timeout = self.client.config.packet_timeout();
        let now = self.now;
        if self.link.phase == Phase::Connecting {
            if self
                .link
                .connect_sent
                .is_some_and(|t| now.saturating_duration_since(t) >= timeout)
            {
                return Err(Ending::Stat(ErrCode::ConnackFailed));
            }
            return Ok(());
        }
        let due: Vec<u16> = self
            .link
            .inflight
            .iter()
            .filter(|(_, i)| now.saturating_duration_since(i.sent_at) >= timeout)
            .map(|(id, _)| *id)
            .collect();
        let retry_times = self.client.config.retry_times;
        let report = self.client.config.timeout_notice == qmtcfg::TimeoutNotice::Report;
        for id in due {
            let Some(mut i) = self.link.inflight.remove(&id) else {
                continue;
            };
            if i.retries >= retry_times {
                self.fail(i.msg_id, i.awaiting);
                return Err(Ending::Stat(ErrCode::SendFailed));
            }
            i.retries += 1;
            i.sent_at = now;
            if let Packet::Publish(p) = &mut i.packet {
                p.dup = true;
            }
            self.write(&i.packet, tx);
            let (msg_id, awaiting, count) = (i.msg_id, i.awaiting, i.retries);
            self.link.inflight.insert(id, i);
            if report {
                self.notice(msg_id, awaiting, count);
            }
        }
        let keepalive = Duration::from_secs(self.client.config.keepalive.unsigned_abs());
        if self.link.phase == Phase::Connected && !keepalive.is_zero() {
            match self.link.ping_sent {
                Some(t) if now.saturating_duration_since(t) >= timeout => {
                    return Err(Ending::Stat(ErrCode::PingFailed));
                }
                Some(_) => {}
                None => {
                    let idle = self
                        .link
                        .last_sent
                        .is_none_or(|t| now.saturating_duration_since(t) >= keepalive);
                    if idle && self.write(&Packet::PingReq, tx) {
                        self.link.ping_sent = Some(now);
                    }
                }
            }
        }
        Ok(())
    }

    /// The connection ended: commands that waited end with `<result>` 2,
    /// then `+QMTSTAT` (or `+QMTDISC` for a completed `AT+QMTDISC`).
    fn end(&mut self, ending: Ending) {
        let client_idx = self.client_idx;
        if self.link.phase == Phase::Connecting {
            self.urc(line(Qmtconn {
                client_idx,
                result: qmtconn::PacketResult::SendFailed,
                retcode: None,
            }));
        }
        let inflight: Vec<(u16, Awaiting)> = self
            .link
            .inflight
            .values()
            .map(|i| (i.msg_id, i.awaiting))
            .collect();
        for (msg_id, awaiting) in inflight {
            self.fail(msg_id, awaiting);
        }
        let queued: Vec<Outbound> = self.link.outbox.drain(..).collect();
        for o in queued {
            match o {
                Outbound::Subscribe { msg_id, .. } => self.fail(msg_id, Awaiting::SubAck),
                Outbound::Unsubscribe { msg_id, .. } => self.fail(msg_id, Awaiting::UnsubAck),
                Outbound::Publish { msg_id, .. } => self.fail(msg_id, Awaiting::PubAck),
                Outbound::Connect { .. } | Outbound::Disconnect => {}
            }
        }
        let text = match (ending, self.link.phase) {
            (_, Phase::Disconnecting) | (Ending::Disconnected, _) => line(Qmtdisc {
                client_idx,
                result: qmtdisc::DisconnectResult::Success,
            }),
            (Ending::Stat(err_code), _) => line(Qmtstat {
                client_idx,
                err_code,
            }),
        };
        self.urc(text);
    }
}

fn retcode(code: ConnectReturnCode) -> qmtconn::Retcode {
    match code {
        ConnectReturnCode::Accepted => qmtconn::Retcode::Accepted,
        ConnectReturnCode::UnacceptableProtocolVersion => qmtconn::Retcode::BadProtocolVersion,
        ConnectReturnCode::IdentifierRejected => qmtconn::Retcode::IdentifierRejected,
        ConnectReturnCode::ServerUnavailable => qmtconn::Retcode::ServerUnavailable,
        ConnectReturnCode::BadUserNameOrPassword => qmtconn::Retcode::BadCredentials,
        ConnectReturnCode::NotAuthorized => qmtconn::Retcode::Unauthorized,
    }
}
