//! Against a real MariaDB (Debian's) started here in a temporary datadir on loopback, with an
//! exporter account that has a password: the default collectors' families and values, counters
//! that move with real queries, `collect[]`, `/probe` (TCP, unix socket, auth modules and its
//! errors), bad credentials and an unreachable server (`mysql_up 0`), and `/-/reload`.
//!
//! One server serves every check (initialising a datadir takes seconds), so this is one test.

use crate::support;

use support::{MariaDb, exporter, exporter_with_env, get, http, scrape, value};

#[test]
fn real_mariadb() {
    let Some(db) = MariaDb::start() else {
        return;
    };
    let cnf = db.write_my_cnf(&format!(
        "[client.wrong]\npassword = nope\n[client.socket]\nsocket = {}\n",
        db.socket.display()
    ));
    let ours = exporter(&[
        format!("--config.my-cnf={}", cnf.display()),
        "--collect.info_schema.processlist".into(),
        "--collect.info_schema.tables".into(),
        "--collect.binlog_size".into(),
        "--collect.info_schema.tablestats".into(),
        "--collect.perf_schema.tableiowaits".into(),
        "--collect.perf_schema.indexiowaits".into(),
        "--collect.perf_schema.tablelocks".into(),
        "--collect.info_schema.userstats".into(),
        "--collect.info_schema.clientstats".into(),
        "--collect.engine_innodb_status".into(),
    ]);

    defaults(&db, ours.addr);
    counters_move(&db, ours.addr);
    collect_filter(ours.addr);
    optional(&db, ours.addr);
    statistics(&db, ours.addr);
    probe(&db, ours.addr);
    reload(&db, ours.addr, &cnf);
    unreachable(&db);
}

/// The default collectors against a healthy server.
fn defaults(db: &MariaDb, addr: std::net::SocketAddr) {
    let f = scrape(addr, "/metrics");
    assert_eq!(value(&f, "mysql_up", &[]), Some(1.0));
    assert_eq!(
        value(&f, "mysql_exporter_last_scrape_error", &[]),
        Some(0.0)
    );
    assert_eq!(value(&f, "mysql_exporter_scrapes_total", &[]), Some(1.0));
    assert!(value(&f, "mysql_global_status_uptime", &[]).unwrap() >= 0.0);
    assert!(
        value(
            &f,
            "mysql_global_status_commands_total",
            &[("command", "select")]
        )
        .is_some()
    );
    assert!(
        value(
            &f,
            "mysql_global_status_handlers_total",
            &[("handler", "read_rnd")]
        )
        .is_some()
    );
    assert!(
        value(
            &f,
            "mysql_global_status_buffer_pool_pages",
            &[("state", "data")]
        )
        .unwrap()
            > 0.0
    );
    assert_eq!(
        value(&f, "mysql_global_variables_max_connections", &[]),
        Some(151.0)
    );
    assert_eq!(
        value(&f, "mysql_global_variables_port", &[]),
        Some(f64::from(db.port))
    );
    let version = db.root_sql("SELECT @@version");
    let version = version.lines().nth(1).unwrap();
    assert_eq!(
        value(&f, "mysql_version_info", &[("version", version)]),
        Some(1.0)
    );
    assert_eq!(
        value(
            &f,
            "mysql_transaction_isolation",
            &[("level", "REPEATABLE-READ")]
        ),
        Some(1.0)
    );
    assert!(
        value(
            &f,
            "mysql_info_schema_innodb_cmp_compress_ops_total",
            &[("page_size", "16384")]
        )
        .is_some()
    );
    assert!(
        value(
            &f,
            "mysql_info_schema_innodb_cmpmem_pages_used_total",
            &[("page_size", "1024"), ("buffer_pool", "0")]
        )
        .is_some()
    );
    // The plugin is loaded and on: every query so far is in the histogram.
    assert!(value(&f, "mysql_info_schema_query_response_time_seconds", &[]).unwrap() > 0.0);
    for collector in [
        "connection",
        "collect.global_status",
        "collect.global_variables",
        "collect.slave_status",
        "collect.info_schema.innodb_cmp",
        "collect.info_schema.innodb_cmpmem",
        "collect.info_schema.query_response_time",
    ] {
        assert!(
            value(
                &f,
                "mysql_exporter_collector_duration_seconds",
                &[("collector", collector)]
            )
            .is_some(),
            "{collector}"
        );
    }
    assert_eq!(
        value(
            &f,
            "mysql_exporter_collector_success",
            &[("collector", "collect.slave_status")]
        ),
        Some(1.0)
    );
    assert!(value(&f, "process_resident_memory_bytes", &[]).is_some());
    assert!(value(&f, "mysqld_exporter_build_info", &[]).is_some());
    assert_eq!(
        value(&f, "mysqld_exporter_config_last_reload_successful", &[]),
        Some(1.0)
    );
}

