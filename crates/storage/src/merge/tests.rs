use std::collections::VecDeque;

use pm_common::model::{CounterResetHint, FloatHistogram, Histogram, Labels, MatchType, Sample};

use super::*;
use crate::error::StorageError;
use crate::iterator::{ErrorIterator, SampleIterator, ValueType};
use crate::series::{BoxSeries, ListSeries, Series, SeriesSample, SeriesSet};

fn lbl(job: &str) -> Labels {
    Labels::from_pairs([("__name__", "up"), ("job", job)])
}

fn series(job: &str, samples: &[(i64, f64)]) -> BoxSeries {
    Box::new(ListSeries::from_floats(lbl(job), samples.iter().copied()))
}

fn drain(it: &mut dyn SampleIterator) -> Vec<(i64, f64)> {
    let mut out = Vec::new();
    while it.next() == ValueType::Float {
        out.push(it.at());
    }
    out
}

fn chain(parts: &[&[(i64, f64)]]) -> ChainIterator {
    ChainIterator::new(parts.iter().map(|p| series("a", p).iter()).collect())
}

/// Yields its series, then fails with `err` if set.
struct ScriptedSet {
    series: VecDeque<BoxSeries>,
    err: Option<StorageError>,
    failed: bool,
    warnings: Warnings,
}

impl ScriptedSet {
    fn new(series: Vec<BoxSeries>, err: Option<StorageError>) -> Self {
        ScriptedSet {
            series: series.into(),
            err,
            failed: false,
            warnings: Warnings::new(),
        }
    }
}

impl SeriesSet for ScriptedSet {
    fn next(&mut self) -> Option<BoxSeries> {
        let s = self.series.pop_front();
        self.failed = s.is_none() && self.err.is_some();
        s
    }

    fn err(&self) -> Option<&StorageError> {
        self.err.as_ref().filter(|_| self.failed)
    }

    fn warnings(&self) -> Warnings {
        self.warnings.clone()
    }
}

/// A querier over fixed series (sorted on request) and label answers.
struct FixedQuerier {
    series: Vec<(Labels, Vec<(i64, f64)>)>,
    select_err: Option<StorageError>,
    label_err: Option<StorageError>,
    values: Vec<String>,
}

impl FixedQuerier {
    fn new(series: &[(&str, &[(i64, f64)])]) -> Self {
        FixedQuerier {
            series: series.iter().map(|(j, s)| (lbl(j), s.to_vec())).collect(),
            select_err: None,
            label_err: None,
            values: Vec::new(),
        }
    }

    fn values(mut self, v: &[&str]) -> Self {
        self.values = v.iter().map(|s| s.to_string()).collect();
        self
    }

    fn failing(mut self, err: StorageError) -> Self {
        self.select_err = Some(err.clone());
        self.label_err = Some(err);
        self
    }
}

impl LabelQuerier for FixedQuerier {
    fn label_values(
        &self,
        _name: &str,
        _hints: Option<&LabelHints>,
        _matchers: &[Matcher],
    ) -> Result<(Vec<String>, Warnings)> {
        match &self.label_err {
            Some(e) => Err(e.clone()),
            None => Ok((self.values.clone(), Warnings::new())),
        }
    }

    fn label_names(
        &self,
        hints: Option<&LabelHints>,
        matchers: &[Matcher],
    ) -> Result<(Vec<String>, Warnings)> {
        self.label_values("", hints, matchers)
    }
}

