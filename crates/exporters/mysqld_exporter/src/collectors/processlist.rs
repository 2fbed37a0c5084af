//! `information_schema.processlist`: threads and their time by command and state, and
//! optionally processes by user and by client host.

use std::collections::BTreeMap;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};
use pm_common::metrics::ConstKind;

use super::{Settings, Sink, cell, cell_f64};
use crate::error::ScrapeError;

/// Per (user, host, command, state) group: how many threads and their summed time.
fn query(min_time: i64) -> String {
    format!(
        "SELECT user, SUBSTRING_INDEX(host, ':', 1) AS host, COALESCE(command, '') AS command, \
         COALESCE(state, '') AS state, COUNT(*) AS processes, SUM(time) AS seconds \
         FROM information_schema.processlist WHERE ID != connection_id() AND TIME >= {min_time} \
         GROUP BY user, SUBSTRING_INDEX(host, ':', 1), command, state"
    )
}

#[derive(Debug, Default)]
struct Totals {
    by_state: BTreeMap<(String, String), (f64, f64)>,
    by_host: BTreeMap<String, f64>,
    by_user: BTreeMap<String, f64>,
}

pub async fn scrape(
    conn: &mut Conn,
    sink: &mut Sink,
    settings: &Settings,
) -> Result<(), ScrapeError> {
    let rows: Vec<Row> = conn.query(query(settings.processlist_min_time)).await?;
    let mut totals = Totals::default();
    for row in &rows {
        let text = |i| String::from_utf8_lossy(cell(row, i)).into_owned();
        let number = |i| {
            cell_f64(row, i).ok_or_else(|| ScrapeError::Value {
                column: ["processes", "seconds"][i - 4].into(),
                value: text(i),
            })
        };
        let (count, time) = (number(4)?, number(5)?);
        let mut host = text(1);
        if host.is_empty() {
            host = "unknown".into();
        }
        let state = totals
            .by_state
            .entry((sanitize(&text(2)), sanitize(&text(3))))
            .or_default();
        state.0 += count;
        state.1 += time;
        *totals.by_host.entry(host).or_default() += count;
        *totals.by_user.entry(text(0)).or_default() += count;
    }
    for ((command, state), (count, time)) in &totals.by_state {
        let labels = [("command", command.as_str()), ("state", state.as_str())];
        sink.push(
            "mysql_info_schema_processlist_threads",
            "The number of threads split by current state.",
            ConstKind::Gauge,
            &labels,
            *count,
        );
        sink.push(
            "mysql_info_schema_processlist_seconds",
            "The number of seconds threads have used split by current state.",
            ConstKind::Gauge,
            &labels,
            *time,
        );
    }
    if settings.processes_by_host {
        for (host, count) in &totals.by_host {
            sink.push(
                "mysql_info_schema_processlist_processes_by_host",
                "The number of processes by host.",
                ConstKind::Gauge,
                &[("client_host", host)],
                *count,
            );
        }
    }
    if settings.processes_by_user {
        for (user, count) in &totals.by_user {
            sink.push(
                "mysql_info_schema_processlist_processes_by_user",
                "The number of processes by user.",
                ConstKind::Gauge,
                &[("mysql_user", user)],
                *count,
            );
        }
    }
    Ok(())
}

/// A command or state as a label value: lowercased, punctuation dropped, spaces and dashes
/// as underscores, `unknown` when empty.
fn sanitize(state: &str) -> String {
    if state.is_empty() {
        return "unknown".into();
    }
    state
        .to_lowercase()
        .chars()
        .filter(|c| !matches!(c, ';' | ',' | ':' | '.' | '(' | ')'))
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_as_labels() {
        assert_eq!(sanitize(""), "unknown");
        assert_eq!(sanitize("Waiting on empty queue"), "waiting_on_empty_queue");
        assert_eq!(sanitize("Binlog Dump-GTID (x.y);"), "binlog_dump_gtid_xy");
        assert!(query(5).contains("TIME >= 5"));
    }
}
