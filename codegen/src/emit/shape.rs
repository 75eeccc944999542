//! The shape of one line template (a command form, a response line or a URC):
//! its fields in order, with optional and repeated groups and alternatives, and
//! a numbered occurrence for every parameter. Both the pest grammar and the
//! Rust bindings are emitted from the same shape, so the grammar's capture
//! rules and the decoder that reads them cannot disagree.

use crate::model::Param;
use crate::params::resolve;
use crate::template::{Node, Piece};

/// One parameter occurrence in a template.
#[derive(Debug, Clone)]
pub struct Occ {
    /// Numbered in template order; names the pest capture rule `<rule>__p<index>`.
    pub index: usize,
    /// Index into the scope's parameter list.
    pub param: usize,
    /// Whether this is the template's last field (a bare string there may contain commas).
    pub last: bool,
    /// Whether the occurrence stands inside double quotes in the template (`"<server>"`).
    pub quoted_in_template: bool,
}

/// A piece of one field.
#[derive(Debug, Clone)]
pub enum PieceShape {
    /// Literal text.
    Lit {
        /// The text.
        text: String,
        /// Written in double quotes.
        quoted: bool,
    },
    /// A parameter value.
    Param(Occ),
    /// `(list of supported <x>s)`: kept as raw text.
    RangeList(Occ),
}

/// One item of a template.
#[derive(Debug, Clone)]
pub enum Item {
    /// A comma-separated position made of pieces.
    Field(Vec<PieceShape>),
    /// `<a>/<b>`: one of two parameters.
    Alt(Occ, Occ),
    /// `[…]`: optional (or, with `repeat`, any number of times).
    Optional {
        /// The group's items.
        items: Vec<Item>,
        /// Whether the group repeats.
        repeat: bool,
        /// Numbered in template order (names generated group types).
        group: usize,
    },
}

/// A whole template.
#[derive(Debug, Clone)]
pub struct Shape {
    /// The pest rule name of the whole line.
    pub rule: String,
    /// Literal text before the arguments (`AT+QIOPEN=`, `+QIOPEN: `).
    pub prefix: String,
    /// Whether the prefix is matched case-insensitively (command names).
    pub prefix_case_insensitive: bool,
    /// `AT+QX[=<a>]`: the `=` and every argument may be left out together.
    pub args_optional: bool,
    /// The arguments.
    pub items: Vec<Item>,
    /// Number of parameter occurrences.
    pub occurrences: usize,
}

/// Why a template cannot be given a shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeError(pub String);

struct Builder<'a> {
    params: &'a [Param],
    next_occ: usize,
    next_group: usize,
}

impl Builder<'_> {
    fn occ(&mut self, name: &str, quoted: bool) -> Result<Occ, ShapeError> {
        let r = resolve(self.params, name)
            .ok_or_else(|| ShapeError(format!("<{name}> is not a parameter here")))?;
        let o = Occ {
            index: self.next_occ,
            param: r.param,
            last: false,
            quoted_in_template: quoted,
        };
        self.next_occ += 1;
        Ok(o)
    }

    fn items(&mut self, nodes: &[Node], in_repeat: bool) -> Result<Vec<Item>, ShapeError> {
        let mut out = Vec::new();
        for n in nodes {
            out.push(match n {
                Node::Field(pieces) => {
                    let mut ps = Vec::new();
                    for p in pieces {
                        ps.push(match p {
                            Piece::Literal { text, quoted } => PieceShape::Lit {
                                text: text.clone(),
                                quoted: *quoted,
                            },
                            Piece::Param { name, quoted } => PieceShape::Param(self.occ(name, *quoted)?),
                            Piece::RangeList { name } => PieceShape::RangeList(self.occ(name, false)?),
                        });
                    }
                    Item::Field(ps)
                }
                Node::Alternatives(names) => {
                    if names.len() != 2 {
                        return Err(ShapeError("only two alternatives per position are supported".into()));
                    }
                    Item::Alt(self.occ(&names[0], false)?, self.occ(&names[1], false)?)
                }
                Node::Optional { nodes, repeat } => {
                    if in_repeat {
                        return Err(ShapeError("groups nested inside a repeated group are not supported".into()));
                    }
                    let group = self.next_group;
                    self.next_group += 1;
                    let items = self.items(nodes, *repeat)?;
                    if *repeat
                        && items.iter().any(|i| !matches!(i, Item::Field(p) if p.iter().all(|x| matches!(x, PieceShape::Param(_)))))
                    {
                        return Err(ShapeError("a repeated group may only hold plain parameters".into()));
                    }
                    Item::Optional {
                        items,
                        repeat: *repeat,
                        group,
                    }
                }
            });
        }
        Ok(out)
    }
}

/// Marks the occurrences of the template's last field.
fn mark_last(items: &mut [Item]) {
    match items.last_mut() {
        Some(Item::Field(pieces)) => {
            for p in pieces {
                if let PieceShape::Param(o) | PieceShape::RangeList(o) = p {
                    o.last = true;
                }
            }
        }
        Some(Item::Optional {
            items,
            repeat: false,
            ..
        }) => mark_last(items),
        _ => {}
    }
}

/// Builds the shape of a template.
pub fn build(
    rule: String,
    prefix: String,
    prefix_case_insensitive: bool,
    args_optional: bool,
    nodes: &[Node],
    params: &[Param],
) -> Result<Shape, ShapeError> {
    let mut b = Builder {
        params,
        next_occ: 0,
        next_group: 0,
    };
    let mut items = b.items(nodes, false)?;
    mark_last(&mut items);
    Ok(Shape {
        rule,
        prefix,
        prefix_case_insensitive,
        args_optional,
        items,
        occurrences: b.next_occ,
    })
}

impl Item {
    /// Every occurrence below this item, in order.
    pub fn occurrences(&self) -> Vec<&Occ> {
        match self {
            Item::Field(pieces) => pieces
                .iter()
                .filter_map(|p| match p {
                    PieceShape::Param(o) | PieceShape::RangeList(o) => Some(o),
                    PieceShape::Lit { .. } => None,
                })
                .collect(),
            Item::Alt(a, b) => vec![a, b],
            Item::Optional { items, .. } => items.iter().flat_map(Item::occurrences).collect(),
        }
    }
}
