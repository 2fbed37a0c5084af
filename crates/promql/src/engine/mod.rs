//! The PromQL engine: instant and range queries over any [`Queryable`], with upstream's
//! semantics, limits, annotations and statistics.
//!
//! ```
//! use pm_common::model::Labels;
//! use pm_promql::engine::{Engine, EngineOptions, Value};
//! use pm_storage::{Appendable, MemStorage, SeriesRef};
//!
//! let storage = MemStorage::new();
//! let mut app = storage.appender();
//! let up = Labels::from_pairs([("__name__", "up"), ("job", "node")]);
//! app.append(SeriesRef::UNKNOWN, &up, 0, 1.0).unwrap();
//! app.commit().unwrap();
//!
//! let engine = Engine::new(EngineOptions::default());
//! let result = engine.instant(&storage, "up * 2", 10_000).unwrap();
//! let Value::Vector(v) = result.value else { panic!() };
//! assert_eq!(v[0].f, 2.0);
//! assert_eq!(v[0].metric, Labels::from_pairs([("job", "node")]));
//! ```

mod annotations;
mod error;
mod eval;
mod histogram_format;
mod histogram_trim;
mod prepare;
mod value;

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use pm_storage::Queryable;

pub use annotations::{Annotation, Annotations, Note, Severity};
pub use error::QueryError;
pub use value::{Matrix, Sample, Series, Value, Vector, histogram_size};

use crate::parser::{Expr, ParserOptions, ValueType, parse_expr};
use eval::{
    EvalSettings, Evaluator, HistogramStats, Val, drop_metadata_labels, merge_same_labelsets,
};
use prepare::{Frame, prepare};

/// Engine settings; the defaults are upstream's flag defaults.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// `--query.lookback-delta`, in milliseconds.
    pub lookback_delta: i64,
    /// `--query.max-samples`.
    pub max_samples: usize,
    /// `--query.timeout`.
    pub timeout: Option<Duration>,
    /// Always on in Prometheus 3; kept so callers can refuse `@` as 2.x did by default.
    pub enable_at_modifier: bool,
    pub enable_negative_offset: bool,
    /// `--enable-feature=promql-delayed-name-removal`: `__name__` is dropped only at the end
    /// of evaluation, so e.g. `label_replace` can still read it.
    pub enable_delayed_name_removal: bool,
    /// `--enable-feature=type-and-unit-labels`.
    pub enable_type_and_unit_labels: bool,
    /// Language features (`--enable-feature=promql-experimental-functions`, …).
    pub parser: ParserOptions,
    /// Step of subqueries without one: the global evaluation interval, in milliseconds.
    pub default_subquery_step: i64,
    /// `--enable-feature=use-start-timestamps`: counter functions treat a sample's start
    /// timestamp as a reset or as the zero point of the counter, and `start_timestamp()`
    /// reports it.
    pub use_start_timestamps: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            lookback_delta: 5 * 60 * 1000,
            max_samples: 50_000_000,
            timeout: Some(Duration::from_secs(120)),
            enable_at_modifier: true,
            enable_negative_offset: true,
            enable_delayed_name_removal: false,
            enable_type_and_unit_labels: false,
            parser: ParserOptions::default(),
            default_subquery_step: 60_000,
            use_start_timestamps: false,
        }
    }
}

/// Per-query statistics (upstream's `stats=all` samples section).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryStats {
    pub total_queryable_samples: u64,
    pub peak_samples: usize,
    pub eval_time: Duration,
}

/// A query's value with its annotations (rendered with positions) and statistics.
#[derive(Clone, Debug)]
pub struct QueryResult {
    pub value: Value,
    pub warnings: Vec<String>,
    pub infos: Vec<String>,
    pub stats: QueryStats,
}

/// Evaluates PromQL queries. Cheap to share: it holds only settings.
#[derive(Clone, Debug)]
pub struct Engine {
    opts: EngineOptions,
}

impl Engine {
    pub fn new(opts: EngineOptions) -> Self {
        Engine { opts }
    }

    pub fn options(&self) -> &EngineOptions {
        &self.opts
    }

    /// Evaluates `query` at `ts` (milliseconds).
    pub fn instant(
        &self,
        queryable: &dyn Queryable,
        query: &str,
        ts: i64,
    ) -> Result<QueryResult, QueryError> {
        let expr = parse_expr(query, &self.opts.parser)?;
        self.exec(
            queryable,
            &expr,
            query,
            Frame {
                start: ts,
                end: ts,
                step: 0,
            },
            None,
        )
    }

