//! Range quirks: the values a command line gives for a parameter, found
//! through the generated grammar, checked against the quirk's range and the
//! catalogue's.
//!
//! The grammar checks syntax only (an integer is any `int_token`); ranges
//! are checked when the typed command is built. So a line with an
//! out-of-catalogue value still matches its form's rule, and every
//! parameter occurrence is a capture rule `c_<module>_<form>__p<n>` whose
//! number the generator's plan maps to the parameter.

use std::ops::RangeInclusive;
use std::sync::OnceLock;

use fcm242d_codegen::emit::plan::{plan, CommandPlan, Plan};
use fcm242d_codegen::emit::shape::Item;
use fcm242d_codegen::model::{FormKind, Param, ParamType};
use fcm242d_codegen::params::numeric;
use fcm242d_grammar::{captures, Rule};

use crate::catalog;

/// The generator's plan of the embedded catalogue (`None` if it cannot be
/// planned, which `cargo xtask check` rules out).
pub(super) fn the_plan() -> Option<&'static Plan<'static>> {
    static PLAN: OnceLock<Option<Plan<'static>>> = OnceLock::new();
    PLAN.get_or_init(|| plan(catalog::catalog()).ok()).as_ref()
}

/// The plan of command `name`.
pub(super) fn command_plan(name: &str) -> Option<&'static CommandPlan<'static>> {
    the_plan()?.commands.iter().find(|c| c.command.name == name)
}

/// Index of the parameter each occurrence number of a form stands for.
pub(super) fn occurrence_params(items: &[Item]) -> Vec<(usize, usize)> {
    items
        .iter()
        .flat_map(Item::occurrences)
        .map(|o| (o.index, o.param))
        .collect()
}

/// The form a line of command `name` invokes, by the grammar (by its shape
/// when it matches no form's rule).
pub(super) fn form_of(line: &str, name: &str) -> Option<FormKind> {
    if let Some((form, _)) = values(line, name) {
        return Some(form);
    }
    let rest = line.get(name.len()..)?;
    Some(match rest {
        "=?" => FormKind::Test,
        "?" => FormKind::Read,
        r if r.starts_with('=') => FormKind::Write,
        _ => {
            // `AT+QX[=<a>]` has no execute form: `AT+QX` is its write form.
            let forms = &catalog::catalog().command(name)?.command.forms;
            if forms.iter().any(|f| f.kind == FormKind::Execute) {
                FormKind::Execute
            } else {
                FormKind::Write
            }
        }
    })
}

/// One parameter value in a command line.
struct Value {
    /// Index in the command's parameters.
    param: usize,
    /// Byte range of its text in the line.
    start: usize,
    end: usize,
}

/// The form a line of command `name` invokes and the parameter values it
/// gives; `None` when the line matches none of the command's form rules.
fn values(line: &str, name: &str) -> Option<(FormKind, Vec<Value>)> {
    let plan = command_plan(name)?;
    let caps = captures(Rule::command_line, "a command line", line).ok()?;
    let (first, _) = caps.first()?;
    let rule = format!("{first:?}");
    let form_index: usize = rule
        .strip_prefix(&format!("c_{}_", plan.module))?
        .parse()
        .ok()?;
    let form = plan.forms.get(form_index)?;
    let occurrences = occurrence_params(&form.shape.items);
    let capture_prefix = format!("{rule}__p");
    let base = line.as_ptr() as usize;
    let mut out = Vec::new();
    for (r, text) in &caps[1..] {
        let r = format!("{r:?}");
        let Some(n) = r
            .strip_prefix(&capture_prefix)
            .and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
        let Some(&(_, param)) = occurrences.iter().find(|(i, _)| *i == n) else {
            continue;
        };
        // Captures are slices of `line`.
        let start = (text.as_ptr() as usize).saturating_sub(base);
        out.push(Value {
            param,
            start,
            end: start + text.len(),
        });
    }
    Some((form.form.kind, out))
}

/// What a range quirk does with a command line.
pub(super) enum Verdict {
    /// Nothing to change.
    Unchanged,
    /// Dispatch this line instead: values the quirk accepts beyond the
    /// catalogue replaced by the nearest values the catalogue allows.
    Rewritten(String),
    /// A value is outside the quirk's range.
    Refused,
}

/// Applies a range quirk on parameter `param_name` of command `name`.
pub(super) fn apply(
    line: &str,
    name: &str,
    param_name: &str,
    range: RangeInclusive<i64>,
) -> Verdict {
    let Some(command) = catalog::catalog().command(name) else {
        return Verdict::Unchanged;
    };
    let params = &command.command.params;
    let Some(pi) = params.iter().position(|p| p.name == param_name) else {
        return Verdict::Unchanged;
    };
    let param = &params[pi];
    let Some((_, values)) = values(line, name) else {
        return Verdict::Unchanged;
    };
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    for v in values.iter().filter(|v| v.param == pi) {
        let text = &line[v.start..v.end];
        let Some(measure) = measure(param, text) else {
            return Verdict::Refused;
        };
        if !range.contains(&measure) {
            return Verdict::Refused;
        }
        if !catalogue_allows(param, measure) {
            edits.push((v.start, v.end, nearest_text(param, text, measure)));
        }
    }
    if edits.is_empty() {
        return Verdict::Unchanged;
    }
    let mut out = line.to_string();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    for (start, end, text) in edits {
        out.replace_range(start..end, &text);
    }
    Verdict::Rewritten(out)
}

/// The text between a value's double quotes, and whether it had them.
fn unquoted(text: &str) -> (&str, bool) {
    match text.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
        Some(inner) => (inner, true),
        None => (text, false),
    }
}

