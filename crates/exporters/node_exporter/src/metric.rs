//! Small builders for the constant families collectors emit on every scrape.

use pm_common::expfmt::dto::MetricFamily;
use pm_common::metrics::{ConstFamily, ConstKind};

/// Families a collector appends to during a scrape.
pub type Out = Vec<MetricFamily>;

pub fn gauge_family(name: impl Into<String>, help: impl Into<String>) -> ConstFamily {
    ConstFamily::new(name, help, ConstKind::Gauge)
}

pub fn counter_family(name: impl Into<String>, help: impl Into<String>) -> ConstFamily {
    ConstFamily::new(name, help, ConstKind::Counter)
}

pub fn untyped_family(name: impl Into<String>, help: impl Into<String>) -> ConstFamily {
    ConstFamily::new(name, help, ConstKind::Untyped)
}

/// One unlabelled sample of `kind`.
pub fn single(out: &mut Out, kind: ConstKind, name: impl Into<String>, help: &str, value: f64) {
    out.push(
        ConstFamily::new(name, help, kind)
            .with(&[], value)
            .into_family(),
    );
}

pub fn gauge(out: &mut Out, name: impl Into<String>, help: &str, value: f64) {
    single(out, ConstKind::Gauge, name, help, value);
}

pub fn counter(out: &mut Out, name: impl Into<String>, help: &str, value: f64) {
    single(out, ConstKind::Counter, name, help, value);
}

/// Parses a number as Go's `strconv.ParseFloat` does for the inputs /proc holds.
pub fn parse_f64(s: &str) -> Option<f64> {
    s.parse().ok()
}
