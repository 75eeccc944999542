//! Model-based command sequences over the stateful groups: files (UFS),
//! sockets (TCP/UDP clients in buffer access mode) and MQTT clients.
//!
//! A sequence is a list of [`Op`]s. A reference [`Model`] of the module
//! (which files exist and what they hold, which file handles are open and
//! where their pointers are, which sockets are open and which echoed bytes
//! wait to be read, which MQTT clients are open, connected and subscribed
//! to what) predicts each command's outcome from the manual's rules;
//! [`run`] sends the commands and checks that
//! - every received line is explained by the catalogue ([`explain`]),
//! - every final result (and deferred completion URC) is what the model
//!   predicts: success or refusal,
//! - the data is what the manual promises: `AT+QFREAD` returns what
//!   `AT+QFWRITE` wrote from the handle's pointer, `+QFWRITE` and
//!   `AT+QFLST` report the sizes, `AT+QIRD` returns the bytes the echo
//!   server sent back (all of them, in order), `+QIURC: "recv"` announces
//!   data arriving into an empty buffer, and a publication on a subscribed
//!   topic comes back as `+QMTRECV` to every subscriber.
//!
//! Every wait is bounded ([`Options`]). Where the manual leaves an outcome
//! open (closing a socket that is not open, reading at the end of a file,
//! the state of a client after `AT+QMTDISC`...) the model accepts either
//! success or refusal and follows what the module did.
//!
//! The catalogue has no `AT+QFSEEK` or `AT+QFPOSITION`: a handle's pointer
//! only moves by reading and writing, so written bytes are read back
//! through a handle opened after the write.
//!
//! Lines name things through the model: a file operation names an open
//! handle by its rank among the open handles ([`FileRef`]), because the
//! module chooses the handle numbers, so a sequence stays meaningful when
//! shrinking removes the operations before it.

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::case::ConnectData;
use crate::checker::{explain, Explained};
use crate::env::Env;
use crate::link::{escape, Answer, Link, Received};
use crate::outcome::Direction;

/// The file names the sequences use (a pool, so that operations meet).
pub const FILE_NAMES: [&str; 3] = ["seq_a.txt", "seq_b.bin", "seq_c.log"];

/// How many topics the sequences use (`<tag>/t0`, `<tag>/t1`, ...).
pub const TOPICS: u8 = 3;

/// The most bytes `AT+QIRD` returns at once (the top of `<read_length>`).
const MAX_QIRD: usize = 1500;

/// How many transcript entries a failure report keeps.
const TRANSCRIPT_TAIL: usize = 60;

/// Where the sequences' sockets and MQTT clients connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Servers {
    /// A TCP echo server that sends nothing of its own.
    pub tcp_echo: (String, u16),
    /// A UDP echo server.
    pub udp_echo: (String, u16),
    /// An MQTT broker (plain TCP).
    pub mqtt_broker: (String, u16),
}

impl Default for Servers {
    /// The built-in simulator's world: the echo at 192.0.2.2:7 (TCP, no
    /// greeting; the one at 8009 greets with "Test 1"), the UDP echo at
    /// 192.0.2.2:8009, the broker at 192.0.2.2:1883.
    fn default() -> Self {
        Servers {
            tcp_echo: ("192.0.2.2".into(), 7),
            udp_echo: ("192.0.2.2".into(), 8009),
            mqtt_broker: ("192.0.2.2".into(), 1883),
        }
    }
}

impl Servers {
    /// The servers of an environment: its TCP echo (also used for UDP, as
    /// the echo protocol runs on both) and its broker.
    pub fn from_env(env: &Env) -> Servers {
        let d = Servers::default();
        let split = |addr: &str, default: u16| {
            let (host, port) = Env::split(addr);
            (host, port.parse().unwrap_or(default))
        };
        let tcp = split(env.value("tcp_echo").unwrap_or_default(), d.tcp_echo.1);
        Servers {
            udp_echo: tcp.clone(),
            tcp_echo: tcp,
            mqtt_broker: split(
                env.value("mqtt_broker").unwrap_or_default(),
                d.mqtt_broker.1,
            ),
        }
    }
}

/// An open file handle, named by the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRef {
    /// The open handle of this rank (in handle order, modulo their number);
    /// when none is open, a stale handle.
    Open(usize),
    /// The open handle opened last; when none is open, a stale handle.
    Latest,
    /// The lowest positive handle number that is not open.
    Stale,
}

/// A socket's transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    /// A TCP client to the TCP echo server.
    Tcp,
    /// A UDP client to the UDP echo server.
    Udp,
}

impl Proto {
    fn name(self) -> &'static str {
        match self {
            Proto::Tcp => "TCP",
            Proto::Udp => "UDP",
        }
    }
}

/// What `AT+QFLST` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// `AT+QFLST` (all UFS files).
    All,
    /// `AT+QFLST="UFS:"`.
    Ufs,
    /// `AT+QFLST="<name>"` for the pool name of this index.
    Named(u8),
}

/// What `AT+QISTATE` reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateQuery {
    /// `AT+QISTATE` (every socket).
    All,
    /// `AT+QISTATE?` (every socket).
    Read,
    /// `AT+QISTATE=<connectID>`.
    One(u8),
}

/// One command of a sequence. Indices into pools ([`FILE_NAMES`], topics)
/// are taken modulo the pool's size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `AT+QFOPEN="<name>"[,<mode>]`.
    FileOpen {
        /// Index into [`FILE_NAMES`].
        name: u8,
        /// `<mode>` (0–2), or left out.
        mode: Option<u8>,
    },
    /// `AT+QFWRITE=<handle>,<length>[,<timeout>]`, then the bytes.
    FileWrite {
        /// The handle.
        file: FileRef,
        /// The bytes (1–65535 of them).
        data: Vec<u8>,
        /// `<timeout>` (1–179 s), or left out.
        timeout: Option<u8>,
    },
    /// `AT+QFREAD=<handle>[,<length>]`.
    FileRead {
        /// The handle.
        file: FileRef,
        /// `<length>`, or left out (the rest of the file).
        length: Option<u16>,
    },
    /// `AT+QFCLOSE=<handle>`.
    FileClose {
        /// The handle.
        file: FileRef,
    },
    /// `AT+QFDEL="<name>"`.
    FileDelete {
        /// Index into [`FILE_NAMES`].
        name: u8,
    },
    /// `AT+QFLST[=...]`.
    FileList {
        /// What to list.
        what: Listing,
    },
    /// `AT+QFOPEN?` (the open handles).
    FileListOpen,
    /// `AT+QIOPEN=<id>,"TCP"|"UDP",<host>,<port>,0,0` (buffer access mode).
    SocketOpen {
        /// `<connectID>` (0–11).
        id: u8,
        /// The transport (and so the echo server).
        proto: Proto,
    },
    /// `AT+QISEND=<id>,<send_length>`, then the bytes.
    SocketSend {
        /// `<connectID>`.
        id: u8,
        /// The bytes (1–1460 of them).
        data: Vec<u8>,
    },
    /// `AT+QIRD=<id>[,<read_length>]`.
    SocketRead {
        /// `<connectID>`.
        id: u8,
        /// `<read_length>` (1–1500), or left out. (0 asks for the totals,
        /// a different form; the sequences do not use it.)
        length: Option<u16>,
    },
    /// `AT+QISTATE...`.
    SocketState {
        /// Which form.
        query: StateQuery,
    },
    /// `AT+QICLOSE=<id>`.
    SocketClose {
        /// `<connectID>`.
        id: u8,
    },
    /// `AT+QMTOPEN=<idx>,<broker host>,<broker port>`.
    MqttOpen {
        /// `<client_idx>` (0–5).
        client: u8,
    },
    /// `AT+QMTCONN=<idx>,"<tag>c<idx>"`.
    MqttConnect {
        /// `<client_idx>`.
        client: u8,
    },
    /// `AT+QMTSUB=<idx>,<msgID>,"<topic>",<qos>`.
    MqttSubscribe {
        /// `<client_idx>`.
        client: u8,
        /// `<msgID>` (1–65535: 0 is no packet identifier).
        msg_id: u16,
        /// The topic's index.
        topic: u8,
        /// `<qos>` (0–2).
        qos: u8,
    },
    /// `AT+QMTUNS=<idx>,<msgID>,"<topic>"`.
    MqttUnsubscribe {
        /// `<client_idx>`.
        client: u8,
        /// `<msgID>` (1–65535).
        msg_id: u16,
        /// The topic's index.
        topic: u8,
    },
    /// `AT+QMTPUB=<idx>,<msgID>,<qos>,0,"<topic>",<length>`, then the
    /// payload (not retained, so nothing outlives the sequence).
    MqttPublish {
        /// `<client_idx>`.
        client: u8,
        /// `<msgID>` for QoS 1 and 2 (QoS 0 sends 0, as the manual's
        /// `+QMTRECV` says: "Only when `<qos>`=0, `<msgID>` is 0").
        msg_id: u16,
        /// `<qos>` (0–2).
        qos: u8,
        /// The topic's index.
        topic: u8,
        /// The payload: text without `"`, `,`, CR or LF, so that
        /// `+QMTRECV` stays within the catalogue's grammar.
        payload: String,
    },
    /// `AT+QMTDISC=<idx>`.
    MqttDisconnect {
        /// `<client_idx>`.
        client: u8,
    },
    /// `AT+QMTCLOSE=<idx>`.
    MqttClose {
        /// `<client_idx>`.
        client: u8,
    },
}

