//! Why a query fails; the texts are upstream's, since clients and the test scripts match on them.

use crate::parser::ParseErrors;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    #[error("{0}")]
    Parse(#[from] ParseErrors),
    /// A query-level problem upstream reports as a bad-data error (`invalid parameter …`).
    #[error("{0}")]
    BadRequest(String),
    #[error("query processing would load too many samples into memory in {0}")]
    TooManySamples(&'static str),
    #[error("query timed out in {0}")]
    Timeout(&'static str),
    #[error("query was canceled in {0}")]
    Canceled(&'static str),
    #[error("expanding series: {0}")]
    Storage(String),
    /// An evaluation error (upstream's `errorf` during evaluation).
    #[error("{0}")]
    Eval(String),
}

impl QueryError {
    pub(crate) fn eval(msg: impl Into<String>) -> Self {
        QueryError::Eval(msg.into())
    }
}

/// Where in the evaluation a limit was hit, as upstream names it.
pub(crate) const ENV_EVAL: &str = "query execution";
