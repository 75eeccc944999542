//! `AT+QMTCFG`: the per-client settings, stored and reported; the other
//! commands read them when they need them (`"ssl"` at `AT+QMTOPEN`;
//! `"version"`, `"keepalive"`, `"session"`, `"will"` at `AT+QMTCONN`;
//! `"timeout"` for every packet; `"recv/mode"` and `"dataformat"` for every
//! message).

use std::time::Duration;

use fcm242d::generated::commands::{qmtcfg, AnyCommand};
use fcm242d::value::Int;

use super::MqttState;
use crate::groups::line;
use crate::reply::Reply;

/// A will message as configured (`"will"` with `<will_flag>` 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WillConfig {
    /// `<will_qos>`.
    pub qos: qmtcfg::Qos,
    /// `<will_retain>`.
    pub retain: qmtcfg::Retain,
    /// `<will_topic>`.
    pub topic: String,
    /// `<will_message>`.
    pub message: String,
}

/// One client's `AT+QMTCFG` settings (not saved: a reboot restores the
/// defaults). Defaults the manual does not give: version 4 (MQTT 3.1.1),
/// ssl 0 (plain TCP), session 1 (clean), will 0, recv/mode 0 (URC),
/// dataformat 0,0 (strings); aliauth and onenet empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `"version"`.
    pub version: qmtcfg::Vsn,
    /// `"ssl"`: TLS or not.
    pub ssl: qmtcfg::SslEnable,
    /// `"ssl"`: the SSL context (`AT+QSSLCFG`), when one was given.
    pub ssl_ctx: Option<Int<0, 5>>,
    /// `"keepalive"` (s, 0–3600; manual default 120).
    pub keepalive: i64,
    /// `"session"`.
    pub session: qmtcfg::CleanSession,
    /// `"will"`: the will message, when `<will_flag>` is 1.
    pub will: Option<WillConfig>,
    /// `"recv/mode"`.
    pub recv_mode: qmtcfg::MsgRecvMode,
    /// `"dataformat"`: format of `AT+QMTPUB` payloads.
    pub send_format: qmtcfg::SendDataFormat,
    /// `"dataformat"`: format of received payloads.
    pub recv_format: qmtcfg::RecvDataFormat,
    /// `"timeout"`: `<pkt_timeout>` (s, 1–1200; manual default 5).
    pub pkt_timeout: i64,
    /// `"timeout"`: `<retry_times>` (0–10; manual default 3).
    pub retry_times: i64,
    /// `"timeout"`: `<timeout_notice>`.
    pub timeout_notice: qmtcfg::TimeoutNotice,
    /// `"aliauth"`: product key, device name, device secret.
    pub aliauth: (String, String, String),
    /// `"onenet"`: product ID, access key.
    pub onenet: (String, String),
}

impl Default for Config {
    fn default() -> Self {
        Config {
            version: qmtcfg::Vsn::Mqtt311,
            ssl: qmtcfg::SslEnable::Tcp,
            ssl_ctx: None,
            keepalive: 120,
            session: qmtcfg::CleanSession::Clean,
            will: None,
            recv_mode: qmtcfg::MsgRecvMode::Urc,
            send_format: qmtcfg::SendDataFormat::String,
            recv_format: qmtcfg::RecvDataFormat::String,
            pkt_timeout: 5,
            retry_times: 3,
            timeout_notice: qmtcfg::TimeoutNotice::NoReport,
            aliauth: Default::default(),
            onenet: Default::default(),
        }
    }
}

impl Config {
    /// `<pkt_timeout>` as a duration.
    pub fn packet_timeout(&self) -> Duration {
        Duration::from_secs(self.pkt_timeout.unsigned_abs())
    }

    /// Whether received messages wait in the buffer (`"recv/mode"` 1).
    pub fn buffered(&self) -> bool {
        self.recv_mode == qmtcfg::MsgRecvMode::Buffer
    }
}

