//! What a transcript needs to know of the catalogue about a command line:
//! which form it is, what the grammar says when it refuses it, whether a
//! data phase follows, what follows a `CONNECT`, which of its response
//! lines announce a data block, and which template a line matches.
//!
//! Everything comes from the generated tables (the runtime's
//! `FORM_TEMPLATES` / `LINE_TEMPLATES` / `URC_TEMPLATES`, this crate's
//! `CASES`) and from the catalogue embedded in the simulator (for the lines
//! that announce data): no command is named here.

use std::collections::HashMap;
use std::sync::OnceLock;

use fcm242d::command::Template;
use fcm242d::generated::commands::{AnyCommand, FORM_TEMPLATES, LINE_TEMPLATES};
use fcm242d::generated::urcs::URC_TEMPLATES;
use fcm242d::value::ValueError;
use fcm242d::wire::DecodeError;

use crate::case::ConnectData;
use crate::generated::cases::CASES;

/// The prompt of a form's data phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// `>`
    Greater,
    /// `CONNECT`
    Connect,
}

/// What the catalogue says about the form a command line uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Form {
    /// The command (`AT+QFREAD`).
    pub command: &'static str,
    /// The form's syntax.
    pub syntax: &'static str,
    /// The data phase's prompt, if the form has one.
    pub prompt: Option<Prompt>,
    /// What follows a `CONNECT` result.
    pub connect: ConnectData,
    /// Whether the catalogue has information lines after the final result.
    pub lines_after_result: bool,
}

impl Form {
    /// The catalogue entry, as reports name it.
    pub fn entry(&self) -> String {
        format!("{} `{}`", self.command, self.syntax)
    }

    /// The catalogue entry with the form's response templates, as reports
    /// name it for a line that none of them reads.
    pub fn lines_entry(&self) -> String {
        let templates: Vec<String> = LINE_TEMPLATES
            .iter()
            .filter(|t| t.owner == self.command && t.form == self.syntax)
            .map(|t| format!("`{}`", t.template))
            .collect();
        if templates.is_empty() {
            format!("{} (no information lines)", self.entry())
        } else {
            format!("{}: {}", self.entry(), templates.join(" or "))
        }
    }
}

/// Why the grammar refuses a host line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No command of the catalogue starts this way.
    Unknown,
    /// A value outside its range or length.
    OutOfRange {
        /// The command.
        command: &'static str,
        /// The form whose parameter it is.
        form: &'static str,
        /// The grammar's words.
        reason: String,
    },
    /// The line does not have the shape of any form of the command.
    Malformed {
        /// The command.
        command: &'static str,
        /// The grammar's words.
        reason: String,
    },
}

/// A host line, read with the grammar.
pub fn form_of(line: &str) -> Result<Form, Refusal> {
    let line = line.trim();
    let Some(command) = command_name(line) else {
        return Err(Refusal::Unknown);
    };
    if let Err(e) = AnyCommand::parse(line) {
        return Err(refusal(command, line, e));
    }
    let syntax = FORM_TEMPLATES
        .iter()
        .filter(|t| t.owner == command)
        .find(|t| (t.reencode)(line).is_ok())
        .map(|t| t.form)
        // The command parsed, so one of its forms reads it; this is only
        // reached if the tables disagree, and then the name still helps.
        .unwrap_or(command);
    Ok(describe(command, syntax))
}

/// The longest command name of the catalogue that starts `line` (followed
/// by `=`, `?` or nothing), case-insensitive.
pub fn command_name(line: &str) -> Option<&'static str> {
    let b = line.as_bytes();
    FORM_TEMPLATES
        .iter()
        .map(|t| t.owner)
        .filter(|n| {
            let n = n.as_bytes();
            b.len() >= n.len()
                && b[..n.len()].eq_ignore_ascii_case(n)
                && matches!(b.get(n.len()), None | Some(b'=' | b'?'))
        })
        .max_by_key(|n| n.len())
}

