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

/// Explains `line` received while `command` (a catalogue name) was pending.
pub fn explain(line: &str, command: &str) -> Explained {
    if Final::parse(line).is_some() {
        return Explained::Final;
    }
    if let Some(t) = by_owner()
        .get(command)
        .into_iter()
        .flatten()
        .find(|t| (t.reencode)(line).is_ok())
    {
        return Explained::Response(t.template);
    }
    match Urc::parse(line) {
        Some(Ok(u)) => return Explained::Urc(u.kind().label()),
        Some(Err(e)) => {
            // A URC prefix may also start a response line of the command
            // (`+QBLESTAT`); only a line that is neither is malformed.
            return Explained::No(format!("malformed URC: {e}"));
        }
        None => {}
    }
    // A line of another command's template is still unexplained here.
    let other = LINE_TEMPLATES
        .iter()
        .find(|t| t.owner != command && (t.reencode)(line).is_ok());
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
