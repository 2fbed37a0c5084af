//! The warnings and infos PromQL functions attach to a result, with upstream's exact texts.
//!
//! A kernel knows neither the metric name nor the expression position, so it reports an
//! [`Issue`]; the engine turns it into an [`Annotation`] with [`Issue::annotate`] and appends
//! the position (`" (1:5)"`) itself when it renders the final strings, as upstream does once
//! the query text is known. Annotations are deduplicated by their [`Display`](fmt::Display)
//! text, which is what upstream keys them by.

use std::fmt;

/// Whether an annotation is returned under `warnings` or `infos`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Severity {
    Warning,
    Info,
}

/// The histogram operation named by counter-reset-collision and bucket-reconciliation notes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HistogramOperation {
    Addition,
    Subtraction,
    Aggregation,
}

impl fmt::Display for HistogramOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HistogramOperation::Addition => "addition",
            HistogramOperation::Subtraction => "subtraction",
            HistogramOperation::Aggregation => "aggregation",
        })
    }
}

/// Something a kernel noticed about one series' input; see [`Issue::annotate`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Issue {
    /// A window or vector mixes float and histogram samples (the result is dropped).
    MixedFloatsHistograms,
    /// Histograms with exponential and custom buckets cannot be combined.
    MixedExponentialCustomHistograms,
    /// A counter function (rate, increase, irate, resets) saw a gauge histogram.
    NativeHistogramNotCounter,
    /// A gauge function (delta, idelta) saw a counter histogram.
    NativeHistogramNotGauge,
    /// A float-only `*_over_time`/deriv/… function skipped the histograms of a mixed window.
    HistogramIgnoredInMixedRange,
    /// Summed or averaged histograms carried both `CounterReset` and `NotCounterReset` hints.
    HistogramCounterResetCollision(HistogramOperation),
    /// Custom bucket bounds differed and were reconciled.
    MismatchedCustomBuckets(HistogramOperation),
    /// A native histogram with NaN observations made the quantile NaN.
    NativeHistogramQuantileNaNResult,
    /// A native histogram with NaN observations skewed the quantile upwards.
    NativeHistogramQuantileNaNSkew,
    /// A native histogram with NaN observations: they are excluded from every fraction.
    NativeHistogramFractionNaNs,
    /// A sample's start timestamp lies before the previous sample (and is not its start).
    StartTimeOverlap,
}

impl Issue {
    /// The annotation for this issue on the series named `metric_name` (may be empty).
    pub fn annotate(self, metric_name: &str) -> Annotation {
        let name = metric_name.to_owned();
        match self {
            Issue::MixedFloatsHistograms => Annotation::MixedFloatsHistograms(name),
            Issue::MixedExponentialCustomHistograms => {
                Annotation::MixedExponentialCustomHistograms(name)
            }
            Issue::NativeHistogramNotCounter => Annotation::NativeHistogramNotCounter(name),
            Issue::NativeHistogramNotGauge => Annotation::NativeHistogramNotGauge(name),
            Issue::HistogramIgnoredInMixedRange => Annotation::HistogramIgnoredInMixedRange(name),
            Issue::HistogramCounterResetCollision(op) => {
                Annotation::HistogramCounterResetCollision(op)
            }
            Issue::MismatchedCustomBuckets(op) => Annotation::MismatchedCustomBuckets(op),
            Issue::NativeHistogramQuantileNaNResult => {
                Annotation::NativeHistogramQuantileNaNResult(name)
            }
            Issue::NativeHistogramQuantileNaNSkew => {
                Annotation::NativeHistogramQuantileNaNSkew(name)
            }
            Issue::NativeHistogramFractionNaNs => Annotation::NativeHistogramFractionNaNs(name),
            Issue::StartTimeOverlap => Annotation::StartTimeOverlap {
                metric_name: name,
                occurrences: 1,
            },
        }
    }
}

/// The issues of one kernel call. Small and `Copy`: a kernel runs once per series and step,
/// and most calls report nothing, so this must not allocate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Issues {
    items: [Option<Issue>; 4],
}

impl Issues {
    /// No issue.
    pub const NONE: Issues = Issues { items: [None; 4] };

    /// Just `issue`.
    pub fn one(issue: Issue) -> Issues {
        let mut issues = Issues::NONE;
        issues.push(issue);
        issues
    }

