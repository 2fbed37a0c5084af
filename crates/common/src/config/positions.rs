//! Where each node of a YAML document stands, by path.
//!
//! serde decodes a config into typed structs and forgets where things were, but some upstream
//! validators report the line and column of the offending node (`12:7: group "x", rule 2, ...`
//! in rule files). This index is built from a second, event-level pass over the same text, so a
//! validator can look the position up by the path of the field it complains about.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, Span};

/// A position as YAML users count it: line and column both 1-based (go-yaml's `Node.Line` and
/// `Node.Column`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// The start of every node of the first document, keyed by path: mapping keys joined with `.`,
/// sequence items as `[i]` (`groups[0].rules[2].expr`); the root is the empty path.
#[derive(Clone, Debug, Default)]
pub struct Positions {
    nodes: HashMap<String, Position>,
}

enum Frame {
    Map { path: String, key: Option<String> },
    Seq { path: String, next: usize },
}

impl Positions {
    /// Indexes `text`. A document that does not parse yields what was indexed before the error:
    /// the typed decode reports syntax errors, this index only serves positions.
    pub fn new(text: &str) -> Self {
        let mut nodes = HashMap::new();
        let mut stack: Vec<Frame> = Vec::new();
        for event in Parser::new_from_str(text) {
            let Ok((event, span)) = event else { break };
            match event {
                Event::Scalar(value, ..) => {
                    if let Some(Frame::Map {
                        key: key @ None, ..
                    }) = stack.last_mut()
                    {
                        *key = Some(value.into_owned());
                        continue;
                    }
                    if let Some(path) = child_path(&mut stack) {
                        nodes.insert(path, position(span));
                    }
                }
                Event::Alias(_) => {
                    if let Some(path) = child_path(&mut stack) {
                        nodes.insert(path, position(span));
                    }
                }
                Event::MappingStart(..) | Event::SequenceStart(..) => {
                    // A complex (non-scalar) mapping key is indexed under the key "?".
                    if let Some(Frame::Map {
                        key: key @ None, ..
                    }) = stack.last_mut()
                    {
                        *key = Some("?".to_owned());
                    }
                    let Some(path) = child_path(&mut stack) else {
                        continue;
                    };
                    nodes.insert(path.clone(), position(span));
                    stack.push(if matches!(event, Event::MappingStart(..)) {
                        Frame::Map { path, key: None }
                    } else {
                        Frame::Seq { path, next: 0 }
                    });
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    stack.pop();
                }
                Event::DocumentEnd => break,
                Event::Nothing
                | Event::StreamStart
                | Event::StreamEnd
                | Event::DocumentStart(_) => {}
            }
        }
        Positions { nodes }
    }

    /// Where the node at `path` starts.
    pub fn get(&self, path: &str) -> Option<Position> {
        self.nodes.get(path).copied()
    }

    /// Every indexed node, in no particular order: e.g. to find mapping keys a typed decode
    /// ignored.
    pub fn iter(&self) -> impl Iterator<Item = (&str, Position)> {
        self.nodes.iter().map(|(path, at)| (path.as_str(), *at))
    }
}

/// The path of the value about to start under the top frame, advancing the frame past it.
fn child_path(stack: &mut [Frame]) -> Option<String> {
    match stack.last_mut() {
        None => Some(String::new()),
        Some(Frame::Map { path, key }) => {
            let key = key.take()?;
            Some(if path.is_empty() {
                key
            } else {
                format!("{path}.{key}")
            })
        }
        Some(Frame::Seq { path, next }) => {
            *next += 1;
            Some(format!("{path}[{}]", *next - 1))
        }
    }
}

fn position(span: Span) -> Position {
    Position {
        line: span.start.line(),
        column: span.start.col() + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_positions() {
        let text = "groups:\n  - name: a\n    rules:\n      - record: x\n        expr: up\n      - alert: y\n        expr: 'down'\n";
        let p = Positions::new(text);
        let at = |path| p.get(path).map(|p| (p.line, p.column));
        assert_eq!(at("groups"), Some((2, 3)));
        assert_eq!(at("groups[0]"), Some((2, 5)));
        assert_eq!(at("groups[0].name"), Some((2, 11)));
        assert_eq!(at("groups[0].rules[0].record"), Some((4, 17)));
        assert_eq!(at("groups[0].rules[1].alert"), Some((6, 16)));
        assert_eq!(at("groups[0].rules[1].expr"), Some((7, 15)));
        assert_eq!(at("groups[0].rules[2]"), None);
        assert_eq!(at("groups[1]"), None);
    }

    #[test]
    fn flow_collections_and_broken_documents() {
        let p = Positions::new("a: {b: [1, 2]}\nc: [");
        assert_eq!(
            p.get("a.b[1]"),
            Some(Position {
                line: 1,
                column: 12
            })
        );
        assert_eq!(p.get("c"), Some(Position { line: 2, column: 4 }));
    }
}
