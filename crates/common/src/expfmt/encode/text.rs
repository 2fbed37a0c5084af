//! The Prometheus text format 0.0.4, as prometheus/common `expfmt.MetricFamilyToText` writes it.

use super::float::push_g;
use super::writer::{ExtraLabel, push_escaped, push_name, push_name_and_labels};
use super::{EncodeError, family_type};
use crate::expfmt::dto::{self, MetricType};
use crate::model::{BUCKET_LABEL, QUANTILE_LABEL};

/// Appends one family in the text format. Families without metrics are an error (the format
/// cannot express them), as upstream. On error `out` is left as it was.
pub fn write_text(out: &mut String, mf: &dto::MetricFamily) -> Result<(), EncodeError> {
    let start = out.len();
    let result = write_family(out, mf);
    if result.is_err() {
        out.truncate(start);
    }
    result
}

/// Go's text encoder writes 1, 0 and -1 without going through `FormatFloat`; `-0` therefore
/// comes out as `0`.
fn push_value(out: &mut String, v: f64) {
    if v == 0.0 {
        out.push('0');
    } else {
        push_g(out, v);
    }
}

fn write_family(out: &mut String, mf: &dto::MetricFamily) -> Result<(), EncodeError> {
    let name = mf.name();
    if name.is_empty() {
        return Err(EncodeError::NoName);
    }
    if mf.metric.is_empty() {
        return Err(EncodeError::NoMetrics(name.to_owned()));
    }
    let kind = family_type(mf)?;
    if let Some(help) = &mf.help {
        out.push_str("# HELP ");
        push_name(out, name);
        out.push(' ');
        push_escaped(out, help, false);
        out.push('\n');
    }
    out.push_str("# TYPE ");
    push_name(out, name);
    out.push_str(match kind {
        MetricType::Counter => " counter\n",
        MetricType::Gauge => " gauge\n",
        MetricType::Summary => " summary\n",
        MetricType::Untyped => " untyped\n",
        MetricType::Histogram | MetricType::GaugeHistogram => " histogram\n",
    });

    let missing = |expected| EncodeError::MissingValue {
        expected,
        family: name.to_owned(),
    };
    for m in &mf.metric {
        let sample = |out: &mut String, suffix, extra, value| {
            push_sample(out, name, suffix, m, extra, value)
        };
        match kind {
            MetricType::Counter => {
                let c = m.counter.as_ref().ok_or_else(|| missing("counter"))?;
                sample(out, "", None, c.value());
            }
            MetricType::Gauge => {
                let g = m.gauge.as_ref().ok_or_else(|| missing("gauge"))?;
                sample(out, "", None, g.value());
            }
            MetricType::Untyped => {
                let u = m.untyped.as_ref().ok_or_else(|| missing("untyped"))?;
                sample(out, "", None, u.value());
            }
            MetricType::Summary => {
                let s = m.summary.as_ref().ok_or_else(|| missing("summary"))?;
                for q in &s.quantile {
                    sample(out, "", Some((QUANTILE_LABEL, q.quantile())), q.value());
                }
                sample(out, "_sum", None, s.sample_sum());
                sample(out, "_count", None, s.sample_count() as f64);
            }
            MetricType::Histogram | MetricType::GaugeHistogram => {
                let h = m.histogram.as_ref().ok_or_else(|| missing("histogram"))?;
                let count = if h.sample_count_float() != 0.0 {
                    h.sample_count_float()
                } else {
                    h.sample_count() as f64
                };
                let mut inf_seen = false;
                for b in &h.bucket {
                    let v = if b.cumulative_count_float() != 0.0 {
                        b.cumulative_count_float()
                    } else {
                        b.cumulative_count() as f64
                    };
                    sample(out, "_bucket", Some((BUCKET_LABEL, b.upper_bound())), v);
                    inf_seen |= b.upper_bound() == f64::INFINITY;
                }
                if !inf_seen {
                    sample(out, "_bucket", Some((BUCKET_LABEL, f64::INFINITY)), count);
                }
                sample(out, "_sum", None, h.sample_sum());
                sample(out, "_count", None, count);
            }
        }
    }
    Ok(())
}

fn push_sample(
    out: &mut String,
    name: &str,
    suffix: &str,
    m: &dto::Metric,
    extra: ExtraLabel,
    value: f64,
) {
    push_name_and_labels(out, name, suffix, &m.label, extra, push_value);
    out.push(' ');
    push_value(out, value);
    if let Some(ts) = m.timestamp_ms {
        out.push(' ');
        out.push_str(itoa::Buffer::new().format(ts));
    }
    out.push('\n');
}
