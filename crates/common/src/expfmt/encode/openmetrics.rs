//! OpenMetrics 1.0 text, as prometheus/common `expfmt.MetricFamilyToOpenMetrics` writes it.
//!
//! Differences from the 0.0.4 text format that clients rely on: counters are typed `counter` only
//! when their name ends in `_total` (the family is announced without the suffix), untyped is
//! `unknown`, values always carry a decimal point or exponent, timestamps are in seconds,
//! exemplars follow ` # `, and the exposition ends with `# EOF` ([`finalize_openmetrics`]).

use prost_types::Timestamp;

use super::float::push_g;
use super::writer::{ExtraLabel, push_escaped, push_name, push_name_and_labels};
use super::{EncodeError, family_type};
use crate::expfmt::dto::{self, MetricType};
use crate::model::{BUCKET_LABEL, QUANTILE_LABEL};

/// Knobs of the OpenMetrics encoder (upstream's `EncoderOption`s).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenMetricsOptions {
    /// Write a synthetic `<name>_created` sample for counters, summaries and histograms that
    /// carry a created timestamp (`expfmt.WithCreatedLines`).
    pub created_lines: bool,
}

/// Appends the `# EOF` line that terminates every OpenMetrics exposition.
pub fn finalize_openmetrics(out: &mut String) {
    out.push_str("# EOF\n");
}

/// Appends one family in OpenMetrics 1.0 text. Unlike the 0.0.4 encoder, a family without
/// metrics is written as metadata only. On error `out` is left as it was.
pub fn write_openmetrics(
    out: &mut String,
    mf: &dto::MetricFamily,
    options: OpenMetricsOptions,
) -> Result<(), EncodeError> {
    let start = out.len();
    let result = write_family(out, mf, options);
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// OpenMetrics values always look like floats: integral values get `.0` (`1.0`, `42.0`) unless
/// Go's formatting already chose an exponent (`1e+06`).
fn push_om_float(out: &mut String, v: f64) {
    if v == 0.0 {
        out.push_str("0.0");
        return;
    }
    let start = out.len();
    push_g(out, v);
    if v.is_finite() && !out[start..].contains(['e', '.']) {
        out.push_str(".0");
    }
}

/// Seconds since the epoch as a float, computed like Go's `float64(t.UnixNano()) / 1e9`.
fn timestamp_seconds(ts: &Timestamp) -> f64 {
    let nanos = ts
        .seconds
        .wrapping_mul(1_000_000_000)
        .wrapping_add(i64::from(ts.nanos));
    nanos as f64 / 1e9
}

/// The range `timestamppb.CheckValid` accepts: years 0001 to 9999, nanos within a second.
fn timestamp_is_valid(ts: &Timestamp) -> bool {
    (-62_135_596_800..=253_402_300_799).contains(&ts.seconds)
        && (0..1_000_000_000).contains(&ts.nanos)
}

fn write_family(
    out: &mut String,
    mf: &dto::MetricFamily,
    options: OpenMetricsOptions,
) -> Result<(), EncodeError> {
    let name = mf.name();
    if name.is_empty() {
        return Err(EncodeError::NoName);
    }
    let kind = family_type(mf)?;
    let total_counter = kind == MetricType::Counter && name.ends_with("_total");
    let base = if total_counter {
        &name[..name.len() - "_total".len()]
    } else {
        name
    };

    if let Some(help) = &mf.help {
        out.push_str("# HELP ");
        push_name(out, base);
        out.push(' ');
        push_escaped(out, help, true);
        out.push('\n');
    }
    out.push_str("# TYPE ");
    push_name(out, base);
    out.push_str(match kind {
        MetricType::Counter if total_counter => " counter\n",
        MetricType::Counter | MetricType::Untyped => " unknown\n",
        MetricType::Gauge => " gauge\n",
        MetricType::Summary => " summary\n",
        MetricType::Histogram => " histogram\n",
        MetricType::GaugeHistogram => " gaugehistogram\n",
    });
    if let Some(unit) = &mf.unit {
        out.push_str("# UNIT ");
        push_name(out, base);
        out.push(' ');
        push_escaped(out, unit, true);
        out.push('\n');
    }

    let missing = |expected| EncodeError::MissingValue {
        expected,
        family: name.to_owned(),
    };
    for m in &mf.metric {
        let w = SampleWriter { name, metric: m };
        match kind {
            MetricType::Counter => {
                let c = m.counter.as_ref().ok_or_else(|| missing("counter"))?;
                w.sample(out, "", None, Value::Float(c.value()), c.exemplar.as_ref())?;
                if let Some(ts) = c
                    .created_timestamp
                    .as_ref()
                    .filter(|_| options.created_lines)
                {
                    SampleWriter {
                        name: base,
                        metric: m,
                    }
                    .created(out, ts);
                }
            }
            MetricType::Gauge => {
                let g = m.gauge.as_ref().ok_or_else(|| missing("gauge"))?;
                w.sample(out, "", None, Value::Float(g.value()), None)?;
            }
            MetricType::Untyped => {
                let u = m.untyped.as_ref().ok_or_else(|| missing("untyped"))?;
                w.sample(out, "", None, Value::Float(u.value()), None)?;
            }
            MetricType::Summary => {
                let s = m.summary.as_ref().ok_or_else(|| missing("summary"))?;
                for q in &s.quantile {
                    let extra = Some((QUANTILE_LABEL, q.quantile()));
                    w.sample(out, "", extra, Value::Float(q.value()), None)?;
                }
                w.sample(out, "_sum", None, Value::Float(s.sample_sum()), None)?;
                w.sample(out, "_count", None, Value::Int(s.sample_count()), None)?;
                if let Some(ts) = s
                    .created_timestamp
                    .as_ref()
                    .filter(|_| options.created_lines)
                {
                    w.created(out, ts);
                }
            }
            MetricType::Histogram | MetricType::GaugeHistogram => {
                let h = m.histogram.as_ref().ok_or_else(|| missing("histogram"))?;
                let float_histogram = || EncodeError::FloatHistogram(name.to_owned());
                let mut inf_seen = false;
                for b in &h.bucket {
                    if b.cumulative_count_float() > 0.0 {
                        return Err(float_histogram());
                    }
                    let extra = Some((BUCKET_LABEL, b.upper_bound()));
                    let count = Value::Int(b.cumulative_count());
                    w.sample(out, "_bucket", extra, count, b.exemplar.as_ref())?;
                    inf_seen |= b.upper_bound() == f64::INFINITY;
                }
                if !inf_seen {
                    let extra = Some((BUCKET_LABEL, f64::INFINITY));
                    w.sample(out, "_bucket", extra, Value::Int(h.sample_count()), None)?;
                }
                w.sample(out, "_sum", None, Value::Float(h.sample_sum()), None)?;
                if h.sample_count_float() > 0.0 {
                    return Err(float_histogram());
                }
                w.sample(out, "_count", None, Value::Int(h.sample_count()), None)?;
                if let Some(ts) = h
                    .created_timestamp
                    .as_ref()
                    .filter(|_| options.created_lines)
                {
                    w.created(out, ts);
                }
            }
        }
    }
    Ok(())
}

/// Counts are written as integers, everything else as OpenMetrics floats.
#[derive(Clone, Copy)]
enum Value {
    Float(f64),
    Int(u64),
}

/// Writes the samples of one metric under one family name.
struct SampleWriter<'a> {
    name: &'a str,
    metric: &'a dto::Metric,
}

