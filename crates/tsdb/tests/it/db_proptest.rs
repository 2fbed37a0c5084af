//! Random appends, compactions and restarts of a `Db` against a simple model: every sample the
//! database accepted and committed is read back exactly once, from the head, the blocks or
//! both, whatever was compacted or replayed in between.

use std::collections::BTreeMap;

use pm_common::metrics::Registry;
use pm_common::model::{Labels, MatchType, Matcher};
use pm_storage::{Appendable, Queryable, SeriesRef, ValueType};
use pm_tsdb::db::{Db, DbOptions};
use proptest::prelude::*;

type Model = BTreeMap<Labels, BTreeMap<i64, u64>>;

#[derive(Clone, Debug)]
enum Step {
    /// Moves the clock forward by `advance` ms, then appends `(series, offset, value)`.
    Append {
        advance: i64,
        samples: Vec<(usize, i64, u8)>,
        commit: bool,
    },
    Compact,
    Reopen,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0..2_500i64, prop::collection::vec((0..3usize, 0..500i64, any::<u8>()), 1..20), prop::bool::weighted(0.9))
            .prop_map(|(advance, samples, commit)| Step::Append { advance, samples, commit }),
        2 => Just(Step::Compact),
        1 => Just(Step::Reopen),
    ]
}

fn opts() -> DbOptions {
    DbOptions {
        retention_duration: 0,
        min_block_duration: 1_000,
        max_block_duration: 9_000,
        ..DbOptions::default()
    }
}

fn read(db: &Db) -> Model {
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let m = Matcher::new(MatchType::Equal, "__name__", "p").unwrap();
    let mut set = q.select(true, None, &[m]);
    let mut out = Model::new();
    while let Some(s) = set.next() {
        let mut it = s.iter();
        let samples = out.entry(s.labels().clone()).or_default();
        let mut last = i64::MIN;
        while it.next() == ValueType::Float {
            let (t, v) = it.at();
            assert!(t > last, "samples out of order or repeated at {t}");
            last = t;
            samples.insert(t, v.to_bits());
        }
        assert!(it.err().is_none(), "{:?}", it.err());
    }
    assert!(set.err().is_none(), "{:?}", set.err());
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn db_keeps_every_committed_sample(steps in prop::collection::vec(step(), 1..30)) {
        let dir = tempfile::tempdir().unwrap();
        let labels: Vec<_> = (0..3)
            .map(|i| Labels::from_pairs([("__name__", "p"), ("i", &i.to_string())]))
            .collect();
        let mut db = Some(Db::open(dir.path(), opts(), &Registry::new()).unwrap());
        let mut model = Model::new();
        let mut clock = 0;
        for step in steps {
            match step {
                Step::Append { advance, samples, commit } => {
                    clock += advance;
                    let d = db.as_ref().unwrap();
                    let mut app = d.appender();
                    let mut accepted = Vec::new();
                    for (i, offset, v) in samples {
                        let (t, v) = (clock + offset, f64::from(v));
                        if app.append(SeriesRef::UNKNOWN, &labels[i], t, v).is_ok() {
                            accepted.push((i, t, v));
                        }
                    }
                    if commit {
                        app.commit().unwrap();
                        for (i, t, v) in accepted {
                            // A repeat of the newest timestamp with the same value is accepted
                            // without storing anything new.
                            model.entry(labels[i].clone()).or_default().entry(t).or_insert(v.to_bits());
                        }
                    } else {
                        app.rollback().unwrap();
                    }
                }
                Step::Compact => db.as_ref().unwrap().compact().unwrap(),
                Step::Reopen => {
                    db.take().unwrap().close().unwrap();
                    db = Some(Db::open(dir.path(), opts(), &Registry::new()).unwrap());
                }
            }
            prop_assert_eq!(read(db.as_ref().unwrap()), model.clone());
        }
    }
}
