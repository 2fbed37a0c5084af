use std::sync::Arc;

use pm_common::model::{Exemplar, FloatHistogram, Histogram, Labels, Metadata};

use super::*;
use crate::error::StorageError;
use crate::iterator::ValueType;
use crate::memstorage::MemStorage;
use crate::series::SampleValue;

fn lbl(job: &str) -> Labels {
    Labels::from_pairs([("__name__", "up"), ("job", job)])
}

fn floats(s: &MemStorage, l: &Labels) -> Vec<(i64, f64)> {
    s.samples(l)
        .into_iter()
        .filter_map(|x| match x.value {
            SampleValue::Float(v) => Some((x.t, v)),
            _ => None,
        })
        .collect()
}

/// A storage over a [`MemStorage`] whose commits (and, optionally, queriers) fail.
struct Broken {
    mem: MemStorage,
    fail_querier: bool,
}

struct BrokenAppender(Box<dyn Appender>);

impl Appender for BrokenAppender {
    fn set_options(&mut self, options: AppendOptions) {
        self.0.set_options(options)
    }
    fn append(&mut self, series: SeriesRef, labels: &Labels, t: i64, v: f64) -> Result<SeriesRef> {
        self.0.append(series, labels, t, v)
    }
    fn append_histogram(
        &mut self,
        series: SeriesRef,
        labels: &Labels,
        t: i64,
        h: Option<&Histogram>,
        fh: Option<&FloatHistogram>,
    ) -> Result<SeriesRef> {
        self.0.append_histogram(series, labels, t, h, fh)
    }
    fn append_exemplar(&mut self, s: SeriesRef, l: &Labels, e: &Exemplar) -> Result<SeriesRef> {
        self.0.append_exemplar(s, l, e)
    }
    fn update_metadata(&mut self, s: SeriesRef, l: &Labels, m: &Metadata) -> Result<SeriesRef> {
        self.0.update_metadata(s, l, m)
    }
    fn append_ct_zero(&mut self, s: SeriesRef, l: &Labels, t: i64, ct: i64) -> Result<SeriesRef> {
        self.0.append_ct_zero(s, l, t, ct)
    }
    fn append_histogram_ct_zero(
        &mut self,
        s: SeriesRef,
        l: &Labels,
        t: i64,
        ct: i64,
        h: Option<&Histogram>,
        fh: Option<&FloatHistogram>,
    ) -> Result<SeriesRef> {
        self.0.append_histogram_ct_zero(s, l, t, ct, h, fh)
    }
    fn commit(self: Box<Self>) -> Result<()> {
        self.0.rollback()?;
        Err(StorageError::other(std::io::Error::other("disk full")))
    }
    fn rollback(self: Box<Self>) -> Result<()> {
        self.0.rollback()
    }
}

impl Appendable for Broken {
    fn appender(&self) -> Box<dyn Appender> {
        Box::new(BrokenAppender(self.mem.appender()))
    }
}

impl Queryable for Broken {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier>> {
        if self.fail_querier {
            return Err(StorageError::NotFound);
        }
        self.mem.querier(mint, maxt)
    }
}

impl Storage for Broken {
    fn start_time(&self) -> Result<i64> {
        self.mem.start_time()
    }
}

#[test]
fn appends_reach_every_storage_and_reads_merge() {
    let (p, s1, s2) = (MemStorage::new(), MemStorage::new(), MemStorage::new());
    let fanout = Fanout::new(
        Arc::new(p.clone()),
        vec![Arc::new(s1.clone()), Arc::new(s2.clone())],
    );
    let l = lbl("a");
    let mut app = fanout.appender();
    let r = app.append(SeriesRef::UNKNOWN, &l, 10, 1.0).unwrap();
    app.append(r, &l, 20, 2.0).unwrap();
    app.commit().unwrap();
    for s in [&p, &s1, &s2] {
        assert_eq!(floats(s, &l), [(10, 1.0), (20, 2.0)]);
    }
    // Data only a secondary has shows up in reads, merged with the primary's.
    let mut app = s2.appender();
    app.append(SeriesRef::UNKNOWN, &l, 30, 3.0).unwrap();
    app.commit().unwrap();
    let q = fanout.querier(0, 100).unwrap();
    let mut set = q.select(false, None, &[]);
    let series = set.next().unwrap();
    let mut it = series.iter();
    let mut got = Vec::new();
    while it.next() == ValueType::Float {
        got.push(it.at());
    }
    assert_eq!(got, [(10, 1.0), (20, 2.0), (30, 3.0)]);
    assert!(set.next().is_none());
    assert_eq!(fanout.start_time().unwrap(), 10);
}

#[test]
fn primary_rejection_skips_secondaries() {
    let (p, s) = (MemStorage::new(), MemStorage::new());
    let fanout = Fanout::new(Arc::new(p.clone()), vec![Arc::new(s.clone())]);
    let l = lbl("a");
    p.set_min_valid_time(100);
    let mut app = fanout.appender();
    assert!(matches!(
        app.append(SeriesRef::UNKNOWN, &l, 50, 1.0),
        Err(StorageError::OutOfBounds)
    ));
    app.commit().unwrap();
    assert!(floats(&s, &l).is_empty());
}

#[test]
fn failed_secondary_commit_rolls_back_the_rest() {
    let (p, s2) = (MemStorage::new(), MemStorage::new());
    let broken = Broken {
        mem: MemStorage::new(),
        fail_querier: false,
    };
    let fanout = Fanout::new(
        Arc::new(p.clone()),
        vec![Arc::new(broken), Arc::new(s2.clone())],
    );
    let l = lbl("a");
    let mut app = fanout.appender();
    app.append(SeriesRef::UNKNOWN, &l, 10, 1.0).unwrap();
    let err = app.commit().unwrap_err();
    assert_eq!(err.to_string(), "disk full");
    assert_eq!(floats(&p, &l), [(10, 1.0)], "the primary committed first");
    assert!(floats(&s2, &l).is_empty(), "later secondaries rolled back");
}

#[test]
fn rollback_reaches_every_storage() {
    let (p, s) = (MemStorage::new(), MemStorage::new());
    let fanout = Fanout::new(Arc::new(p.clone()), vec![Arc::new(s.clone())]);
    let l = lbl("a");
    let mut app = fanout.appender();
    app.append(SeriesRef::UNKNOWN, &l, 10, 1.0).unwrap();
    app.rollback().unwrap();
    assert!(floats(&p, &l).is_empty() && floats(&s, &l).is_empty());
}

#[test]
fn a_secondary_that_cannot_open_a_querier_fails_the_query() {
    let fanout = Fanout::new(
        Arc::new(MemStorage::new()),
        vec![Arc::new(Broken {
            mem: MemStorage::new(),
            fail_querier: true,
        })],
    );
    assert!(matches!(fanout.querier(0, 1), Err(StorageError::NotFound)));
}
