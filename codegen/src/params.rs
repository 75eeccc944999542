//! Looking parameters up by the names templates use, and reading their values.

use crate::model::{Param, ParamType, Scalar};

/// A resolved template reference: which parameter, and the index of an
/// indexed occurrence (`<topic2>` → `topic`, 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    /// Position in the parameter list.
    pub param: usize,
    /// The occurrence index of `<name1>`, `<name2>` references.
    pub index: Option<u32>,
}

/// Resolves a name written in a template: the parameter's name, one of its
/// aliases, or either of those followed by an occurrence number.
pub fn resolve(params: &[Param], name: &str) -> Option<Resolved> {
    let direct = |n: &str| {
        params
            .iter()
            .position(|p| p.name == n || p.aliases.iter().any(|a| a == n))
    };
    if let Some(param) = direct(name) {
        return Some(Resolved { param, index: None });
    }
    let base = name.trim_end_matches(|c: char| c.is_ascii_digit());
    if base.len() < name.len() && !base.is_empty() {
        let index = name[base.len()..].parse().ok();
        return direct(base).map(|param| Resolved { param, index });
    }
    None
}

/// The numeric value of `value` for a parameter of type `ty`, if it is one.
/// Hex integers accept `0x1F`, `1F` and plain integers.
pub fn numeric(ty: ParamType, value: &Scalar) -> Option<i64> {
    match value {
        Scalar::Int(i) => Some(*i),
        Scalar::Str(s) => {
            let s = s.trim();
            if ty == ParamType::HexInteger {
                let digits = s
                    .strip_prefix("0x")
                    .or_else(|| s.strip_prefix("0X"))
                    .unwrap_or(s);
                i64::from_str_radix(digits, 16).ok()
            } else if ty.is_numeric() {
                s.parse().ok()
            } else {
                None
            }
        }
    }
}

/// A value's byte length as the module would count it (string types).
pub fn byte_len(value: &Scalar) -> usize {
    match value {
        Scalar::Int(i) => i.to_string().len(),
        Scalar::Str(s) => s.len(),
    }
}

/// Whether two enumeration values mean the same wire value for this type.
pub fn same_value(ty: ParamType, a: &Scalar, b: &Scalar) -> bool {
    match (numeric(ty, a), numeric(ty, b)) {
        (Some(x), Some(y)) if ty.is_numeric() => x == y,
        _ => a.to_string() == b.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param(name: &str, aliases: &[&str]) -> Param {
        Param {
            name: name.into(),
            type_name: None,
            aliases: aliases.iter().map(|s| s.to_string()).collect(),
            ty: ParamType::Integer,
            description: None,
            range: None,
            ranges_when: vec![],
            length: None,
            lengths: vec![],
            values: vec![],
            open_values: None,
            reserved: vec![],
            default: None,
            unit: None,
            quoted: None,
            prefix: None,
            varies: false,
            secret: false,
            length_from: None,
            table: None,
            examples: vec![],
            sample: None,
            unused: false,
            errata: vec![],
        }
    }

    #[test]
    fn resolves_names_aliases_and_indexed_occurrences() {
        let ps = vec![param("topic", &[]), param("recvmode", &["recv_mode"])];
        assert_eq!(
            resolve(&ps, "topic"),
            Some(Resolved {
                param: 0,
                index: None
            })
        );
        assert_eq!(
            resolve(&ps, "topic2"),
            Some(Resolved {
                param: 0,
                index: Some(2)
            })
        );
        assert_eq!(
            resolve(&ps, "recv_mode"),
            Some(Resolved {
                param: 1,
                index: None
            })
        );
        assert_eq!(resolve(&ps, "qos1"), None);
    }

    #[test]
    fn reads_hex_and_decimal_values() {
        assert_eq!(
            numeric(ParamType::HexInteger, &Scalar::Str("0xFF".into())),
            Some(255)
        );
        assert_eq!(
            numeric(ParamType::HexInteger, &Scalar::Str("FF".into())),
            Some(255)
        );
        assert_eq!(
            numeric(ParamType::Integer, &Scalar::Str("-1".into())),
            Some(-1)
        );
        assert_eq!(numeric(ParamType::String, &Scalar::Str("12".into())), None);
        assert!(same_value(
            ParamType::HexInteger,
            &Scalar::Int(53),
            &Scalar::Str("0x0035".into())
        ));
    }
}
