//! `performance_schema` table lock, table I/O and index I/O wait summaries: event counts and
//! their time (picoseconds in the server, seconds here) per table or index and operation.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};
use pm_common::metrics::ConstKind;

use super::{Sink, cell, numbers};
use crate::error::ScrapeError;

const PICOSECONDS: f64 = 1e12;
const OPERATIONS: [&str; 4] = ["fetch", "insert", "update", "delete"];

const TABLE_QUERY: &str = "SELECT OBJECT_SCHEMA, OBJECT_NAME, \
     COUNT_FETCH, COUNT_INSERT, COUNT_UPDATE, COUNT_DELETE, \
     SUM_TIMER_FETCH, SUM_TIMER_INSERT, SUM_TIMER_UPDATE, SUM_TIMER_DELETE \
     FROM performance_schema.table_io_waits_summary_by_table \
     WHERE OBJECT_SCHEMA NOT IN ('mysql', 'performance_schema')";

const INDEX_QUERY: &str = "SELECT OBJECT_SCHEMA, OBJECT_NAME, ifnull(INDEX_NAME, 'NONE') as INDEX_NAME, \
     COUNT_FETCH, COUNT_INSERT, COUNT_UPDATE, COUNT_DELETE, \
     SUM_TIMER_FETCH, SUM_TIMER_INSERT, SUM_TIMER_UPDATE, SUM_TIMER_DELETE \
     FROM performance_schema.table_io_waits_summary_by_index_usage \
     WHERE OBJECT_SCHEMA NOT IN ('mysql', 'performance_schema')";

/// The lock kinds of `table_lock_waits_summary_by_table`, in column order; the external ones
/// go to their own families as `read`/`write`.
const LOCKS: [(&str, bool); 10] = [
    ("read_normal", false),
    ("read_with_shared_locks", false),
    ("read_high_priority", false),
    ("read_no_insert", false),
    ("read", true),
    ("write_allow_write", false),
    ("write_concurrent_insert", false),
    ("write_low_priority", false),
    ("write_normal", false),
    ("write", true),
];

const LOCK_QUERY: &str = "SELECT OBJECT_SCHEMA, OBJECT_NAME, \
     COUNT_READ_NORMAL, COUNT_READ_WITH_SHARED_LOCKS, COUNT_READ_HIGH_PRIORITY, \
     COUNT_READ_NO_INSERT, COUNT_READ_EXTERNAL, COUNT_WRITE_ALLOW_WRITE, \
     COUNT_WRITE_CONCURRENT_INSERT, COUNT_WRITE_LOW_PRIORITY, COUNT_WRITE_NORMAL, \
     COUNT_WRITE_EXTERNAL, SUM_TIMER_READ_NORMAL, SUM_TIMER_READ_WITH_SHARED_LOCKS, \
     SUM_TIMER_READ_HIGH_PRIORITY, SUM_TIMER_READ_NO_INSERT, SUM_TIMER_READ_EXTERNAL, \
     SUM_TIMER_WRITE_ALLOW_WRITE, SUM_TIMER_WRITE_CONCURRENT_INSERT, \
     SUM_TIMER_WRITE_LOW_PRIORITY, SUM_TIMER_WRITE_NORMAL, SUM_TIMER_WRITE_EXTERNAL \
     FROM performance_schema.table_lock_waits_summary_by_table \
     WHERE OBJECT_SCHEMA NOT IN ('mysql', 'performance_schema', 'information_schema')";

pub async fn scrape_table_lock_waits(conn: &mut Conn, sink: &mut Sink) -> Result<(), ScrapeError> {
    let rows: Vec<Row> = conn.query(LOCK_QUERY).await?;
    for row in &rows {
        let schema = String::from_utf8_lossy(cell(row, 0));
        let name = String::from_utf8_lossy(cell(row, 1));
        let v = numbers::<20>(row, 2)?;
        for (i, (operation, external)) in LOCKS.into_iter().enumerate() {
            let labels = [
                ("schema", &*schema),
                ("name", &*name),
                ("operation", operation),
            ];
            let (count, time) = if external {
                (
                    (
                        "mysql_perf_schema_external_lock_waits_total",
                        "The total number of external lock wait events for each table and operation.",
                    ),
                    (
                        "mysql_perf_schema_external_lock_waits_seconds_total",
                        "The total time of external lock wait events for each table and operation.",
                    ),
                )
            } else {
                (
                    (
                        "mysql_perf_schema_sql_lock_waits_total",
                        "The total number of SQL lock wait events for each table and operation.",
                    ),
                    (
                        "mysql_perf_schema_sql_lock_waits_seconds_total",
                        "The total time of SQL lock wait events for each table and operation.",
                    ),
                )
            };
            sink.push(count.0, count.1, ConstKind::Counter, &labels, v[i]);
            sink.push(
                time.0,
                time.1,
                ConstKind::Counter,
                &labels,
                v[i + 10] / PICOSECONDS,
            );
        }
    }
    Ok(())
}

pub async fn scrape_table_io_waits(conn: &mut Conn, sink: &mut Sink) -> Result<(), ScrapeError> {
    let rows: Vec<Row> = conn.query(TABLE_QUERY).await?;
    for row in &rows {
        let schema = String::from_utf8_lossy(cell(row, 0));
        let name = String::from_utf8_lossy(cell(row, 1));
        let v = numbers::<8>(row, 2)?;
        for (i, operation) in OPERATIONS.into_iter().enumerate() {
            let labels = [
                ("schema", &*schema),
                ("name", &*name),
                ("operation", operation),
            ];
            sink.push(
                "mysql_perf_schema_table_io_waits_total",
                "The total number of table I/O wait events for each table and operation.",
                ConstKind::Counter,
                &labels,
                v[i],
            );
            sink.push(
                "mysql_perf_schema_table_io_waits_seconds_total",
                "The total time of table I/O wait events for each table and operation.",
                ConstKind::Counter,
                &labels,
                v[i + 4] / PICOSECONDS,
            );
        }
    }
    Ok(())
}

pub async fn scrape_index_io_waits(conn: &mut Conn, sink: &mut Sink) -> Result<(), ScrapeError> {
    let rows: Vec<Row> = conn.query(INDEX_QUERY).await?;
    for row in &rows {
        let schema = String::from_utf8_lossy(cell(row, 0));
        let name = String::from_utf8_lossy(cell(row, 1));
        let index = String::from_utf8_lossy(cell(row, 2));
        let v = numbers::<8>(row, 3)?;
        for (i, operation) in OPERATIONS.into_iter().enumerate() {
            // Inserts touch no index: upstream reports them only for the NONE row.
            if operation == "insert" && index != "NONE" {
                continue;
            }
            let labels = [
                ("schema", &*schema),
                ("name", &*name),
                ("index", &*index),
                ("operation", operation),
            ];
            sink.push(
                "mysql_perf_schema_index_io_waits_total",
                "The total number of index I/O wait events for each index and operation.",
                ConstKind::Counter,
                &labels,
                v[i],
            );
            sink.push(
                "mysql_perf_schema_index_io_waits_seconds_total",
                "The total time of index I/O wait events for each index and operation.",
                ConstKind::Counter,
                &labels,
                v[i + 4] / PICOSECONDS,
            );
        }
    }
    Ok(())
}
