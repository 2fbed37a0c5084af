//! Go's `text/template` language, for Prometheus rule templates and Alertmanager
//! notification templates, which users write against Go's exact semantics.
//!
//! ```
//! use pm_gotmpl::{Template, Value};
//!
//! let mut t = Template::new("greeting");
//! t.parse(r#"{{ range $i, $n := .names }}{{ if $i }}, {{ end }}{{ $n | printf "%q" }}{{ end }}"#)
//!     .unwrap();
//! let data = Value::from(serde_json::json!({"names": ["a", "b"]}));
//! assert_eq!(t.execute("greeting", &data).unwrap(), r#""a", "b""#);
//! ```
//!
//! # Coverage
//!
//! The full action language: trim markers, comments, pipelines, variables (declaration,
//! assignment, scoping), field chains, all literal forms, parenthesised pipelines,
//! `if`/`else if`/`range` (lists, maps in key order, ints, `break`/`continue`, `else`)/`with`/
//! `else with`/`define`/`template`/`block`; all builtins (`and`/`or` short-circuit); Go `fmt`
//! formatting for printing, `print*` and `printf`; the `missingkey` option. Parse and
//! execution errors are worded as in Go.
//!
//! Host data: [`Value`] covers Go's basic kinds, lists and string-keyed maps (with the element
//! zero value `index` and `missingkey=zero` need, so `map[string]string` behaves right);
//! [`Object`] adds Go-style fields, methods with arguments and `Stringer` printing for types
//! like Alertmanager's `KV` or `time.Time`. Functions are registered per [`Template`] before
//! parsing, exactly as Go requires.
//!
//! Deliberate differences: there are no unsigned or complex numbers; JSON integers become
//! ints; `{{template}}` nesting is limited to [`DEFAULT_MAX_DEPTH`] levels by default (Go:
//! 100000) and parenthesised pipelines to 100 levels (Go: 10000), because each level uses
//! native stack; custom delimiters are not supported; functions and methods check their own
//! argument counts and types through [`FuncError`] (Go derives both from the Go signature).
//!
//! # HTML mode
//!
//! [`Template::new_html`] escapes printed values by HTML context, like Go's `html/template`,
//! for the contexts notification emails use:
//!
//! * text and `<title>`/`<textarea>` content: HTML-escaped (`&#43;` for `+`, `&#34;`, `&#39;`
//!   as Go does); [`Value::Html`] values (from a `safeHtml`-style function) pass through in
//!   text;
//! * quoted and unquoted attribute values, with Go's escapers for each;
//! * URL attributes (`href`, `src`, …): schemes other than http/https/mailto are replaced by
//!   `#ZgotmplZ`, the URL is percent-normalised (or fully escaped after `?`/`#`), then
//!   attribute-escaped; a trailing `urlquery` replaces that escaping as in Go;
//! * attribute-name position: only plain alphanumeric names pass;
//! * HTML comments in template text are removed; values inside comments print nothing;
//! * nil prints as the empty string (Go's `html/template` does the same).
//!
//! Gaps versus Go: the context is tracked while writing output rather than by static
//! analysis, so templates whose branches end in different contexts, or that use `html` or
//! `urlquery` before the end of a pipeline, are not rejected as Go rejects them; `<script>`,
//! `<style>`, event-handler (`on*`) and `style` attribute values get HTML escaping instead of
//! Go's JavaScript/CSS escapers and filters; `srcset` is treated as a plain URL; the
//! typed-content types other than HTML (`template.JS`, `template.URL`, `template.CSS`, …) do
//! not exist.
#![forbid(unsafe_code)]

mod ast;
mod error;
mod escape;
mod exec;
pub mod fmt;
mod funcs;
mod html;
mod lexer;
mod parser;
pub mod strconv;
mod template;
mod value;

pub use ast::Tree;
pub use error::{ExecError, ParseError};
pub use escape::{html_escape, js_escape, query_escape};
pub use funcs::{FuncError, FuncMap, FuncResult, Function, arg_str};
pub use template::{DEFAULT_MAX_DEPTH, MissingKey, Template};
pub use value::{Map, Object, Value};
