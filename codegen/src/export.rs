//! The resolved catalogue as one JSON document (`cargo xtask export`).
//!
//! Downstream tools consume this instead of the YAML: names are resolved,
//! syntaxes are parsed into trees, ranges are numbers, and every key is always
//! present. The shape is documented in `spec/README.md`.

use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::model::{
    DataPhase, Erratum, FormKind, Param, Precondition, Response, ResponseTime, Rule, Scalar,
    Scenario, State, Urc,
};
use crate::params::{numeric, resolve};
use crate::template::{self, Node};

/// Version of the export format; bumped on incompatible changes.
pub const FORMAT_VERSION: u32 = 1;

/// The whole export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Export {
    /// [`FORMAT_VERSION`].
    pub format_version: u32,
    /// Every command.
    pub commands: Vec<ExportCommand>,
    /// Every URC variant.
    pub urcs: Vec<ExportUrc>,
    /// Every row of every result-code table.
    pub result_codes: Vec<ExportResultCode>,
    /// Every scenario.
    pub scenarios: Vec<Scenario>,
    /// Every erratum.
    pub errata: Vec<ExportErratum>,
}

/// An erratum, with every key present.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportErratum {
    /// Identifier.
    pub id: String,
    /// Kind (`enum_offset`, ...).
    pub kind: String,
    /// The command concerned.
    pub command: Option<String>,
    /// The URC concerned.
    pub urc: Option<String>,
    /// The scenario concerned.
    pub scenario: Option<String>,
    /// The parameter concerned.
    pub param: Option<String>,
    /// The manual's damaged or contradictory text.
    pub manual_text: String,
    /// What the catalogue decided.
    pub decision: String,
    /// Where in the manual the decision comes from.
    pub evidence: String,
    /// False when the manual gives no evidence either way.
    pub evidence_in_manual: bool,
}

impl From<&Erratum> for ExportErratum {
    fn from(e: &Erratum) -> Self {
        ExportErratum {
            id: e.id.clone(),
            kind: name_of(&e.kind),
            command: e.command.clone(),
            urc: e.urc.clone(),
            scenario: e.scenario.clone(),
            param: e.param.clone(),
            manual_text: e.manual_text.clone(),
            decision: e.decision.clone(),
            evidence: e.evidence.clone(),
            evidence_in_manual: e.evidence_in_manual,
        }
    }
}

/// A command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportCommand {
    /// `AT+QIOPEN`.
    pub name: String,
    /// Function group (`tcpip`).
    pub group: Option<String>,
    /// Safety class.
    pub safety: String,
    /// Summary.
    pub summary: String,
    /// Description.
    pub description: Option<String>,
    /// The limit in ms where the manual gives a number, else null.
    pub max_response_time_ms: Option<u64>,
    /// The limit as the manual gives it.
    pub max_response_time: ResponseTime,
    /// saved / not_saved / saved_automatically / by_param / unspecified.
    pub saved: String,
    /// immediate / after_reboot / unspecified.
    pub effect: String,
    /// The manual's characteristics text.
    pub characteristics: String,
    /// Preconditions.
    pub preconditions: Vec<Precondition>,
    /// State left behind.
    pub leaves: Option<State>,
    /// Notes.
    pub notes: Vec<String>,
    /// Erratum ids.
    pub errata: Vec<String>,
    /// Cross-parameter rules.
    pub rules: Vec<Rule>,
    /// Forms.
    pub forms: Vec<ExportForm>,
    /// Parameters.
    pub params: Vec<ExportParam>,
}

/// A command form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportForm {
    /// test / read / write / execute.
    pub kind: FormKind,
    /// The syntax in the manual's notation.
    pub syntax: String,
    /// Sub-command key.
    pub subcommand: Option<String>,
    /// The manual's text when it differs.
    pub manual_syntax: Option<String>,
    /// When the form applies.
    pub condition: Option<String>,
    /// Whether `=` and all arguments may be omitted.
    pub args_optional: bool,
    /// The parsed arguments.
    pub syntax_tree: Vec<Node>,
    /// Response variants.
    pub responses: Vec<Response>,
    /// Data phase.
    pub data_phase: Option<DataPhase>,
}

