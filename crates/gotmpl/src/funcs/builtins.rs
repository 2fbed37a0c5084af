//! Go's predefined template functions other than comparisons and `and`/`or`.

use std::sync::Arc;

use super::{Builtin, FuncError, FuncResult, arg_str};
use crate::escape;
use crate::fmt;
use crate::value::Value;

pub(super) fn all() -> Vec<(&'static str, Builtin)> {
    vec![
        ("not", not),
        ("len", len),
        ("index", index),
        ("slice", slice),
        ("print", |a| Ok(fmt::sprint(a).into())),
        ("println", |a| Ok(fmt::sprintln(a).into())),
        ("printf", printf),
        ("html", |a| Ok(escape::html_escape(&eval_args(a)).into())),
        ("js", |a| Ok(escape::js_escape(&eval_args(a)).into())),
        ("urlquery", |a| {
            Ok(escape::query_escape(&eval_args(a)).into())
        }),
    ]
}

/// How `html`, `js` and `urlquery` turn their arguments into one string: a lone string as
/// is, anything else through `Sprint` with missing values shown as `<no value>`.
fn eval_args(args: &[Value]) -> String {
    if let [Value::String(s)] = args {
        return s.to_string();
    }
    let printable: Vec<Value> = args
        .iter()
        .map(|a| match a {
            Value::Nil => Value::string("<no value>"),
            a => a.clone(),
        })
        .collect();
    fmt::sprint(&printable)
}

fn not(args: &[Value]) -> FuncResult {
    FuncError::check_arity(args, 1)?;
    Ok(Value::Bool(!args[0].is_true()))
}

fn len(args: &[Value]) -> FuncResult {
    FuncError::check_arity(args, 1)?;
    let n = match args[0].resolved() {
        Value::Nil => return Err("len of untyped nil".into()),
        Value::String(s) | Value::Html(s) => s.len(),
        Value::List(l) => l.len(),
        Value::Map(m) => m.len(),
        v => return Err(format!("len of type {}", v.type_name()).into()),
    };
    Ok(n.into())
}

/// An index argument checked against `cap` the way Go's `indexArg` does.
fn index_arg(index: &Value, cap: usize) -> Result<usize, FuncError> {
    let x = match index {
        Value::Int(x) => *x,
        Value::Nil => return Err("cannot index slice/array with nil".into()),
        v => return Err(format!("cannot index slice/array with type {}", v.type_name()).into()),
    };
    usize::try_from(x)
        .ok()
        .filter(|&i| i <= cap)
        .ok_or_else(|| format!("index out of range: {x}").into())
}

fn index(args: &[Value]) -> FuncResult {
    FuncError::check_min_arity(args, 1)?;
    let mut item = args[0].resolved();
    for idx in &args[1..] {
        item = match item {
            Value::Nil => return Err("index of untyped nil".into()),
            Value::List(l) => {
                let i = index_arg(idx, l.len())?;
                l.get(i)
                    .cloned()
                    .ok_or_else(|| format!("index out of range: {i}"))?
            }
            Value::String(s) | Value::Html(s) => {
                let i = index_arg(idx, s.len())?;
                let b = s
                    .as_bytes()
                    .get(i)
                    .ok_or_else(|| format!("index out of range: {i}"))?;
                Value::Int((*b).into())
            }
            Value::Map(m) => {
                let key = idx.as_str().ok_or_else(|| {
                    let t = if let Value::Nil = idx {
                        "<nil>".into()
                    } else {
                        idx.type_name()
                    };
                    format!("value has type {t}; should be string")
                })?;
                m.get(key).unwrap_or(m.zero()).clone()
            }
            v => return Err(format!("can't index item of type {}", v.type_name()).into()),
        }
        .resolved();
    }
    Ok(item)
}

