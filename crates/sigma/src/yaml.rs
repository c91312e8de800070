//! A small, bounded YAML tree built from `yaml-rust2`'s event parser.
//!
//! `yaml-rust2`'s own loader recurses per nesting level and copies anchors
//! for every alias (exponential blow-up on "billion laughs" input). This
//! loader drives the parser with an explicit stack, caps nesting depth and
//! the total number of nodes (aliases included), so no YAML text can make
//! it panic, overflow the stack or exhaust memory.

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

/// Maximum nesting depth of collections.
pub const MAX_DEPTH: usize = 64;
/// Maximum number of nodes in one stream (after alias expansion).
pub const MAX_NODES: usize = 1_000_000;

/// A YAML node.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// `null`, `~` or empty.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float (kept with its text).
    Float(f64, String),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// The value under `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(m) => m
                .iter()
                .find(|(k, _)| matches!(k, Node::Str(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The node as text, if it is a scalar (strings, numbers, booleans).
    pub fn scalar_text(&self) -> Option<String> {
        match self {
            Node::Str(s) => Some(s.clone()),
            Node::Int(i) => Some(i.to_string()),
            Node::Float(_, t) => Some(t.clone()),
            Node::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// The node as a string slice, if it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Strings of a scalar or a sequence of scalars.
    pub fn string_list(&self) -> Vec<String> {
        match self {
            Node::Seq(items) => items.iter().filter_map(Node::scalar_text).collect(),
            other => other.scalar_text().into_iter().collect(),
        }
    }
}

/// One document with the line it starts on (1-based).
#[derive(Debug)]
pub struct Document {
    /// The root node.
    pub root: Node,
    /// Line of the document start.
    pub line: usize,
}

/// A YAML error with its position.
#[derive(Debug, Clone)]
pub struct YamlError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What went wrong.
    pub message: String,
}

enum Frame {
    Seq(Vec<Node>, usize),
    Map(Vec<(Node, Node)>, Option<Node>, usize),
}

fn resolve_plain(s: String) -> Node {
    match s.as_str() {
        "" | "~" | "null" | "Null" | "NULL" => return Node::Null,
        "true" | "True" | "TRUE" => return Node::Bool(true),
        "false" | "False" | "FALSE" => return Node::Bool(false),
        _ => {}
    }
    let b = s.as_bytes();
    let numeric_start = b
        .first()
        .is_some_and(|c| c.is_ascii_digit() || *c == b'-' || *c == b'+' || *c == b'.');
    if numeric_start {
        if let Ok(i) = s.parse::<i64>() {
            return Node::Int(i);
        }
        if let Some(hex) = s.strip_prefix("0x") {
            if let Ok(i) = i64::from_str_radix(hex, 16) {
                return Node::Int(i);
            }
        }
        if s.bytes().any(|c| c.is_ascii_digit()) && !s.contains(['_', ':']) {
            if let Ok(f) = s.parse::<f64>() {
                if f.is_finite() {
                    return Node::Float(f, s);
                }
            }
        }
    }
    Node::Str(s)
}

/// Parse every document of a YAML stream. On a syntax error, the documents
/// completed before it are returned along with the error.
pub fn load(text: &str) -> (Vec<Document>, Option<YamlError>) {
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: Vec<(usize, Node, usize)> = Vec::new();
    let mut nodes = 0usize;
    let mut doc_line = 1usize;
    let mut want_line = true;
    loop {
        let (ev, mark) = match parser.next_token() {
            Ok(x) => x,
            Err(e) => {
                let m = e.marker();
                return (
                    docs,
                    Some(YamlError {
                        line: m.line(),
                        column: m.col() + 1,
                        message: e.info().to_string(),
                    }),
                );
            }
        };
        let err = |message: &str| YamlError {
            line: mark.line(),
            column: mark.col() + 1,
            message: message.to_string(),
        };
        if want_line
            && matches!(
                ev,
                Event::Scalar(..) | Event::SequenceStart(..) | Event::MappingStart(..)
            )
        {
            doc_line = mark.line();
            want_line = false;
        }
        let complete: Option<(Node, usize)> = match ev {
            Event::StreamEnd => return (docs, None),
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => None,
            Event::DocumentStart => {
                anchors.clear();
                doc_line = mark.line();
                want_line = true;
                None
            }
            Event::Alias(id) => {
                let found = anchors.iter().rev().find(|(a, _, _)| *a == id);
                match found {
                    Some((_, n, size)) => {
                        nodes = nodes.saturating_add(*size);
                        if nodes > MAX_NODES {
                            return (docs, Some(err("document too large (alias expansion)")));
                        }
                        Some((n.clone(), 0))
                    }
                    None => return (docs, Some(err("alias to an unknown anchor"))),
                }
            }
            Event::Scalar(s, style, anchor, _tag) => {
                nodes += 1;
                let n = if style == TScalarStyle::Plain {
                    resolve_plain(s)
                } else {
                    Node::Str(s)
                };
                Some((n, anchor))
            }
            Event::SequenceStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return (docs, Some(err("nesting too deep")));
                }
                nodes += 1;
                stack.push(Frame::Seq(Vec::new(), anchor));
                None
            }
            Event::MappingStart(anchor, _) => {
                if stack.len() >= MAX_DEPTH {
                    return (docs, Some(err("nesting too deep")));
                }
                nodes += 1;
                stack.push(Frame::Map(Vec::new(), None, anchor));
                None
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq(items, anchor)) => Some((Node::Seq(items), anchor)),
                _ => return (docs, Some(err("unbalanced sequence end"))),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map(items, _, anchor)) => Some((Node::Map(items), anchor)),
                _ => return (docs, Some(err("unbalanced mapping end"))),
            },
        };
        if nodes > MAX_NODES {
            return (docs, Some(err("document too large")));
        }
        if let Some((node, anchor)) = complete {
            if anchor != 0 {
                anchors.push((anchor, node.clone(), count_nodes(&node)));
            }
            match stack.last_mut() {
                None => docs.push(Document {
                    root: node,
                    line: doc_line,
                }),
                Some(Frame::Seq(items, _)) => items.push(node),
                Some(Frame::Map(items, key, _)) => match key.take() {
                    None => *key = Some(node),
                    Some(k) => items.push((k, node)),
                },
            }
        }
    }
}

fn count_nodes(n: &Node) -> usize {
    // Iterative count (depth is bounded anyway, but keep it flat).
    let mut total = 0usize;
    let mut todo: Vec<&Node> = vec![n];
    while let Some(n) = todo.pop() {
        total += 1;
        match n {
            Node::Seq(items) => todo.extend(items.iter()),
            Node::Map(items) => {
                for (k, v) in items {
                    todo.push(k);
                    todo.push(v);
                }
            }
            _ => {}
        }
    }
    total
}