/// Rows written and read through another client show up in the counters.
fn counters_move(db: &MariaDb, addr: std::net::SocketAddr) {
    let before = scrape(addr, "/metrics");
    db.root_sql(
        "CREATE DATABASE pm; CREATE TABLE pm.t (id INT PRIMARY KEY, v TEXT) ENGINE=InnoDB;
         INSERT INTO pm.t VALUES (1,'a'),(2,'b'),(3,'c'),(4,'d'),(5,'e');
         SELECT * FROM pm.t; SELECT * FROM pm.t WHERE id > 2;",
    );
    let after = scrape(addr, "/metrics");
    let delta = |name, labels: &[(&str, &str)]| {
        value(&after, name, labels).unwrap() - value(&before, name, labels).unwrap()
    };
    // MariaDB 10.11 has no Innodb_rows_* any more: inserted rows are handler writes.
    assert!(
        delta(
            "mysql_global_status_handlers_total",
            &[("handler", "write")]
        ) >= 5.0
    );
    assert!(
        delta(
            "mysql_global_status_commands_total",
            &[("command", "insert")]
        ) >= 1.0
    );
    assert!(
        delta(
            "mysql_global_status_commands_total",
            &[("command", "create_table")]
        ) >= 1.0
    );
    assert!(
        delta(
            "mysql_global_status_commands_total",
            &[("command", "select")]
        ) >= 2.0
    );
    assert_eq!(delta("mysql_exporter_scrapes_total", &[]), 1.0);
}

