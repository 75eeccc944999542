//! The pest grammar: one rule per command form (host → module), per response
//! line template and per URC variant (module → host), plus final results.
//! Every parameter occurrence is its own capture rule `<rule>__p<n>`, which is
//! how the generated decoders find each field.

use std::fmt::Write as _;

use crate::emit::plan::{param_of, Plan};
use crate::emit::shape::{Item, Occ, PieceShape, Shape};
use crate::model::{Param, ParamType};

/// A pest string literal.
pub fn lit(text: &str) -> String {
    let mut s = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\r' => s.push_str("\\r"),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

/// The token rule a parameter occurrence matches (shared with the generated
/// byte-level decoder, which scans the same tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    /// `int_token`
    Int,
    /// `hex_token`
    Hex,
    /// `"\"" ~ ipv4_token ~ "\""`
    QuotedIpv4,
    /// `ipv4_token`
    Ipv4,
    /// `quoted_token`
    Quoted,
    /// `rest_token`
    Rest,
    /// `bare_token`
    Bare,
    /// `framed_token`
    Framed,
    /// `range_token`
    Range,
}

impl Tok {
    /// The token as pest writes it.
    pub fn pest(self) -> &'static str {
        match self {
            Tok::Int => "int_token",
            Tok::Hex => "hex_token",
            Tok::QuotedIpv4 => "\"\\\"\" ~ ipv4_token ~ \"\\\"\"",
            Tok::Ipv4 => "ipv4_token",
            Tok::Quoted => "quoted_token",
            Tok::Rest => "rest_token",
            Tok::Bare => "bare_token",
            Tok::Framed => "framed_token",
            Tok::Range => "range_token",
        }
    }

    /// The runtime's token of the scanner (`fcm242d::scan::Token`).
    pub fn scanner(self) -> &'static str {
        match self {
            Tok::Int => "Token::Int",
            Tok::Hex => "Token::Hex",
            Tok::QuotedIpv4 => "Token::QuotedIpv4",
            Tok::Ipv4 => "Token::Ipv4",
            Tok::Quoted => "Token::Quoted",
            Tok::Rest => "Token::Rest",
            Tok::Bare => "Token::Bare",
            Tok::Framed => "Token::Framed",
            Tok::Range => "Token::Range",
        }
    }
}

/// The token a parameter occurrence matches.
fn token(p: &Param, occ: &Occ) -> Tok {
    let quoted = p.is_quoted() || occ.quoted_in_template;
    match p.ty {
        // Framed by a length field: anything up to the line's end.
        ParamType::Data if p.length_from.is_some() => Tok::Framed,
        ParamType::Integer | ParamType::ResultCode => Tok::Int,
        ParamType::HexInteger => Tok::Hex,
        ParamType::Ipv4 if quoted => Tok::QuotedIpv4,
        ParamType::Ipv4 => Tok::Ipv4,
        _ if quoted => Tok::Quoted,
        _ if occ.last => Tok::Rest,
        _ => Tok::Bare,
    }
}

/// The token of occurrence `occ` of `shape`.
pub fn occ_token(shape: &Shape, params: &[Param], occ: &Occ) -> Tok {
    if matches!(find_piece(&shape.items, occ.index), Some(true)) {
        Tok::Range
    } else {
        token(param_of(params, occ), occ)
    }
}

fn occ_rule(shape: &Shape, occ: &Occ) -> String {
    format!("{}__p{}", shape.rule, occ.index)
}

fn pieces(shape: &Shape, pieces: &[PieceShape]) -> String {
    pieces
        .iter()
        .map(|p| match p {
            PieceShape::Lit { text, quoted: true } => lit(&format!("\"{text}\"")),
            PieceShape::Lit {
                text,
                quoted: false,
            } => lit(text),
            PieceShape::Param(o) | PieceShape::RangeList(o) => occ_rule(shape, o),
        })
        .collect::<Vec<_>>()
        .join(" ~ ")
}

