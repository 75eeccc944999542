//! Where each node of a YAML file is: an index from a node's path
//! (`commands[3].params[0].range.min`) to its position in the source.
//!
//! serde gives the typed model but no positions; this second, event-level
//! pass over the same text recovers them, so that any error found later can
//! be reported at `file:line:col`.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, Span};

use crate::diagnostic::Location;

/// One step of a node path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Seg {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// A node path, rendered as `a.b[2].c`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct NodePath(pub Vec<Seg>);

impl NodePath {
    /// The root path.
    pub fn root() -> Self {
        NodePath(Vec::new())
    }

    /// This path extended by a key.
    pub fn key(&self, key: &str) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Key(key.to_string()));
        NodePath(segs)
    }

    /// This path extended by an index.
    pub fn index(&self, index: usize) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Index(index));
        NodePath(segs)
    }

    /// The parent path (the root is its own parent).
    pub fn parent(&self) -> Self {
        let mut segs = self.0.clone();
        segs.pop();
        NodePath(segs)
    }
}

impl std::fmt::Display for NodePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// Position of one node: its value, and its key when it is a mapping entry.
#[derive(Debug, Clone, Copy)]
struct NodeSpan {
    value: Location,
    key: Option<Location>,
}

/// Positions of every node of one YAML file.
#[derive(Debug, Default)]
pub struct SourceIndex {
    nodes: HashMap<NodePath, NodeSpan>,
}

enum Frame {
    Mapping {
        path: NodePath,
        pending_key: Option<(String, Location)>,
    },
    Sequence {
        path: NodePath,
        next: usize,
    },
}

fn location(span: Span, source_lines: &[&str]) -> Location {
    let line = span.start.line();
    let col = span.start.col() + 1;
    let len = if span.end.line() == line && span.end.index() > span.start.index() {
        span.end.index() - span.start.index()
    } else {
        // A multi-line node: underline the rest of its first line.
        source_lines
            .get(line.saturating_sub(1))
            .map(|l| l.chars().count().saturating_sub(col - 1))
            .unwrap_or(1)
    };
    Location {
        line,
        col,
        len: len.max(1),
    }
}

impl SourceIndex {
    /// Indexes `source`. YAML syntax errors are not reported here (serde reports
    /// them with their position); the index then simply stops where the parser did.
    pub fn build(source: &str) -> Self {
        let lines: Vec<&str> = source.lines().collect();
        let mut index = SourceIndex::default();
        let mut stack: Vec<Frame> = Vec::new();
        for item in Parser::new_from_str(source) {
            let Ok((event, span)) = item else { break };
            let loc = location(span, &lines);
            match event {
                Event::Scalar(text, ..) => {
                    if index.take_key(&mut stack, &text, loc) {
                        continue;
                    }
                    index.add_value(&mut stack, loc);
                }
                Event::Alias(_) => {
                    if index.take_key(&mut stack, "*alias", loc) {
                        continue;
                    }
                    index.add_value(&mut stack, loc);
                }
                Event::MappingStart(..) | Event::SequenceStart(..) => {
                    let path = index.add_value(&mut stack, loc);
                    stack.push(if matches!(event, Event::MappingStart(..)) {
                        Frame::Mapping {
                            path,
                            pending_key: None,
                        }
                    } else {
                        Frame::Sequence { path, next: 0 }
                    });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                }
                _ => {}
            }
        }
        index
    }

    /// If the innermost frame is a mapping waiting for a key, records `text` as that key.
    fn take_key(&mut self, stack: &mut [Frame], text: &str, loc: Location) -> bool {
        if let Some(Frame::Mapping { pending_key, .. }) = stack.last_mut() {
            if pending_key.is_none() {
                *pending_key = Some((text.to_string(), loc));
                return true;
            }
        }
        false
    }

    /// Records a value node at the current position and returns its path.
    fn add_value(&mut self, stack: &mut [Frame], loc: Location) -> NodePath {
        let (path, key) = match stack.last_mut() {
            None => (NodePath::root(), None),
            Some(Frame::Sequence { path, next }) => {
                let p = path.index(*next);
                *next += 1;
                (p, None)
            }
            Some(Frame::Mapping { path, pending_key }) => match pending_key.take() {
                Some((k, kloc)) => (path.key(&k), Some(kloc)),
                None => (path.key("?"), None),
            },
        };
        self.nodes
            .insert(path.clone(), NodeSpan { value: loc, key });
        path
    }

    /// Where the value at `path` is, or the nearest ancestor that exists.
    pub fn value(&self, path: &NodePath) -> Location {
        self.find(path).map(|n| n.value).unwrap_or(Location {
            line: 1,
            col: 1,
            len: 1,
        })
    }

    /// Where the key of the entry at `path` is (falls back to its value).
    pub fn key(&self, path: &NodePath) -> Location {
        self.find(path)
            .map(|n| n.key.unwrap_or(n.value))
            .unwrap_or(Location {
                line: 1,
                col: 1,
                len: 1,
            })
    }

    /// Whether `path` exists in the file.
    pub fn contains(&self, path: &NodePath) -> bool {
        self.nodes.contains_key(path)
    }

    fn find(&self, path: &NodePath) -> Option<&NodeSpan> {
        let mut p = path.clone();
        loop {
            if let Some(n) = self.nodes.get(&p) {
                return Some(n);
            }
            if p.0.is_empty() {
                return None;
            }
            p.0.pop();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_keys_and_values() {
        let src = "commands:\n  - name: AT+QX\n    params:\n      - name: x\n        range: {min: 1, max: 2}\n";
        let idx = SourceIndex::build(src);
        let p = NodePath::root()
            .key("commands")
            .index(0)
            .key("params")
            .index(0)
            .key("range")
            .key("max");
        let v = idx.value(&p);
        assert_eq!((v.line, v.col), (5, 30));
        let k = idx.key(&NodePath::root().key("commands").index(0).key("name"));
        assert_eq!((k.line, k.col, k.len), (2, 5, 4));
        assert_eq!(p.to_string(), "commands[0].params[0].range.max");
    }

    #[test]
    fn missing_path_falls_back_to_ancestor() {
        let idx = SourceIndex::build("a:\n  b: 1\n");
        let v = idx.value(&NodePath::root().key("a").key("zz"));
        assert_eq!(v.line, 2);
    }

    #[test]
    fn never_panics_on_broken_yaml() {
        for src in ["a: [", "- - - :", "\"unterminated", "a:\n\tb: 1", "{]}"] {
            let _ = SourceIndex::build(src);
        }
    }
}