/// The optional collectors turned on by flags.
fn optional(db: &MariaDb, addr: std::net::SocketAddr) {
    let f = scrape(addr, "/metrics");
    for collector in [
        "collect.info_schema.processlist",
        "collect.info_schema.tables",
        "collect.binlog_size",
        "collect.info_schema.tablestats",
        "collect.perf_schema.tableiowaits",
        "collect.perf_schema.indexiowaits",
        "collect.perf_schema.tablelocks",
        "collect.info_schema.userstats",
        "collect.info_schema.clientstats",
        "collect.engine_innodb_status",
    ] {
        assert_eq!(
            value(
                &f,
                "mysql_exporter_collector_success",
                &[("collector", collector)]
            ),
            Some(1.0),
            "{collector}"
        );
    }
    // counters_move created pm.t with five rows (an InnoDB estimate, hence no exact value).
    assert!(
        value(
            &f,
            "mysql_info_schema_table_rows",
            &[("schema", "pm"), ("table", "t")]
        )
        .is_some()
    );
    assert!(
        value(
            &f,
            "mysql_info_schema_table_size",
            &[
                ("schema", "pm"),
                ("table", "t"),
                ("component", "data_length")
            ]
        )
        .unwrap()
            > 0.0
    );
    assert!(
        value(
            &f,
            "mysql_info_schema_table_version",
            &[("schema", "pm"), ("engine", "InnoDB")]
        )
        .is_some()
    );
    assert!(value(&f, "mysql_binlog_files", &[]).unwrap() >= 1.0);
    assert!(value(&f, "mysql_binlog_size_bytes", &[]).unwrap() > 0.0);
    assert!(value(&f, "mysql_binlog_file_number", &[]).unwrap() >= 1.0);

    let pm_t = [("schema", "pm"), ("table", "t")];
    assert!(
        value(
            &f,
            "mysql_info_schema_table_statistics_rows_read_total",
            &pm_t
        )
        .unwrap()
            >= 5.0
    );
    assert!(
        value(
            &f,
            "mysql_info_schema_table_statistics_rows_changed_total",
            &pm_t
        )
        .unwrap()
            >= 5.0
    );
    let inserts = [("schema", "pm"), ("name", "t"), ("operation", "insert")];
    assert!(value(&f, "mysql_perf_schema_table_io_waits_total", &inserts).unwrap() >= 5.0);
    assert!(
        value(
            &f,
            "mysql_perf_schema_table_io_waits_seconds_total",
            &inserts
        )
        .unwrap()
            > 0.0
    );
    let fetches = [
        ("schema", "pm"),
        ("name", "t"),
        ("index", "PRIMARY"),
        ("operation", "fetch"),
    ];
    assert!(value(&f, "mysql_perf_schema_index_io_waits_total", &fetches).is_some());
    let indexed_insert = [
        ("schema", "pm"),
        ("index", "PRIMARY"),
        ("operation", "insert"),
    ];
    assert!(
        value(
            &f,
            "mysql_perf_schema_index_io_waits_total",
            &indexed_insert
        )
        .is_none()
    );

    let locks = [
        ("schema", "pm"),
        ("name", "t"),
        ("operation", "read_normal"),
    ];
    assert!(value(&f, "mysql_perf_schema_sql_lock_waits_total", &locks).is_some());
    let external = [("schema", "pm"), ("name", "t"), ("operation", "write")];
    assert!(
        value(
            &f,
            "mysql_perf_schema_external_lock_waits_seconds_total",
            &external
        )
        .is_some()
    );

    // A query that runs while we scrape shows up as a thread of root's. Wait for the query
    // thread itself: root's idle connections (the harness's) are listed before it starts.
    let _sleeper = db.background_sql("SELECT SLEEP(20)");
    for _ in 0..100 {
        let f = scrape(addr, "/metrics?collect[]=info_schema.processlist");
        let running = value(
            &f,
            "mysql_info_schema_processlist_threads",
            &[("command", "query")],
        );
        if running.is_some_and(|n| n >= 1.0) {
            assert!(
                value(
                    &f,
                    "mysql_info_schema_processlist_processes_by_user",
                    &[("mysql_user", "root")],
                )
                .is_some()
            );
            assert!(
                value(
                    &f,
                    "mysql_info_schema_processlist_processes_by_host",
                    &[("client_host", "localhost")]
                )
                .is_some()
            );
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the sleeping query never appeared in the processlist");
}

/// `userstats`, `clientstats` and `engine_innodb_status`: per-user and per-client rows of
/// what counters_move did, and a read view that appears while a snapshot is held.
fn statistics(db: &MariaDb, addr: std::net::SocketAddr) {
    let f = scrape(addr, "/metrics");
    // counters_move inserted five rows as root over the socket.
    let root = [("user", "root")];
    assert!(
        value(
            &f,
            "mysql_info_schema_user_statistics_rows_inserted_total",
            &root
        )
        .unwrap()
            >= 5.0
    );
    assert!(
        value(
            &f,
            "mysql_info_schema_user_statistics_total_connections",
            &[("user", support::USER)]
        )
        .unwrap()
            >= 1.0
    );
    // A column upstream has no name for in this table: untyped, under its own name.
    assert!(
        value(
            &f,
            "mysql_info_schema_user_statistics_max_statement_time_exceeded",
            &root
        )
        .is_some()
    );
    let socket = [("client", "localhost")];
    assert!(
        value(
            &f,
            "mysql_info_schema_client_statistics_rows_inserted_total",
            &socket
        )
        .unwrap()
            >= 5.0
    );
    assert!(
        value(
            &f,
            "mysql_info_schema_client_statistics_total_connections",
            &[("client", "127.0.0.1")]
        )
        .unwrap()
            >= 1.0
    );
    assert!(
        value(
            &f,
            "mysql_info_schema_client_statistics_max_statement_time_exceeded_total",
            &socket
        )
        .is_some()
    );

    let views = "mysql_engine_innodb_read_views_open_inside_innodb";
    assert!(value(&f, views, &[]).is_some());
    let _snapshot = db.background_sql(
        "START TRANSACTION WITH CONSISTENT SNAPSHOT; SELECT * FROM pm.t; SELECT SLEEP(20)",
    );
    for _ in 0..100 {
        let f = scrape(addr, "/metrics?collect[]=engine_innodb_status");
        if value(&f, views, &[]).unwrap() >= 1.0 {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("the open snapshot never showed as a read view");
}

/// `collect[]` narrows the collectors to those named.
fn collect_filter(addr: std::net::SocketAddr) {
    let f = scrape(addr, "/metrics?collect[]=global_variables");
    assert!(value(&f, "mysql_global_variables_max_connections", &[]).is_some());
    assert!(value(&f, "mysql_global_status_uptime", &[]).is_none());
    assert!(
        value(
            &f,
            "mysql_exporter_collector_duration_seconds",
            &[("collector", "collect.global_status")]
        )
        .is_none()
    );
}

fn probe(db: &MariaDb, addr: std::net::SocketAddr) {
    let target = format!("127.0.0.1:{}", db.port);
    let f = scrape(addr, &format!("/probe?target={target}"));
    assert_eq!(value(&f, "mysql_up", &[]), Some(1.0));
    assert!(value(&f, "mysql_global_status_uptime", &[]).is_some());
    // A probe carries the target's families only, not the exporter process's.
    assert!(value(&f, "process_resident_memory_bytes", &[]).is_none());

    let socket = format!("unix://{}", db.socket.display());
    let f = scrape(
        addr,
        &format!("/probe?target={socket}&auth_module=client.socket"),
    );
    assert_eq!(value(&f, "mysql_up", &[]), Some(1.0));

    // Bad credentials: a scrape that succeeds with mysql_up 0.
    let f = scrape(
        addr,
        &format!("/probe?target={target}&auth_module=client.wrong"),
    );
    assert_eq!(value(&f, "mysql_up", &[]), Some(0.0));
    assert_eq!(
        value(&f, "mysql_exporter_last_scrape_error", &[]),
        Some(1.0)
    );
    assert!(value(&f, "mysql_global_status_uptime", &[]).is_none());

    assert_eq!(get(addr, "/probe"), (400, "target is required\n".into()));
    assert_eq!(
        get(addr, &format!("/probe?target={target}&auth_module=nope")),
        (400, "Could not find config section [nope]\n".into())
    );
    assert_eq!(
        get(addr, "/probe?target=no-port"),
        (
            400,
            "Error forming dsn from config section [client]\n".into()
        )
    );
}

/// A bad file keeps the old configuration; a good one replaces it.
fn reload(db: &MariaDb, addr: std::net::SocketAddr, cnf: &std::path::Path) {
    std::fs::write(cnf, "[client\n").unwrap();
    assert_eq!(http("POST", addr, "/-/reload", ""), (200, String::new()));
    let f = scrape(addr, "/metrics");
    assert_eq!(
        value(&f, "mysqld_exporter_config_last_reload_successful", &[]),
        Some(0.0)
    );
    assert_eq!(value(&f, "mysql_up", &[]), Some(1.0));

    db.write_my_cnf("[client.extra]\n");
    assert_eq!(http("POST", addr, "/-/reload", ""), (200, "ok".into()));
    let f = scrape(addr, "/metrics");
    assert_eq!(
        value(&f, "mysqld_exporter_config_last_reload_successful", &[]),
        Some(1.0)
    );
    let (status, _) = get(
        addr,
        &format!(
            "/probe?target=127.0.0.1:{}&auth_module=client.extra",
            db.port
        ),
    );
    assert_eq!(status, 200);
}

/// A server that is gone, and bad credentials on `/metrics`: `mysql_up 0`, never a failed
/// scrape.
fn unreachable(db: &MariaDb) {
    let port = pm_testsupport::free_port();
    let down = exporter(&[
        format!("--config.my-cnf={}", db.dir().join("absent.cnf").display()),
        format!("--mysqld.address=127.0.0.1:{port}"),
        "--mysqld.username=exporter".into(),
    ]);
    let f = scrape(down.addr, "/metrics");
    assert_eq!(value(&f, "mysql_up", &[]), Some(0.0));
    assert_eq!(
        value(&f, "mysql_exporter_last_scrape_error", &[]),
        Some(1.0)
    );

    let wrong = exporter(&[
        format!("--config.my-cnf={}", db.dir().join("absent.cnf").display()),
        format!("--mysqld.address=127.0.0.1:{}", db.port),
        "--mysqld.username=exporter".into(),
    ]);
    let f = scrape(wrong.addr, "/metrics");
    assert_eq!(value(&f, "mysql_up", &[]), Some(0.0));

    // The same flags with the password in the environment, and no file at all.
    let from_env = exporter_with_env(
        &[
            format!("--config.my-cnf={}", db.dir().join("absent.cnf").display()),
            format!("--mysqld.address=127.0.0.1:{}", db.port),
            "--mysqld.username=exporter".into(),
        ],
        &[("MYSQLD_EXPORTER_PASSWORD", support::PASSWORD)],
    );
    let f = scrape(from_env.addr, "/metrics");
    assert_eq!(value(&f, "mysql_up", &[]), Some(1.0));
}
