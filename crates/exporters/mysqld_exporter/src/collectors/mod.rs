//! The collectors ("scrapers" upstream): one query or a few each, their rows as families.
//!
//! [`SPECS`] is the single table of what exists: the name used by `--collect.<name>`, by
//! `collect[]=` and in the `collector` label, upstream's help text, whether it is on by
//! default, and the oldest server version it runs against.

mod binlog;
mod engine_innodb;
mod global_status;
mod global_variables;
mod innodb_cmp;
mod parse;
mod perf_schema;
mod processlist;
mod query_response_time;
mod sink;
mod slave_status;
mod statistics;
mod tables;
mod tablestats;

use mysql_async::Conn;

use crate::error::ScrapeError;

pub use parse::{go_float, metric_name, status_value};
pub use sink::{Sink, cell, cell_f64, numbers};

/// The families prefix.
pub const NAMESPACE: &str = "mysql";

/// A collector we implement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Collector {
    GlobalStatus,
    GlobalVariables,
    SlaveStatus,
    InnodbCmp,
    InnodbCmpMem,
    QueryResponseTime,
    Processlist,
    Tables,
    BinlogSize,
    TableStats,
    UserStats,
    ClientStats,
    EngineInnodbStatus,
    PerfTableIoWaits,
    PerfIndexIoWaits,
    PerfTableLockWaits,
}

/// The collectors' own options (`--collect.info_schema.processlist.*`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Threads in a state for less than this many seconds are not counted.
    pub processlist_min_time: i64,
    pub processes_by_user: bool,
    pub processes_by_host: bool,
    /// Comma-separated databases, or `*` for all but the system schemas.
    pub tables_databases: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            processlist_min_time: 0,
            processes_by_user: true,
            processes_by_host: true,
            tables_databases: "*".into(),
        }
    }
}

/// What upstream says of a collector.
#[derive(Debug)]
pub struct Spec {
    pub collector: Collector,
    /// `global_status`, `info_schema.innodb_cmp`, …
    pub name: &'static str,
    /// `collect.<name>`: the flag, and the `collector` label of the duration metrics.
    pub flag: &'static str,
    /// `no-collect.<name>`, kingpin's negation.
    pub negated: &'static str,
    pub help: &'static str,
    pub default: bool,
    /// Skipped against servers older than this `major.minor`.
    pub min_version: f64,
}

macro_rules! specs {
    ($($collector:ident, $name:literal, $default:literal, $version:literal, $help:literal;)*) => {
        /// Every collector, in `--help` order.
        pub const SPECS: &[Spec] = &[$(Spec {
            collector: Collector::$collector,
            name: $name,
            flag: concat!("collect.", $name),
            negated: concat!("no-collect.", $name),
            help: $help,
            default: $default,
            min_version: $version,
        },)*];
    };
}

specs! {
    GlobalStatus, "global_status", true, 5.1, "Collect from SHOW GLOBAL STATUS";
    GlobalVariables, "global_variables", true, 5.1, "Collect from SHOW GLOBAL VARIABLES";
    SlaveStatus, "slave_status", true, 5.1, "Collect from SHOW SLAVE STATUS";
    InnodbCmp, "info_schema.innodb_cmp", true, 5.5,
        "Collect metrics from information_schema.innodb_cmp";
    InnodbCmpMem, "info_schema.innodb_cmpmem", true, 5.5,
        "Collect metrics from information_schema.innodb_cmpmem";
    QueryResponseTime, "info_schema.query_response_time", true, 5.5,
        "Collect query response time distribution if query_response_time_stats is ON.";
    Processlist, "info_schema.processlist", false, 5.1,
        "Collect current thread state counts from the information_schema.processlist";
    Tables, "info_schema.tables", false, 5.1, "Collect metrics from information_schema.tables";
    BinlogSize, "binlog_size", false, 5.1,
        "Collect the current size of all registered binlog files";
    TableStats, "info_schema.tablestats", false, 5.1,
        "If running with userstat=1, set to true to collect table statistics";
    UserStats, "info_schema.userstats", false, 5.1,
        "If running with userstat=1, set to true to collect user statistics";
    ClientStats, "info_schema.clientstats", false, 5.5,
        "If running with userstat=1, set to true to collect client statistics";
    EngineInnodbStatus, "engine_innodb_status", false, 5.1, "Collect from SHOW ENGINE INNODB STATUS";
    PerfTableIoWaits, "perf_schema.tableiowaits", false, 5.6,
        "Collect metrics from performance_schema.table_io_waits_summary_by_table";
    PerfIndexIoWaits, "perf_schema.indexiowaits", false, 5.6,
        "Collect metrics from performance_schema.table_io_waits_summary_by_index_usage";
    PerfTableLockWaits, "perf_schema.tablelocks", false, 5.6,
        "Collect metrics from performance_schema.table_lock_waits_summary_by_table";
}

impl Collector {
    pub fn spec(self) -> &'static Spec {
        SPECS
            .iter()
            .find(|s| s.collector == self)
            .expect("every collector has a spec")
    }

    /// The collector named `name` (as in `collect[]=`).
    pub fn by_name(name: &str) -> Option<Self> {
        SPECS.iter().find(|s| s.name == name).map(|s| s.collector)
    }

    /// Runs the collector's queries on `conn`, adding what they return to `sink`.
    pub async fn scrape(
        self,
        conn: &mut Conn,
        sink: &mut Sink,
        settings: &Settings,
    ) -> Result<(), ScrapeError> {
        match self {
            Collector::GlobalStatus => global_status::scrape(conn, sink).await,
            Collector::GlobalVariables => global_variables::scrape(conn, sink).await,
            Collector::SlaveStatus => slave_status::scrape(conn, sink).await,
            Collector::InnodbCmp => innodb_cmp::scrape_cmp(conn, sink).await,
            Collector::InnodbCmpMem => innodb_cmp::scrape_cmpmem(conn, sink).await,
            Collector::QueryResponseTime => query_response_time::scrape(conn, sink).await,
            Collector::Processlist => processlist::scrape(conn, sink, settings).await,
            Collector::Tables => tables::scrape(conn, sink, settings).await,
            Collector::BinlogSize => binlog::scrape(conn, sink).await,
            Collector::TableStats => tablestats::scrape(conn, sink).await,
            Collector::UserStats => statistics::scrape(conn, sink, statistics::Table::User).await,
            Collector::ClientStats => {
                statistics::scrape(conn, sink, statistics::Table::Client).await
            }
            Collector::EngineInnodbStatus => engine_innodb::scrape(conn, sink).await,
            Collector::PerfTableIoWaits => perf_schema::scrape_table_io_waits(conn, sink).await,
            Collector::PerfIndexIoWaits => perf_schema::scrape_index_io_waits(conn, sink).await,
            Collector::PerfTableLockWaits => perf_schema::scrape_table_lock_waits(conn, sink).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_flags_and_lookup_agree() {
        for spec in SPECS {
            assert_eq!(spec.flag, format!("collect.{}", spec.name));
            assert_eq!(spec.negated, format!("no-collect.{}", spec.name));
            assert_eq!(Collector::by_name(spec.name), Some(spec.collector));
            assert_eq!(spec.collector.spec().name, spec.name);
        }
        assert_eq!(Collector::by_name("nope"), None);
    }
}
