//! The SSL group (placeholder: its commands are not modelled yet, so they
//! get the refusal of an unknown command).

use std::time::Instant;

use fcm242d::generated::commands::{qsslcfg, AnyCommand};

use crate::net::Net;
use crate::reply::Reply;
use crate::state::State;
use crate::world::World;

/// The number of SSL contexts (`<SSL_ctxID>` 0–5).
pub const CONTEXTS: usize = 6;

/// One SSL context's `AT+QSSLCFG` settings. Defaults where the manual gives
/// none: `sslversion` 4 (All), `seclevel` 0, `ciphersuite` 0xFFFF (All),
/// `sni` 0, empty certificate paths and password, `ignorelocaltime` 0 (the
/// manual's MQTT example sets it to 1 explicitly), `session_cache` 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SslContext {
    /// `"sslversion"`.
    pub version: qsslcfg::SslVersion,
    /// `"seclevel"`.
    pub seclevel: qsslcfg::SeclevelValue,
    /// `"ciphersuite"`.
    pub ciphersuite: qsslcfg::CipherSuites,
    /// `"negotiatetime"` (s, 10–300; default 300 per the manual).
    pub negotiate_time: i64,
    /// `"sni"`.
    pub sni: qsslcfg::SniValue,
    /// `"cacert"`: a file name in the UFS (`state.saved.files`).
    pub cacert: String,
    /// `"clientcert"`: a file name in the UFS.
    pub clientcert: String,
    /// `"clientkey"`: a file name in the UFS.
    pub clientkey: String,
    /// `"clientkey"`'s `<key_pwd>`.
    pub key_pwd: String,
    /// `"ignorelocaltime"`.
    pub ignore_localtime: qsslcfg::IgnoreLtime,
    /// `"session_cache"`.
    pub session_cache: qsslcfg::SessionCacheEnable,
}

impl Default for SslContext {
    fn default() -> Self {
        SslContext {
            version: qsslcfg::SslVersion::All,
            seclevel: qsslcfg::SeclevelValue::NoAuthentication,
            ciphersuite: qsslcfg::CipherSuites::All,
            negotiate_time: 300,
            sni: qsslcfg::SniValue::Disable,
            cacert: String::new(),
            clientcert: String::new(),
            clientkey: String::new(),
            key_pwd: String::new(),
            ignore_localtime: qsslcfg::IgnoreLtime::NotToIgnore,
            session_cache: qsslcfg::SessionCacheEnable::Disable,
        }
    }
}

/// The group's state (part of [`State`]; rebuilt by a reboot).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SslState {
    /// The contexts, by `<SSL_ctxID>`.
    pub contexts: [SslContext; CONTEXTS],
}

/// The settings of SSL context `ctx_id` (0–5; any other id gets context 0's
/// defaults, as a context no command can address). The MQTT and HTTP groups
/// build their TLS client with
/// `crate::services::tls::client_config(&state.saved.files, context(state, id))`.
pub fn context(state: &State, ctx_id: i64) -> &SslContext {
    static DEFAULT: std::sync::OnceLock<SslContext> = std::sync::OnceLock::new();
    usize::try_from(ctx_id)
        .ok()
        .and_then(|i| state.ssl.contexts.get(i))
        .unwrap_or_else(|| DEFAULT.get_or_init(SslContext::default))
}

/// The group's live network resources (part of [`Net`]; dropped by a reboot).
#[derive(Debug, Default)]
pub struct Live {}

/// The group's answer, if `cmd` is one of its commands.
pub fn handle(
    _cmd: &AnyCommand,
    _state: &mut State,
    _world: &World,
    _net: &mut Net,
) -> Option<Reply> {
    None
}

/// What the network caused since the last call (URCs, pushed data).
pub fn poll(_state: &mut State, _net: &mut Net, _world: &World, _now: Instant) -> Vec<u8> {
    Vec::new()
}

/// Whether SSL connection `id` can carry transparent mode again (`ATO`).
pub fn transparent_live(_state: &State, _net: &Net, _id: i64) -> bool {
    false
}

/// In transparent mode: bytes from the host, sent on the SSL connection.
pub fn transparent_send(_state: &mut State, _net: &mut Net, _data: &[u8]) {}
