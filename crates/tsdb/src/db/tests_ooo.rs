use pm_common::metrics::Registry;
use pm_storage::{Appendable, SeriesRef};

use super::tests::{H, append, expected, labels, read};
use super::*;

fn ooo_opts() -> DbOptions {
    DbOptions {
        retention_duration: 0,
        out_of_order_time_window: 4 * H,
        ..DbOptions::default()
    }
}

/// An out-of-order sample older than the newest block survives a restart (from the WBL) and
/// is persisted by the next compaction; after it, the head and WBL no longer hold it.
#[test]
fn out_of_order_sample_before_the_newest_block_is_kept_and_compacted() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), ooo_opts(), &Registry::new()).unwrap();
    append(&db, 1, 0, 13 * H);
    db.compact().unwrap();
    assert_eq!(db.head().min_time(), 10 * H);
    let late = 9 * H + 30_000;
    let mut app = db.appender();
    app.append(SeriesRef::UNKNOWN, &labels(0), late, -1.0)
        .unwrap();
    app.commit().unwrap();
    let mut want = expected(1, 0, 13 * H);
    let at = want[0].1.partition_point(|s| s.0 < late);
    want[0].1.insert(at, (late, -1.0));
    assert_eq!(read(&db, 0, 13 * H), want);
    db.close().unwrap();

    let db = Db::open(dir.path(), ooo_opts(), &Registry::new()).unwrap();
    assert_eq!(read(&db, 0, 13 * H), want);
    assert_eq!(db.head().min_time(), late);
    db.compact().unwrap();
    assert_eq!(db.head().min_time(), 10 * H);
    assert_eq!(read(&db, 0, 13 * H), want);
    db.close().unwrap();

    let db = Db::open(dir.path(), ooo_opts(), &Registry::new()).unwrap();
    assert_eq!(read(&db, 0, 13 * H), want);
    assert_eq!(db.head().min_time(), 10 * H);
}
