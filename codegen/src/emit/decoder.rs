//! The byte-level decoder: for every line rule of the grammar (command forms,
//! response lines, URC variants) a description (`fcm242d::scan::Op`s) that
//! the runtime's one interpreter (`scan::exec`) walks over the line once,
//! recording the same captures as the pest rule. It is emitted from the same
//! [`Shape`]s, item by item, as the grammar (`emit::grammar`), so the two
//! describe one language; the runtime's differential test checks that they
//! accept the same lines with the same captures.

use std::fmt::Write as _;

use crate::emit::grammar::{occ_token, Tok};
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

/// The token scanner of occurrence `o`.
fn token(shape: &Shape, params: &[Param], o: &Occ) -> String {
    format!("scan::{}", occ_token(shape, params, o).scanner())
}

/// A capture of occurrence `o`.
fn cap(shape: &Shape, params: &[Param], o: &Occ) -> String {
    format!("scan::Op::Cap({}, {})", o.index, token(shape, params, o))
}

/// The steps over `pieces` (one field).
fn pieces(out: &mut Vec<String>, shape: &Shape, params: &[Param], pieces: &[PieceShape]) {
    for piece in pieces {
        match piece {
            PieceShape::Lit { text, quoted: true } => {
                out.push(format!("scan::Op::Lit({})", bytes(&format!("\"{text}\""))));
            }
            PieceShape::Lit {
                text,
                quoted: false,
            } => out.push(format!("scan::Op::Lit({})", bytes(text))),
            PieceShape::Param(o) | PieceShape::RangeList(o) => out.push(cap(shape, params, o)),
        }
    }
}

/// The steps of a sequence of items, as `emit::grammar`'s `seq` writes it.
fn seq(
    out: &mut Vec<String>,
    shape: &Shape,
    params: &[Param],
    items: &[Item],
    first_has_comma: bool,
) {
    for (k, item) in items.iter().enumerate() {
        let comma = k > 0 || first_has_comma;
        let comma_op = "scan::Op::Lit(b\",\")".to_string();
        match item {
            Item::Field(ps) => {
                if comma {
                    out.push(comma_op);
                }
                pieces(out, shape, params, ps);
            }
            Item::Alt(a, b) => {
                if comma {
                    out.push(comma_op);
                }
                out.push(format!(
                    "scan::Op::Alt({}, {}, {}, {})",
                    a.index,
                    token(shape, params, a),
                    b.index,
                    token(shape, params, b)
                ));
            }
            Item::Optional {
                repeat: false,
                group,
                ..
            } => {
                out.push(format!(
                    "scan::Op::Opt(&[{}])",
                    group_op(shape, params, items, k, first_has_comma, *group)
                ));
            }
            Item::Optional {
                items: inner,
                repeat: true,
                ..
            } => {
                let mut body = Vec::new();
                seq(&mut body, shape, params, inner, comma);
                out.push(format!("scan::Op::Star(&[{}])", body.join(", ")));
            }
        }
    }
}

/// The step matching optional group `group` (item `k` of `items`) as its
/// own capture, like the grammar's `<rule>__g<n>` rule.
fn group_op(
    shape: &Shape,
    params: &[Param],
    items: &[Item],
    k: usize,
    first_has_comma: bool,
    group: usize,
) -> String {
    let Some(Item::Optional { items: inner, .. }) = items.get(k) else {
        return String::from("scan::Op::Opt(&[])");
    };
    let mut body = Vec::new();
    seq(&mut body, shape, params, inner, k > 0 || first_has_comma);
    format!(
        "scan::Op::Group(scan::GROUP | {group}, &[{}])",
        body.join(", ")
    )
}