    /// Records `issue` once (a kernel reports at most a handful of distinct kinds).
    pub fn push(&mut self, issue: Issue) {
        if self.items.contains(&Some(issue)) {
            return;
        }
        if let Some(slot) = self.items.iter_mut().find(|s| s.is_none()) {
            *slot = Some(issue);
        }
    }

    /// Records every issue of `other`.
    pub fn extend(&mut self, other: Issues) {
        for issue in other.iter() {
            self.push(issue);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.items[0].is_none()
    }

    pub fn contains(&self, issue: Issue) -> bool {
        self.items.contains(&Some(issue))
    }

    /// The issues in the order they were first recorded.
    pub fn iter(&self) -> impl Iterator<Item = Issue> + '_ {
        self.items.iter().map_while(|s| *s)
    }
}

/// Where `histogram_quantile` had to repair non-monotonic classic buckets at one step;
/// notes of the same query merge with [`MonotonicityFix::merge`] as upstream's do.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MonotonicityFix {
    /// Earliest and latest evaluation timestamp (ms) that needed the fix.
    pub min_ts: i64,
    pub max_ts: i64,
    /// Lowest and highest `le` of a bucket whose count was raised.
    pub min_bucket: f64,
    pub max_bucket: f64,
    /// Largest amount a bucket count was raised by.
    pub max_diff: f64,
    /// How many fixes were merged into this one beyond the first.
    pub merged: usize,
}

impl MonotonicityFix {
    /// Folds a later fix of the same query and metric into this one.
    pub fn merge(&mut self, other: &MonotonicityFix) {
        self.min_ts = self.min_ts.min(other.min_ts);
        self.max_ts = self.max_ts.max(other.max_ts);
        self.min_bucket = self.min_bucket.min(other.min_bucket);
        self.max_bucket = self.max_bucket.max(other.max_bucket);
        self.max_diff = self.max_diff.max(other.max_diff);
        self.merged += other.merged + 1;
    }

    /// The detail upstream appends once the query is known: bucket range, largest diff,
    /// number of samples and time range (RFC 3339, seconds).
    pub fn details(&self) -> String {
        format!(
            "from buckets {} to {}, with a max diff of {}, over {} samples from {} to {}",
            go_g(self.min_bucket),
            go_g(self.max_bucket),
            go_2g(self.max_diff),
            self.merged + 1,
            rfc3339(self.min_ts),
            rfc3339(self.max_ts)
        )
    }
}

/// An annotation with its upstream text (without the trailing position).
#[derive(Clone, Debug, PartialEq)]
pub enum Annotation {
    /// `quantile` outside [0, 1] or NaN (histogram_quantile, quantile, quantile_over_time).
    InvalidQuantile(f64),
    /// `limit_ratio` outside [-1, 1]: the given value and the one used.
    InvalidRatio {
        got: f64,
        capped_to: f64,
    },
    /// A classic-histogram series without a parseable `le`: metric name (may be empty) and
    /// the offending label value.
    BadBucketLabel {
        metric_name: String,
        le: String,
    },
    MixedFloatsHistograms(String),
    /// Floats and histograms in one aggregation group.
    MixedFloatsHistogramsAggregation,
    MixedClassicNativeHistograms(String),
    NativeHistogramNotCounter(String),
    NativeHistogramNotGauge(String),
    MixedExponentialCustomHistograms(String),
    /// `rate` & co. on a name without a counter suffix.
    PossibleNonCounter(String),
    /// `rate` & co. on a series whose `__type__` label says it is no counter: the label
    /// value and the metric name.
    PossibleNonCounterLabel {
        type_label: String,
        metric_name: String,
    },
    /// Classic buckets repaired for monotonicity; the metric name is empty unless delayed
    /// name removal is on (as upstream).
    HistogramQuantileForcedMonotonicity {
        metric_name: String,
        fix: MonotonicityFix,
    },
    /// `lhs op rhs` with sample types the operator cannot combine.
    IncompatibleTypesInBinOp {
        lhs: String,
        operator: String,
        rhs: String,
    },
    /// The aggregation (`stddev`, `quantile`, …) that skipped histograms.
    HistogramIgnoredInAggregation(String),
    HistogramIgnoredInMixedRange(String),
    IncompatibleBucketLayoutInBinOp(String),
    SortInRangeQuery,
    NativeHistogramQuantileNaNResult(String),
    NativeHistogramQuantileNaNSkew(String),
    NativeHistogramFractionNaNs(String),
    HistogramCounterResetCollision(HistogramOperation),
    MismatchedCustomBuckets(HistogramOperation),
    /// Overlapping start timestamps; same-metric notes of one query add up `occurrences`.
    StartTimeOverlap {
        metric_name: String,
        occurrences: usize,
    },
}

