//! Native histograms through the head: appends, errors, chunk cutting, queries and replay.

use std::sync::atomic::Ordering;

use pm_common::model::{
    CounterResetHint, FloatHistogram, Histogram, Labels, MatchType, Matcher, STALE_NAN_BITS, Span,
};
use pm_storage::{
    Appender, ChunkEncoding, ChunkQueryable, Queryable, SampleValue, SeriesRef, StorageError,
    ValueType,
};

use super::*;

fn lbls(name: &str) -> Labels {
    Labels::from_pairs([("__name__", name)])
}

fn all() -> Vec<Matcher> {
    vec![Matcher::new(MatchType::Regexp, "__name__", ".+").unwrap()]
}

/// A schema-0 counter histogram with `n` positive buckets counting `base` each.
fn hist(n: u32, base: u64) -> Histogram {
    let mut deltas = vec![0i64; n as usize];
    if n > 0 {
        deltas[0] = base as i64;
    }
    Histogram {
        schema: 0,
        zero_threshold: 0.001,
        count: base * u64::from(n),
        sum: (base * u64::from(n)) as f64 * 1.5,
        positive_spans: vec![Span {
            offset: 0,
            length: n,
        }],
        positive_deltas: deltas,
        ..Histogram::default()
    }
}

fn no_wal() -> HeadOptions {
    HeadOptions {
        wal: None,
        ..HeadOptions::default()
    }
}

/// Every sample of the only series, with its type.
fn samples(h: &Head) -> Vec<(i64, SampleValue)> {
    let q = h.querier(i64::MIN, i64::MAX).unwrap();
    let mut set = q.select(true, None, &all());
    let s = set.next().expect("one series");
    let mut it = s.iter();
    let mut out = Vec::new();
    loop {
        let v = match it.next() {
            ValueType::None => break,
            ValueType::Float => SampleValue::Float(it.at().1),
            ValueType::Histogram => {
                let mut h = Histogram::default();
                it.at_histogram(&mut h);
                SampleValue::Histogram(h.into())
            }
            ValueType::FloatHistogram => {
                let mut h = FloatHistogram::default();
                it.at_float_histogram(&mut h);
                SampleValue::FloatHistogram(h.into())
            }
        };
        out.push((it.at_t(), v));
    }
    assert!(it.err().is_none() && set.err().is_none());
    out
}

/// (encoding, sample count, counter-reset header bits) of the only series' chunks.
fn chunks(h: &Head) -> Vec<(ChunkEncoding, usize, u8)> {
    let q = h.chunk_querier(i64::MIN, i64::MAX).unwrap();
    let mut set = q.select(true, None, &all());
    let s = set.next().expect("one series");
    let mut it = s.chunks();
    let mut out = Vec::new();
    while let Some(c) = it.next() {
        let header = match c.chunk.encoding() {
            ChunkEncoding::Xor => 0,
            _ => c.chunk.bytes()[2] & 0xc0,
        };
        out.push((c.chunk.encoding(), c.chunk.num_samples(), header));
    }
    out
}

fn append_h(h: &Head, t: i64, v: &Histogram) -> Result<SeriesRef, StorageError> {
    let mut app = h.appender();
    let r = app.append_histogram(SeriesRef::UNKNOWN, &lbls("h"), t, Some(v), None)?;
    Box::new(app).commit()?;
    Ok(r)
}

