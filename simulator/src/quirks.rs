//! Deliberate deviations ("quirks") from the catalogue, set in the world
//! file, so that a conformance runner can be tried against a module that
//! does not conform.
//!
//! Each entry of the world's `quirks:` list changes one thing and nothing
//! else:
//!
//! ```yaml
//! quirks:
//!   # A narrower range: values outside 1..=1000 are refused with the
//!   # command's own refusal (ERROR, or +CME ERROR: <invalid parameter> for
//!   # the commands that report +CME ERROR).
//!   - command: AT+QIOPEN          # the catalogue's command name
//!     form: write                 # optional: test | read | write | execute
//!     param: remote_port          # the catalogue's parameter name
//!     range: {min: 1, max: 1000}
//!   # A wider range (here a byte length: 26..=40 is beyond the catalogue's
//!   # 25): such values are accepted with OK, and applied as the nearest
//!   # value the catalogue allows (a string is cut or padded with `0`).
//!   - command: AT+QBLENAME
//!     param: BLE_name
//!     range: {min: 0, max: 40}
//!   # Another final result. An error (ERROR, +CME ERROR: <n>) means the
//!   # command is not carried out; any other result replaces the real one
//!   # after the command was carried out.
//!   - command: AT+QVERSION
//!     answer: "+CME ERROR: 703"
//!   # A field of an information line (any command's), counted from 0 after
//!   # "<prefix>: ", dropped or replaced verbatim.
//!   - response: "+QWLMAC"
//!     field: 0
//!     replace: "zz"
//!   # A URC (optionally with its quoted first literal, as printed):
//!   # suppressed, printed as other text (`malform`), or a field dropped or
//!   # replaced as for responses (the literal, if any, is field 0).
//!   - urc: "+QSTASTAT"
//!     suppress: true
//!   - urc: '+QIURC: "closed"'
//!     malform: '+QIURC: closed'
//!   # The final result, and everything after it (data, prompt, URCs), comes
//!   # this much later; the information lines come on time.
//!   - command: AT+QPING
//!     delay_ms: 200000
//! ```
//!
//! ```
//! # use fcm242d_sim::world::World;
//! let world = World::from_yaml("quirks:\n  - command: AT+QVERSION\n    answer: ERROR\n").unwrap();
//! assert_eq!(world.quirks.len(), 1);
//! let err = World::from_yaml("quirks:\n  - command: AT+QNOSUCH\n    answer: ERROR\n").unwrap_err();
//! assert!(err.contains("AT+QNOSUCH"), "{err}");
//! ```
//!
//! A range applies to an integer parameter by value and to any other
//! parameter by byte length. The values a command line gives are found
//! through the generated grammar (each parameter occurrence is a capture
//! rule), so a quirk sees exactly the parameter it names, wherever it stands.
//! A test command's answer (`=?`) keeps listing the catalogue's ranges; add a
//! `response` quirk to change it too. Quirks are checked when the world is
//! loaded: an unknown command, form, parameter, response prefix or URC is an
//! error naming the quirk.
//!
//! A delay does not hold up the module: other commands are answered in the
//! meantime, as a late module's would be. A delay on `AT+QRST` is not
//! applied (the restart clears what is scheduled).

mod fields;
mod load;
mod range;

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use fcm242d_codegen::model::FormKind;
use serde::Deserialize;

use crate::catalog;
use crate::reply::{Final, Reply};

/// One deliberate deviation from the catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "load::RawQuirk")]
pub enum Quirk {
    /// The module takes `min..=max` for a parameter instead of the
    /// catalogue's range (a value for integers, a byte length otherwise).
    Range {
        /// Which command lines.
        target: CommandTarget,
        /// The catalogue's name of the parameter.
        param: String,
        /// Smallest accepted value or length.
        min: i64,
        /// Largest accepted value or length.
        max: i64,
    },
    /// The command's final result is replaced.
    Answer {
        /// Which command lines.
        target: CommandTarget,
        /// The final result printed instead (`ERROR`, `+CME ERROR: 703`, `OK`, ...).
        answer: String,
    },
    /// The command's final result (and what follows it) comes late.
    Delay {
        /// Which command lines.
        target: CommandTarget,
        /// How much later, in milliseconds.
        delay_ms: u64,
    },
    /// A field of every information line with this prefix is changed.
    Response {
        /// The line's prefix (`+QWLMAC`).
        prefix: String,
        /// The field, counted from 0 after `<prefix>: `.
        field: usize,
        /// What happens to it.
        edit: FieldEdit,
    },
    /// A URC is suppressed or changed.
    Urc {
        /// The URC as printed up to its first literal: `+QSTASTAT`, `+QIURC: "closed"`.
        urc: String,
        /// What happens to it.
        effect: UrcEffect,
    },
}

