//! Execution: walks a [`Tree`] over a [`Value`], following Go's `text/template/exec.go`
//! semantics for scoping, control flow and error reporting.

mod eval;

use std::fmt::Display;

use crate::ast::{ArgKind, Branch, Node, Pipeline, TemplateCall, Tree};
use crate::error::ExecError;
use crate::html::HtmlWriter;
use crate::template::{MissingKey, Template};
use crate::value::Value;
use crate::{escape, fmt};

/// How a list of nodes finished.
enum Flow {
    Normal,
    Break,
    Continue,
}

type EResult<T> = Result<T, ExecError>;

/// Where the printed output goes.
enum Output {
    Text(String),
    Html(HtmlWriter),
}

/// A node an error can point at: its offset and source rendering.
#[derive(Clone, Copy)]
struct At<'a> {
    pos: usize,
    node: &'a dyn Display,
}

pub(crate) fn execute(set: &Template, tree: &Tree, data: &Value) -> EResult<String> {
    let mut exec = Exec {
        set,
        tree,
        vars: vec![("$", data.clone())],
        depth: 0,
        out: if set.is_html() {
            Output::Html(HtmlWriter::new())
        } else {
            Output::Text(String::new())
        },
    };
    exec.walk_list(data, &tree.root)?;
    Ok(match exec.out {
        Output::Text(s) => s,
        Output::Html(w) => w.into_string(),
    })
}

struct Exec<'t> {
    set: &'t Template,
    /// The template being executed, for error locations.
    tree: &'t Tree,
    /// Variables in scope, innermost last; names borrow from the parsed templates.
    vars: Vec<(&'t str, Value)>,
    depth: usize,
    out: Output,
}

impl<'t> Exec<'t> {
    fn error(&self, at: At<'_>, message: impl Into<String>) -> ExecError {
        ExecError::At {
            location: self.tree.location(at.pos),
            template: self.tree.name.clone(),
            context: at.node.to_string(),
            message: message.into(),
        }
    }

    fn missing_key(&self) -> MissingKey {
        self.set.missing_key_mode()
    }

