//! Coverage of the catalogue: which of its commands, forms, parameter
//! values, result codes and URCs a run exercised, as fractions and as lists
//! of what it did not.
//!
//! What counts:
//! - commands: every command of the catalogue, by name;
//! - forms: every form, by its syntax;
//! - parameter values: for every parameter that a write form sends, each
//!   enumeration value, or both ends of its range when it has no
//!   enumeration (`AT+QICFG transpktsize=1460`) — the values the generated
//!   cases probe;
//! - result codes: every final result the catalogue's responses use (`OK`,
//!   `ERROR`, `SEND OK`, `CONNECT <n>`, ...) and, for a `+CME ERROR: <err>`
//!   result whose `<err>` refers to a result-code table, every code of that
//!   table (`+CME ERROR: 701`). Codes of tables that only appear inside
//!   information lines and URCs (the TCP/IP table's 550–570) are not final
//!   results, so [`Exercised::results`] cannot hold them and they are not
//!   counted;
//! - URCs: every URC of the catalogue by name and discriminator (variants of
//!   one name and discriminator count once).
//!
//! [`Exercised`] holds strings; [`value_key`], [`urc_key`] and the result
//! spellings above are their canonical forms, and reading them is lenient
//! (case of command names, quotes around values and discriminators, hex or
//! decimal numbers, `min` / `max` for range ends and enumeration values as
//! case ids spell them (`udp_service`), `CONNECT 512` for `CONNECT <n>`).
//! [`values_in_line`] reads the values a command line sends against its
//! form, for a runner to record.

use std::collections::HashSet;

use fcm242d_codegen::model::{Command, FinalResult, Param, ParamType, Scalar};
use fcm242d_codegen::params::{numeric, resolve};
use fcm242d_codegen::template::{names, parse_command, Node, Piece};
use fcm242d_codegen::Catalog;
use serde::{Deserialize, Serialize};

use crate::outcome::{Exercised, RunReport};
use crate::report::{one_line, percent};

/// How much of one kind of catalogue item a run exercised.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Measure {
    /// Items exercised.
    pub exercised: usize,
    /// Items in the catalogue.
    pub total: usize,
    /// `exercised / total` (1.0 when the catalogue has none).
    pub fraction: f64,
    /// The items not exercised, in catalogue order.
    pub missing: Vec<String>,
    /// Entries of the run's list that match no catalogue item (a spelling
    /// the report does not understand, or something the catalogue lacks).
    /// For values: entries naming no parameter of a catalogue command (a
    /// known parameter's value that is no target is simply not counted).
    pub unmatched: Vec<String>,
}

impl Measure {
    fn new(total_labels: Vec<String>, hit: Vec<bool>, unmatched: Vec<String>) -> Measure {
        let total = total_labels.len();
        let exercised = hit.iter().filter(|h| **h).count();
        let missing = total_labels
            .into_iter()
            .zip(hit)
            .filter(|(_, h)| !h)
            .map(|(l, _)| l)
            .collect();
        Measure {
            exercised,
            total,
            // Counts are far below 2^52, so the conversion is exact.
            fraction: if total == 0 {
                1.0
            } else {
                exercised as f64 / total as f64
            },
            missing,
            unmatched,
        }
    }
}

/// Coverage of the catalogue by one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    /// Commands sent.
    pub commands: Measure,
    /// Forms (syntaxes) sent.
    pub forms: Measure,
    /// Enumeration values and range ends sent.
    pub values: Measure,
    /// Final results and `+CME ERROR` codes received.
    pub results: Measure,
    /// URCs received.
    pub urcs: Measure,
}

/// The canonical spelling of a value sent: `AT+QICFG transpktsize=1460`
/// (the value as on the wire, without quotes).
pub fn value_key(command: &str, param: &str, value: &str) -> String {
    format!("{command} {param}={}", unquote(value))
}

/// The canonical spelling of a URC seen: `+QIURC: "recv"` with a
/// discriminator, `+QIOPEN` without.
pub fn urc_key(name: &str, discriminator: Option<&str>) -> String {
    match discriminator {
        Some(d) => format!("{name}: \"{d}\""),
        None => name.to_string(),
    }
}

/// What one argument position of a form holds.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Slot {
    /// A single parameter.
    Param(String),
    /// Something else: a literal (a sub-command key), alternatives, or a
    /// field mixing text and parameters.
    Other,
}

