//! Turning catalogue names into Rust and pest identifiers, deterministically.

/// Words of a name: `connectID` → [connect, id]; `SSL_ctxID` → [ssl, ctx, id];
/// `udp/broadcast` → [udp, broadcast]; `TCP LISTENER` → [tcp, listener].
pub fn words(name: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
        let next = chars.get(i + 1).copied();
        let boundary = match prev {
            Some(p) if c.is_ascii_uppercase() => {
                p.is_ascii_lowercase()
                    || p.is_ascii_digit()
                    || (p.is_ascii_uppercase() && next.is_some_and(|n| n.is_ascii_lowercase()))
            }
            _ => false,
        };
        if boundary && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        current.push(c.to_ascii_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use",
    "where", "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv",
    "try", "typeof", "unsized", "virtual", "yield", "gen",
];

/// Type names generated code uses unqualified (the prelude, `Self`): no
/// generated type may take one.
pub const PRELUDE: &[&str] = &[
    "Result", "Option", "Some", "None", "Ok", "Err", "Vec", "String", "Box", "Self",
];

/// Whether `s` is a Rust keyword (strict, reserved or weak in an identifier position), or `Self`.
pub fn is_keyword(s: &str) -> bool {
    s == "Self" || KEYWORDS.contains(&s)
}

/// Whether `id` is a catalogue identifier: snake_case ASCII words of lower-case
/// letters and digits, the first starting with a letter (`at_most_once`, `tls1_2`).
pub fn is_snake_id(id: &str) -> bool {
    id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.split('_').all(|w| {
            !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// `connect_id`: a snake_case identifier, never a keyword, never starting with a digit.
pub fn snake(name: &str) -> String {
    let mut s = words(name).join("_");
    if s.is_empty() {
        s = "value".into();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s = format!("n{s}");
    }
    if KEYWORDS.contains(&s.as_str()) {
        s.push('_');
    }
    s
}

/// `ConnectId`: a CamelCase identifier, never starting with a digit.
pub fn camel(name: &str) -> String {
    let mut s: String = words(name)
        .iter()
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        })
        .collect();
    if s.is_empty() {
        s = "Value".into();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s = format!("V{s}");
    }
    if s == "Self" {
        s = "SelfValue".into();
    }
    s
}

/// The module name of a command: `AT+QIOPEN` → `qiopen`, `AT` → `at`,
/// `ATO` → `ato`, `+++` → `escape`.
pub fn command_module(name: &str) -> String {
    if name == "+++" {
        return "escape".into();
    }
    let bare = name.strip_prefix("AT+").unwrap_or(name);
    snake(bare)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_manual_names() {
        assert_eq!(snake("connectID"), "connect_id");
        assert_eq!(snake("SSL_ctxID"), "ssl_ctx_id");
        assert_eq!(snake("IP_address"), "ip_address");
        assert_eq!(snake("udp/broadcast"), "udp_broadcast");
        assert_eq!(snake("MTU_value"), "mtu_value");
        assert_eq!(snake("store_status0"), "store_status0");
        assert_eq!(snake("type"), "type_");
        assert_eq!(camel("TCP LISTENER"), "TcpListener");
        assert_eq!(camel("urc/pin"), "UrcPin");
        assert_eq!(camel("0x0035"), "V0x0035");
        assert_eq!(command_module("AT+QXYZDEF"), "qxyzdef");
        assert_eq!(command_module("+++"), "escape");
    }

    #[test]
    fn recognises_catalogue_identifiers() {
        for good in ["peripheral", "at_most_once", "tls1_2", "mqtt_3_1_1", "a"] {
            assert!(is_snake_id(good), "{good}");
        }
        for bad in [
            "",
            "Peripheral",
            "at__most",
            "_x",
            "x_",
            "1st",
            "tls-1",
            "naïve",
            "at most",
        ] {
            assert!(!is_snake_id(bad), "{bad}");
        }
        assert_eq!(camel("tls1_2"), "Tls12");
        assert!(is_keyword("Self") && is_keyword("type") && !is_keyword("Other"));
    }
}
