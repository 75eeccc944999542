//! The URL of `AT+QHTTPCFG="url"`: `http://` or `https://`, an optional
//! `user:password@`, a host name or dotted IPv4 address, an optional port,
//! then the path and query sent in the request line (a fragment is dropped).

use fcm242d::generated::results::HttpCode;

/// A parsed URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// `https://` (TLS with the configured SSL context).
    pub secure: bool,
    /// The host name or dotted IPv4 address.
    pub host: String,
    /// The port (80 or 443 unless given).
    pub port: u16,
    /// The request target: the path (`/` when empty) and the query.
    pub target: String,
    /// The `user:password` of the URL, if it has one.
    pub userinfo: Option<String>,
}

impl Url {
    /// The `Host` header's value: the host, and the port when it is not the
    /// scheme's default.
    pub fn host_header(&self) -> String {
        let default = if self.secure { 443 } else { 80 };
        if self.port == default {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Parses `text`: 707 (URL error) for anything that is not an `http(s)`
/// URL with a host, 709 (IP address error) for an IPv6 literal or a
/// dotted address that is not a valid IPv4 address.
pub fn parse(text: &str) -> Result<Url, HttpCode> {
    const URL_ERROR: HttpCode = HttpCode::UrlError;
    const IP_ERROR: HttpCode = HttpCode::IpAddressError;
    // Bytes that cannot go into a request line or a header.
    if text.bytes().any(|b| b <= b' ' || b >= 0x7F) {
        return Err(URL_ERROR);
    }
    let (secure, rest) = if let Some(rest) = strip_prefix_ignore_case(text, "http://") {
        (false, rest)
    } else if let Some(rest) = strip_prefix_ignore_case(text, "https://") {
        (true, rest)
    } else {
        return Err(URL_ERROR);
    };
    let rest = rest.split('#').next().unwrap_or_default();
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, target) = rest.split_at(authority_end);
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((user, hp)) => (Some(user.to_string()), hp),
        None => (None, authority),
    };
    if hostport.starts_with('[') {
        return Err(IP_ERROR);
    }
    let (host, port) = match hostport.split_once(':') {
        Some((h, p)) => {
            let digits = !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
            let port = p
                .parse::<u16>()
                .ok()
                .filter(|&port| digits && port > 0)
                .ok_or(URL_ERROR)?;
            (h, port)
        }
        None => (hostport, if secure { 443 } else { 80 }),
    };
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
    {
        return Err(URL_ERROR);
    }
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && host.parse::<std::net::Ipv4Addr>().is_err()
    {
        return Err(IP_ERROR);
    }
    let target = if target.starts_with('?') {
        format!("/{target}")
    } else if target.is_empty() {
        "/".to_string()
    } else {
        target.to_string()
    };
    Ok(Url {
        secure,
        host: host.to_string(),
        port,
        target,
        userinfo,
    })
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manuals_urls_parse() {
        let u = parse("http://www.example.com").unwrap();
        assert_eq!(
            (u.secure, u.host.as_str(), u.port, u.target.as_str()),
            (false, "www.example.com", 80, "/")
        );
        let u = parse("http://example.com/DEMOWebServices2.8/Service.asmx/Echo?").unwrap();
        assert_eq!(u.target, "/DEMOWebServices2.8/Service.asmx/Echo?");
        let u = parse("https://www.example.com").unwrap();
        assert_eq!((u.secure, u.port), (true, 443));
        let u = parse("https://192.0.2.2:8011/processorder.php").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.target.as_str()),
            ("192.0.2.2", 8011, "/processorder.php")
        );
        assert_eq!(u.host_header(), "192.0.2.2:8011");
    }

    #[test]
    fn bad_urls_are_refused_with_the_tables_codes() {
        for bad in [
            "",
            "ftp://x",
            "http://",
            "http://a b",
            "http://x:0/",
            "http://x:65536/",
            "http://x:+1/",
            "http://ex%ample/",
            "http://x:/",
        ] {
            assert_eq!(parse(bad), Err(HttpCode::UrlError), "{bad}");
        }
        for bad in ["http://[::1]/", "http://300.1.1.1/", "http://1.2.3/"] {
            assert_eq!(parse(bad), Err(HttpCode::IpAddressError), "{bad}");
        }
    }

    #[test]
    fn userinfo_query_and_fragment() {
        let u = parse("HTTP://user:pw@host:8080?q=1#frag").unwrap();
        assert_eq!(u.userinfo.as_deref(), Some("user:pw"));
        assert_eq!(u.target, "/?q=1");
        assert_eq!(u.host_header(), "host:8080");
    }
}
