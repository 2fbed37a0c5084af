//! `performance_schema` table and index I/O wait summaries: event counts and their time
//! (picoseconds in the server, seconds here) per table or index and operation.

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