impl Op {
    /// The catalogue command the line belongs to.
    pub fn command(&self) -> &'static str {
        match self {
            Op::FileOpen { .. } | Op::FileListOpen => "AT+QFOPEN",
            Op::FileWrite { .. } => "AT+QFWRITE",
            Op::FileRead { .. } => "AT+QFREAD",
            Op::FileClose { .. } => "AT+QFCLOSE",
            Op::FileDelete { .. } => "AT+QFDEL",
            Op::FileList { .. } => "AT+QFLST",
            Op::SocketOpen { .. } => "AT+QIOPEN",
            Op::SocketSend { .. } => "AT+QISEND",
            Op::SocketRead { .. } => "AT+QIRD",
            Op::SocketState { .. } => "AT+QISTATE",
            Op::SocketClose { .. } => "AT+QICLOSE",
            Op::MqttOpen { .. } => "AT+QMTOPEN",
            Op::MqttConnect { .. } => "AT+QMTCONN",
            Op::MqttSubscribe { .. } => "AT+QMTSUB",
            Op::MqttUnsubscribe { .. } => "AT+QMTUNS",
            Op::MqttPublish { .. } => "AT+QMTPUB",
            Op::MqttDisconnect { .. } => "AT+QMTDISC",
            Op::MqttClose { .. } => "AT+QMTCLOSE",
        }
    }

    /// The command line, with the handles, hosts and names `model` gives.
    pub fn line(&self, model: &Model) -> String {
        match self {
            Op::FileOpen { name, mode } => match mode {
                Some(m) => format!("AT+QFOPEN=\"{}\",{m}", file_name(*name)),
                None => format!("AT+QFOPEN=\"{}\"", file_name(*name)),
            },
            Op::FileWrite {
                file,
                data,
                timeout,
            } => {
                let h = model.handle(*file);
                match timeout {
                    Some(t) => format!("AT+QFWRITE={h},{},{t}", data.len()),
                    None => format!("AT+QFWRITE={h},{}", data.len()),
                }
            }
            Op::FileRead { file, length } => {
                let h = model.handle(*file);
                match length {
                    Some(n) => format!("AT+QFREAD={h},{n}"),
                    None => format!("AT+QFREAD={h}"),
                }
            }
            Op::FileClose { file } => format!("AT+QFCLOSE={}", model.handle(*file)),
            Op::FileDelete { name } => format!("AT+QFDEL=\"{}\"", file_name(*name)),
            Op::FileList { what } => match what {
                Listing::All => "AT+QFLST".into(),
                Listing::Ufs => "AT+QFLST=\"UFS:\"".into(),
                Listing::Named(n) => format!("AT+QFLST=\"{}\"", file_name(*n)),
            },
            Op::FileListOpen => "AT+QFOPEN?".into(),
            Op::SocketOpen { id, proto } => {
                let (host, port) = model.echo(*proto);
                format!("AT+QIOPEN={id},\"{}\",\"{host}\",{port},0,0", proto.name())
            }
            Op::SocketSend { id, data } => format!("AT+QISEND={id},{}", data.len()),
            Op::SocketRead { id, length } => match length {
                Some(n) => format!("AT+QIRD={id},{n}"),
                None => format!("AT+QIRD={id}"),
            },
            Op::SocketState { query } => match query {
                StateQuery::All => "AT+QISTATE".into(),
                StateQuery::Read => "AT+QISTATE?".into(),
                StateQuery::One(id) => format!("AT+QISTATE={id}"),
            },
            Op::SocketClose { id } => format!("AT+QICLOSE={id}"),
            Op::MqttOpen { client } => {
                let (host, port) = &model.servers.mqtt_broker;
                format!("AT+QMTOPEN={client},\"{host}\",{port}")
            }
            Op::MqttConnect { client } => {
                format!("AT+QMTCONN={client},\"{}\"", model.client_id(*client))
            }
            Op::MqttSubscribe {
                client,
                msg_id,
                topic,
                qos,
            } => format!(
                "AT+QMTSUB={client},{msg_id},\"{}\",{qos}",
                model.topic(*topic)
            ),
            Op::MqttUnsubscribe {
                client,
                msg_id,
                topic,
            } => format!("AT+QMTUNS={client},{msg_id},\"{}\"", model.topic(*topic)),
            Op::MqttPublish {
                client,
                msg_id,
                qos,
                topic,
                payload,
            } => format!(
                "AT+QMTPUB={client},{},{qos},0,\"{}\",{}",
                wire_msg_id(*qos, *msg_id),
                model.topic(*topic),
                payload.len()
            ),
            Op::MqttDisconnect { client } => format!("AT+QMTDISC={client}"),
            Op::MqttClose { client } => format!("AT+QMTCLOSE={client}"),
        }
    }
}

fn file_name(index: u8) -> &'static str {
    FILE_NAMES[usize::from(index) % FILE_NAMES.len()]
}

/// The `<msgID>` a publication carries: 0 for QoS 0.
fn wire_msg_id(qos: u8, msg_id: u16) -> u16 {
    if qos == 0 {
        0
    } else {
        msg_id
    }
}

/// What the model predicts for a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Success: `OK` / `SEND OK`, and a completion URC reporting success.
    Accept,
    /// Refusal: `ERROR` / `+CME ERROR`, or a completion URC reporting failure.
    Refuse,
    /// The manual does not decide: either, and the model follows.
    Either,
}

/// What the model knows of a file's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Content {
    Known(Vec<u8>),
    /// The manual does not say (a bare `AT+QFOPEN` of a non-empty file:
    /// no default `<mode>` is given, and modes 0 and 1 differ there).
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Handle {
    name: String,
    mode: Option<u8>,
    /// The file pointer, when known.
    position: Option<usize>,
    /// The file was deleted while this handle was open (the manual does not
    /// say what the handle does then).
    orphaned: bool,
    /// When it was opened (a count of opens).
    opened: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Socket {
    proto: Proto,
    /// Bytes sent and not yet read back: the echo returns them in order.
    unread: Vec<u8>,
    /// A `+QIURC: "recv"` came since the last `AT+QIRD`: the buffer holds
    /// data.
    announced: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Closed,
    Open,
    Connected,
    /// After `AT+QMTDISC`: the manual does not say whether the network
    /// connection stays open (`AT+QMTCONN` again) or is closed too
    /// (`AT+QMTOPEN` again).
    Disconnected,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Client {
    phase: Phase,
    /// Topic → granted QoS.
    subscriptions: BTreeMap<String, u8>,
}

impl Default for Client {
    fn default() -> Self {
        Client {
            phase: Phase::Closed,
            subscriptions: BTreeMap::new(),
        }
    }
}

/// A `+QMTRECV` the model expects.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Delivery {
    client: u8,
    topic: String,
    payload: String,
    /// The delivery's QoS (the lower of the publication's and the
    /// subscription's).
    qos: u8,
}

/// The reference model of the module's state the sequences touch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Model {
    servers: Servers,
    tag: String,
    files: BTreeMap<String, Content>,
    handles: BTreeMap<i64, Handle>,
    sockets: BTreeMap<u8, Socket>,
    clients: BTreeMap<u8, Client>,
    deliveries: Vec<Delivery>,
    /// Handles opened so far.
    opens: u64,
}

