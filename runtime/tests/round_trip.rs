//! Round trips over the whole catalogue: for every command form, information
//! line and URC, random valid lines built from the catalogue's template and
//! parameter limits are accepted by the grammar, decode, and encode back to
//! the same line; and injection attempts in string parameters are refused.

use std::collections::HashMap;
use std::path::Path;

use fcm242d::command::Template;
use fcm242d::generated::commands::{AnyCommand, FORM_TEMPLATES, LINE_TEMPLATES};
use fcm242d::generated::urcs::URC_TEMPLATES;
use fcm242d::wire::BufferFull;
use fcm242d_codegen::emit::plan::{plan, Plan};
use fcm242d_codegen::emit::shape::{Item, Occ, PieceShape, Shape};
use fcm242d_codegen::model::{Param, ParamType};
use fcm242d_codegen::params::numeric;
use fcm242d_codegen::Catalog;
use proptest::prelude::*;

fn catalog() -> Catalog {
    Catalog::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec"))
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A small deterministic generator (the proptest seed picks the stream).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        // Boundaries half of the time: that is where ranges go wrong.
        match self.below(4) {
            0 => lo,
            1 => hi,
            _ => lo
                .saturating_add((self.next() % ((hi - lo) as u64).saturating_add(1).max(1)) as i64),
        }
    }
    fn text(&mut self, min: usize, max: usize, alphabet: &[u8]) -> String {
        let max = max.min(min + 24);
        let len = min + self.below((max - min + 1) as u64) as usize;
        (0..len)
            .map(|_| alphabet[self.below(alphabet.len() as u64) as usize] as char)
            .collect()
    }
}

const PRINTABLE: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._-/:=+!?()";
const HEX: &[u8] = b"0123456789ABCDEF";

/// A valid wire value for parameter `p` at occurrence `o`.
fn value(rng: &mut Rng, p: &Param, o: &Occ, range_list: bool) -> String {
    if range_list {
        return format!("({}-{})", rng.below(10), 10 + rng.below(100));
    }
    let quoted = p.is_quoted() || o.quoted_in_template;
    let hex_width = |p: &Param| {
        let max = p
            .range
            .as_ref()
            .and_then(|r| numeric(p.ty, &r.max))
            .or_else(|| {
                p.values
                    .iter()
                    .filter_map(|v| numeric(p.ty, &v.value))
                    .max()
            })
            .unwrap_or(0);
        format!("{max:X}").len().max(1)
    };
    let raw = if !p.values.is_empty() {
        let v = &p.values[rng.below(p.values.len() as u64) as usize].value;
        match (p.ty, numeric(p.ty, v)) {
            (ParamType::HexInteger, Some(n)) => format!(
                "{}{:0w$X}",
                if p.prefix == Some(true) { "0x" } else { "" },
                n,
                w = hex_width(p)
            ),
            (t, Some(n)) if t.is_numeric() => n.to_string(),
            _ => v.to_string(),
        }
    } else {
        match p.ty {
            ParamType::Integer | ParamType::HexInteger | ParamType::ResultCode => {
                let (lo, hi) = match &p.range {
                    Some(r) => (
                        numeric(p.ty, &r.min).unwrap_or(0),
                        numeric(p.ty, &r.max).unwrap_or(0),
                    ),
                    None => (-200, 100_000),
                };
                let n = rng.range(lo, hi);
                if p.ty == ParamType::HexInteger {
                    format!(
                        "{}{:0w$X}",
                        if p.prefix == Some(true) { "0x" } else { "" },
                        n,
                        w = hex_width(p)
                    )
                } else {
                    n.to_string()
                }
            }
            ParamType::Ipv4 => format!(
                "{}.{}.{}.{}",
                rng.below(256),
                rng.below(256),
                rng.below(256),
                rng.below(256)
            ),
            ParamType::Host => format!("host{}.example", rng.below(1000)),
            ParamType::Mac | ParamType::BleAddress => rng.text(12, 12, HEX),
            ParamType::Uuid => {
                if rng.below(2) == 0 {
                    rng.text(4, 4, HEX)
                } else {
                    rng.text(32, 32, HEX)
                }
            }
            ParamType::HexString => {
                let (min, max) = p
                    .length
                    .as_ref()
                    .map(|l| (l.min as usize, l.max as usize))
                    .unwrap_or((0, 40));
                rng.text(min, max, HEX)
            }
            _ => {
                let (min, max) = p
                    .length
                    .as_ref()
                    .map(|l| (l.min as usize, l.max as usize))
                    .unwrap_or((0, 30));
                let alphabet: Vec<u8> = if quoted {
                    PRINTABLE.to_vec()
                } else {
                    PRINTABLE.iter().copied().filter(|c| *c != b',').collect()
                };
                rng.text(min, max, &alphabet)
            }
        }
    };
    if quoted {
        format!("\"{raw}\"")
    } else {
        raw
    }
}

