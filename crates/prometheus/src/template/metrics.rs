//! Upstream's text-expansion counters. Like upstream's they are process-wide: every
//! expansion counts, whichever subsystem asked for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use pm_common::expfmt::dto;
use pm_common::metrics::{Collector, ConstFamily, ConstKind, Registry};

static EXPANSIONS: AtomicU64 = AtomicU64::new(0);
static FAILURES: AtomicU64 = AtomicU64::new(0);

/// Counts one text-mode expansion and whether it failed.
pub(super) fn record(failed: bool) {
    EXPANSIONS.fetch_add(1, Ordering::Relaxed);
    if failed {
        FAILURES.fetch_add(1, Ordering::Relaxed);
    }
}

/// Serves `prometheus_template_text_expansions_total` and
/// `prometheus_template_text_expansion_failures_total` from `registry`.
pub fn register_metrics(registry: &Registry) {
    registry.register(Arc::new(ExpansionCounters));
}

struct ExpansionCounters;

impl Collector for ExpansionCounters {
    fn collect(&self, out: &mut Vec<dto::MetricFamily>) {
        let family = |name: &str, help: &str, counter: &AtomicU64| {
            ConstFamily::new(name, help, ConstKind::Counter)
                .with(&[], counter.load(Ordering::Relaxed) as f64)
                .into_family()
        };
        out.push(family(
            "prometheus_template_text_expansion_failures_total",
            "The total number of template text expansion failures.",
            &FAILURES,
        ));
        out.push(family(
            "prometheus_template_text_expansions_total",
            "The total number of template text expansions.",
            &EXPANSIONS,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_served() {
        let registry = Registry::new();
        register_metrics(&registry);
        let before = FAILURES.load(Ordering::Relaxed);
        record(true);
        let families = registry.gather();
        let value = |name: &str| {
            let f = families
                .iter()
                .find(|f| f.name.as_deref() == Some(name))
                .unwrap_or_else(|| panic!("{name} missing"));
            f.metric[0]
                .counter
                .as_ref()
                .and_then(|c| c.value)
                .unwrap_or(-1.0)
        };
        // Other tests expand concurrently, so only lower bounds hold.
        assert!(value("prometheus_template_text_expansion_failures_total") >= (before + 1) as f64);
        assert!(value("prometheus_template_text_expansions_total") >= 1.0);
    }
}
