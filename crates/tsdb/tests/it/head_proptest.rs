//! Random transactions against the head and against `MemStorage`, the reference model: every
//! append must get the same verdict and both must end up holding the same samples.

use pm_common::model::{Labels, MatchType, Matcher};
use pm_storage::{Appendable, MemStorage, Queryable, SeriesRef, ValueType};
use pm_tsdb::head::{Head, HeadOptions};
use proptest::prelude::*;

fn dump(q: &dyn Queryable) -> Vec<(Labels, Vec<(i64, u64)>)> {
    let q = q.querier(i64::MIN, i64::MAX).unwrap();
    let m = Matcher::new(MatchType::Regexp, "__name__", ".+").unwrap();
    let mut set = q.select(true, None, &[m]);
    let mut out = Vec::new();
    while let Some(s) = set.next() {
        let mut it = s.iter();
        let mut samples = Vec::new();
        while it.next() == ValueType::Float {
            let (t, v) = it.at();
            samples.push((t, v.to_bits()));
        }
        out.push((s.labels().clone(), samples));
    }
    out
}

#[derive(Clone, Debug)]
struct Txn {
    appends: Vec<(usize, i64, f64)>,
    commit: bool,
}

fn txn() -> impl Strategy<Value = Txn> {
    let value = prop_oneof![Just(f64::NAN), (0..3i32).prop_map(f64::from)];
    (
        prop::collection::vec((0..4usize, 0..400i64, value), 0..12),
        prop::bool::weighted(0.8),
    )
        .prop_map(|(appends, commit)| Txn { appends, commit })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn head_matches_the_reference_model(txns in prop::collection::vec(txn(), 1..25)) {
        let head = Head::in_memory(HeadOptions {
            chunk_range: 100_000,
            samples_per_chunk: 8,
            ..HeadOptions::default()
        });
        let model = MemStorage::new();
        let labels: Vec<_> = (0..4)
            .map(|i| Labels::from_pairs([("__name__", "p"), ("i", &i.to_string())]))
            .collect();
        for txn in txns {
            let mut a = Appendable::appender(&head);
            let mut b = model.appender();
            for &(i, t, v) in &txn.appends {
                let got = a.append(SeriesRef::UNKNOWN, &labels[i], t * 10, v).map(|_| ());
                let want = b.append(SeriesRef::UNKNOWN, &labels[i], t * 10, v).map(|_| ());
                prop_assert_eq!(
                    got.as_ref().map_err(ToString::to_string),
                    want.as_ref().map_err(ToString::to_string),
                    "append {} at {}", i, t * 10
                );
            }
            if txn.commit {
                a.commit().unwrap();
                b.commit().unwrap();
            } else {
                a.rollback().unwrap();
                b.rollback().unwrap();
            }
            prop_assert_eq!(dump(&head), dump(&model));
        }
    }
}