/// A parameter, resolved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportParam {
    /// Name as in the manual.
    pub name: String,
    /// Other spellings.
    pub aliases: Vec<String>,
    /// The enumeration type's snake_case name, when it is not derived from `name`.
    pub type_name: Option<String>,
    /// Type.
    #[serde(rename = "type")]
    pub ty: String,
    /// Description.
    pub description: Option<String>,
    /// Smallest value (hex integers too, as numbers).
    pub min: Option<i64>,
    /// Largest value.
    pub max: Option<i64>,
    /// Conditional ranges: `{when_text, min, max}`.
    pub ranges_when: Vec<ExportRange>,
    /// Default value.
    pub default: Option<Scalar>,
    /// Fewest bytes.
    pub min_len: Option<u64>,
    /// Most bytes.
    pub max_len: Option<u64>,
    /// The only allowed lengths.
    pub lengths: Vec<u64>,
    /// Enumeration values.
    pub values: Vec<ExportValue>,
    /// Prose for values outside the list.
    pub open_values: Option<String>,
    /// Reserved ranges.
    pub reserved: Vec<ExportRange>,
    /// Whether every form that takes it has it inside `[…]`.
    pub optional: bool,
    /// `in` (command line), `out` (responses) or `both`.
    pub direction: String,
    /// Written in double quotes.
    pub quoted: bool,
    /// Masked in logs.
    pub secret: bool,
    /// `data` printed inside a line: the parameter giving its byte count.
    pub length_from: Option<String>,
    /// Unit.
    pub unit: Option<String>,
    /// Hex integers: `0x` prefix on the wire.
    pub prefix: Option<bool>,
    /// Result table of a result code.
    pub table: Option<String>,
    /// Values from the manual's examples.
    pub examples: Vec<Scalar>,
    /// A valid value for tests when the manual gives no example.
    pub sample: Option<Scalar>,
    /// Defined but used nowhere (see its errata).
    pub unused: bool,
    /// Sub-command keys whose forms take it.
    pub subcommands: Vec<String>,
    /// Erratum ids.
    pub errata: Vec<String>,
}

/// A numeric range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportRange {
    /// When it applies (conditional ranges only).
    pub when_text: Option<String>,
    /// Smallest.
    pub min: Option<i64>,
    /// Largest.
    pub max: Option<i64>,
}

/// An enumeration value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportValue {
    /// Wire value (numbers for numeric types).
    pub value: Scalar,
    /// Short snake_case name (the generated variant is its CamelCase form).
    pub id: Option<String>,
    /// Meaning.
    pub meaning: String,
    /// Label the manual prints with it.
    pub label: Option<String>,
    /// Remedy.
    pub remedy: Option<String>,
}

/// A URC variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportUrc {
    /// Prefix.
    pub name: String,
    /// Quoted literal that tells it apart.
    pub discriminator: Option<String>,
    /// Variant label.
    pub variant: Option<String>,
    /// The line in the manual's notation.
    pub syntax: String,
    /// Parsed arguments.
    pub syntax_tree: Vec<Node>,
    /// Description.
    pub description: Option<String>,
    /// `urc_chapter` or `command`.
    pub source: String,
    /// Commands it completes.
    pub completes: Vec<String>,
    /// The parameter giving the length of a following data block.
    pub data_length_param: Option<String>,
    /// Whether a data block follows.
    pub has_data: bool,
    /// The largest data block, when the catalogue gives one.
    pub data_max_length: Option<u64>,
    /// Its place in a series of URCs that completes a command.
    pub series: Option<crate::model::Series>,
    /// Parameters.
    pub params: Vec<ExportParam>,
    /// Erratum ids.
    pub errata: Vec<String>,
}

/// A result code row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportResultCode {
    /// `tcpip` or `http`.
    pub table: String,
    /// The table's title.
    pub title: String,
    /// The code.
    pub code: i64,
    /// Short snake_case name (the generated variant is its CamelCase form).
    pub id: Option<String>,
    /// Description.
    pub description: String,
}

/// Lower-case serde name of a unit enum value.
fn name_of<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The limit in milliseconds where the manual gives a number.
pub fn response_time_ms(t: &ResponseTime) -> Option<u64> {
    match t {
        ResponseTime::Fixed { ms, .. } | ResponseTime::Network { ms, .. } => Some(*ms),
        ResponseTime::Conditional { cases, .. } => cases.iter().map(|c| c.ms).max(),
        _ => None,
    }
}

