//! Running one query: the concurrency queue, preparation, evaluation and the shaping of the
//! result, each timed for the statistics and the engine's metrics.

use std::time::{Duration, Instant};

use pm_common::metrics::Gauge;
use pm_storage::Queryable;

use super::eval::{
    self, EvalSettings, Evaluator, HistogramStats, Val, drop_metadata_labels, merge_same_labelsets,
};
use super::prepare::{Frame, prepare};
use super::stats::{QueryTimings, SampleCounter};
use super::{
    Annotations, Engine, Matrix, QueryError, QueryOptions, QueryResult, QueryStats, Sample, Value,
    Vector,
};
use crate::parser::{Expr, ValueType};

/// Counts a query in `prometheus_engine_queries` while it waits or runs.
struct Running(Gauge);

impl Running {
    fn new(g: &Gauge) -> Self {
        g.inc();
        Running(g.clone())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl Engine {
    pub(super) fn exec(
        &self,
        queryable: &dyn Queryable,
        expr: &Expr,
        query: &str,
        frame: Frame,
        opts: &QueryOptions<'_>,
    ) -> Result<QueryResult, QueryError> {
        let began = Instant::now();
        let _running = self.metrics.as_ref().map(|m| Running::new(&m.queries));
        let timeout = match (self.opts.timeout, opts.timeout) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let deadline = timeout.map(|t| began + t);
        let mut timings = QueryTimings::default();
        let slot = match &self.gate {
            Some(gate) => {
                let slot = gate.acquire(deadline, opts.cancel);
                timings.exec_queue = began.elapsed();
                if let Some(m) = &self.metrics {
                    m.observe([Some(timings.exec_queue), None, None, None]);
                }
                Some(slot?)
            }
            None => None,
        };

        let eval_began = Instant::now();
        let mut expr = expr.clone();
        let prepared = prepare(&mut expr, frame);
        timings.query_preparation = eval_began.elapsed();
        let observe = |t: &QueryTimings, sort: Option<Duration>| {
            if let Some(m) = &self.metrics {
                m.observe([None, Some(t.query_preparation), Some(t.inner_eval), sort]);
            }
        };
        if let Err(e) = prepared {
            observe(&timings, None);
            return Err(e);
        }

        let instant = frame.step == 0;
        let interval = if instant { 1 } else { frame.step };
        let per_step = self.opts.enable_per_step_stats && opts.per_step_stats;
        let mut ev = Evaluator {
            queryable,
            settings: EvalSettings {
                lookback: opts.lookback_delta.unwrap_or(self.opts.lookback_delta),
                max_samples: self.opts.max_samples,
                delayed_name_removal: self.opts.enable_delayed_name_removal,
                type_and_unit_labels: self.opts.enable_type_and_unit_labels,
                default_subquery_step: self.opts.default_subquery_step,
                use_start_timestamps: self.opts.use_start_timestamps,
            },
            frame,
            start: frame.start,
            end: frame.end,
            interval,
            current_samples: 0,
            peak_samples: 0,
            samples: SampleCounter::new(per_step, frame.start, frame.end, interval),
            annotations: Annotations::default(),
            histogram_stats: HistogramStats::Off,
            deadline,
            cancel: opts.cancel,
        };
        let inner_began = Instant::now();
        let evaluated = ev.eval(&expr);
        timings.inner_eval = inner_began.elapsed();
        if let Some(m) = &self.metrics {
            m.samples.inc_by(ev.samples.total as f64);
            m.samples_read.inc_by(ev.samples.read as f64);
        }
        let val = match evaluated {
            Ok(v) => v,
            Err(e) => {
                observe(&timings, None);
                return Err(e);
            }
        };

        let sort_began = Instant::now();
        let shaped = self.shape(val, &expr, frame);
        let sort = (!instant).then(|| sort_began.elapsed());
        timings.result_sort = sort.unwrap_or_default();
        timings.eval_total = eval_began.elapsed();
        observe(&timings, sort);
        drop(slot);
        timings.exec_total = began.elapsed();
        let value = shaped?;

        let (warnings, infos) = ev.annotations.render(query);
        let (total_per_step, read_per_step) = ev.samples.per_step();
        Ok(QueryResult {
            value,
            warnings,
            infos,
            stats: QueryStats {
                total_queryable_samples: ev.samples.total,
                samples_read: ev.samples.read,
                peak_samples: ev.peak_samples,
                total_queryable_samples_per_step: total_per_step,
                samples_read_per_step: read_per_step,
                timings,
                eval_time: timings.eval_total,
            },
        })
    }

    /// The query's value in the shape its type and kind ask for: an instant query's vector or
    /// scalar, a range query's matrix sorted by labels.
    fn shape(&self, val: Val, expr: &Expr, frame: Frame) -> Result<Value, QueryError> {
        let delayed = self.opts.enable_delayed_name_removal;
        let mut mat = match val {
            Val::String(s) => return Ok(Value::String { t: frame.start, s }),
            Val::Matrix(mat) => mat,
        };
        if delayed {
            for s in &mut mat {
                if s.drop_name {
                    s.metric = drop_metadata_labels(&s.metric);
                }
            }
        }
        Ok(match (frame.step == 0, expr.value_type()) {
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
                let mut mat: Matrix = if delayed {
                    merge_same_labelsets(mat)?
                } else {
                    mat
                };
                mat.sort_by(|a, b| a.metric.cmp(&b.metric));
                Value::Matrix(mat)
            }
        })
    }
}
