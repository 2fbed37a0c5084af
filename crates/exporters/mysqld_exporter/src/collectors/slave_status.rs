//! `SHOW SLAVE STATUS` (or MariaDB's `SHOW ALL SLAVES STATUS`): every numeric column of every
//! replication channel as an untyped family, labelled with the channel's identity.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};
use pm_common::metrics::ConstKind;

use super::{NAMESPACE, Sink, cell, status_value};
use crate::error::ScrapeError;

/// Tried in order until one is accepted: MariaDB's multi-source form first, then the
/// non-blocking variants of Percona and old MySQL releases, then the plain statement.
const QUERIES: [&str; 6] = [
    "SHOW ALL SLAVES STATUS",
    "SHOW ALL SLAVES STATUS NONBLOCKING",
    "SHOW ALL SLAVES STATUS NOLOCK",
    "SHOW SLAVE STATUS",
    "SHOW SLAVE STATUS NONBLOCKING",
    "SHOW SLAVE STATUS NOLOCK",
];

pub async fn scrape(conn: &mut Conn, sink: &mut Sink) -> Result<(), ScrapeError> {
    let mut last = None;
    for query in QUERIES {
        match conn.query::<Row, _>(query).await {
            Ok(rows) => {
                rows.iter().for_each(|row| channel(row, sink));
                return Ok(());
            }
            Err(e @ mysql_async::Error::Server(_)) => last = Some(e),
            Err(e) => return Err(e.into()),
        }
    }
    Err(last.expect("at least one query was tried").into())
}

fn channel(row: &Row, sink: &mut Sink) {
    let columns = row.columns_ref();
    let column = |name: &str| {
        columns
            .iter()
            .position(|c| c.name_str() == name)
            .map(|i| String::from_utf8_lossy(cell(row, i)).into_owned())
            .unwrap_or_default()
    };
    let master_host = column("Master_Host");
    let master_uuid = column("Master_UUID");
    let channel_name = column("Channel_Name");
    let connection_name = column("Connection_name");
    let labels = [
        ("master_host", master_host.as_str()),
        ("master_uuid", master_uuid.as_str()),
        ("channel_name", channel_name.as_str()),
        ("connection_name", connection_name.as_str()),
    ];
    for (i, col) in columns.iter().enumerate() {
        if let Some(value) = status_value(cell(row, i)) {
            sink.push(
                &format!("{NAMESPACE}_slave_status_{}", col.name_str().to_lowercase()),
                "Generic metric from SHOW SLAVE STATUS.",
                ConstKind::Untyped,
                &labels,
                value,
            );
        }
    }
}
