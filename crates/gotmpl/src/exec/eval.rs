//! Evaluation of pipelines, commands, arguments, fields and function calls.

use super::{At, EResult, Exec};
use crate::ast::{Arg, ArgKind, Command, Number, Pipeline};
use crate::funcs::{Callable, FuncError};
use crate::template::MissingKey;
use crate::value::Value;

impl<'t> Exec<'t> {
    /// Evaluates a pipeline and binds its declared variables.
    pub(super) fn eval_pipeline(&mut self, dot: &Value, pipe: &'t Pipeline) -> EResult<Value> {
        let value = self.eval_cmds(dot, &pipe.cmds)?;
        for name in &pipe.decl {
            if pipe.is_assign {
                self.set_var(
                    name,
                    value.clone(),
                    At {
                        pos: pipe.pos,
                        node: pipe,
                    },
                )?;
            } else {
                self.vars.push((name, value.clone()));
            }
        }
        Ok(value)
    }

    /// Runs commands left to right, each receiving the previous result as its last argument.
    pub(super) fn eval_cmds(&mut self, dot: &Value, cmds: &'t [Command]) -> EResult<Value> {
        let mut value = None;
        for cmd in cmds {
            value = Some(self.eval_command(dot, cmd, value)?);
        }
        Ok(value.unwrap_or_default())
    }

    fn eval_command(
        &mut self,
        dot: &Value,
        cmd: &'t Command,
        last: Option<Value>,
    ) -> EResult<Value> {
        let first = &cmd.args[0];
        let at = At {
            pos: first.pos,
            node: first,
        };
        match &first.kind {
            ArgKind::Field(names) => {
                return self.eval_field_chain(dot, dot.clone(), at, names, &cmd.args, last);
            }
            ArgKind::Chain(base, names) => {
                if let ArgKind::Nil = base.kind {
                    return Err(
                        self.error(at, format!("indirection through explicit nil in {first}"))
                    );
                }
                let receiver = self.eval_arg(dot, base)?;
                return self.eval_field_chain(dot, receiver, at, names, &cmd.args, last);
            }
            ArgKind::Identifier(name) => {
                let cmd_at = At {
                    pos: cmd.pos,
                    node: cmd,
                };
                return self.eval_function(dot, name, at, cmd_at, &cmd.args, last);
            }
            ArgKind::Variable(names) => return self.eval_variable(dot, at, names, &cmd.args, last),
            _ => {}
        }
        if cmd.args.len() > 1 || last.is_some() {
            return Err(self.error(at, format!("can't give argument to non-function {first}")));
        }
        match &first.kind {
            ArgKind::Pipe(pipe) => self.eval_pipeline(dot, pipe),
            ArgKind::Nil => Err(self.error(at, "nil is not a command")),
            _ => self.eval_arg(dot, first),
        }
    }

    /// Evaluates an operand in argument position.
    pub(super) fn eval_arg(&mut self, dot: &Value, arg: &'t Arg) -> EResult<Value> {
        let at = At {
            pos: arg.pos,
            node: arg,
        };
        Ok(match &arg.kind {
            ArgKind::Dot => dot.clone(),
            ArgKind::Nil => Value::Nil,
            ArgKind::Bool(b) => Value::Bool(*b),
            ArgKind::Number { value, .. } => match value {
                Number::Int(i) => Value::Int(*i),
                Number::Float(x) => Value::Float(*x),
            },
            ArgKind::String { value, .. } => Value::String(value.clone()),
            ArgKind::Field(names) => {
                return self.eval_field_chain(
                    dot,
                    dot.clone(),
                    at,
                    names,
                    std::slice::from_ref(arg),
                    None,
                );
            }
            ArgKind::Variable(names) => {
                return self.eval_variable(dot, at, names, std::slice::from_ref(arg), None);
            }
            ArgKind::Pipe(pipe) => return self.eval_pipeline(dot, pipe),
            ArgKind::Identifier(name) => {
                return self.eval_function(dot, name, at, at, std::slice::from_ref(arg), None);
            }
            ArgKind::Chain(base, names) => {
                let receiver = self.eval_arg(dot, base)?;
                return self.eval_field_chain(
                    dot,
                    receiver,
                    at,
                    names,
                    std::slice::from_ref(arg),
                    None,
                );
            }
        })
    }

    fn eval_variable(
        &mut self,
        dot: &Value,
        at: At<'_>,
        names: &[String],
        args: &'t [Arg],
        last: Option<Value>,
    ) -> EResult<Value> {
        let Some((_, value)) = self.vars.iter().rev().find(|(n, _)| *n == names[0]) else {
            return Err(self.error(at, format!("undefined variable: {}", names[0])));
        };
        let value = value.clone();
        if names.len() == 1 {
            if args.len() > 1 || last.is_some() {
                return Err(self.error(
                    at,
                    format!("can't give argument to non-function {}", at.node),
                ));
            }
            return Ok(value);
        }
        self.eval_field_chain(dot, value, at, &names[1..], args, last)
    }

