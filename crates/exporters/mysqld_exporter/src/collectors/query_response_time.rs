//! `information_schema.query_response_time` (Percona's and MariaDB's plugin): the response
//! time distribution of all, read and write queries as histograms, when the plugin's
//! `query_response_time_stats` is on.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};
use pm_common::expfmt::dto;

use super::{Sink, cell, go_float};
use crate::error::ScrapeError;

/// The table, the family and its help. Only the first table is required: the read/write
/// split exists in Percona Server alone.
const TABLES: [(&str, &str, &str); 3] = [
    (
        "SELECT TIME, COUNT, TOTAL FROM INFORMATION_SCHEMA.QUERY_RESPONSE_TIME",
        "mysql_info_schema_query_response_time_seconds",
        "The number of all queries by duration they took to execute.",
    ),
    (
        "SELECT TIME, COUNT, TOTAL FROM INFORMATION_SCHEMA.QUERY_RESPONSE_TIME_READ",
        "mysql_info_schema_read_query_response_time_seconds",
        "The number of read queries by duration they took to execute.",
    ),
    (
        "SELECT TIME, COUNT, TOTAL FROM INFORMATION_SCHEMA.QUERY_RESPONSE_TIME_WRITE",
        "mysql_info_schema_write_query_response_time_seconds",
        "The number of write queries by duration they took to execute.",
    ),
];

pub async fn scrape(conn: &mut Conn, sink: &mut Sink) -> Result<(), ScrapeError> {
    // Without the plugin the variable does not exist: nothing to collect, and no error.
    let enabled = match conn
        .query_first::<Row, _>("SELECT @@query_response_time_stats")
        .await
    {
        Ok(Some(row)) => std::str::from_utf8(cell(&row, 0))
            .ok()
            .and_then(|s| s.parse::<u8>().ok()),
        Ok(None) | Err(_) => None,
    };
    match enabled {
        None => {
            tracing::debug!("Query response time distribution is not available.");
            return Ok(());
        }
        Some(0) => {
            tracing::debug!(var = "query_response_time_stats", "MySQL variable is OFF.");
            return Ok(());
        }
        Some(_) => {}
    }
    for (i, (query, name, help)) in TABLES.into_iter().enumerate() {
        match table(conn, query).await {
            Ok(rows) => sink.family(histogram(name, help, &rows)?),
            Err(e) if i == 0 => return Err(e.into()),
            Err(_) => {}
        }
    }
    Ok(())
}

async fn table(conn: &mut Conn, query: &str) -> Result<Vec<Row>, mysql_async::Error> {
    conn.query(query).await
}

/// The rows as a histogram: each row's bound gets the running total of counts; the
/// `TOO LONG` row (no numeric bound) only adds to the total.
fn histogram(name: &str, help: &str, rows: &[Row]) -> Result<dto::MetricFamily, ScrapeError> {
    let mut count = 0u64;
    let mut sum = 0.0;
    let mut buckets: Vec<dto::Bucket> = Vec::new();
    for row in rows {
        let text = |i| String::from_utf8_lossy(cell(row, i)).trim().to_owned();
        let bound = go_float(&text(0)).unwrap_or(0.0);
        let n: u64 = std::str::from_utf8(cell(row, 1))
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| ScrapeError::Value {
                column: "COUNT".into(),
                value: text(1),
            })?;
        count += n;
        sum += go_float(&text(2)).unwrap_or(0.0);
        if bound != 0.0 {
            buckets.retain(|b| b.upper_bound != Some(bound));
            buckets.push(dto::Bucket {
                cumulative_count: Some(count),
                upper_bound: Some(bound),
                ..Default::default()
            });
        }
    }
    buckets.sort_by(|a, b| a.upper_bound().total_cmp(&b.upper_bound()));
    Ok(dto::MetricFamily {
        name: Some(name.into()),
        help: Some(help.into()),
        r#type: Some(dto::MetricType::Histogram as i32),
        metric: vec![dto::Metric {
            histogram: Some(dto::Histogram {
                sample_count: Some(count),
                sample_sum: Some(sum),
                bucket: buckets,
                ..Default::default()
            }),
            ..Default::default()
        }],
        unit: None,
    })
}
