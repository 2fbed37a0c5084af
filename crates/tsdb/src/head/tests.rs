use pm_common::model::{Exemplar, Labels, MatchType, Matcher, Metadata, MetricType};
use pm_storage::{
    AppendOptions, Appendable, Appender, ChunkQueryable, ExemplarQueryable, Queryable, SeriesRef,
    StorageError, ValueType,
};

use super::*;

fn lbls(name: &str, job: &str) -> Labels {
    Labels::from_pairs([("__name__", name), ("job", job)])
}

fn eq(name: &str, value: &str) -> Matcher {
    Matcher::new(MatchType::Equal, name, value).unwrap()
}

/// Every (labels, samples) a querier over everything returns, sorted.
pub(super) fn dump(h: &Head) -> Vec<(Labels, Vec<(i64, f64)>)> {
    let q = h.querier(i64::MIN, i64::MAX).unwrap();
    let mut set = q.select(
        true,
        None,
        &[Matcher::new(MatchType::Regexp, "__name__", ".+").unwrap()],
    );
    let mut out = Vec::new();
    while let Some(s) = set.next() {
        let mut it = s.iter();
        let mut samples = Vec::new();
        while it.next() == ValueType::Float {
            samples.push(it.at());
        }
        out.push((s.labels().clone(), samples));
    }
    assert!(set.err().is_none());
    out
}

fn no_wal() -> HeadOptions {
    HeadOptions {
        wal: None,
        ..HeadOptions::default()
    }
}

#[test]
fn append_commit_query() {
    let h = Head::in_memory(no_wal());
    let mut app = Appendable::appender(&h);
    let a = lbls("up", "a");
    let r = app.append(SeriesRef::UNKNOWN, &a, 1000, 1.0).unwrap();
    assert_eq!(app.append(r, &a, 2000, f64::NAN).unwrap(), r);
    app.append(SeriesRef::UNKNOWN, &lbls("up", "b"), 1500, 2.0)
        .unwrap();
    assert!(dump(&h).is_empty(), "nothing visible before commit");
    app.commit().unwrap();
    let got = dump(&h);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0, a);
    assert_eq!(got[0].1[0], (1000, 1.0));
    assert!(got[0].1[1].1.is_nan(), "stale markers are stored");
    assert_eq!((h.min_time(), h.max_time()), (1000, 2000));
    let q = h.querier(1200, 1800).unwrap();
    let mut set = q.select(false, None, &[eq("job", "a")]);
    assert!(
        set.next().is_none(),
        "samples outside the range are trimmed, empty series left out"
    );
    let (names, _) = q.label_names(None, &[]).unwrap();
    assert_eq!(names, ["__name__", "job"]);
    let (values, _) = q.label_values("job", None, &[eq("job", "b")]).unwrap();
    assert_eq!(values, ["b"]);
}

#[test]
fn upstream_append_errors() {
    let h = Head::in_memory(no_wal());
    let a = lbls("x", "a");
    let mut app = h.appender();
    app.append(SeriesRef::UNKNOWN, &a, 10_000_000, 1.0).unwrap();
    Box::new(app).commit().unwrap();
    let mut app = h.appender();
    let err = app
        .append(SeriesRef::UNKNOWN, &a, 9_999_999, 1.0)
        .unwrap_err();
    assert_eq!(err.to_string(), "out of order sample");
    let err = app
        .append(SeriesRef::UNKNOWN, &a, 10_000_000, 2.0)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "duplicate sample for timestamp 10000000; overrides not allowed: existing 1, new value 2"
    );
    app.append(SeriesRef::UNKNOWN, &a, 10_000_000, 1.0).unwrap();
    // More than half a chunk range behind the head's newest sample.
    let err = app
        .append(SeriesRef::UNKNOWN, &lbls("y", "a"), 1000, 1.0)
        .unwrap_err();
    assert!(matches!(err, StorageError::OutOfBounds));
    assert_eq!(
        app.append_ct_zero(SeriesRef::UNKNOWN, &a, 5, 5)
            .unwrap_err()
            .to_string(),
        "CT is newer or the same as sample's timestamp, ignoring"
    );
    assert!(matches!(
        app.append_ct_zero(SeriesRef::UNKNOWN, &a, 10_000_500, 9_000_000),
        Err(StorageError::OutOfOrderCreatedTimestamp)
    ));
    app.append_ct_zero(SeriesRef::UNKNOWN, &a, 10_002_000, 10_001_000)
        .unwrap();
    app.append(SeriesRef::UNKNOWN, &a, 10_002_000, 5.0).unwrap();
    Box::new(app).commit().unwrap();
    assert_eq!(
        dump(&h)[0].1,
        [(10_000_000, 1.0), (10_001_000, 0.0), (10_002_000, 5.0)]
    );
    assert!(
        h.appender()
            .append_histogram(SeriesRef::UNKNOWN, &a, 1, None, None)
            .is_err()
    );
}

