//! Protobuf scrape bodies, flattened into the entry stream the text parsers produce: per family
//! its help, unit and type, then one sample per series (a summary's `_count`, `_sum` and
//! quantiles; a classic histogram's `_count`, `_sum` and buckets) or one native histogram.

use pm_common::expfmt::dto;
use pm_common::expfmt::encode::float::format_g;
use pm_common::expfmt::proto::decode_delimited;
use pm_common::model::{
    BUCKET_LABEL, CounterResetHint, Exemplar, FloatHistogram, Histogram, Labels, MetricType,
    QUANTILE_LABEL, ScratchBuilder, Span,
};

/// A native histogram as exposed: integer counts unless the target sent float counts.
#[derive(Debug, Clone)]
pub(crate) enum NativeHistogram {
    Int(Histogram),
    Float(FloatHistogram),
}

#[derive(Debug)]
pub(crate) enum ProtoEntry {
    Help { name: String, help: String },
    Unit { name: String, unit: String },
    Type { name: String, t: MetricType },
    Series(Box<ProtoSeries>),
}

#[derive(Debug)]
pub(crate) struct ProtoSeries {
    /// Cache key: the name and label pairs, separated by `0xff`.
    pub key: Vec<u8>,
    /// `__name__` first, then the labels in exposition order.
    pub labels: Vec<(String, String)>,
    pub ts: Option<i64>,
    pub value: f64,
    pub histogram: Option<NativeHistogram>,
    pub exemplar: Option<Exemplar>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ProtoBodyError {
    #[error(transparent)]
    Decode(#[from] pm_common::expfmt::proto::ProtoError),
    #[error("invalid metric name: {0}")]
    InvalidName(String),
    #[error("unknown metric type for metric {name:?}: {t}")]
    UnknownType { name: String, t: i32 },
}

/// How a body is flattened.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ProtoOptions {
    /// Emit native histograms (`scrape_native_histograms`).
    pub native_histograms: bool,
    /// Emit the classic series of histograms that also carry native buckets.
    pub always_classic: bool,
}

/// Decodes a whole length-delimited body.
pub(crate) fn flatten(body: &[u8], opts: ProtoOptions) -> Result<Vec<ProtoEntry>, ProtoBodyError> {
    let mut out = Vec::new();
    for mf in decode_delimited(body)? {
        family(&mf, opts, &mut out)?;
    }
    Ok(out)
}

fn family(
    mf: &dto::MetricFamily,
    opts: ProtoOptions,
    out: &mut Vec<ProtoEntry>,
) -> Result<(), ProtoBodyError> {
    if mf.metric.is_empty() {
        return Ok(());
    }
    let name = mf.name().to_owned();
    if name.is_empty() {
        return Err(ProtoBodyError::InvalidName(name));
    }
    let raw_type = mf.r#type.unwrap_or(0);
    let dto_type =
        dto::MetricType::try_from(raw_type).map_err(|_| ProtoBodyError::UnknownType {
            name: name.clone(),
            t: raw_type,
        })?;
    let t = match dto_type {
        dto::MetricType::Counter => MetricType::Counter,
        dto::MetricType::Gauge => MetricType::Gauge,
        dto::MetricType::Summary => MetricType::Summary,
        dto::MetricType::Untyped => MetricType::Unknown,
        dto::MetricType::Histogram => MetricType::Histogram,
        dto::MetricType::GaugeHistogram => MetricType::GaugeHistogram,
    };
    out.push(ProtoEntry::Help {
        name: name.clone(),
        help: mf.help().to_owned(),
    });
    if !mf.unit().is_empty() {
        out.push(ProtoEntry::Unit {
            name: name.clone(),
            unit: mf.unit().to_owned(),
        });
    }
    out.push(ProtoEntry::Type {
        name: name.clone(),
        t,
    });
    let default_counter = dto::Counter::default();
    let default_summary = dto::Summary::default();
    let default_histogram = dto::Histogram::default();
    for m in &mf.metric {
        // Builds one float series of the family; it borrows nothing mutably, so native
        // histogram series can be pushed between its uses.
        let float_series = |suffix: &str,
                            extra: Option<(&str, String)>,
                            value: f64,
                            ex: Option<&dto::Exemplar>| {
            ProtoEntry::Series(Box::new(series(
                &format!("{name}{suffix}"),
                m,
                extra,
                value,
                None,
                ex,
            )))
        };
        match dto_type {
            dto::MetricType::Counter => {
                let c = m.counter.as_ref().unwrap_or(&default_counter);
                out.push(float_series("", None, c.value(), c.exemplar.as_ref()));
            }
            dto::MetricType::Gauge => out.push(float_series(
                "",
                None,
                m.gauge.unwrap_or_default().value(),
                None,
            )),
            dto::MetricType::Untyped => out.push(float_series(
                "",
                None,
                m.untyped.unwrap_or_default().value(),
                None,
            )),
            dto::MetricType::Summary => {
                let s = m.summary.as_ref().unwrap_or(&default_summary);
                out.push(float_series("_count", None, s.sample_count() as f64, None));
                out.push(float_series("_sum", None, s.sample_sum(), None));
                for q in &s.quantile {
                    out.push(float_series(
                        "",
                        Some((QUANTILE_LABEL, openmetrics_float(q.quantile()))),
                        q.value(),
                        None,
                    ));
                }
            }
            dto::MetricType::Histogram | dto::MetricType::GaugeHistogram => {
                let h = m.histogram.as_ref().unwrap_or(&default_histogram);
                let native = is_native(h);
                if native && opts.native_histograms {
                    let gauge = dto_type == dto::MetricType::GaugeHistogram;
                    out.push(ProtoEntry::Series(Box::new(series(
                        &name,
                        m,
                        None,
                        0.0,
                        Some(to_native(h, gauge)),
                        None,
                    ))));
                    if !opts.always_classic {
                        continue;
                    }
                }
                let float = h.sample_count_float.is_some_and(|c| c > 0.0);
                let count = if float {
                    h.sample_count_float()
                } else {
                    h.sample_count() as f64
                };
                out.push(float_series("_count", None, count, None));
                out.push(float_series("_sum", None, h.sample_sum(), None));
                let mut saw_inf = false;
                for b in &h.bucket {
                    saw_inf |= b.upper_bound() == f64::INFINITY;
                    let v = if float {
                        b.cumulative_count_float()
                    } else {
                        b.cumulative_count() as f64
                    };
                    out.push(float_series(
                        "_bucket",
                        Some((BUCKET_LABEL, openmetrics_float(b.upper_bound()))),
                        v,
                        b.exemplar.as_ref(),
                    ));
                }
                if !(saw_inf || native && h.bucket.is_empty()) {
                    out.push(float_series(
                        "_bucket",
                        Some((BUCKET_LABEL, "+Inf".to_owned())),
                        count,
                        None,
                    ));
                }
            }
        }
    }
    Ok(())
}

fn series(
    name: &str,
    m: &dto::Metric,
    extra: Option<(&str, String)>,
    value: f64,
    histogram: Option<NativeHistogram>,
    exemplar: Option<&dto::Exemplar>,
) -> ProtoSeries {
    let mut key = name.as_bytes().to_vec();
    let mut labels = Vec::with_capacity(m.label.len() + 2);
    labels.push(("__name__".to_owned(), name.to_owned()));
    for lp in &m.label {
        labels.push((lp.name().to_owned(), lp.value().to_owned()));
    }
    if let Some((n, v)) = extra {
        labels.push((n.to_owned(), v));
    }
    for (n, v) in &labels[1..] {
        key.push(0xff);
        key.extend_from_slice(n.as_bytes());
        key.push(0xff);
        key.extend_from_slice(v.as_bytes());
    }
    ProtoSeries {
        key,
        labels,
        ts: m.timestamp_ms,
        value,
        histogram,
        exemplar: exemplar.map(convert_exemplar),
    }
}

fn convert_exemplar(e: &dto::Exemplar) -> Exemplar {
    Exemplar {
        labels: Labels::from_pairs(e.label.iter().map(|l| (l.name(), l.value()))),
        value: e.value(),
        ts: e
            .timestamp
            .as_ref()
            .map(|t| t.seconds * 1000 + i64::from(t.nanos) / 1_000_000),
    }
}

/// Whether the histogram carries native buckets (upstream's test: spans or a zero bucket).
fn is_native(h: &dto::Histogram) -> bool {
    !h.positive_span.is_empty()
        || !h.negative_span.is_empty()
        || h.zero_threshold() > 0.0
        || h.zero_count() > 0
        || h.zero_count_float() > 0.0
}

fn spans(s: &[dto::BucketSpan]) -> Vec<Span> {
    s.iter()
        .map(|s| Span {
            offset: s.offset(),
            length: s.length(),
        })
        .collect()
}

fn to_native(h: &dto::Histogram, gauge: bool) -> NativeHistogram {
    let hint = if gauge {
        CounterResetHint::Gauge
    } else {
        CounterResetHint::Unknown
    };
    if h.sample_count_float.is_some_and(|c| c > 0.0) || h.zero_count_float.is_some_and(|c| c > 0.0)
    {
        NativeHistogram::Float(FloatHistogram {
            counter_reset_hint: hint,
            schema: h.schema(),
            zero_threshold: h.zero_threshold(),
            zero_count: h.zero_count_float(),
            count: h.sample_count_float(),
            sum: h.sample_sum(),
            positive_spans: spans(&h.positive_span),
            negative_spans: spans(&h.negative_span),
            positive_buckets: h.positive_count.clone(),
            negative_buckets: h.negative_count.clone(),
            custom_values: Vec::new(),
        })
    } else {
        NativeHistogram::Int(Histogram {
            counter_reset_hint: hint,
            schema: h.schema(),
            zero_threshold: h.zero_threshold(),
            zero_count: h.zero_count(),
            count: h.sample_count(),
            sum: h.sample_sum(),
            positive_spans: spans(&h.positive_span),
            negative_spans: spans(&h.negative_span),
            positive_deltas: h.positive_delta.clone(),
            negative_deltas: h.negative_delta.clone(),
            custom_values: Vec::new(),
        })
    }
}

/// Upstream's `FormatOpenMetricsFloat`, which Prometheus 3 uses for `le` and `quantile`
/// values so that `1` and `1.0` name the same bucket in every format.
pub(crate) fn openmetrics_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_owned();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let mut s = format_g(v);
    if !s.contains(['e', '.']) {
        s.push_str(".0");
    }
    s
}

/// Fills `b` with a series' labels, sorted.
pub(crate) fn fill_labels(s: &ProtoSeries, b: &mut ScratchBuilder) {
    b.reset();
    for (n, v) in &s.labels {
        b.push(n, v);
    }
    b.sort();
}
