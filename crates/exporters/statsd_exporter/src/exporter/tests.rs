use std::sync::Arc;

use pm_common::expfmt::encode::write_text;
use pm_common::metrics::Registry;
use pm_mapper::{CacheType, CachedMapper, MetricMapper};

use super::Exporter;
use crate::event::{Event, EventKind};
use crate::metrics::ExporterMetrics;

fn exporter(config: &str, max_series: usize) -> (Exporter, Registry) {
    let registry = Registry::new();
    let metrics = ExporterMetrics::register(&registry).unwrap();
    let mapper = MetricMapper::from_yaml(config, "test.yml").unwrap();
    let mapper = Arc::new(CachedMapper::new(mapper, 10, CacheType::Lru, None));
    (Exporter::new(mapper, max_series, metrics), registry)
}

fn event(name: &str, value: f64, kind: EventKind, labels: &[(&str, &str)]) -> Event {
    Event {
        name: name.into(),
        value,
        labels: labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        kind,
    }
}

fn exposed(e: &Exporter) -> String {
    let mut out = String::new();
    e.with_families(|families| {
        for f in families {
            write_text(&mut out, &f).unwrap();
        }
    });
    out
}

fn own(r: &Registry) -> String {
    String::from_utf8(pm_common::metrics::render(&r.gather(), None).1).unwrap()
}

#[test]
fn mapping_labels_scale_and_honor_labels() {
    let (e, _) = exporter(
        r#"
mappings:
- match: "app.*.hits"
  name: hits_total
  help: Hits per app.
  labels: {app: "$1", env: mapped}
- match: "keep.*"
  name: kept
  honor_labels: true
  labels: {env: mapped}
- match: "ms.*"
  name: "seconds_$1"
  scale: 0.001
  observer_type: histogram
  histogram_options: {buckets: [0.5]}
"#,
        0,
    );
    e.handle(&[
        event("app.web.hits", 2.0, EventKind::Counter, &[("env", "sent")]),
        event(
            "keep.a",
            1.0,
            EventKind::Gauge { relative: false },
            &[("env", "sent")],
        ),
        event("ms.x", 250.0, EventKind::Observer { count: 2 }, &[]),
    ]);
    let text = exposed(&e);
    assert!(text.contains("# HELP hits_total Hits per app.\n"), "{text}");
    assert!(
        text.contains("hits_total{app=\"web\",env=\"mapped\"} 2\n"),
        "{text}"
    );
    assert!(text.contains("kept{env=\"sent\"} 1\n"), "{text}");
    assert!(text.contains("seconds_x_bucket{le=\"0.5\"} 2\n"), "{text}");
    assert!(text.contains("seconds_x_sum 0.5\n"), "{text}");
}

#[test]
fn drops_negative_counters_and_conflicts_are_counted() {
    let (e, registry) = exporter(
        "mappings:\n- {match: gone.*, name: gone, action: drop}\n",
        0,
    );
    e.handle(&[
        event("gone.x", 1.0, EventKind::Counter, &[]),
        event("neg", -1.0, EventKind::Counter, &[]),
        event("same", 1.0, EventKind::Counter, &[]),
        event("same", 1.0, EventKind::Gauge { relative: false }, &[]),
        event("obs", 1.0, EventKind::Observer { count: 3 }, &[]),
    ]);
    let own = own(&registry);
    for line in [
        "statsd_exporter_events_actions_total{action=\"drop\"} 1",
        "statsd_exporter_events_error_total{reason=\"illegal_negative_counter\"} 1",
        "statsd_exporter_events_conflict_total{metric_name=\"same\",type=\"gauge\"} 1",
        "statsd_exporter_events_unmapped_total 6",
        "statsd_exporter_events_total{type=\"observer\"} 3",
        "statsd_exporter_metrics_total{type=\"counter\"} 1",
        "statsd_exporter_metrics_total{type=\"summary\"} 1",
    ] {
        assert!(own.lines().any(|l| l == line), "{line} missing in\n{own}");
    }
    assert!(!exposed(&e).contains("gone"));
}

#[test]
fn series_cap_and_ttl_free_room() {
    let (e, _) = exporter("defaults: {ttl: 1ms}\n", 2);
    e.handle(&[
        event("a", 1.0, EventKind::Counter, &[]),
        event("b", 1.0, EventKind::Counter, &[]),
        event("c", 1.0, EventKind::Counter, &[]),
    ]);
    assert_eq!(e.series_count(), 2);
    // Bounded wait for the 1 ms TTL to pass on the exporter's clock.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while e.series_count() > 0 {
        assert!(std::time::Instant::now() < deadline, "series never expired");
        std::thread::sleep(std::time::Duration::from_millis(2));
        e.remove_stale();
    }
    e.handle(&[event("c", 1.0, EventKind::Counter, &[])]);
    assert!(exposed(&e).contains("\nc 1\n"));
}

#[test]
fn summary_windows_come_from_the_mapping_or_the_defaults() {
    let (e, _) = exporter(
        r#"
defaults:
  summary_options: {max_age: 500ms, age_buckets: 2}
mappings:
- match: "short.*"
  name: short
- match: "long.*"
  name: long
  summary_options: {max_age: 1h}
"#,
        0,
    );
    let observe = |name: &str| event(name, 7.0, EventKind::Observer { count: 1 }, &[]);
    e.handle(&[observe("short.a"), observe("long.a"), observe("unmapped")]);
    // The defaults' half-second window forgets the observation; the mapping's hour keeps it.
    for _ in 0..500 {
        let text = exposed(&e);
        if text.contains("short{quantile=\"0.5\"} NaN\n") {
            assert!(text.contains("unmapped{quantile=\"0.5\"} NaN\n"), "{text}");
            assert!(text.contains("long{quantile=\"0.5\"} 7\n"), "{text}");
            assert!(text.contains("short_count 1\n"), "{text}");
            assert!(text.contains("unmapped_count 1\n"), "{text}");
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("the half-second summary window never forgot its observation");
}
