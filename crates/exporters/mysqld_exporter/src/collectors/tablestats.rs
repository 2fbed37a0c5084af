//! `information_schema.table_statistics` (MariaDB and Percona with `userstat=1`): rows read
//! and changed per table.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};
use pm_common::metrics::ConstKind;

use super::{Sink, cell, numbers};
use crate::error::ScrapeError;

/// The first of `userstat`/`userstat_running` tells whether the statistics are kept.
pub const USERSTAT_CHECK: &str =
    "SHOW GLOBAL VARIABLES WHERE Variable_Name='userstat' OR Variable_Name='userstat_running'";

const QUERY: &str = "SELECT TABLE_SCHEMA, TABLE_NAME, ROWS_READ, ROWS_CHANGED, \
     ROWS_CHANGED_X_INDEXES FROM information_schema.table_statistics";

const FAMILIES: [(&str, &str); 3] = [
    (
        "mysql_info_schema_table_statistics_rows_read_total",
        "The number of rows read from the table.",
    ),
    (
        "mysql_info_schema_table_statistics_rows_changed_total",
        "The number of rows changed in the table.",
    ),
    (
        "mysql_info_schema_table_statistics_rows_changed_x_indexes_total",
        "The number of rows changed in the table, multiplied by the number of indexes changed.",
    ),
];

/// Whether `userstat` is on; servers without the variable have no statistics either.
pub async fn userstat_enabled(conn: &mut Conn) -> bool {
    match conn.query_first::<Row, _>(USERSTAT_CHECK).await {
        Ok(Some(row)) => cell(&row, 1) != b"OFF",
        Ok(None) | Err(_) => {
            tracing::debug!("Detailed table stats are not available.");
            false
        }
    }
}

pub async fn scrape(conn: &mut Conn, sink: &mut Sink) -> Result<(), ScrapeError> {
    if !userstat_enabled(conn).await {
        return Ok(());
    }
    let rows: Vec<Row> = conn.query(QUERY).await?;
    for row in &rows {
        let schema = String::from_utf8_lossy(cell(row, 0));
        let table = String::from_utf8_lossy(cell(row, 1));
        let values = numbers::<3>(row, 2)?;
        for ((name, help), value) in FAMILIES.iter().zip(values) {
            sink.push(
                name,
                help,
                ConstKind::Counter,
                &[("schema", &schema), ("table", &table)],
                value,
            );
        }
    }
    Ok(())
}
