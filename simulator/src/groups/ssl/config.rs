//! `AT+QSSLCFG`: set or query one setting of one SSL context.

use fcm242d::generated::commands::{qsslcfg, AnyCommand};
use fcm242d::generated::results::TcpipCode;
use fcm242d::value::Int;

use super::{Outcome, SslContext};
use crate::groups::line;
use crate::reply::Reply;
use crate::state::State;

/// The answer to an `AT+QSSLCFG` sub-command, or `None` for other commands.
pub(super) fn handle(cmd: &AnyCommand, state: &mut State) -> Option<Outcome> {
    Some(match cmd {
        AnyCommand::QsslcfgSslversion(w) => configure(
            state,
            w.ssl_ctx_id,
            w.ssl_version,
            |c, v| c.version = v,
            |id, c| {
                Ok(line(qsslcfg::SslversionLine {
                    ssl_ctx_id: id,
                    ssl_version: c.version,
                }))
            },
        ),
        AnyCommand::QsslcfgSeclevel(w) => configure(
            state,
            w.ssl_ctx_id,
            w.seclevel,
            |c, v| c.seclevel = v,
            |id, c| {
                Ok(line(qsslcfg::SeclevelLine {
                    ssl_ctx_id: id,
                    seclevel: c.seclevel,
                }))
            },
        ),
        AnyCommand::QsslcfgCiphersuite(w) => configure(
            state,
            w.ssl_ctx_id,
            w.cipher_suites,
            |c, v| c.ciphersuite = v,
            |id, c| {
                Ok(line(qsslcfg::CiphersuiteLine {
                    ssl_ctx_id: id,
                    cipher_suites: c.ciphersuite,
                }))
            },
        ),
        AnyCommand::QsslcfgNegotiatetime(w) => configure(
            state,
            w.ssl_ctx_id,
            w.negotiate_time,
            |c, v| c.negotiate_time = v.get(),
            |id, c| {
                // Only values of the catalogue's range are ever stored.
                let negotiate_time = Int::new(c.negotiate_time).map_err(|_| TcpipCode::Unknown)?;
                Ok(line(qsslcfg::NegotiatetimeLine {
                    ssl_ctx_id: id,
                    negotiate_time,
                }))
            },
        ),
        AnyCommand::QsslcfgSni(w) => configure(
            state,
            w.ssl_ctx_id,
            w.sni,
            |c, v| c.sni = v,
            |id, c| {
                Ok(line(qsslcfg::SniLine {
                    ssl_ctx_id: id,
                    sni: c.sni,
                }))
            },
        ),
        AnyCommand::QsslcfgCacert(w) => configure(
            state,
            w.ssl_ctx_id,
            w.cacertpath.as_ref(),
            |c, v| c.cacert = v.as_str().to_string(),
            |id, c| {
                Ok(line(qsslcfg::CacertLine {
                    ssl_ctx_id: id,
                    cacertpath: c.cacert.clone(),
                }))
            },
        ),
        AnyCommand::QsslcfgClientcert(w) => configure(
            state,
            w.ssl_ctx_id,
            w.client_cert_path.as_ref(),
            |c, v| c.clientcert = v.as_str().to_string(),
            |id, c| {
                Ok(line(qsslcfg::ClientcertLine {
                    ssl_ctx_id: id,
                    client_cert_path: c.clientcert.clone(),
                }))
            },
        ),
        AnyCommand::QsslcfgClientkey(w) => configure(
            state,
            w.ssl_ctx_id,
            w.client_key_path_group.as_ref(),
            |c, g| {
                c.clientkey = g.client_key_path.as_str().to_string();
                // A key given without a password has none.
                c.key_pwd = g
                    .key_pwd
                    .as_ref()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_default();
            },
            |id, c| {
                Ok(line(qsslcfg::ClientkeyLine {
                    ssl_ctx_id: id,
                    client_key_path: c.clientkey.clone(),
                    key_pwd: c.key_pwd.clone(),
                }))
            },
        ),
        AnyCommand::QsslcfgIgnorelocaltime(w) => configure(
            state,
            w.ssl_ctx_id,
            w.ignore_ltime,
            |c, v| c.ignore_localtime = v,
            |id, c| {
                Ok(line(qsslcfg::IgnorelocaltimeLine {
                    ssl_ctx_id: id,
                    ignore_ltime: c.ignore_localtime,
                }))
            },
        ),
        AnyCommand::QsslcfgSessionCache(w) => configure(
            state,
            w.ssl_ctx_id,
            w.session_cache_enable,
            |c, v| c.session_cache = v,
            |id, c| {
                Ok(line(qsslcfg::SessionCacheLine {
                    ssl_ctx_id: id,
                    session_cache_enable: c.session_cache,
                }))
            },
        ),
        _ => return None,
    })
}

/// Stores `value` in context `id` with `set` when given, else reports the
/// setting with `query`.
fn configure<V>(
    state: &mut State,
    id: Int<0, 5>,
    value: Option<V>,
    set: impl FnOnce(&mut SslContext, V),
    query: impl FnOnce(Int<0, 5>, &SslContext) -> Result<String, TcpipCode>,
) -> Outcome {
    let index = usize::try_from(id.get()).unwrap_or(0);
    let Some(ctx) = state.ssl.contexts.get_mut(index) else {
        return Err(TcpipCode::InvalidParameters);
    };
    match value {
        Some(v) => {
            set(ctx, v);
            Ok(Reply::ok())
        }
        None => Ok(Reply::lines(vec![query(id, ctx)?])),
    }
}
