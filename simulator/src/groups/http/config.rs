//! `AT+QHTTPCFG`: each sub-command sets its value, or with the key alone
//! reports it (errata HTTP-1). Nothing is saved.

use fcm242d::generated::commands::qhttpcfg;
use fcm242d::generated::results::HttpCode;
use fcm242d::value::Int;

use super::{url, Config, FormOption, Outcome};
use crate::groups::line;
use crate::reply::Reply;

/// The most custom request headers kept (another one: 723, Memory not enough).
pub const MAX_HEADERS: usize = 16;

/// Sets with `set` when `value` is given, else reports with `query`.
fn configure<V>(
    config: &mut Config,
    value: Option<V>,
    set: impl FnOnce(&mut Config, V) -> Result<(), HttpCode>,
    query: impl FnOnce(&Config) -> Vec<String>,
) -> Outcome {
    match value {
        Some(v) => set(config, v).map(|_| Reply::ok()),
        None => Ok(Reply::lines(query(config))),
    }
}

/// `"url"`: an empty string clears it; anything else must parse (707, 709).
pub fn url(w: &qhttpcfg::Url, config: &mut Config) -> Outcome {
    configure(
        config,
        w.url_string.as_ref().map(|t| t.as_str().to_string()),
        |c, text| {
            if !text.is_empty() {
                url::parse(&text)?;
            }
            c.url = text;
            Ok(())
        },
        |c| {
            vec![line(qhttpcfg::UrlLine {
                url_string: c.url.clone(),
            })]
        },
    )
}

/// Whether `name` is an HTTP field name (an RFC 9110 token).
fn token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// `"header"`: `"Name: value"` adds a request header (replacing one of the
/// same name), a bare `"Name"` removes the headers of that name, and an
/// empty string removes them all. The query prints one line per header
/// (one empty value when there is none).
pub fn header(w: &qhttpcfg::Header, config: &mut Config) -> Outcome {
    configure(
        config,
        w.header_value.as_ref().map(|t| t.as_str().to_string()),
        |c, text| {
            if text.is_empty() {
                c.headers.clear();
                return Ok(());
            }
            let (name, value) = match text.split_once(':') {
                Some((n, v)) => (n.trim(), Some(v.trim())),
                None => (text.trim(), None),
            };
            if !token(name) {
                return Err(HttpCode::InvalidParameter);
            }
            let same = |h: &String| {
                h.split(':')
                    .next()
                    .is_some_and(|n| n.trim().eq_ignore_ascii_case(name))
            };
            let Some(value) = value else {
                c.headers.retain(|h| !same(h));
                return Ok(());
            };
            let header = format!("{name}: {value}");
            let full = c.headers.len() >= MAX_HEADERS;
            match c.headers.iter_mut().find(|h| same(h)) {
                Some(existing) => *existing = header,
                None if full => return Err(HttpCode::OutOfMemory),
                None => c.headers.push(header),
            }
            Ok(())
        },
        |c| {
            let values = if c.headers.is_empty() {
                vec![String::new()]
            } else {
                c.headers.clone()
            };
            values
                .into_iter()
                .map(|header_value| line(qhttpcfg::HeaderLine { header_value }))
                .collect()
        },
    )
}

/// `"auth"`: `"username:password"` (sent as Basic authorization); an
/// empty string removes it; a value without `:` is refused (724).
pub fn auth(w: &qhttpcfg::Auth, config: &mut Config) -> Outcome {
    configure(
        config,
        w.username_password.as_ref().map(|t| t.as_str().to_string()),
        |c, text| {
            if !text.is_empty() && !text.contains(':') {
                return Err(HttpCode::InvalidParameter);
            }
            c.auth = text;
            Ok(())
        },
        |c| {
            vec![line(qhttpcfg::AuthLine {
                username_password: c.auth.clone(),
            })]
        },
    )
}

/// `"sslctxid"`.
pub fn sslctxid(w: &qhttpcfg::Sslctxid, config: &mut Config) -> Outcome {
    configure(
        config,
        w.sslctx_id,
        |c, v| {
            c.sslctx_id = v.get();
            Ok(())
        },
        // The stored value always came from the command's range.
        |c| {
            Int::new(c.sslctx_id)
                .map(|sslctx_id| line(qhttpcfg::SslctxidLine { sslctx_id }))
                .into_iter()
                .collect()
        },
    )
}

/// `"rsp/header"`.
pub fn rsp_header(w: &qhttpcfg::RspHeader, config: &mut Config) -> Outcome {
    configure(
        config,
        w.response_header,
        |c, v| {
            c.response_header = v;
            Ok(())
        },
        |c| {
            vec![line(qhttpcfg::RspHeaderLine {
                response_header: c.response_header,
            })]
        },
    )
}

/// `"rspout/auto"`.
pub fn rspout_auto(w: &qhttpcfg::RspoutAuto, config: &mut Config) -> Outcome {
    configure(
        config,
        w.auto_outrsp,
        |c, v| {
            c.auto_output = v;
            Ok(())
        },
        |c| {
            vec![line(qhttpcfg::RspoutAutoLine {
                auto_outrsp: c.auto_output,
            })]
        },
    )
}

/// `"closed/ind"`.
pub fn closed_ind(w: &qhttpcfg::ClosedInd, config: &mut Config) -> Outcome {
    configure(
        config,
        w.closedind,
        |c, v| {
            c.closed_ind = v;
            Ok(())
        },
        |c| {
            vec![line(qhttpcfg::ClosedIndLine {
                closedind: c.closed_ind,
            })]
        },
    )
}

/// `"form/option"`: an empty `<name>` removes the option; the query prints
/// three empty values when none is set.
pub fn form_option(w: &qhttpcfg::FormOption, config: &mut Config) -> Outcome {
    configure(
        config,
        w.name_group.as_ref().map(|g| FormOption {
            name: g.name.as_str().to_string(),
            file_name: g.file_name.as_str().to_string(),
            content_type: g.content_type.as_str().to_string(),
        }),
        |c, form| {
            c.form = (!form.name.is_empty()).then_some(form);
            Ok(())
        },
        |c| {
            let form = c.form.clone().unwrap_or_default();
            vec![line(qhttpcfg::FormOptionLine {
                name: form.name,
                file_name: form.file_name,
                content_type: form.content_type,
            })]
        },
    )
}
