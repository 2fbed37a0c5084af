use prost_types::Timestamp;

use super::*;
use crate::expfmt::dto::{self, MetricType};

fn labels(pairs: &[(&str, &str)]) -> Vec<dto::LabelPair> {
    pairs
        .iter()
        .map(|(n, v)| dto::LabelPair {
            name: Some((*n).into()),
            value: Some((*v).into()),
        })
        .collect()
}

fn family(
    name: &str,
    help: Option<&str>,
    kind: MetricType,
    metric: Vec<dto::Metric>,
) -> dto::MetricFamily {
    dto::MetricFamily {
        name: Some(name.into()),
        help: help.map(Into::into),
        r#type: Some(kind as i32),
        metric,
        unit: None,
    }
}

fn counter(l: &[(&str, &str)], v: f64, ts: Option<i64>) -> dto::Metric {
    dto::Metric {
        label: labels(l),
        counter: Some(dto::Counter {
            value: Some(v),
            ..Default::default()
        }),
        timestamp_ms: ts,
        ..Default::default()
    }
}

fn gauge(l: &[(&str, &str)], v: f64) -> dto::Metric {
    dto::Metric {
        label: labels(l),
        gauge: Some(dto::Gauge { value: Some(v) }),
        ..Default::default()
    }
}

fn text(mf: &dto::MetricFamily) -> String {
    let mut s = String::new();
    write_text(&mut s, mf).unwrap();
    s
}

fn om(mf: &dto::MetricFamily, created_lines: bool) -> String {
    let mut s = String::new();
    write_openmetrics(&mut s, mf, OpenMetricsOptions { created_lines }).unwrap();
    s
}

fn histogram() -> dto::MetricFamily {
    let bucket = |le: f64, count: u64| dto::Bucket {
        upper_bound: Some(le),
        cumulative_count: Some(count),
        ..Default::default()
    };
    let mut h = dto::Histogram {
        sample_count: Some(2693),
        sample_sum: Some(1756047.3),
        bucket: vec![
            bucket(100.0, 123),
            bucket(120.0, 412),
            bucket(144.0, 592),
            bucket(172.8, 1524),
        ],
        created_timestamp: Some(Timestamp {
            seconds: 12345,
            nanos: 600_000_000,
        }),
        ..Default::default()
    };
    h.bucket[1].exemplar = Some(dto::Exemplar {
        label: labels(&[("foo", "bar")]),
        value: Some(119.9),
        timestamp: Some(Timestamp {
            seconds: 1_234_567_890,
            nanos: 0,
        }),
    });
    family(
        "request_duration_microseconds",
        Some("The response latency."),
        MetricType::Histogram,
        vec![dto::Metric {
            histogram: Some(h),
            ..Default::default()
        }],
    )
}

#[test]
fn text_counter_with_escaping_and_timestamps() {
    let mf = family(
        "name",
        Some("two-line\n doc  str\\ing"),
        MetricType::Counter,
        vec![
            counter(
                &[("labelname", "val1"), ("basename", "basevalue")],
                42.0,
                None,
            ),
            counter(
                &[("labelname", "val2"), ("basename", "basevalue")],
                0.23,
                Some(1234567890),
            ),
        ],
    );
    assert_eq!(
        text(&mf),
        "# HELP name two-line\\n doc  str\\\\ing\n# TYPE name counter\n\
         name{labelname=\"val1\",basename=\"basevalue\"} 42\n\
         name{labelname=\"val2\",basename=\"basevalue\"} 0.23 1234567890\n"
    );
}

