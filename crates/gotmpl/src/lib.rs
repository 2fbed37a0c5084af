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
//! Deliberate differences: there are no unsigned or complex numbers; JSON integers become
//! ints; `{{template}}` nesting is limited to 1000 levels (Go: 100000); host methods and
//! functions check their own argument types.
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
//! analysis, so templates whose context depends on data are not rejected; `<script>`,
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
mod template;
mod value;

pub use ast::Tree;
pub use error::{ExecError, ParseError};
pub use escape::{html_escape, js_escape, query_escape};
pub use funcs::{FuncError, FuncMap, FuncResult, Function, arg_str};
pub use template::{MissingKey, Template};
pub use value::{Map, Object, Value};