/// The most telling of the forms' errors: a value error (the line has the
/// form's shape) rather than a shape mismatch.
fn refusal(command: &'static str, line: &str, parse_error: DecodeError) -> Refusal {
    let errors: Vec<(&'static str, DecodeError)> = FORM_TEMPLATES
        .iter()
        .filter(|t| t.owner == command)
        .filter_map(|t| (t.reencode)(line).err().map(|e| (t.form, e)))
        .collect();
    let value = errors
        .iter()
        .find(|(_, e)| matches!(e, DecodeError::Value { .. }));
    if let Some((form, e @ DecodeError::Value { error, .. })) = value {
        let reason = e.to_string();
        return if matches!(
            error,
            ValueError::OutOfRange { .. } | ValueError::BadLength { .. }
        ) {
            Refusal::OutOfRange {
                command,
                form,
                reason,
            }
        } else {
            Refusal::Malformed { command, reason }
        };
    }
    // Else the form the line follows furthest (`AT+QSSLCFG="ciphersuite",1,0×0035`
    // is named after the "ciphersuite" form, not after the last form tried).
    let furthest = || {
        errors
            .iter()
            .rev()
            .filter_map(|(_, e)| match e {
                DecodeError::NoMatch { at, .. } => Some((at.unwrap_or(0), e)),
                _ => None,
            })
            .max_by_key(|(at, _)| *at)
            .map(|(_, e)| e)
    };
    let e = errors
        .iter()
        .map(|(_, e)| e)
        .find(|e| matches!(e, DecodeError::Missing { .. }))
        .or_else(furthest)
        .unwrap_or(&parse_error);
    Refusal::Malformed {
        command,
        reason: e.to_string(),
    }
}

/// The form's data phase and `CONNECT` handling, from its generated cases.
fn describe(command: &'static str, syntax: &'static str) -> Form {
    let cases = || {
        CASES
            .iter()
            .filter(|c| c.command == command && c.form == syntax)
    };
    let phase = cases().find_map(|c| c.data_phase);
    let connect = cases()
        .map(|c| c.connect_data)
        .find(|c| *c != ConnectData::None)
        .unwrap_or(ConnectData::None);
    Form {
        command,
        syntax,
        prompt: phase.map(|p| {
            if p.greater_prompt {
                Prompt::Greater
            } else {
                Prompt::Connect
            }
        }),
        connect,
        lines_after_result: data_lines().after_result.contains(syntax),
    }
}

/// The catalogue's lines that announce a data block, and the forms with
/// lines after their final result.
struct DataLines {
    /// (form syntax, line template) -> index of the field giving the length.
    announcing: HashMap<(String, String), usize>,
    /// Forms that print information lines after their final result.
    after_result: std::collections::HashSet<String>,
}

fn data_lines() -> &'static DataLines {
    static LINES: OnceLock<DataLines> = OnceLock::new();
    LINES.get_or_init(|| {
        let mut announcing = HashMap::new();
        let mut after_result = std::collections::HashSet::new();
        for c in fcm242d_sim::catalog::catalog().commands() {
            for f in &c.command.forms {
                for r in &f.responses {
                    for l in &r.lines {
                        let Some(param) = l.data().and_then(|d| d.length.clone()) else {
                            continue;
                        };
                        if let Some(i) = field_index(l.template(), &param) {
                            announcing.insert((f.syntax.clone(), l.template().to_string()), i);
                        }
                    }
                    if r.after_result.as_ref().is_some_and(|a| !a.lines.is_empty()) {
                        after_result.insert(f.syntax.clone());
                    }
                }
            }
        }
        DataLines {
            announcing,
            after_result,
        }
    })
}

/// The index of the comma-separated field of `template` (after its
/// `+NAME: ` prefix) that holds `<param>`.
fn field_index(template: &str, param: &str) -> Option<usize> {
    let want = format!("<{param}>");
    fields(template).iter().position(|f| f.contains(&want))
}

/// The comma-separated fields after a line's `+NAME: ` prefix (commas
/// inside quotes, brackets or parentheses do not separate).
pub fn fields(line: &str) -> Vec<&str> {
    let body = match line.find(": ") {
        Some(i) if line.starts_with('+') => &line[i + 2..],
        _ => line,
    };
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut quoted = false;
    let mut start = 0;
    for (i, ch) in body.char_indices() {
        match ch {
            '"' => quoted = !quoted,
            '[' | '(' if !quoted => depth += 1,
            ']' | ')' if !quoted => depth -= 1,
            ',' if !quoted && depth <= 0 => {
                out.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&body[start..]);
    out
}

/// The first response template of `command` that reads `line`: those of
/// `form` first, then the command's other forms.
pub fn line_template(command: &str, form: Option<&str>, line: &str) -> Option<&'static Template> {
    let own = |t: &&Template| t.owner == command;
    let same_form = |t: &&Template| Some(t.form) == form;
    LINE_TEMPLATES
        .iter()
        .filter(own)
        .filter(same_form)
        .chain(LINE_TEMPLATES.iter().filter(own).filter(|t| !same_form(t)))
        .find(|t| plausible(t, line) && (t.reencode)(line).is_ok())
}

/// A response template of a command other than `command` that reads `line`.
pub fn foreign_template(command: &str, line: &str) -> Option<&'static Template> {
    LINE_TEMPLATES
        .iter()
        .filter(|t| t.owner != command && has_prefix(t.template))
        .find(|t| plausible(t, line) && (t.reencode)(line).is_ok())
}

