//! Received messages: reported in a URC, or kept in a client's five
//! buffers for `AT+QMTRECV` (see the group's documentation for the payload
//! field).

use fcm242d::generated::commands::{qmtcfg, qmtrecv};
use fcm242d::generated::urcs::{QmtrecvMessage, QmtrecvStored};
use fcm242d::value::Int;

use super::{Client, Message, SLOTS};
use crate::groups::line;
use crate::reply::Reply;

/// Messages that wait for a free buffer, at most; while this many wait the
/// client stops reading its connection.
pub const MAX_WAITING: usize = 64;
/// The longest payload reported (the top of `<payload_length>`).
pub const MAX_PAYLOAD: usize = 10240;

/// Appends a URC line (framed as the UART carries it).
pub(super) fn urc(out: &mut Vec<u8>, text: &[u8]) {
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(text);
    out.extend_from_slice(b"\r\n");
}

/// Whether the client takes more messages now.
pub(super) fn accepting(client: &Client) -> bool {
    client.waiting.len() < MAX_WAITING
}

/// A message that arrived for client `idx`: reported at once, or kept.
pub(super) fn arrived(
    idx: usize,
    client: &mut Client,
    msg_id: u16,
    topic: String,
    payload: Vec<u8>,
    out: &mut Vec<u8>,
) {
    if payload.len() > MAX_PAYLOAD {
        return;
    }
    let message = Message {
        seq: client.next_seq,
        msg_id,
        topic,
        payload,
    };
    client.next_seq += 1;
    if client.config.buffered() {
        client.waiting.push_back(message);
        fill_slots(idx, client, out);
    } else {
        let text = message_line(idx, &message, client.config.recv_format, Form::Urc);
        urc(out, &text);
    }
}

/// Moves waiting messages into free buffers, each with its
/// `+QMTRECV: <idx>,<recv_id>`.
pub(super) fn fill_slots(idx: usize, client: &mut Client, out: &mut Vec<u8>) {
    while !client.waiting.is_empty() {
        let Some(free) = client.slots.iter().position(Option::is_none) else {
            return;
        };
        let (Some(message), Some(slot)) = (client.waiting.pop_front(), client.slots.get_mut(free))
        else {
            return;
        };
        *slot = Some(message);
        let (Ok(client_idx), Ok(recv_id)) = (Int::new(idx as i64), Int::new(free as i64)) else {
            continue;
        };
        urc(
            out,
            line(QmtrecvStored {
                client_idx,
                recv_id,
            })
            .as_bytes(),
        );
    }
}

/// Which generated line a message is rendered through.
#[derive(Clone, Copy)]
enum Form {
    /// The URC `+QMTRECV: <client_idx>,<msgID>,<topic>[,<payload_length>],<payload>`.
    Urc,
    /// The information line of `AT+QMTRECV=<client_idx>[,<receiveID>]`.
    Read,
}

fn hex(data: &[u8]) -> Vec<u8> {
    data.iter()
        .flat_map(|b| format!("{b:02X}").into_bytes())
        .collect()
}

/// The text of a message line. The fields are rendered through the
/// generated line with an empty payload; the payload's bytes (hex text in
/// hex mode) then go between its quotes as they are, since they need not be
/// UTF-8 (see the group's documentation).
fn message_line(idx: usize, m: &Message, format: qmtcfg::RecvDataFormat, form: Form) -> Vec<u8> {
    let payload = match format {
        qmtcfg::RecvDataFormat::Hex => hex(&m.payload),
        qmtcfg::RecvDataFormat::String => m.payload.clone(),
    };
    let (Ok(client_idx), Ok(msg_id), Ok(length)) = (
        Int::new(idx as i64),
        Int::new(i64::from(m.msg_id)),
        Int::new(m.payload.len() as i64),
    ) else {
        return Vec::new();
    };
    let head = match form {
        Form::Urc => line(QmtrecvMessage {
            client_idx,
            msg_id,
            topic: m.topic.clone(),
            payload_length: Some(length),
            payload: Vec::new(),
        }),
        Form::Read => line(qmtrecv::WriteLine {
            client_idx,
            msg_id,
            topic: m.topic.clone(),
            payload_len: length,
            payload: Vec::new(),
        }),
    };
    // `head` ends with the empty payload's `""`: open the quotes, insert.
    let mut text = head.into_bytes();
    text.pop();
    text.extend_from_slice(&payload);
    text.push(b'"');
    text
}

/// `AT+QMTRECV=<idx>[,<receiveID>]`: the buffered messages (all, in the
/// order they arrived, or one), which are freed.
pub(super) fn read(idx: usize, client: &mut Client, receive_id: Option<usize>) -> Reply {
    let mut taken: Vec<Message> = match receive_id {
        Some(id) => match client.slots.get_mut(id).and_then(Option::take) {
            Some(m) => vec![m],
            None => return Reply::error(),
        },
        None => client.slots.iter_mut().filter_map(Option::take).collect(),
    };
    taken.sort_by_key(|m| m.seq);
    let lines: Vec<Vec<u8>> = taken
        .iter()
        .map(|m| message_line(idx, m, client.config.recv_format, Form::Read))
        .collect();
    // The lines may hold bytes that are not UTF-8, so they go out as the
    // reply's raw data block, framed as information lines.
    let mut data = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            data.extend_from_slice(b"\r\n");
        }
        data.extend_from_slice(b"\r\n");
        data.extend_from_slice(l);
    }
    Reply {
        data: (!lines.is_empty()).then_some(data),
        ..Reply::ok()
    }
}

/// The `AT+QMTRECV?` line of client `idx`.
pub(super) fn status_line(idx: usize, client: &Client) -> Option<String> {
    let full = |i: usize| client.slots.get(i).is_some_and(Option::is_some);
    debug_assert_eq!(SLOTS, 5);
    Some(line(qmtrecv::ReadLine {
        client_idx: Int::new(idx as i64).ok()?,
        store_status0: if full(0) {
            qmtrecv::StoreStatus::HasMessages
        } else {
            qmtrecv::StoreStatus::Empty
        },
        store_status1: if full(1) {
            qmtrecv::StoreStatus::HasMessages
        } else {
            qmtrecv::StoreStatus::Empty
        },
        store_status2: if full(2) {
            qmtrecv::StoreStatus::HasMessages
        } else {
            qmtrecv::StoreStatus::Empty
        },
        store_status3: if full(3) {
            qmtrecv::StoreStatus::HasMessages
        } else {
            qmtrecv::StoreStatus::Empty
        },
        store_status4: if full(4) {
            qmtrecv::StoreStatus::HasMessages
        } else {
            qmtrecv::StoreStatus::Empty
        },
    }))
}
