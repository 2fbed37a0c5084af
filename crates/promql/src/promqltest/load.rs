//! Applying `load` commands to a [`MemStorage`], including the classic-to-NHCB conversion of
//! `load_with_nhcb`.

use std::collections::BTreeMap;

use pm_common::model::{
    CUSTOM_BUCKETS_SCHEMA, CounterResetHint, FloatHistogram, Labels, LabelsBuilder, Span,
};
use pm_storage::{Appendable, MemStorage, SeriesRef};

use super::ScriptError;
use super::notation::SequenceValue;
use super::script::LoadCmd;

/// Appends every series of `cmd` (value `i` at `i * step` ms) in one transaction; with
/// `load_with_nhcb`, classic histograms are also stored as native histograms with custom
/// buckets under their base name. A series defined twice in one block keeps its last
/// definition, as upstream ([`LoadCmd::series`]). A value's start timestamp is its time plus
/// the offset of its `@st` line (`0`, unknown, without one).
pub fn apply_load(storage: &MemStorage, cmd: &LoadCmd) -> Result<(), ScriptError> {
    let err = |e: pm_storage::StorageError| ScriptError::new(cmd.line, e.to_string());
    let mut app = storage.appender();
    let mut classic = ClassicHistograms::default();
    for series in cmd.series() {
        let mut sref = SeriesRef::UNKNOWN;
        let mut previous: Option<&FloatHistogram> = None;
        for (i, value) in series.values.iter().enumerate() {
            let t = i as i64 * cmd.step;
            let st = series
                .start_timestamps
                .and_then(|offsets| offsets.get(i).copied().flatten())
                .map_or(0, |offset| t + offset);
            match value {
                SequenceValue::Omitted => {}
                SequenceValue::Float(v) => {
                    previous = None;
                    sref = app
                        .append_with_st(sref, series.labels, st, t, *v)
                        .map_err(err)?;
                    if cmd.with_nhcb {
                        classic.observe(series.labels, t, *v);
                    }
                }
                SequenceValue::Histogram { histogram, .. } => {
                    let mut h = histogram.clone();
                    h.counter_reset_hint = stored_hint(histogram, previous);
                    previous = Some(histogram);
                    sref = app
                        .append_histogram_with_st(sref, series.labels, st, t, None, Some(&h))
                        .map_err(err)?;
                }
            }
        }
    }
    for (labels, by_time) in classic.convert() {
        let mut sref = SeriesRef::UNKNOWN;
        for (t, h) in by_time {
            let h = h.map_err(|m| ScriptError::new(cmd.line, m))?;
            sref = app
                .append_histogram(sref, &labels, t, None, Some(&h))
                .map_err(err)?;
        }
    }
    app.commit().map_err(err)
}

/// One classic histogram at one timestamp, as collected from its series.
/// The counter-reset hint a histogram reads back with from upstream's TSDB, which the test
/// scripts' expectations reflect: gauges stay gauges; the first histogram after a float (or of
/// the series) has an unknown hint unless it says it is a reset; a later one is explicitly not a
/// reset unless its counts went down, which starts a new chunk whose first sample reads back as
/// unknown (upstream issue 15346, which the scripts' expectations reflect).
fn stored_hint(h: &FloatHistogram, previous: Option<&FloatHistogram>) -> CounterResetHint {
    match (h.counter_reset_hint, previous) {
        (CounterResetHint::Gauge, _) => CounterResetHint::Gauge,
        (CounterResetHint::CounterReset, _) => CounterResetHint::CounterReset,
        (_, None) => CounterResetHint::Unknown,
        (_, Some(prev)) if prev.counter_reset_hint == CounterResetHint::Gauge => {
            CounterResetHint::Unknown
        }
        (_, Some(prev)) => {
            let mut unhinted = h.clone();
            unhinted.counter_reset_hint = CounterResetHint::Unknown;
            if unhinted.detect_reset(prev) {
                CounterResetHint::Unknown
            } else {
                CounterResetHint::NotCounterReset
            }
        }
    }
}

#[derive(Default)]
struct Collected {
    /// Cumulative counts by upper bound (bit pattern keeps `f64` orderable and exact).
    buckets: BTreeMap<OrderedBound, f64>,
    count: Option<f64>,
    sum: Option<f64>,
}

#[derive(Clone, Copy)]
struct OrderedBound(f64);