/// The argument positions of `nodes` in order, optional groups flattened;
/// also the positions of the last repeating group, which a line may give
/// any number of times.
fn slots(nodes: &[Node], out: &mut Vec<Slot>, repeat: &mut Vec<Slot>) {
    for node in nodes {
        match node {
            Node::Field(pieces) => out.push(match pieces.as_slice() {
                [Piece::Param { name, .. }] => Slot::Param(name.clone()),
                _ => Slot::Other,
            }),
            Node::Alternatives(_) => out.push(Slot::Other),
            Node::Optional { nodes, repeat: r } => {
                let start = out.len();
                slots(nodes, out, repeat);
                if *r {
                    *repeat = out[start..].to_vec();
                }
            }
        }
    }
}

/// Splits the arguments of a command line at commas outside double quotes.
fn fields(args: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in args.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(&args[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&args[start..]);
    out
}

/// The values a command line sends, as [`value_key`]s, read positionally
/// against its form's syntax (`AT+QICFG="transpktsize"[,<transpktsize>]` and
/// `AT+QICFG="transpktsize",1460` give `AT+QICFG transpktsize=1460`).
/// Positions holding literals or alternatives give nothing. A runner records
/// these for the lines the module accepted, so the values a baseline line
/// sends count too. A line that does not start with the form's command
/// gives nothing, and the values of secret parameters (passwords, keys) are
/// left out.
pub fn values_in_line(form_syntax: &str, line: &str) -> Vec<String> {
    let Ok(syntax) = parse_command(form_syntax) else {
        return Vec::new();
    };
    let line = line.trim_end_matches(['\r', '\n']);
    let Some(head) = line.get(..syntax.name.len()) else {
        return Vec::new();
    };
    if !head.eq_ignore_ascii_case(&syntax.name) {
        return Vec::new();
    }
    let Some(args) = line[syntax.name.len()..].strip_prefix('=') else {
        return Vec::new();
    };
    if args == "?" {
        return Vec::new();
    }
    let (mut positions, mut repeat) = (Vec::new(), Vec::new());
    slots(&syntax.args, &mut positions, &mut repeat);
    let given = fields(args);
    while given.len() > positions.len() && !repeat.is_empty() {
        positions.extend(repeat.iter().cloned());
    }
    let command = fcm242d_sim::catalog::catalog().command(&syntax.name);
    let secret = |name: &str| {
        command.is_some_and(|c| {
            resolve(&c.command.params, name).is_some_and(|r| c.command.params[r.param].secret)
        })
    };
    given
        .iter()
        .zip(&positions)
        .filter_map(|(value, slot)| match slot {
            // Secrets never reach a report.
            Slot::Param(name) if !value.trim().is_empty() && !secret(name) => {
                Some(value_key(&syntax.name, name, value))
            }
            _ => None,
        })
        .collect()
}

fn unquote(v: &str) -> &str {
    let v = v.trim();
    v.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(v)
}

/// Coverage of the embedded catalogue by `report`.
pub fn compute(report: &RunReport) -> Coverage {
    compute_with(fcm242d_sim::catalog::catalog(), &report.exercised)
}

/// Coverage of `catalog` by what a run exercised.
pub fn compute_with(catalog: &Catalog, exercised: &Exercised) -> Coverage {
    Coverage {
        commands: commands(catalog, &exercised.commands),
        forms: forms(catalog, &exercised.forms),
        values: values(catalog, &exercised.values),
        results: results(catalog, &exercised.results),
        urcs: urcs(catalog, &exercised.urcs),
    }
}

/// Matches targets against seen entries: `matches(target, seen)`.
fn measure<T>(
    targets: Vec<(String, T)>,
    seen: &[String],
    matches: impl Fn(&T, &str) -> bool,
) -> Measure {
    let mut hit = vec![false; targets.len()];
    let mut unmatched = Vec::new();
    for s in seen {
        let mut any = false;
        for (i, (_, t)) in targets.iter().enumerate() {
            if matches(t, s) {
                hit[i] = true;
                any = true;
            }
        }
        if !any && !unmatched.contains(s) {
            unmatched.push(s.clone());
        }
    }
    Measure::new(
        targets.into_iter().map(|(l, _)| l).collect(),
        hit,
        unmatched,
    )
}

fn commands(catalog: &Catalog, seen: &[String]) -> Measure {
    let targets = catalog
        .commands()
        .map(|c| (c.command.name.clone(), c.command.name.clone()))
        .collect();
    measure(targets, seen, |name: &String, s| {
        name.eq_ignore_ascii_case(s.trim())
    })
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

fn forms(catalog: &Catalog, seen: &[String]) -> Measure {
    let mut targets = Vec::new();
    let mut known = HashSet::new();
    for c in catalog.commands() {
        for f in &c.command.forms {
            if known.insert(f.syntax.clone()) {
                targets.push((f.syntax.clone(), squeeze(&f.syntax)));
            }
        }
    }
    measure(targets, seen, |syntax: &String, s| *syntax == squeeze(s))
}

/// A parameter value reduced for comparison: numbers by value, other
/// types as written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ValueKey {
    Number(i64),
    Text(String),
}

fn value_of(ty: ParamType, raw: &Scalar) -> ValueKey {
    match numeric(ty, raw) {
        Some(n) if ty.is_numeric() => ValueKey::Number(n),
        _ => ValueKey::Text(raw.to_string()),
    }
}

/// One value target: the command, the parameter's index, the value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ValueTarget {
    command: String,
    param: usize,
    value: ValueKey,
}

