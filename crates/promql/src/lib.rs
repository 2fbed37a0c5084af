//! PromQL for Promethium. This crate holds the language front end (lexer, parser, AST, type
//! checker and printer) shared by the engine, `/api/v1/parse_query`, `/api/v1/format_query` and
//! promtool.

#![forbid(unsafe_code)]

pub mod parser;

pub use parser::{Expr, ParseErr, ParseErrors, ParserOptions, parse_expr};
