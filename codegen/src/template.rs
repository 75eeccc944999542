//! Parser of the manual's syntax notation used in `syntax` and response templates:
//! `AT+QIOPEN=<connectID>,<service_type>,<IP_address>/<domain_name>,<remote_port>[,<local_port>[,<access_mode>][,<ap_priority>]]`.
//!
//! The result is a tree the generators walk: fields separated by commas, optional
//! groups (possibly repeating), alternatives in one position, literals. Names are
//! not resolved here; the validator resolves them against the parameter list.

use serde::{Deserialize, Serialize};

use crate::model::FormKind;

/// One piece of a field: text, a parameter, or a range listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Piece {
    /// A parameter reference `<name>`; `index` is set for `<topic1>`-style names
    /// once resolved (the parser keeps the raw name).
    Param {
        /// The name as written between the angle brackets.
        name: String,
        /// Whether the reference stands inside double quotes (`"<server>"`).
        quoted: bool,
    },
    /// `(list of supported <name>s)` in a test response.
    RangeList {
        /// The parameter whose range is listed.
        name: String,
    },
    /// Literal text (`ssid=`, `SSLClient`, `0`, `urc/pin`).
    Literal {
        /// The text.
        text: String,
        /// Whether it stands inside double quotes.
        quoted: bool,
    },
}

/// A node of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Node {
    /// One comma-separated field made of pieces (usually exactly one).
    Field(Vec<Piece>),
    /// `<a>/<b>`: exactly one of these parameters in this position.
    Alternatives(Vec<String>),
    /// `[…]`: an optional group; `repeat` when it ends with `[,..]`.
    Optional {
        /// The group's content.
        nodes: Vec<Node>,
        /// The group may repeat any number of times.
        repeat: bool,
    },
}

impl Node {
    /// Every parameter name referenced below this node, in order.
    pub fn param_names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_names(&mut out);
        out
    }

    fn collect_names<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Node::Field(pieces) => {
                for p in pieces {
                    match p {
                        Piece::Param { name, .. } | Piece::RangeList { name } => out.push(name),
                        Piece::Literal { .. } => {}
                    }
                }
            }
            Node::Alternatives(names) => out.extend(names.iter().map(String::as_str)),
            Node::Optional { nodes, .. } => nodes.iter().for_each(|n| n.collect_names(out)),
        }
    }
}

/// A parsed command syntax.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandSyntax {
    /// The command name (`AT+QIOPEN`).
    pub name: String,
    /// The form the syntax spells.
    pub kind: FormKind,
    /// Whether `=` and all arguments may be omitted (`AT+QHTTPGET[=<rsptime>]`).
    pub args_optional: bool,
    /// The arguments after `=`.
    pub args: Vec<Node>,
}

/// A parsed response or URC line: an optional `+PREFIX:` and the arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineSyntax {
    /// `+QIOPEN` for `+QIOPEN: <connectID>,<err>`; `None` for bare lines (`<data>`).
    pub prefix: Option<String>,
    /// The fields after the prefix.
    pub args: Vec<Node>,
}

/// A syntax error: what is wrong and the character offset where it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// Character offset into the template.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

/// Every parameter name referenced by a list of nodes.
pub fn names(nodes: &[Node]) -> Vec<&str> {
    nodes.iter().flat_map(Node::param_names).collect()
}

/// Parses a command syntax such as `AT+QICLOSE=<connectID>[,<timeout>]`.
pub fn parse_command(text: &str) -> Result<CommandSyntax, TemplateError> {
    let text = text.trim();
    if text == "+++" {
        return Ok(CommandSyntax {
            name: "+++".into(),
            kind: FormKind::Execute,
            args_optional: false,
            args: Vec::new(),
        });
    }
    let chars: Vec<char> = text.chars().collect();
    let upper = text.to_ascii_uppercase();
    if !upper.starts_with("AT") {
        return Err(TemplateError {
            offset: 0,
            message: "a command syntax must start with `AT` or be `+++`".into(),
        });
    }
    // The name runs while characters are name characters.
    let mut end = 2;
    if chars.get(2).is_some_and(|c| matches!(c, '+' | '&')) {
        end = 3;
    }
    while end < chars.len() && (chars[end].is_ascii_alphanumeric() || chars[end] == '_') {
        end += 1;
    }
    let name: String = chars[..end].iter().collect();
    let rest: String = chars[end..].iter().collect();
    let (kind, args_optional, args_text, args_offset) = if rest.is_empty() {
        (FormKind::Execute, false, String::new(), end)
    } else if rest == "=?" {
        (FormKind::Test, false, String::new(), end)
    } else if rest == "?" {
        (FormKind::Read, false, String::new(), end)
    } else if let Some(inner) = rest.strip_prefix("[=").and_then(|r| r.strip_suffix(']')) {
        (FormKind::Write, true, inner.to_string(), end + 2)
    } else if let Some(args) = rest.strip_prefix('=') {
        (FormKind::Write, false, args.to_string(), end + 1)
    } else {
        return Err(TemplateError {
            offset: end,
            message: format!("unexpected `{rest}` after the command name `{name}`"),
        });
    };
    let args = if kind == FormKind::Write {
        let args = parse_args(&args_text).map_err(|e| TemplateError {
            offset: e.offset + args_offset,
            message: e.message,
        })?;
        if args.is_empty() {
            return Err(TemplateError {
                offset: args_offset,
                message: "a write form needs at least one argument after `=`".into(),
            });
        }
        args
    } else {
        Vec::new()
    };
    Ok(CommandSyntax {
        name,
        kind,
        args_optional,
        args,
    })
}