#[test]
fn out_of_order_window() {
    let h = Head::in_memory(HeadOptions {
        out_of_order_time_window: 10_000,
        ..no_wal()
    });
    let a = lbls("x", "a");
    let mut app = h.appender();
    app.append(SeriesRef::UNKNOWN, &a, 100_000, 1.0).unwrap();
    Box::new(app).commit().unwrap();
    let mut app = h.appender();
    app.append(SeriesRef::UNKNOWN, &a, 95_000, 2.0).unwrap();
    assert!(matches!(
        app.append(SeriesRef::UNKNOWN, &a, 80_000, 3.0),
        Err(StorageError::TooOldSample)
    ));
    app.set_options(AppendOptions {
        discard_out_of_order: true,
    });
    assert!(matches!(
        app.append(SeriesRef::UNKNOWN, &a, 96_000, 3.0),
        Err(StorageError::OutOfOrderSample)
    ));
    Box::new(app).commit().unwrap();
    assert_eq!(dump(&h)[0].1, [(95_000, 2.0), (100_000, 1.0)]);
    assert_eq!(
        h.stats()
            .out_of_order_samples_appended
            .float
            .load(Ordering::Relaxed),
        1
    );
    // The out-of-order chunk comes beside the in-order one.
    let q = h.chunk_querier(i64::MIN, i64::MAX).unwrap();
    let mut set = q.select(true, None, &[eq("job", "a")]);
    let s = set.next().unwrap();
    let mut chunks = s.chunks();
    let mut n = 0;
    while chunks.next().is_some() {
        n += 1;
    }
    assert_eq!(n, 2);
}

#[test]
fn queriers_keep_their_snapshot() {
    let h = Head::in_memory(no_wal());
    let a = lbls("x", "a");
    let mut app = h.appender();
    app.append(SeriesRef::UNKNOWN, &a, 1, 1.0).unwrap();
    Box::new(app).commit().unwrap();
    let before = h.querier(i64::MIN, i64::MAX).unwrap();
    let mut app = h.appender();
    app.append(SeriesRef::UNKNOWN, &a, 2, 2.0).unwrap();
    app.append(SeriesRef::UNKNOWN, &lbls("x", "b"), 2, 2.0)
        .unwrap();
    Box::new(app).commit().unwrap();
    let mut set = before.select(true, None, &[eq("__name__", "x")]);
    let s = set.next().unwrap();
    let mut it = s.iter();
    assert_eq!(it.next(), ValueType::Float);
    assert_eq!(it.at(), (1, 1.0));
    assert_eq!(
        it.next(),
        ValueType::None,
        "the later commit stays invisible"
    );
    assert!(
        set.next().is_none(),
        "series with only invisible samples are left out"
    );
    assert_eq!(dump(&h).len(), 2);
}

#[test]
fn rollback_and_drop_discard() {
    let h = Head::in_memory(no_wal());
    let mut app = Appendable::appender(&h);
    app.append(SeriesRef::UNKNOWN, &lbls("x", "a"), 1, 1.0)
        .unwrap();
    app.rollback().unwrap();
    let mut app = Appendable::appender(&h);
    app.append(SeriesRef::UNKNOWN, &lbls("x", "a"), 1, 1.0)
        .unwrap();
    drop(app);
    assert!(dump(&h).is_empty());
    // The series exists (as upstream) and is collected by truncation.
    assert_eq!(h.num_series(), 1);
    h.truncate(0).unwrap();
    assert_eq!(h.num_series(), 0);
}