/// `AT+QMTCFG=...`, if `cmd` is one.
pub(super) fn handle(cmd: &AnyCommand, mqtt: &mut MqttState) -> Option<Reply> {
    let (idx, reply) = match cmd {
        AnyCommand::QmtcfgVersion(w) => (
            w.client_idx,
            configure(
                w.vsn,
                |c, v| c.version = v,
                |c| Some(line(qmtcfg::VersionLine { vsn: c.version })),
            ),
        ),
        AnyCommand::QmtcfgSsl(w) => {
            if let Some(g) = &w.ssl_enable_group {
                // The catalogue's rule: SSL needs a context.
                if g.ssl_enable == qmtcfg::SslEnable::Ssl && g.ssl_ctx_id.is_none() {
                    return Some(Reply::error());
                }
            }
            (
                w.client_idx,
                configure(
                    w.ssl_enable_group
                        .as_ref()
                        .map(|g| (g.ssl_enable, g.ssl_ctx_id)),
                    |c, (enable, ctx)| {
                        c.ssl = enable;
                        c.ssl_ctx = ctx;
                    },
                    |c| {
                        Some(line(qmtcfg::SslLine {
                            ssl_enable: c.ssl,
                            ssl_ctx_id: c.ssl_ctx,
                        }))
                    },
                ),
            )
        }
        AnyCommand::QmtcfgKeepalive(w) => (
            w.client_idx,
            configure(
                w.keep_alive_time.map(Int::get),
                |c, v| c.keepalive = v,
                |c| {
                    Some(line(qmtcfg::KeepaliveLine {
                        keep_alive_time: Int::new(c.keepalive).ok()?,
                    }))
                },
            ),
        ),
        AnyCommand::QmtcfgSession(w) => (
            w.client_idx,
            configure(
                w.clean_session,
                |c, v| c.session = v,
                |c| {
                    Some(line(qmtcfg::SessionLine {
                        clean_session: c.session,
                    }))
                },
            ),
        ),
        AnyCommand::QmtcfgWill(w) => {
            let value = match &w.will_flag_group {
                None => None,
                Some(g) => match (g.will_flag, &g.will_qos_group) {
                    (qmtcfg::WillFlag::Ignore, _) => Some(None),
                    (qmtcfg::WillFlag::Set, Some(q)) => Some(Some(WillConfig {
                        qos: q.will_qos,
                        retain: q.will_retain,
                        topic: q.will_topic.as_str().to_string(),
                        message: q.will_message.as_str().to_string(),
                    })),
                    // The catalogue's rule: a will needs its QoS, retain
                    // flag, topic and message.
                    (qmtcfg::WillFlag::Set, None) => return Some(Reply::error()),
                },
            };
            if let Some(Some(will)) = &value {
                if !crate::mqtt::topic::valid_name(&will.topic) {
                    return Some(Reply::error());
                }
            }
            (
                w.client_idx,
                configure(value, |c, v| c.will = v, |c| Some(line(will_line(c)))),
            )
        }
        AnyCommand::QmtcfgRecvMode(w) => (
            w.client_idx,
            configure(
                w.msg_recv_mode,
                |c, v| c.recv_mode = v,
                |c| {
                    Some(line(qmtcfg::RecvModeLine {
                        msg_recv_mode: c.recv_mode,
                    }))
                },
            ),
        ),
        AnyCommand::QmtcfgDataformat(w) => (
            w.client_idx,
            configure(
                w.send_mode_group
                    .as_ref()
                    .map(|g| (g.send_mode, g.recvmode)),
                |c, (send, recv)| {
                    c.send_format = send;
                    c.recv_format = recv;
                },
                |c| {
                    Some(line(qmtcfg::DataformatLine {
                        send_mode: c.send_format,
                        recvmode: c.recv_format,
                    }))
                },
            ),
        ),
        AnyCommand::QmtcfgTimeout(w) => (
            w.client_idx,
            configure(
                w.pkt_timeout_group
                    .as_ref()
                    .map(|g| (g.pkt_timeout.get(), g.retry_times.get(), g.timeout_notice)),
                |c, (timeout, retries, notice)| {
                    c.pkt_timeout = timeout;
                    c.retry_times = retries;
                    c.timeout_notice = notice;
                },
                |c| {
                    Some(line(qmtcfg::TimeoutLine {
                        pkt_timeout: Int::new(c.pkt_timeout).ok()?,
                        retry_times: Int::new(c.retry_times).ok()?,
                        timeout_notice: c.timeout_notice,
                    }))
                },
            ),
        ),
        AnyCommand::QmtcfgAliauth(w) => (
            w.client_idx,
            configure(
                w.product_key_group.as_ref().map(|g| {
                    (
                        g.product_key.as_str().to_string(),
                        g.device_name.as_str().to_string(),
                        g.device_secret.as_str().to_string(),
                    )
                }),
                |c, v| c.aliauth = v,
                |c| {
                    Some(line(qmtcfg::AliauthLine {
                        product_key: c.aliauth.0.clone(),
                        device_name: c.aliauth.1.clone(),
                        device_secret: c.aliauth.2.clone(),
                    }))
                },
            ),
        ),
        AnyCommand::QmtcfgOnenet(w) => (
            w.client_idx,
            configure(
                w.product_id_group.as_ref().map(|g| {
                    (
                        g.product_id.as_str().to_string(),
                        g.access_key.as_str().to_string(),
                    )
                }),
                |c, v| c.onenet = v,
                |c| {
                    Some(line(qmtcfg::OnenetLine {
                        product_id: c.onenet.0.clone(),
                        access_key: c.onenet.1.clone(),
                    }))
                },
            ),
        ),
        _ => return None,
    };
    let config = mqtt
        .clients
        .get_mut(usize::try_from(idx.get()).unwrap_or(usize::MAX))
        .map(|c| &mut c.config);
    Some(match config {
        Some(config) => reply(config),
        None => Reply::error(),
    })
}

/// A sub-command's action on one client's settings.
type Action = Box<dyn FnOnce(&mut Config) -> Reply>;

/// Stores `value` with `set` when given (`OK`), else reports the setting
/// with `query`.
fn configure<V: 'static>(
    value: Option<V>,
    set: impl FnOnce(&mut Config, V) + 'static,
    query: impl FnOnce(&Config) -> Option<String> + 'static,
) -> Action {
    Box::new(move |config: &mut Config| match value {
        Some(v) => {
            set(config, v);
            Reply::ok()
        }
        // The state only holds values in range, so a query always renders.
        None => query(config).map_or_else(Reply::error, |l| Reply::lines(vec![l])),
    })
}

fn will_line(c: &Config) -> qmtcfg::WillLine {
    match &c.will {
        None => qmtcfg::WillLine {
            will_flag: qmtcfg::WillFlag::Ignore,
            will_qos_group: None,
        },
        Some(w) => qmtcfg::WillLine {
            will_flag: qmtcfg::WillFlag::Set,
            will_qos_group: Some(qmtcfg::WillLineWillQosGroup {
                will_qos: w.qos,
                will_retain: w.retain,
                will_topic: w.topic.clone(),
                will_message: w.message.clone(),
            }),
        },
    }
}
