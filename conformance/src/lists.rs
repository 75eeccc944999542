//! The lists a test form (`=?`) prints, judged against the catalogue: each
//! `(list of supported <p>s)` field of the form's template must list
//! exactly the values the catalogue allows for `<p>` ([`DOMAINS`]). A
//! narrower list (the module refuses values the catalogue allows) and a
//! wider one (it claims values the catalogue does not know) are both
//! deviations, named with the parameter and its catalogue entry.

use fcm242d::generated::commands::LINE_TEMPLATES;

use crate::case::Domain;
use crate::generated::cases::DOMAINS;

/// Comma-separated fields at the top level (not inside `(...)` or quotes).
pub fn fields(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut quoted, mut start) = (0i32, false, 0);
    for (i, c) in text.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

/// A printed list: integer intervals (sorted, merged) or strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listed {
    /// `(0-3,5)`.
    Ints(Vec<(i64, i64)>),
    /// `("TCP","UDP")`.
    Strings(Vec<String>),
}

fn int(text: &str) -> Option<i64> {
    let t = text.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => i64::from_str_radix(hex, 16).ok(),
        None => t.parse().ok(),
    }
}

/// Sorted, overlapping and adjacent intervals merged.
pub fn normalise(mut v: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    v.sort_unstable();
    let mut out: Vec<(i64, i64)> = Vec::new();
    for (lo, hi) in v {
        match out.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// Reads `(0,1)`, `(0-65535)`, `(0-3,5)`, `(0x0000-0xFFFF)`, `("a","b")`;
/// `None` for anything else (never judged).
pub fn parse_list(text: &str) -> Option<Listed> {
    let inner = text.trim().strip_prefix('(')?.strip_suffix(')')?;
    if inner.trim().is_empty() {
        return None;
    }
    let items = fields(inner);
    if items.iter().all(|i| i.trim().starts_with('"')) {
        let strings = items
            .iter()
            .map(|i| i.trim().trim_matches('"').to_string())
            .collect();
        return Some(Listed::Strings(strings));
    }
    let mut ints = Vec::new();
    for item in items {
        let item = item.trim();
        // A range `a-b` (the manual also writes `a~b`); a lone negative
        // number is not a range.
        let split = item
            .char_indices()
            .skip(1)
            .find(|(_, c)| *c == '-' || *c == '~')
            .map(|(i, _)| i);
        let (lo, hi) = match split {
            Some(i) => (int(&item[..i])?, int(&item[i + 1..])?),
            None => {
                let n = int(item)?;
                (n, n)
            }
        };
        if lo > hi {
            return None;
        }
        ints.push((lo, hi));
    }
    Some(Listed::Ints(normalise(ints)))
}

fn show_ints(v: &[(i64, i64)]) -> String {
    let parts: Vec<String> = v
        .iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect();
    format!("({})", parts.join(","))
}

fn contains(outer: &[(i64, i64)], inner: &[(i64, i64)]) -> bool {
    inner
        .iter()
        .all(|(a, b)| outer.iter().any(|(x, y)| x <= a && b <= y))
}

/// The parameter a template field lists (`(list of supported <mode>s)`).
fn listed_param(field: &str) -> Option<&str> {
    let f = field.trim();
    if !(f.starts_with('(') && f.ends_with(')') && f.contains("supported")) {
        return None;
    }
    let start = f.find('<')? + 1;
    let end = start + f[start..].find('>')?;
    Some(&f[start..end])
}

fn domain(command: &str, param: &str) -> Option<&'static Domain> {
    DOMAINS
        .iter()
        .find(|d| d.command.eq_ignore_ascii_case(command) && d.param == param)
}

/// Compares one printed list with the catalogue; `Some(reason)` when they
/// differ.
pub fn compare(command: &str, param: &str, printed: &str) -> Option<String> {
    let d = domain(command, param)?;
    let listed = parse_list(printed)?;
    match listed {
        Listed::Ints(got) if d.strings.is_empty() => {
            let want = normalise(d.ints.to_vec());
            if got == want {
                return None;
            }
            let how = match (contains(&want, &got), contains(&got, &want)) {
                (true, false) => "narrower than",
                (false, true) => "wider than",
                _ => "not",
            };
            Some(format!(
                "<{param}> listed as {printed} is {how} {} ({})",
                show_ints(&want),
                d.entry
            ))
        }
        Listed::Strings(mut got) if d.ints.is_empty() => {
            let mut want: Vec<String> = d.strings.iter().map(|s| s.to_string()).collect();
            got.sort();
            want.sort();
            (got != want).then(|| {
                format!(
                    "<{param}> listed as {printed} is not ({}) ({})",
                    want.iter()
                        .map(|w| format!("\"{w}\""))
                        .collect::<Vec<_>>()
                        .join(","),
                    d.entry
                )
            })
        }
        _ => None,
    }
}

/// Every list of a test form's answer line that differs from the
/// catalogue. The line is matched to one of the form's templates by its
/// prefix, its number of fields and its literal fields.
pub fn judge(command: &str, form: &str, line: &str) -> Vec<String> {
    let Some((prefix, rest)) = line.split_once(':') else {
        return Vec::new();
    };
    let got = fields(rest.trim_start());
    let mut out = Vec::new();
    let candidates = LINE_TEMPLATES
        .iter()
        .filter(|t| t.owner.eq_ignore_ascii_case(command) && t.form == form);
    for t in candidates {
        let Some((tprefix, trest)) = t.template.split_once(':') else {
            continue;
        };
        let want = fields(trest.trim_start());
        if !tprefix.eq_ignore_ascii_case(prefix) || want.len() != got.len() {
            continue;
        }
        // Literal fields (a sub-command key) must match.
        let literal_mismatch = want
            .iter()
            .zip(&got)
            .any(|(w, g)| w.trim().starts_with('"') && !w.contains('<') && w.trim() != g.trim());
        if literal_mismatch {
            continue;
        }
        for (w, g) in want.iter().zip(&got) {
            if let Some(param) = listed_param(w) {
                out.extend(compare(command, param, g));
            }
        }
        break;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_are_read_and_merged() {
        assert_eq!(parse_list("(0,1)"), Some(Listed::Ints(vec![(0, 1)])));
        assert_eq!(
            parse_list("(0-3,5)"),
            Some(Listed::Ints(vec![(0, 3), (5, 5)]))
        );
        assert_eq!(
            parse_list("(0x00-0xFF)"),
            Some(Listed::Ints(vec![(0, 255)]))
        );
        assert_eq!(
            parse_list("(\"TCP\",\"UDP\")"),
            Some(Listed::Strings(vec!["TCP".into(), "UDP".into()]))
        );
        assert_eq!(parse_list("(x)"), None);
        assert_eq!(parse_list("0,1"), None);
        assert_eq!(parse_list("(3-1)"), None);
    }

    #[test]
    fn a_narrower_or_wider_list_is_named_with_its_entry() {
        let narrower = compare("AT+QSTADHCP", "enable", "(0)").unwrap();
        assert!(
            narrower.contains("<enable> listed as (0) is narrower than (0-1)"),
            "{narrower}"
        );
        assert!(
            narrower.contains("spec/wifi.yaml AT+QSTADHCP"),
            "{narrower}"
        );
        let wider = compare("AT+QSTADHCP", "enable", "(0-2)").unwrap();
        assert!(wider.contains("wider than"), "{wider}");
        assert_eq!(compare("AT+QSTADHCP", "enable", "(0,1)"), None);
        assert_eq!(compare("AT+QSTADHCP", "enable", "(0-1)"), None);
    }

    #[test]
    fn a_whole_line_is_matched_to_its_template() {
        let form = "AT+QFOPEN=?";
        assert!(judge("AT+QFOPEN", form, "+QFOPEN: <filename>,(0-2)").is_empty());
        let d = judge("AT+QFOPEN", form, "+QFOPEN: <filename>,(0-1)");
        assert_eq!(d.len(), 1, "{d:?}");
        assert!(d[0].contains("<mode>"), "{d:?}");
    }
}