#[test]
fn text_gauge_quotes_and_utf8_names() {
    let mf = family(
        "gauge.name\"",
        Some("gauge\ndoc\nstr\"ing"),
        MetricType::Gauge,
        vec![
            gauge(
                &[
                    ("name.1", "val with\nnew line"),
                    ("name*2", "val with \\backslash and \"quotes\""),
                ],
                f64::INFINITY,
            ),
            gauge(&[("name.1", "Björn"), ("name*2", "佖佥")], 3.14e42),
        ],
    );
    assert_eq!(
        text(&mf),
        "# HELP \"gauge.name\\\"\" gauge\\ndoc\\nstr\"ing\n# TYPE \"gauge.name\\\"\" gauge\n\
         {\"gauge.name\\\"\",\"name.1\"=\"val with\\nnew line\",\"name*2\"=\"val with \\\\backslash and \\\"quotes\\\"\"} +Inf\n\
         {\"gauge.name\\\"\",\"name.1\"=\"Björn\",\"name*2\"=\"佖佥\"} 3.14e+42\n"
    );
    let bare = family(
        "a.b",
        None,
        MetricType::Untyped,
        vec![dto::Metric {
            untyped: Some(dto::Untyped { value: Some(-0.0) }),
            ..Default::default()
        }],
    );
    assert_eq!(text(&bare), "# TYPE \"a.b\" untyped\n{\"a.b\"} 0\n");
}

#[test]
fn text_summary_and_histogram() {
    let summary = family(
        "s",
        None,
        MetricType::Summary,
        vec![dto::Metric {
            label: labels(&[("a", "b")]),
            summary: Some(dto::Summary {
                sample_count: Some(42),
                sample_sum: Some(-3.4567),
                quantile: vec![
                    dto::Quantile {
                        quantile: Some(0.5),
                        value: Some(-1.23),
                    },
                    dto::Quantile {
                        quantile: Some(0.99),
                        value: Some(0.0),
                    },
                ],
                created_timestamp: None,
            }),
            ..Default::default()
        }],
    );
    assert_eq!(
        text(&summary),
        "# TYPE s summary\ns{a=\"b\",quantile=\"0.5\"} -1.23\ns{a=\"b\",quantile=\"0.99\"} 0\n\
         s_sum{a=\"b\"} -3.4567\ns_count{a=\"b\"} 42\n"
    );
    assert_eq!(
        text(&histogram()),
        "# HELP request_duration_microseconds The response latency.\n\
         # TYPE request_duration_microseconds histogram\n\
         request_duration_microseconds_bucket{le=\"100\"} 123\n\
         request_duration_microseconds_bucket{le=\"120\"} 412\n\
         request_duration_microseconds_bucket{le=\"144\"} 592\n\
         request_duration_microseconds_bucket{le=\"172.8\"} 1524\n\
         request_duration_microseconds_bucket{le=\"+Inf\"} 2693\n\
         request_duration_microseconds_sum 1.7560473e+06\n\
         request_duration_microseconds_count 2693\n"
    );
}

#[test]
fn text_rejects_what_it_cannot_express() {
    let mut s = String::from("keep");
    let empty = family("x", None, MetricType::Gauge, vec![]);
    assert_eq!(
        write_text(&mut s, &empty),
        Err(EncodeError::NoMetrics("x".into()))
    );
    let mismatched = family("x", None, MetricType::Gauge, vec![counter(&[], 1.0, None)]);
    assert!(matches!(
        write_text(&mut s, &mismatched),
        Err(EncodeError::MissingValue {
            expected: "gauge",
            ..
        })
    ));
    let mut bad_type = family("x", None, MetricType::Gauge, vec![gauge(&[], 1.0)]);
    bad_type.r#type = Some(42);
    assert_eq!(
        write_text(&mut s, &bad_type),
        Err(EncodeError::UnknownType(42, "x".into()))
    );
    assert_eq!(s, "keep");
}