/// The parameters that a write form of `command` sends, by index.
fn sent_params(command: &Command) -> Vec<usize> {
    let mut out: Vec<usize> = Vec::new();
    for form in &command.forms {
        let Ok(syntax) = parse_command(&form.syntax) else {
            continue;
        };
        for name in names(&syntax.args) {
            if let Some(r) = resolve(&command.params, name) {
                if !out.contains(&r.param) {
                    out.push(r.param);
                }
            }
        }
    }
    out
}

/// The values a parameter is exercised at: its enumeration values, or the
/// ends of its range when it has no enumeration (the same values the
/// generated cases send), without repeats.
fn param_values(p: &Param) -> Vec<(String, ValueKey)> {
    let mut out: Vec<(String, ValueKey)> = Vec::new();
    let candidates: Vec<&Scalar> = if p.values.is_empty() {
        p.range.iter().flat_map(|r| [&r.min, &r.max]).collect()
    } else {
        p.values.iter().map(|v| &v.value).collect()
    };
    for raw in candidates {
        let key = value_of(p.ty, raw);
        if !out.iter().any(|(_, k)| *k == key) {
            out.push((raw.to_string(), key));
        }
    }
    out
}

/// Lower-case letters and digits, everything else `_`, trimmed: the
/// spelling of values in case ids (`"UDP SERVICE"` → `udp_service`).
fn slug(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    s.trim_matches('_').to_string()
}

/// Reads a value sent for `p`: the wire value (numbers compared by value),
/// `min` / `max` for the ends of its range, or an enumeration value's slug
/// as case ids spell it.
fn read_value(p: &Param, raw: &str) -> ValueKey {
    let direct = value_of(p.ty, &Scalar::Str(raw.to_string()));
    let known = param_values(p);
    if known.iter().any(|(_, k)| *k == direct) {
        return direct;
    }
    if let Some(r) = p.range.as_ref().filter(|_| p.ty.is_numeric()) {
        let end = if raw.eq_ignore_ascii_case("min") {
            Some(&r.min)
        } else if raw.eq_ignore_ascii_case("max") {
            Some(&r.max)
        } else {
            None
        };
        if let Some(end) = end {
            return value_of(p.ty, end);
        }
    }
    let wanted = slug(raw);
    known
        .into_iter()
        .find(|(label, _)| !wanted.is_empty() && slug(label) == wanted)
        .map(|(_, k)| k)
        .unwrap_or(direct)
}

fn values(catalog: &Catalog, seen: &[String]) -> Measure {
    let mut targets = Vec::new();
    for c in catalog.commands() {
        let command = c.command;
        for index in sent_params(command) {
            let p = &command.params[index];
            if p.unused {
                continue;
            }
            for (label, value) in param_values(p) {
                targets.push((
                    value_key(&command.name, &p.name, &label),
                    ValueTarget {
                        command: command.name.clone(),
                        param: index,
                        value,
                    },
                ));
            }
        }
    }
    // Read each seen entry once against the catalogue, then compare keys.
    let parsed: Vec<(String, Option<ValueTarget>)> = seen
        .iter()
        .map(|s| (s.clone(), parse_value(catalog, s)))
        .collect();
    let mut hit = vec![false; targets.len()];
    let mut unmatched = Vec::new();
    for (raw, key) in &parsed {
        let mut any = false;
        if let Some(key) = key {
            for (i, (_, t)) in targets.iter().enumerate() {
                if t == key {
                    hit[i] = true;
                    any = true;
                }
            }
        }
        // A value of a known parameter that is no target (a free string, a
        // value inside a range) is not a stranger to the catalogue.
        if !any && key.is_none() && !unmatched.contains(raw) {
            unmatched.push(raw.clone());
        }
    }
    Measure::new(
        targets.into_iter().map(|(l, _)| l).collect(),
        hit,
        unmatched,
    )
}