fn seq(shape: &Shape, items: &[Item], first_has_comma: bool) -> String {
    let mut parts = Vec::new();
    for (k, item) in items.iter().enumerate() {
        let comma = if k > 0 || first_has_comma {
            "\",\" ~ "
        } else {
            ""
        };
        parts.push(match item {
            Item::Field(ps) => format!("{comma}{}", pieces(shape, ps)),
            Item::Alt(a, b) => format!("{comma}({} | {})", occ_rule(shape, a), occ_rule(shape, b)),
            Item::Optional {
                repeat: false,
                group,
                ..
            } => {
                // Each optional group is its own rule, so a decoder sees whether it was there.
                format!("({})?", flag_rule(shape, *group))
            }
            Item::Optional { items, repeat, .. } => {
                let inner = seq(shape, items, k > 0 || first_has_comma);
                format!("({inner}){}", if *repeat { "*" } else { "?" })
            }
        });
    }
    parts.join(" ~ ")
}

/// The rule that marks a literal-only optional group as present.
pub fn flag_rule(shape: &Shape, group: usize) -> String {
    format!("{}__g{group}", shape.rule)
}

/// Definitions of the optional groups' rules.
fn flag_rules(out: &mut String, shape: &Shape, items: &[Item], first_has_comma: bool) {
    for (k, item) in items.iter().enumerate() {
        if let Item::Optional {
            items: inner,
            repeat: false,
            group,
        } = item
        {
            let comma = k > 0 || first_has_comma;
            let _ = writeln!(
                out,
                "{} = ${{ {} }}",
                flag_rule(shape, *group),
                seq(shape, inner, comma)
            );
            flag_rules(out, shape, inner, comma);
        }
    }
}

fn prefix(shape: &Shape) -> String {
    if shape.prefix.is_empty() {
        return String::new();
    }
    let l = lit(&shape.prefix);
    if shape.prefix_case_insensitive {
        format!("^{l}")
    } else {
        l
    }
}

/// The rule of a whole line plus one capture rule per parameter occurrence.
fn rules(out: &mut String, shape: &Shape, params: &[Param], doc: &str) {
    let _ = writeln!(out, "/// {}", doc.replace('\n', " "));
    let mut body = prefix(shape);
    let args = match shape.items.as_slice() {
        [Item::Optional {
            repeat: false,
            group,
            ..
        }] if shape.args_optional => flag_rule(shape, *group),
        items => seq(shape, items, false),
    };
    if shape.args_optional {
        body = format!("{body} ~ (\"=\" ~ {args})?");
    } else if !args.is_empty() {
        body = if body.is_empty() {
            args
        } else {
            format!("{body} ~ {args}")
        };
    }
    if body.is_empty() {
        body = "\"\"".into();
    }
    let _ = writeln!(out, "{} = ${{ SOI ~ {body} ~ EOI }}", shape.rule);
    flag_rules(out, shape, &shape.items, false);
    for item in &shape.items {
        for occ in item.occurrences() {
            let tok = occ_token(shape, params, occ).pest();
            let _ = writeln!(out, "{} = @{{ {tok} }}", occ_rule(shape, occ));
        }
    }
    out.push('\n');
}

/// Whether the occurrence is a `(list of supported …)` range listing.
pub fn find_piece(items: &[Item], index: usize) -> Option<bool> {
    for item in items {
        match item {
            Item::Field(ps) => {
                for p in ps {
                    match p {
                        PieceShape::RangeList(o) if o.index == index => return Some(true),
                        PieceShape::Param(o) if o.index == index => return Some(false),
                        _ => {}
                    }
                }
            }
            Item::Alt(a, b) if a.index == index || b.index == index => return Some(false),
            Item::Alt(..) => {}
            Item::Optional { items, .. } => {
                if let Some(r) = find_piece(items, index) {
                    return Some(r);
                }
            }
        }
    }
    None
}