/// The command lines a quirk applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandTarget {
    /// The catalogue's command name (`AT+QIOPEN`).
    pub command: String,
    /// Only this form, when given.
    pub form: Option<FormKind>,
}

/// What happens to a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldEdit {
    /// It is removed (with its comma).
    Drop,
    /// Its text is replaced verbatim.
    Replace(String),
}

/// What happens to a URC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrcEffect {
    /// It is never printed (nor the data block that follows it).
    Suppress,
    /// This text is printed instead of it (and of its data block).
    Malform(String),
    /// A field is dropped or replaced (its data block stays).
    Field(usize, FieldEdit),
}

impl fmt::Display for Quirk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Quirk::Range {
                target,
                param,
                min,
                max,
            } => write!(f, "{target} takes <{param}> in {min}..={max} only"),
            Quirk::Answer { target, answer } => write!(f, "{target} answers {answer}"),
            Quirk::Delay { target, delay_ms } => {
                write!(f, "{target} gives its final result {delay_ms} ms late")
            }
            Quirk::Response {
                prefix,
                field,
                edit,
            } => write!(f, "response {prefix}: field {field} {edit}"),
            Quirk::Urc { urc, effect } => match effect {
                UrcEffect::Suppress => write!(f, "URC {urc} suppressed"),
                UrcEffect::Malform(text) => write!(f, "URC {urc} printed as {text:?}"),
                UrcEffect::Field(field, edit) => write!(f, "URC {urc}: field {field} {edit}"),
            },
        }
    }
}

impl fmt::Display for CommandTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.form {
            Some(form) => write!(f, "{} ({})", self.command, form_name(form)),
            None => f.write_str(&self.command),
        }
    }
}

impl fmt::Display for FieldEdit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldEdit::Drop => f.write_str("dropped"),
            FieldEdit::Replace(text) => write!(f, "replaced by {text:?}"),
        }
    }
}

fn form_name(form: FormKind) -> &'static str {
    match form {
        FormKind::Test => "test",
        FormKind::Read => "read",
        FormKind::Write => "write",
        FormKind::Execute => "execute",
    }
}

impl CommandTarget {
    /// Whether a line of command `name`, of form `form`, is targeted.
    fn matches(&self, name: &str, form: Option<FormKind>) -> bool {
        self.command == name && self.form.is_none_or(|f| Some(f) == form)
    }
}

/// The quirks that target `line`, with the line's command name.
fn targeting<'q>(
    quirks: &'q [Quirk],
    line: &str,
) -> Option<(&'static str, impl Iterator<Item = &'q Quirk>)> {
    let target = |q: &'q Quirk| match q {
        Quirk::Range { target, .. }
        | Quirk::Answer { target, .. }
        | Quirk::Delay { target, .. } => Some(target),
        Quirk::Response { .. } | Quirk::Urc { .. } => None,
    };
    // Most lines are not targeted: find that out before parsing them.
    if !quirks.iter().any(|q| target(q).is_some()) {
        return None;
    }
    let name = catalog::command_name(line)?;
    if !quirks
        .iter()
        .any(|q| target(q).is_some_and(|t| t.command == name))
    {
        return None;
    }
    let form = range::form_of(line, name);
    let hits = quirks
        .iter()
        .filter(move |q| target(q).is_some_and(|t| t.matches(name, form)));
    Some((name, hits))
}

/// The final result an answer quirk's text stands for (checked at load).
fn final_of(answer: &str) -> Final {
    use fcm242d::engine::Final as F;
    match F::parse(answer) {
        Some(F::Ok) | None => Final::Ok,
        Some(F::Error) => Final::Error,
        Some(F::CmeError(n)) => Final::Cme(n),
        // A text (or an oversized code): the simulator answers with codes only.
        Some(F::CmeText(_)) => Final::Error,
        Some(F::SendOk) => Final::SendOk,
        Some(F::SendFail) => Final::SendFail,
        Some(F::Connect) => Final::Connect,
        Some(F::ConnectN(n)) => Final::ConnectN(n),
        Some(F::NoCarrier) => Final::NoCarrier,
    }
}

fn is_error(f: Final) -> bool {
    matches!(f, Final::Error | Final::Cme(_))
}

/// Before a command line is dispatched: the line to dispatch (rewritten
/// when a wider range accepted a value the catalogue does not allow), or
/// the final result given alone without dispatching it (an error answer,
/// or the refusal of a value a narrower range refuses).
pub fn before_dispatch<'a>(quirks: &[Quirk], line: &'a str) -> Result<Cow<'a, str>, Final> {
    let Some((name, hits)) = targeting(quirks, line) else {
        return Ok(Cow::Borrowed(line));
    };
    let mut line = Cow::Borrowed(line);
    for q in hits {
        match q {
            Quirk::Answer { answer, .. } if is_error(final_of(answer)) => {
                return Err(final_of(answer));
            }
            Quirk::Range {
                param, min, max, ..
            } => match range::apply(&line, name, param, *min..=*max) {
                range::Verdict::Unchanged => {}
                range::Verdict::Rewritten(l) => line = Cow::Owned(l),
                range::Verdict::Refused => return Err(refusal(name)),
            },
            _ => {}
        }
    }
    Ok(line)
}