/// The URC template that reads `line`.
pub fn urc_template(line: &str) -> Option<&'static Template> {
    URC_TEMPLATES
        .iter()
        .find(|t| plausible(t, line) && (t.reencode)(line).is_ok())
}

/// The URC templates a malformed URC line could have meant: those with its
/// prefix, and its discriminator when the family has several.
pub fn urc_candidates(line: &str) -> Vec<&'static Template> {
    let prefix = prefix_of(line);
    let all: Vec<&'static Template> = URC_TEMPLATES
        .iter()
        .filter(|t| prefix.is_some() && prefix_of(t.template) == prefix)
        .collect();
    let first = fields(line).first().map(|f| f.trim().to_string());
    let same_key: Vec<&'static Template> = all
        .iter()
        .copied()
        .filter(|t| {
            let key = fields(t.template).first().map(|f| f.trim().to_string());
            key.as_deref().is_some_and(|k| k.starts_with('"')) && key == first
        })
        .collect();
    if same_key.is_empty() {
        all
    } else {
        same_key
    }
}

/// For a line that matched `template` of a response, the length of the data
/// block it announces.
pub fn announced_length(template: &Template, line: &str) -> Option<usize> {
    let i = *data_lines()
        .announcing
        .get(&(template.form.to_string(), template.template.to_string()))?;
    let field = fields(line).get(i)?.trim().trim_matches('"').to_string();
    field.parse().ok()
}

/// `+NAME:` of a line, when it has one.
pub fn prefix_of(line: &str) -> Option<&str> {
    if !line.starts_with('+') {
        return None;
    }
    line.find(':').map(|i| &line[..i])
}

fn has_prefix(template: &str) -> bool {
    prefix_of(template).is_some()
}

/// Whether trying `t` on `line` can succeed at all: templates with a
/// `+NAME:` prefix only read lines with the same prefix (a cheap filter
/// before the full grammar match).
fn plausible(t: &Template, line: &str) -> bool {
    match prefix_of(t.template) {
        Some(p) => prefix_of(line) == Some(p),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_split_outside_quotes() {
        assert_eq!(fields("+QIRD: 5"), vec!["5"]);
        assert_eq!(
            fields("+QIURC: \"recv\",0,\"a,b\""),
            vec!["\"recv\"", "0", "\"a,b\""]
        );
        assert_eq!(
            field_index(
                "+QIRD: <read_actual_length>,<remoteIP>,<remote_port>",
                "read_actual_length"
            ),
            Some(0)
        );
    }

    #[test]
    fn every_announcing_line_is_a_template() {
        // The simulator's catalogue and the runtime's tables are generated
        // from the same spec: each data-announcing line must be found.
        for (form, template) in data_lines().announcing.keys() {
            assert!(
                LINE_TEMPLATES
                    .iter()
                    .any(|t| t.form == form && t.template == template),
                "{form} {template}"
            );
        }
        assert!(!data_lines().announcing.is_empty());
    }

    #[test]
    fn forms_and_refusals() {
        let f = form_of("AT+QVERSION").unwrap();
        assert_eq!(f.command, "AT+QVERSION");
        assert_eq!(form_of("AT+QFOO"), Err(Refusal::Unknown));
        assert!(matches!(
            form_of("AT+QICFG=\"transpktsize\",99999"),
            Err(Refusal::OutOfRange {
                command: "AT+QICFG",
                ..
            })
        ));
        let send = form_of("AT+QISEND=0").unwrap();
        assert_eq!(send.prompt, Some(Prompt::Greater));
        let read = form_of("AT+QFREAD=1,10").unwrap();
        assert_eq!(read.connect, ConnectData::Length);
    }
}
