//! Kill -9 a process that appends to a `Db` and compacts as it goes (head → blocks → merged
//! blocks), reopen, and check that every acknowledged commit is there exactly once and that
//! no leftovers of an interrupted block write or deletion remain.

use std::path::Path;

use pm_common::metrics::Registry;
use pm_common::model::{Labels, MatchType, Matcher};
use pm_storage::{Appendable, Queryable, SeriesRef, ValueType};
use pm_tsdb::db::{Db, DbOptions};

use crate::kill_rounds::KillRounds;

const CHILD_ENV: &str = "PM_TSDB_CRASH_DB_CHILD_DIR";
const SERIES: usize = 5;

fn opts() -> DbOptions {
    DbOptions {
        retention_duration: 0,
        min_block_duration: 10_000,
        max_block_duration: 90_000,
        ..DbOptions::default()
    }
}

fn series_labels(i: usize) -> Labels {
    Labels::from_pairs([("__name__", "crash"), ("i", &i.to_string())])
}

/// Every series' samples, by series index, checking they strictly increase in time.
fn read_back(db: &Db) -> Vec<Vec<(i64, f64)>> {
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let m = Matcher::new(MatchType::Equal, "__name__", "crash").unwrap();
    let mut set = q.select(true, None, &[m]);
    let mut out = vec![Vec::new(); SERIES];
    while let Some(s) = set.next() {
        let i: usize = s.labels().get("i").unwrap().parse().unwrap();
        let mut it = s.iter();
        while it.next() == ValueType::Float {
            let (t, v) = it.at();
            assert!(
                out[i].last().is_none_or(|&(last, _)| last < t),
                "repeat at {t}"
            );
            out[i].push((t, v));
        }
        assert!(it.err().is_none(), "{:?}", it.err());
    }
    assert!(set.err().is_none(), "{:?}", set.err());
    out
}

/// The child: batch `b` is one sample per series at `t = b * 1000`, value `b`; every third
/// batch it compacts.
#[test]
fn crash_db_child() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let db = Db::open(&dir, opts(), &Registry::new()).unwrap();
    let newest = read_back(&db)[0].last().map(|&(t, _)| t);
    let start = newest.map_or(0, |t| t / 1000 + 1);
    let labels: Vec<_> = (0..SERIES).map(series_labels).collect();
    for b in start..start + 100_000 {
        let mut app = db.appender();
        for l in &labels {
            app.append(SeriesRef::UNKNOWN, l, b * 1000, b as f64)
                .unwrap();
        }
        app.commit().unwrap();
        println!("committed {b}");
        if b % 3 == 0 {
            db.compact().unwrap();
        }
    }
}

fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains(".tmp"))
        .collect()
}

#[test]
fn sigkill_during_compaction_never_loses_or_repeats_samples() {
    let dir = tempfile::tempdir().unwrap();
    let rounds = KillRounds {
        child: "crash_db::crash_db_child",
        env: CHILD_ENV,
        rounds: 12,
        max_batches: 60,
        seed: 0x9e37_79b9_7f4a_7c15,
    };
    rounds.run(dir.path(), |round, acked| {
        let db = Db::open(dir.path(), opts(), &Registry::new()).unwrap();
        assert!(
            leftovers(dir.path()).is_empty(),
            "round {round}: {:?}",
            leftovers(dir.path())
        );
        let got = read_back(&db);
        for (i, samples) in got.iter().enumerate() {
            let want: Vec<_> = (0..=acked).map(|b| (b * 1000, b as f64)).collect();
            // One more batch may have committed without being reported.
            assert!(
                samples.len() == want.len() || samples.len() == want.len() + 1,
                "round {round}: series {i} holds {} samples, acked {}",
                samples.len(),
                want.len()
            );
            assert_eq!(samples[..want.len()], want[..], "round {round}: series {i}");
        }
        db.close().unwrap();
        got[0].len() as i64 - 1
    });
    // The rounds did reach compaction: merged blocks exist.
    let db = Db::open(dir.path(), opts(), &Registry::new()).unwrap();
    assert!(db.blocks().iter().any(|b| b.meta().compaction.level >= 2));
}
