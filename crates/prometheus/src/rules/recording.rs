//! Recording rules: the expression's result stored under a new metric name.

use std::collections::HashSet;

use pm_common::model::Labels;
use pm_promql::engine::Vector;
use pm_promql::parser::Expr;

use super::error::RuleError;
use super::rule::StatusCell;

#[derive(Debug)]
pub struct RecordingRule {
    name: String,
    expr: Expr,
    query: String,
    labels: Labels,
    pub(crate) status: StatusCell,
}

impl RecordingRule {
    pub fn new(name: impl Into<String>, expr: Expr, labels: Labels) -> Self {
        RecordingRule {
            name: name.into(),
            query: expr.to_string(),
            expr,
            labels,
            status: StatusCell::default(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    pub fn query(&self) -> &str {
        &self.query
    }

    pub fn labels(&self) -> &Labels {
        &self.labels
    }

    /// Renames the query result and adds the rule's labels; fails when that makes two series
    /// equal or when there are more than `limit` (0: no limit).
    pub(crate) fn apply(&self, mut vector: Vector, limit: usize) -> Result<Vector, RuleError> {
        let mut seen = HashSet::with_capacity(vector.len());
        for sample in &mut vector {
            let mut b = sample.metric.builder();
            b.set("__name__", &self.name);
            for l in &self.labels {
                b.set(l.name, l.value);
            }
            sample.metric = b.labels();
            sample.drop_name = false;
            if !seen.insert(sample.metric.clone()) {
                return Err(RuleError::DuplicateRecordingLabelSet);
            }
        }
        if limit > 0 && vector.len() > limit {
            return Err(RuleError::SeriesLimit {
                limit,
                got: vector.len(),
            });
        }
        Ok(vector)
    }
}