/// Where a parameter occurs in syntaxes: (in a command line, always inside `[…]`).
#[derive(Default, Clone, Copy)]
struct Occurrence {
    seen: bool,
    always_optional: bool,
}

fn walk(nodes: &[Node], params: &[Param], optional: bool, out: &mut [Occurrence]) {
    for n in nodes {
        match n {
            Node::Optional { nodes, .. } => walk(nodes, params, true, out),
            other => {
                for name in other.param_names() {
                    if let Some(r) = resolve(params, name) {
                        let o = &mut out[r.param];
                        o.always_optional = if o.seen {
                            o.always_optional && optional
                        } else {
                            optional
                        };
                        o.seen = true;
                    }
                }
            }
        }
    }
}

fn export_param(
    p: &Param,
    occurrence: Occurrence,
    in_responses: bool,
    subcommands: Vec<String>,
) -> ExportParam {
    let num = |s: &Scalar| numeric(p.ty, s);
    let default = p.default.as_ref().map(|d| match num(d) {
        Some(n) if p.ty.is_numeric() => Scalar::Int(n),
        _ => d.clone(),
    });
    ExportParam {
        name: p.name.clone(),
        aliases: p.aliases.clone(),
        type_name: p.type_name.clone(),
        ty: name_of(&p.ty),
        description: p.description.clone(),
        min: p.range.as_ref().and_then(|r| num(&r.min)),
        max: p.range.as_ref().and_then(|r| num(&r.max)),
        ranges_when: p
            .ranges_when
            .iter()
            .map(|r| ExportRange {
                when_text: Some(r.when_text.clone()),
                min: num(&r.min),
                max: num(&r.max),
            })
            .collect(),
        default,
        min_len: p.length.as_ref().map(|l| l.min),
        max_len: p.length.as_ref().map(|l| l.max),
        lengths: p.lengths.clone(),
        values: p
            .values
            .iter()
            .map(|v| ExportValue {
                value: match num(&v.value) {
                    Some(n) if p.ty.is_numeric() => Scalar::Int(n),
                    _ => v.value.clone(),
                },
                id: v.id.clone(),
                meaning: v.meaning.clone(),
                label: v.label.clone(),
                remedy: v.remedy.clone(),
            })
            .collect(),
        open_values: p.open_values.clone(),
        length_from: p.length_from.clone(),
        reserved: p
            .reserved
            .iter()
            .map(|r| ExportRange {
                when_text: None,
                min: num(&r.min),
                max: num(&r.max),
            })
            .collect(),
        optional: occurrence.seen && occurrence.always_optional,
        direction: match (occurrence.seen, in_responses) {
            (true, true) => "both",
            (true, false) => "in",
            (false, _) => "out",
        }
        .to_string(),
        quoted: p.is_quoted(),
        secret: p.secret,
        unit: p.unit.clone(),
        prefix: p.prefix,
        table: p.table.as_ref().map(name_of),
        examples: p.examples.clone(),
        sample: p.sample.clone(),
        unused: p.unused,
        subcommands,
        errata: p.errata.clone(),
    }
}

fn response_names(r: &Response) -> Vec<String> {
    let mut lines: Vec<&crate::model::Line> = r.lines.iter().collect();
    if let Some(a) = &r.after_result {
        lines.extend(a.lines.iter());
    }
    let mut out = Vec::new();
    for l in lines {
        if let Ok(parsed) = template::parse_line(l.template()) {
            out.extend(
                template::names(&parsed.args)
                    .into_iter()
                    .map(str::to_string),
            );
        }
        if let Some(len) = l.data().and_then(|d| d.length.clone()) {
            out.push(len);
        }
    }
    out.extend(r.result_param.clone());
    out
}

