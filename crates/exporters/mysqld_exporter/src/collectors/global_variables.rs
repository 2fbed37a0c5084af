//! `SHOW GLOBAL VARIABLES`: a gauge per numeric variable, `mysql_version_info`, the
//! transaction isolation level and the Galera cluster name and gcache size.

use std::sync::LazyLock;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};
use pm_common::metrics::ConstKind;
use regex::Regex;

use super::{NAMESPACE, Sink, cell, metric_name, status_value};
use crate::error::ScrapeError;

/// The text variables the info families are built from.
#[derive(Debug, Default)]
struct Texts {
    innodb_version: String,
    version: String,
    version_comment: String,
    wsrep_cluster_name: String,
    wsrep_provider_options: String,
    tx_isolation: String,
    transaction_isolation: String,
}

pub async fn scrape(conn: &mut Conn, sink: &mut Sink) -> Result<(), ScrapeError> {
    let rows: Vec<Row> = conn.query("SHOW GLOBAL VARIABLES").await?;
    let mut texts = Texts::default();
    for row in &rows {
        let key = metric_name(&String::from_utf8_lossy(cell(row, 0)));
        let raw = cell(row, 1);
        if let Some(value) = status_value(raw) {
            sink.push(
                &format!("{NAMESPACE}_global_variables_{key}"),
                "Generic gauge metric from SHOW GLOBAL VARIABLES.",
                ConstKind::Gauge,
                &[],
                value,
            );
            continue;
        }
        if let Some(slot) = texts.slot(&key) {
            *slot = String::from_utf8_lossy(raw).into_owned();
        }
    }
    texts.emit(sink);
    Ok(())
}

impl Texts {
    fn slot(&mut self, key: &str) -> Option<&mut String> {
        Some(match key {
            "innodb_version" => &mut self.innodb_version,
            "version" => &mut self.version,
            "version_comment" => &mut self.version_comment,
            "wsrep_cluster_name" => &mut self.wsrep_cluster_name,
            "wsrep_provider_options" => &mut self.wsrep_provider_options,
            "tx_isolation" => &mut self.tx_isolation,
            "transaction_isolation" => &mut self.transaction_isolation,
            _ => return None,
        })
    }

    fn emit(&self, sink: &mut Sink) {
        sink.push(
            "mysql_version_info",
            "MySQL version and distribution.",
            ConstKind::Gauge,
            &[
                ("innodb_version", &self.innodb_version),
                ("version", &self.version),
                ("version_comment", &self.version_comment),
            ],
            1.0,
        );
        if !self.wsrep_cluster_name.is_empty() {
            sink.push(
                "mysql_galera_variables_info",
                "PXC/Galera variables information.",
                ConstKind::Gauge,
                &[("wsrep_cluster_name", &self.wsrep_cluster_name)],
                1.0,
            );
        }
        if !self.wsrep_provider_options.is_empty() {
            sink.push(
                "mysql_galera_gcache_size_bytes",
                "PXC/Galera gcache size.",
                ConstKind::Gauge,
                &[],
                gcache_size(&self.wsrep_provider_options),
            );
        }
        let level = if self.transaction_isolation.is_empty() {
            &self.tx_isolation
        } else {
            &self.transaction_isolation
        };
        if !level.is_empty() {
            sink.push(
                "mysql_transaction_isolation",
                "MySQL transaction isolation.",
                ConstKind::Gauge,
                &[("level", level)],
                1.0,
            );
        }
    }
}

/// `gcache.size = 128M;` in the provider options, in bytes; 0 when absent.
fn gcache_size(options: &str) -> f64 {
    static GCACHE: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"gcache.size = (\d+)([MG]?);").expect("a valid regex"));
    let Some(c) = GCACHE.captures(options) else {
        return 0.0;
    };
    let n: f64 = c[1].parse().unwrap_or(0.0);
    match &c[2] {
        "M" => n * 1024.0 * 1024.0,
        "G" => n * 1024.0 * 1024.0 * 1024.0,
        _ => n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcache_units() {
        assert_eq!(
            gcache_size("a = b; gcache.size = 128M; c = d"),
            134_217_728.0
        );
        assert_eq!(gcache_size("gcache.size = 2G;"), 2_147_483_648.0);
        assert_eq!(gcache_size("gcache.size = 100;"), 100.0);
        assert_eq!(gcache_size("gcache.dir = /x;"), 0.0);
    }

    #[test]
    fn info_families() {
        let mut sink = Sink::default();
        let mut texts = Texts::default();
        *texts.slot("version").unwrap() = "10.11.6-MariaDB".into();
        *texts.slot("tx_isolation").unwrap() = "REPEATABLE-READ".into();
        assert!(texts.slot("port").is_none());
        texts.emit(&mut sink);
        let mut f = sink.into_families();
        f.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(f[0].name(), "mysql_transaction_isolation");
        assert_eq!(f[0].metric[0].label[0].value(), "REPEATABLE-READ");
        assert_eq!(f[1].name(), "mysql_version_info");
        let labels: Vec<_> = f[1].metric[0].label.iter().map(|l| l.name()).collect();
        assert_eq!(labels, ["innodb_version", "version", "version_comment"]);
    }
}
