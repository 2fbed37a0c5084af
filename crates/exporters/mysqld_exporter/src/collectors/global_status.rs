//! `SHOW GLOBAL STATUS`: one untyped family per numeric variable, except the groups upstream
//! folds into labelled families (commands, handlers, connection errors, buffer pool pages,
//! InnoDB row operations, lost performance-schema instruments), and the Galera texts.

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};
use pm_common::metrics::ConstKind;

use super::{NAMESPACE, Sink, cell, metric_name, status_value};
use crate::error::ScrapeError;

/// Prefix of the status name, the family it goes to, its help, kind and label.
const GROUPS: [(&str, &str, &str, ConstKind, &str); 5] = [
    (
        "com_",
        "mysql_global_status_commands_total",
        "Total number of executed MySQL commands.",
        ConstKind::Counter,
        "command",
    ),
    (
        "handler_",
        "mysql_global_status_handlers_total",
        "Total number of executed MySQL handlers.",
        ConstKind::Counter,
        "handler",
    ),
    (
        "connection_errors_",
        "mysql_global_status_connection_errors_total",
        "Total number of MySQL connection errors.",
        ConstKind::Counter,
        "error",
    ),
    (
        "innodb_rows_",
        "mysql_global_status_innodb_row_ops_total",
        "Total number of MySQL InnoDB row operations.",
        ConstKind::Counter,
        "operation",
    ),
    (
        "performance_schema_",
        "mysql_global_status_performance_schema_lost_total",
        "Total number of MySQL instrumentations that could not be loaded or created due to memory constraints.",
        ConstKind::Counter,
        "instrumentation",
    ),
];

const BUFFER_POOL_PAGES: &str = "innodb_buffer_pool_pages_";

/// Texts kept for the Galera families.
#[derive(Debug, Default)]
struct Galera {
    local_state_uuid: String,
    cluster_state_uuid: String,
    provider_version: String,
    evs_repl_latency: String,
}

pub async fn scrape(conn: &mut Conn, sink: &mut Sink) -> Result<(), ScrapeError> {
    let rows: Vec<Row> = conn.query("SHOW GLOBAL STATUS").await?;
    let mut galera = Galera::default();
    for row in &rows {
        let key = String::from_utf8_lossy(cell(row, 0));
        let raw = cell(row, 1);
        match status_value(raw) {
            Some(value) => status(sink, &metric_name(&key), value),
            None => {
                let text = || String::from_utf8_lossy(raw).into_owned();
                match &*key {
                    "wsrep_local_state_uuid" => galera.local_state_uuid = text(),
                    "wsrep_cluster_state_uuid" => galera.cluster_state_uuid = text(),
                    "wsrep_provider_version" => galera.provider_version = text(),
                    "wsrep_evs_repl_latency" => galera.evs_repl_latency = text(),
                    _ => {}
                }
            }
        }
    }
    galera.emit(sink);
    Ok(())
}

/// One numeric status variable, `key` already a metric name.
fn status(sink: &mut Sink, key: &str, value: f64) {
    if let Some(state) = key.strip_prefix(BUFFER_POOL_PAGES) {
        match state {
            "data" | "free" | "misc" | "old" => sink.push(
                "mysql_global_status_buffer_pool_pages",
                "Innodb buffer pool pages by state.",
                ConstKind::Gauge,
                &[("state", state)],
                value,
            ),
            "dirty" => sink.push(
                "mysql_global_status_buffer_pool_dirty_pages",
                "Innodb buffer pool dirty pages.",
                ConstKind::Gauge,
                &[],
                value,
            ),
            "total" => {}
            _ => sink.push(
                "mysql_global_status_buffer_pool_page_changes_total",
                "Innodb buffer pool page state changes.",
                ConstKind::Counter,
                &[("operation", state)],
                value,
            ),
        }
        return;
    }
    for (prefix, name, help, kind, label) in GROUPS {
        if let Some(rest) = key.strip_prefix(prefix) {
            sink.push(name, help, kind, &[(label, rest)], value);
            return;
        }
    }
    sink.push(
        &format!("{NAMESPACE}_global_status_{key}"),
        "Generic metric from SHOW GLOBAL STATUS.",
        ConstKind::Untyped,
        &[],
        value,
    );
}

