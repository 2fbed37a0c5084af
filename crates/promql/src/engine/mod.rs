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
//!
//! # Serving queries
//!
//! A server builds one engine with [`Engine::with_metrics`] (upstream's `prometheus_engine_*`
//! metrics in its registry) and runs parsed queries with [`Engine::instant_with`] and
//! [`Engine::range_with`], whose [`QueryOptions`] carry the API's parameters: a cancellation
//! flag, `stats=all` (per-step sample counts, when [`EngineOptions::enable_per_step_stats`]),
//! `lookback_delta` and `timeout`. Queries beyond [`EngineOptions::max_concurrency`] wait for a
//! slot up to their deadline. Every [`QueryResult`] carries [`QueryStats`]: upstream's `timings`
//! (`evalTotalTime`, `resultSortTime`, `queryPreparationTime`, `innerEvalTime`,
//! `execQueueTime`, `execTotalTime`) and `samples` (`totalQueryableSamples`, `samplesRead`,
//! `peakSamples` and the per-step lists). Failures keep upstream's texts
//! ([`QueryError`]): "query processing would load too many samples into memory in query
//! execution", "query timed out in expression evaluation" (or "in query queue"), "query was
//! canceled in …".
//!
//! ```
//! # use pm_common::metrics::Registry;
//! # use pm_promql::engine::{Engine, EngineOptions, QueryOptions};
//! # use pm_storage::MemStorage;
//! let registry = Registry::new();
//! let engine = Engine::with_metrics(EngineOptions::default(), &registry).unwrap();
//! let expr = pm_promql::parse_expr("vector(1)", &Default::default()).unwrap();
//! let opts = QueryOptions { per_step_stats: true, ..QueryOptions::default() };
//! let r = engine
//!     .range_with(&MemStorage::new(), &expr, "vector(1)", (0, 60_000, 15_000), &opts)
//!     .unwrap();
//! assert_eq!(r.stats.total_queryable_samples, 0);
//! assert!(r.stats.timings.exec_total >= r.stats.timings.eval_total);
//! ```

mod annotations;
mod error;
mod eval;
mod exec;
mod gate;
mod histogram_format;
mod histogram_trim;
mod metrics;
mod prepare;
mod stats;
mod value;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use pm_common::metrics::{MetricsError, Registry};
use pm_storage::Queryable;

pub use annotations::{Annotation, Annotations, Note, Severity};
pub use error::QueryError;
pub use stats::{QueryTimings, StepStat};
pub use value::{Matrix, Sample, Series, Value, Vector, histogram_size};

use crate::parser::{Expr, ParserOptions, ValueType, parse_expr};
use gate::QueryGate;
use metrics::EngineMetrics;
use prepare::Frame;

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
    /// `--enable-feature=promql-per-step-stats`: queries that ask
    /// ([`QueryOptions::per_step_stats`], the API's `stats=all`) get per-step sample counts.
    pub enable_per_step_stats: bool,
    /// `--query.max-concurrency`: queries beyond it wait for a slot (up to their timeout);
    /// `None` runs every query at once.
    pub max_concurrency: Option<usize>,
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
            enable_per_step_stats: false,
            max_concurrency: Some(20),
        }
    }
}

/// Per-query settings beside the expression and its time frame (the API's query parameters).
#[derive(Clone, Copy, Debug, Default)]
pub struct QueryOptions<'a> {
    /// When set to true, evaluation stops with "query was canceled in …".
    pub cancel: Option<&'a AtomicBool>,
    /// Count samples per step (`stats=all`); honoured when the engine enables per-step stats.
    pub per_step_stats: bool,
    /// Overrides the engine's lookback delta for this query, in milliseconds.
    pub lookback_delta: Option<i64>,
    /// Shortens the engine's timeout for this query (the API's `timeout` parameter); the
    /// shorter of the two applies.
    pub timeout: Option<Duration>,
}

/// Per-query statistics: upstream's `stats` object (`timings` and `samples`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueryStats {
    /// Samples the selectors handed on, a range function's window counted at every step.
    pub total_queryable_samples: u64,
    /// Samples read from storage, each point counted once.
    pub samples_read: u64,
    /// The most samples held at once (what `max_samples` limits).
    pub peak_samples: usize,
    /// Per step, when asked for and enabled; empty otherwise.
    pub total_queryable_samples_per_step: Vec<StepStat>,
    pub samples_read_per_step: Vec<StepStat>,
    pub timings: QueryTimings,
    /// Equals `timings.eval_total`.
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

/// Evaluates PromQL queries. Clones share the concurrency limit and the metrics.
#[derive(Clone, Debug)]
pub struct Engine {
    opts: EngineOptions,
    gate: Option<Arc<QueryGate>>,
    metrics: Option<EngineMetrics>,
}

impl Engine {
    pub fn new(opts: EngineOptions) -> Self {
        Engine {
            gate: opts.max_concurrency.map(|n| Arc::new(QueryGate::new(n))),
            opts,
            metrics: None,
        }
    }

    /// An engine that reports upstream's `prometheus_engine_*` metrics through `registry`.
    pub fn with_metrics(opts: EngineOptions, registry: &Registry) -> Result<Self, MetricsError> {
        let metrics = EngineMetrics::register(registry, opts.max_concurrency)?;
        Ok(Engine {
            metrics: Some(metrics),
            ..Engine::new(opts)
        })
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
        self.instant_with(queryable, &expr, query, ts, &QueryOptions::default())
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
        let frame = Frame { start, end, step };
        self.exec(queryable, &expr, query, frame, &QueryOptions::default())
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
        let opts = QueryOptions {
            cancel,
            ..QueryOptions::default()
        };
        self.instant_with(queryable, expr, query, ts, &opts)
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
        let opts = QueryOptions {
            cancel,
            ..QueryOptions::default()
        };
        self.range_with(queryable, expr, query, (start, end, step), &opts)
    }

    /// Evaluates a parsed instant query with per-query options; `query` is its text (for
    /// annotation positions).
    pub fn instant_with(
        &self,
        queryable: &dyn Queryable,
        expr: &Expr,
        query: &str,
        ts: i64,
        opts: &QueryOptions<'_>,
    ) -> Result<QueryResult, QueryError> {
        let frame = Frame {
            start: ts,
            end: ts,
            step: 0,
        };
        self.exec(queryable, expr, query, frame, opts)
    }

    /// Evaluates a parsed range query over `(start, end, step)` (milliseconds) with per-query
    /// options.
    pub fn range_with(
        &self,
        queryable: &dyn Queryable,
        expr: &Expr,
        query: &str,
        (start, end, step): (i64, i64, i64),
        opts: &QueryOptions<'_>,
    ) -> Result<QueryResult, QueryError> {
        self.check_range_type(expr)?;
        self.exec(queryable, expr, query, Frame { start, end, step }, opts)
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
}

#[cfg(test)]
mod tests;
