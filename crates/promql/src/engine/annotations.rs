//! Warnings and infos that travel beside a query result (upstream's `util/annotations`): the
//! texts, with the position of the expression they refer to, are part of the API.

use crate::parser::PosRange;

/// Whether an annotation is a warning or an info.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AnnotationKind {
    Warning,
    Info,
}

/// One annotation: its kind, text without position, and the expression it points at.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Annotation {
    pub kind: AnnotationKind,
    pub text: String,
    pub pos: PosRange,
}

impl Annotation {
    fn warning(text: String, pos: PosRange) -> Self {
        Annotation {
            kind: AnnotationKind::Warning,
            text: format!("PromQL warning: {text}"),
            pos,
        }
    }

    fn info(text: String, pos: PosRange) -> Self {
        Annotation {
            kind: AnnotationKind::Info,
            text: format!("PromQL info: {text}"),
            pos,
        }
    }

    /// The text with the `(line:column)` of the expression's start in `query`, as the API
    /// returns it.
    pub fn render(&self, query: &str) -> String {
        let before = &query[..self.pos.start.min(query.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        format!("{} ({line}:{col})", self.text)
    }

    /// An annotation a function kernel reported, at `pos`.
    pub fn from_kernel(a: &crate::functions::annotations::Annotation, pos: PosRange) -> Self {
        use crate::functions::annotations::Severity;
        let kind = match a.severity() {
            Severity::Warning => AnnotationKind::Warning,
            Severity::Info => AnnotationKind::Info,
        };
        Annotation {
            kind,
            text: a.rendered(),
            pos,
        }
    }

    pub fn invalid_quantile(q: f64, pos: PosRange) -> Self {
        Self::warning(
            format!("quantile value should be between 0 and 1, got {}", go_g(q)),
            pos,
        )
    }

    pub fn invalid_ratio(r: f64, to: f64, pos: PosRange) -> Self {
        Self::warning(
            format!(
                "ratio value should be between -1 and 1, got {}, capping to {}",
                go_g(r),
                go_g(to)
            ),
            pos,
        )
    }

    pub fn bad_bucket_label(metric: &str, label: &str, pos: PosRange) -> Self {
        Self::warning(
            with_metric(
                format!("bucket label \"le\" is missing or has a malformed value of {label:?}"),
                metric,
            ),
            pos,
        )
    }

    pub fn mixed_floats_histograms(metric: &str, pos: PosRange) -> Self {
        Self::warning(
            format!("encountered a mix of histograms and floats for metric name {metric:?}"),
            pos,
        )
    }

    pub fn mixed_floats_histograms_aggregation(pos: PosRange) -> Self {
        Self::warning(
            "encountered a mix of histograms and floats for aggregation".into(),
            pos,
        )
    }

    pub fn mixed_classic_native(metric: &str, pos: PosRange) -> Self {
        Self::warning(
            with_metric(
                "vector contains a mix of classic and native histograms".into(),
                metric,
            ),
            pos,
        )
    }

    pub fn native_histogram_not_counter(metric: &str, pos: PosRange) -> Self {
        Self::warning(
            format!("this native histogram metric is not a counter: {metric:?}"),
            pos,
        )
    }

    pub fn native_histogram_not_gauge(metric: &str, pos: PosRange) -> Self {
        Self::warning(
            format!("this native histogram metric is not a gauge: {metric:?}"),
            pos,
        )
    }

    pub fn mixed_exponential_custom(metric: &str, pos: PosRange) -> Self {
        Self::warning(
            format!(
                "vector contains a mix of histograms with exponential and custom buckets schemas for metric name {metric:?}"
            ),
            pos,
        )
    }

    pub fn incompatible_bucket_layout(op: &str, pos: PosRange) -> Self {
        Self::warning(
            format!("incompatible bucket layout encountered for binary operator {op}"),
            pos,
        )
    }

    pub fn sort_in_range_query(pos: PosRange) -> Self {
        Self::warning(
            "sort is ineffective for range queries since results are always ordered by labels"
                .into(),
            pos,
        )
    }

    pub fn possible_non_counter(metric: &str, pos: PosRange) -> Self {
        Self::info(
            format!(
                "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: {metric:?}"
            ),
            pos,
        )
    }

    pub fn possible_non_counter_label(metric: &str, type_label: &str, pos: PosRange) -> Self {
        Self::info(
            format!(
                "metric might not be a counter, __type__ label is not set to \"counter\" or \"histogram\", got {type_label:?}: {metric:?}"
            ),
            pos,
        )
    }

    pub fn forced_monotonicity(metric: &str, pos: PosRange) -> Self {
        Self::info(
            with_metric(
                "input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)".into(),
                metric,
            ),
            pos,
        )
    }

    pub fn incompatible_types_in_binop(lhs: &str, op: &str, rhs: &str, pos: PosRange) -> Self {
        Self::info(
            format!(
                "incompatible sample types encountered for binary operator {op:?}: {lhs} {op} {rhs}"
            ),
            pos,
        )
    }

    pub fn histogram_ignored_in_aggregation(aggregation: &str, pos: PosRange) -> Self {
        Self::info(
            format!("ignored histogram in {aggregation} aggregation"),
            pos,
        )
    }

    pub fn histogram_ignored_in_mixed_range(metric: &str, pos: PosRange) -> Self {
        Self::info(
            format!(
                "ignored histograms in a range containing both floats and histograms for metric name {metric:?}"
            ),
            pos,
        )
    }

    pub fn quantile_nan_result(metric: &str, pos: PosRange) -> Self {
        Self::info(
            with_metric(
                "input to histogram_quantile has NaN observations, result is NaN".into(),
                metric,
            ),
            pos,
        )
    }

    pub fn quantile_nan_skew(metric: &str, pos: PosRange) -> Self {
        Self::info(
            with_metric(
                "input to histogram_quantile has NaN observations, result is skewed higher".into(),
                metric,
            ),
            pos,
        )
    }

    pub fn fraction_nans(metric: &str, pos: PosRange) -> Self {
        Self::info(
            with_metric(
                "input to histogram_fraction has NaN observations, which are excluded from all fractions".into(),
                metric,
            ),
            pos,
        )
    }

    /// `operation` is `aggregation`, `addition` or `subtraction`.
    pub fn counter_reset_collision(operation: &str, pos: PosRange) -> Self {
        Self::warning(
            format!("conflicting counter resets during histogram {operation}"),
            pos,
        )
    }

    pub fn mismatched_custom_buckets(operation: &str, pos: PosRange) -> Self {
        Self::info(
            format!("mismatched custom buckets were reconciled during {operation}"),
            pos,
        )
    }
}

/// Appends ` for metric name "…"` when the name is known, as upstream.
fn with_metric(text: String, metric: &str) -> String {
    if metric.is_empty() {
        text
    } else {
        format!("{text} for metric name {metric:?}")
    }
}

/// Go's `%g` for the values annotations print (quantiles, ratios).
fn go_g(v: f64) -> String {
    pm_common::expfmt::encode::float::format_g(v)
}

/// A query's annotations: a set, in insertion order.
#[derive(Clone, Debug, Default)]
pub struct Annotations(Vec<Annotation>);

impl Annotations {
    pub fn add(&mut self, a: Annotation) {
        if !self.0.contains(&a) {
            self.0.push(a);
        }
    }

    pub fn merge(&mut self, other: Annotations) {
        for a in other.0 {
            self.add(a);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Annotation> {
        self.0.iter()
    }

    /// Rendered warnings and infos, as the API returns them.
    pub fn render(&self, query: &str) -> (Vec<String>, Vec<String>) {
        let mut warnings = Vec::new();
        let mut infos = Vec::new();
        for a in &self.0 {
            match a.kind {
                AnnotationKind::Warning => warnings.push(a.render(query)),
                AnnotationKind::Info => infos.push(a.render(query)),
            }
        }
        (warnings, infos)
    }
}