/// Reads `AT+QICFG transpktsize=1460` against the catalogue.
fn parse_value(catalog: &Catalog, s: &str) -> Option<ValueTarget> {
    let (command, rest) = s.trim().split_once(char::is_whitespace)?;
    let (param, value) = rest.trim().split_once('=')?;
    let c = catalog
        .commands()
        .find(|c| c.command.name.eq_ignore_ascii_case(command))?
        .command;
    let index = resolve(&c.params, param.trim())?.param;
    Some(ValueTarget {
        command: c.name.clone(),
        param: index,
        value: read_value(&c.params[index], unquote(value)),
    })
}

/// A result-code target.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ResultTarget {
    /// A final result written exactly so (`OK`, `SEND OK`).
    Exact(String),
    /// `CONNECT <n>`: `CONNECT` and a number.
    ConnectN,
    /// `+CME ERROR: <code>` with this code.
    Cme(i64),
    /// `+CME ERROR: <err>` with any code (no table for `<err>`).
    AnyCme,
}

/// How a final result without a parameter is written; `None` for `+CME
/// ERROR: <err>`, `CONNECT <n>` and no result.
pub(crate) fn final_spelling(r: FinalResult) -> Option<&'static str> {
    Some(match r {
        FinalResult::Ok => "OK",
        FinalResult::Error => "ERROR",
        FinalResult::SendOk => "SEND OK",
        FinalResult::SendFail => "SEND FAIL",
        FinalResult::Connect => "CONNECT",
        FinalResult::NoCarrier => "NO CARRIER",
        FinalResult::ConnectN | FinalResult::CmeError | FinalResult::None => return None,
    })
}

fn results(catalog: &Catalog, seen: &[String]) -> Measure {
    let mut targets: Vec<(String, ResultTarget)> = Vec::new();
    let mut add = |label: String, t: ResultTarget| {
        if !targets.iter().any(|(_, x)| *x == t) {
            targets.push((label, t));
        }
    };
    for c in catalog.commands() {
        for response in c.command.forms.iter().flat_map(|f| &f.responses) {
            let second = response.after_result.as_ref().and_then(|a| a.result);
            for result in std::iter::once(response.result).chain(second) {
                match result {
                    FinalResult::ConnectN => add("CONNECT <n>".to_string(), ResultTarget::ConnectN),
                    FinalResult::CmeError => {
                        let table = response
                            .result_param
                            .as_deref()
                            .and_then(|name| resolve(&c.command.params, name))
                            .and_then(|r| c.command.params[r.param].table);
                        let codes = table.and_then(|id| {
                            catalog
                                .result_tables()
                                .find(|(_, t)| t.value.table == id)
                                .map(|(_, t)| &t.value.codes)
                        });
                        match codes {
                            Some(codes) => {
                                // 0 is the table's "Operation success",
                                // never a refusal.
                                for code in codes.iter().filter(|c| c.code != 0) {
                                    add(
                                        format!("+CME ERROR: {}", code.code),
                                        ResultTarget::Cme(code.code),
                                    );
                                }
                            }
                            None => add("+CME ERROR: <err>".to_string(), ResultTarget::AnyCme),
                        }
                    }
                    other => {
                        if let Some(s) = final_spelling(other) {
                            add(s.to_string(), ResultTarget::Exact(s.to_string()));
                        }
                    }
                }
            }
        }
    }
    measure(targets, seen, |t: &ResultTarget, s| {
        let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
        let upper = s.to_ascii_uppercase();
        let cme = upper
            .strip_prefix("+CME ERROR:")
            .map(|code| code.trim().parse::<i64>().ok());
        match t {
            ResultTarget::Exact(e) => upper == *e,
            ResultTarget::ConnectN => upper
                .strip_prefix("CONNECT ")
                .is_some_and(|n| n.parse::<u64>().is_ok() || n == "<N>"),
            // A table code counts as a refusal's `+CME ERROR` and as the
            // `<err>` a URC reports (`+QHTTPGET: 722`).
            ResultTarget::Cme(code) => cme == Some(Some(*code)) || upper == format!("CODE {code}"),
            ResultTarget::AnyCme => cme.is_some(),
        }
    })
}