fn slice(args: &[Value]) -> FuncResult {
    FuncError::check_min_arity(args, 1)?;
    let item = args[0].resolved();
    let indexes = &args[1..];
    if let Value::Nil = item {
        return Err("slice of untyped nil".into());
    }
    if indexes.len() > 3 {
        return Err(format!("too many slice indexes: {}", indexes.len()).into());
    }
    let len = match &item {
        Value::String(s) | Value::Html(s) => {
            if indexes.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            s.len()
        }
        Value::List(l) => l.len(),
        v => return Err(format!("can't slice item of type {}", v.type_name()).into()),
    };
    let mut idx = [0, len, len];
    for (i, index) in indexes.iter().enumerate() {
        idx[i] = index_arg(index, len)?;
    }
    if idx[0] > idx[1] {
        return Err(format!("invalid slice index: {} > {}", idx[0], idx[1]).into());
    }
    if indexes.len() == 3 && idx[1] > idx[2] {
        return Err(format!("invalid slice index: {} > {}", idx[1], idx[2]).into());
    }
    Ok(match item {
        Value::String(s) => {
            Value::String(String::from_utf8_lossy(&s.as_bytes()[idx[0]..idx[1]]).into())
        }
        Value::Html(s) => {
            Value::Html(String::from_utf8_lossy(&s.as_bytes()[idx[0]..idx[1]]).into())
        }
        Value::List(l) => Value::List(Arc::new(l[idx[0]..idx[1]].to_vec())),
        _ => unreachable!("checked above"),
    })
}

fn printf(args: &[Value]) -> FuncResult {
    FuncError::check_min_arity(args, 1)?;
    let format = arg_str(args, 0)?;
    Ok(fmt::sprintf(format, &args[1..]).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Value {
        x.into()
    }

    #[test]
    fn len_and_index() {
        let m = Value::map([("a", Value::Int(1))]);
        assert!(matches!(len(std::slice::from_ref(&m)), Ok(Value::Int(1))));
        assert!(matches!(len(&[s("héllo")]), Ok(Value::Int(6))));
        assert_eq!(
            len(&[Value::Int(3)]).unwrap_err().to_string(),
            "len of type int"
        );
        assert!(matches!(index(&[m.clone(), s("zz")]), Ok(Value::Nil)));
        let l = Value::list([s("x"), s("y")]);
        assert_eq!(fmt::to_v(&index(&[l.clone(), Value::Int(1)]).unwrap()), "y");
        assert_eq!(
            index(&[l, Value::Int(5)]).unwrap_err().to_string(),
            "index out of range: 5"
        );
        assert!(matches!(
            index(&[s("abc"), Value::Int(1)]),
            Ok(Value::Int(98))
        ));
        let strings = Value::from(crate::value::Map::of_strings([("k", "v")]));
        assert_eq!(fmt::to_v(&index(&[strings, s("missing")]).unwrap()), "");
    }

    #[test]
    fn slicing() {
        assert_eq!(
            fmt::to_v(&slice(&[s("hello"), Value::Int(1), Value::Int(3)]).unwrap()),
            "el"
        );
        let l = Value::list([1.into(), 2.into(), 3.into()]);
        assert_eq!(
            fmt::to_v(&slice(&[l.clone(), Value::Int(1)]).unwrap()),
            "[2 3]"
        );
        assert_eq!(
            slice(&[l, Value::Int(2), Value::Int(1)])
                .unwrap_err()
                .to_string(),
            "invalid slice index: 2 > 1"
        );
    }

    #[test]
    fn escaping_functions_use_eval_args() {
        let html = |a: &[Value]| {
            fmt::to_v(&all().into_iter().find(|(n, _)| *n == "html").unwrap().1(a).unwrap())
        };
        assert_eq!(html(&[s("<a href='x'>")]), "&lt;a href=&#39;x&#39;&gt;");
        assert_eq!(html(&[Value::Nil]), "&lt;no value&gt;");
        assert_eq!(html(&[Value::Int(1), Value::Int(2)]), "1 2");
    }
}