/// What a range measures: an integer's value, anything else's byte length.
fn measure(param: &Param, text: &str) -> Option<i64> {
    let (inner, _) = unquoted(text);
    if param.ty.is_numeric() {
        numeric(param.ty, &fcm242d_codegen::model::Scalar::Str(inner.into()))
    } else {
        i64::try_from(inner.len()).ok()
    }
}

/// The catalogue's inclusive ranges of a parameter: value ranges for
/// integers (any situation's), the length limits otherwise.
fn catalogue_ranges(param: &Param) -> Vec<(i64, i64)> {
    if param.ty.is_numeric() {
        let n = |s| numeric(param.ty, s);
        param
            .range
            .iter()
            .map(|r| (&r.min, &r.max))
            .chain(param.ranges_when.iter().map(|r| (&r.min, &r.max)))
            .filter_map(|(a, b)| Some((n(a)?, n(b)?)))
            .collect()
    } else {
        let as_i64 = |x: u64| i64::try_from(x).unwrap_or(i64::MAX);
        param
            .length
            .iter()
            .map(|l| (as_i64(l.min), as_i64(l.max)))
            .collect()
    }
}

/// The catalogue's single allowed values: enumeration values for
/// integers, the only allowed lengths otherwise.
fn catalogue_points(param: &Param) -> Vec<i64> {
    if param.ty.is_numeric() {
        param
            .values
            .iter()
            .filter_map(|v| numeric(param.ty, &v.value))
            .collect()
    } else {
        param
            .lengths
            .iter()
            .filter_map(|&l| i64::try_from(l).ok())
            .collect()
    }
}

/// Whether the catalogue allows `measure` (a value or a byte length).
fn catalogue_allows(param: &Param, measure: i64) -> bool {
    let ranges = catalogue_ranges(param);
    let points = catalogue_points(param);
    if !param.ty.is_numeric() && !points.is_empty() {
        // Only these lengths, within any length limits.
        return points.contains(&measure)
            && ranges.iter().all(|&(a, b)| (a..=b).contains(&measure));
    }
    if ranges.is_empty() && points.is_empty() {
        return true;
    }
    ranges.iter().any(|&(a, b)| (a..=b).contains(&measure)) || points.contains(&measure)
}

/// The allowed value (or length) nearest to `measure`.
fn nearest(param: &Param, measure: i64) -> i64 {
    let ranges = catalogue_ranges(param);
    let points = catalogue_points(param);
    let mut candidates: Vec<i64> = points.clone();
    if param.ty.is_numeric() || points.is_empty() {
        candidates.extend(ranges.iter().map(|&(a, b)| measure.clamp(a, b.max(a))));
    }
    candidates
        .into_iter()
        .min_by_key(|c| c.abs_diff(measure))
        .unwrap_or(measure)
}

/// The text of the allowed value nearest to a value, written like it.
fn nearest_text(param: &Param, text: &str, measure: i64) -> String {
    let (inner, quoted) = unquoted(text);
    let target = nearest(param, measure);
    let value = if param.ty.is_numeric() {
        if param.ty == ParamType::HexInteger {
            let prefix = if inner.starts_with("0x") || inner.starts_with("0X") {
                "0x"
            } else {
                ""
            };
            format!("{prefix}{target:X}")
        } else {
            target.to_string()
        }
    } else {
        // Cut (at a character boundary) or pad with `0` to the length.
        let len = usize::try_from(target).unwrap_or(0);
        let mut cut = len.min(inner.len());
        while !inner.is_char_boundary(cut) {
            cut -= 1;
        }
        let mut s = inner[..cut].to_string();
        while s.len() < len {
            s.push('0');
        }
        s
    };
    if quoted {
        format!("\"{value}\"")
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_parameter_values_through_the_grammar() {
        let line = r#"AT+QIOPEN=0,"TCP","192.0.2.2",8009,0,1"#;
        let (form, values) = values(line, "AT+QIOPEN").unwrap();
        assert_eq!(form, FormKind::Write);
        let params = &catalog::catalog()
            .command("AT+QIOPEN")
            .unwrap()
            .command
            .params;
        let port = params.iter().position(|p| p.name == "remote_port").unwrap();
        let v = values.iter().find(|v| v.param == port).unwrap();
        assert_eq!(&line[v.start..v.end], "8009");
        assert_eq!(form_of("AT+QIOPEN=?", "AT+QIOPEN"), Some(FormKind::Test));
        assert_eq!(
            form_of("AT+QVERSION", "AT+QVERSION"),
            Some(FormKind::Execute)
        );
    }

    #[test]
    fn wider_values_become_the_nearest_allowed_ones() {
        let line = r#"AT+QBLENAME="abcdefghijklmnopqrstuvwxyz0123""#;
        match apply(line, "AT+QBLENAME", "BLE_name", 0..=40) {
            Verdict::Rewritten(l) => assert_eq!(l, r#"AT+QBLENAME="abcdefghijklmnopqrstuvwxy""#),
            _ => panic!("not rewritten"),
        }
        assert!(matches!(
            apply("AT+QSCLK=1,40", "AT+QSCLK", "dtim", 1..=60),
            Verdict::Rewritten(l) if l == "AT+QSCLK=1,30"
        ));
        assert!(matches!(
            apply("AT+QSCLK=1,61", "AT+QSCLK", "dtim", 1..=60),
            Verdict::Refused
        ));
        assert!(matches!(
            apply("AT+QSCLK=1,5", "AT+QSCLK", "dtim", 1..=60),
            Verdict::Unchanged
        ));
    }
}
