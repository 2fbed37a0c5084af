//! The append path of one target, driven directly: label handling, limits, staleness, the
//! cache and the three formats, into pm-storage's in-memory storage and a TSDB.

use std::sync::Arc;

use pm_common::expfmt::dto;
use pm_common::expfmt::proto::encode_delimited;
use pm_common::metrics::Registry;
use pm_common::model::{Labels, is_stale_nan};
use pm_discovery::TargetGroup;
use pm_prometheus::config::{ScrapeConfig, load_str};
use pm_prometheus::scrape::{
    AppendError, GroupTargets, ScrapeMetrics, Target, TargetAppender, targets_from_group,
};
use pm_storage::{Appendable, MemStorage, SampleValue};

const TEXT: &str = "text/plain; version=0.0.4";

fn job(extra: &str) -> ScrapeConfig {
    let yaml = format!("scrape_configs:\n- job_name: node\n{extra}");
    load_str(&yaml, "test.yml")
        .expect("config loads")
        .scrape_configs[0]
        .clone()
}

fn target(cfg: &ScrapeConfig) -> Arc<Target> {
    let group = TargetGroup {
        source: "s".into(),
        targets: vec![Labels::from_pairs([("__address__", "h:9100")])],
        labels: Labels::empty(),
    };
    let mut out = GroupTargets::default();
    targets_from_group(cfg, &group, &mut out);
    Arc::new(out.active.pop().expect("one target"))
}

struct Fixture {
    storage: Arc<MemStorage>,
    target: Arc<Target>,
    appender: TargetAppender,
    registry: Registry,
}

impl Fixture {
    fn new(extra: &str) -> Fixture {
        let cfg = job(extra);
        let registry = Registry::new();
        let metrics = Arc::new(ScrapeMetrics::register(&registry).unwrap());
        let target = target(&cfg);
        Fixture {
            storage: Arc::new(MemStorage::new()),
            appender: TargetAppender::new(target.clone(), &cfg, metrics),
            target,
            registry,
        }
    }

    fn scrape(
        &mut self,
        body: &str,
        ts: i64,
    ) -> Result<pm_prometheus::scrape::AppendStats, AppendError> {
        self.scrape_bytes(body.as_bytes(), TEXT, ts)
    }

    /// One transaction, committed on success and rolled back (then an empty append, as the
    /// loop does) on failure.
    fn scrape_bytes(
        &mut self,
        body: &[u8],
        content_type: &str,
        ts: i64,
    ) -> Result<pm_prometheus::scrape::AppendStats, AppendError> {
        let mut app = self.storage.appender();
        match self.appender.append(&mut *app, body, content_type, ts) {
            Ok(stats) => {
                app.commit().unwrap();
                Ok(stats)
            }
            Err(err) => {
                app.rollback().unwrap();
                let mut app = self.storage.appender();
                self.appender.append(&mut *app, &[], "", ts).unwrap();
                app.commit().unwrap();
                Err(err)
            }
        }
    }

