use super::*;
use pm_common::model::{CounterResetHint, Span};

fn labels(name: &str) -> Labels {
    Labels::from_pairs([("__name__", name)])
}

fn floats(ts: &[i64]) -> ListSeries {
    ListSeries::from_floats(labels("m"), ts.iter().map(|&t| (t, t as f64 / 10.0)))
}

fn int_histogram(count: u64) -> Histogram {
    Histogram {
        counter_reset_hint: CounterResetHint::NotCounterReset,
        count,
        sum: count as f64,
        positive_spans: vec![Span {
            offset: 0,
            length: 2,
        }],
        positive_deltas: vec![count as i64, -(count as i64)],
        ..Histogram::default()
    }
}

#[test]
fn next_walks_all_samples_then_stays_exhausted() {
    let mut it = floats(&[10, 20, 30]).iter();
    let mut seen = Vec::new();
    while it.next() == ValueType::Float {
        seen.push(it.at());
    }
    assert_eq!(seen, [(10, 1.0), (20, 2.0), (30, 3.0)]);
    assert_eq!(it.next(), ValueType::None);
    assert_eq!(it.seek(0), ValueType::None);
    assert!(it.err().is_none());
}

#[test]
fn seek_finds_first_sample_at_or_after_and_never_goes_back() {
    let mut it = floats(&[10, 20, 30, 40]).iter();
    assert_eq!(it.seek(15), ValueType::Float);
    assert_eq!(it.at_t(), 20);
    // Exact hit.
    assert_eq!(it.seek(20), ValueType::Float);
    assert_eq!(it.at_t(), 20);
    // Seeking backwards is a no-op.
    assert_eq!(it.seek(5), ValueType::Float);
    assert_eq!(it.at_t(), 20);
    assert_eq!(it.next(), ValueType::Float);
    assert_eq!(it.at_t(), 30);
    assert_eq!(it.seek(41), ValueType::None);
    assert_eq!(it.seek(10), ValueType::None);
}

#[test]
fn seek_before_first_move_can_land_on_first_sample() {
    let mut it = floats(&[10, 20]).iter();
    assert_eq!(it.seek(i64::MIN), ValueType::Float);
    assert_eq!(it.at_t(), 10);
}

#[test]
fn empty_series_yields_nothing() {
    let mut it = floats(&[]).iter();
    assert_eq!(it.next(), ValueType::None);
    assert_eq!(floats(&[]).iter().seek(0), ValueType::None);
}

#[test]
fn mixed_types_report_each_sample_type() {
    let h = int_histogram(4);
    let fh = FloatHistogram {
        count: 2.5,
        ..FloatHistogram::default()
    };
    let s = ListSeries::new(
        labels("m"),
        vec![
            SeriesSample::float(1, 1.0),
            SeriesSample::histogram(2, h.clone()),
            SeriesSample::float_histogram(3, fh.clone()),
        ],
    );
    let mut it = s.iter();
    assert_eq!(it.next(), ValueType::Float);
    assert_eq!(it.next(), ValueType::Histogram);
    let mut got = Histogram::default();
    assert_eq!(it.at_histogram(&mut got), 2);
    assert_eq!(got, h);
    let mut got_f = FloatHistogram::default();
    assert_eq!(it.at_float_histogram(&mut got_f), 2);
    assert_eq!(got_f, h.to_float());
    assert_eq!(got_f.positive_buckets, [4.0, 0.0]);
    assert_eq!(it.next(), ValueType::FloatHistogram);
    assert_eq!(it.at_float_histogram(&mut got_f), 3);
    assert_eq!(got_f, fh);
    assert_eq!(it.next(), ValueType::None);
}

#[test]
fn fill_copies_an_inclusive_window_and_leaves_iterator_after_it() {
    let mut it = floats(&[10, 20, 30, 40, 50]).iter();
    let (mut fl, mut hs) = (Vec::new(), Vec::new());
    assert_eq!(it.fill(15, 40, &mut fl, &mut hs), ValueType::Float);
    assert_eq!(
        fl.iter().map(|s| s.t).collect::<Vec<_>>(),
        [20, 30, 40],
        "both bounds inclusive"
    );
    assert_eq!(it.at_t(), 50);
    // An overlapping later window does not repeat samples already passed.
    fl.clear();
    assert_eq!(it.fill(30, 60, &mut fl, &mut hs), ValueType::None);
    assert_eq!(fl.iter().map(|s| s.t).collect::<Vec<_>>(), [50]);
    assert!(hs.is_empty());
}