const HEADER: &str = r#"// @generated by cargo xtask gen from spec/ — do not edit.
//
// The AT command grammar of the FCM242D / FGM842D modules. Each command form,
// response line and URC variant of the catalogue has a rule that matches one
// whole line (without its line ending); `command_line`, `response_line`,
// `urc_line`, `final_result` and `module_line` choose among them. Every
// parameter occurrence is a capture rule named `<rule>__p<n>`.

int_token = @{ "-"? ~ ASCII_DIGIT+ }
hex_token = @{ ("0x" | "0X")? ~ ASCII_HEX_DIGIT+ }
ipv4_token = @{ ASCII_DIGIT{1,3} ~ ("." ~ ASCII_DIGIT{1,3}){3} }
quoted_token = @{ "\"" ~ (!("\"" | "\r" | "\n") ~ ANY)* ~ "\"" }
bare_token = @{ (!("," | "\r" | "\n") ~ ANY)* }
rest_token = @{ (!("\r" | "\n") ~ ANY)* }
framed_token = @{ "\"" ~ (!("\"" ~ EOI) ~ ANY)* ~ "\"" | (!EOI ~ ANY)* }
range_token = @{ "(" ~ (!(")" | "\r" | "\n") ~ ANY)* ~ ")" | (!("," | "\r" | "\n") ~ ANY)+ }

/// OK
final_ok = { "OK" }
/// ERROR
final_error = { "ERROR" }
/// +CME ERROR: <err>
final_cme_error = ${ "+CME ERROR: " ~ final_cme_error__code }
final_cme_error__code = @{ int_token }
/// SEND OK
final_send_ok = { "SEND OK" }
/// SEND FAIL
final_send_fail = { "SEND FAIL" }
/// CONNECT <n>
final_connect_n = ${ "CONNECT " ~ final_connect_n__length }
final_connect_n__length = @{ int_token }
/// CONNECT
final_connect = { "CONNECT" }
/// NO CARRIER
final_no_carrier = { "NO CARRIER" }
/// Any final result code, as a whole line.
final_result = ${ SOI ~ (final_ok | final_error | final_cme_error | final_send_ok | final_send_fail | final_connect_n | final_connect | final_no_carrier) ~ EOI }

"#;

/// Renders the grammar.
pub fn render(plan: &Plan<'_>) -> String {
    let mut out = String::from(HEADER);
    let mut commands = Vec::new();
    let mut responses = Vec::new();
    let mut urcs = Vec::new();
    out.push_str("// ---- commands (host → module) ----\n\n");
    for c in &plan.commands {
        for f in &c.forms {
            rules(
                &mut out,
                &f.shape,
                &c.command.params,
                &format!("{}: {}", c.command.name, f.form.syntax),
            );
            commands.push(f.shape.rule.clone());
        }
    }
    out.push_str("// ---- response lines (module → host) ----\n\n");
    for c in &plan.commands {
        for f in &c.forms {
            for l in &f.lines {
                rules(
                    &mut out,
                    &l.shape,
                    &c.command.params,
                    &format!("{} {}: {}", c.command.name, f.type_name, l.template),
                );
                responses.push(l.shape.rule.clone());
            }
        }
    }
    out.push_str("// ---- URCs (module → host) ----\n\n");
    for u in &plan.urcs {
        rules(&mut out, &u.shape, &u.urc.params, &u.urc.syntax);
        urcs.push(u.shape.rule.clone());
    }
    let _ = writeln!(out, "/// Any command line of the catalogue.");
    let _ = writeln!(out, "command_line = _{{ {} }}\n", commands.join(" | "));
    let _ = writeln!(out, "/// Any information line of any command's responses.");
    let _ = writeln!(out, "response_line = _{{ {} }}\n", responses.join(" | "));
    let _ = writeln!(out, "/// Any URC variant.");
    let _ = writeln!(out, "urc_line = _{{ {} }}\n", urcs.join(" | "));
    let _ = writeln!(
        out,
        "/// Any line a module may send: a final result, a URC or a response line."
    );
    let _ = writeln!(
        out,
        "module_line = _{{ final_result | urc_line | response_line }}"
    );
    out
}
