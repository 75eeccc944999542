//! Whether a received line is one the catalogue explains: a final result, a
//! response line of the command that is pending, or a URC.

use std::collections::HashMap;
use std::sync::OnceLock;

use fcm242d::command::Template;
use fcm242d::engine::Final;
use fcm242d::generated::commands::LINE_TEMPLATES;
use fcm242d::generated::urcs::Urc;

/// How a line stands against the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Explained {
    /// A final result code.
    Final,
    /// A response line of the pending command (the template it matches).
    Response(&'static str),
    /// A well-formed URC (its family label).
    Urc(&'static str),
    /// Not explained: why.
    No(String),
}

fn by_owner() -> &'static HashMap<&'static str, Vec<&'static Template>> {
    static INDEX: OnceLock<HashMap<&'static str, Vec<&'static Template>>> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut m: HashMap<&'static str, Vec<&'static Template>> = HashMap::new();
        for t in LINE_TEMPLATES {
            m.entry(t.owner).or_default().push(t);
        }
        m
    })
}

/// Whether a template reads any line: it begins with a field, not with a
/// `+NAME:` prefix (`<data>`, the characteristic value AT+QBLEGATTCRD
/// prints). It explains a line only while its own command is pending, and
/// only a line no URC explains; it never names the owner of another
/// command's line.
fn catch_all(t: &Template) -> bool {
    !(t.template.starts_with('+') && t.template.contains(':'))
}

/// Explains `line` received while `command` (a catalogue name) was pending.
pub fn explain(line: &str, command: &str) -> Explained {
    if Final::parse(line).is_some() {
        return Explained::Final;
    }
    let own: &[&Template] = by_owner().get(command).map_or(&[], Vec::as_slice);
    let reads = |t: &&&Template| (t.reencode)(line).is_ok();
    if let Some(t) = own.iter().filter(|t| !catch_all(t)).find(reads) {
        return Explained::Response(t.template);
    }
    let urc = Urc::parse(line);
    if let Some(Ok(u)) = &urc {
        return Explained::Urc(u.kind().label());
    }
    if let Some(t) = own.iter().filter(|t| catch_all(t)).find(reads) {
        return Explained::Response(t.template);
    }
    if let Some(Err(e)) = urc {
        // A URC prefix may also start a response line of the command
        // (`+QBLESTAT`); only a line that is neither is malformed.
        return Explained::No(format!("malformed URC: {e}"));
    }
    // A line of another command's template is still unexplained here; a
    // catch-all template would "read" any line and name a wrong owner.
    let other = LINE_TEMPLATES
        .iter()
        .find(|t| t.owner != command && !catch_all(t) && (t.reencode)(line).is_ok());
    Explained::No(match other {
        Some(t) => format!(
            "a response line of {} (`{}`), not of {command}",
            t.owner, t.template
        ),
        None => match by_owner().get(command) {
            Some(ts) if !ts.is_empty() => format!(
                "matches no response template of {command} ({})",
                ts.iter()
                    .map(|t| format!("`{}`", t.template))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            _ => format!("{command} has no information lines in the catalogue"),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(e: Explained) -> String {
        match e {
            Explained::No(r) => r,
            other => panic!("expected no explanation, got {other:?}"),
        }
    }

    #[test]
    fn a_catch_all_template_explains_only_its_own_commands_lines() {
        // AT+QBLEGATTCRD's `<data>` reads any line, while it is pending.
        assert_eq!(
            explain("0102abcd", "AT+QBLEGATTCRD"),
            Explained::Response("<data>")
        );
        // Pending another command, it neither explains the line nor names
        // itself as the line's owner.
        let r = reason(explain("0102abcd", "AT+QVERSION"));
        assert!(!r.contains("QBLEGATTCRD"), "{r}");
        assert!(r.contains("AT+QVERSION"), "{r}");
        // Another command's line is named by its real owner.
        let r = reason(explain("+QWLMAC: \"88003377696c\"", "AT+QVERSION"));
        assert!(r.contains("a response line of AT+QWLMAC"), "{r}");
        let r = reason(explain("+QWLMAC: \"88003377696c\"", "AT+QBLEINIT"));
        assert!(!r.contains("QBLEGATTCRD"), "{r}");
    }

    #[test]
    fn a_urc_during_a_catch_all_command_is_a_urc() {
        assert_eq!(
            explain("+QSTASTAT: \"GOT_IP\"", "AT+QBLEGATTCRD"),
            Explained::Urc(explain_label("+QSTASTAT: \"GOT_IP\""))
        );
    }

    fn explain_label(line: &str) -> &'static str {
        match Urc::parse(line) {
            Some(Ok(u)) => u.kind().label(),
            other => panic!("not a URC: {other:?}"),
        }
    }
}