/// After a command line was dispatched: the final result replaced by a
/// non-error answer quirk.
pub fn after_dispatch(quirks: &[Quirk], line: &str, mut reply: Reply) -> Reply {
    if let Some((_, hits)) = targeting(quirks, line) {
        for q in hits {
            if let Quirk::Answer { answer, .. } = q {
                let f = final_of(answer);
                if !is_error(f) {
                    reply.result = f;
                }
            }
        }
    }
    reply
}

/// How late the final result of `line` comes (several delays add up).
pub fn delay(quirks: &[Quirk], line: &str) -> Option<Duration> {
    let (_, hits) = targeting(quirks, line)?;
    let ms: u64 = hits
        .filter_map(|q| match q {
            Quirk::Delay { delay_ms, .. } => Some(*delay_ms),
            _ => None,
        })
        .fold(0, u64::saturating_add);
    (ms > 0).then(|| Duration::from_millis(ms))
}

/// How many bytes at the end of `reply.render()` a delay holds back: the
/// final result, the bytes after it and a data-phase prompt.
pub fn late_len(reply: &Reply) -> usize {
    let mut tail = Reply::result(reply.result);
    tail.after = reply.after.clone();
    let prompt = match &reply.phase {
        Some(p) if p.greater_prompt => "\r\n> ".len(),
        Some(_) => "\r\nCONNECT\r\n".len(),
        None => 0,
    };
    tail.render().len() + prompt
}

/// Applies the response and URC quirks to a reply about to be written:
/// its information lines and the URCs it schedules.
pub fn edit_reply(quirks: &[Quirk], reply: &mut Reply) {
    if quirks.is_empty() {
        return;
    }
    for line in &mut reply.lines {
        for q in quirks {
            if let Quirk::Response {
                prefix,
                field,
                edit,
            } = q
            {
                if let Some(edited) = fields::edit_line(line, prefix, *field, edit) {
                    *line = edited;
                }
            }
        }
    }
    reply.urcs = std::mem::take(&mut reply.urcs)
        .into_iter()
        .filter_map(|(at, urc)| edit_urc(quirks, &urc).map(|u| (at, u)))
        .collect();
}

/// A URC line (a data block may follow it after CR LF) as the quirks print
/// it; `None` when it is suppressed.
pub fn edit_urc(quirks: &[Quirk], urc: &str) -> Option<String> {
    let mut urc = urc.to_string();
    for q in quirks {
        if let Quirk::Urc { urc: spec, effect } = q {
            let (header, data) = match urc.split_once("\r\n") {
                Some((h, d)) => (h, Some(d)),
                None => (urc.as_str(), None),
            };
            if !fields::urc_matches(header, spec) {
                continue;
            }
            urc = match effect {
                UrcEffect::Suppress => return None,
                UrcEffect::Malform(text) => text.clone(),
                UrcEffect::Field(i, edit) => {
                    let h = fields::edit_fields(header, *i, edit);
                    match data {
                        Some(d) => format!("{h}\r\n{d}"),
                        None => h,
                    }
                }
            };
        }
    }
    Some(urc)
}

/// Output the network caused (framed URCs, each possibly followed by its
/// data block) as the quirks print it. Not for transparent-mode data.
pub fn edit_urc_output(quirks: &[Quirk], bytes: Vec<u8>) -> Vec<u8> {
    if bytes.is_empty() || !quirks.iter().any(|q| matches!(q, Quirk::Urc { .. })) {
        return bytes;
    }
    fields::edit_frames(&bytes, |header| {
        let mut header = header.to_string();
        let mut data_kept = true;
        for q in quirks {
            if let Quirk::Urc { urc: spec, effect } = q {
                if !fields::urc_matches(&header, spec) {
                    continue;
                }
                match effect {
                    UrcEffect::Suppress => return None,
                    UrcEffect::Malform(text) => {
                        header = text.clone();
                        data_kept = false;
                    }
                    UrcEffect::Field(i, edit) => header = fields::edit_fields(&header, *i, edit),
                }
            }
        }
        Some((header, data_kept))
    })
}

/// The answer of command `name` to an invalid parameter, as the module
/// gives it: `+CME ERROR: <invalid parameter>` for commands that report
/// `+CME ERROR`, `ERROR` otherwise.
fn refusal(name: &str) -> Final {
    if catalog::uses_cme(name) {
        Final::Cme(catalog::invalid_parameter_code())
    } else {
        Final::Error
    }
}