impl Galera {
    fn emit(&self, sink: &mut Sink) {
        if !self.local_state_uuid.is_empty() {
            sink.push(
                "mysql_galera_status_info",
                "PXC/Galera status information.",
                ConstKind::Gauge,
                &[
                    ("wsrep_local_state_uuid", &self.local_state_uuid),
                    ("wsrep_cluster_state_uuid", &self.cluster_state_uuid),
                    ("wsrep_provider_version", &self.provider_version),
                ],
                1.0,
            );
        }
        if self.evs_repl_latency.is_empty() {
            return;
        }
        const PARTS: [(&str, &str); 5] = [
            (
                "min_seconds",
                "PXC/Galera group communication latency. Min value.",
            ),
            (
                "avg_seconds",
                "PXC/Galera group communication latency. Avg value.",
            ),
            (
                "max_seconds",
                "PXC/Galera group communication latency. Max value.",
            ),
            (
                "stdev",
                "PXC/Galera group communication latency. Standard Deviation.",
            ),
            (
                "sample_size",
                "PXC/Galera group communication latency. Sample Size.",
            ),
        ];
        let values: Option<Vec<f64>> = self
            .evs_repl_latency
            .split('/')
            .map(super::go_float)
            .collect();
        // Published only when all five parts are there and numeric.
        if let Some(values) = values.filter(|v| v.len() == PARTS.len()) {
            for ((part, help), value) in PARTS.iter().zip(values) {
                sink.push(
                    &format!("mysql_galera_evs_repl_latency_{part}"),
                    help,
                    ConstKind::Gauge,
                    &[],
                    value,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pm_common::expfmt::dto::MetricFamily;

    fn families(sink: Sink) -> Vec<MetricFamily> {
        let mut f = sink.into_families();
        f.sort_by(|a, b| a.name.cmp(&b.name));
        f
    }

    #[test]
    fn groups_become_labelled_families() {
        let mut sink = Sink::default();
        for (key, v) in [
            ("com_select", 3.0),
            ("com_", 1.0),
            ("handler_read_rnd", 4.0),
            ("connection_errors_accept", 0.0),
            ("innodb_buffer_pool_pages_data", 10.0),
            ("innodb_buffer_pool_pages_dirty", 2.0),
            ("innodb_buffer_pool_pages_total", 99.0),
            ("innodb_buffer_pool_pages_flushed", 7.0),
            ("innodb_rows_read", 5.0),
            ("performance_schema_mutex_classes_lost", 0.0),
            ("uptime", 60.0),
            ("handlers", 8.0),
        ] {
            status(&mut sink, key, v);
        }
        let f = families(sink);
        let names: Vec<_> = f.iter().map(|f| f.name()).collect();
        assert_eq!(
            names,
            [
                "mysql_global_status_buffer_pool_dirty_pages",
                "mysql_global_status_buffer_pool_page_changes_total",
                "mysql_global_status_buffer_pool_pages",
                "mysql_global_status_commands_total",
                "mysql_global_status_connection_errors_total",
                "mysql_global_status_handlers",
                "mysql_global_status_handlers_total",
                "mysql_global_status_innodb_row_ops_total",
                "mysql_global_status_performance_schema_lost_total",
                "mysql_global_status_uptime",
            ]
        );
        let commands = &f[3];
        assert_eq!(commands.metric.len(), 2);
        assert_eq!(commands.metric[0].label[0].name(), "command");
        assert_eq!(commands.metric[0].label[0].value(), "select");
        assert_eq!(commands.metric[1].label[0].value(), "");
        assert_eq!(f[9].metric[0].untyped.as_ref().unwrap().value, Some(60.0));
    }

    #[test]
    fn galera_latency_needs_five_numbers() {
        let mut sink = Sink::default();
        Galera {
            local_state_uuid: "u1".into(),
            cluster_state_uuid: "u2".into(),
            provider_version: "26.4".into(),
            evs_repl_latency: "0.1/0.2/0.3/0.01/5".into(),
        }
        .emit(&mut sink);
        let f = families(sink);
        assert_eq!(f.len(), 6);
        assert_eq!(f.last().unwrap().name(), "mysql_galera_status_info");
        let mut sink = Sink::default();
        Galera {
            evs_repl_latency: "0.1/0.2/x/0.01/5".into(),
            ..Default::default()
        }
        .emit(&mut sink);
        assert!(sink.into_families().is_empty());
    }
}
