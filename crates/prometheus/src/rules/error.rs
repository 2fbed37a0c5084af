//! Why a rule's evaluation failed; the texts are upstream's, since they show in the rules API
//! (`lastError`) and in alerting on rule health.

use pm_promql::engine::QueryError;
use pm_storage::StorageError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum RuleError {
    #[error("{0}")]
    Query(String),
    #[error("rule result is not a vector or scalar")]
    NotVector,
    #[error("vector contains metrics with the same labelset after applying rule labels")]
    DuplicateRecordingLabelSet,
    #[error("vector contains metrics with the same labelset after applying alert labels")]
    DuplicateAlertLabelSet,
    #[error("exceeded limit of {limit} with {got} series")]
    SeriesLimit { limit: usize, got: usize },
    #[error("exceeded limit of {limit} with {got} alerts")]
    AlertLimit { limit: usize, got: usize },
    #[error("{0}")]
    Storage(StorageError),
}

impl From<QueryError> for RuleError {
    fn from(e: QueryError) -> Self {
        RuleError::Query(e.to_string())
    }
}