/// The description of one line rule.
fn matcher(out: &mut String, shape: &Shape, params: &[Param], doc: &str) {
    let mut ops = Vec::new();
    if !shape.prefix.is_empty() {
        let f = if shape.prefix_case_insensitive {
            "LitCi"
        } else {
            "Lit"
        };
        ops.push(format!("scan::Op::{f}({})", bytes(&shape.prefix)));
    }
    let mut args = Vec::new();
    match shape.items.as_slice() {
        [Item::Optional {
            repeat: false,
            group,
            ..
        }] if shape.args_optional => {
            args.push(group_op(shape, params, &shape.items, 0, false, *group));
        }
        items => seq(&mut args, shape, params, items, false),
    }
    if shape.args_optional {
        ops.push(format!(
            "scan::Op::Opt(&[scan::Op::Lit(b\"=\"), {}])",
            args.join(", ")
        ));
    } else {
        ops.extend(args);
    }
    let _ = writeln!(out, "/// `{}`", doc.replace('\n', " ").replace('`', "'"));
    let _ = writeln!(
        out,
        "pub static {}: scan::Matcher = &[{}];",
        shape.rule,
        ops.join(", ")
    );
}

/// Whether `shape`'s rule is a plain sequence of literals, captures and
/// alternatives (no optional group, no repetition): the walk of a command
/// form's or response line's rule is then also emitted as straight-line
/// code ([`walk_name`]). URC rules are not: a firmware links the decoder of
/// every URC variant, and as tables they sit in `.rodata` rather than
/// `.text` (what `cargo xtask size` counts), while it links only the forms
/// it uses.
pub fn is_straight(shape: &Shape) -> bool {
    !shape.args_optional
        && shape
            .items
            .iter()
            .all(|i| matches!(i, Item::Field(_) | Item::Alt(..)))
}

/// The occurrences a straight-line walk reads as values as it matches
/// them: the parameters of a field whose token is `int_token`
/// (`scan::Cursor::int`) or an IPv4 address (`scan::Cursor::ipv4`),
/// outside alternatives.
pub fn scanned_ints(shape: &Shape, params: &[Param]) -> Vec<usize> {
    let mut out = Vec::new();
    if !is_straight(shape) {
        return out;
    }
    for item in &shape.items {
        if let Item::Field(ps) = item {
            for piece in ps {
                if let PieceShape::Param(o) = piece {
                    if matches!(
                        occ_token(shape, params, o),
                        Tok::Int | Tok::Ipv4 | Tok::QuotedIpv4
                    ) {
                        out.push(o.index);
                    }
                }
            }
        }
    }
    out
}

/// The name of the straight-line walk of `shape`'s rule, if it has one.
pub fn walk_name(shape: &Shape) -> Option<String> {
    is_straight(shape).then(|| format!("walk_{}", shape.rule))
}

/// A Rust byte literal for `b`.
fn byte(b: u8) -> String {
    match b {
        b'\'' => "b'\\''".into(),
        b'\\' => "b'\\\\'".into(),
        0x20..=0x7e => format!("b'{}'", b as char),
        _ => format!("0x{b:02x}"),
    }
}

/// The step of a literal.
fn lit_step(text: &str, ci: bool) -> String {
    match (text.as_bytes(), ci) {
        ([b], false) => format!("c.byte({})?;", byte(*b)),
        (_, false) => format!("c.lit({})?;", bytes(text)),
        (_, true) => format!("c.lit_ci({})?;", bytes(text)),
    }
}