#[test]
fn histograms_round_trip_through_the_head() {
    let h = Head::in_memory(no_wal());
    let mut want = Vec::new();
    for i in 0..30u64 {
        let v = hist(4, i + 1);
        append_h(&h, i as i64 * 1000, &v).unwrap();
        want.push(v);
    }
    let got = samples(&h);
    assert_eq!(got.len(), 30);
    for (i, ((t, v), w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(*t, i as i64 * 1000);
        let SampleValue::Histogram(v) = v else {
            panic!("sample {i} is not a histogram: {v:?}")
        };
        let expected_hint = if i == 0 {
            CounterResetHint::Unknown
        } else {
            CounterResetHint::NotCounterReset
        };
        assert_eq!(
            **v,
            Histogram {
                counter_reset_hint: expected_hint,
                ..w.clone()
            }
        );
    }
    let s = h.stats();
    assert_eq!(s.samples_appended.get(), [0, 30]);
}

#[test]
fn validation_and_duplicate_errors_are_upstreams() {
    let h = Head::in_memory(no_wal());
    let mut bad = hist(2, 1);
    bad.positive_deltas = vec![1, -2];
    let err = append_h(&h, 0, &bad).unwrap_err().to_string();
    assert!(
        err.contains("histogram has a bucket whose observation count is negative"),
        "{err}"
    );
    let mut bad = hist(2, 1);
    bad.positive_spans[0].length = 3;
    let err = append_h(&h, 0, &bad).unwrap_err().to_string();
    assert!(
        err.contains("histogram spans specify different number of buckets than provided"),
        "{err}"
    );
    let bad = Histogram {
        schema: 9,
        ..hist(2, 1)
    };
    assert_eq!(
        append_h(&h, 0, &bad).unwrap_err().to_string(),
        "histogram has an invalid schema, which must be between -4 and 8 for exponential buckets, or -53 for custom buckets, got schema 9"
    );
    append_h(&h, 1000, &hist(2, 1)).unwrap();
    append_h(&h, 1000, &hist(2, 1)).expect("an identical duplicate is accepted");
    let err = append_h(&h, 1000, &hist(2, 2)).unwrap_err();
    assert!(err.is_duplicate_sample());
    assert_eq!(err.to_string(), "duplicate sample for timestamp");
    let mut app = h.appender();
    let err = app
        .append(SeriesRef::UNKNOWN, &lbls("h"), 1000, 3.0)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "duplicate sample for timestamp 1000; overrides not allowed: existing is a histogram, new value 3"
    );
    assert!(matches!(
        append_h(&h, 500, &hist(2, 3)).unwrap_err(),
        StorageError::OutOfOrderSample
    ));
    assert_eq!(h.stats().out_of_order_samples_rejected.get(), [0, 1]);
    assert_eq!(samples(&h).len(), 1);
}

#[test]
fn chunks_are_cut_by_type_reset_and_size() {
    let h = Head::in_memory(no_wal());
    let mut app = h.appender();
    app.append(SeriesRef::UNKNOWN, &lbls("h"), 0, 1.0).unwrap();
    Box::new(app).commit().unwrap();
    append_h(&h, 1000, &hist(3, 5)).unwrap();
    append_h(&h, 2000, &hist(3, 6)).unwrap();
    append_h(&h, 3000, &hist(3, 1)).unwrap(); // counter reset
    let mut app = h.appender();
    app.append(SeriesRef::UNKNOWN, &lbls("h"), 4000, 2.0)
        .unwrap();
    Box::new(app).commit().unwrap();
    assert_eq!(
        chunks(&h),
        [
            (ChunkEncoding::Xor, 1, 0),
            (ChunkEncoding::Histogram, 2, 0),
            (ChunkEncoding::Histogram, 1, 0b1000_0000),
            (ChunkEncoding::Xor, 1, 0),
        ]
    );

    // Big, changing histograms fill 1 KiB quickly: chunks are cut by size, not at 120.
    let h = Head::in_memory(no_wal());
    for i in 0..200u64 {
        let mut v = hist(40, 1);
        v.positive_deltas = (0..40)
            .map(|j| ((i * 7919 + j * 104_729) % 1000) as i64)
            .collect();
        let total: i64 = v
            .positive_deltas
            .iter()
            .scan(0i64, |c, d| {
                *c += d;
                Some(*c)
            })
            .sum();
        v.count = total as u64 + i * 1_000_000;
        v.zero_count = i * 1_000_000;
        append_gauge(&h, i as i64 * 15_000, v);
    }
    let cs = chunks(&h);
    assert!(cs.len() > 2, "{cs:?}");
    assert!(cs[..cs.len() - 1].iter().all(|c| c.1 >= 10), "{cs:?}");
    assert!(
        cs.iter().all(|c| c.2 == 0b1100_0000),
        "gauge headers: {cs:?}"
    );
    assert_eq!(cs.iter().map(|c| c.1).sum::<usize>(), 200);
}

