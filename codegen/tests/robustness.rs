//! Property tests: no input makes the template parser, the position index or
//! the loader panic; and templates built from random trees parse back to the
//! same tree.

use std::path::PathBuf;

use fcm242d_codegen::load::load_text;
use fcm242d_codegen::locate::SourceIndex;
use fcm242d_codegen::template::{self, Node, Piece};
use proptest::prelude::*;

fn name() -> impl Strategy<Value = String> {
    "[a-z][a-z_]{0,8}[a-z]"
}

fn field() -> impl Strategy<Value = Node> {
    prop_oneof![
        name().prop_map(|n| Node::Field(vec![Piece::Param {
            name: n,
            quoted: false
        }])),
        (name(), name())
            .prop_filter("distinct", |(a, b)| a != b)
            .prop_map(|(a, b)| Node::Alternatives(vec![a, b])),
        "[a-z/]{1,8}".prop_map(|t| Node::Field(vec![Piece::Literal {
            text: t,
            quoted: true
        }])),
        (0u32..999).prop_map(|n| Node::Field(vec![Piece::Literal {
            text: n.to_string(),
            quoted: false
        }])),
    ]
}

fn nodes() -> impl Strategy<Value = Vec<Node>> {
    let leaf = prop::collection::vec(field(), 1..4);
    leaf.prop_recursive(3, 24, 4, |inner| {
        (prop::collection::vec(field(), 1..3), inner, any::<bool>()).prop_map(
            |(mut head, tail, repeat)| {
                head.push(Node::Optional {
                    nodes: tail,
                    repeat,
                });
                head
            },
        )
    })
}

/// Writes nodes in the manual's notation.
fn render(nodes: &[Node], out: &mut String, leading_comma: bool) {
    for (i, n) in nodes.iter().enumerate() {
        let comma = i > 0 || leading_comma;
        match n {
            Node::Field(pieces) => {
                if comma {
                    out.push(',');
                }
                for p in pieces {
                    match p {
                        Piece::Param { name, .. } => out.push_str(&format!("<{name}>")),
                        Piece::Literal { text, quoted: true } => {
                            out.push_str(&format!("\"{text}\""))
                        }
                        Piece::Literal { text, .. } => out.push_str(text),
                        Piece::RangeList { name } => {
                            out.push_str(&format!("(list of supported <{name}>s)"))
                        }
                    }
                }
            }
            Node::Alternatives(names) => {
                if comma {
                    out.push(',');
                }
                out.push_str(
                    &names
                        .iter()
                        .map(|n| format!("<{n}>"))
                        .collect::<Vec<_>>()
                        .join("/"),
                );
            }
            Node::Optional { nodes, repeat } => {
                out.push('[');
                render(nodes, out, true);
                if *repeat {
                    out.push_str("[,..]");
                }
                out.push(']');
            }
        }
    }
}

proptest! {
    #[test]
    fn template_parser_never_panics(s in "\\PC{0,80}") {
        let _ = template::parse_command(&s);
        let _ = template::parse_line(&s);
        let _ = template::parse_args(&s);
    }

    #[test]
    fn template_parser_never_panics_on_notation_soup(s in "[<>\\[\\],/\"().a-z0-9=?+: ]{0,60}") {
        let _ = template::parse_command(&format!("AT+QX={s}"));
        let _ = template::parse_line(&format!("+QX: {s}"));
    }

    #[test]
    fn rendered_templates_parse_back_to_the_same_tree(tree in nodes()) {
        // An optional group must not start a template (the manual never does), and
        // a repeat marker needs an enclosing group: both hold by construction.
        let mut text = String::new();
        render(&tree, &mut text, false);
        let parsed = template::parse_command(&format!("AT+QX={text}")).map_err(|e| TestCaseError::fail(format!("{text}: {e:?}")))?;
        prop_assert_eq!(parsed.args, tree);
    }

    #[test]
    fn position_index_never_panics(s in "\\PC{0,200}") {
        let _ = SourceIndex::build(&s);
    }

    #[test]
    fn loader_never_panics_on_arbitrary_text(s in "\\PC{0,300}") {
        let mut diags = Vec::new();
        let _ = load_text(PathBuf::from("x.yaml"), s, &mut diags);
    }

    #[test]
    fn loader_never_panics_on_mangled_spec(cut in 0usize..4000, insert in "[\\[\\]{}:,\\-\"' \n#a-z0-9]{0,6}") {
        let base = include_str!("fixtures/base.yaml");
        let mut cut = cut.min(base.len());
        while !base.is_char_boundary(cut) { cut -= 1; }
        let text = format!("{}{}{}", &base[..cut], insert, &base[cut..]);
        let mut diags = Vec::new();
        let _ = load_text(PathBuf::from("x.yaml"), text, &mut diags);
        for d in &diags {
            prop_assert!(d.location.line >= 1);
            prop_assert!(!d.hint.is_empty());
        }
    }
}