/// Parses a response or URC line such as `+QIOPEN: <connectID>,<err>`.
pub fn parse_line(text: &str) -> Result<LineSyntax, TemplateError> {
    let trimmed = text.trim_end();
    if let Some(colon) = trimmed.find(':').filter(|_| trimmed.starts_with('+')) {
        let prefix = &trimmed[..colon];
        if prefix.len() > 1 && prefix[1..].chars().all(|c| c.is_ascii_alphanumeric()) {
            let after = &trimmed[colon + 1..];
            let skipped = after.len() - after.trim_start().len();
            let offset = trimmed[..colon + 1 + skipped].chars().count();
            let args = parse_args(after.trim_start()).map_err(|e| TemplateError {
                offset: e.offset + offset,
                message: e.message,
            })?;
            return Ok(LineSyntax {
                prefix: Some(prefix.to_string()),
                args,
            });
        }
    }
    Ok(LineSyntax {
        prefix: None,
        args: parse_args(trimmed)?,
    })
}

/// Parses the argument list of a template.
pub fn parse_args(text: &str) -> Result<Vec<Node>, TemplateError> {
    let chars: Vec<char> = text.chars().collect();
    let mut p = ArgParser { chars, pos: 0 };
    let (nodes, repeat) = p.sequence(0)?;
    if repeat {
        return Err(TemplateError {
            offset: 0,
            message: "`[,..]` must close an optional group: `[,<a>[,..]]`".into(),
        });
    }
    if p.pos < p.chars.len() {
        return Err(p.error(format!("unexpected `{}`", p.chars[p.pos])));
    }
    Ok(nodes)
}

struct ArgParser {
    chars: Vec<char>,
    pos: usize,
}

