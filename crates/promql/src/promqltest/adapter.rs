//! The real engine behind the script runner's [`Engine`] trait, configured as upstream's test
//! engine: every experimental language feature, delayed name removal, start timestamps, at
//! most 10,000 samples, a 1-minute default subquery step.

use pm_storage::MemStorage;

use super::compare::{Engine, QueryResult, QueryValue, RangeSeries, SampleValue, VectorSample};
use crate::engine::{self, EngineOptions, Value};
use crate::parser::ParserOptions;

/// Upstream's `promqltest` engine settings.
pub fn test_engine() -> engine::Engine {
    engine::Engine::new(EngineOptions {
        max_samples: 10_000,
        timeout: Some(std::time::Duration::from_secs(100)),
        enable_delayed_name_removal: true,
        use_start_timestamps: true,
        parser: ParserOptions::all(),
        ..EngineOptions::default()
    })
}

fn convert(result: Result<engine::QueryResult, engine::QueryError>) -> QueryResult {
    let r = match result {
        Ok(r) => r,
        Err(e) => {
            return QueryResult {
                value: Err(e.to_string()),
                warnings: Vec::new(),
                infos: Vec::new(),
            };
        }
    };
    let value = match r.value {
        Value::Scalar { t, v } => QueryValue::Scalar { t, v },
        Value::String { t, s } => QueryValue::String { t, s },
        Value::Vector(v) => QueryValue::Vector(
            v.into_iter()
                .map(|s| VectorSample {
                    labels: s.metric,
                    t: s.t,
                    value: match s.h {
                        Some(h) => SampleValue::Histogram((*h).clone()),
                        None => SampleValue::Float(s.f),
                    },
                })
                .collect(),
        ),
        Value::Matrix(m) => QueryValue::Matrix(
            m.into_iter()
                .map(|s| RangeSeries {
                    labels: s.metric,
                    floats: s.floats.iter().map(|p| (p.t, p.f)).collect(),
                    histograms: s.histograms.iter().map(|p| (p.t, (*p.h).clone())).collect(),
                })
                .collect(),
        ),
    };
    QueryResult {
        value: Ok(value),
        warnings: r.warnings,
        infos: r.infos,
    }
}

impl Engine for engine::Engine {
    fn instant(&self, storage: &MemStorage, query: &str, t: i64) -> QueryResult {
        convert(engine::Engine::instant(self, storage, query, t))
    }

    fn range(
        &self,
        storage: &MemStorage,
        query: &str,
        start: i64,
        end: i64,
        step: i64,
    ) -> QueryResult {
        convert(engine::Engine::range(
            self, storage, query, start, end, step,
        ))
    }
}
