//! Values that legitimately differ between runs (the catalogue's `varies`:
//! an assigned local port, a DHCP address, a signal strength), masked so
//! that `diff` and `--compare-with` compare answers by what must not
//! change.

use crate::generated::cases::VARYING;
use crate::lists::fields;

/// `line` with its varying fields replaced by `*`.
pub fn mask_line(line: &str) -> String {
    let mut out = line.to_string();
    for (prefix, index) in VARYING {
        let Some(rest) = line.strip_prefix(prefix) else {
            continue;
        };
        let mut parts: Vec<String> = fields(rest).into_iter().map(str::to_string).collect();
        if let Some(f) = parts.get_mut(*index) {
            // `rssi=-42` keeps its key.
            *f = match f.split_once('=') {
                Some((key, _)) => format!("{key}=*"),
                None => "*".to_string(),
            };
        }
        out = format!("{prefix}{}", parts.join(","));
    }
    out
}

/// An answer summary (`line | line | OK`) with every line masked.
pub fn mask(answer: &str) -> String {
    answer
        .split(" | ")
        .map(mask_line)
        .collect::<Vec<_>>()
        .join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varying_fields_are_masked_and_nothing_else() {
        assert_eq!(
            mask("+QISTATE: 0,\"TCP\",\"192.0.2.2\",7,51234,2,0,0,1 | OK"),
            "+QISTATE: 0,\"TCP\",\"192.0.2.2\",7,*,2,0,0,1 | OK"
        );
        assert_eq!(
            mask("+QISTATE: 0,\"TCP\",\"192.0.2.2\",7,40000,2,0,0,1 | OK"),
            mask("+QISTATE: 0,\"TCP\",\"192.0.2.2\",7,51234,2,0,0,1 | OK")
        );
        assert_ne!(
            mask("+QISTATE: 0,\"TCP\",\"192.0.2.2\",7,1,2,0,0,1"),
            mask("+QISTATE: 0,\"UDP\",\"192.0.2.2\",7,1,2,0,0,1")
        );
        assert_eq!(mask("+QVERSION: X | OK"), "+QVERSION: X | OK");
    }
}