/// Reads `+QIURC: "recv"` (or `+QIURC "recv"`, `+QIURC: recv,0`) as the
/// URC's name and the first field after it.
fn parse_urc(s: &str) -> (String, Option<String>) {
    let s = s.trim();
    let end = s
        .find(|c: char| c == ':' || c.is_whitespace())
        .unwrap_or(s.len());
    let name = s[..end].to_ascii_uppercase();
    let rest = s[end..].trim_start_matches(':').trim();
    if rest.is_empty() {
        return (name, None);
    }
    let first = match rest.strip_prefix('"') {
        Some(quoted) => quoted.split('"').next().unwrap_or(""),
        None => rest.split(',').next().unwrap_or("").trim(),
    };
    (name, Some(first.to_string()))
}

fn urcs(catalog: &Catalog, seen: &[String]) -> Measure {
    let mut targets: Vec<(String, (String, Option<String>))> = Vec::new();
    for (_, e) in catalog.urcs() {
        let key = (
            e.value.name.to_ascii_uppercase(),
            e.value.discriminator.clone(),
        );
        if !targets.iter().any(|(_, k)| *k == key) {
            targets.push((
                urc_key(&e.value.name, e.value.discriminator.as_deref()),
                key,
            ));
        }
    }
    measure(targets, seen, |(name, disc), s| {
        let (seen_name, seen_first) = parse_urc(s);
        if *name != seen_name {
            return false;
        }
        match disc {
            // A URC without a discriminator is told by its name alone.
            None => true,
            Some(d) => seen_first.is_some_and(|f| f.eq_ignore_ascii_case(d)),
        }
    })
}

fn section(out: &mut String, title: &str, m: &Measure) {
    out.push_str(&format!(
        "{title:<18} {:>5} / {:<5} {:>7}\n",
        m.exercised,
        m.total,
        percent(m.exercised, m.total)
    ));
}

fn missing(out: &mut String, title: &str, m: &Measure) {
    if !m.missing.is_empty() {
        out.push_str(&format!("\n{title} not exercised ({}):\n", m.missing.len()));
        for item in &m.missing {
            out.push_str(&format!("  {}\n", one_line(item)));
        }
    }
    if !m.unmatched.is_empty() {
        out.push_str(&format!(
            "\n{title} exercised but not in the catalogue ({}):\n",
            m.unmatched.len()
        ));
        for item in &m.unmatched {
            out.push_str(&format!("  {}\n", one_line(item)));
        }
    }
}

/// The coverage as plain text: a table of fractions, then the lists of what
/// was not exercised.
pub fn render(c: &Coverage) -> String {
    let mut out = String::from("Coverage of the catalogue\n");
    section(&mut out, "commands", &c.commands);
    section(&mut out, "forms", &c.forms);
    section(&mut out, "parameter values", &c.values);
    section(&mut out, "result codes", &c.results);
    section(&mut out, "URCs", &c.urcs);
    missing(&mut out, "Commands", &c.commands);
    missing(&mut out, "Forms", &c.forms);
    missing(&mut out, "Parameter values", &c.values);
    missing(&mut out, "Result codes", &c.results);
    missing(&mut out, "URCs", &c.urcs);
    out
}

/// The result-table codes a URC line reports in its `<err>` field
/// (`+QHTTPGET: 722` gives `code 722`; success, 0, is not counted).
pub fn codes_in_urc(line: &str) -> Option<String> {
    for (prefix, discriminator, index) in crate::generated::cases::URC_CODE_FIELDS {
        let Some(rest) = line.strip_prefix(prefix) else {
            continue;
        };
        if !rest.starts_with(discriminator) {
            continue;
        }
        let field = crate::lists::fields(rest).get(*index)?.trim().to_string();
        let code: i64 = field.parse().ok()?;
        // Only the codes a refusal can carry (the tables of the commands
        // that answer `+CME ERROR`) are coverage targets.
        let refusal_code = crate::generated::cases::CME_CODES
            .iter()
            .any(|(_, codes)| codes.contains(&code));
        return (code != 0 && refusal_code).then(|| format!("code {code}"));
    }
    None
}

#[cfg(test)]
mod urc_code_tests {
    use super::codes_in_urc;

    #[test]
    fn a_urc_reports_its_table_code() {
        assert_eq!(codes_in_urc("+QHTTPGET: 722").as_deref(), Some("code 722"));
        assert_eq!(codes_in_urc("+QHTTPGET: 0,200,12"), None);
        assert_eq!(codes_in_urc("+QIURC: \"recv\",1,5"), None);
        assert_eq!(codes_in_urc("+QVERSION: 722"), None);
    }
}