impl Model {
    /// A module with no files, sockets or MQTT clients, whose network
    /// reaches `servers`. Its MQTT topics and client IDs carry a tag unique
    /// in the process, so that sequences sharing a broker do not meet.
    pub fn new(servers: Servers) -> Model {
        static COUNT: AtomicU64 = AtomicU64::new(0);
        let n = COUNT.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        Model {
            servers,
            tag: format!(
                "sq{:x}{n:x}{:x}",
                std::process::id() % 0x1000,
                nanos % 0x1000
            ),
            files: BTreeMap::new(),
            handles: BTreeMap::new(),
            sockets: BTreeMap::new(),
            clients: BTreeMap::new(),
            deliveries: Vec::new(),
            opens: 0,
        }
    }

    /// Tells the model that the module's UFS holds `name` with `contents`
    /// (a module that is not fresh; a test can also give a wrong belief to
    /// see the run catch it).
    pub fn assume_file(&mut self, name: &str, contents: &[u8]) {
        self.files
            .insert(name.to_string(), Content::Known(contents.to_vec()));
    }

    /// The tag in this model's topics and client IDs.
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// The topic of index `k`.
    pub fn topic(&self, k: u8) -> String {
        format!("{}/t{}", self.tag, k % TOPICS.max(1))
    }

    /// The MQTT client ID client `idx` connects with.
    pub fn client_id(&self, idx: u8) -> String {
        format!("{}c{idx}", self.tag)
    }

    fn echo(&self, proto: Proto) -> (&str, u16) {
        let (host, port) = match proto {
            Proto::Tcp => &self.servers.tcp_echo,
            Proto::Udp => &self.servers.udp_echo,
        };
        (host.as_str(), *port)
    }

    /// The handle number `file` names now.
    pub fn handle(&self, file: FileRef) -> i64 {
        match file {
            FileRef::Open(k) if !self.handles.is_empty() => {
                let rank = k % self.handles.len();
                self.handles.keys().nth(rank).copied().unwrap_or(1)
            }
            FileRef::Latest if !self.handles.is_empty() => self
                .handles
                .iter()
                .max_by_key(|(_, x)| x.opened)
                .map_or(1, |(h, _)| *h),
            _ => (1..).find(|h| !self.handles.contains_key(h)).unwrap_or(1),
        }
    }

    fn client(&self, idx: u8) -> Phase {
        self.clients.get(&idx).map_or(Phase::Closed, |c| c.phase)
    }

    fn client_mut(&mut self, idx: u8) -> &mut Client {
        self.clients.entry(idx).or_default()
    }

    fn file_is_open(&self, name: &str) -> bool {
        self.handles.values().any(|h| h.name == name && !h.orphaned)
    }

    /// The bytes from `h`'s pointer to the end of its file, when known.
    fn remaining(&self, h: &Handle) -> Option<&[u8]> {
        match (self.files.get(&h.name), h.position) {
            (Some(Content::Known(data)), Some(p)) => data.get(p..),
            _ => None,
        }
    }

    /// What the manual says `op` does in the current state.
    pub fn expect(&self, op: &Op) -> Expect {
        match op {
            Op::FileOpen { name, mode } => {
                if *mode == Some(2) && !self.files.contains_key(file_name(*name)) {
                    Expect::Refuse
                } else {
                    Expect::Accept
                }
            }
            Op::FileWrite { file, .. } => match self.handles.get(&self.handle(*file)) {
                None => Expect::Refuse,
                Some(h) if h.orphaned => Expect::Either,
                Some(h) if h.mode == Some(2) => Expect::Refuse,
                Some(_) => Expect::Accept,
            },
            Op::FileRead { file, .. } => match self.handles.get(&self.handle(*file)) {
                None => Expect::Refuse,
                Some(h) if h.orphaned => Expect::Either,
                // At the end of the file the manual gives no answer
                // (CONNECT 0, or an error).
                Some(h) => match self.remaining(h) {
                    Some(rest) if !rest.is_empty() => Expect::Accept,
                    _ => Expect::Either,
                },
            },
            Op::FileClose { file } => match self.handles.get(&self.handle(*file)) {
                None => Expect::Refuse,
                Some(h) if h.orphaned => Expect::Either,
                Some(_) => Expect::Accept,
            },
            Op::FileDelete { name } => {
                let name = file_name(*name);
                if !self.files.contains_key(name) {
                    Expect::Refuse
                } else if self.file_is_open(name) {
                    Expect::Either
                } else {
                    Expect::Accept
                }
            }
            Op::FileList { what } => match what {
                Listing::Named(n) if !self.files.contains_key(file_name(*n)) => Expect::Either,
                _ => Expect::Accept,
            },
            Op::FileListOpen => Expect::Accept,
            Op::SocketOpen { id, .. } => {
                if self.sockets.contains_key(id) {
                    Expect::Refuse
                } else {
                    Expect::Accept
                }
            }
            Op::SocketSend { id, .. } | Op::SocketRead { id, .. } => {
                if self.sockets.contains_key(id) {
                    Expect::Accept
                } else {
                    Expect::Refuse
                }
            }
            Op::SocketState { query } => match query {
                StateQuery::One(id) if !self.sockets.contains_key(id) => Expect::Either,
                _ => Expect::Accept,
            },
            Op::SocketClose { id } => {
                if self.sockets.contains_key(id) {
                    Expect::Accept
                } else {
                    Expect::Either
                }
            }
            Op::MqttOpen { client } => match self.client(*client) {
                Phase::Closed => Expect::Accept,
                Phase::Open | Phase::Connected => Expect::Refuse,
                Phase::Disconnected => Expect::Either,
            },
            Op::MqttConnect { client } => match self.client(*client) {
                Phase::Open => Expect::Accept,
                Phase::Closed | Phase::Connected => Expect::Refuse,
                Phase::Disconnected => Expect::Either,
            },
            Op::MqttSubscribe { msg_id: 0, .. } | Op::MqttUnsubscribe { msg_id: 0, .. } => {
                Expect::Either
            }
            Op::MqttPublish { msg_id: 0, qos, .. } if *qos > 0 => Expect::Either,
            Op::MqttSubscribe { client, .. }
            | Op::MqttUnsubscribe { client, .. }
            | Op::MqttPublish { client, .. }
            | Op::MqttDisconnect { client } => match self.client(*client) {
                Phase::Connected => Expect::Accept,
                _ => Expect::Refuse,
            },
            Op::MqttClose { client } => match self.client(*client) {
                Phase::Open | Phase::Connected => Expect::Accept,
                Phase::Closed => Expect::Refuse,
                Phase::Disconnected => Expect::Either,
            },
        }
    }