    /// `.A.B.C args…`: all but the last name take no arguments.
    fn eval_field_chain(
        &mut self,
        dot: &Value,
        mut receiver: Value,
        at: At<'_>,
        names: &[String],
        args: &'t [Arg],
        last: Option<Value>,
    ) -> EResult<Value> {
        let (final_name, path) = names
            .split_last()
            .expect("a field chain has at least one name");
        for name in path {
            receiver = self.eval_field(dot, name, at, &[], None, receiver)?;
        }
        self.eval_field(dot, final_name, at, args, last, receiver)
    }

    /// One `.Name` lookup: a method or field of an object, or a map key.
    fn eval_field(
        &mut self,
        dot: &Value,
        name: &str,
        at: At<'_>,
        args: &'t [Arg],
        last: Option<Value>,
        receiver: Value,
    ) -> EResult<Value> {
        let has_args = args.len() > 1 || last.is_some();
        let receiver = match receiver {
            Value::Object(object) => {
                let mut values = Vec::with_capacity(args.len());
                for arg in args.iter().skip(1) {
                    values.push(self.eval_arg(dot, arg)?);
                }
                values.extend(last);
                if let Some(result) = object.method(name, &values) {
                    return result
                        .map_err(|e| self.error(at, format!("error calling {name}: {e}")));
                }
                if let Some(field) = object.field(name) {
                    if has_args {
                        let message =
                            format!("{name} has arguments but cannot be invoked as function");
                        return Err(self.error(at, message));
                    }
                    return Ok(field);
                }
                match object.base() {
                    Some(base) => base,
                    None => {
                        let message =
                            format!("can't evaluate field {name} in type {}", object.type_name());
                        return Err(self.error(at, message));
                    }
                }
            }
            other => other,
        };
        match receiver {
            Value::Map(map) => {
                if has_args {
                    return Err(self.error(at, format!("{name} is not a method but has arguments")));
                }
                match map.get(name) {
                    Some(v) => Ok(v.clone()),
                    None => match self.missing_key() {
                        MissingKey::Default => Ok(Value::Nil),
                        MissingKey::Zero => Ok(map.zero().clone()),
                        MissingKey::Error => {
                            Err(self.error(at, format!("map has no entry for key {name:?}")))
                        }
                    },
                }
            }
            Value::Nil => match self.missing_key() {
                MissingKey::Error => {
                    Err(self.error(at, format!("nil data; no entry for key {name:?}")))
                }
                _ => Ok(Value::Nil),
            },
            other => {
                let message = format!("can't evaluate field {name} in type {}", other.type_name());
                Err(self.error(at, message))
            }
        }
    }

    /// Calls a function. `ident` is the name's node (arity errors point there), `cmd` the
    /// whole command (call failures point there), as in Go.
    fn eval_function(
        &mut self,
        dot: &Value,
        name: &str,
        ident: At<'_>,
        cmd: At<'_>,
        args: &'t [Arg],
        last: Option<Value>,
    ) -> EResult<Value> {
        let Some(callable) = self.set.funcs().get(name).cloned() else {
            return Err(self.error(ident, format!("{name:?} is not a defined function")));
        };
        let argc = args.len() - 1 + usize::from(last.is_some());
        let f = match callable {
            Callable::And | Callable::Or => {
                if argc == 0 {
                    let message = format!("wrong number of args for {name}: want at least 1 got 0");
                    return Err(self.error(ident, message));
                }
                let stop_on = matches!(callable, Callable::Or);
                let mut value = Value::Nil;
                for arg in &args[1..] {
                    value = self.eval_arg(dot, arg)?;
                    if value.is_true() == stop_on {
                        return Ok(value);
                    }
                }
                return Ok(last.unwrap_or(value));
            }
            Callable::Call => None,
            Callable::Func(f) => Some(f),
        };
        let mut values = Vec::with_capacity(argc);
        for arg in &args[1..] {
            values.push(self.eval_arg(dot, arg)?);
        }
        let callee_name = match args.get(1) {
            Some(arg) => arg.to_string(),
            None => last.as_ref().map(crate::fmt::to_v).unwrap_or_default(),
        };
        values.extend(last);
        let result = match f {
            Some(f) => f.call(&values),
            None => call(&callee_name, &values),
        };
        result.map_err(|e| match e {
            FuncError::Arity { want, got } => self.error(
                ident,
                format!("wrong number of args for {name}: want {want} got {got}"),
            ),
            e @ FuncError::ArgType { .. } => self.error(ident, e.to_string()),
            FuncError::Failed(message) => {
                self.error(cmd, format!("error calling {name}: {message}"))
            }
        })
    }
}

/// The `call` builtin: calls a function value with the remaining arguments.
fn call(callee_name: &str, args: &[Value]) -> crate::funcs::FuncResult {
    FuncError::check_min_arity(args, 1)?;
    match &args[0] {
        Value::Func(f) => f
            .call(&args[1..])
            .map_err(|e| FuncError::Failed(e.to_string())),
        Value::Nil => Err("call of nil".into()),
        v => Err(format!("non-function {callee_name} of type {}", v.type_name()).into()),
    }
}
