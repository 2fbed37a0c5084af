//! Parsed templates. Nodes keep their byte offset so execution errors can name the line and
//! column and quote the failing node the way Go does (`at <.Foo>`).

use std::fmt;
use std::sync::Arc;

/// One named template: the top level of a parsed text or a `define`/`block` body.
#[derive(Debug)]
pub struct Tree {
    pub(crate) name: String,
    /// Name of the template whose source this came from; Go reports locations with it.
    pub(crate) parse_name: Arc<str>,
    pub(crate) source: Arc<str>,
    pub(crate) root: Vec<Node>,
}

impl Tree {
    /// The template's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Go's `parse.IsEmptyTree`: only whitespace text. Such a definition never replaces an
    /// existing one, which is what lets files be parsed in any order.
    pub(crate) fn is_empty(&self) -> bool {
        self.root
            .iter()
            .all(|n| matches!(n, Node::Text(t) if t.trim_ascii().is_empty()))
    }

    /// `name:line:col` of a node, with Go's zero-based byte column.
    pub(crate) fn location(&self, pos: usize) -> String {
        let before = &self.source[..pos.min(self.source.len())];
        let line = 1 + before.matches('\n').count();
        let col = match before.rfind('\n') {
            Some(nl) => pos - nl - 1,
            None => pos,
        };
        format!("{}:{line}:{col}", self.parse_name)
    }
}

#[derive(Debug)]
pub(crate) enum Node {
    Text(Box<str>),
    Action(Pipeline),
    If(Branch),
    Range(Branch),
    With(Branch),
    Template(TemplateCall),
    Break,
    Continue,
}

/// The shared shape of `if`, `range` and `with`.
#[derive(Debug)]
pub(crate) struct Branch {
    pub pipe: Pipeline,
    pub list: Vec<Node>,
    pub else_list: Option<Vec<Node>>,
}

#[derive(Debug)]
pub(crate) struct TemplateCall {
    pub pos: usize,
    pub name: String,
    pub pipe: Option<Pipeline>,
}

#[derive(Debug)]
pub(crate) struct Pipeline {
    pub pos: usize,
    /// `$x = …` rather than `$x := …`.
    pub is_assign: bool,
    pub decl: Vec<String>,
    pub cmds: Vec<Command>,
}

#[derive(Debug)]
pub(crate) struct Command {
    pub pos: usize,
    pub args: Vec<Arg>,
}

#[derive(Debug)]
pub(crate) struct Arg {
    pub pos: usize,
    pub kind: ArgKind,
}

#[derive(Debug)]
pub(crate) enum ArgKind {
    Dot,
    Nil,
    Bool(bool),
    Number {
        value: Number,
        text: Box<str>,
    },
    String {
        value: Arc<str>,
        text: Box<str>,
    },
    /// `.A.B`: field names relative to dot.
    Field(Vec<String>),
    /// `$x.A.B`: the variable name (with `$`) then field names.
    Variable(Vec<String>),
    /// A function name.
    Identifier(String),
    /// A parenthesised pipeline.
    Pipe(Box<Pipeline>),
    /// Fields applied to another term, like `(pipeline).A`.
    Chain(Box<Arg>, Vec<String>),
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Number {
    Int(i64),
    Float(f64),
}

impl fmt::Display for Pipeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.decl.is_empty() {
            f.write_str(&self.decl.join(", "))?;
            f.write_str(if self.is_assign { " = " } else { " := " })?;
        }
        for (i, cmd) in self.cmds.iter().enumerate() {
            if i > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{cmd}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, arg) in self.args.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            match &arg.kind {
                ArgKind::Pipe(p) => write!(f, "({p})")?,
                _ => write!(f, "{arg}")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ArgKind::Dot => f.write_str("."),
            ArgKind::Nil => f.write_str("nil"),
            ArgKind::Bool(b) => write!(f, "{b}"),
            ArgKind::Number { text, .. } | ArgKind::String { text, .. } => f.write_str(text),
            ArgKind::Field(names) => names.iter().try_for_each(|n| write!(f, ".{n}")),
            ArgKind::Variable(names) => f.write_str(&names.join(".")),
            ArgKind::Identifier(name) => f.write_str(name),
            ArgKind::Pipe(p) => write!(f, "{p}"),
            ArgKind::Chain(base, names) => {
                match &base.kind {
                    ArgKind::Pipe(p) => write!(f, "({p})")?,
                    _ => write!(f, "{base}")?,
                }
                names.iter().try_for_each(|n| write!(f, ".{n}"))
            }
        }
    }
}