/// Where each parameter's field is in the line being rendered (by
/// parameter index), for the length field of an in-line payload.
type Positions = HashMap<usize, usize>;

fn render(
    rng: &mut Rng,
    params: &[Param],
    items: &[Item],
    fields: &mut Vec<String>,
    at: &mut Positions,
) {
    for item in items {
        match item {
            Item::Field(pieces) => {
                let mut f = String::new();
                for piece in pieces {
                    match piece {
                        PieceShape::Lit { text, quoted: true } => {
                            f.push_str(&format!("\"{text}\""))
                        }
                        PieceShape::Lit {
                            text,
                            quoted: false,
                        } => f.push_str(text),
                        PieceShape::Param(o) => {
                            let p = &params[o.param];
                            let v = value(rng, p, o, false);
                            // A payload framed by a length field of the same
                            // line: a valid line's length is the payload's
                            // byte count (without its quotes).
                            if let Some(len_at) = p
                                .length_from
                                .as_ref()
                                .and_then(|name| params.iter().position(|q| &q.name == name))
                                .and_then(|i| at.get(&i))
                            {
                                let quotes = if v.starts_with('"') { 2 } else { 0 };
                                fields[*len_at] = (v.len() - quotes).to_string();
                            }
                            at.insert(o.param, fields.len());
                            f.push_str(&v);
                        }
                        PieceShape::RangeList(o) => {
                            f.push_str(&value(rng, &params[o.param], o, true))
                        }
                    }
                }
                fields.push(f);
            }
            Item::Alt(a, b) => {
                let o = if rng.below(2) == 0 { a } else { b };
                fields.push(value(rng, &params[o.param], o, false));
            }
            Item::Optional { items, repeat, .. } => {
                let times = if *repeat { rng.below(3) } else { rng.below(2) };
                for _ in 0..times {
                    render(rng, params, items, fields, at);
                }
            }
        }
    }
}

/// A random valid line of a template. Optional siblings are only left out
/// from the end (the manual: parameters "need to be provided up to the last
/// parameter being entered"), which `render` respects by nesting.
fn line(rng: &mut Rng, shape: &Shape, params: &[Param]) -> String {
    let mut fields = Vec::new();
    render(
        rng,
        params,
        &shape.items,
        &mut fields,
        &mut Positions::new(),
    );
    let args = fields.join(",");
    if shape.args_optional {
        if args.is_empty() {
            shape.prefix.clone()
        } else {
            format!("{}={args}", shape.prefix)
        }
    } else {
        format!("{}{args}", shape.prefix)
    }
}

struct Case<'a> {
    shape: &'a Shape,
    params: &'a [Param],
}