const WARNING: &str = "PromQL warning";
const INFO: &str = "PromQL info";

impl Annotation {
    pub fn severity(&self) -> Severity {
        match self {
            Annotation::PossibleNonCounter(_)
            | Annotation::PossibleNonCounterLabel { .. }
            | Annotation::HistogramQuantileForcedMonotonicity { .. }
            | Annotation::IncompatibleTypesInBinOp { .. }
            | Annotation::HistogramIgnoredInAggregation(_)
            | Annotation::HistogramIgnoredInMixedRange(_)
            | Annotation::NativeHistogramQuantileNaNResult(_)
            | Annotation::NativeHistogramQuantileNaNSkew(_)
            | Annotation::NativeHistogramFractionNaNs(_)
            | Annotation::MismatchedCustomBuckets(_) => Severity::Info,
            _ => Severity::Warning,
        }
    }

    /// The text with the position-independent details upstream adds when rendering for a
    /// query (today only the monotonicity fix has some); the engine appends ` (<pos>)`.
    pub fn rendered(&self) -> String {
        match self {
            Annotation::HistogramQuantileForcedMonotonicity { fix, .. } => {
                format!("{self}, {}", fix.details())
            }
            Annotation::StartTimeOverlap { occurrences, .. } if *occurrences > 1 => {
                format!("{self} ({occurrences} occurrences)")
            }
            _ => self.to_string(),
        }
    }
}

/// The "might not be a counter" info for `rate`/`increase` over float samples of the
/// series named `metric_name` (none for an unnamed series). With the type-and-unit-labels
/// feature, `type_label` is the series' `__type__` value and decides; otherwise the name
/// must end in a counter suffix.
pub fn possible_non_counter(metric_name: &str, type_label: Option<&str>) -> Option<Annotation> {
    if metric_name.is_empty() {
        return None;
    }
    match type_label {
        Some(t) if t != "counter" && t != "histogram" => {
            Some(Annotation::PossibleNonCounterLabel {
                type_label: t.to_owned(),
                metric_name: metric_name.to_owned(),
            })
        }
        Some(_) => None,
        None => {
            let counter_like = ["_total", "_sum", "_count", "_bucket"]
                .iter()
                .any(|suffix| metric_name.ends_with(suffix));
            (!counter_like).then(|| Annotation::PossibleNonCounter(metric_name.to_owned()))
        }
    }
}

/// Appends ` for metric name "<name>"` when there is a name, as upstream's optional suffix.
fn with_metric_name(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    if name.is_empty() {
        return Ok(());
    }
    write!(f, " for metric name {}", go_quote(name))
}

