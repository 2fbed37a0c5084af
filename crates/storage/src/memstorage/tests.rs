use pm_common::model::{
    CounterResetHint, Exemplar, FloatHistogram, Histogram, Labels, MatchType, Matcher, Metadata,
    MetricType,
};

use super::*;
use crate::error::{EXEMPLAR_MAX_LABEL_SET_LENGTH, StorageError};
use crate::iterator::ValueType;
use crate::query::{LabelHints, SelectHints};
use crate::series::SampleValue;

fn lbl(job: &str, instance: &str) -> Labels {
    Labels::from_pairs([("__name__", "up"), ("job", job), ("instance", instance)])
}

fn append_all(s: &MemStorage, labels: &Labels, samples: &[(i64, f64)]) {
    let mut app = s.appender();
    for &(t, v) in samples {
        app.append(SeriesRef::UNKNOWN, labels, t, v).unwrap();
    }
    app.commit().unwrap();
}

fn floats(s: &MemStorage, labels: &Labels) -> Vec<(i64, f64)> {
    s.samples(labels)
        .into_iter()
        .map(|x| match x.value {
            SampleValue::Float(v) => (x.t, v),
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

fn select(
    s: &MemStorage,
    mint: i64,
    maxt: i64,
    hints: Option<&SelectHints>,
    matchers: &[Matcher],
) -> Vec<(Labels, Vec<(i64, f64)>)> {
    let q = s.querier(mint, maxt).unwrap();
    let mut set = q.select(true, hints, matchers);
    let mut out = Vec::new();
    while let Some(series) = set.next() {
        let mut it = series.iter();
        let mut samples = Vec::new();
        while it.next() == ValueType::Float {
            samples.push(it.at());
        }
        out.push((series.labels().clone(), samples));
    }
    assert!(set.err().is_none());
    out
}

#[test]
fn in_order_appends_are_committed_and_refs_are_stable() {
    let s = MemStorage::new();
    let l = lbl("a", "1");
    let mut app = s.appender();
    let r1 = app.append(SeriesRef::UNKNOWN, &l, 10, 1.0).unwrap();
    assert!(!r1.is_unknown());
    let r2 = app.append(r1, &l, 20, 2.0).unwrap();
    assert_eq!(r1, r2);
    app.commit().unwrap();
    let mut app = s.appender();
    assert_eq!(app.append(SeriesRef::UNKNOWN, &l, 30, 3.0).unwrap(), r1);
    // A reference naming another series is not trusted.
    let other = lbl("b", "1");
    assert_ne!(app.append(r1, &other, 30, 3.0).unwrap(), r1);
    app.commit().unwrap();
    assert_eq!(floats(&s, &l), [(10, 1.0), (20, 2.0), (30, 3.0)]);
    assert_eq!(floats(&s, &other), [(30, 3.0)]);
}

#[test]
fn nothing_is_visible_before_commit_and_rollback_discards() {
    let s = MemStorage::new();
    let l = lbl("a", "1");
    let mut app = s.appender();
    app.append(SeriesRef::UNKNOWN, &l, 10, 1.0).unwrap();
    assert!(floats(&s, &l).is_empty());
    assert!(s.series_labels().is_empty());
    app.rollback().unwrap();
    assert!(floats(&s, &l).is_empty());
    {
        let mut dropped = s.appender();
        dropped.append(SeriesRef::UNKNOWN, &l, 10, 1.0).unwrap();
    }
    assert!(floats(&s, &l).is_empty(), "dropping an appender rolls back");
    assert_eq!(s.start_time().unwrap(), i64::MAX);
}

#[test]
fn out_of_order_and_duplicates_are_rejected_like_the_tsdb() {
    let s = MemStorage::new();
    let l = lbl("a", "1");
    append_all(&s, &l, &[(100, 1.0)]);
    let mut app = s.appender();
    assert!(matches!(
        app.append(SeriesRef::UNKNOWN, &l, 99, 1.0),
        Err(StorageError::OutOfOrderSample)
    ));
    let err = app.append(SeriesRef::UNKNOWN, &l, 100, 2.0).unwrap_err();
    assert!(err.is_duplicate_sample());
    assert_eq!(
        err.to_string(),
        "duplicate sample for timestamp 100; overrides not allowed: existing 1, new value 2"
    );
    // The identical sample is accepted and stored once.
    app.append(SeriesRef::UNKNOWN, &l, 100, 1.0).unwrap();
    // A rejected sample does not spoil the transaction, and pending samples count too.
    app.append(SeriesRef::UNKNOWN, &l, 200, 2.0).unwrap();
    assert!(matches!(
        app.append(SeriesRef::UNKNOWN, &l, 150, 2.0),
        Err(StorageError::OutOfOrderSample)
    ));
    app.commit().unwrap();
    assert_eq!(floats(&s, &l), [(100, 1.0), (200, 2.0)]);
}

#[test]
fn stale_markers_compare_by_bits() {
    let s = MemStorage::new();
    let l = lbl("a", "1");
    let stale = pm_common::model::stale_nan();
    append_all(&s, &l, &[(1, stale)]);
    let mut app = s.appender();
    app.append(SeriesRef::UNKNOWN, &l, 1, stale).unwrap();
    assert!(app.append(SeriesRef::UNKNOWN, &l, 1, f64::NAN).is_err());
}

#[test]
fn out_of_bounds_below_min_valid_time() {
    let s = MemStorage::new();
    s.set_min_valid_time(1000);
    let mut app = s.appender();
    assert!(matches!(
        app.append(SeriesRef::UNKNOWN, &lbl("a", "1"), 999, 1.0),
        Err(StorageError::OutOfBounds)
    ));
    app.append(SeriesRef::UNKNOWN, &lbl("a", "1"), 1000, 1.0)
        .unwrap();
}

#[test]
fn histograms_and_their_duplicates() {
    let s = MemStorage::new();
    let l = lbl("h", "1");
    let h = Histogram {
        count: 3,
        sum: f64::NAN,
        ..Histogram::default()
    };
    let mut app = s.appender();
    app.append_histogram(SeriesRef::UNKNOWN, &l, 10, Some(&h), None)
        .unwrap();
    app.commit().unwrap();
    let mut app = s.appender();
    // Same histogram (NaN sum included) again: accepted.
    app.append_histogram(SeriesRef::UNKNOWN, &l, 10, Some(&h), None)
        .unwrap();
    let other = Histogram {
        count: 4,
        ..h.clone()
    };
    let err = app
        .append_histogram(SeriesRef::UNKNOWN, &l, 10, Some(&other), None)
        .unwrap_err();
    assert_eq!(err.to_string(), "duplicate sample for timestamp");
    assert_eq!(
        app.append(SeriesRef::UNKNOWN, &l, 10, 5.0)
            .unwrap_err()
            .to_string(),
        "duplicate sample for timestamp 10; overrides not allowed: existing is a histogram, \
         new value 5"
    );
    assert!(matches!(
        app.append_histogram(SeriesRef::UNKNOWN, &l, 20, None, None),
        Err(StorageError::MissingHistogram)
    ));
    let fh = FloatHistogram {
        count: 1.5,
        ..FloatHistogram::default()
    };
    app.append_histogram(SeriesRef::UNKNOWN, &l, 20, None, Some(&fh))
        .unwrap();
    app.commit().unwrap();

    let q = s.querier(0, 100).unwrap();
    let mut set = q.select(true, None, &[]);
    let series = set.next().unwrap();
    let mut it = series.iter();
    assert_eq!(it.next(), ValueType::Histogram);
    assert_eq!(it.next(), ValueType::FloatHistogram);
    let mut got = FloatHistogram::default();
    assert_eq!(it.at_float_histogram(&mut got), 20);
    assert_eq!(got, fh);
}

#[test]
fn created_timestamp_zero_samples() {
    let s = MemStorage::new();
    let l = lbl("c", "1");
    let mut app = s.appender();
    assert!(matches!(
        app.append_ct_zero(SeriesRef::UNKNOWN, &l, 100, 100),
        Err(StorageError::CreatedTimestampNotBeforeSample)
    ));
    let r = app.append_ct_zero(SeriesRef::UNKNOWN, &l, 100, 50).unwrap();
    app.append(r, &l, 100, 7.0).unwrap();
    // Next scrape: same created timestamp, already behind the series.
    assert!(matches!(
        app.append_ct_zero(r, &l, 200, 50),
        Err(StorageError::OutOfOrderCreatedTimestamp)
    ));
    app.append(r, &l, 200, 8.0).unwrap();
    app.commit().unwrap();
    assert_eq!(floats(&s, &l), [(50, 0.0), (100, 7.0), (200, 8.0)]);

    let hl = lbl("h", "1");
    let h = Histogram {
        schema: 3,
        zero_threshold: 0.5,
        count: 9,
        ..Histogram::default()
    };
    let mut app = s.appender();
    app.append_histogram_ct_zero(SeriesRef::UNKNOWN, &hl, 100, 10, Some(&h), None)
        .unwrap();
    app.commit().unwrap();
    match &s.samples(&hl)[0].value {
        SampleValue::Histogram(z) => {
            assert_eq!((z.schema, z.zero_threshold, z.count), (3, 0.5, 0));
            assert_eq!(z.counter_reset_hint, CounterResetHint::CounterReset);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn start_timestamps_are_kept_per_sample() {
    let s = MemStorage::new();
    let (with, without) = (lbl("st", "1"), lbl("plain", "1"));
    let fh = FloatHistogram {
        count: 1.0,
        ..FloatHistogram::default()
    };
    let mut app = s.appender();
    let r = app
        .append_with_st(SeriesRef::UNKNOWN, &with, 5, 10, 1.0)
        .unwrap();
    app.append(r, &with, 20, 2.0).unwrap();
    // A duplicate is ignored, start timestamp included.
    app.append_with_st(r, &with, 7, 20, 2.0).unwrap();
    app.append_histogram_with_st(r, &with, 25, 30, None, Some(&fh))
        .unwrap();
    app.append(SeriesRef::UNKNOWN, &without, 10, 1.0).unwrap();
    app.commit().unwrap();

    let q = s.querier(0, 100).unwrap();
    let mut set = q.select(true, None, &[]);
    let mut seen = Vec::new();
    while let Some(series) = set.next() {
        let mut it = series.iter();
        while it.next().is_some() {
            seen.push((
                series.labels().get_or_empty("job").to_owned(),
                it.at_t(),
                it.at_st(),
            ));
        }
    }
    let seen: Vec<(&str, i64, i64)> = seen
        .iter()
        .map(|(j, t, st)| (j.as_str(), *t, *st))
        .collect();
    assert_eq!(
        seen,
        [
            ("plain", 10, 0),
            ("st", 10, 5),
            ("st", 20, 0),
            ("st", 30, 25)
        ]
    );
}

fn exemplar(trace: &str, value: f64, ts: i64) -> Exemplar {
    Exemplar {
        labels: Labels::from_pairs([("trace_id", trace)]),
        value,
        ts: Some(ts),
    }
}

#[test]
fn exemplars_are_validated_like_upstream() {
    let s = MemStorage::new();
    let l = lbl("e", "1");
    let mut app = s.appender();
    assert!(matches!(
        app.append_exemplar(SeriesRef::UNKNOWN, &l, &exemplar("x", 1.0, 10)),
        Err(StorageError::NotFound)
    ));
    let r = app.append(SeriesRef::UNKNOWN, &l, 10, 1.0).unwrap();
    app.append_exemplar(r, &l, &exemplar("x", 1.0, 10)).unwrap();
    assert!(matches!(
        app.append_exemplar(r, &l, &exemplar("x", 1.0, 10)),
        Err(StorageError::DuplicateExemplar)
    ));
    assert!(matches!(
        app.append_exemplar(r, &l, &exemplar("y", 1.0, 9)),
        Err(StorageError::OutOfOrderExemplar)
    ));
    assert!(matches!(
        app.append_exemplar(r, &l, &exemplar("y", 0.5, 10)),
        Err(StorageError::OutOfOrderExemplar)
    ));
    // Same timestamp, higher value: another bucket of a native histogram.
    app.append_exemplar(r, &l, &exemplar("y", 2.0, 10)).unwrap();
    let long = "x".repeat(EXEMPLAR_MAX_LABEL_SET_LENGTH - "trace_id".len() + 1);
    assert!(matches!(
        app.append_exemplar(r, &l, &exemplar(&long, 3.0, 11)),
        Err(StorageError::ExemplarLabelLength)
    ));
    app.commit().unwrap();
    assert_eq!(
        s.exemplars(&l),
        [exemplar("x", 1.0, 10), exemplar("y", 2.0, 10)]
    );
    // Committed exemplars take part in later checks.
    let mut app = s.appender();
    assert!(matches!(
        app.append_exemplar(r, &l, &exemplar("y", 2.0, 10)),
        Err(StorageError::DuplicateExemplar)
    ));
}

#[test]
fn metadata_needs_an_existing_series() {
    let s = MemStorage::new();
    let l = lbl("m", "1");
    let md = Metadata {
        metric_type: MetricType::Gauge,
        help: "help".into(),
        unit: String::new(),
    };
    let mut app = s.appender();
    assert!(matches!(
        app.update_metadata(SeriesRef::UNKNOWN, &l, &md),
        Err(StorageError::NotFound)
    ));
    let r = app.append(SeriesRef::UNKNOWN, &l, 1, 1.0).unwrap();
    app.update_metadata(r, &l, &md).unwrap();
    assert_eq!(s.metadata(&l), None);
    app.commit().unwrap();
    assert_eq!(s.metadata(&l), Some(md));
}

fn re(name: &str, value: &str) -> Matcher {
    Matcher::new(MatchType::Regexp, name, value).unwrap()
}

#[test]
fn select_filters_by_matchers_and_time_and_sorts() {
    let s = MemStorage::new();
    append_all(&s, &lbl("b", "1"), &[(10, 1.0), (20, 2.0), (30, 3.0)]);
    append_all(&s, &lbl("a", "2"), &[(10, 1.0)]);
    append_all(&s, &lbl("a", "1"), &[(25, 1.0)]);
    let got = select(&s, 15, 30, None, &[re("job", "a|b")]);
    assert_eq!(
        got,
        [
            (lbl("a", "1"), vec![(25, 1.0)]),
            (lbl("b", "1"), vec![(20, 2.0), (30, 3.0)]),
        ],
        "sorted by labels; series without samples in range are left out"
    );
    // A matcher that accepts the empty value selects series without the label.
    let none = Matcher::new(MatchType::Equal, "missing", "").unwrap();
    assert_eq!(select(&s, 0, 100, None, &[none]).len(), 3);
    // Hints' range takes precedence, as in the TSDB's block querier.
    let hints = SelectHints {
        start: 0,
        end: 10,
        ..SelectHints::default()
    };
    assert_eq!(select(&s, 15, 30, Some(&hints), &[]).len(), 2);
}

#[test]
fn select_hints_series_limit_and_shards() {
    let s = MemStorage::new();
    for i in 0..6 {
        append_all(&s, &lbl("j", &i.to_string()), &[(1, 1.0)]);
    }
    let hints = |f: fn(&mut SelectHints)| {
        let mut h = SelectHints {
            start: 0,
            end: 10,
            ..SelectHints::default()
        };
        f(&mut h);
        h
    };
    let labels_only = select(&s, 0, 10, Some(&hints(|h| h.func = "series".into())), &[]);
    assert_eq!(labels_only.len(), 6);
    assert!(labels_only.iter().all(|(_, samples)| samples.is_empty()));
    assert_eq!(
        select(&s, 0, 10, Some(&hints(|h| h.limit = 4)), &[]).len(),
        4
    );
    let mut total = 0;
    for index in 0..3 {
        let h = SelectHints {
            start: 0,
            end: 10,
            shard_count: 3,
            shard_index: index,
            ..SelectHints::default()
        };
        let shard = select(&s, 0, 10, Some(&h), &[]);
        assert!(shard.iter().all(|(l, _)| l.hash_value() % 3 == index));
        total += shard.len();
    }
    assert_eq!(total, 6, "shards partition the series");
}

#[test]
fn querier_is_a_snapshot() {
    let s = MemStorage::new();
    let l = lbl("a", "1");
    append_all(&s, &l, &[(1, 1.0)]);
    let q = s.querier(0, 100).unwrap();
    append_all(&s, &l, &[(2, 2.0)]);
    append_all(&s, &lbl("new", "1"), &[(2, 2.0)]);
    let mut set = q.select(true, None, &[]);
    let series = set.next().unwrap();
    let mut it = series.iter();
    assert_eq!(it.next(), ValueType::Float);
    assert_eq!(it.next(), ValueType::None, "later commits are not visible");
    assert!(set.next().is_none());
}

#[test]
fn label_names_and_values() {
    let s = MemStorage::new();
    append_all(&s, &lbl("b", "1"), &[(10, 1.0)]);
    append_all(&s, &lbl("a", "2"), &[(10, 1.0)]);
    append_all(
        &s,
        &Labels::from_pairs([("__name__", "other"), ("zone", "z")]),
        &[(500, 1.0)],
    );
    let q = s.querier(0, 100).unwrap();
    assert_eq!(q.label_values("job", None, &[]).unwrap().0, ["a", "b"]);
    assert_eq!(
        q.label_names(None, &[]).unwrap().0,
        ["__name__", "instance", "job"],
        "series outside the range do not count"
    );
    assert_eq!(
        q.label_values("instance", None, &[re("job", "b")])
            .unwrap()
            .0,
        ["1"]
    );
    assert_eq!(
        q.label_values("job", Some(&LabelHints { limit: 1 }), &[])
            .unwrap()
            .0,
        ["a"]
    );
    assert_eq!(s.start_time().unwrap(), 10);
}

#[test]
fn malformed_histograms_are_rejected() {
    let s = MemStorage::new();
    let l = lbl("h", "1");
    let bad = Histogram {
        count: 1,
        sum: 1.0,
        positive_spans: vec![pm_common::model::Span {
            offset: 0,
            length: 2,
        }],
        positive_deltas: vec![1],
        ..Histogram::default()
    };
    let mut app = s.appender();
    let err = app
        .append_histogram(SeriesRef::UNKNOWN, &l, 1, Some(&bad), None)
        .unwrap_err();
    assert!(matches!(
        err,
        StorageError::InvalidHistogram(ref e)
            if e.kind == crate::histogram::HistogramErrorKind::SpansBucketsMismatch
    ));
    app.commit().unwrap();
    assert!(s.samples(&l).is_empty());
}

#[test]
fn exemplar_queries_union_matcher_sets_and_filter_by_time() {
    let s = MemStorage::new();
    let mut app = s.appender();
    for (job, ts) in [("a", 10), ("b", 20), ("c", 30)] {
        let l = lbl(job, "1");
        let r = app.append(SeriesRef::UNKNOWN, &l, ts, 1.0).unwrap();
        app.append_exemplar(r, &l, &exemplar(job, 1.0, ts)).unwrap();
    }
    app.commit().unwrap();
    let q = s.exemplar_querier().unwrap();
    let sets = vec![
        vec![Matcher::new(MatchType::Equal, "job", "c").unwrap()],
        vec![re("job", "a|b")],
    ];
    let got = q.select(15, 100, &sets).unwrap();
    let jobs: Vec<_> = got
        .iter()
        .map(|r| r.series_labels.get_or_empty("job").to_owned())
        .collect();
    assert_eq!(
        jobs,
        ["b", "c"],
        "sorted by labels, series outside the range left out"
    );
    assert_eq!(got[0].exemplars, [exemplar("b", 1.0, 20)]);
    assert!(q.select(0, 100, &[]).unwrap().is_empty());
}