impl PartialEq for OrderedBound {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for OrderedBound {}

impl PartialOrd for OrderedBound {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OrderedBound {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// The converted samples of one NHCB series, in time order.
type NhcbSamples = Vec<(i64, Result<FloatHistogram, String>)>;

/// Classic histogram series grouped by their base labels (name without suffix, no `le`).
#[derive(Default)]
struct ClassicHistograms {
    groups: BTreeMap<Labels, BTreeMap<i64, Collected>>,
}

impl ClassicHistograms {
    fn observe(&mut self, labels: &Labels, t: i64, v: f64) {
        let Some(name) = labels.metric_name() else {
            return;
        };
        let (base, suffix) = if let Some(b) = name.strip_suffix("_bucket") {
            (b, Suffix::Bucket)
        } else if let Some(b) = name.strip_suffix("_count") {
            (b, Suffix::Count)
        } else if let Some(b) = name.strip_suffix("_sum") {
            (b, Suffix::Sum)
        } else {
            return;
        };
        let le = match suffix {
            Suffix::Bucket => match labels
                .get("le")
                .and_then(|le| le.trim().parse::<f64>().ok())
            {
                Some(le) if !le.is_nan() => Some(le),
                _ => return,
            },
            _ => None,
        };
        let mut b = LabelsBuilder::new(labels.clone());
        b.set("__name__", base).del("le");
        let collected = self
            .groups
            .entry(b.labels())
            .or_default()
            .entry(t)
            .or_default();
        match (suffix, le) {
            (Suffix::Bucket, Some(le)) => {
                collected.buckets.insert(OrderedBound(le), v);
            }
            (Suffix::Count, _) => collected.count = Some(v),
            (Suffix::Sum, _) => collected.sum = Some(v),
            _ => {}
        }
    }

    /// The NHCB samples per base series, in time order; groups without any bucket are skipped
    /// (a lone `_count` or `_sum` is no histogram).
    fn convert(self) -> impl Iterator<Item = (Labels, NhcbSamples)> {
        self.groups.into_iter().filter_map(|(labels, by_time)| {
            by_time.values().any(|c| !c.buckets.is_empty()).then(|| {
                let samples = by_time.into_iter().map(|(t, c)| (t, to_nhcb(&c))).collect();
                (labels, samples)
            })
        })
    }
}

#[derive(Clone, Copy)]
enum Suffix {
    Bucket,
    Count,
    Sum,
}

/// Turns cumulative classic buckets into an NHCB with one bucket per bound plus the +Inf one.
fn to_nhcb(c: &Collected) -> Result<FloatHistogram, String> {
    let mut bounds = Vec::new();
    let mut buckets = Vec::new();
    let mut prev = 0.0;
    let mut inf_count = None;
    for (&OrderedBound(le), &cum) in &c.buckets {
        if le == f64::INFINITY {
            inf_count = Some(cum);
            continue;
        }
        bounds.push(le);
        buckets.push(cum - prev);
        prev = cum;
    }
    let count = c.count.or(inf_count).unwrap_or(prev);
    buckets.push(inf_count.unwrap_or(count) - prev);
    let h = FloatHistogram {
        schema: CUSTOM_BUCKETS_SCHEMA,
        count,
        sum: c.sum.unwrap_or(0.0),
        positive_spans: vec![Span {
            offset: 0,
            length: buckets.len() as u32,
        }],
        positive_buckets: buckets,
        custom_values: bounds,
        ..Default::default()
    };
    let h = h.compacted();
    h.validate().map_err(|e| e.to_string())?;
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_buckets_become_custom_buckets() {
        let mut c = Collected::default();
        for (le, v) in [(0.1, 1.0), (1.0, 3.0), (f64::INFINITY, 4.0)] {
            c.buckets.insert(OrderedBound(le), v);
        }
        c.sum = Some(2.5);
        let h = to_nhcb(&c).unwrap();
        assert_eq!(h.custom_values, vec![0.1, 1.0]);
        assert_eq!(h.positive_buckets, vec![1.0, 2.0, 1.0]);
        assert_eq!((h.count, h.sum), (4.0, 2.5));
        c.buckets.insert(OrderedBound(0.5), 0.5);
        assert!(
            to_nhcb(&c).is_err(),
            "a decreasing cumulative count is invalid"
        );
    }
}