/// The deduplication key and base text: upstream's error string before the query is known.
impl fmt::Display for Annotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Annotation::InvalidQuantile(q) => write!(
                f,
                "{WARNING}: quantile value should be between 0 and 1, got {}",
                go_g(*q)
            ),
            Annotation::InvalidRatio { got, capped_to } => write!(
                f,
                "{WARNING}: ratio value should be between -1 and 1, got {}, capping to {}",
                go_g(*got),
                go_g(*capped_to)
            ),
            Annotation::BadBucketLabel { metric_name, le } => {
                write!(
                    f,
                    "{WARNING}: bucket label \"le\" is missing or has a malformed value of {}",
                    go_quote(le)
                )?;
                with_metric_name(f, metric_name)
            }
            Annotation::MixedFloatsHistograms(name) => write!(
                f,
                "{WARNING}: encountered a mix of histograms and floats for metric name {}",
                go_quote(name)
            ),
            Annotation::MixedFloatsHistogramsAggregation => write!(
                f,
                "{WARNING}: encountered a mix of histograms and floats for aggregation"
            ),
            Annotation::MixedClassicNativeHistograms(name) => {
                write!(
                    f,
                    "{WARNING}: vector contains a mix of classic and native histograms"
                )?;
                with_metric_name(f, name)
            }
            Annotation::NativeHistogramNotCounter(name) => write!(
                f,
                "{WARNING}: this native histogram metric is not a counter: {}",
                go_quote(name)
            ),
            Annotation::NativeHistogramNotGauge(name) => write!(
                f,
                "{WARNING}: this native histogram metric is not a gauge: {}",
                go_quote(name)
            ),
            Annotation::MixedExponentialCustomHistograms(name) => write!(
                f,
                "{WARNING}: vector contains a mix of histograms with exponential and custom buckets schemas for metric name {}",
                go_quote(name)
            ),
            Annotation::PossibleNonCounter(name) => write!(
                f,
                "{INFO}: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {}",
                go_quote(name)
            ),
            Annotation::PossibleNonCounterLabel {
                type_label,
                metric_name,
            } => write!(
                f,
                "{INFO}: metric might not be a counter, __type__ label is not set to \"counter\" or \"histogram\", got {}: {}",
                go_quote(type_label),
                go_quote(metric_name)
            ),
            Annotation::HistogramQuantileForcedMonotonicity { metric_name, .. } => {
                write!(
                    f,
                    "{INFO}: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)"
                )?;
                with_metric_name(f, metric_name)
            }
            Annotation::IncompatibleTypesInBinOp { lhs, operator, rhs } => write!(
                f,
                "{INFO}: incompatible sample types encountered for binary operator {}: {lhs} {operator} {rhs}",
                go_quote(operator)
            ),
            Annotation::HistogramIgnoredInAggregation(aggregation) => {
                write!(f, "{INFO}: ignored histogram in {aggregation} aggregation")
            }
            Annotation::HistogramIgnoredInMixedRange(name) => write!(
                f,
                "{INFO}: ignored histograms in a range containing both floats and histograms for metric name {}",
                go_quote(name)
            ),
            Annotation::IncompatibleBucketLayoutInBinOp(operator) => write!(
                f,
                "{WARNING}: incompatible bucket layout encountered for binary operator {operator}"
            ),
            Annotation::SortInRangeQuery => write!(
                f,
                "{WARNING}: sort is ineffective for range queries since results are always ordered by labels"
            ),
            Annotation::NativeHistogramQuantileNaNResult(name) => {
                write!(
                    f,
                    "{INFO}: input to histogram_quantile has NaN observations, result is NaN"
                )?;
                with_metric_name(f, name)
            }
            Annotation::NativeHistogramQuantileNaNSkew(name) => {
                write!(
                    f,
                    "{INFO}: input to histogram_quantile has NaN observations, result is skewed higher"
                )?;
                with_metric_name(f, name)
            }
            Annotation::NativeHistogramFractionNaNs(name) => {
                write!(
                    f,
                    "{INFO}: input to histogram_fraction has NaN observations, which are excluded from all fractions"
                )?;
                with_metric_name(f, name)
            }
            Annotation::HistogramCounterResetCollision(op) => write!(
                f,
                "{WARNING}: conflicting counter resets during histogram {op}"
            ),
            Annotation::MismatchedCustomBuckets(op) => write!(
                f,
                "{INFO}: mismatched custom buckets were reconciled during {op}"
            ),
            Annotation::StartTimeOverlap { metric_name, .. } => write!(
                f,
                "{WARNING}: sample has start time that overlaps with previous sample timestamp for metric {}",
                go_quote(metric_name)
            ),
        }
    }
}

/// Go's `%q` for the strings annotations quote (names and label values).
fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    pm_common::model::write_go_quoted(&mut out, s).expect("writing to a String cannot fail");
    out
}

/// Go's `%g`: shortest representation, exponent form outside [1e-4, 1e21).
fn go_g(v: f64) -> String {
    pm_common::expfmt::encode::float::format_g(v)
}

/// Go's `%.2g`: two significant digits, exponent form when the exponent is < -4 or >= 2.
fn go_2g(v: f64) -> String {
    if !v.is_finite() {
        return go_g(v);
    }
    if v == 0.0 {
        return "0".to_owned();
    }
    let formatted = format!("{v:.1e}");
    let (mantissa, exp) = formatted.split_once('e').expect("exponent format has an e");
    let exp: i32 = exp.parse().expect("exponent is an integer");
    let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
    if !(-4..2).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exp.abs());
    }
    let decimals = (1 - exp).max(0) as usize;
    let rounded: f64 = formatted.parse().expect("a float");
    let s = format!("{rounded:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// A millisecond timestamp as upstream's `time.Unix(ms/1000, 0).UTC().Format(RFC3339)`.
fn rfc3339(ms: i64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = super::date::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests;