    fn values(&self, pairs: &[(&str, &str)]) -> Vec<(i64, f64)> {
        self.storage
            .samples(&Labels::from_pairs(pairs.iter().copied()))
            .into_iter()
            .map(|s| match s.value {
                SampleValue::Float(v) => (s.t, v),
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    fn counter(&self, name: &str) -> f64 {
        self.registry
            .gather()
            .into_iter()
            .find(|f| f.name() == name)
            .map(|f| {
                f.metric
                    .iter()
                    .map(|m| m.counter.as_ref().unwrap().value())
                    .sum()
            })
            .unwrap_or(0.0)
    }
}

const TARGET: [(&str, &str); 2] = [("instance", "h:9100"), ("job", "node")];

fn with_target<'a>(pairs: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v = pairs.to_vec();
    v.extend(TARGET);
    v
}

#[test]
fn target_labels_are_added_and_clashing_ones_exported() {
    let mut f = Fixture::new("");
    let stats = f
        .scrape("m{job=\"other\",exported_job=\"x\"} 1\nn 2\n", 1000)
        .unwrap();
    assert_eq!((stats.total, stats.added, stats.series_added), (2, 2, 2));
    assert_eq!(
        f.values(&with_target(&[
            ("__name__", "m"),
            ("exported_job", "x"),
            ("exported_exported_job", "other"),
        ])),
        [(1000, 1.0)]
    );
    assert_eq!(f.values(&with_target(&[("__name__", "n")])), [(1000, 2.0)]);
}

#[test]
fn honor_labels_keeps_exposed_values() {
    let mut f = Fixture::new("  honor_labels: true\n");
    f.scrape("m{job=\"other\"} 1\n", 1000).unwrap();
    assert_eq!(
        f.values(&[("__name__", "m"), ("job", "other"), ("instance", "h:9100")]),
        [(1000, 1.0)]
    );
}

#[test]
fn honor_timestamps_decides_between_exposed_and_scrape_time() {
    let mut f = Fixture::new("");
    f.scrape("m 1 500\n", 1000).unwrap();
    assert_eq!(f.values(&with_target(&[("__name__", "m")])), [(500, 1.0)]);
    let mut f = Fixture::new("  honor_timestamps: false\n");
    f.scrape("m 1 500\n", 1000).unwrap();
    assert_eq!(f.values(&with_target(&[("__name__", "m")])), [(1000, 1.0)]);
}

#[test]
fn metric_relabeling_drops_and_keeps() {
    let mut f = Fixture::new(
        "  metric_relabel_configs:\n  - source_labels: [__name__]\n    regex: drop_.*\n    action: drop\n",
    );
    let stats = f.scrape("drop_me 1\nkeep_me 2\n", 1000).unwrap();
    assert_eq!((stats.total, stats.added), (2, 1));
    assert!(
        f.values(&with_target(&[("__name__", "drop_me")]))
            .is_empty()
    );
    assert_eq!(
        f.values(&with_target(&[("__name__", "keep_me")])),
        [(1000, 2.0)]
    );
    // The dropped series is remembered: the next scrape skips it without relabeling.
    let stats = f.scrape("drop_me 1\nkeep_me 3\n", 2000).unwrap();
    assert_eq!((stats.total, stats.added, stats.series_added), (2, 1, 0));
}

#[test]
fn sample_limit_fails_the_scrape_and_stales_previous_series() {
    let mut f = Fixture::new("  sample_limit: 2\n");
    f.scrape("a 1\nb 1\n", 1000).unwrap();
    let err = f.scrape("a 1\nb 1\nc 1\n", 2000).unwrap_err();
    assert_eq!(err.to_string(), "sample limit exceeded");
    // The partial counts are what `scrape_samples_scraped` and friends report.
    assert_eq!((err.stats.total, err.stats.added), (3, 3));
    assert_eq!(
        f.counter("prometheus_target_scrapes_exceeded_sample_limit_total"),
        1.0
    );
    assert!(f.values(&with_target(&[("__name__", "c")])).is_empty());
    let b = f.values(&with_target(&[("__name__", "b")]));
    assert_eq!(
        b.len(),
        1,
        "the failed scrape's samples were rolled back: {b:?}"
    );
}

#[test]
fn label_limits_fail_with_upstream_texts() {
    let cases = [
        (
            "  label_limit: 3\n",
            "m{a=\"1\",b=\"2\"} 1\n",
            "label_limit exceeded (metric: m, number of labels: 5, limit: 3)",
        ),
        (
            "  label_name_length_limit: 10\n",
            "m{toolongname=\"1\"} 1\n",
            "label_name_length_limit exceeded (metric: m, label name: toolongname, length: 11, limit: 10)",
        ),
        (
            "  label_value_length_limit: 3\n",
            "m{a=\"abcdef\"} 1\n",
            "label_value_length_limit exceeded (metric: m, label name: a, value: \"abcdef\", length: 6, limit: 3)",
        ),
    ];
    for (cfg, body, want) in cases {
        let mut f = Fixture::new(cfg);
        let err = f.scrape(body, 1000).unwrap_err();
        assert_eq!(err.to_string(), want);
        assert_eq!(
            f.counter("prometheus_target_scrape_pool_exceeded_label_limits_total"),
            1.0
        );
    }
}

#[test]
fn disappearing_series_get_a_staleness_marker() {
    let mut f = Fixture::new("");
    f.scrape("a 1\nb 1\n", 1000).unwrap();
    f.scrape("a 2\n", 2000).unwrap();
    let b = f.values(&with_target(&[("__name__", "b")]));
    assert_eq!(b.len(), 2);
    assert_eq!(b[1].0, 2000);
    assert!(is_stale_nan(b[1].1));
    let a = f.values(&with_target(&[("__name__", "a")]));
    assert_eq!(a, [(1000, 1.0), (2000, 2.0)]);
}

#[test]
fn a_failed_scrape_stales_everything() {
    let mut f = Fixture::new("");
    f.scrape("a 1\n", 1000).unwrap();
    f.scrape("a{ 1\n", 2000).unwrap_err();
    let a = f.values(&with_target(&[("__name__", "a")]));
    assert_eq!(a.len(), 2);
    assert!(is_stale_nan(a[1].1));
}

#[test]
fn exposed_timestamps_are_not_tracked_for_staleness() {
    let mut f = Fixture::new("");
    f.scrape("a 1 900\n", 1000).unwrap();
    f.scrape("", 2000).unwrap();
    assert_eq!(f.values(&with_target(&[("__name__", "a")])), [(900, 1.0)]);
}

#[test]
fn duplicates_within_a_scrape_are_counted_not_fatal() {
    let mut f = Fixture::new("");
    let stats = f.scrape("a 1\na 2\nb 1\n", 1000).unwrap();
    assert_eq!(stats.added, 3);
    assert_eq!(f.values(&with_target(&[("__name__", "a")])), [(1000, 1.0)]);
    assert_eq!(
        f.counter("prometheus_target_scrapes_sample_duplicate_timestamp_total"),
        1.0
    );
}

#[test]
fn out_of_order_samples_are_counted_not_fatal() {
    let mut f = Fixture::new("");
    f.scrape("a 1 2000\n", 3000).unwrap();
    let stats = f.scrape("a 1 1000\nb 1\n", 4000).unwrap();
    assert_eq!(stats.added, 2);
    assert_eq!(
        f.counter("prometheus_target_scrapes_sample_out_of_order_total"),
        1.0
    );
    assert_eq!(f.values(&with_target(&[("__name__", "b")])), [(4000, 1.0)]);
}

#[test]
fn openmetrics_body_and_metadata() {
    let mut f = Fixture::new("");
    let body = "# TYPE req_seconds counter\n# HELP req_seconds Time spent.\n# UNIT req_seconds seconds\nreq_seconds_total 3\n# EOF\n";
    let stats = f
        .scrape_bytes(
            body.as_bytes(),
            "application/openmetrics-text; version=1.0.0",
            1000,
        )
        .unwrap();
    assert_eq!(stats.total, 1);
    assert_eq!(
        f.values(&with_target(&[("__name__", "req_seconds_total")])),
        [(1000, 3.0)]
    );
    let meta = f
        .target
        .metadata()
        .get("req_seconds")
        .expect("metadata kept");
    assert_eq!(meta.metric_type, pm_common::model::MetricType::Counter);
    assert_eq!(
        (meta.help.as_str(), meta.unit.as_str()),
        ("Time spent.", "seconds")
    );
}

#[test]
fn protobuf_body_with_a_classic_histogram() {
    let mut f = Fixture::new("");
    let family = dto::MetricFamily {
        name: Some("lat".into()),
        help: Some("Latency.".into()),
        r#type: Some(dto::MetricType::Histogram as i32),
        metric: vec![dto::Metric {
            histogram: Some(dto::Histogram {
                sample_count: Some(3),
                sample_sum: Some(1.5),
                bucket: vec![dto::Bucket {
                    cumulative_count: Some(2),
                    upper_bound: Some(1.0),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }],
        unit: None,
    };
    let mut body = Vec::new();
    encode_delimited(&family, &mut body);
    let stats = f
        .scrape_bytes(
            &body,
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited",
            1000,
        )
        .unwrap();
    assert_eq!(stats.total, 4);
    assert_eq!(
        f.values(&with_target(&[("__name__", "lat_count")])),
        [(1000, 3.0)]
    );
    assert_eq!(
        f.values(&with_target(&[("__name__", "lat_sum")])),
        [(1000, 1.5)]
    );
    assert_eq!(
        f.values(&with_target(&[("__name__", "lat_bucket"), ("le", "1.0")])),
        [(1000, 2.0)]
    );
    assert_eq!(
        f.values(&with_target(&[("__name__", "lat_bucket"), ("le", "+Inf")])),
        [(1000, 3.0)]
    );
}

#[test]
fn unsupported_content_type_fails_the_scrape() {
    let mut f = Fixture::new("");
    let err = f
        .scrape_bytes(b"a 1\n", "application/json", 1000)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "received unsupported Content-Type \"application/json\" and no fallback_scrape_protocol specified for target"
    );
    let mut f = Fixture::new("  fallback_scrape_protocol: PrometheusText0.0.4\n");
    f.scrape_bytes(b"a 1\n", "", 1000).unwrap();
    assert_eq!(f.values(&with_target(&[("__name__", "a")])), [(1000, 1.0)]);
}

#[test]
fn steady_state_scrapes_do_not_grow_the_tsdb() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::new();
    let db = Arc::new(
        pm_tsdb::db::Db::open(dir.path(), pm_tsdb::db::DbOptions::default(), &registry).unwrap(),
    );
    let cfg = job("");
    let metrics = Arc::new(ScrapeMetrics::register(&registry).unwrap());
    let mut appender = TargetAppender::new(target(&cfg), &cfg, metrics);
    let body: String = (0..200).map(|i| format!("m{{i=\"{i}\"}} {i}\n")).collect();
    let now = 1_700_000_000_000;
    for round in 0..5 {
        let mut app = db.appender();
        let stats = appender
            .append(&mut *app, body.as_bytes(), TEXT, now + round * 1000)
            .unwrap();
        app.commit().unwrap();
        assert_eq!(stats.total, 200);
        // New series only on the first scrape; later ones hit the cache.
        assert_eq!(stats.series_added, if round == 0 { 200 } else { 0 });
        assert_eq!(db.head().num_series(), 200);
    }
}
