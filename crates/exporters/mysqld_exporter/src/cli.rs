//! Command-line flags, with upstream's names and defaults.

use std::path::PathBuf;

use clap::Parser;
use pm_common::log::LogFlags;
use pm_common::web::{DefaultListenAddress, WebFlags};

use crate::collectors::{Collector, SPECS, Settings};
use crate::config::{self, Sources};
use crate::switches::{self, Switches};

/// `--web.listen-address` defaults to `:9104`.
#[derive(Debug, Clone, Copy)]
pub struct MysqldExporterPort;

impl DefaultListenAddress for MysqldExporterPort {
    const ADDRESS: &'static str = ":9104";
}

#[derive(Debug, Clone, Parser)]
#[command(
    name = "mysqld_exporter",
    version,
    about = "Prometheus exporter for MySQL servers"
)]
pub struct Flags {
    /// Path under which to expose metrics.
    #[arg(long = "web.telemetry-path", default_value = "/metrics")]
    pub telemetry_path: String,
    /// Offset to subtract from timeout in seconds.
    #[arg(long = "timeout-offset", default_value_t = 0.25)]
    pub timeout_offset: f64,
    /// Path to .my.cnf file to read MySQL credentials from.
    #[arg(long = "config.my-cnf", default_value_t = config::default_my_cnf())]
    pub my_cnf: String,
    /// Address to use for connecting to MySQL
    #[arg(long = "mysqld.address", default_value = "localhost:3306")]
    pub mysqld_address: String,
    /// Hostname to use for connecting to MySQL
    #[arg(long = "mysqld.username", default_value = "")]
    pub mysqld_username: String,
    /// Set a lock_wait_timeout (in seconds) on the connection to avoid long metadata locking.
    #[arg(long = "exporter.lock_wait_timeout", default_value_t = 2)]
    pub lock_wait_timeout: i64,
    /// Minimum time a thread must be in each state to be counted
    #[arg(long = "collect.info_schema.processlist.min_time", default_value_t = 0)]
    pub processlist_min_time: i64,
    /// The list of databases to collect table stats for, or '*' for all
    #[arg(long = "collect.info_schema.tables.databases", default_value = "*")]
    pub tables_databases: String,
    #[command(flatten)]
    pub switches: Switches,
    #[command(flatten)]
    pub web: WebFlags<MysqldExporterPort>,
    #[command(flatten)]
    pub log: LogFlags,
}

impl Flags {
    /// The collectors turned on, in table order.
    pub fn collectors(&self) -> Vec<Collector> {
        SPECS
            .iter()
            .filter(|s| self.switches.flag(s.flag))
            .map(|s| s.collector)
            .collect()
    }

    /// The collectors' own options.
    pub fn settings(&self) -> Settings {
        Settings {
            processlist_min_time: self.processlist_min_time,
            processes_by_user: self.switches.get(switches::PROCESSES_BY_USER),
            processes_by_host: self.switches.get(switches::PROCESSES_BY_HOST),
            tables_databases: self.tables_databases.clone(),
        }
    }

    /// Where the client configuration comes from.
    pub fn sources(&self) -> Sources {
        Sources {
            my_cnf: PathBuf::from(&self.my_cnf),
            address: self.mysqld_address.clone(),
            username: self.mysqld_username.clone(),
            insecure_skip_verify: self.switches.get(switches::TLS_INSECURE_SKIP_VERIFY),
        }
    }

    /// The statements run on each new connection, as upstream's DSN parameters.
    pub fn session_settings(&self) -> Vec<String> {
        let mut init = Vec::new();
        if self.switches.get(switches::ENABLE_LOCK_WAIT_TIMEOUT) {
            init.push(format!("SET lock_wait_timeout={}", self.lock_wait_timeout));
        }
        if self.switches.get(switches::LOG_SLOW_FILTER) {
            init.push("SET log_slow_filter='tmp_table_on_disk,filesort_on_disk'".to_owned());
        }
        init
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Flags {
        Flags::try_parse_from(std::iter::once("mysqld_exporter").chain(args.iter().copied()))
            .unwrap()
    }

    #[test]
    fn defaults_are_upstreams() {
        let f = parse(&[]);
        assert_eq!(f.web.listen_addresses, [":9104"]);
        assert_eq!(f.telemetry_path, "/metrics");
        assert_eq!(f.timeout_offset, 0.25);
        assert_eq!(f.mysqld_address, "localhost:3306");
        assert!(f.my_cnf.ends_with("/.my.cnf"), "{}", f.my_cnf);
        assert_eq!(f.session_settings(), ["SET lock_wait_timeout=2"]);
        assert_eq!(
            f.collectors(),
            [
                Collector::GlobalStatus,
                Collector::GlobalVariables,
                Collector::SlaveStatus,
                Collector::InnodbCmp,
                Collector::InnodbCmpMem,
                Collector::QueryResponseTime,
            ]
        );
        assert!(!f.sources().insecure_skip_verify);
        assert_eq!(f.settings(), Settings::default());
    }

    #[test]
    fn switches_take_the_last_spelling() {
        let f = parse(&[
            "--no-collect.global_status",
            "--collect.slave_status=false",
            "--collect.info_schema.innodb_cmp=false",
            "--collect.info_schema.innodb_cmp",
            "--exporter.log_slow_filter",
            "--no-exporter.enable_lock_wait_timeout",
            "--tls.insecure-skip-verify=true",
        ]);
        let names: Vec<_> = f.collectors().iter().map(|c| c.spec().name).collect();
        assert_eq!(
            names,
            [
                "global_variables",
                "info_schema.innodb_cmp",
                "info_schema.innodb_cmpmem",
                "info_schema.query_response_time"
            ]
        );
        assert_eq!(
            f.session_settings(),
            ["SET log_slow_filter='tmp_table_on_disk,filesort_on_disk'"]
        );
        assert!(f.sources().insecure_skip_verify);
    }

    #[test]
    fn unknown_collectors_are_rejected() {
        let err = Flags::try_parse_from(["mysqld_exporter", "--collect.heartbeat"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::UnknownArgument);
    }
}