fn cases<'a>(plan: &'a Plan<'a>) -> Vec<Case<'a>> {
    let mut out = Vec::new();
    for c in &plan.commands {
        for f in &c.forms {
            out.push(Case {
                shape: &f.shape,
                params: &c.command.params,
            });
            for l in &f.lines {
                out.push(Case {
                    shape: &l.shape,
                    params: &c.command.params,
                });
            }
        }
    }
    for u in &plan.urcs {
        out.push(Case {
            shape: &u.shape,
            params: &u.urc.params,
        });
    }
    out
}

fn templates() -> HashMap<&'static str, &'static Template> {
    FORM_TEMPLATES
        .iter()
        .chain(LINE_TEMPLATES)
        .chain(URC_TEMPLATES)
        .map(|t| (t.rule, t))
        .collect()
}

#[test]
fn every_template_of_the_catalogue_has_a_reader() {
    let c = catalog();
    let p = plan(&c).unwrap();
    let t = templates();
    let all = cases(&p);
    assert!(all.len() > 350, "{}", all.len());
    for case in all {
        assert!(
            t.contains_key(case.shape.rule.as_str()),
            "no reader for {}",
            case.shape.rule
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, .. ProptestConfig::default() })]

    #[test]
    fn random_valid_lines_decode_and_encode_back_unchanged(seed in 1u64..u64::MAX) {
        let c = catalog();
        let p = plan(&c).unwrap();
        let t = templates();
        let mut rng = Rng(seed);
        for case in cases(&p) {
            let text = line(&mut rng, case.shape, case.params);
            let template = t[case.shape.rule.as_str()];
            let back = (template.reencode)(&text);
            prop_assert_eq!(back.as_deref(), Ok(text.as_str()), "{} ({})", template.template, case.shape.rule);
        }
    }

    /// `encode_into` writes exactly what `encode` returns, into a buffer of
    /// any size that holds it, and refuses one byte less.
    #[test]
    fn every_form_encodes_into_a_buffer_as_into_a_string(seed in 1u64..u64::MAX) {
        let c = catalog();
        let p = plan(&c).unwrap();
        let mut rng = Rng(seed);
        let mut buf = [0u8; 4096];
        for cmd in &p.commands {
            for f in &cmd.forms {
                let text = line(&mut rng, &f.shape, &cmd.command.params);
                let any = AnyCommand::parse(&text);
                prop_assert!(any.is_ok(), "{} does not read {:?}", f.form.syntax, text);
                let any = any.unwrap();
                let line = any.encode();
                let n = any.encode_into(&mut buf);
                prop_assert_eq!(n, Ok(line.len()), "{}", f.form.syntax);
                prop_assert_eq!(&buf[..line.len()], line.as_bytes());
                let mut exact = vec![0u8; line.len()];
                prop_assert_eq!(any.encode_into(&mut exact), Ok(line.len()));
                if !line.is_empty() {
                    let mut short = vec![0u8; line.len() - 1];
                    prop_assert_eq!(any.encode_into(&mut short), Err(BufferFull));
                }
            }
        }
    }

    #[test]
    fn string_parameters_refuse_injection(seed in 1u64..u64::MAX, attack in prop::sample::select(vec!["\"\r\nAT+QRST", "\r", "\n", "a\"b", "\u{0}", "\u{1a}", "\u{1b}"])) {
        let c = catalog();
        let p = plan(&c).unwrap();
        let t = templates();
        let mut rng = Rng(seed);
        for cmd in &p.commands {
            for f in &cmd.forms {
                // Put the attack into every quoted string field of a valid line.
                let valid = line(&mut rng, &f.shape, &cmd.command.params);
                let Some(start) = valid.find('"') else { continue };
                let Some(len) = valid[start + 1..].find('"') else { continue };
                let attacked = format!("{}{}{}", &valid[..start + 1], attack, &valid[start + 1 + len..]);
                let template = t[f.shape.rule.as_str()];
                let back = (template.reencode)(&attacked);
                prop_assert!(back.is_err(), "{} accepted {:?}", f.form.syntax, attacked);
            }
        }
    }
}
