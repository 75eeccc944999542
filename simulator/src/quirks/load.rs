//! Reading a quirk from the world file and checking it against the
//! catalogue, so that a misspelt name is an error naming the quirk rather
//! than a quirk that silently never applies.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use fcm242d_codegen::model::{FormKind, Scalar};
use fcm242d_codegen::params::{numeric, resolve};
use serde::Deserialize;

use super::range::{command_plan, occurrence_params, the_plan};
use super::{form_name, CommandTarget, FieldEdit, Quirk, UrcEffect};
use crate::catalog;

/// A quirk as written in the world file (every key optional; which ones
/// are given decides the kind).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawQuirk {
    command: Option<String>,
    form: Option<FormKind>,
    param: Option<String>,
    range: Option<RawRange>,
    answer: Option<String>,
    delay_ms: Option<u64>,
    response: Option<String>,
    urc: Option<String>,
    field: Option<usize>,
    #[serde(default)]
    drop: bool,
    replace: Option<String>,
    #[serde(default)]
    suppress: bool,
    malform: Option<String>,
}

/// `{min, max}` (integers; hex integers may be written `"0x1F"`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRange {
    min: Scalar,
    max: Scalar,
}

impl RawQuirk {
    /// How the error messages name the quirk.
    fn label(&self) -> String {
        let mut parts = Vec::new();
        if let Some(c) = &self.command {
            parts.push(format!("command: {c}"));
        }
        if let Some(r) = &self.response {
            parts.push(format!("response: {r}"));
        }
        if let Some(u) = &self.urc {
            parts.push(format!("urc: {u}"));
        }
        if let Some(p) = &self.param {
            parts.push(format!("param: {p}"));
        }
        if parts.is_empty() {
            "quirk".into()
        } else {
            format!("quirk {{{}}}", parts.join(", "))
        }
    }

