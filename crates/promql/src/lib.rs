//! PromQL for Promethium. This crate holds the language front end (lexer, parser, AST, type
//! checker and printer) shared by the engine, `/api/v1/parse_query`, `/api/v1/format_query` and
//! promtool, and [`promqltest`], the runner of upstream's `.test` conformance scripts.
//!
//! ```
//! use pm_promql::parser::{Expr, ParserOptions, parse_expr};
//!
//! let expr = parse_expr("sum(rate(http_requests_total[5m])) by (job)", &ParserOptions::default())
//!     .unwrap();
//! assert_eq!(expr.to_string(), "sum by (job) (rate(http_requests_total[5m]))");
//! assert!(matches!(expr, Expr::Aggregate(_)));
//!
//! let err = parse_expr("rate(foo)", &ParserOptions::default()).unwrap_err();
//! assert_eq!(
//!     err.to_string(),
//!     r#"1:6: parse error: expected type range vector in call to function "rate", got instant vector"#
//! );
//! ```

#![forbid(unsafe_code)]

pub mod functions;
pub mod parser;
pub mod promqltest;
pub mod value;

pub use parser::{Expr, ParseErr, ParseErrors, ParserOptions, parse_expr, parse_metric_selector};