#[test]
fn fill_default_matches_list_override() {
    /// Forwards everything except `fill`, so the trait's default is exercised.
    struct Plain(ListIterator);
    impl SampleIterator for Plain {
        fn next(&mut self) -> ValueType {
            self.0.next()
        }
        fn seek(&mut self, t: i64) -> ValueType {
            self.0.seek(t)
        }
        fn at(&self) -> (i64, f64) {
            self.0.at()
        }
        fn at_histogram(&self, h: &mut Histogram) -> i64 {
            self.0.at_histogram(h)
        }
        fn at_float_histogram(&self, fh: &mut FloatHistogram) -> i64 {
            self.0.at_float_histogram(fh)
        }
        fn at_t(&self) -> i64 {
            self.0.at_t()
        }
        fn err(&self) -> Option<&StorageError> {
            self.0.err()
        }
    }
    let samples: Arc<[SeriesSample]> = vec![
        SeriesSample::float(1, 1.0),
        SeriesSample::histogram(2, int_histogram(3)),
        SeriesSample::float(3, 3.0),
        SeriesSample::float(9, 9.0),
    ]
    .into();
    for (mint, maxt) in [(0, 3), (2, 2), (4, 8), (0, 100), (10, 20)] {
        let (mut a, mut ah, mut b, mut bh) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let va = ListIterator::new(samples.clone()).fill(mint, maxt, &mut a, &mut ah);
        let vb = Plain(ListIterator::new(samples.clone())).fill(mint, maxt, &mut b, &mut bh);
        assert_eq!((va, &a, &ah), (vb, &b, &bh), "window [{mint}, {maxt}]");
    }
}

#[test]
fn each_iter_call_starts_over() {
    let s = floats(&[1, 2]);
    let mut a = s.iter();
    a.next();
    a.next();
    let mut b = s.iter();
    assert_eq!(b.next(), ValueType::Float);
    assert_eq!(b.at_t(), 1);
}

#[test]
fn vec_set_yields_in_order_with_warnings() {
    let mut w = Warnings::new();
    w.push("partial");
    let mut set = VecSeriesSet::new([
        Box::new(ListSeries::from_floats(labels("b"), [])) as BoxSeries,
        Box::new(ListSeries::from_floats(labels("a"), [])),
    ])
    .with_warnings(w.clone());
    assert_eq!(set.next().unwrap().labels(), &labels("b"));
    assert_eq!(set.next().unwrap().labels(), &labels("a"));
    assert!(set.next().is_none());
    assert!(set.err().is_none());
    assert_eq!(set.warnings(), w);
}

#[test]
fn empty_and_error_sets() {
    assert!(EmptySeriesSet.next().is_none());
    assert!(SeriesSet::err(&EmptySeriesSet).is_none());
    let mut e = ErrorSeriesSet(StorageError::NotFound);
    assert!(SeriesSet::next(&mut e).is_none());
    assert_eq!(
        SeriesSet::err(&e).map(ToString::to_string).as_deref(),
        Some("not found")
    );
}

#[test]
fn gallop_agrees_with_binary_search() {
    for len in 0..40usize {
        let items: Vec<usize> = (0..len).collect();
        for cut in 0..=len {
            assert_eq!(gallop(&items, |&x| x < cut), cut, "len {len} cut {cut}");
        }
    }
}

#[test]
fn start_timestamps_follow_their_samples_and_default_to_unknown() {
    let s = ListSeries::new(
        labels("m"),
        vec![
            SeriesSample::float(10, 1.0),
            SeriesSample::histogram(20, int_histogram(2)),
            SeriesSample::float(30, 3.0),
        ],
    )
    .with_start_timestamps(vec![5, 0, 25]);
    let mut it = s.iter();
    assert_eq!(it.seek(20), ValueType::Histogram);
    assert_eq!(it.at_st(), 0);
    assert_eq!(it.next(), ValueType::Float);
    assert_eq!(it.at_st(), 25);

    let (mut f, mut h, mut fst, mut hst) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let vt = s
        .iter()
        .fill_with_start_timestamps(0, 25, &mut f, &mut h, &mut fst, &mut hst);
    assert_eq!(vt, ValueType::Float);
    assert_eq!((f.len(), h.len()), (1, 1));
    assert_eq!((fst, hst), (vec![5], vec![0]));

    let mut it = floats(&[10]).iter();
    assert_eq!(it.next(), ValueType::Float);
    assert_eq!(
        it.at_st(),
        0,
        "series without start timestamps report unknown"
    );
}
