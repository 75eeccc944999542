//! Names and shapes of everything the runtime emitters generate, computed once
//! from the catalogue so that the grammar and the bindings agree.

use std::collections::BTreeMap;

use crate::catalog::Catalog;
use crate::emit::names::{camel, command_module, snake};
use crate::emit::shape::{self, Shape};
use crate::model::{Command, Form, FormKind, Group, Line, Param, Urc};
use crate::template::{self, Node, Piece};

/// A command and its forms.
pub struct CommandPlan<'a> {
    /// The command.
    pub command: &'a Command,
    /// Its function group.
    pub group: Option<Group>,
    /// Rust module name (`qiopen`).
    pub module: String,
    /// Its forms.
    pub forms: Vec<FormPlan<'a>>,
}

/// A command form.
pub struct FormPlan<'a> {
    /// The form.
    pub form: &'a Form,
    /// Rust type name (`Write`, `Will`, `WriteConnectIdSendLength`).
    pub type_name: String,
    /// The command line's shape.
    pub shape: Shape,
    /// The distinct information-line templates of its responses.
    pub lines: Vec<LinePlan>,
}

/// A response line template.
pub struct LinePlan {
    /// The template text.
    pub template: String,
    /// Rust type name.
    pub type_name: String,
    /// Its variant in the enumeration of a form's several lines (see
    /// [`line_names`]).
    pub name: String,
    /// Its shape.
    pub shape: Shape,
    /// The parameter giving the length of a data block that follows the line.
    pub data_length: Option<String>,
    /// The catalogue's largest data block after the line, in bytes.
    pub data_max: Option<u64>,
}

/// A URC variant.
pub struct UrcPlan<'a> {
    /// The URC.
    pub urc: &'a Urc,
    /// Rust type name and `Urc` variant name (`QiurcRecvBuffer`).
    pub type_name: String,
    /// The name of its family (`QiurcRecv`): name + discriminator.
    pub kind_name: String,
    /// Its shape.
    pub shape: Shape,
    /// Its function group (the cargo feature that compiles it).
    pub group: Option<Group>,
}

/// Everything to generate.
pub struct Plan<'a> {
    /// Commands in catalogue order.
    pub commands: Vec<CommandPlan<'a>>,
    /// URC variants in catalogue order.
    pub urcs: Vec<UrcPlan<'a>>,
}

/// A problem that prevents generation (the validator lets through only specs
/// that plan cleanly, so this names a generator limitation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError(pub String);

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot generate: {}", self.0)
    }
}

impl std::error::Error for PlanError {}

fn kind_name(kind: FormKind) -> &'static str {
    match kind {
        FormKind::Test => "Test",
        FormKind::Read => "Read",
        FormKind::Write => "Write",
        FormKind::Execute => "Execute",
    }
}

/// Distinguishes several forms of one kind by what they take: `WriteConnectIdSendLength`.
fn arity_name(kind: FormKind, nodes: &[Node]) -> String {
    fn collect(nodes: &[Node], out: &mut Vec<String>) {
        for n in nodes {
            match n {
                Node::Field(pieces) => {
                    for p in pieces {
                        match p {
                            Piece::Param { name, .. } | Piece::RangeList { name } => {
                                out.push(name.clone())
                            }
                            Piece::Literal { text, .. } => out.push(text.clone()),
                        }
                    }
                }
                Node::Alternatives(names) => out.push(names.join(" or ")),
                Node::Optional { nodes, .. } => collect(nodes, out),
            }
        }
    }
    let mut parts = Vec::new();
    collect(nodes, &mut parts);
    format!("{}{}", kind_name(kind), camel(&parts.join(" ")))
}

/// In a test command's response, `<param>` placeholders are printed literally
/// (the manual's example: `+QMTOPEN: (0-5),<host_name>,(1-65535)`).
fn placeholders_literal(nodes: &[Node]) -> Vec<Node> {
    nodes
        .iter()
        .map(|n| match n {
            Node::Field(pieces) => Node::Field(
                pieces
                    .iter()
                    .map(|p| match p {
                        Piece::Param { name, quoted } => Piece::Literal {
                            text: format!("<{name}>"),
                            quoted: *quoted,
                        },
                        other => other.clone(),
                    })
                    .collect(),
            ),
            Node::Alternatives(names) => Node::Field(vec![Piece::Literal {
                text: names
                    .iter()
                    .map(|n| format!("<{n}>"))
                    .collect::<Vec<_>>()
                    .join("/"),
                quoted: false,
            }]),
            Node::Optional { nodes, repeat } => Node::Optional {
                nodes: placeholders_literal(nodes),
                repeat: *repeat,
            },
        })
        .collect()
}