#[test]
fn exemplars_and_metadata() {
    let h = Head::in_memory(HeadOptions {
        max_exemplars: 10,
        ..no_wal()
    });
    let a = lbls("x", "a");
    let mut app = h.appender();
    let r = app.append(SeriesRef::UNKNOWN, &a, 10, 1.0).unwrap();
    let e = Exemplar {
        labels: Labels::from_pairs([("trace_id", "t1")]),
        value: 1.0,
        ts: Some(10),
    };
    app.append_exemplar(r, &a, &e).unwrap();
    let md = Metadata {
        metric_type: MetricType::Counter,
        help: "h".into(),
        unit: String::new(),
    };
    app.update_metadata(r, &a, &md).unwrap();
    Box::new(app).commit().unwrap();
    let mut app = h.appender();
    assert!(matches!(
        app.append_exemplar(r, &a, &e),
        Err(StorageError::DuplicateExemplar)
    ));
    let q = h.exemplar_querier().unwrap();
    let got = q.select(0, 100, &[vec![eq("job", "a")]]).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].exemplars, std::slice::from_ref(&e));
    assert!(
        q.select(11, 100, &[vec![eq("job", "a")]])
            .unwrap()
            .is_empty()
    );
    let off = Head::in_memory(HeadOptions {
        max_exemplars: 0,
        ..no_wal()
    });
    let mut app = off.appender();
    let r = app.append(SeriesRef::UNKNOWN, &a, 10, 1.0).unwrap();
    let err = app.append_exemplar(r, &a, &e).unwrap_err();
    assert!(matches!(err, StorageError::ExemplarsDisabled));
}

#[test]
fn wal_replay_restores_series_refs_samples_and_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let (h, stats) = Head::open(dir.path(), HeadOptions::default()).unwrap();
    assert_eq!(stats, ReplayStats::default());
    let mut refs = Vec::new();
    for i in 0..300i64 {
        let mut app = h.appender();
        for j in 0..5 {
            let r = app
                .append(
                    SeriesRef::UNKNOWN,
                    &lbls("m", &j.to_string()),
                    i * 1000,
                    i as f64,
                )
                .unwrap();
            if i == 0 {
                refs.push(r);
            }
        }
        if i == 0 {
            let md = Metadata {
                metric_type: MetricType::Gauge,
                help: "x".into(),
                unit: "bytes".into(),
            };
            app.update_metadata(refs[0], &lbls("m", "0"), &md).unwrap();
        }
        Box::new(app).commit().unwrap();
    }
    let want = dump(&h);
    drop(h);
    let (h, stats) = Head::open(dir.path(), HeadOptions::default()).unwrap();
    assert_eq!(
        (stats.series, stats.samples, stats.repaired),
        (5, 1500, None)
    );
    assert_eq!(dump(&h), want);
    // References survive, so cached refs from before the restart stay valid.
    let mut app = h.appender();
    assert_eq!(
        app.append(refs[3], &lbls("m", "3"), 1_000_000, 1.0)
            .unwrap(),
        refs[3]
    );
    let s = h.inner.series.by_ref(refs[0].0).unwrap();
    assert_eq!(s.lock().metadata.as_ref().unwrap().unit, "bytes");
}

