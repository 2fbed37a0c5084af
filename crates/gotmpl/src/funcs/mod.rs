//! Template functions: Go's builtins and the registry callers extend (Prometheus adds
//! `humanize`, `query`, …; Alertmanager adds `toUpper`, `join`, `safeHtml`, …).

mod builtins;
mod compare;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::value::Value;

/// What a template function returns.
pub type FuncResult = Result<Value, FuncError>;

/// Why a function call failed. The executor words each kind as Go does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FuncError {
    /// Go checks arity before calling: `wrong number of args for f: want 2 got 1`.
    #[error("wrong number of args: want {want} got {got}")]
    Arity { want: String, got: usize },
    /// An argument of the wrong type: `wrong type for value; expected string; got int`.
    #[error("wrong type for value; expected {expected}; got {got}")]
    ArgType { expected: String, got: String },
    /// The function ran and failed: `error calling f: message`.
    #[error("{0}")]
    Failed(String),
}

impl From<String> for FuncError {
    fn from(message: String) -> Self {
        Self::Failed(message)
    }
}

impl From<&str> for FuncError {
    fn from(message: &str) -> Self {
        Self::Failed(message.to_owned())
    }
}

impl FuncError {
    /// Checks an exact argument count.
    pub fn check_arity(args: &[Value], want: usize) -> Result<(), FuncError> {
        if args.len() == want {
            Ok(())
        } else {
            Err(Self::Arity {
                want: want.to_string(),
                got: args.len(),
            })
        }
    }

    /// Checks a minimum argument count (variadic functions).
    pub fn check_min_arity(args: &[Value], min: usize) -> Result<(), FuncError> {
        if args.len() >= min {
            Ok(())
        } else {
            Err(Self::Arity {
                want: format!("at least {min}"),
                got: args.len(),
            })
        }
    }

    pub fn arg_type(expected: &str, got: &Value) -> Self {
        Self::ArgType {
            expected: expected.to_owned(),
            got: got.type_name(),
        }
    }
}

/// Returns argument `i` as a string, or Go's type error.
pub fn arg_str(args: &[Value], i: usize) -> Result<&str, FuncError> {
    let v = args.get(i).unwrap_or(&Value::Nil);
    v.as_str().ok_or_else(|| FuncError::arg_type("string", v))
}

type DynFn = dyn Fn(&[Value]) -> FuncResult + Send + Sync;

/// A callable template function.
#[derive(Clone)]
pub struct Function(Arc<DynFn>);

impl Function {
    pub fn new(f: impl Fn(&[Value]) -> FuncResult + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    pub fn call(&self, args: &[Value]) -> FuncResult {
        (self.0)(args)
    }
}

impl fmt::Debug for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Function")
    }
}

/// A registered name: Go's short-circuiting `and`/`or` and `call` (whose errors name the
/// callee's source text) need the executor's help; everything else is an ordinary function
/// over evaluated arguments.
#[derive(Clone, Debug)]
pub(crate) enum Callable {
    And,
    Or,
    Call,
    Func(Function),
}

/// The functions a template set knows; fixed before parsing, as in Go.
#[derive(Clone, Debug)]
pub struct FuncMap {
    map: HashMap<String, Callable>,
}

impl Default for FuncMap {
    fn default() -> Self {
        let mut map = HashMap::new();
        map.insert("and".to_owned(), Callable::And);
        map.insert("or".to_owned(), Callable::Or);
        map.insert("call".to_owned(), Callable::Call);
        for (name, f) in builtins::all().into_iter().chain(compare::all()) {
            map.insert(name.to_owned(), Callable::Func(Function::new(f)));
        }
        Self { map }
    }
}

impl FuncMap {
    /// Adds or replaces a function (a caller's function may shadow a builtin, as in Go).
    pub fn insert(&mut self, name: impl Into<String>, f: Function) {
        self.map.insert(name.into(), Callable::Func(f));
    }

    pub fn contains(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&Callable> {
        self.map.get(name)
    }
}

type Builtin = fn(&[Value]) -> FuncResult;
