//! `information_schema.user_statistics` and `client_statistics` (MariaDB and Percona with
//! `userstat=1`): the same columns, one row per user or per client host.
//!
//! Every column after the first becomes a family labelled with the first column's value.
//! Columns upstream knows have their own name, type and help; any other (a newer server's)
//! is exposed untyped under its lowercased name, so that nothing the server reports is lost.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};
use pm_common::metrics::ConstKind;

use super::tablestats::userstat_enabled;
use super::{Sink, cell, cell_f64};
use crate::error::ScrapeError;

/// Which table: the two differ only in their key column, label and help wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    User,
    Client,
}

impl Table {
    fn query(self) -> &'static str {
        match self {
            Table::User => "SELECT * FROM information_schema.user_statistics",
            Table::Client => "SELECT * FROM information_schema.client_statistics",
        }
    }

    /// The label, and the word in the family names and help texts.
    fn label(self) -> &'static str {
        match self {
            Table::User => "user",
            Table::Client => "client",
        }
    }

    /// Upstream's help texts of the four `ROWS_*` columns spell the possessive with an ASCII
    /// apostrophe for users and a typographic one for clients.
    fn rows_apostrophe(self) -> &'static str {
        match self {
            Table::User => "'",
            Table::Client => "\u{2019}",
        }
    }
}

/// A column upstream names: its family suffix, type and help (`{who}` is the table's word,
/// `{rows'}` the apostrophe of [`Table::rows_apostrophe`]).
struct Known {
    column: &'static str,
    suffix: &'static str,
    kind: ConstKind,
    help: &'static str,
    /// Only `client_statistics` has upstream's name for it.
    client_only: bool,
}

const fn known(column: &'static str, suffix: &'static str, help: &'static str) -> Known {
    Known {
        column,
        suffix,
        kind: ConstKind::Counter,
        help,
        client_only: false,
    }
}

const KNOWN: [Known; 25] = [
    known(
        "TOTAL_CONNECTIONS",
        "total_connections",
        "The number of connections created for this {who}.",
    ),
    Known {
        kind: ConstKind::Gauge,
        ..known(
            "CONCURRENT_CONNECTIONS",
            "concurrent_connections",
            "The number of concurrent connections for this {who}.",
        )
    },
    known(
        "CONNECTED_TIME",
        "connected_time_seconds_total",
        "The cumulative number of seconds elapsed while there were connections from this {who}.",
    ),
    known(
        "BUSY_TIME",
        "busy_seconds_total",
        "The cumulative number of seconds there was activity on connections from this {who}.",
    ),
    known(
        "CPU_TIME",
        "cpu_time_seconds_total",
        "The cumulative CPU time elapsed, in seconds, while servicing this {who}'s connections.",
    ),
    known(
        "BYTES_RECEIVED",
        "bytes_received_total",
        "The number of bytes received from this {who}\u{2019}s connections.",
    ),
    known(
        "BYTES_SENT",
        "bytes_sent_total",
        "The number of bytes sent to this {who}\u{2019}s connections.",
    ),
    known(
        "BINLOG_BYTES_WRITTEN",
        "binlog_bytes_written_total",
        "The number of bytes written to the binary log from this {who}\u{2019}s connections.",
    ),
    known(
        "ROWS_READ",
        "rows_read_total",
        "The number of rows read by this {who}{rows'}s connections.",
    ),
    known(
        "ROWS_SENT",
        "rows_sent_total",
        "The number of rows sent by this {who}{rows'}s connections.",
    ),
    known(
        "ROWS_DELETED",
        "rows_deleted_total",
        "The number of rows deleted by this {who}{rows'}s connections.",
    ),
    known(
        "ROWS_INSERTED",
        "rows_inserted_total",
        "The number of rows inserted by this {who}{rows'}s connections.",
    ),
    known(
        "ROWS_FETCHED",
        "rows_fetched_total",
        "The number of rows fetched by this {who}\u{2019}s connections.",
    ),
    known(
        "ROWS_UPDATED",
        "rows_updated_total",
        "The number of rows updated by this {who}\u{2019}s connections.",
    ),
    known(
        "TABLE_ROWS_READ",
        "table_rows_read_total",
        "The number of rows read from tables by this {who}\u{2019}s connections. (It may be different from ROWS_FETCHED.)",
    ),
    known(
        "SELECT_COMMANDS",
        "select_commands_total",
        "The number of SELECT commands executed from this {who}\u{2019}s connections.",
    ),
    known(
        "UPDATE_COMMANDS",
        "update_commands_total",
        "The number of UPDATE commands executed from this {who}\u{2019}s connections.",
    ),
    known(
        "OTHER_COMMANDS",
        "other_commands_total",
        "The number of other commands executed from this {who}\u{2019}s connections.",
    ),
    known(
        "COMMIT_TRANSACTIONS",
        "commit_transactions_total",
        "The number of COMMIT commands issued by this {who}\u{2019}s connections.",
    ),
    known(
        "ROLLBACK_TRANSACTIONS",
        "rollback_transactions_total",
        "The number of ROLLBACK commands issued by this {who}\u{2019}s connections.",
    ),
    known(
        "DENIED_CONNECTIONS",
        "denied_connections_total",
        "The number of connections denied to this {who}.",
    ),
    known(
        "LOST_CONNECTIONS",
        "lost_connections_total",
        "The number of this {who}\u{2019}s connections that were terminated uncleanly.",
    ),
    known(
        "ACCESS_DENIED",
        "access_denied_total",
        "The number of times this {who}\u{2019}s connections issued commands that were denied.",
    ),
    known(
        "EMPTY_QUERIES",
        "empty_queries_total",
        "The number of times this {who}\u{2019}s connections sent empty queries to the server.",
    ),
    known(
        "TOTAL_SSL_CONNECTIONS",
        "total_ssl_connections_total",
        "The number of times this {who}\u{2019}s connections connected using SSL to the server.",
    ),
];