    /// A handle `h` opened on `name` with `mode`.
    fn opened(&mut self, name: &str, mode: Option<u8>, h: i64) {
        let content = self.files.get(name).cloned();
        let new = match (mode, content) {
            (Some(1), _) | (_, None) => Content::Known(Vec::new()),
            (Some(_), Some(c)) => c,
            // No default `<mode>`: kept (0) or cleared (1).
            (None, Some(Content::Known(d))) if d.is_empty() => Content::Known(d),
            (None, Some(_)) => Content::Unknown,
        };
        self.files.insert(name.to_string(), new);
        self.opens += 1;
        self.handles.insert(
            h,
            Handle {
                name: name.to_string(),
                mode,
                position: Some(0),
                orphaned: false,
                opened: self.opens,
            },
        );
    }

    /// `data` written at `h`'s pointer; the file's new size, when known.
    fn written(&mut self, h: i64, data: &[u8]) -> Option<usize> {
        let handle = self.handles.get_mut(&h)?;
        if handle.orphaned {
            return None;
        }
        let content = self.files.get_mut(&handle.name)?;
        let Some(p) = handle.position else {
            *content = Content::Unknown;
            return None;
        };
        handle.position = Some(p + data.len());
        match content {
            Content::Known(bytes) if p <= bytes.len() => {
                let end = p + data.len();
                if end > bytes.len() {
                    bytes.resize(end, 0);
                }
                bytes[p..end].copy_from_slice(data);
                Some(bytes.len())
            }
            // Past the end (another handle cleared the file): the manual
            // does not say whether the gap is filled.
            _ => {
                *content = Content::Unknown;
                None
            }
        }
    }

    /// The bytes a read of at most `length` from `h` returns, when known.
    fn expected_read(&self, h: i64, length: Option<u16>) -> Option<Vec<u8>> {
        let handle = self.handles.get(&h)?;
        if handle.orphaned {
            return None;
        }
        let rest = self.remaining(handle)?;
        let n = length.map_or(rest.len(), |l| usize::from(l).min(rest.len()));
        Some(rest[..n].to_vec())
    }

    fn deleted(&mut self, name: &str) {
        self.files.remove(name);
        for h in self.handles.values_mut() {
            if h.name == name {
                h.orphaned = true;
            }
        }
    }

    /// The `+QMTRECV`s a publication on `topic` with `qos` causes.
    fn deliveries_for(&self, topic: &str, qos: u8, payload: &str) -> Vec<Delivery> {
        self.clients
            .iter()
            .filter(|(_, c)| c.phase == Phase::Connected)
            .filter_map(|(idx, c)| {
                let granted = *c.subscriptions.get(topic)?;
                Some(Delivery {
                    client: *idx,
                    topic: topic.to_string(),
                    payload: payload.to_string(),
                    qos: qos.min(granted),
                })
            })
            .collect()
    }
}

/// Bounds on every wait of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// For a command's final result (or `>` / `CONNECT`).
    pub answer_limit: Duration,
    /// For a deferred completion URC (`+QIOPEN`, `+QMTSUB`...).
    pub completion_limit: Duration,
    /// For echoed bytes and `+QMTRECV` deliveries.
    pub echo_limit: Duration,
    /// Silence that ends the run's final listening.
    pub quiet: Duration,
    /// After a successful run, close what the sequence left open and
    /// delete its files (for a module that is not thrown away).
    pub tidy: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            answer_limit: Duration::from_secs(10),
            completion_limit: Duration::from_secs(20),
            echo_limit: Duration::from_secs(5),
            quiet: Duration::from_millis(200),
            tidy: true,
        }
    }
}