/// The straight-line walk of a rule [`is_straight`] accepts: the same steps,
/// in the same order, as its [`matcher`]'s ops. A rule whose steps are
/// those of an earlier rule's walk (`+QISTATE` lines of `AT+QISTATE?` and
/// `AT+QISTATE=<connectID>`) gets that walk under its own name; `seen`
/// maps the steps written so far to their walk.
fn walk(
    out: &mut String,
    seen: &mut std::collections::HashMap<String, String>,
    shape: &Shape,
    params: &[Param],
    doc: &str,
) {
    let Some(name) = walk_name(shape) else {
        return;
    };
    let mut steps = Vec::new();
    if !shape.prefix.is_empty() {
        steps.push(lit_step(&shape.prefix, shape.prefix_case_insensitive));
    }
    for (k, item) in shape.items.iter().enumerate() {
        if k > 0 {
            steps.push(lit_step(",", false));
        }
        match item {
            Item::Field(ps) => {
                for piece in ps {
                    match piece {
                        PieceShape::Lit { text, quoted: true } => {
                            steps.push(lit_step(&format!("\"{text}\""), false));
                        }
                        PieceShape::Lit {
                            text,
                            quoted: false,
                        } => steps.push(lit_step(text, false)),
                        // An integer is read as it is matched (`n[i]`).
                        PieceShape::Param(o) if occ_token(shape, params, o) == Tok::Int => {
                            steps.push(format!("c.int({})?;", o.index));
                        }
                        // So is an IPv4 address.
                        PieceShape::Param(o)
                            if matches!(
                                occ_token(shape, params, o),
                                Tok::Ipv4 | Tok::QuotedIpv4
                            ) =>
                        {
                            let quoted = occ_token(shape, params, o) == Tok::QuotedIpv4;
                            steps.push(format!("c.ipv4({}, {quoted})?;", o.index));
                        }
                        PieceShape::Param(o) | PieceShape::RangeList(o) => {
                            steps.push(format!(
                                "c.cap({}, {})?;",
                                o.index,
                                token(shape, params, o)
                            ));
                        }
                    }
                }
            }
            Item::Alt(a, b) => steps.push(format!(
                "c.alt({}, {}, {}, {})?;",
                a.index,
                token(shape, params, a),
                b.index,
                token(shape, params, b)
            )),
            Item::Optional { .. } => return,
        }
    }
    let body = steps.join(" ");
    if let Some(first) = seen.get(&body) {
        let _ = writeln!(
            out,
            "/// `{}`: the walk of [`{}`], the same steps as [`{first}`].\npub use {first} as {name};",
            doc.replace('\n', " ").replace('`', "'"),
            shape.rule
        );
        return;
    }
    let _ = writeln!(
        out,
        "/// `{}`: the walk of [`{}`] as straight-line steps.",
        doc.replace('\n', " ").replace('`', "'"),
        shape.rule
    );
    let _ = writeln!(
        out,
        "pub fn {name}(c: &mut scan::Cursor<'_, '_>) -> Option<()> {{ {body} c.end() }}"
    );
    seen.insert(body, name);
}

const DOC: &str = "//! The byte-level matchers of every line rule of the grammar, generated from\n\
//! the catalogue: one description per command form, response line and URC\n\
//! variant, named like its pest rule, interpreted by `scan::exec`. Each walk\n\
//! of a line goes once left to right and records the captures the pest rule\n\
//! would (`<n>` for the parameter occurrence `__p<n>`, `scan::GROUP | <n>`\n\
//! for the optional group `__g<n>`).\n";

/// Renders `runtime/src/generated/decode.rs`.
pub fn render(plan: &Plan<'_>) -> Result<String, PlanError> {
    let mut out = String::from(DOC);
    out.push_str(
        "#![allow(clippy::all, non_upper_case_globals, unused_imports)]\nuse crate::scan;\n",
    );
    let mut names = Vec::new();
    let mut walks = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for c in &plan.commands {
        for f in &c.forms {
            let doc = format!("{}: {}", c.command.name, f.form.syntax);
            matcher(&mut out, &f.shape, &c.command.params, &doc);
            walk(&mut out, &mut seen, &f.shape, &c.command.params, &doc);
            names.push(f.shape.rule.clone());
            walks.extend(walk_name(&f.shape).map(|w| (f.shape.rule.clone(), w)));
        }
    }
    for c in &plan.commands {
        for f in &c.forms {
            for l in &f.lines {
                matcher(&mut out, &l.shape, &c.command.params, &l.template);
                walk(
                    &mut out,
                    &mut seen,
                    &l.shape,
                    &c.command.params,
                    &l.template,
                );
                names.push(l.shape.rule.clone());
                walks.extend(walk_name(&l.shape).map(|w| (l.shape.rule.clone(), w)));
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
         pub static RULES: &[(&str, scan::Matcher)] = &[{}];",
        names
            .iter()
            .map(|n| format!("(\"{n}\", {n})"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let _ = writeln!(
        out,
        "/// Every straight-line walk, by its rule's name (for the differential test).\n\
         pub static WALKS: &[(&str, fn(&mut scan::Cursor<'_, '_>) -> Option<()>)] = &[{}];",
        walks
            .iter()
            .map(|(n, w)| format!("(\"{n}\", {w})"))
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