    fn walk_list(&mut self, dot: &Value, list: &'t [Node]) -> EResult<Flow> {
        for node in list {
            match self.walk(dot, node)? {
                Flow::Normal => {}
                flow => return Ok(flow),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Value, node: &'t Node) -> EResult<Flow> {
        match node {
            Node::Text(text) => match &mut self.out {
                Output::Text(s) => s.push_str(text),
                Output::Html(w) => w.text(text),
            },
            Node::Action(pipe) => {
                if let Output::Html(_) = self.out
                    && pipe.decl.is_empty()
                {
                    return self.print_html_action(dot, pipe).map(|()| Flow::Normal);
                }
                let value = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.print(
                        &value,
                        At {
                            pos: pipe.pos,
                            node: pipe,
                        },
                    )?;
                }
            }
            Node::If(branch) => return self.walk_if_with(dot, branch, false),
            Node::With(branch) => return self.walk_if_with(dot, branch, true),
            Node::Range(branch) => return self.walk_range(dot, branch),
            Node::Template(call) => self.walk_template(dot, call)?,
            Node::Break => return Ok(Flow::Break),
            Node::Continue => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    /// Prints an action's value in text mode: `<no value>` for nil like Go.
    fn print(&mut self, value: &Value, at: At<'_>) -> EResult<()> {
        if let Value::Func(_) = value {
            return Err(self.error(
                at,
                format!("can't print {} of type {}", at.node, value.type_name()),
            ));
        }
        match &mut self.out {
            Output::Text(s) => match value {
                Value::Nil => s.push_str("<no value>"),
                v => fmt::write_v(s, v),
            },
            Output::Html(w) => w.value(value, false),
        }
        Ok(())
    }

    /// Prints an action in HTML mode. A trailing `html` or `urlquery` stands in for the
    /// context's own escaper instead of escaping twice, as Go's `html/template` arranges.
    fn print_html_action(&mut self, dot: &Value, pipe: &'t Pipeline) -> EResult<()> {
        let at = At {
            pos: pipe.pos,
            node: pipe,
        };
        let last = pipe.cmds.last().and_then(|c| match &c.args[0].kind {
            ArgKind::Identifier(name) if name == "html" || name == "urlquery" => {
                Some(name.as_str())
            }
            _ => None,
        });
        let Some(escaper) = last else {
            let value = self.eval_pipeline(dot, pipe)?;
            return self.print(&value, at);
        };
        let n = pipe.cmds.len();
        let cmd = &pipe.cmds[n - 1];
        let mut args = Vec::new();
        let piped = if n > 1 {
            Some(self.eval_cmds(dot, &pipe.cmds[..n - 1])?)
        } else {
            None
        };
        for arg in &cmd.args[1..] {
            args.push(self.eval_arg(dot, arg)?);
        }
        // As for any function, the piped value comes last.
        args.extend(piped);
        let value = match args.as_slice() {
            [single] => single.clone(),
            many => Value::from(fmt::sprint(many)),
        };
        let Output::Html(w) = &mut self.out else {
            unreachable!("only called in HTML mode")
        };
        if escaper == "urlquery" {
            let plain = match &value {
                Value::Nil => String::from("<no value>"),
                v => fmt::to_v(v),
            };
            w.value(&Value::from(escape::query_escape(&plain)), true);
        } else {
            w.value(&value, false);
        }
        Ok(())
    }

    fn walk_if_with(&mut self, dot: &Value, branch: &'t Branch, is_with: bool) -> EResult<Flow> {
        let mark = self.vars.len();
        let value = self.eval_pipeline(dot, &branch.pipe)?;
        let flow = if value.is_true() {
            let dot = if is_with { &value } else { dot };
            self.walk_list(dot, &branch.list)?
        } else if let Some(else_list) = &branch.else_list {
            self.walk_list(dot, else_list)?
        } else {
            Flow::Normal
        };
        self.vars.truncate(mark);
        Ok(flow)
    }

    fn walk_range(&mut self, dot: &Value, branch: &'t Branch) -> EResult<Flow> {
        let mark = self.vars.len();
        let value = self.eval_pipeline(dot, &branch.pipe)?.resolved();
        let at = At {
            pos: branch.pipe.pos,
            node: &branch.pipe,
        };
        let mut ran = false;
        match &value {
            Value::List(items) => {
                for (i, item) in items.iter().enumerate() {
                    ran = true;
                    if self.iteration(branch, Value::from(i), item)? {
                        break;
                    }
                }
            }
            Value::Map(map) => {
                for (key, item) in map.iter() {
                    ran = true;
                    if self.iteration(branch, Value::from(key.as_str()), item)? {
                        break;
                    }
                }
            }
            Value::Int(n) => {
                if branch.pipe.decl.len() > 1 {
                    let message = format!("can't use {n} to iterate over more than one variable");
                    return Err(self.error(at, message));
                }
                for i in 0..*n {
                    ran = true;
                    if self.iteration(branch, Value::Int(i), &Value::Int(i))? {
                        break;
                    }
                }
            }
            Value::Nil => {}
            v => return Err(self.error(at, format!("range can't iterate over {}", fmt::to_v(v)))),
        }
        // The else list is outside the loop: break/continue cannot occur there.
        if let (Some(else_list), false) = (&branch.else_list, ran) {
            self.walk_list(dot, else_list)?;
        }
        self.vars.truncate(mark);
        Ok(Flow::Normal)
    }

    /// One range iteration; returns whether `{{break}}` ended the loop.
    fn iteration(&mut self, branch: &'t Branch, index: Value, elem: &Value) -> EResult<bool> {
        let mark = self.vars.len();
        let decl = &branch.pipe.decl;
        if branch.pipe.is_assign {
            let at = At {
                pos: branch.pipe.pos,
                node: &branch.pipe,
            };
            if decl.len() > 1 {
                self.set_var(&decl[0], index, at)?;
                self.set_var(&decl[1], elem.clone(), at)?;
            } else if let Some(name) = decl.first() {
                self.set_var(name, elem.clone(), at)?;
            }
        } else {
            // The pipeline pushed its declared variables; overwrite them in place.
            if !decl.is_empty() {
                self.vars[mark - 1].1 = elem.clone();
            }
            if decl.len() > 1 {
                self.vars[mark - 2].1 = index;
            }
        }
        let flow = self.walk_list(elem, &branch.list)?;
        self.vars.truncate(mark);
        Ok(matches!(flow, Flow::Break))
    }

    fn set_var(&mut self, name: &str, value: Value, at: At<'_>) -> EResult<()> {
        match self.vars.iter_mut().rev().find(|(n, _)| *n == name) {
            Some(slot) => {
                slot.1 = value;
                Ok(())
            }
            None => Err(self.error(at, format!("undefined variable: {name}"))),
        }
    }

    fn walk_template(&mut self, dot: &Value, call: &'t TemplateCall) -> EResult<()> {
        let display = TemplateDisplay(call);
        let at = At {
            pos: call.pos,
            node: &display,
        };
        let Some(tree) = self.set.tree(&call.name) else {
            return Err(self.error(at, format!("template {:?} not defined", call.name)));
        };
        let max = self.set.max_depth_limit();
        if self.depth >= max {
            return Err(self.error(at, format!("exceeded maximum template depth ({max})")));
        }
        let new_dot = match &call.pipe {
            Some(pipe) => self.eval_pipeline(dot, pipe)?,
            None => Value::Nil,
        };
        let saved_vars = std::mem::replace(&mut self.vars, vec![("$", new_dot.clone())]);
        let saved_tree = std::mem::replace(&mut self.tree, tree);
        self.depth += 1;
        let result = self.walk_list(&new_dot, &tree.root);
        self.depth -= 1;
        self.tree = saved_tree;
        self.vars = saved_vars;
        result.map(|_| ())
    }
}

/// Go's rendering of a template node in error contexts.
struct TemplateDisplay<'a>(&'a TemplateCall);

impl Display for TemplateDisplay<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0.pipe {
            Some(pipe) => write!(f, "{{{{template {:?} {pipe}}}}}", self.0.name),
            None => write!(f, "{{{{template {:?}}}}}", self.0.name),
        }
    }
}

#[cfg(test)]
mod tests;
