//! The byte-level decoder: for every line rule of the grammar (command forms,
//! response lines, URC variants) a matcher that walks the line once and
//! records the same captures as the pest rule, built from the runtime's
//! scanners and combinators (`fcm242d::scan`). It is emitted from the same
//! [`Shape`]s, item by item, as the grammar (`emit::grammar`), so the two
//! describe one language; the runtime's differential test checks that they
//! accept the same lines with the same captures.

use std::fmt::Write as _;

use crate::emit::grammar::occ_token;
use crate::emit::plan::{Plan, PlanError};
use crate::emit::shape::{Item, Occ, PieceShape, Shape};
use crate::model::Param;

/// A Rust byte-string literal for `text`.
fn bytes(text: &str) -> String {
    let mut s = String::from("b\"");
    for b in text.bytes() {
        match b {
            b'"' => s.push_str("\\\""),
            b'\\' => s.push_str("\\\\"),
            0x20..=0x7e => s.push(b as char),
            _ => {
                let _ = write!(s, "\\x{b:02x}");
            }
        }
    }
    s.push('"');
    s
}

/// A capture of occurrence `o`.
fn cap(shape: &Shape, params: &[Param], o: &Occ) -> String {
    format!(
        "scan::cap(c, {}, p, scan::{})",
        o.index,
        occ_token(shape, params, o).scanner()
    )
}

/// Statements that advance `p` over `pieces` (one field).
fn pieces(out: &mut String, shape: &Shape, params: &[Param], pieces: &[PieceShape]) {
    for piece in pieces {
        match piece {
            PieceShape::Lit { text, quoted: true } => {
                let _ = writeln!(
                    out,
                    "let p = scan::lit(c, p, {})?;",
                    bytes(&format!("\"{text}\""))
                );
            }
            PieceShape::Lit {
                text,
                quoted: false,
            } => {
                let _ = writeln!(out, "let p = scan::lit(c, p, {})?;", bytes(text));
            }
            PieceShape::Param(o) | PieceShape::RangeList(o) => {
                let _ = writeln!(out, "let p = {}?;", cap(shape, params, o));
            }
        }
    }
}

/// Statements for a sequence of items, as `emit::grammar`'s `seq` writes it.
fn seq(out: &mut String, shape: &Shape, params: &[Param], items: &[Item], first_has_comma: bool) {
    for (k, item) in items.iter().enumerate() {
        let comma = k > 0 || first_has_comma;
        let comma_stmt = "let p = scan::lit(c, p, b\",\")?;\n";
        match item {
            Item::Field(ps) => {
                if comma {
                    out.push_str(comma_stmt);
                }
                pieces(out, shape, params, ps);
            }
            Item::Alt(a, b) => {
                if comma {
                    out.push_str(comma_stmt);
                }
                let _ = writeln!(
                    out,
                    "let p = scan::alt(c, p, |c, p| {}, |c, p| {})?;",
                    cap(shape, params, a),
                    cap(shape, params, b)
                );
            }
            Item::Optional {
                repeat: false,
                group,
                ..
            } => {
                let _ = writeln!(
                    out,
                    "let p = scan::opt(c, p, |c, p| {});",
                    group_expr(shape, params, items, k, first_has_comma, *group)
                );
            }
            Item::Optional {
                items: inner,
                repeat: true,
                ..
            } => {
                let mut body = String::new();
                seq(&mut body, shape, params, inner, comma);
                let _ = writeln!(
                    out,
                    "let p = scan::star(c, p, |c, p| {{ {body} Some(p) }});"
                );
            }
        }
    }
}

/// The expression matching optional group `group` (item `k` of `items`) as
/// its own capture, like the grammar's `<rule>__g<n>` rule.
fn group_expr(
    shape: &Shape,
    params: &[Param],
    items: &[Item],
    k: usize,
    first_has_comma: bool,
    group: usize,
) -> String {
    let Some(Item::Optional { items: inner, .. }) = items.get(k) else {
        return String::from("None");
    };
    let mut body = String::new();
    seq(&mut body, shape, params, inner, k > 0 || first_has_comma);
    format!("scan::group(c, scan::GROUP | {group}, p, |c, p| {{ {body} Some(p) }})")
}

/// The matcher function of one line rule.
fn matcher(out: &mut String, shape: &Shape, params: &[Param], doc: &str) {
    let mut body = String::new();
    if !shape.prefix.is_empty() {
        let f = if shape.prefix_case_insensitive {
            "lit_ci"
        } else {
            "lit"
        };
        let _ = writeln!(body, "let p = scan::{f}(c, p, {})?;", bytes(&shape.prefix));
    }
    let mut args = String::new();
    match shape.items.as_slice() {
        [Item::Optional {
            repeat: false,
            group,
            ..
        }] if shape.args_optional => {
            let _ = writeln!(
                args,
                "let p = {}?;",
                group_expr(shape, params, &shape.items, 0, false, *group)
            );
        }
        items => seq(&mut args, shape, params, items, false),
    }
    if shape.args_optional {
        let _ = writeln!(
            body,
            "let p = scan::opt(c, p, |c, p| {{ let p = scan::lit(c, p, b\"=\")?; {args} Some(p) }});"
        );
    } else {
        body.push_str(&args);
    }
    let _ = writeln!(out, "/// `{}`", doc.replace('\n', " ").replace('`', "'"));
    let _ = writeln!(
        out,
        "pub fn {}(c: &mut scan::Caps<'_>) -> Option<()> {{ let p = 0usize; {body} scan::eoi(c, p) }}",
        shape.rule
    );
}

const DOC: &str = "//! The byte-level matchers of every line rule of the grammar, generated from\n\
//! the catalogue: one function per command form, response line and URC\n\
//! variant, named like its pest rule. Each walks the line once and records\n\
//! the captures the pest rule would (`<n>` for the parameter occurrence\n\
//! `__p<n>`, `scan::GROUP | <n>` for the optional group `__g<n>`).\n";

/// Renders `runtime/src/generated/decode.rs`.
pub fn render(plan: &Plan<'_>) -> Result<String, PlanError> {
    let mut out = String::from(DOC);
    out.push_str("#![allow(clippy::all, unused_variables, unused_imports)]\nuse crate::scan;\n");
    let mut names = Vec::new();
    for c in &plan.commands {
        for f in &c.forms {
            matcher(
                &mut out,
                &f.shape,
                &c.command.params,
                &format!("{}: {}", c.command.name, f.form.syntax),
            );
            names.push(f.shape.rule.clone());
        }
    }
    for c in &plan.commands {
        for f in &c.forms {
            for l in &f.lines {
                matcher(&mut out, &l.shape, &c.command.params, &l.template);
                names.push(l.shape.rule.clone());
            }
        }
    }
    for u in &plan.urcs {
        matcher(&mut out, &u.shape, &u.urc.params, &u.urc.syntax);
        names.push(u.shape.rule.clone());
    }
    let _ = writeln!(
        out,
        "/// Every line rule's name and matcher (for the differential test against the grammar).\n\
         pub const RULES: &[(&str, scan::Matcher)] = &[{}];",
        names
            .iter()
            .map(|n| format!("(\"{n}\", {n})"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let file: syn::File = syn::parse_str(&out)
        .map_err(|e| PlanError(format!("generated decoder does not parse: {e}")))?;
    Ok(format!(
        "{}{}",
        crate::emit::bindings::HEADER,
        prettyplease::unparse(&file)
    ))
}