fn append_gauge(h: &Head, t: i64, mut v: Histogram) {
    v.counter_reset_hint = CounterResetHint::Gauge;
    append_h(h, t, &v).unwrap();
}

#[test]
fn float_stale_markers_become_histogram_stale_markers() {
    let h = Head::in_memory(no_wal());
    append_h(&h, 1000, &hist(2, 1)).unwrap();
    let mut app = h.appender();
    app.append(
        SeriesRef::UNKNOWN,
        &lbls("h"),
        2000,
        f64::from_bits(STALE_NAN_BITS),
    )
    .unwrap();
    Box::new(app).commit().unwrap();
    let got = samples(&h);
    let SampleValue::Histogram(stale) = &got[1].1 else {
        panic!("{got:?}")
    };
    assert_eq!(stale.sum.to_bits(), STALE_NAN_BITS);
    assert_eq!(chunks(&h).len(), 1, "the marker ends the histogram chunk");
}

#[test]
fn wal_replay_restores_histograms() {
    let dir = tempfile::tempdir().unwrap();
    let (h, _) = Head::open(dir.path(), HeadOptions::default()).unwrap();
    let custom = Histogram {
        schema: pm_common::model::CUSTOM_BUCKETS_SCHEMA,
        zero_threshold: 0.0,
        custom_values: vec![0.5, 1.0],
        ..hist(3, 2)
    };
    for i in 0..50u64 {
        let mut app = h.appender();
        let t = i as i64 * 1000;
        app.append_histogram(SeriesRef::UNKNOWN, &lbls("a"), t, Some(&hist(3, i)), None)
            .unwrap();
        let fh = hist(2, i).to_float();
        app.append_histogram(SeriesRef::UNKNOWN, &lbls("b"), t, None, Some(&fh))
            .unwrap();
        app.append_histogram(SeriesRef::UNKNOWN, &lbls("c"), t, Some(&custom), None)
            .unwrap();
        Box::new(app).commit().unwrap();
    }
    let dump = |h: &Head| {
        let q = h.querier(i64::MIN, i64::MAX).unwrap();
        let mut set = q.select(true, None, &all());
        let mut out = Vec::new();
        while let Some(s) = set.next() {
            let mut it = s.iter();
            while it.next() != ValueType::None {
                let mut fh = FloatHistogram::default();
                it.at_float_histogram(&mut fh);
                out.push((s.labels().clone(), it.at_t(), fh));
            }
        }
        out
    };
    let want = dump(&h);
    assert_eq!(want.len(), 150);
    drop(h);
    let (h, stats) = Head::open(dir.path(), HeadOptions::default()).unwrap();
    assert_eq!((stats.samples, stats.skipped), (150, 0));
    assert_eq!(dump(&h), want);
    assert_eq!(
        h.stats().samples_appended.histogram.load(Ordering::Relaxed),
        0
    );
}

#[test]
fn out_of_order_histograms_within_the_window() {
    let h = Head::in_memory(HeadOptions {
        out_of_order_time_window: 600_000,
        ..no_wal()
    });
    append_h(&h, 100_000, &hist(2, 5)).unwrap();
    append_h(&h, 50_000, &hist(2, 3)).unwrap();
    let got = samples(&h);
    assert_eq!(
        got.iter().map(|s| s.0).collect::<Vec<_>>(),
        [50_000, 100_000]
    );
    assert!(matches!(&got[0].1, SampleValue::Histogram(v) if v.count == 6));
    assert_eq!(h.stats().out_of_order_samples_appended.get(), [0, 1]);
}
