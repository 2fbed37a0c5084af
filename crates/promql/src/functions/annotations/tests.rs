use super::*;

#[test]
fn texts_match_upstream() {
    let cases: Vec<(Annotation, &str)> = vec![
        (
            Annotation::InvalidQuantile(1.5),
            "PromQL warning: quantile value should be between 0 and 1, got 1.5",
        ),
        (
            Annotation::InvalidRatio {
                got: 1.1,
                capped_to: 1.0,
            },
            "PromQL warning: ratio value should be between -1 and 1, got 1.1, capping to 1",
        ),
        (
            Annotation::BadBucketLabel {
                metric_name: "m".into(),
                le: "x".into(),
            },
            "PromQL warning: bucket label \"le\" is missing or has a malformed value of \"x\" for metric name \"m\"",
        ),
        (
            Issue::MixedFloatsHistograms.annotate("metric"),
            "PromQL warning: encountered a mix of histograms and floats for metric name \"metric\"",
        ),
        (
            Annotation::MixedFloatsHistogramsAggregation,
            "PromQL warning: encountered a mix of histograms and floats for aggregation",
        ),
        (
            Issue::HistogramIgnoredInMixedRange.annotate("m"),
            "PromQL info: ignored histograms in a range containing both floats and histograms for metric name \"m\"",
        ),
        (
            Annotation::PossibleNonCounter("some_metric".into()),
            "PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: \"some_metric\"",
        ),
        (
            Issue::NativeHistogramNotGauge.annotate("h"),
            "PromQL warning: this native histogram metric is not a gauge: \"h\"",
        ),
        (
            Issue::NativeHistogramQuantileNaNResult.annotate(""),
            "PromQL info: input to histogram_quantile has NaN observations, result is NaN",
        ),
        (
            Issue::MismatchedCustomBuckets(HistogramOperation::Subtraction).annotate("x"),
            "PromQL info: mismatched custom buckets were reconciled during subtraction",
        ),
        (
            Annotation::HistogramIgnoredInAggregation("stddev".into()),
            "PromQL info: ignored histogram in stddev aggregation",
        ),
        (
            Annotation::IncompatibleTypesInBinOp {
                lhs: "float".into(),
                operator: "+".into(),
                rhs: "histogram".into(),
            },
            "PromQL info: incompatible sample types encountered for binary operator \"+\": float + histogram",
        ),
    ];
    for (annotation, want) in cases {
        assert_eq!(annotation.to_string(), want);
    }
}

#[test]
fn severities() {
    assert_eq!(Annotation::SortInRangeQuery.severity(), Severity::Warning);
    assert_eq!(
        Annotation::PossibleNonCounter(String::new()).severity(),
        Severity::Info
    );
    assert_eq!(
        Issue::MixedExponentialCustomHistograms
            .annotate("m")
            .severity(),
        Severity::Warning
    );
}

#[test]
fn monotonicity_fix_merges_and_renders() {
    let mut fix = MonotonicityFix {
        min_ts: 60_000,
        max_ts: 60_000,
        min_bucket: 0.5,
        max_bucket: 1.0,
        max_diff: 0.25,
        merged: 0,
    };
    fix.merge(&MonotonicityFix {
        min_ts: 120_000,
        max_ts: 120_000,
        min_bucket: 0.1,
        max_bucket: 2.0,
        max_diff: 1234.0,
        merged: 0,
    });
    let a = Annotation::HistogramQuantileForcedMonotonicity {
        metric_name: String::new(),
        fix,
    };
    assert_eq!(
        a.rendered(),
        "PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile), from buckets 0.1 to 2, with a max diff of 1.2e+03, over 2 samples from 1970-01-01T00:01:00Z to 1970-01-01T00:02:00Z"
    );
}

#[test]
fn go_two_digit_g() {
    for (v, want) in [
        (0.5, "0.5"),
        (12.0, "12"),
        (123.0, "1.2e+02"),
        (0.0001, "0.0001"),
        (0.00001234, "1.2e-05"),
        (0.0, "0"),
        (1.25, "1.2"),
    ] {
        assert_eq!(go_2g(v), want, "{v}");
    }
}

#[test]
fn issues_deduplicate() {
    let mut issues = Issues::NONE;
    assert!(issues.is_empty());
    issues.push(Issue::MixedFloatsHistograms);
    issues.push(Issue::MixedFloatsHistograms);
    issues.extend(Issues::one(Issue::NativeHistogramNotGauge));
    assert_eq!(
        issues.iter().collect::<Vec<_>>(),
        vec![Issue::MixedFloatsHistograms, Issue::NativeHistogramNotGauge]
    );
    assert!(issues.contains(Issue::NativeHistogramNotGauge));
}

#[test]
fn non_counter_detection() {
    assert_eq!(possible_non_counter("http_requests_total", None), None);
    assert_eq!(possible_non_counter("", None), None);
    assert_eq!(
        possible_non_counter("temperature", None),
        Some(Annotation::PossibleNonCounter("temperature".into()))
    );
    assert_eq!(possible_non_counter("temperature", Some("counter")), None);
    assert_eq!(
        possible_non_counter("x_total", Some("gauge"))
            .unwrap()
            .to_string(),
        "PromQL info: metric might not be a counter, __type__ label is not set to \"counter\" or \"histogram\", got \"gauge\": \"x_total\""
    );
}
