//! `SHOW BINARY LOGS`: how many binlog files there are, their combined size and the number
//! of the newest, when binary logging is on.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};
use pm_common::metrics::ConstKind;

use super::{Sink, cell, cell_f64};
use crate::error::ScrapeError;

pub async fn scrape(conn: &mut Conn, sink: &mut Sink) -> Result<(), ScrapeError> {
    let log_bin: Option<Row> = conn.query_first("SELECT @@log_bin").await?;
    if log_bin.as_ref().and_then(|r| cell_f64(r, 0)).unwrap_or(0.0) == 0.0 {
        return Ok(());
    }
    let rows: Vec<Row> = conn.query("SHOW BINARY LOGS").await?;
    let mut size = 0.0;
    let mut last = String::new();
    for row in &rows {
        // Log_name, File_size and, in MySQL 8, Encrypted.
        let columns = row.columns_ref().len();
        if !(2..=3).contains(&columns) {
            return Err(ScrapeError::Value {
                column: "SHOW BINARY LOGS".into(),
                value: format!("invalid number of columns: {columns}"),
            });
        }
        size += cell_f64(row, 1).unwrap_or(0.0);
        last = String::from_utf8_lossy(cell(row, 0)).into_owned();
    }
    let gauge = |sink: &mut Sink, name: &str, help: &str, value: f64| {
        sink.push(name, help, ConstKind::Gauge, &[], value);
    };
    gauge(
        sink,
        "mysql_binlog_size_bytes",
        "Combined size of all registered binlog files.",
        size,
    );
    gauge(
        sink,
        "mysql_binlog_files",
        "Number of registered binlog files.",
        rows.len() as f64,
    );
    gauge(
        sink,
        "mysql_binlog_file_number",
        "The last binlog file number.",
        file_number(&last),
    );
    Ok(())
}

/// The number after the first dot of `mysql-bin.000042`; 0 when there is none.
fn file_number(name: &str) -> f64 {
    name.split('.')
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_numbers() {
        assert_eq!(super::file_number("mysql-bin.000042"), 42.0);
        assert_eq!(super::file_number("mysql-bin"), 0.0);
        assert_eq!(super::file_number(""), 0.0);
    }
}
