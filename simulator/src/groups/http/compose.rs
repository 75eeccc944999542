//! The HTTP/1.1 request the module sends: request line, the module's own
//! headers, the `AT+QHTTPCFG` settings ("auth", "header", "form/option"),
//! and the framing of an uploaded body.

use super::url::Url;
use super::{Config, Method};

/// The `User-Agent` of the module's requests (Quectel modules announce
/// themselves this way; a custom header can replace it).
pub const USER_AGENT: &str = "QUECTEL_MODULE";
/// The content type of a `POST`/`PUT` body (a custom header can replace it).
pub const FORM_CONTENT_TYPE: &str = "application/x-www-form-urlencoded";
/// The multipart boundary used when "form/option" is set.
pub const BOUNDARY: &str = "----fcm242d-sim-form-boundary";

/// A request ready to be written: its head, and the bytes that go before
/// and after the host's body (a multipart part's framing; empty otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Composed {
    /// Request line, headers and the blank line.
    pub head: Vec<u8>,
    /// Written before the host's body.
    pub prefix: Vec<u8>,
    /// Written after the host's body.
    pub suffix: Vec<u8>,
}

/// The request for `method` on `url`; `body_length` is the host's body
/// length (`<data_length>`) for `POST` and `PUT`.
pub fn compose(method: Method, url: &Url, config: &Config, body_length: Option<usize>) -> Composed {
    let mut headers: Vec<(String, String)> = vec![
        ("Host".into(), url.host_header()),
        ("User-Agent".into(), USER_AGENT.into()),
        ("Accept".into(), "*/*".into()),
    ];
    let credentials = if config.auth.is_empty() {
        url.userinfo.clone()
    } else {
        Some(config.auth.clone())
    };
    if let Some(c) = credentials {
        headers.push((
            "Authorization".into(),
            format!("Basic {}", base64(c.as_bytes())),
        ));
    }
    let (mut prefix, mut suffix) = (Vec::new(), Vec::new());
    if let Some(length) = body_length {
        let content_type = match &config.form {
            Some(form) => {
                prefix = format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{}\"; filename=\"{}\"\r\nContent-Type: {}\r\n\r\n",
                    form.name, form.file_name, form.content_type
                )
                .into_bytes();
                suffix = format!("\r\n--{BOUNDARY}--\r\n").into_bytes();
                format!("multipart/form-data; boundary={BOUNDARY}")
            }
            None => FORM_CONTENT_TYPE.into(),
        };
        headers.push(("Content-Type".into(), content_type));
        headers.push((
            "Content-Length".into(),
            (prefix.len() + length + suffix.len()).to_string(),
        ));
    }
    for line in &config.headers {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim(), value.trim());
        // The module frames the body itself: a custom header cannot change it.
        if ["Content-Length", "Transfer-Encoding"]
            .iter()
            .any(|n| n.eq_ignore_ascii_case(name))
        {
            continue;
        }
        match headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(existing) => *existing = (name.to_string(), value.to_string()),
            None => headers.push((name.to_string(), value.to_string())),
        }
    }
    let mut head = format!("{} {} HTTP/1.1\r\n", method.name(), url.target);
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    Composed {
        head: head.into_bytes(),
        prefix,
        suffix,
    }
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let b = [
            group.first().copied().unwrap_or(0),
            group.get(1).copied().unwrap_or(0),
            group.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= group.len() {
                let index = ((n >> (18 - 6 * i)) & 63) as usize;
                out.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::url::parse;
    use super::*;

    #[test]
    fn base64_pads() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
    }

    #[test]
    fn a_post_carries_its_length_and_the_custom_headers() {
        let config = Config {
            headers: vec![
                "X-Test: 1".into(),
                "User-Agent: probe".into(),
                "Content-Length: 9".into(),
            ],
            auth: "u:p".into(),
            ..Config::default()
        };
        let url = parse("http://example.com:8080/a?b").unwrap();
        let c = compose(Method::Post, &url, &config, Some(20));
        let head = String::from_utf8(c.head).unwrap();
        assert_eq!(
            head,
            "POST /a?b HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: probe\r\nAccept: */*\r\nAuthorization: Basic dTpw\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 20\r\nX-Test: 1\r\n\r\n"
        );
        assert!(c.prefix.is_empty() && c.suffix.is_empty());
    }
}
