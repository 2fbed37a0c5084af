//! Kill -9 a process that appends to the head, reopen, and check that every acknowledged
//! commit survived and nothing uncommitted appeared.

use std::path::Path;

use pm_common::model::{Labels, MatchType, Matcher};
use pm_storage::{Appendable, Queryable, SeriesRef, ValueType};
use pm_tsdb::head::{Head, HeadOptions};

use crate::kill_rounds::KillRounds;

const CHILD_ENV: &str = "PM_TSDB_CRASH_CHILD_DIR";
const SERIES: usize = 20;
/// Marks samples of transactions that are rolled back; they must never be read back.
const ROLLED_BACK: f64 = -1.0;

fn series_labels(i: usize) -> Labels {
    Labels::from_pairs([("__name__", "crash"), ("i", &i.to_string())])
}

/// Every series' samples, by series index.
fn read_back(dir: &Path) -> Vec<Vec<(i64, f64)>> {
    let (head, _) = Head::open(dir, HeadOptions::default()).expect("reopen after crash");
    let q = head.querier(i64::MIN, i64::MAX).unwrap();
    let m = Matcher::new(MatchType::Equal, "__name__", "crash").unwrap();
    let mut set = q.select(true, None, &[m]);
    let mut out = vec![Vec::new(); SERIES];
    while let Some(s) = set.next() {
        let i: usize = s.labels().get("i").unwrap().parse().unwrap();
        let mut it = s.iter();
        while it.next() == ValueType::Float {
            out[i].push(it.at());
        }
    }
    assert!(set.err().is_none());
    out
}

/// The child: continue after the newest batch in the head, committing batch `b` as one
/// sample per series at `t = b * 1000` with value `b`, and reporting each commit.
#[test]
fn crash_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (head, _) = Head::open(&dir, HeadOptions::default()).unwrap();
    let start = if head.max_time() == i64::MIN {
        0
    } else {
        head.max_time() / 1000 + 1
    };
    let labels: Vec<_> = (0..SERIES).map(series_labels).collect();
    let mut refs = [SeriesRef::UNKNOWN; SERIES];
    for b in start..start + 100_000 {
        let mut app = Appendable::appender(&head);
        for (i, l) in labels.iter().enumerate() {
            refs[i] = app.append(refs[i], l, b * 1000, b as f64).unwrap();
        }
        app.commit().unwrap();
        println!("committed {b}");
        let mut app = Appendable::appender(&head);
        app.append(refs[0], &labels[0], b * 1000 + 500, ROLLED_BACK)
            .unwrap();
        app.rollback().unwrap();
    }
}

#[test]
fn sigkill_never_loses_committed_samples() {
    let dir = tempfile::tempdir().unwrap();
    let rounds = KillRounds {
        child: "crash_head::crash_child",
        env: CHILD_ENV,
        rounds: 20,
        max_batches: 40,
        seed: 0x2545_f491_4f6c_dd1d,
    };
    rounds.run(dir.path(), |round, acked| {
        let got = read_back(dir.path());
        for (i, samples) in got.iter().enumerate() {
            assert!(
                samples.iter().all(|&(_, v)| v != ROLLED_BACK),
                "round {round}: a rolled-back sample of series {i} survived"
            );
            // Batches 0..=acked were acknowledged; one more may have committed unreported.
            let want: Vec<_> = (0..=acked).map(|b| (b * 1000, b as f64)).collect();
            assert!(
                samples.len() as i64 == acked + 1 || samples.len() as i64 == acked + 2,
                "round {round}: series {i} holds {} samples, acked {}",
                samples.len(),
                acked + 1
            );
            assert_eq!(samples[..want.len()], want[..], "round {round}: series {i}");
        }
        // A commit is atomic: the unreported batch is in every series or in none.
        let lens: Vec<_> = got.iter().map(Vec::len).collect();
        assert!(
            lens.iter().all(|&l| l == lens[0]),
            "round {round}: torn commit {lens:?}"
        );
        lens[0] as i64 - 1
    });
}