fn err(context: &str, e: impl std::fmt::Debug) -> PlanError {
    PlanError(format!("{context}: {e:?}"))
}

fn line_prefix(prefix: &Option<String>) -> String {
    match prefix {
        Some(p) => format!("{p}: "),
        None => String::new(),
    }
}

fn form_lines(form: &Form) -> Vec<&Line> {
    let mut out: Vec<&Line> = Vec::new();
    for r in &form.responses {
        out.extend(r.lines.iter());
        if let Some(a) = &r.after_result {
            out.extend(a.lines.iter());
        }
    }
    out
}

/// The Rust type name of each form of a command, in form order: the
/// sub-command key, the kind, or the kind and what the form takes when a kind
/// has several forms (`WriteConnectIdSendLength`). The validator uses these to
/// keep enumeration types from taking a form's name.
pub fn form_type_names(command: &Command) -> Vec<String> {
    let mut kind_counts: BTreeMap<FormKind, usize> = BTreeMap::new();
    for f in &command.forms {
        if f.subcommand.is_none() {
            *kind_counts.entry(f.kind).or_default() += 1;
        }
    }
    let mut used_names: Vec<String> = Vec::new();
    for form in &command.forms {
        let mut type_name = match &form.subcommand {
            Some(sub) => camel(sub),
            None if kind_counts.get(&form.kind).copied().unwrap_or(0) > 1 => {
                match template::parse_command(&form.syntax) {
                    Ok(syntax) => arity_name(form.kind, &syntax.args),
                    // The validator reports the syntax; the planner refuses it.
                    Err(_) => kind_name(form.kind).to_string(),
                }
            }
            None => kind_name(form.kind).to_string(),
        };
        while used_names.contains(&type_name) {
            type_name.push('X');
        }
        used_names.push(type_name);
    }
    used_names
}

/// The type name of an information line of a form: `{form_type}Line` for a
/// form's only template, `{form_type}{name}Line` for one of several, where
/// `name` is the line's name ([`line_names`]).
pub fn line_type_name(form_type: &str, name: Option<&str>) -> String {
    format!("{form_type}{}Line", name.unwrap_or_default())
}

/// The names of a form's distinct information-line templates (CamelCase,
/// the variants of the enumeration of its lines), told apart by what the
/// catalogue says of each rather than by position: the quoted sub-command
/// key a line starts with (`+QICFG: "tcp/accept",…` is `TcpAccept`), else
/// the `case` label of the one response that prints it (`+QIRD: 0` of
/// `no_data` is `NoData`). `None` for a form with one template, and for
/// templates that neither tells apart (the validator reports those).
pub fn line_names(form: &Form) -> Option<Vec<String>> {
    let templates = line_templates(form);
    if templates.len() < 2 {
        return None;
    }
    let distinct = |names: &[String]| {
        let mut lower: Vec<String> = names.iter().map(|n| n.to_ascii_lowercase()).collect();
        lower.sort();
        lower.dedup();
        lower.len() == names.len()
    };
    let keys: Option<Vec<String>> = templates.iter().map(|t| line_key(t).map(camel)).collect();
    if let Some(keys) = keys.filter(|k| distinct(k)) {
        return Some(keys);
    }
    let cases: Option<Vec<String>> = templates
        .iter()
        .map(|t| {
            let mut labels = form.responses.iter().filter(|r| {
                let after = r.after_result.iter().flat_map(|a| a.lines.iter());
                r.lines.iter().chain(after).any(|l| l.template() == *t)
            });
            match (labels.next(), labels.next()) {
                (Some(r), None) => r.case.as_deref().map(camel),
                _ => None,
            }
        })
        .collect();
    cases.filter(|c| distinct(c))
}

/// The quoted literal a response line's arguments start with (its
/// sub-command key: `"tcp/accept"` of `+QICFG: "tcp/accept",<state>`).
fn line_key(template: &str) -> Option<&str> {
    let (_, args) = template.split_once(": ")?;
    let rest = args.strip_prefix('"')?;
    rest.split_once('"').map(|(key, _)| key)
}

/// The distinct information-line templates of a form, in order.
pub fn line_templates(form: &Form) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for line in form_lines(form) {
        if !out.contains(&line.template()) {
            out.push(line.template());
        }
    }
    out
}