impl Querier for FixedQuerier {
    fn select(
        &self,
        sort: bool,
        _hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> BoxSeriesSet {
        let mut picked: Vec<_> = self
            .series
            .iter()
            .filter(|(l, _)| matchers.iter().all(|m| m.matches(l.get_or_empty(m.name()))))
            .cloned()
            .collect();
        if sort {
            picked.sort_by(|a, b| a.0.cmp(&b.0));
        }
        let series = picked
            .into_iter()
            .map(|(l, s)| Box::new(ListSeries::from_floats(l, s)) as BoxSeries)
            .collect();
        Box::new(ScriptedSet::new(series, self.select_err.clone()))
    }
}

fn collect_set(set: &mut dyn SeriesSet) -> Vec<(String, Vec<(i64, f64)>)> {
    let mut out = Vec::new();
    while let Some(s) = set.next() {
        let job = s.labels().get_or_empty("job").to_owned();
        out.push((job, drain(s.iter().as_mut())));
    }
    out
}

#[test]
fn chain_interleaves_and_drops_repeated_timestamps() {
    let mut it = chain(&[
        &[(1, 1.0), (3, 3.0), (5, 5.0)],
        &[(2, 20.0), (3, 30.0), (6, 60.0)],
        &[(3, 300.0), (4, 400.0)],
    ]);
    assert_eq!(
        drain(&mut it),
        [
            (1, 1.0),
            (2, 20.0),
            (3, 3.0),
            (4, 400.0),
            (5, 5.0),
            (6, 60.0)
        ],
        "the first series wins a shared timestamp"
    );
    assert_eq!(it.next(), ValueType::None);
    assert!(it.err().is_none());
}

#[test]
fn chain_of_identical_series_is_that_series() {
    let s: &[(i64, f64)] = &[(1, 1.0), (2, 2.0)];
    assert_eq!(drain(&mut chain(&[s, s, s])), s);
}

#[test]
fn chain_with_empty_members() {
    assert_eq!(drain(&mut chain(&[&[], &[(7, 7.0)], &[]])), [(7, 7.0)]);
    assert_eq!(drain(&mut chain(&[&[], &[]])), []);
    assert_eq!(drain(&mut chain(&[])), []);
}

#[test]
fn chain_seek_semantics() {
    let mut it = chain(&[&[(10, 1.0), (30, 3.0)], &[(20, 2.0), (40, 4.0)]]);
    assert_eq!(it.seek(15), ValueType::Float);
    assert_eq!(it.at(), (20, 2.0));
    // Never backwards, and a no-op at the current time.
    assert_eq!(it.seek(0), ValueType::Float);
    assert_eq!(it.at_t(), 20);
    assert_eq!(it.seek(20), ValueType::Float);
    assert_eq!(it.at_t(), 20);
    assert_eq!(it.next(), ValueType::Float);
    assert_eq!(it.at_t(), 30);
    assert_eq!(it.seek(31), ValueType::Float);
    assert_eq!(it.at(), (40, 4.0));
    assert_eq!(it.seek(41), ValueType::None);
    assert_eq!(it.seek(0), ValueType::None);
    assert_eq!(it.next(), ValueType::None);
}

#[test]
fn chain_seek_past_duplicates() {
    let mut it = chain(&[&[(10, 1.0), (20, 2.0)], &[(10, 9.0), (20, 9.0), (30, 9.0)]]);
    assert_eq!(it.seek(20), ValueType::Float);
    assert_eq!(it.at(), (20, 2.0));
    assert_eq!(drain(&mut it), [(30, 9.0)]);
}

#[test]
fn chain_reports_member_error() {
    let mut it = ChainIterator::new(vec![
        series("a", &[(1, 1.0)]).iter(),
        Box::new(ErrorIterator(StorageError::NotFound)),
    ]);
    assert_eq!(it.next(), ValueType::None);
    assert!(matches!(it.err(), Some(StorageError::NotFound)));
    assert_eq!(it.seek(0), ValueType::None);
}

/// The batch read must return what walking sample by sample returns, across members,
/// repeated timestamps and windows that overlap or skip ahead.
#[test]
fn chain_fill_matches_the_sample_walk() {
    let parts: [&[(i64, f64)]; 3] = [
        &[(1, 1.0), (2, 2.0), (3, 3.0), (10, 10.0), (11, 11.0)],
        &[(3, 30.0), (4, 40.0), (5, 50.0), (11, 110.0), (12, 120.0)],
        &[(6, 600.0), (7, 700.0), (20, 2000.0)],
    ];
    let all = drain(&mut chain(&parts));
    let windows = [
        (0, 4),
        (3, 8),
        (8, 9),
        (9, 11),
        (11, 11),
        (13, 19),
        (15, 25),
        (30, 40),
    ];
    let mut it = chain(&parts);
    // Samples already passed are not returned again.
    let mut passed = i64::MIN;
    for (mint, maxt) in windows {
        let (mut floats, mut hists) = (Vec::new(), Vec::new());
        let vt = it.fill(mint, maxt, &mut floats, &mut hists);
        let got: Vec<(i64, f64)> = floats.iter().map(|s| (s.t, s.v)).collect();
        let want: Vec<(i64, f64)> = all
            .iter()
            .copied()
            .filter(|&(t, _)| t >= mint && t > passed && t <= maxt)
            .collect();
        assert_eq!(got, want, "window [{mint}, {maxt}]");
        passed = passed.max(maxt);
        assert!(hists.is_empty());
        let next = all.iter().find(|&&(t, _)| t > maxt);
        assert_eq!(vt.is_some(), next.is_some(), "window [{mint}, {maxt}]");
        if let Some(&(t, _)) = next {
            assert_eq!(it.at_t(), t);
        }
    }
}

/// `ChainSeries::fill_range` concatenates members only when that is what the merge returns:
/// compared with the merging iterator for members in order, overlapping, out of order, empty,
/// and holding histograms.
#[test]
fn chain_series_fill_range_matches_the_merge() {
    use crate::series::fill_range_by_iter;

    let h = SeriesSample::histogram(8, Histogram::default());
    let floats = |samples: &[(i64, f64)]| -> Vec<SeriesSample> {
        samples
            .iter()
            .map(|&(t, v)| SeriesSample::float(t, v))
            .collect()
    };
    let cases: [Vec<Vec<SeriesSample>>; 5] = [
        vec![floats(&[(1, 1.0), (2, 2.0)]), floats(&[(3, 3.0), (9, 9.0)])],
        vec![
            floats(&[(1, 1.0), (5, 5.0)]),
            floats(&[(3, 30.0), (5, 50.0), (6, 6.0)]),
        ],
        vec![floats(&[(6, 6.0), (7, 7.0)]), floats(&[(1, 1.0), (2, 2.0)])],
        vec![
            floats(&[]),
            floats(&[(2, 2.0)]),
            floats(&[]),
            floats(&[(4, 4.0)]),
        ],
        vec![floats(&[(1, 1.0)]), vec![SeriesSample::float(3, 3.0), h]],
    ];
    for (i, parts) in cases.into_iter().enumerate() {
        let members: Vec<BoxSeries> = parts
            .into_iter()
            .map(|p| Box::new(ListSeries::new(lbl("a"), p)) as BoxSeries)
            .collect();
        let chained = ChainSeries::new(lbl("a"), members);
        for (mint, maxt) in [(i64::MIN, i64::MAX), (2, 5), (4, 4), (10, 20)] {
            let (mut f1, mut h1) = (vec![Sample { t: -1, v: 0.0 }], Vec::new());
            let (mut f2, mut h2) = (f1.clone(), Vec::new());
            chained.fill_range(mint, maxt, &mut f1, &mut h1).unwrap();
            fill_range_by_iter(&chained, mint, maxt, &mut f2, &mut h2).unwrap();
            assert_eq!(f1, f2, "case {i}, [{mint}, {maxt}]");
            assert_eq!(h1, h2, "case {i}, [{mint}, {maxt}]");
        }
    }
}

#[test]
fn chain_resets_counter_hints_when_switching_source() {
    let h = |count: u64, hint| Histogram {
        counter_reset_hint: hint,
        count,
        ..Histogram::default()
    };
    let not_reset = CounterResetHint::NotCounterReset;
    let a = ListSeries::new(
        lbl("a"),
        vec![
            SeriesSample::histogram(1, h(1, not_reset)),
            SeriesSample::histogram(2, h(2, not_reset)),
            SeriesSample::histogram(5, h(5, CounterResetHint::Gauge)),
        ],
    );
    let b = ListSeries::new(lbl("a"), vec![SeriesSample::histogram(3, h(3, not_reset))]);
    let mut it = ChainIterator::new(vec![a.iter(), b.iter()]);
    let mut hints = Vec::new();
    let mut got = Histogram::default();
    let mut got_f = FloatHistogram::default();
    while it.next() == ValueType::Histogram {
        it.at_histogram(&mut got);
        it.at_float_histogram(&mut got_f);
        assert_eq!(got.counter_reset_hint, got_f.counter_reset_hint);
        hints.push((got.count, got.counter_reset_hint));
    }
    use CounterResetHint::*;
    assert_eq!(
        hints,
        [(1, Unknown), (2, NotCounterReset), (3, Unknown), (5, Gauge)]
    );
}

#[test]
fn merge_set_orders_and_merges_equal_labels() {
    let sets: Vec<BoxSeriesSet> = vec![
        Box::new(ScriptedSet::new(
            vec![series("a", &[(1, 1.0)]), series("c", &[(1, 1.0)])],
            None,
        )),
        Box::new(ScriptedSet::new(
            vec![series("a", &[(2, 2.0)]), series("b", &[(5, 5.0)])],
            None,
        )),
        Box::new(ScriptedSet::new(
            vec![series("c", &[(1, 9.0), (3, 3.0)])],
            None,
        )),
    ];
    let mut set = MergeSeriesSet::new(sets);
    assert_eq!(
        collect_set(&mut set),
        [
            ("a".to_string(), vec![(1, 1.0), (2, 2.0)]),
            ("b".to_string(), vec![(5, 5.0)]),
            ("c".to_string(), vec![(1, 1.0), (3, 3.0)]),
        ]
    );
    assert!(set.err().is_none());
}

#[test]
fn merge_set_stops_at_first_error() {
    let mut failing = ScriptedSet::new(vec![series("a", &[])], Some(StorageError::OutOfBounds));
    failing.warnings.push("w1");
    let sets: Vec<BoxSeriesSet> = vec![
        Box::new(ScriptedSet::new(
            vec![series("a", &[]), series("b", &[]), series("c", &[])],
            None,
        )),
        Box::new(failing),
    ];
    let mut set = MergeSeriesSet::new(sets);
    let mut seen = 0;
    while set.next().is_some() {
        seen += 1;
    }
    assert!(seen < 3, "iteration must stop after the failure");
    assert!(matches!(set.err(), Some(StorageError::OutOfBounds)));
    assert_eq!(set.warnings().iter().collect::<Vec<_>>(), ["w1"]);
}

fn eq(name: &str, value: &str) -> Matcher {
    Matcher::new(MatchType::Equal, name, value).unwrap()
}

#[test]
fn merge_querier_merges_sorted_and_honours_matchers() {
    let q = MergeQuerier::new(
        vec![Box::new(FixedQuerier::new(&[
            ("b", &[(1, 1.0)]),
            ("a", &[(1, 1.0), (3, 3.0)]),
        ]))],
        vec![Box::new(FixedQuerier::new(&[
            ("c", &[(1, 1.0)]),
            ("a", &[(1, 7.0), (2, 2.0)]),
        ]))],
    );
    let mut set = q.select(false, None, &[eq("__name__", "up")]);
    assert_eq!(
        collect_set(set.as_mut()),
        [
            ("a".to_string(), vec![(1, 1.0), (2, 2.0), (3, 3.0)]),
            ("b".to_string(), vec![(1, 1.0)]),
            ("c".to_string(), vec![(1, 1.0)]),
        ],
        "several queriers give a sorted result even when unsorted was asked"
    );
    let mut set = q.select(true, None, &[eq("job", "c")]);
    assert_eq!(collect_set(set.as_mut()).len(), 1);
}

#[test]
fn lone_querier_is_passed_through_unsorted() {
    let q = MergeQuerier::boxed(
        vec![Box::new(FixedQuerier::new(&[("b", &[]), ("a", &[])]))],
        vec![],
    );
    let mut set = q.select(false, None, &[]);
    let jobs: Vec<_> = collect_set(set.as_mut())
        .into_iter()
        .map(|(j, _)| j)
        .collect();
    assert_eq!(jobs, ["b", "a"]);
}

#[test]
fn secondary_failure_is_a_warning_primary_failure_an_error() {
    let q = MergeQuerier::new(
        vec![Box::new(FixedQuerier::new(&[("a", &[(1, 1.0)])]))],
        vec![Box::new(
            FixedQuerier::new(&[]).failing(StorageError::OutOfOrderSample),
        )],
    );
    let mut set = q.select(true, None, &[]);
    assert_eq!(collect_set(set.as_mut()).len(), 1);
    assert!(set.err().is_none());
    assert_eq!(
        set.warnings().iter().collect::<Vec<_>>(),
        ["out of order sample"]
    );

    let q = MergeQuerier::new(
        vec![Box::new(
            FixedQuerier::new(&[]).failing(StorageError::NotFound),
        )],
        vec![Box::new(FixedQuerier::new(&[("a", &[(1, 1.0)])]))],
    );
    let mut set = q.select(true, None, &[]);
    collect_set(set.as_mut());
    assert!(matches!(set.err(), Some(StorageError::NotFound)));
}

#[test]
fn lone_secondary_failure_is_still_a_warning() {
    let q = MergeQuerier::new(
        vec![],
        vec![Box::new(
            FixedQuerier::new(&[]).failing(StorageError::NotFound),
        )],
    );
    let mut set = q.select(true, None, &[]);
    assert!(set.next().is_none());
    assert!(set.err().is_none());
    assert_eq!(set.warnings().len(), 1);
}

#[test]
fn secondary_failure_after_data_stays_an_error() {
    let mut inner = SecondarySet::new(Box::new(ScriptedSet::new(
        vec![series("a", &[])],
        Some(StorageError::NotFound),
    )));
    assert!(inner.next().is_some());
    assert!(inner.next().is_none());
    assert!(matches!(inner.err(), Some(StorageError::NotFound)));
}

#[test]
fn label_values_merge_unique_sorted_with_limit() {
    let q = MergeQuerier::new(
        vec![Box::new(FixedQuerier::new(&[]).values(&["a", "c", "e"]))],
        vec![
            Box::new(FixedQuerier::new(&[]).values(&["b", "c", "d"])),
            Box::new(FixedQuerier::new(&[]).failing(StorageError::NotFound)),
        ],
    );
    let (values, warnings) = q.label_values("job", None, &[]).unwrap();
    assert_eq!(values, ["a", "b", "c", "d", "e"]);
    assert_eq!(warnings.iter().collect::<Vec<_>>(), ["not found"]);
    let (names, _) = q.label_names(Some(&LabelHints { limit: 2 }), &[]).unwrap();
    assert_eq!(names, ["a", "b"]);

    let failing_primary = MergeQuerier::new(
        vec![Box::new(
            FixedQuerier::new(&[]).failing(StorageError::NotFound),
        )],
        vec![Box::new(FixedQuerier::new(&[]).values(&["x"]))],
    );
    assert!(failing_primary.label_values("job", None, &[]).is_err());
}

#[test]
fn merge_sorted_strings_unions() {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        merge_sorted_strings(vec![s(&["b", "d"]), s(&["a", "b", "z"]), s(&[])]),
        s(&["a", "b", "d", "z"])
    );
    assert!(merge_sorted_strings(vec![]).is_empty());
}

#[test]
fn series_limit_applies_to_the_merged_result() {
    let q = MergeQuerier::new(
        vec![Box::new(FixedQuerier::new(&[("a", &[]), ("c", &[])]))],
        vec![Box::new(FixedQuerier::new(&[("b", &[]), ("d", &[])]))],
    );
    let hints = SelectHints {
        limit: 3,
        ..SelectHints::default()
    };
    let mut set = q.select(true, Some(&hints), &[]);
    let jobs: Vec<_> = collect_set(set.as_mut())
        .into_iter()
        .map(|(j, _)| j)
        .collect();
    assert_eq!(jobs, ["a", "b", "c"]);
}