#[test]
fn truncation_checkpoints_and_replays() {
    let dir = tempfile::tempdir().unwrap();
    let opts = HeadOptions {
        wal: Some(WalOptions {
            segment_size: crate::wal::PAGE_SIZE * 4,
            ..WalOptions::default()
        }),
        ..HeadOptions::default()
    };
    let (h, _) = Head::open(dir.path(), opts).unwrap();
    for i in 0..2000i64 {
        let mut app = h.appender();
        app.append(SeriesRef::UNKNOWN, &lbls("m", "keep"), i * 10_000, i as f64)
            .unwrap();
        if i < 500 {
            app.append(SeriesRef::UNKNOWN, &lbls("m", "gone"), i * 10_000, i as f64)
                .unwrap();
        }
        Box::new(app).commit().unwrap();
    }
    let chunks_before = h.num_chunks();
    h.truncate(10_000_000).unwrap();
    assert_eq!(h.num_series(), 1);
    assert!(h.num_chunks() < chunks_before);
    assert!(h.min_time() >= 10_000_000 - 2 * 3_600_000);
    let mut app = h.appender();
    assert!(matches!(
        app.append(SeriesRef::UNKNOWN, &lbls("m", "new"), 9_999_999, 1.0),
        Err(StorageError::OutOfBounds)
    ));
    drop(app);
    let want = dump(&h);
    drop(h);
    let (h, stats) = Head::open(dir.path(), opts).unwrap();
    assert!(stats.checkpoint.is_some());
    let got = dump(&h);
    assert_eq!(got.len(), 1);
    // Replay may hold chunks the truncation kept whole; every sample since mint is there.
    let since: Vec<_> = got[0].1.iter().filter(|s| s.0 >= 10_000_000).collect();
    let want_since: Vec<_> = want[0].1.iter().filter(|s| s.0 >= 10_000_000).collect();
    assert_eq!(since, want_since);
    assert_eq!(since.len(), 1000);
}

#[test]
fn transaction_buffers_are_pooled_up_to_a_size() {
    let h = Head::in_memory(no_wal());
    let pooled = || lock(&h.inner.append_pool).len();
    let commit = |n: usize, t: i64| {
        let mut app = h.appender();
        for i in 0..n {
            app.append(SeriesRef(0), &lbls("m", &i.to_string()), t, 1.0)
                .unwrap();
        }
        Box::new(app).commit().unwrap();
    };
    // An appender that appended nothing takes nothing from the pool and gives nothing back.
    drop(h.appender());
    assert_eq!(pooled(), 0);
    commit(100, 10);
    assert_eq!(pooled(), 1);
    // The next transaction takes the pooled buffers and returns them.
    commit(100, 20);
    assert_eq!(pooled(), 1);
    assert_eq!(dump(&h).len(), 100);
    // A transaction too big for the pool frees its buffers.
    commit(appender::POOLED_MAX_SAMPLES + 1, 30);
    assert_eq!(pooled(), 0);
}

/// Garbage collection removing series while an appender adds samples to them by reference
/// (as the scrape cache does): every committed sample stays readable. An appender that looked
/// a series up just before it was removed used to add its samples to the removed series,
/// where nothing would read them, and report success.
#[test]
fn samples_for_series_being_collected_are_kept() {
    use std::sync::atomic::{AtomicBool, AtomicI64};
    const SERIES: usize = 64;
    const ROUNDS: i64 = 20_000;
    let h = Head::in_memory(no_wal());
    let labels: Vec<Labels> = (0..SERIES).map(|i| lbls("race", &i.to_string())).collect();
    let mint = AtomicI64::new(0);
    let done = AtomicBool::new(false);
    /// Stops the collector however the appending side ends (a failed assertion included).
    struct Done<'a>(&'a AtomicBool);
    impl Drop for Done<'_> {
        fn drop(&mut self) {
            self.0.store(true, Ordering::Release);
        }
    }
    std::thread::scope(|scope| {
        // Collects over and over, so that it often meets a series the appender is adding to.
        scope.spawn(|| {
            while !done.load(Ordering::Acquire) {
                h.truncate(mint.load(Ordering::Acquire)).unwrap();
            }
        });
        let _done = Done(&done);
        let mut refs = vec![SeriesRef::UNKNOWN; SERIES];
        for round in 1..=ROUNDS {
            let t = round * 100;
            // Every earlier sample may go now: each series is empty until this round commits.
            mint.store(t, Ordering::Release);
            let mut app = Appendable::appender(&h);
            for (r, l) in refs.iter_mut().zip(&labels) {
                *r = app.append(*r, l, t, 1.0).unwrap();
            }
            app.commit().unwrap();
            for l in &labels {
                let s = h.inner.series.by_labels(l.hash_value(), l);
                let newest = s.map(|s| s.lock().max_t);
                assert_eq!(newest, Some(t), "round {round}, {l:?}");
            }
        }
    });
}
