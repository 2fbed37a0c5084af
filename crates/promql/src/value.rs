//! The points a range selector yields to the engine and to the range-vector functions.
//!
//! They live apart from the engine so the function kernels (`functions`) can be written and
//! tested without an evaluator: a kernel sees one series' points inside one window.

use std::sync::Arc;

use pm_common::model::FloatHistogram;

/// A float sample: timestamp in milliseconds and value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FPoint {
    pub t: i64,
    pub f: f64,
}

/// A native-histogram sample. Shared, because a histogram seen by many overlapping windows of a
/// range query is decoded once.
#[derive(Clone, Debug, PartialEq)]
pub struct HPoint {
    pub t: i64,
    pub h: Arc<FloatHistogram>,
}