const MAX_STATEMENT_TIME_EXCEEDED: Known = Known {
    client_only: true,
    ..known(
        "MAX_STATEMENT_TIME_EXCEEDED",
        "max_statement_time_exceeded_total",
        "The number of times a statement was aborted, because it was executed longer than its MAX_STATEMENT_TIME threshold.",
    )
};

/// The name, type and help of the family for `column` of `table`.
fn family(table: Table, column: &str) -> (String, ConstKind, String) {
    let who = table.label();
    let known = KNOWN
        .iter()
        .chain([&MAX_STATEMENT_TIME_EXCEEDED])
        .find(|k| k.column == column && (!k.client_only || table == Table::Client));
    match known {
        Some(k) => (
            format!("mysql_info_schema_{who}_statistics_{}", k.suffix),
            k.kind,
            k.help
                .replace("{who}", who)
                .replace("{rows'}", table.rows_apostrophe()),
        ),
        None => (
            format!(
                "mysql_info_schema_{who}_statistics_{}",
                column.to_lowercase()
            ),
            ConstKind::Untyped,
            format!("Unsupported metric from column {column}"),
        ),
    }
}

pub async fn scrape(conn: &mut Conn, sink: &mut Sink, table: Table) -> Result<(), ScrapeError> {
    if !userstat_enabled(conn).await {
        return Ok(());
    }
    let rows: Vec<Row> = conn.query(table.query()).await?;
    let Some(first) = rows.first() else {
        return Ok(());
    };
    let families: Vec<_> = first
        .columns_ref()
        .iter()
        .skip(1)
        .map(|c| family(table, &c.name_str()))
        .collect();
    for row in &rows {
        let key = String::from_utf8_lossy(cell(row, 0));
        for (i, (name, kind, help)) in families.iter().enumerate() {
            let column = i + 1;
            // Upstream scans every column but the first into a float: anything else fails
            // the scrape.
            let value = cell_f64(row, column).ok_or_else(|| ScrapeError::Value {
                column: row.columns_ref()[column].name_str().into_owned(),
                value: String::from_utf8_lossy(cell(row, column)).into_owned(),
            })?;
            sink.push(name, help, *kind, &[(table.label(), &key)], value);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_columns_get_upstream_names_types_and_help() {
        let (name, kind, help) = family(Table::User, "CONCURRENT_CONNECTIONS");
        assert_eq!(
            name,
            "mysql_info_schema_user_statistics_concurrent_connections"
        );
        assert_eq!(kind, ConstKind::Gauge);
        assert_eq!(help, "The number of concurrent connections for this user.");

        let (name, kind, help) = family(Table::Client, "BUSY_TIME");
        assert_eq!(
            name,
            "mysql_info_schema_client_statistics_busy_seconds_total"
        );
        assert_eq!(kind, ConstKind::Counter);
        assert_eq!(
            help,
            "The cumulative number of seconds there was activity on connections from this client."
        );
    }

    #[test]
    fn apostrophes_differ_as_upstream_spells_them() {
        assert_eq!(
            family(Table::User, "ROWS_READ").2,
            "The number of rows read by this user's connections."
        );
        assert_eq!(
            family(Table::Client, "ROWS_READ").2,
            "The number of rows read by this client\u{2019}s connections."
        );
        assert_eq!(
            family(Table::Client, "CPU_TIME").2,
            "The cumulative CPU time elapsed, in seconds, while servicing this client's connections."
        );
        assert_eq!(
            family(Table::User, "BYTES_SENT").2,
            "The number of bytes sent to this user\u{2019}s connections."
        );
    }

    #[test]
    fn unknown_columns_are_untyped() {
        let (name, kind, help) = family(Table::User, "KEY_READ_HITS");
        assert_eq!(name, "mysql_info_schema_user_statistics_key_read_hits");
        assert_eq!(kind, ConstKind::Untyped);
        assert_eq!(help, "Unsupported metric from column KEY_READ_HITS");
        // Only the client table names this column.
        let (name, kind, _) = family(Table::User, "MAX_STATEMENT_TIME_EXCEEDED");
        assert_eq!(
            name,
            "mysql_info_schema_user_statistics_max_statement_time_exceeded"
        );
        assert_eq!(kind, ConstKind::Untyped);
        let (name, kind, _) = family(Table::Client, "MAX_STATEMENT_TIME_EXCEEDED");
        assert_eq!(
            name,
            "mysql_info_schema_client_statistics_max_statement_time_exceeded_total"
        );
        assert_eq!(kind, ConstKind::Counter);
    }
}