/// Builds the export of a validated catalogue.
pub fn export(catalog: &Catalog) -> Export {
    let commands = catalog
        .commands()
        .map(|c| {
            let cmd = c.command;
            let mut occ = vec![Occurrence::default(); cmd.params.len()];
            let mut subs: Vec<Vec<String>> = vec![Vec::new(); cmd.params.len()];
            let mut in_resp = vec![false; cmd.params.len()];
            let forms = cmd
                .forms
                .iter()
                .map(|f| {
                    let parsed = template::parse_command(&f.syntax).ok();
                    let (args_optional, tree) = parsed
                        .map(|s| (s.args_optional, s.args))
                        .unwrap_or((false, Vec::new()));
                    walk(&tree, &cmd.params, args_optional, &mut occ);
                    if let Some(key) = &f.subcommand {
                        for name in template::names(&tree) {
                            if let Some(r) = resolve(&cmd.params, name) {
                                if !subs[r.param].contains(key) {
                                    subs[r.param].push(key.clone());
                                }
                            }
                        }
                    }
                    for r in &f.responses {
                        for name in response_names(r) {
                            if let Some(res) = resolve(&cmd.params, &name) {
                                in_resp[res.param] = true;
                            }
                        }
                    }
                    ExportForm {
                        kind: f.kind,
                        syntax: f.syntax.clone(),
                        subcommand: f.subcommand.clone(),
                        manual_syntax: f.manual_syntax.clone(),
                        condition: f.condition.clone(),
                        args_optional,
                        syntax_tree: tree,
                        responses: f.responses.clone(),
                        data_phase: f.data_phase.clone(),
                    }
                })
                .collect();
            let params = cmd
                .params
                .iter()
                .enumerate()
                .map(|(i, p)| export_param(p, occ[i], in_resp[i], subs[i].clone()))
                .collect();
            ExportCommand {
                name: cmd.name.clone(),
                group: c.group.as_ref().map(name_of),
                safety: name_of(&cmd.safety),
                summary: cmd.summary.clone(),
                description: cmd.description.clone(),
                max_response_time_ms: response_time_ms(&cmd.max_response_time),
                max_response_time: cmd.max_response_time.clone(),
                saved: name_of(&cmd.characteristics.saved),
                effect: name_of(&cmd.characteristics.effect),
                characteristics: cmd.characteristics.text.clone(),
                preconditions: cmd.preconditions.clone(),
                leaves: cmd.leaves,
                notes: cmd.notes.clone(),
                errata: cmd.errata.clone(),
                rules: cmd.rules.clone(),
                forms,
                params,
            }
        })
        .collect();
    let urcs = catalog.urcs().map(|(_, e)| export_urc(&e.value)).collect();
    let result_codes = catalog
        .result_tables()
        .flat_map(|(_, e)| {
            let t = &e.value;
            t.codes.iter().map(move |c| ExportResultCode {
                table: name_of(&t.table),
                title: t.title.clone(),
                code: c.code,
                id: c.id.clone(),
                description: c.description.clone(),
            })
        })
        .collect();
    Export {
        format_version: FORMAT_VERSION,
        commands,
        urcs,
        result_codes,
        scenarios: catalog.scenarios().map(|(_, e)| e.value.clone()).collect(),
        errata: catalog
            .errata()
            .map(|(_, e)| ExportErratum::from(&e.value))
            .collect(),
    }
}

fn export_urc(u: &Urc) -> ExportUrc {
    let tree = template::parse_line(&u.syntax)
        .map(|l| l.args)
        .unwrap_or_default();
    let mut in_syntax = vec![false; u.params.len()];
    for name in template::names(&tree) {
        if let Some(r) = resolve(&u.params, name) {
            in_syntax[r.param] = true;
        }
    }
    ExportUrc {
        name: u.name.clone(),
        discriminator: u.discriminator.clone(),
        variant: u.variant.clone(),
        syntax: u.syntax.clone(),
        syntax_tree: tree.clone(),
        description: u.description.clone(),
        source: name_of(&u.source),
        completes: u.completes.clone(),
        data_length_param: u.data.as_ref().and_then(|d| d.length.clone()),
        has_data: u.data.is_some(),
        data_max_length: u.data.as_ref().and_then(|d| d.max_length),
        series: u.series.clone(),
        params: u
            .params
            .iter()
            .map(|p| {
                // URC parameters are all output; `optional` follows `[…]` in the line.
                let mut occ = [Occurrence::default()];
                walk(&tree, std::slice::from_ref(p), false, &mut occ);
                let mut e = export_param(p, Occurrence::default(), true, Vec::new());
                e.optional = occ[0].seen && occ[0].always_optional;
                e
            })
            .collect(),
        errata: u.errata.clone(),
    }
}

/// The export as pretty JSON text.
pub fn to_json(catalog: &Catalog) -> String {
    let mut s = serde_json::to_string_pretty(&export(catalog)).unwrap_or_else(|e| {
        // Serializing plain data cannot fail; keep a typed message rather than panic.
        format!("{{\"error\": \"{e}\"}}")
    });
    s.push('\n');
    s
}
