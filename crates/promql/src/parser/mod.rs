//! The PromQL language front end: lexer, parser, AST, type checker and printer.

pub mod ast;
mod duration;
mod error;
pub mod functions;
mod lexer;
mod parse;
mod pretty;
mod printer;
mod strings;
mod token;

pub use ast::*;
pub use duration::{DurationError, format_duration, parse_duration};
pub use error::{Location, ParseErr, ParseErrors};
pub use functions::{FUNCTIONS, Function, get_function};
pub use parse::{parse_expr, parse_metric_selector};
pub use pretty::DEFAULT_LINE_WIDTH;

/// Experimental language features, each off by default as upstream (enabled there by
/// `--enable-feature=…`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParserOptions {
    /// Experimental functions and the `limitk`/`limit_ratio` aggregations
    /// (`promql-experimental-functions`).
    pub enable_experimental_functions: bool,
    /// Arithmetic, `step()`, `range()`, `min_of`/`max_of` in range, step and offset positions
    /// (`promql-duration-expr`).
    pub experimental_duration_expr: bool,
    /// The `anchored` and `smoothed` range selector modifiers (`promql-extended-range-selectors`).
    pub enable_extended_range_selectors: bool,
    /// `fill`, `fill_left` and `fill_right` on binary operators (`promql-binop-fill-modifiers`).
    pub enable_binop_fill_modifiers: bool,
}

impl ParserOptions {
    /// Every experimental feature enabled, as the upstream test scripts assume.
    pub fn all() -> Self {
        ParserOptions {
            enable_experimental_functions: true,
            experimental_duration_expr: true,
            enable_extended_range_selectors: true,
            enable_binop_fill_modifiers: true,
        }
    }
}