impl SampleWriter<'_> {
    fn sample(
        &self,
        out: &mut String,
        suffix: &str,
        extra: ExtraLabel,
        value: Value,
        exemplar: Option<&dto::Exemplar>,
    ) -> Result<(), EncodeError> {
        push_name_and_labels(
            out,
            self.name,
            suffix,
            &self.metric.label,
            extra,
            push_om_float,
        );
        out.push(' ');
        match value {
            Value::Float(v) => push_om_float(out, v),
            Value::Int(v) => out.push_str(itoa::Buffer::new().format(v)),
        }
        if let Some(ts) = self.metric.timestamp_ms {
            out.push(' ');
            push_om_float(out, ts as f64 / 1000.0);
        }
        if let Some(e) = exemplar.filter(|e| !e.label.is_empty()) {
            out.push_str(" # ");
            push_name_and_labels(out, "", "", &e.label, None, push_om_float);
            out.push(' ');
            push_om_float(out, e.value());
            if let Some(ts) = &e.timestamp {
                if !timestamp_is_valid(ts) {
                    return Err(EncodeError::InvalidTimestamp(self.name.to_owned()));
                }
                out.push(' ');
                push_om_float(out, timestamp_seconds(ts));
            }
        }
        out.push('\n');
        Ok(())
    }

    /// The synthetic `<name>_created <seconds>` line; never carries the sample timestamp.
    fn created(&self, out: &mut String, ts: &Timestamp) {
        push_name_and_labels(
            out,
            self.name,
            "_created",
            &self.metric.label,
            None,
            push_om_float,
        );
        out.push(' ');
        push_om_float(out, timestamp_seconds(ts));
        out.push('\n');
    }
}