#[test]
fn openmetrics_counters_units_and_created_lines() {
    let mut mf = family(
        "requests_total",
        Some("Total \"requests\"."),
        MetricType::Counter,
        vec![counter(&[("code", "200")], 1.0, Some(1234567))],
    );
    mf.unit = Some("requests".into());
    mf.metric[0].counter.as_mut().unwrap().created_timestamp = Some(Timestamp {
        seconds: 1_700_000_000,
        nanos: 500_000_000,
    });
    mf.metric[0].counter.as_mut().unwrap().exemplar = Some(dto::Exemplar {
        label: labels(&[("trace_id", "abc")]),
        value: Some(1.0),
        timestamp: None,
    });
    assert_eq!(
        om(&mf, true),
        "# HELP requests Total \\\"requests\\\".\n# TYPE requests counter\n# UNIT requests requests\n\
         requests_total{code=\"200\"} 1.0 1234.567 # {trace_id=\"abc\"} 1.0\n\
         requests_created{code=\"200\"} 1.7000000005e+09\n"
    );
    // Without `_total` the counter cannot be an OpenMetrics counter.
    let plain = family(
        "hits",
        None,
        MetricType::Counter,
        vec![counter(&[], 42.0, None)],
    );
    assert_eq!(om(&plain, false), "# TYPE hits unknown\nhits 42.0\n");
    let untyped = family(
        "u",
        None,
        MetricType::Untyped,
        vec![dto::Metric {
            untyped: Some(dto::Untyped {
                value: Some(-1.23e-45),
            }),
            ..Default::default()
        }],
    );
    assert_eq!(om(&untyped, false), "# TYPE u unknown\nu -1.23e-45\n");
    let empty = family("e", Some("h"), MetricType::Gauge, vec![]);
    assert_eq!(om(&empty, false), "# HELP e h\n# TYPE e gauge\n");
}

#[test]
fn openmetrics_histogram_with_exemplar_and_created() {
    assert_eq!(
        om(&histogram(), true),
        "# HELP request_duration_microseconds The response latency.\n\
         # TYPE request_duration_microseconds histogram\n\
         request_duration_microseconds_bucket{le=\"100.0\"} 123\n\
         request_duration_microseconds_bucket{le=\"120.0\"} 412 # {foo=\"bar\"} 119.9 1.23456789e+09\n\
         request_duration_microseconds_bucket{le=\"144.0\"} 592\n\
         request_duration_microseconds_bucket{le=\"172.8\"} 1524\n\
         request_duration_microseconds_bucket{le=\"+Inf\"} 2693\n\
         request_duration_microseconds_sum 1.7560473e+06\n\
         request_duration_microseconds_count 2693\n\
         request_duration_microseconds_created 12345.6\n"
    );
    let mut s = String::new();
    finalize_openmetrics(&mut s);
    assert_eq!(s, "# EOF\n");
}

#[test]
fn openmetrics_rejects_float_histograms() {
    let mut mf = histogram();
    mf.metric[0].histogram.as_mut().unwrap().sample_count_float = Some(2.5);
    let mut s = String::new();
    assert_eq!(
        write_openmetrics(&mut s, &mf, OpenMetricsOptions::default()),
        Err(EncodeError::FloatHistogram(
            "request_duration_microseconds".into()
        ))
    );
    assert!(s.is_empty());
}

#[test]
fn escaping_families_rewrites_names_only_when_needed() {
    let mf = family(
        "my.metric",
        Some("help"),
        MetricType::Gauge,
        vec![
            gauge(&[("some.label", "v.1"), ("ok", "x")], 1.0),
            gauge(&[("ok", "y")], 2.0),
        ],
    );
    let escaped = escape_metric_family(&mf, EscapingScheme::Values);
    assert_eq!(escaped.name(), "U__my_2e_metric");
    assert_eq!(escaped.metric[0].label[0].name(), "U__some_2e_label");
    assert_eq!(escaped.metric[0].label[0].value(), "v.1");
    assert_eq!(escaped.metric[1], mf.metric[1]);
    assert!(matches!(
        escape_metric_family(&mf, EscapingScheme::NoEscaping),
        std::borrow::Cow::Borrowed(_)
    ));
    let legacy = family(
        "fine",
        None,
        MetricType::Gauge,
        vec![gauge(&[("a", "b.c")], 1.0)],
    );
    assert!(matches!(
        escape_metric_family(&legacy, EscapingScheme::Underscores),
        std::borrow::Cow::Borrowed(_)
    ));
    let with_name_label = family(
        "m",
        None,
        MetricType::Gauge,
        vec![gauge(&[("__name__", "a.b")], 1.0)],
    );
    let e = escape_metric_family(&with_name_label, EscapingScheme::Underscores);
    assert_eq!(e.metric[0].label[0].value(), "a_b");
}