    /// Evaluates `query` at every `step` from `start` to `end` (milliseconds, inclusive).
    pub fn range(
        &self,
        queryable: &dyn Queryable,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> Result<QueryResult, QueryError> {
        let expr = parse_expr(query, &self.opts.parser)?;
        self.check_range_type(&expr)?;
        if step <= 0 {
            return Err(QueryError::BadRequest(
                "zero or negative query resolution step widths are not accepted. Try a positive integer".into(),
            ));
        }
        self.exec(queryable, &expr, query, Frame { start, end, step }, None)
    }

    /// Like [`Engine::instant`] for an already parsed expression; `query` is its text (for
    /// annotation positions). `cancel`, when set to true, aborts evaluation.
    pub fn instant_expr(
        &self,
        queryable: &dyn Queryable,
        expr: &Expr,
        query: &str,
        ts: i64,
        cancel: Option<&AtomicBool>,
    ) -> Result<QueryResult, QueryError> {
        self.exec(
            queryable,
            expr,
            query,
            Frame {
                start: ts,
                end: ts,
                step: 0,
            },
            cancel,
        )
    }

    /// Like [`Engine::range`] for an already parsed expression.
    #[allow(clippy::too_many_arguments)]
    pub fn range_expr(
        &self,
        queryable: &dyn Queryable,
        expr: &Expr,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
        cancel: Option<&AtomicBool>,
    ) -> Result<QueryResult, QueryError> {
        self.check_range_type(expr)?;
        self.exec(queryable, expr, query, Frame { start, end, step }, cancel)
    }

    fn check_range_type(&self, expr: &Expr) -> Result<(), QueryError> {
        let t = expr.value_type();
        if t != ValueType::Vector && t != ValueType::Scalar {
            return Err(QueryError::BadRequest(format!(
                "invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
                t.documented()
            )));
        }
        Ok(())
    }

    fn exec(
        &self,
        queryable: &dyn Queryable,
        expr: &Expr,
        query: &str,
        frame: Frame,
        cancel: Option<&AtomicBool>,
    ) -> Result<QueryResult, QueryError> {
        let began = Instant::now();
        let mut expr = expr.clone();
        prepare(&mut expr, frame)?;
        let instant = frame.step == 0;
        let mut ev = Evaluator {
            queryable,
            settings: EvalSettings {
                lookback: self.opts.lookback_delta,
                max_samples: self.opts.max_samples,
                delayed_name_removal: self.opts.enable_delayed_name_removal,
                type_and_unit_labels: self.opts.enable_type_and_unit_labels,
                default_subquery_step: self.opts.default_subquery_step,
                use_start_timestamps: self.opts.use_start_timestamps,
            },
            frame,
            start: frame.start,
            end: frame.end,
            interval: if instant { 1 } else { frame.step },
            current_samples: 0,
            peak_samples: 0,
            total_samples: 0,
            annotations: Annotations::default(),
            histogram_stats: HistogramStats::Off,
            deadline: self.opts.timeout.map(|t| began + t),
            cancel,
        };
        let val = ev.eval(&expr)?;
        let delayed = self.opts.enable_delayed_name_removal;
        let value = match val {
            Val::String(s) => Value::String { t: frame.start, s },
            Val::Matrix(mut mat) => {
                if delayed {
                    for s in &mut mat {
                        if s.drop_name {
                            s.metric = drop_metadata_labels(&s.metric);
                        }
                    }
                }
                match (instant, expr.value_type()) {
                    (true, ValueType::Vector) => {
                        let vector: Vector = mat
                            .into_iter()
                            .map(|s| Sample {
                                metric: s.metric,
                                t: frame.start,
                                f: s.floats.first().map_or(0.0, |p| p.f),
                                h: s.histograms.first().map(|p| p.h.clone()),
                                drop_name: s.drop_name,
                            })
                            .collect();
                        if delayed && eval::contains_same_labelset(&vector) {
                            return Err(eval::same_labelset_error());
                        }
                        Value::Vector(vector)
                    }
                    (true, ValueType::Scalar) => Value::Scalar {
                        t: frame.start,
                        v: mat
                            .first()
                            .and_then(|s| s.floats.first())
                            .map_or(f64::NAN, |p| p.f),
                    },
                    _ => {
                        let mut mat = if delayed {
                            merge_same_labelsets(mat)?
                        } else {
                            mat
                        };
                        mat.sort_by(|a, b| a.metric.cmp(&b.metric));
                        Value::Matrix(mat)
                    }
                }
            }
        };
        let (warnings, infos) = ev.annotations.render(query);
        Ok(QueryResult {
            value,
            warnings,
            infos,
            stats: QueryStats {
                total_queryable_samples: ev.total_samples,
                peak_samples: ev.peak_samples,
                eval_time: began.elapsed(),
            },
        })
    }
}

#[cfg(test)]
mod tests;
