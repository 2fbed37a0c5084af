//! Go's comparison builtins. Only basic kinds compare; ints and floats never mix, which is a
//! classic surprise (`gt .Value 1` fails on a float) that users' templates already handle.

use super::{Builtin, FuncError, FuncResult};
use crate::fmt;
use crate::value::Value;

const BAD_TYPE: &str = "invalid type for comparison";
const INCOMPATIBLE: &str = "incompatible types for comparison";
const MISSING: &str = "missing argument for comparison";

pub(super) fn all() -> Vec<(&'static str, Builtin)> {
    vec![
        ("eq", eq),
        ("ne", |a| {
            FuncError::check_arity(a, 2)?;
            Ok(Value::Bool(!equal(&a[0], &a[1..])?))
        }),
        ("lt", |a| order(a, |lt, _| lt)),
        ("le", |a| order(a, |lt, eq| lt || eq)),
        ("gt", |a| order(a, |lt, eq| !(lt || eq))),
        ("ge", |a| order(a, |lt, _| !lt)),
    ]
}

/// The basic kind of a value, as the comparison functions see it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Bool,
    Int,
    Float,
    String,
    /// Nil, lists, maps, functions and opaque objects.
    Other,
}

fn kind(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::String(_) | Value::Html(_) => Kind::String,
        _ => Kind::Other,
    }
}

fn eq(args: &[Value]) -> FuncResult {
    FuncError::check_min_arity(args, 1)?;
    Ok(Value::Bool(equal(&args[0], &args[1..])?))
}

/// Whether `a` equals any of `others`.
fn equal(a: &Value, others: &[Value]) -> Result<bool, FuncError> {
    if others.is_empty() {
        return Err(MISSING.into());
    }
    let a = a.resolved();
    let k1 = kind(&a);
    for b in others {
        let b = b.resolved();
        let k2 = kind(&b);
        let truth = if k1 != k2 {
            if !matches!(a, Value::Nil) && !matches!(b, Value::Nil) {
                return Err(INCOMPATIBLE.into());
            }
            false
        } else {
            match (&a, &b) {
                (Value::Bool(x), Value::Bool(y)) => x == y,
                (Value::Int(x), Value::Int(y)) => x == y,
                (Value::Float(x), Value::Float(y)) => x == y,
                _ if k1 == Kind::String => a.as_str() == b.as_str(),
                (Value::Nil, _) | (_, Value::Nil) => {
                    matches!(a, Value::Nil) && matches!(b, Value::Nil)
                }
                _ => {
                    return Err(format!(
                        "non-comparable type {}: {}",
                        fmt::to_v(&b),
                        b.type_name()
                    )
                    .into());
                }
            }
        };
        if truth {
            return Ok(true);
        }
    }
    Ok(false)
}

/// `lt`-derived comparisons: `decide(less, equal)` picks the answer.
fn order(args: &[Value], decide: fn(bool, bool) -> bool) -> FuncResult {
    FuncError::check_arity(args, 2)?;
    let (a, b) = (args[0].resolved(), args[1].resolved());
    let (k1, k2) = (kind(&a), kind(&b));
    if k1 == Kind::Other || k2 == Kind::Other {
        return Err(BAD_TYPE.into());
    }
    if k1 != k2 {
        return Err(INCOMPATIBLE.into());
    }
    let (lt, eq) = match (&a, &b) {
        (Value::Int(x), Value::Int(y)) => (x < y, x == y),
        (Value::Float(x), Value::Float(y)) => (x < y, x == y),
        _ if k1 == Kind::String => (a.as_str() < b.as_str(), a.as_str() == b.as_str()),
        _ => return Err(BAD_TYPE.into()),
    };
    Ok(Value::Bool(decide(lt, eq)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truth(r: FuncResult) -> bool {
        match r {
            Ok(Value::Bool(b)) => b,
            other => panic!("not a bool: {other:?}"),
        }
    }

    #[test]
    fn eq_is_multi_way_and_typed() {
        assert!(truth(eq(&["b".into(), "a".into(), "b".into()])));
        assert!(!truth(eq(&[1.into(), 2.into(), 3.into()])));
        assert!(truth(eq(&[Value::html("x"), "x".into()])));
        assert!(!truth(eq(&[Value::Nil, "x".into()])));
        assert!(truth(eq(&[Value::Nil, Value::Nil])));
        assert_eq!(
            eq(&[1.into(), 1.0.into()]).unwrap_err().to_string(),
            INCOMPATIBLE
        );
        assert_eq!(eq(&[1.into()]).unwrap_err().to_string(), MISSING);
        let l = Value::list([]);
        assert_eq!(
            eq(&[l.clone(), l]).unwrap_err().to_string(),
            "non-comparable type []: []interface {}"
        );
    }

    #[test]
    fn ordering() {
        let f = |name: &str, a: Value, b: Value| {
            let (_, func) = all().into_iter().find(|(n, _)| *n == name).unwrap();
            func(&[a, b])
        };
        assert!(truth(f("lt", 1.into(), 2.into())));
        assert!(truth(f("le", 2.into(), 2.into())));
        assert!(truth(f("gt", "b".into(), "a".into())));
        assert!(truth(f("ge", 2.5.into(), 2.5.into())));
        assert!(!truth(f("ne", 2.into(), 2.into())));
        assert_eq!(
            f("lt", true.into(), false.into()).unwrap_err().to_string(),
            BAD_TYPE
        );
        assert_eq!(
            f("gt", 1.5.into(), 1.into()).unwrap_err().to_string(),
            INCOMPATIBLE
        );
        assert_eq!(
            f("lt", Value::Nil, 1.into()).unwrap_err().to_string(),
            BAD_TYPE
        );
    }
}
