//! The text work of response and URC quirks: the fields of a line, which
//! URC a line is, and URC frames in the module's output.

use fcm242d::generated::urcs::Urc;

use super::FieldEdit;

/// Byte ranges of the comma-separated fields of `body` (commas inside
/// double quotes do not separate).
fn field_spans(body: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = 0;
    let mut quoted = false;
    for (i, c) in body.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                spans.push((start, i));
                start = i + 1;
            }
            _ => {}
        }
    }
    spans.push((start, body.len()));
    spans
}

/// Where the fields of `line` start: after `<prefix>: ` (or `<prefix>:`).
fn body_start(line: &str) -> Option<usize> {
    let colon = line.find(':')?;
    let rest = &line[colon + 1..];
    Some(colon + 1 + (rest.len() - rest.trim_start_matches(' ').len()))
}

/// `line` with field `index` (counted from 0 after `<prefix>: `) dropped or
/// replaced; unchanged when it has no such field.
pub(super) fn edit_fields(line: &str, index: usize, edit: &FieldEdit) -> String {
    let Some(start) = body_start(line) else {
        return line.to_string();
    };
    let body = &line[start..];
    let spans = field_spans(body);
    let Some(&(from, to)) = spans.get(index) else {
        return line.to_string();
    };
    let (cut_from, cut_to, insert) = match edit {
        FieldEdit::Replace(text) => (from, to, text.as_str()),
        // The field goes with the comma before it (after it, for the first).
        FieldEdit::Drop if index > 0 => (spans[index - 1].1, to, ""),
        FieldEdit::Drop => match spans.get(1) {
            Some(&(next, _)) => (from, next, ""),
            None => (from, to, ""),
        },
    };
    let mut out = format!("{}{}{}", &line[..start], &body[..cut_from], insert);
    out.push_str(&body[cut_to..]);
    if matches!(edit, FieldEdit::Drop) && spans.len() == 1 {
        // No field left: the line ends with its colon.
        out.truncate(out.trim_end_matches(' ').len());
    }
    out
}

/// Whether an information line has this prefix.
fn has_prefix(line: &str, prefix: &str) -> bool {
    line.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(':'))
}

/// The edited information line, if a response quirk for `prefix` applies.
pub(super) fn edit_line(
    line: &str,
    prefix: &str,
    field: usize,
    edit: &FieldEdit,
) -> Option<String> {
    has_prefix(line, prefix).then(|| edit_fields(line, field, edit))
}

/// Whether a URC line is the one a quirk names: `+QSTASTAT` names every
/// `+QSTASTAT: …` line; `+QIURC: "closed"` names the lines that go on with
/// a comma or end there.
pub(super) fn urc_matches(line: &str, spec: &str) -> bool {
    if !spec.contains(':') {
        return has_prefix(line, spec);
    }
    line.strip_prefix(spec)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(','))
}

/// One URC frame at the start of `bytes`: `CR LF <line> CR LF`, then the
/// data block the line announces (and its CR LF), if any. Returns the line
/// and the lengths of the framed line and of the whole frame.
fn frame(bytes: &[u8]) -> Option<(&str, usize, usize)> {
    let rest = bytes.strip_prefix(b"\r\n")?;
    if rest.first() != Some(&b'+') {
        return None;
    }
    let end = rest.windows(2).position(|w| w == b"\r\n")?;
    let line = std::str::from_utf8(&rest[..end]).ok()?;
    let line_len = 2 + end + 2;
    let data = match Urc::parse(line) {
        Some(Ok(u)) => u.data_length(),
        Some(Err(_)) => None,
        // Not a URC: a response line or other output, left alone.
        None => return None,
    };
    let mut len = line_len;
    if let Some(n) = data {
        len = (len + n).min(bytes.len());
        if bytes[len..].starts_with(b"\r\n") {
            len += 2;
        }
    }
    Some((line, line_len, len))
}

/// `bytes` with every URC frame passed through `edit`, which returns the
/// line to print and whether the frame's data block stays, or `None` to
/// drop the whole frame. Bytes outside frames are copied.
pub(super) fn edit_frames(bytes: &[u8], edit: impl Fn(&str) -> Option<(String, bool)>) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let Some((line, line_len, len)) = frame(&bytes[i..]) else {
            out.push(bytes[i]);
            i += 1;
            continue;
        };
        match edit(line) {
            None => {}
            Some((text, keep_data)) => {
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(text.as_bytes());
                out.extend_from_slice(b"\r\n");
                if keep_data {
                    out.extend_from_slice(&bytes[i + line_len..i + len]);
                }
            }
        }
        i += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_and_replaces_fields_outside_quotes() {
        let l = r#"+QIURC: "recv",0,"a,b""#;
        assert_eq!(
            edit_fields(l, 1, &FieldEdit::Drop),
            r#"+QIURC: "recv","a,b""#
        );
        assert_eq!(edit_fields(l, 0, &FieldEdit::Drop), r#"+QIURC: 0,"a,b""#);
        assert_eq!(edit_fields(l, 2, &FieldEdit::Drop), r#"+QIURC: "recv",0"#);
        assert_eq!(
            edit_fields(l, 2, &FieldEdit::Replace("x".into())),
            r#"+QIURC: "recv",0,x"#
        );
        assert_eq!(edit_fields(l, 3, &FieldEdit::Drop), l);
        assert_eq!(
            edit_fields("+QWLMAC: 8800", 0, &FieldEdit::Drop),
            "+QWLMAC:"
        );
        assert_eq!(edit_fields("OK", 0, &FieldEdit::Drop), "OK");
    }

    #[test]
    fn urc_names_match_whole_names_and_literals() {
        assert!(urc_matches("+QSTASTAT: \"GOT_IP\"", "+QSTASTAT"));
        assert!(!urc_matches("+QSTASTATX: 1", "+QSTASTAT"));
        assert!(urc_matches("+QIURC: \"closed\",0", "+QIURC: \"closed\""));
        assert!(!urc_matches(
            "+QIURC: \"incoming full\"",
            "+QIURC: \"incoming\""
        ));
    }

    #[test]
    fn frames_keep_their_data_blocks() {
        let bytes = b"\r\n+QIURC: \"recv\",0,4\r\n+QIU\r\n\r\n+QIURC: \"closed\",0\r\nxy";
        let out = edit_frames(bytes, |l| {
            (!l.contains("closed")).then(|| (l.to_string(), true))
        });
        assert_eq!(out, b"\r\n+QIURC: \"recv\",0,4\r\n+QIU\r\nxy");
    }
}