    /// The keys given, among `keys` (name, given).
    fn given(keys: &[(&'static str, bool)]) -> Vec<&'static str> {
        keys.iter().filter(|(_, g)| *g).map(|(k, _)| *k).collect()
    }

    fn field_edit(&self) -> Result<Option<(usize, FieldEdit)>, String> {
        match (self.field, self.drop, &self.replace) {
            (None, false, None) => Ok(None),
            (Some(i), true, None) => Ok(Some((i, FieldEdit::Drop))),
            (Some(i), false, Some(t)) => Ok(Some((i, FieldEdit::Replace(t.clone())))),
            (None, _, _) => Err("`drop` and `replace` need a `field` (0-based index)".into()),
            (Some(_), true, Some(_)) => Err("give `drop: true` or `replace`, not both".into()),
            (Some(_), false, None) => Err("`field` needs `drop: true` or `replace: <text>`".into()),
        }
    }
}

impl TryFrom<RawQuirk> for Quirk {
    type Error = String;

    fn try_from(raw: RawQuirk) -> Result<Quirk, String> {
        check(&raw).map_err(|e| format!("{}: {e}", raw.label()))
    }
}

fn check(raw: &RawQuirk) -> Result<Quirk, String> {
    let targets = RawQuirk::given(&[
        ("command", raw.command.is_some()),
        ("response", raw.response.is_some()),
        ("urc", raw.urc.is_some()),
    ]);
    match targets.as_slice() {
        ["command"] => command_quirk(raw),
        ["response"] => response_quirk(raw),
        ["urc"] => urc_quirk(raw),
        [] => Err("say what it applies to: `command`, `response` or `urc`".into()),
        many => Err(format!(
            "give one of `command`, `response` or `urc`, not {}",
            many.join(" and ")
        )),
    }
}

/// Rejects keys that belong to other kinds of quirk.
fn refuse_keys(kind: &str, keys: &[(&'static str, bool)]) -> Result<(), String> {
    match RawQuirk::given(keys).as_slice() {
        [] => Ok(()),
        extra => Err(format!(
            "`{}` does not apply to a {kind} quirk",
            extra.join("`, `")
        )),
    }
}

fn command_quirk(raw: &RawQuirk) -> Result<Quirk, String> {
    let given = raw.command.as_deref().unwrap_or_default();
    let command = catalog::catalog()
        .commands()
        .find(|c| c.command.name.eq_ignore_ascii_case(given))
        .ok_or_else(|| format!("the catalogue has no command {given}"))?
        .command;
    if let Some(form) = raw.form {
        if !command.forms.iter().any(|f| f.kind == form) {
            return Err(format!("{} has no {} form", command.name, form_name(form)));
        }
    }
    refuse_keys(
        "command",
        &[
            ("field", raw.field.is_some()),
            ("drop", raw.drop),
            ("replace", raw.replace.is_some()),
            ("suppress", raw.suppress),
            ("malform", raw.malform.is_some()),
        ],
    )?;
    let target = CommandTarget {
        command: command.name.clone(),
        form: raw.form,
    };
    let effects = RawQuirk::given(&[
        ("range", raw.range.is_some()),
        ("answer", raw.answer.is_some()),
        ("delay_ms", raw.delay_ms.is_some()),
    ]);
    if raw.param.is_some() && raw.range.is_none() {
        return Err("`param` needs a `range: {min, max}`".into());
    }
    match effects.as_slice() {
        ["range"] => range_quirk(raw, target),
        ["answer"] => {
            let answer = raw.answer.clone().unwrap_or_default();
            if fcm242d::engine::Final::parse(&answer).is_none() {
                return Err(format!(
                    "answer {answer:?} is not a final result code (OK, ERROR, +CME ERROR: <n>, \
                     SEND OK, SEND FAIL, CONNECT, CONNECT <n>, NO CARRIER)"
                ));
            }
            Ok(Quirk::Answer { target, answer })
        }
        ["delay_ms"] => Ok(Quirk::Delay {
            target,
            delay_ms: raw.delay_ms.unwrap_or_default(),
        }),
        [] => Err("say what changes: `range` (with `param`), `answer` or `delay_ms`".into()),
        many => Err(format!(
            "give one of `range`, `answer` or `delay_ms` per quirk, not {}",
            many.join(" and ")
        )),
    }
}

fn range_quirk(raw: &RawQuirk, target: CommandTarget) -> Result<Quirk, String> {
    let name = raw
        .param
        .as_deref()
        .ok_or("`range` needs the `param` it applies to")?;
    let command = catalog::catalog()
        .command(&target.command)
        .ok_or("not in the catalogue")?
        .command;
    let index = resolve(&command.params, name)
        .filter(|r| r.index.is_none())
        .map(|r| r.param)
        .ok_or_else(|| {
            let names: Vec<&str> = command.params.iter().map(|p| p.name.as_str()).collect();
            format!(
                "{} has no parameter {name} (its parameters: {})",
                target.command,
                names.join(", ")
            )
        })?;
    let param = &command.params[index];
    // The parameter must be one the command line gives, in the form named.
    let plan = command_plan(&target.command).ok_or("the catalogue cannot be planned")?;
    let in_line = plan.forms.iter().any(|f| {
        target.form.is_none_or(|k| f.form.kind == k)
            && occurrence_params(&f.shape.items)
                .iter()
                .any(|&(_, p)| p == index)
    });
    if !in_line {
        return Err(format!(
            "<{}> is not a parameter of {} command lines",
            param.name, target
        ));
    }
    let range = raw.range.as_ref().ok_or("no range")?;
    let bound = |s: &Scalar| -> Result<i64, String> {
        let n = if param.ty.is_numeric() {
            numeric(param.ty, s)
        } else {
            match s {
                Scalar::Int(n) if *n >= 0 => Some(*n),
                _ => None,
            }
        };
        n.ok_or_else(|| {
            if param.ty.is_numeric() {
                format!("range bound {s} is not an integer")
            } else {
                format!(
                    "<{}> is a string: its range is a byte length, and {s} is not one",
                    param.name
                )
            }
        })
    };
    let (min, max) = (bound(&range.min)?, bound(&range.max)?);
    if min > max {
        return Err(format!("range min {min} is above max {max}"));
    }
    Ok(Quirk::Range {
        target,
        param: param.name.clone(),
        min,
        max,
    })
}

/// Every information-line prefix of the catalogue's responses.
fn response_prefixes() -> &'static BTreeSet<String> {
    static PREFIXES: OnceLock<BTreeSet<String>> = OnceLock::new();
    PREFIXES.get_or_init(|| {
        the_plan()
            .into_iter()
            .flat_map(|p| &p.commands)
            .flat_map(|c| &c.forms)
            .flat_map(|f| &f.lines)
            .filter_map(|l| {
                let p = l.shape.prefix.trim_end().trim_end_matches(':');
                (!p.is_empty()).then(|| p.to_string())
            })
            .collect()
    })
}

fn response_quirk(raw: &RawQuirk) -> Result<Quirk, String> {
    let prefix = raw.response.clone().unwrap_or_default();
    if !response_prefixes().contains(&prefix) {
        let near: Vec<&String> = response_prefixes()
            .iter()
            .filter(|p| p.eq_ignore_ascii_case(&prefix) || p.starts_with(&prefix))
            .collect();
        return Err(format!(
            "no response line of the catalogue starts with {prefix:?}{}",
            if near.is_empty() {
                String::new()
            } else {
                format!(" (did you mean {near:?}?)")
            }
        ));
    }
    refuse_keys(
        "response",
        &[
            ("form", raw.form.is_some()),
            ("param", raw.param.is_some()),
            ("range", raw.range.is_some()),
            ("answer", raw.answer.is_some()),
            ("delay_ms", raw.delay_ms.is_some()),
            ("suppress", raw.suppress),
            ("malform", raw.malform.is_some()),
        ],
    )?;
    match raw.field_edit()? {
        Some((field, edit)) => Ok(Quirk::Response {
            prefix,
            field,
            edit,
        }),
        None => Err("say what changes: `field` with `drop: true` or `replace: <text>`".into()),
    }
}

fn urc_quirk(raw: &RawQuirk) -> Result<Quirk, String> {
    let urc = raw.urc.clone().unwrap_or_default();
    let (name, literal) = match urc.split_once(':') {
        Some((n, rest)) => (n.trim(), Some(rest.trim())),
        None => (urc.trim(), None),
    };
    let variants: Vec<_> = catalog::catalog()
        .urcs()
        .map(|(_, e)| &e.value)
        .filter(|u| u.name == name)
        .collect();
    if variants.is_empty() {
        return Err(format!("the catalogue has no URC {name}"));
    }
    let urc = match literal {
        None => name.to_string(),
        Some(lit) => {
            let mut known: Vec<&str> = Vec::new();
            for d in variants.iter().filter_map(|u| u.discriminator.as_deref()) {
                if !known.contains(&d) {
                    known.push(d);
                }
            }
            let inner = lit.strip_prefix('"').and_then(|l| l.strip_suffix('"'));
            match inner {
                Some(d) if known.contains(&d) => format!("{name}: \"{d}\""),
                _ => {
                    return Err(format!(
                    "{name} has no variant {lit} (write its first literal in double quotes: {})",
                    if known.is_empty() {
                        "it has none".to_string()
                    } else {
                        known
                            .iter()
                            .map(|k| format!("\"{k}\""))
                            .collect::<Vec<_>>()
                            .join(", ")
                    }
                ))
                }
            }
        }
    };
    refuse_keys(
        "urc",
        &[
            ("form", raw.form.is_some()),
            ("param", raw.param.is_some()),
            ("range", raw.range.is_some()),
            ("answer", raw.answer.is_some()),
            ("delay_ms", raw.delay_ms.is_some()),
        ],
    )?;
    let field = raw.field_edit()?;
    let effect = match (raw.suppress, &raw.malform, field) {
        (true, None, None) => UrcEffect::Suppress,
        (false, Some(text), None) => UrcEffect::Malform(text.clone()),
        (false, None, Some((i, edit))) => UrcEffect::Field(i, edit),
        (false, None, None) => {
            return Err(
                "say what changes: `suppress: true`, `malform: <text>`, or `field` with `drop`/`replace`"
                    .into(),
            )
        }
        _ => return Err("give one of `suppress`, `malform` or `field` per quirk".into()),
    };
    Ok(Quirk::Urc { urc, effect })
}