/// Why a sequence failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The index of the failing operation (`None`: the checks after the
    /// last one: echoed bytes still missing, late lines).
    pub step: Option<usize>,
    /// The failing operation's line.
    pub line: String,
    /// What was wrong.
    pub reason: String,
    /// Every line sent, up to the failure.
    pub sent: Vec<String>,
    /// The end of the exchange (`>> ` sent, `<< ` received).
    pub transcript: Vec<String>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.step {
            Some(i) => writeln!(f, "step {} `{}`: {}", i + 1, self.line, self.reason)?,
            None => writeln!(f, "after the last step: {}", self.reason)?,
        }
        writeln!(f, "sequence sent:")?;
        for (i, l) in self.sent.iter().enumerate() {
            writeln!(f, "  {:>2}. {l}", i + 1)?;
        }
        writeln!(f, "exchange (last {} entries):", self.transcript.len())?;
        for l in &self.transcript {
            writeln!(f, "  {l}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

/// Runs `ops` on a module that has no files, sockets or MQTT clients in
/// use, joined to a network that reaches the simulator's servers
/// ([`Servers::default`]), with the default [`Options`].
pub fn run(ops: &[Op], link: &mut Link) -> Result<(), Failure> {
    run_with(
        ops,
        link,
        Model::new(Servers::default()),
        &Options::default(),
    )
    .map(|_| ())
}

/// Runs `ops` from the state `model` describes; the model after the run.
pub fn run_with(
    ops: &[Op],
    link: &mut Link,
    model: Model,
    options: &Options,
) -> Result<Model, Failure> {
    link.take_transcript();
    let mut exec = Exec {
        link,
        model,
        options,
        command: "AT",
        awaiting: None,
        arrived: None,
        sent: Vec::new(),
    };
    let mut failed = None;
    for (i, op) in ops.iter().enumerate() {
        let line = op.line(&exec.model);
        if let Err(reason) = exec.step(op, &line) {
            failed = Some((Some(i), line, reason));
            break;
        }
    }
    if failed.is_none() {
        if let Err(reason) = exec.settle() {
            failed = Some((None, String::new(), reason));
        }
    }
    match failed {
        Some((step, line, reason)) => {
            let transcript = exec.link.take_transcript();
            let skip = transcript.len().saturating_sub(TRANSCRIPT_TAIL);
            Err(Failure {
                step,
                line,
                reason,
                sent: exec.sent,
                transcript: transcript
                    .into_iter()
                    .skip(skip)
                    .map(|e| {
                        let arrow = match e.direction {
                            Direction::Sent => ">>",
                            Direction::Received => "<<",
                        };
                        format!("{:>6} ms {arrow} {}", e.at_ms, e.text)
                    })
                    .collect(),
            })
        }
        None => {
            if options.tidy {
                exec.tidy();
            }
            exec.link.take_transcript();
            Ok(exec.model)
        }
    }
}

/// The fields of a response or URC line after `<prefix>: `, split at commas
/// outside quotes, quotes removed.
fn fields(rest: &str) -> Vec<String> {
    fcm242d_codegen::template::split_arguments(rest)
        .into_iter()
        .map(|f| {
            let f = f.trim();
            f.strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .unwrap_or(f)
                .to_string()
        })
        .collect()
}

/// A line's prefix (`+QIOPEN`) and fields.
fn parts(line: &str) -> Option<(&str, Vec<String>)> {
    let (prefix, rest) = line.split_once(": ")?;
    Some((prefix, fields(rest)))
}

/// The fields of the answer's lines that start with `prefix`.
fn lines_of(answer_lines: &[String], prefix: &str) -> Vec<Vec<String>> {
    answer_lines
        .iter()
        .filter_map(|l| parts(l).filter(|(p, _)| *p == prefix).map(|(_, f)| f))
        .collect()
}

fn number<T: std::str::FromStr>(field: Option<&String>, what: &str) -> Result<T, String> {
    field
        .and_then(|f| f.parse().ok())
        .ok_or_else(|| format!("{what} is not a number"))
}

/// Whether a final result is a success (`None`: neither success nor
/// refusal, e.g. `SEND FAIL`, `NO CARRIER`).
fn success(result: &str) -> Option<bool> {
    match result {
        "OK" | "SEND OK" => Some(true),
        "ERROR" => Some(false),
        r if r.starts_with("+CME ERROR") => Some(false),
        _ => None,
    }
}

fn judge(expect: Expect, accepted: bool, what: &str) -> Result<(), String> {
    match (expect, accepted) {
        (Expect::Accept, false) => Err(format!(
            "the model expects success; the module refused ({what})"
        )),
        (Expect::Refuse, true) => Err(format!(
            "the model expects a refusal; the module succeeded ({what})"
        )),
        _ => Ok(()),
    }
}

struct Exec<'a> {
    link: &'a mut Link,
    model: Model,
    options: &'a Options,
    /// The catalogue command pending (lines are explained against it).
    command: &'static str,
    /// A completion URC being waited for: its prefix and leading fields.
    awaiting: Option<(&'static str, Vec<String>)>,
    /// The awaited completion's fields, once it came.
    arrived: Option<Vec<String>>,
    sent: Vec<String>,
}

impl Exec<'_> {
    fn step(&mut self, op: &Op, line: &str) -> Result<(), String> {
        self.command = op.command();
        self.sent.push(line.to_string());
        let expect = self.model.expect(op);
        match op {
            Op::FileOpen { name, mode } => self.file_open(line, file_name(*name), *mode, expect),
            Op::FileWrite { file, data, .. } => {
                let h = self.model.handle(*file);
                self.file_write(line, h, data, expect)
            }
            Op::FileRead { file, length } => {
                let h = self.model.handle(*file);
                self.file_read(line, h, *length, expect)
            }
            Op::FileClose { file } => {
                let h = self.model.handle(*file);
                let accepted = self.simple(line, expect)?;
                let orphaned = self.model.handles.get(&h).is_some_and(|x| x.orphaned);
                if accepted || orphaned {
                    self.model.handles.remove(&h);
                }
                Ok(())
            }
            Op::FileDelete { name } => {
                if self.simple(line, expect)? {
                    self.model.deleted(file_name(*name));
                }
                Ok(())
            }
            Op::FileList { what } => self.file_list(line, *what, expect),
            Op::FileListOpen => self.file_list_open(line, expect),
            Op::SocketOpen { id, proto } => {
                let accepted =
                    self.with_completion(line, "+QIOPEN", vec![id.to_string()], 1, expect)?;
                if accepted.is_some() {
                    self.model.sockets.insert(
                        *id,
                        Socket {
                            proto: *proto,
                            unread: Vec::new(),
                            announced: false,
                        },
                    );
                }
                Ok(())
            }
            Op::SocketSend { id, data } => self.socket_send(line, *id, data, expect),
            Op::SocketRead { id, length } => self.socket_read(line, *id, *length, expect),
            Op::SocketState { query } => self.socket_state(line, *query, expect),
            Op::SocketClose { id } => {
                if self.simple(line, expect)? {
                    self.model.sockets.remove(id);
                }
                Ok(())
            }
            Op::MqttOpen { client } => {
                let before = self.model.client(*client);
                let done =
                    self.with_completion(line, "+QMTOPEN", vec![client.to_string()], 1, expect)?;
                // Refused after AT+QMTDISC: it was still open.
                if done.is_some() || before == Phase::Disconnected {
                    *self.model.client_mut(*client) = Client {
                        phase: Phase::Open,
                        ..Client::default()
                    };
                }
                Ok(())
            }
            Op::MqttConnect { client } => {
                let before = self.model.client(*client);
                let done =
                    self.with_completion(line, "+QMTCONN", vec![client.to_string()], 1, expect)?;
                if let Some(f) = &done {
                    if f.get(2).is_some_and(|r| r != "0") {
                        return Err(format!("the broker refused the connection: {f:?}"));
                    }
                }
                let phase = match (done.is_some(), before) {
                    (true, _) => Some(Phase::Connected),
                    // Refused after AT+QMTDISC: the network was closed too.
                    (false, Phase::Disconnected) => Some(Phase::Closed),
                    _ => None,
                };
                if let Some(phase) = phase {
                    *self.model.client_mut(*client) = Client {
                        phase,
                        ..Client::default()
                    };
                }
                Ok(())
            }
            Op::MqttSubscribe {
                client,
                msg_id,
                topic,
                qos,
            } => {
                let key = vec![client.to_string(), msg_id.to_string()];
                if let Some(f) = self.with_completion(line, "+QMTSUB", key, 2, expect)? {
                    let granted = match f.get(3) {
                        Some(v) => number::<u8>(Some(v), "the granted QoS")?,
                        None => *qos,
                    };
                    if granted > *qos {
                        return Err(format!(
                            "granted QoS {granted} for a subscription of QoS {qos}"
                        ));
                    }
                    let topic = self.model.topic(*topic);
                    self.model
                        .client_mut(*client)
                        .subscriptions
                        .insert(topic, granted);
                }
                Ok(())
            }
            Op::MqttUnsubscribe {
                client,
                msg_id,
                topic,
            } => {
                let key = vec![client.to_string(), msg_id.to_string()];
                if self
                    .with_completion(line, "+QMTUNS", key, 2, expect)?
                    .is_some()
                {
                    let topic = self.model.topic(*topic);
                    self.model.client_mut(*client).subscriptions.remove(&topic);
                }
                Ok(())
            }
            Op::MqttPublish {
                client,
                msg_id,
                qos,
                topic,
                payload,
            } => self.mqtt_publish(
                line,
                *client,
                wire_msg_id(*qos, *msg_id),
                *qos,
                *topic,
                payload,
                expect,
            ),
            Op::MqttDisconnect { client } => {
                if self
                    .with_completion(line, "+QMTDISC", vec![client.to_string()], 1, expect)?
                    .is_some()
                {
                    *self.model.client_mut(*client) = Client {
                        phase: Phase::Disconnected,
                        ..Client::default()
                    };
                }
                Ok(())
            }
            Op::MqttClose { client } => {
                let before = self.model.client(*client);
                let done =
                    self.with_completion(line, "+QMTCLOSE", vec![client.to_string()], 1, expect)?;
                if done.is_some() || before == Phase::Disconnected {
                    *self.model.client_mut(*client) = Client::default();
                }
                Ok(())
            }
        }
    }

    // ------------------------------------------------------------ plumbing

    /// Sends `line` and collects its answer (lines explained, URCs observed).
    fn send(&mut self, line: &str, connect: ConnectData, prompt: bool) -> Result<Answer, String> {
        self.link.send_line(line, connect, prompt);
        self.collect()
    }

    /// The answer to what was just sent.
    fn collect(&mut self) -> Result<Answer, String> {
        let a = self.link.answer(Instant::now() + self.options.answer_limit);
        for l in &a.lines {
            if let Explained::No(why) = explain(l, self.command) {
                return Err(format!("`{l}`: {why}"));
            }
        }
        for u in &a.urcs {
            self.unsolicited(u)?;
        }
        if a.result.is_none() && !a.prompt {
            return Err(format!(
                "no final result within {} ms (got: {})",
                self.options.answer_limit.as_millis(),
                a.summary()
            ));
        }
        Ok(a)
    }

    /// Whether the answer's final result is a success.
    fn outcome(a: &Answer) -> Result<(bool, String), String> {
        let r = a.result.clone().unwrap_or_default();
        match success(&r) {
            Some(ok) => Ok((ok, r)),
            None => Err(format!("unexpected final result `{r}`")),
        }
    }

    /// A command with no information lines that matter: judged on its
    /// final result.
    fn simple(&mut self, line: &str, expect: Expect) -> Result<bool, String> {
        let a = self.send(line, ConnectData::None, false)?;
        let (accepted, r) = Self::outcome(&a)?;
        judge(expect, accepted, &r)?;
        Ok(accepted)
    }

    /// A command whose success a completion URC `<label>: <key>,...`
    /// reports in field `result_field` (0 is success). The completion's
    /// fields when the command succeeded.
    fn with_completion(
        &mut self,
        line: &str,
        label: &'static str,
        key: Vec<String>,
        result_field: usize,
        expect: Expect,
    ) -> Result<Option<Vec<String>>, String> {
        self.await_completion(label, key);
        let a = self.send(line, ConnectData::None, false)?;
        self.finish_completion(a, label, result_field, expect)
    }

    fn await_completion(&mut self, label: &'static str, key: Vec<String>) {
        self.awaiting = Some((label, key));
        self.arrived = None;
    }

    fn finish_completion(
        &mut self,
        a: Answer,
        label: &str,
        result_field: usize,
        expect: Expect,
    ) -> Result<Option<Vec<String>>, String> {
        let (ok, r) = Self::outcome(&a)?;
        if !ok {
            self.awaiting = None;
            judge(expect, false, &r)?;
            return Ok(None);
        }
        self.wait(
            &format!("the {label} completion URC"),
            self.options.completion_limit,
            |e| e.arrived.is_some(),
        )?;
        let f = self.arrived.take().unwrap_or_default();
        let accepted = f.get(result_field).is_some_and(|v| v == "0");
        judge(
            expect,
            accepted,
            &format!("OK, then {label}: {}", f.join(",")),
        )?;
        Ok(accepted.then_some(f))
    }

    /// Reads what arrives until `done`, or fails after `limit`.
    fn wait(
        &mut self,
        what: &str,
        limit: Duration,
        done: impl Fn(&Self) -> bool,
    ) -> Result<(), String> {
        let deadline = Instant::now() + limit;
        while !done(self) {
            match self.link.next(deadline) {
                Some(Received::Line(l)) => self.unsolicited(&l)?,
                Some(Received::Prompt) => return Err("an unexpected `>` prompt".into()),
                Some(Received::Data(d) | Received::Raw(d)) => {
                    return Err(format!("data outside any answer: \"{}\"", escape(&d)))
                }
                Some(Received::Overflow) => return Err("an over-long line".into()),
                None => {
                    return Err(format!(
                        "{what} did not come within {} ms",
                        limit.as_millis()
                    ))
                }
            }
        }
        Ok(())
    }

    /// Reads what arrives until `quiet` passes with nothing (at most ten
    /// times `quiet` in all).
    fn listen(&mut self, quiet: Duration) -> Result<(), String> {
        let end = Instant::now() + quiet * 10;
        loop {
            let deadline = (Instant::now() + quiet).min(end);
            match self.link.next(deadline) {
                Some(Received::Line(l)) => self.unsolicited(&l)?,
                Some(Received::Data(d) | Received::Raw(d)) => {
                    return Err(format!("data outside any answer: \"{}\"", escape(&d)))
                }
                Some(_) => return Err("an unexpected prompt or over-long line".into()),
                None => return Ok(()),
            }
            if Instant::now() >= end {
                return Ok(());
            }
        }
    }

    /// A line outside any answer: it must be a URC, and one the model
    /// expects.
    fn unsolicited(&mut self, line: &str) -> Result<(), String> {
        match explain(line, self.command) {
            Explained::Urc(_) => self.observe(line),
            Explained::No(why) => Err(format!("`{line}`: {why}")),
            Explained::Final | Explained::Response(_) => {
                Err(format!("`{line}` came outside the command's answer"))
            }
        }
    }

    /// What a URC tells the model, or why the model cannot explain it.
    fn observe(&mut self, line: &str) -> Result<(), String> {
        let Some((prefix, f)) = parts(line) else {
            return Ok(());
        };
        if let Some((label, key)) = &self.awaiting {
            if prefix == *label && f.starts_with(key) {
                self.arrived = Some(f);
                self.awaiting = None;
                return Ok(());
            }
        }
        match prefix {
            "+QIURC" => {
                let id: u8 = number(f.get(1), "the <connectID>")?;
                match f.first().map(String::as_str) {
                    Some("recv") if f.len() == 2 => match self.model.sockets.get_mut(&id) {
                        Some(s) => {
                            s.announced = true;
                            Ok(())
                        }
                        None => Err(format!("`{line}`: no socket {id} is open")),
                    },
                    Some("closed") => Err(format!(
                        "`{line}`: the echo server never closes a connection"
                    )),
                    _ => Err(format!(
                        "`{line}`: not expected of sockets in buffer access mode"
                    )),
                }
            }
            "+QMTRECV" => self.delivered(line, &f),
            "+QMTSTAT" => Err(format!("`{line}`: a client's connection ended")),
            "+QIOPEN" | "+QMTOPEN" | "+QMTCONN" | "+QMTSUB" | "+QMTUNS" | "+QMTPUB"
            | "+QMTDISC" | "+QMTCLOSE" => Err(format!(
                "`{line}`: a completion URC no pending command awaits"
            )),
            _ => Ok(()),
        }
    }

    /// A `+QMTRECV: <idx>,<msgID>,<topic>[,<payload_length>],<payload>`.
    fn delivered(&mut self, line: &str, f: &[String]) -> Result<(), String> {
        let (client, msg_id, topic, length, payload) = match f {
            [c, m, t, p] => (c, m, t, None, p),
            [c, m, t, n, p] => (c, m, t, Some(n), p),
            _ => {
                return Err(format!(
                    "`{line}`: a message stored in a buffer; the sequences use the URC mode"
                ))
            }
        };
        let client: u8 = number(Some(client), "the <client_idx>")?;
        let msg_id: u32 = number(Some(msg_id), "the <msgID>")?;
        if let Some(n) = length {
            let n: usize = number(Some(n), "the <payload_length>")?;
            if n != payload.len() {
                return Err(format!(
                    "`{line}`: <payload_length> {n} for a payload of {} bytes",
                    payload.len()
                ));
            }
        }
        let Some(i) = self
            .model
            .deliveries
            .iter()
            .position(|d| d.client == client && &d.topic == topic && &d.payload == payload)
        else {
            return Err(format!(
                "`{line}`: no such message was published to a topic client {client} subscribed to"
            ));
        };
        let d = self.model.deliveries.remove(i);
        if (msg_id == 0) != (d.qos == 0) {
            return Err(format!(
                "`{line}`: delivered with QoS {}, so <msgID> {}",
                d.qos,
                if d.qos == 0 {
                    "must be 0"
                } else {
                    "must not be 0"
                }
            ));
        }
        Ok(())
    }

    // --------------------------------------------------------------- files

    fn file_open(
        &mut self,
        line: &str,
        name: &str,
        mode: Option<u8>,
        expect: Expect,
    ) -> Result<(), String> {
        let a = self.send(line, ConnectData::None, false)?;
        let (accepted, r) = Self::outcome(&a)?;
        judge(expect, accepted, &r)?;
        if !accepted {
            return Ok(());
        }
        let got = lines_of(&a.lines, "+QFOPEN");
        let [f] = got.as_slice() else {
            return Err(format!(
                "expected one `+QFOPEN: <filehandle>` line, got {:?}",
                a.lines
            ));
        };
        let h: i64 = number(f.first(), "the <filehandle>")?;
        if self.model.handles.get(&h).is_some_and(|x| !x.orphaned) {
            return Err(format!("handle {h} is given out while it is still open"));
        }
        self.model.opened(name, mode, h);
        Ok(())
    }

    fn file_write(
        &mut self,
        line: &str,
        h: i64,
        data: &[u8],
        expect: Expect,
    ) -> Result<(), String> {
        let mut a = self.send(line, ConnectData::None, false)?;
        if a.result.as_deref() == Some("CONNECT") {
            self.link.send_raw(data);
            a = self.collect()?;
        }
        let (accepted, r) = Self::outcome(&a)?;
        judge(expect, accepted, &r)?;
        if !accepted {
            return Ok(());
        }
        let got = lines_of(&a.lines, "+QFWRITE");
        let [f] = got.as_slice() else {
            return Err(format!(
                "expected one `+QFWRITE: <written_length>,<total_length>` line, got {:?}",
                a.lines
            ));
        };
        let written: usize = number(f.first(), "<written_length>")?;
        let total: usize = number(f.get(1), "<total_length>")?;
        if written != data.len() {
            return Err(format!(
                "{written} bytes written of the {} sent",
                data.len()
            ));
        }
        if let Some(size) = self.model.written(h, data) {
            if total != size {
                return Err(format!(
                    "<total_length> {total}; the file holds {size} bytes"
                ));
            }
        }
        Ok(())
    }

    fn file_read(
        &mut self,
        line: &str,
        h: i64,
        length: Option<u16>,
        expect: Expect,
    ) -> Result<(), String> {
        let wanted = self.model.expected_read(h, length);
        let a = self.send(line, ConnectData::Length, false)?;
        let (accepted, r) = Self::outcome(&a)?;
        judge(expect, accepted, &r)?;
        if !accepted {
            return Ok(());
        }
        let Some(n) = a
            .connect
            .as_deref()
            .and_then(|c| c.strip_prefix("CONNECT "))
            .and_then(|n| n.trim().parse::<usize>().ok())
        else {
            return Err(format!("no `CONNECT <read_length>` before {r}"));
        };
        let got: Vec<u8> = a.data.concat();
        if got.len() != n {
            return Err(format!("CONNECT {n}, then {} bytes", got.len()));
        }
        if let Some(limit) = length {
            if n > usize::from(limit) {
                return Err(format!("{n} bytes read of at most {limit}"));
            }
        }
        if let Some(wanted) = wanted {
            if got != wanted {
                return Err(format!(
                    "read \"{}\"; the file holds \"{}\" from the pointer on",
                    escape(&got),
                    escape(&wanted)
                ));
            }
        }
        if let Some(p) = self
            .model
            .handles
            .get_mut(&h)
            .and_then(|x| x.position.as_mut())
        {
            *p += n;
        }
        Ok(())
    }

    fn file_list(&mut self, line: &str, what: Listing, expect: Expect) -> Result<(), String> {
        let a = self.send(line, ConnectData::None, false)?;
        let (accepted, r) = Self::outcome(&a)?;
        judge(expect, accepted, &r)?;
        if !accepted {
            return Ok(());
        }
        let mut listed: BTreeMap<String, usize> = BTreeMap::new();
        for f in lines_of(&a.lines, "+QFLST") {
            let name = f.first().cloned().unwrap_or_default();
            let size: usize = number(f.get(1), "<file_size>")?;
            if listed.insert(name.clone(), size).is_some() {
                return Err(format!("\"{name}\" listed twice"));
            }
        }
        let names: Vec<&str> = match what {
            Listing::All | Listing::Ufs => FILE_NAMES.to_vec(),
            Listing::Named(n) => vec![file_name(n)],
        };
        for name in names {
            match (self.model.files.get(name), listed.get(name)) {
                (Some(Content::Known(d)), Some(&size)) if size != d.len() => {
                    return Err(format!(
                        "\"{name}\" listed with {size} bytes; it holds {}",
                        d.len()
                    ))
                }
                (Some(_), None) => return Err(format!("\"{name}\" exists but is not listed")),
                (None, Some(_)) => return Err(format!("\"{name}\" is listed but does not exist")),
                _ => {}
            }
        }
        if let Listing::Named(n) = what {
            if listed.keys().any(|k| k != file_name(n)) {
                return Err(format!("files other than \"{}\" listed", file_name(n)));
            }
        }
        Ok(())
    }

    fn file_list_open(&mut self, line: &str, expect: Expect) -> Result<(), String> {
        let a = self.send(line, ConnectData::None, false)?;
        let (accepted, r) = Self::outcome(&a)?;
        judge(expect, accepted, &r)?;
        let mut listed: BTreeMap<i64, (String, String)> = BTreeMap::new();
        for f in lines_of(&a.lines, "+QFOPEN") {
            let h: i64 = number(f.get(1), "the <filehandle>")?;
            let name = f.first().cloned().unwrap_or_default();
            listed.insert(h, (name, f.get(2).cloned().unwrap_or_default()));
        }
        for (h, x) in &self.model.handles {
            if x.orphaned {
                continue;
            }
            match listed.get(h) {
                None => {
                    return Err(format!(
                        "handle {h} (\"{}\") is open but not listed",
                        x.name
                    ))
                }
                Some((name, _)) if *name != x.name => {
                    return Err(format!(
                        "handle {h} listed on \"{name}\"; it is on \"{}\"",
                        x.name
                    ))
                }
                Some((_, mode)) => {
                    if let Some(m) = x.mode {
                        if *mode != m.to_string() {
                            return Err(format!(
                                "handle {h} listed with mode {mode}; it was opened with {m}"
                            ));
                        }
                    }
                }
            }
        }
        for (h, (name, _)) in &listed {
            if FILE_NAMES.contains(&name.as_str()) && !self.model.handles.contains_key(h) {
                return Err(format!("handle {h} (\"{name}\") is listed but not open"));
            }
        }
        Ok(())
    }

    // ------------------------------------------------------------- sockets

    fn socket_send(
        &mut self,
        line: &str,
        id: u8,
        data: &[u8],
        expect: Expect,
    ) -> Result<(), String> {
        let mut a = self.send(line, ConnectData::None, true)?;
        if a.prompt {
            self.link.send_raw(data);
            a = self.collect()?;
        }
        let (accepted, r) = Self::outcome(&a)?;
        judge(expect, accepted, &r)?;
        let Some(s) = self.model.sockets.get_mut(&id).filter(|_| accepted) else {
            return Ok(());
        };
        let was_empty = s.unread.is_empty();
        s.unread.extend_from_slice(data);
        if was_empty {
            // The buffer is empty and nothing is on its way: the echo's
            // arrival must be announced (manual: no new URC only "if the
            // buffer is not empty").
            s.announced = false;
            self.wait(
                &format!("`+QIURC: \"recv\",{id}` for the echo"),
                self.options.echo_limit,
                |e| e.model.sockets.get(&id).is_some_and(|s| s.announced),
            )?;
        }
        Ok(())
    }

    fn socket_read(
        &mut self,
        line: &str,
        id: u8,
        length: Option<u16>,
        expect: Expect,
    ) -> Result<(), String> {
        let announced = self.model.sockets.get_mut(&id).is_some_and(|s| {
            let was = s.announced;
            s.announced = false;
            was
        });
        let a = self.send(line, ConnectData::None, false)?;
        let (accepted, r) = Self::outcome(&a)?;
        judge(expect, accepted, &r)?;
        if !accepted {
            return Ok(());
        }
        let got = self.read_bytes(&a, id)?;
        let n = got.len();
        let limit = length.map_or(MAX_QIRD, usize::from);
        if n > limit {
            return Err(format!("{n} bytes read of at most {limit}"));
        }
        if let Some(s) = self.model.sockets.get_mut(&id) {
            if n == 0 && announced {
                return Err(format!(
                    "`+QIURC: \"recv\",{id}` announced data, but AT+QIRD returned none"
                ));
            }
            if !s.unread.starts_with(&got) {
                return Err(format!(
                    "read \"{}\"; the echo owes \"{}\"",
                    escape(&got),
                    escape(&s.unread)
                ));
            }
            s.unread.drain(..n);
            // A URC during the answer announced new data only if this read
            // found none.
            if n > 0 {
                s.announced = false;
            }
        }
        Ok(())
    }

    /// The bytes of a `+QIRD: <read_actual_length>` answer.
    fn read_bytes(&self, a: &Answer, id: u8) -> Result<Vec<u8>, String> {
        let got = lines_of(&a.lines, "+QIRD");
        let [f] = got.as_slice() else {
            return Err(format!(
                "expected one `+QIRD: <read_actual_length>` line, got {:?}",
                a.lines
            ));
        };
        let n: usize = number(f.first(), "<read_actual_length>")?;
        if f.len() != 1 {
            return Err(format!(
                "socket {id} is a client: `+QIRD: <read_actual_length>` has one field"
            ));
        }
        let data = a.data.concat();
        if data.len() != n {
            return Err(format!("`+QIRD: {n}`, then {} bytes", data.len()));
        }
        Ok(data)
    }

    fn socket_state(
        &mut self,
        line: &str,
        query: StateQuery,
        expect: Expect,
    ) -> Result<(), String> {
        let a = self.send(line, ConnectData::None, false)?;
        let (accepted, r) = Self::outcome(&a)?;
        judge(expect, accepted, &r)?;
        if !accepted {
            return Ok(());
        }
        let mut listed: BTreeMap<u8, Vec<String>> = BTreeMap::new();
        for f in lines_of(&a.lines, "+QISTATE") {
            let id: u8 = number(f.first(), "the <connectID>")?;
            if listed.insert(id, f).is_some() {
                return Err(format!("socket {id} listed twice"));
            }
        }
        let ids: Vec<u8> = match query {
            StateQuery::One(id) => {
                if listed.keys().any(|k| *k != id) {
                    return Err(format!("sockets other than {id} listed"));
                }
                vec![id]
            }
            _ => {
                let mut all: Vec<u8> = self.model.sockets.keys().copied().collect();
                all.extend(listed.keys().copied());
                all.sort_unstable();
                all.dedup();
                all
            }
        };
        for id in ids {
            match (self.model.sockets.get(&id), listed.get(&id)) {
                (Some(s), Some(f)) => self.check_state_line(id, s, f)?,
                (Some(_), None) => return Err(format!("socket {id} is open but not listed")),
                (None, Some(_)) => return Err(format!("socket {id} is listed but not open")),
                (None, None) => {}
            }
        }
        Ok(())
    }

    /// `+QISTATE: <connectID>,<service_type>,<IP_address>,<remote_port>,
    /// <local_port>,<socket_state>,<serverID>,<access_mode>,<AT_port>`.
    fn check_state_line(&self, id: u8, s: &Socket, f: &[String]) -> Result<(), String> {
        let (host, port) = self.model.echo(s.proto);
        let field = |i: usize| f.get(i).map(String::as_str).unwrap_or_default();
        let mut wrong = Vec::new();
        if field(1) != s.proto.name() {
            wrong.push(format!(
                "<service_type> {} (opened {})",
                field(1),
                s.proto.name()
            ));
        }
        if host.parse::<Ipv4Addr>().is_ok() && field(2) != host {
            wrong.push(format!("<IP_address> {} (the server is {host})", field(2)));
        }
        if field(3) != port.to_string() {
            wrong.push(format!(
                "<remote_port> {} (the server's is {port})",
                field(3)
            ));
        }
        if field(5) != "2" {
            wrong.push(format!("<socket_state> {} (connected is 2)", field(5)));
        }
        if field(7) != "0" {
            wrong.push(format!("<access_mode> {} (opened with 0)", field(7)));
        }
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(format!("socket {id}: {}", wrong.join(", ")))
        }
    }

    // ---------------------------------------------------------------- MQTT

    #[allow(clippy::too_many_arguments)]
    fn mqtt_publish(
        &mut self,
        line: &str,
        client: u8,
        msg_id: u16,
        qos: u8,
        topic: u8,
        payload: &str,
        expect: Expect,
    ) -> Result<(), String> {
        let topic = self.model.topic(topic);
        self.await_completion("+QMTPUB", vec![client.to_string(), msg_id.to_string()]);
        let mut a = self.send(line, ConnectData::None, true)?;
        if a.prompt {
            // The copies may come back before +QMTPUB: expect them first.
            if expect != Expect::Refuse {
                let copies = self.model.deliveries_for(&topic, qos, payload);
                self.model.deliveries.extend(copies);
            }
            self.link.send_raw(payload.as_bytes());
            a = self.collect()?;
        }
        let done = self.finish_completion(a, "+QMTPUB", 2, expect)?;
        if done.is_some() {
            self.wait(
                "the +QMTRECV of every subscriber",
                self.options.echo_limit,
                |e| e.model.deliveries.is_empty(),
            )
        } else {
            self.model.deliveries.clear();
            Ok(())
        }
    }

    // ----------------------------------------------------------- the end

    /// After the last step: every echoed byte comes back, nothing else
    /// arrives unexplained.
    fn settle(&mut self) -> Result<(), String> {
        self.command = "AT+QIRD";
        let owed: Vec<u8> = self
            .model
            .sockets
            .iter()
            .filter(|(_, s)| !s.unread.is_empty())
            .map(|(id, _)| *id)
            .collect();
        for id in owed {
            let deadline = Instant::now() + self.options.echo_limit;
            while self
                .model
                .sockets
                .get(&id)
                .is_some_and(|s| !s.unread.is_empty())
            {
                if Instant::now() >= deadline {
                    let left = self.model.sockets.get(&id).map_or(0, |s| s.unread.len());
                    return Err(format!(
                        "socket {id}: {left} echoed bytes never came back within {} ms",
                        self.options.echo_limit.as_millis()
                    ));
                }
                let line = format!("AT+QIRD={id}");
                self.sent.push(format!("{line}   (after the sequence)"));
                let before = self.model.sockets.get(&id).map_or(0, |s| s.unread.len());
                self.socket_read(&line, id, None, Expect::Accept)?;
                let after = self.model.sockets.get(&id).map_or(0, |s| s.unread.len());
                if after == before {
                    self.listen(Duration::from_millis(50))?;
                }
            }
        }
        self.listen(self.options.quiet)?;
        if !self.model.deliveries.is_empty() {
            return Err(format!(
                "expected deliveries never came: {:?}",
                self.model.deliveries
            ));
        }
        Ok(())
    }

    /// Best effort: closes what the sequence left open, deletes its files.
    fn tidy(&mut self) {
        let mut lines: Vec<String> = Vec::new();
        lines.extend(self.model.handles.keys().map(|h| format!("AT+QFCLOSE={h}")));
        lines.extend(
            self.model
                .files
                .keys()
                .filter(|n| FILE_NAMES.contains(&n.as_str()))
                .map(|n| format!("AT+QFDEL=\"{n}\"")),
        );
        lines.extend(
            self.model
                .sockets
                .keys()
                .map(|id| format!("AT+QICLOSE={id}")),
        );
        lines.extend(
            self.model
                .clients
                .iter()
                .filter(|(_, c)| c.phase != Phase::Closed)
                .map(|(idx, _)| format!("AT+QMTCLOSE={idx}")),
        );
        for line in lines {
            self.link.send_line(&line, ConnectData::None, false);
            let _ = self.link.answer(Instant::now() + self.options.answer_limit);
        }
        self.link.drain(self.options.quiet, self.options.quiet * 10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_split_outside_quotes() {
        assert_eq!(
            fields(r#"0,"a,b",3,"x""#),
            vec!["0".to_string(), "a,b".into(), "3".into(), "x".into()]
        );
        assert_eq!(fields("recv"), vec!["recv".to_string()]);
    }

    #[test]
    fn stale_handle_is_the_lowest_not_open() {
        let mut m = Model::new(Servers::default());
        assert_eq!(m.handle(FileRef::Open(3)), 1);
        m.opened("seq_a.txt", Some(0), 1);
        m.opened("seq_b.bin", Some(0), 2);
        assert_eq!(m.handle(FileRef::Stale), 3);
        assert_eq!(m.handle(FileRef::Open(3)), 2);
        assert_eq!(m.handle(FileRef::Latest), 2);
        m.handles.remove(&1);
        m.opened("seq_c.log", Some(0), 1);
        assert_eq!(m.handle(FileRef::Latest), 1);
    }

    #[test]
    fn writes_follow_the_pointer() {
        let mut m = Model::new(Servers::default());
        m.opened("seq_a.txt", Some(1), 1);
        assert_eq!(m.written(1, b"hello"), Some(5));
        m.opened("seq_a.txt", Some(0), 2);
        assert_eq!(m.expected_read(2, Some(2)), Some(b"he".to_vec()));
        assert_eq!(m.written(2, b"J"), Some(5));
        assert_eq!(m.expected_read(1, None), Some(Vec::new()));
        if let Some(h) = m.handles.get_mut(&1) {
            h.position = Some(0);
        }
        assert_eq!(m.expected_read(1, None), Some(b"Jello".to_vec()));
    }
}