/// The Rust type name of a URC variant (`QiurcRecvBuffer`) and of its family (`QiurcRecv`).
pub fn urc_type_names(u: &Urc) -> (String, String) {
    let base = camel(u.name.trim_start_matches('+'));
    let kind_name = match &u.discriminator {
        Some(d) => format!("{base}{}", camel(d)),
        None => base,
    };
    let type_name = match &u.variant {
        Some(v) => format!("{kind_name}{}", camel(v)),
        None => kind_name.clone(),
    };
    (type_name, kind_name)
}

fn plan_command<'a>(
    command: &'a Command,
    group: Option<Group>,
) -> Result<CommandPlan<'a>, PlanError> {
    let module = command_module(&command.name);
    let mut forms = Vec::new();
    let type_names = form_type_names(command);
    for ((fi, form), type_name) in command.forms.iter().enumerate().zip(type_names) {
        let syntax = template::parse_command(&form.syntax).map_err(|e| err(&form.syntax, e))?;
        let (prefix, ci) = match form.kind {
            _ if command.name == "+++" => ("+++".to_string(), false),
            FormKind::Test => (format!("{}=?", command.name), true),
            FormKind::Read => (format!("{}?", command.name), true),
            FormKind::Execute => (command.name.clone(), true),
            FormKind::Write if syntax.args_optional => (command.name.clone(), true),
            FormKind::Write => (format!("{}=", command.name), true),
        };
        let rule = format!("c_{module}_{fi}");
        // `AT+QX[=<a>]`: all arguments form one optional group.
        let args = if syntax.args_optional {
            vec![Node::Optional {
                nodes: syntax.args.clone(),
                repeat: false,
            }]
        } else {
            syntax.args.clone()
        };
        let shape = shape::build(
            rule.clone(),
            prefix,
            ci,
            syntax.args_optional,
            &args,
            &command.params,
        )
        .map_err(|e| err(&form.syntax, e))?;
        let templates = line_templates(form);
        // Positional names only where the validator has already reported
        // that the catalogue does not tell the templates apart.
        let names = line_names(form).unwrap_or_else(|| {
            (0..templates.len())
                .map(|i| format!("Template{i}"))
                .collect()
        });
        let mut lines: Vec<LinePlan> = Vec::new();
        for (li, template_text) in templates.iter().enumerate() {
            let line = form_lines(form)
                .into_iter()
                .find(|l| l.template() == *template_text)
                .expect("a template of this form");
            let parsed =
                template::parse_line(line.template()).map_err(|e| err(line.template(), e))?;
            let args = if form.kind == FormKind::Test {
                placeholders_literal(&parsed.args)
            } else {
                parsed.args.clone()
            };
            let shape = shape::build(
                format!("r_{module}_{fi}_{li}"),
                line_prefix(&parsed.prefix),
                false,
                false,
                &args,
                &command.params,
            )
            .map_err(|e| err(line.template(), e))?;
            lines.push(LinePlan {
                template: line.template().to_string(),
                type_name: line_type_name(
                    &type_name,
                    (templates.len() > 1).then(|| names[li].as_str()),
                ),
                name: names[li].clone(),
                shape,
                data_length: line.data().and_then(|d| d.length.clone()),
                data_max: line.data().and_then(|d| d.max_length),
            });
        }
        forms.push(FormPlan {
            form,
            type_name,
            shape,
            lines,
        });
    }
    Ok(CommandPlan {
        command,
        group,
        module,
        forms,
    })
}

/// Plans the whole catalogue.
pub fn plan(catalog: &Catalog) -> Result<Plan<'_>, PlanError> {
    let mut commands = Vec::new();
    for c in catalog.commands() {
        commands.push(plan_command(c.command, c.group)?);
    }
    let mut urcs = Vec::new();
    let mut used: Vec<String> = Vec::new();
    for (_, e) in catalog.urcs() {
        let u = &e.value;
        let (mut type_name, kind_name) = urc_type_names(u);
        while used.contains(&type_name) {
            type_name.push('X');
        }
        used.push(type_name.clone());
        let parsed = template::parse_line(&u.syntax).map_err(|e| err(&u.syntax, e))?;
        let shape = shape::build(
            format!("u_{}", snake(&type_name)),
            line_prefix(&parsed.prefix),
            false,
            false,
            &parsed.args,
            &u.params,
        )
        .map_err(|e| err(&u.syntax, e))?;
        urcs.push(UrcPlan {
            urc: u,
            type_name,
            kind_name,
            shape,
            group: u.group,
        });
    }
    Ok(Plan { commands, urcs })
}

/// The parameter of a scope at an occurrence.
pub fn param_of<'p>(params: &'p [Param], occ: &shape::Occ) -> &'p Param {
    &params[occ.param]
}
