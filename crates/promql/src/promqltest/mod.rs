//! The runner of upstream's PromQL test scripts (`promql/promqltest/testdata/*.test`): parsing
//! scripts into commands, the series notation, loading data into a [`MemStorage`], and checking
//! query results against expectations. The evaluation itself comes from an [`Engine`].
//!
//! The format is described in `shared/testdata/README.md` (section `promql/`).

mod adapter;
mod compare;
mod histogram_notation;
mod load;
mod notation;
mod runner;
mod script;

pub use adapter::test_engine;
pub use compare::{
    Engine, QueryResult, QueryValue, RangeSeries, SampleValue, VectorSample, almost_equal,
    check_result, histograms_match,
};
pub use histogram_notation::parse_histogram;
pub use load::apply_load;
pub use notation::{
    LoadLine, SequenceValue, SeriesLine, StartTimestampLine, parse_load_line, parse_series_line,
};
pub use runner::{EvalOutcome, run_commands, run_each, run_script};
pub use script::{
    Command, EvalCmd, EvalKind, ExpectedResult, LoadCmd, LoadSeries, MessageMatch, parse_script,
};

use crate::parser::parse_duration;

/// An error in a script, or a failed expectation, at a 1-based line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ScriptError {
    pub line: usize,
    pub message: String,
}

impl ScriptError {
    pub fn new(line: usize, message: impl Into<String>) -> Self {
        ScriptError {
            line,
            message: message.into(),
        }
    }
}

/// A Prometheus duration with an optional leading sign (`-1m`, `+1m`), in milliseconds.
fn parse_signed_duration(s: &str) -> Result<i64, String> {
    let (negative, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let d = parse_duration(body).map_err(|e| format!("invalid duration {s:?}: {e}"))?;
    Ok(if negative { -d } else { d })
}
