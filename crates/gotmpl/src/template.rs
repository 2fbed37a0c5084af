//! Template sets: named definitions sharing functions and options, like Go's `*Template`.

use std::collections::HashMap;
use std::sync::Arc;

use crate::ast::Tree;
use crate::error::{ExecError, ParseError};
use crate::funcs::{FuncMap, FuncResult, Function};
use crate::value::Value;
use crate::{exec, parser};

/// What a field lookup on a map does when the key is absent (Go's `missingkey=` option).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissingKey {
    /// Yield nil, printed as `<no value>` (`missingkey=default`/`invalid`).
    #[default]
    Default,
    /// Yield the map element type's zero value (`missingkey=zero`).
    Zero,
    /// Fail execution (`missingkey=error`).
    Error,
}

/// A set of named templates with its function map and options.
///
/// Functions must be registered before parsing templates that use them, because, as in Go,
/// unknown function names are parse errors.
#[derive(Clone, Debug)]
pub struct Template {
    name: String,
    trees: HashMap<String, Arc<Tree>>,
    funcs: FuncMap,
    missing_key: MissingKey,
    html: bool,
    max_depth: usize,
}

/// Default nesting limit for `{{template}}` calls. Go allows 100000 on its growable
/// stacks; here each level costs native stack (up to ~10 KiB in unoptimised builds), and
/// executions often run on 2 MiB thread stacks. Real templates nest a handful of levels.
pub const DEFAULT_MAX_DEPTH: usize = 100;

impl Template {
    /// A `text/template` set whose main template is `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            trees: HashMap::new(),
            funcs: FuncMap::default(),
            missing_key: MissingKey::Default,
            html: false,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }

    /// A set whose output is HTML-escaped by context, like Go's `html/template` (see the
    /// crate documentation for what is and is not covered).
    pub fn new_html(name: impl Into<String>) -> Self {
        Self {
            html: true,
            ..Self::new(name)
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn is_html(&self) -> bool {
        self.html
    }

    /// Registers a function (replacing any of the same name, builtins included).
    pub fn func(
        &mut self,
        name: impl Into<String>,
        f: impl Fn(&[Value]) -> FuncResult + Send + Sync + 'static,
    ) -> &mut Self {
        self.funcs.insert(name, Function::new(f));
        self
    }

    pub fn funcs(&self) -> &FuncMap {
        &self.funcs
    }

    pub fn funcs_mut(&mut self) -> &mut FuncMap {
        &mut self.funcs
    }

    pub fn missing_key(&mut self, mode: MissingKey) -> &mut Self {
        self.missing_key = mode;
        self
    }

    pub(crate) fn missing_key_mode(&self) -> MissingKey {
        self.missing_key
    }

    /// Changes the `{{template}}` nesting limit (see [`DEFAULT_MAX_DEPTH`]); raise it only
    /// when executing on a correspondingly large stack.
    pub fn max_depth(&mut self, depth: usize) -> &mut Self {
        self.max_depth = depth;
        self
    }

    pub(crate) fn max_depth_limit(&self) -> usize {
        self.max_depth
    }

    /// Parses `text` as the body of the set's main template, adding its definitions.
    pub fn parse(&mut self, text: &str) -> Result<&mut Self, ParseError> {
        let name = self.name.clone();
        self.parse_named(&name, text)
    }

    /// Parses `text` as the template `name` (Go's `t.New(name).Parse(text)`), e.g. one file
    /// of several.
    pub fn parse_named(&mut self, name: &str, text: &str) -> Result<&mut Self, ParseError> {
        let funcs = &self.funcs;
        let trees = parser::parse(name, text, &|f| funcs.contains(f))?;
        for tree in trees {
            // An empty definition never replaces a real one, so file order does not matter.
            let keep_old = tree.is_empty()
                && self
                    .trees
                    .get(&tree.name)
                    .is_some_and(|old| !old.is_empty());
            if !keep_old {
                self.trees.insert(tree.name.clone(), Arc::new(tree));
            }
        }
        Ok(self)
    }

    /// Checks that `text` parses as template `name` when the functions are the builtins plus
    /// those `is_func` accepts, without building a set. Upstream validates alert templates this way
    /// when rule files load, long before any alert exists to execute them with.
    pub fn check_syntax(
        name: &str,
        text: &str,
        is_func: &dyn Fn(&str) -> bool,
    ) -> Result<(), ParseError> {
        let builtins = FuncMap::default();
        parser::parse(name, text, &|f| builtins.contains(f) || is_func(f)).map(|_| ())
    }

    /// The template of that name, if defined.
    pub fn lookup(&self, name: &str) -> Option<&Tree> {
        self.trees.get(name).map(|t| &**t)
    }

    pub(crate) fn tree(&self, name: &str) -> Option<&Tree> {
        self.lookup(name)
    }

    /// Names of all defined templates, sorted.
    pub fn template_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.trees.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// Runs template `name` with `data` as dot and returns its output.
    pub fn execute(&self, name: &str, data: &Value) -> Result<String, ExecError> {
        match self.trees.get(name) {
            Some(tree) => exec::execute(self, tree, data),
            None if name == self.name => Err(ExecError::Incomplete {
                name: name.to_owned(),
            }),
            None => Err(ExecError::NoTemplate {
                name: name.to_owned(),
                set: self.name.clone(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_can_be_shared_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Template>();
        assert_send_sync::<Value>();
        let mut t = Template::new("t");
        t.parse("{{.}}").unwrap();
        let shared = Arc::new(t);
        let handles: Vec<_> = (0..2)
            .map(|i| {
                let t = shared.clone();
                std::thread::spawn(move || t.execute("t", &Value::Int(i)).unwrap())
            })
            .collect();
        let outputs: Vec<String> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        assert_eq!(outputs, ["0", "1"]);
    }

    #[test]
    fn check_syntax_knows_builtins_and_the_given_functions() {
        let known = |f: &str| f == "humanize";
        assert!(
            Template::check_syntax("t", "{{ .Value | humanize | printf \"%s\" }}", &known).is_ok()
        );
        let err = Template::check_syntax("t", "{{ humanise 1 }}", &known).unwrap_err();
        assert_eq!(
            err.to_string(),
            "template: t:1: function \"humanise\" not defined"
        );
        assert!(Template::check_syntax("t", "{{ if }}", &known).is_err());
    }
}
