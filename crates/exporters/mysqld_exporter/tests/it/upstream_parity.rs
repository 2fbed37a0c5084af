//! Debian's `prometheus-mysqld-exporter` (0.14) and ours scrape the same MariaDB: every family
//! and label-name set upstream exposes, ours exposes too (values aside; Go runtime families
//! aside; build_info may carry newer client_golang's extra `tags` label).

use crate::support;

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use pm_testsupport::{Daemon, free_port, upstream_binary};
use support::{MariaDb, PASSWORD, USER, exporter, scrape, shapes};

const UPSTREAM: &str = "/usr/bin/prometheus-mysqld-exporter";

/// The optional collectors we implement, on in both.
const OPTIONAL: [&str; 10] = [
    "--collect.perf_schema.tablelocks",
    "--collect.info_schema.processlist",
    "--collect.info_schema.tables",
    "--collect.binlog_size",
    "--collect.info_schema.tablestats",
    "--collect.perf_schema.tableiowaits",
    "--collect.perf_schema.indexiowaits",
    "--collect.info_schema.userstats",
    "--collect.info_schema.clientstats",
    "--collect.engine_innodb_status",
];

#[test]
fn families_and_label_names_match_upstream() {
    if !upstream_binary(UPSTREAM) {
        return;
    }
    let Some(db) = MariaDb::start() else {
        return;
    };
    db.root_sql(
        "CREATE DATABASE pm; CREATE TABLE pm.t (id INT PRIMARY KEY) ENGINE=InnoDB;
         INSERT INTO pm.t VALUES (1),(2),(3); SELECT * FROM pm.t;",
    );
    let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let mut cmd = Command::new(UPSTREAM);
    // 0.14 reads its connection from DATA_SOURCE_NAME.
    cmd.env(
        "DATA_SOURCE_NAME",
        format!("{USER}:{PASSWORD}@tcp(127.0.0.1:{})/", db.port),
    )
    .arg(format!("--web.listen-address={addr}"))
    .args(OPTIONAL)
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    let upstream = Daemon::spawn(&mut cmd, addr, Duration::from_secs(30));
    let cnf = db.write_my_cnf("");
    let mut args = vec![format!("--config.my-cnf={}", cnf.display())];
    args.extend(OPTIONAL.iter().map(|s| s.to_string()));
    let ours = exporter(&args);

    // A query in flight, so that the processlist has a thread to show.
    let _sleeper = db.background_sql("SELECT SLEEP(30)");
    let theirs = shapes(&scrape(upstream.addr, "/metrics"));
    let mine = shapes(&scrape(ours.addr, "/metrics"));
    assert!(
        theirs.contains_key("mysql_global_status_uptime"),
        "upstream did not scrape MariaDB: {:?}",
        theirs.keys().collect::<Vec<_>>()
    );
    let mut missing = Vec::new();
    for (family, label_sets) in &theirs {
        if family.starts_with("go_") {
            continue;
        }
        match mine.get(family) {
            None => missing.push(format!("{family} (family)")),
            // Newer client_golang adds a `tags` label to build_info: upstream's must be there.
            Some(ours) if family.ends_with("_build_info") => {
                let ours: Vec<&String> = ours.iter().flatten().collect();
                for label in label_sets.iter().flatten() {
                    if !ours.contains(&label) {
                        missing.push(format!("{family} label {label}"));
                    }
                }
            }
            Some(ours) => {
                for labels in label_sets.difference(ours) {
                    missing.push(format!("{family} {labels:?}"));
                }
            }
        }
    }
    assert!(missing.is_empty(), "ours lacks: {missing:#?}");
}