impl ArgParser {
    fn error(&self, message: String) -> TemplateError {
        TemplateError {
            offset: self.pos,
            message,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn starts_with(&self, s: &str) -> bool {
        s.chars()
            .enumerate()
            .all(|(k, c)| self.chars.get(self.pos + k) == Some(&c))
    }

    /// Parses fields and optional groups until `]` or the end. Returns the nodes
    /// and whether a `[,..]` repetition marker closed the sequence.
    fn sequence(&mut self, depth: usize) -> Result<(Vec<Node>, bool), TemplateError> {
        let mut nodes = Vec::new();
        let mut repeat = false;
        let mut expect_field = true;
        loop {
            match self.peek() {
                None => break,
                Some(']') => {
                    if depth == 0 {
                        return Err(self.error("unbalanced `]`".into()));
                    }
                    break;
                }
                Some('[') => {
                    let open = self.pos;
                    self.pos += 1;
                    if self.peek() == Some(',') {
                        self.pos += 1;
                    }
                    if self.starts_with("...]") || self.starts_with("..]") {
                        self.pos += if self.starts_with("...]") { 4 } else { 3 };
                        if depth == 0 {
                            return Err(TemplateError {
                                offset: open,
                                message: "`[,..]` must close an optional group: `[,<a>[,..]]`"
                                    .into(),
                            });
                        }
                        repeat = true;
                        expect_field = false;
                        continue;
                    }
                    let (inner, inner_repeat) = self.sequence(depth + 1)?;
                    if self.peek() != Some(']') {
                        return Err(TemplateError {
                            offset: open,
                            message: "this `[` is never closed".into(),
                        });
                    }
                    self.pos += 1;
                    if inner.is_empty() {
                        return Err(TemplateError {
                            offset: open,
                            message: "empty optional group `[]`".into(),
                        });
                    }
                    nodes.push(Node::Optional {
                        nodes: inner,
                        repeat: inner_repeat,
                    });
                    expect_field = false;
                }
                Some(',') => {
                    if expect_field {
                        return Err(self.error("empty field (two commas in a row?)".into()));
                    }
                    self.pos += 1;
                    expect_field = true;
                }
                Some(_) => {
                    if !expect_field {
                        return Err(self.error("missing `,` before this field".into()));
                    }
                    nodes.push(self.field()?);
                    expect_field = false;
                }
            }
        }
        if expect_field && !nodes.is_empty() {
            return Err(self.error("trailing `,`".into()));
        }
        Ok((nodes, repeat))
    }

    /// Parses one field: pieces up to `,`, `[` or `]`.
    fn field(&mut self) -> Result<Node, TemplateError> {
        let start = self.pos;
        let mut pieces: Vec<Piece> = Vec::new();
        let mut text = String::new();
        let flush = |text: &mut String, pieces: &mut Vec<Piece>| {
            if !text.is_empty() {
                pieces.push(Piece::Literal {
                    text: std::mem::take(text),
                    quoted: false,
                });
            }
        };
        while let Some(c) = self.peek() {
            match c {
                ',' | '[' | ']' => break,
                '<' => {
                    flush(&mut text, &mut pieces);
                    let name = self.param_name()?;
                    pieces.push(Piece::Param {
                        name,
                        quoted: false,
                    });
                }
                '"' => {
                    flush(&mut text, &mut pieces);
                    pieces.extend(self.quoted()?);
                }
                '(' if self.starts_with("(list of supported <") => {
                    flush(&mut text, &mut pieces);
                    self.pos += "(list of supported ".len();
                    let name = self.param_name()?;
                    if !self.starts_with("s)") {
                        return Err(
                            self.error("expected `s)` to close `(list of supported <…>s)`".into())
                        );
                    }
                    self.pos += 2;
                    pieces.push(Piece::RangeList { name });
                }
                _ => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
        flush(&mut text, &mut pieces);
        // `<a>/<b>`: alternatives in one position.
        if pieces.len() == 3 {
            if let [Piece::Param {
                name: a,
                quoted: false,
            }, Piece::Literal {
                text: slash,
                quoted: false,
            }, Piece::Param {
                name: b,
                quoted: false,
            }] = pieces.as_slice()
            {
                if slash == "/" {
                    return Ok(Node::Alternatives(vec![a.clone(), b.clone()]));
                }
            }
        }
        if pieces.is_empty() {
            return Err(TemplateError {
                offset: start,
                message: "empty field".into(),
            });
        }
        Ok(Node::Field(pieces))
    }

    fn param_name(&mut self) -> Result<String, TemplateError> {
        let open = self.pos;
        self.pos += 1; // '<'
        let mut name = String::new();
        while let Some(c) = self.peek() {
            if c == '>' {
                self.pos += 1;
                if name.trim().is_empty() {
                    return Err(TemplateError {
                        offset: open,
                        message: "empty parameter name `<>`".into(),
                    });
                }
                return Ok(name);
            }
            if matches!(c, '<' | ',' | '[' | ']' | '"') {
                break;
            }
            name.push(c);
            self.pos += 1;
        }
        Err(TemplateError {
            offset: open,
            message: "this `<` is never closed with `>`".into(),
        })
    }

    /// Parses `"…"`: literal text, possibly with parameters inside (`"<server>"`).
    fn quoted(&mut self) -> Result<Vec<Piece>, TemplateError> {
        let open = self.pos;
        self.pos += 1;
        let mut pieces = Vec::new();
        let mut text = String::new();
        while let Some(c) = self.peek() {
            match c {
                '"' => {
                    self.pos += 1;
                    if !text.is_empty() || pieces.is_empty() {
                        pieces.push(Piece::Literal { text, quoted: true });
                    }
                    return Ok(pieces);
                }
                '<' => {
                    if !text.is_empty() {
                        pieces.push(Piece::Literal {
                            text: std::mem::take(&mut text),
                            quoted: true,
                        });
                    }
                    let name = self.param_name()?;
                    pieces.push(Piece::Param { name, quoted: true });
                }
                _ => {
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
        Err(TemplateError {
            offset: open,
            message: "this `\"` is never closed".into(),
        })
    }
}

/// A wire line's comma-separated arguments (`0,"TCP","a,b",80` → `0`,
/// `"TCP"`, `"a,b"`, `80`): commas inside quotes do not split, and every
/// argument is kept as written (quotes included).
pub fn split_arguments(args: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in args.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                cur.push(c);
            }
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}
