//! Our server's life: a bad config at start, reloads (good, bad, via SIGHUP), the WAL replayed
//! at start and intact after SIGTERM, `/-/quit`, and federation of what the WAL holds.

use crate::server_support;

use std::path::Path;

use pm_common::expfmt::proto::decode_delimited;
use pm_common::metrics::Registry;
use pm_common::model::Labels;
use pm_storage::{Appendable, Queryable, SeriesRef, ValueType};
use pm_tsdb::db::{Db, DbOptions};
use server_support::{OURS, start};

const CONFIG: &str = "global:\n  scrape_interval: 15s\n  external_labels:\n    dc: eu\n";

/// Writes two series into `data` through pm-tsdb (into the head, so into the WAL), at the
/// last minute before now.
fn fill(data: &Path) -> i64 {
    let now = jiff::Timestamp::now().as_millisecond();
    let db = Db::open(data, DbOptions::default(), &Registry::new()).unwrap();
    let mut app = db.appender();
    for (job, v) in [("a", 1.0), ("b", 2.0)] {
        let labels = Labels::from_pairs([("__name__", "up"), ("job", job)]);
        for i in 0..4 {
            app.append(SeriesRef::UNKNOWN, &labels, now - 60_000 + i * 15_000, v)
                .unwrap();
        }
    }
    let other = Labels::from_pairs([("__name__", "other"), ("dc", "us")]);
    app.append(SeriesRef::UNKNOWN, &other, now - 1_000, 7.0)
        .unwrap();
    app.commit().unwrap();
    db.close().unwrap();
    now
}

#[test]
fn bad_config_at_start_exits_2_naming_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("bad.yml");
    std::fs::write(&config, "global:\n  scrape_interval: 15x\n").unwrap();
    let out = std::process::Command::new(OURS)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg("--web.listen-address=127.0.0.1:0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Error loading config"), "{stderr}");
    assert!(stderr.contains("bad.yml"), "{stderr}");
    assert!(stderr.contains("line 2"), "{stderr}");
}

#[test]
fn help_lists_upstream_flags() {
    let out = std::process::Command::new(OURS)
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--config.file",
        "--web.listen-address",
        "--web.enable-lifecycle",
        "--storage.tsdb.retention.time",
        "--query.lookback-delta",
        "--enable-feature",
        "--log.level",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help:\n{help}");
    }
    assert!(
        !help.contains("min-block-duration"),
        "hidden as upstream:\n{help}"
    );
}

#[tokio::test]
async fn reloads_keep_the_old_config_when_the_new_one_is_bad() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = start(OURS, dir.path(), &data, CONFIG, &["--web.enable-lifecycle"]).await;

    std::fs::write(&server.config, "global:\n  scrape_interval: 30s\n").unwrap();
    assert_eq!(server.post("/-/reload", None).await, (200, String::new()));
    let (_, config) = server.get("/api/v1/status/config").await;
    assert!(config.contains("scrape_interval: 30s"), "{config}");

    std::fs::write(&server.config, "global:\n  scrape_interval: nope\n").unwrap();
    let (code, body) = server.post("/-/reload", None).await;
    assert_eq!(code, 500);
    assert!(
        body.starts_with("failed to reload config: couldn't load configuration (--config.file="),
        "{body}"
    );
    assert!(body.contains("line 2"), "{body}");
    let (_, config) = server.get("/api/v1/status/config").await;
    assert!(
        config.contains("scrape_interval: 30s"),
        "old config kept: {config}"
    );
    let (_, metrics) = server.get("/metrics").await;
    assert!(
        metrics.contains("prometheus_config_last_reload_successful 0\n"),
        "{metrics}"
    );
    let (_, info) = server.get("/api/v1/status/runtimeinfo").await;
    assert!(info.contains(r#""reloadConfigSuccess":false"#), "{info}");

    // SIGHUP reloads too.
    std::fs::write(&server.config, "global:\n  scrape_interval: 45s\n").unwrap();
    server.signal("HUP");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, metrics) = server.get("/metrics").await;
        if metrics.contains("prometheus_config_last_reload_successful 1\n") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "SIGHUP did not reload"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let (_, config) = server.get("/api/v1/status/config").await;
    assert!(config.contains("scrape_interval: 45s"), "{config}");
}

#[tokio::test]
async fn wal_is_replayed_served_federated_and_intact_after_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let now = fill(&data);
    let mut server = start(OURS, dir.path(), &data, CONFIG, &[]).await;

    let (code, body) = server
        .get(&format!("/api/v1/query?query=sum(up)&time={}", now / 1000))
        .await;
    assert_eq!(code, 200);
    assert!(body.contains(r#""3"]"#), "{body}");

    // Text: families by name, external labels added where missing, an empty instance label.
    let (ct, text) = server
        .get_with("/federate?match[]=up&match[]=other", &[])
        .await;
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    let text = String::from_utf8(text).unwrap();
    let last = now - 60_000 + 45_000;
    assert_eq!(
        text,
        format!(
            "# TYPE other untyped\nother{{dc=\"us\",instance=\"\"}} 7 {}\n# TYPE up untyped\nup{{job=\"a\",dc=\"eu\",instance=\"\"}} 1 {last}\nup{{job=\"b\",dc=\"eu\",instance=\"\"}} 2 {last}\n",
            now - 1_000
        )
    );
    let accept = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited";
    let (ct, body) = server
        .get_with("/federate?match[]=up", &[("accept", accept)])
        .await;
    assert!(ct.starts_with("application/vnd.google.protobuf"), "{ct}");
    let families = decode_delimited(&body).unwrap();
    assert_eq!(families.len(), 1);
    assert_eq!(families[0].name(), "up");
    assert_eq!(families[0].metric.len(), 2);
    assert_eq!(families[0].metric[1].untyped.as_ref().unwrap().value(), 2.0);
    assert_eq!(families[0].metric[1].timestamp_ms(), last);

    server.signal("TERM");
    assert_eq!(server.wait_exit(), Some(0));
    assert!(
        !data.join("lock").exists(),
        "a clean shutdown removes the lock file"
    );

    let db = Db::open(&data, DbOptions::default(), &Registry::new()).unwrap();
    let q = db.querier(now - 120_000, now).unwrap();
    let matcher =
        pm_common::model::Matcher::new(pm_common::model::MatchType::Equal, "__name__", "up")
            .unwrap();
    let mut set = q.select(true, None, &[matcher]);
    let mut samples = 0;
    while let Some(s) = set.next() {
        let mut it = s.iter();
        while it.next() != ValueType::None {
            samples += 1;
        }
    }
    assert_eq!(samples, 8);
}

#[tokio::test]
async fn quit_stops_the_server_when_lifecycle_is_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = start(
        OURS,
        dir.path(),
        &dir.path().join("data"),
        CONFIG,
        &["--web.enable-lifecycle"],
    )
    .await;
    let (code, body) = server.post("/-/quit", None).await;
    assert_eq!(
        (code, body.as_str()),
        (200, "Requesting termination... Goodbye!")
    );
    assert_eq!(server.wait_exit(), Some(0));
}
