//! Regex matching and relabeling on the hot paths: a label matcher runs once per series a
//! selector touches, relabeling once per target and per scraped series.
//!
//! `cargo bench -p pm-common --bench relabel`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use pm_common::model::{FastRegexMatcher, GoRegex, Labels, LabelsBuilder, NameValidation};
use pm_common::relabel::{RelabelConfig, process_builder};

const VALUES: &[&str] = &[
    "foo",
    "bar",
    "foobar",
    "api-server-7d9f8c6b5-x2x9q",
    "prometheus-k8s-0",
    "node-exporter",
    "FOO",
    "10.0.12.7:9100",
    "",
    "a-much-longer-label-value-with-foo-in-the-middle-of-it",
];

fn regex_matching(c: &mut Criterion) {
    let mut group = c.benchmark_group("regex_match");
    for pattern in [
        "foo",
        "foo|bar|baz|qux",
        "foo.*",
        ".*foo",
        ".*foo.*",
        "(?i)foo",
        ".+",
        "api-server-.*|node-.*",
        "foo[0-9]+bar",
    ] {
        let fast = FastRegexMatcher::new(pattern).unwrap();
        let plain = GoRegex::new(pattern).unwrap();
        group.bench_function(format!("fast/{pattern}"), |b| {
            b.iter(|| {
                VALUES
                    .iter()
                    .filter(|v| fast.is_match(black_box(v)))
                    .count()
            })
        });
        group.bench_function(format!("regex/{pattern}"), |b| {
            b.iter(|| {
                VALUES
                    .iter()
                    .filter(|v| plain.is_match(black_box(v)))
                    .count()
            })
        });
    }
    group.finish();
}

/// A typical Kubernetes pod scrape config's target relabeling.
const K8S_RULES: &str = r#"
- source_labels: [__meta_kubernetes_pod_annotation_prometheus_io_scrape]
  action: keep
  regex: true
- source_labels: [__address__, __meta_kubernetes_pod_annotation_prometheus_io_port]
  action: replace
  regex: ([^:]+)(?::\d+)?;(\d+)
  replacement: $1:$2
  target_label: __address__
- action: labelmap
  regex: __meta_kubernetes_pod_label_(.+)
- source_labels: [__meta_kubernetes_namespace]
  target_label: namespace
- source_labels: [__meta_kubernetes_pod_name]
  target_label: pod
- source_labels: [__address__]
  modulus: 4
  target_label: __tmp_hash
  action: hashmod
- source_labels: [__tmp_hash]
  regex: 0|1|2|3
  action: keep
- regex: __meta_kubernetes_pod_annotation_.*
  action: labeldrop
"#;

fn relabeling(c: &mut Criterion) {
    let mut rules: Vec<RelabelConfig> = serde_norway::from_str(K8S_RULES).unwrap();
    for r in &mut rules {
        r.validate(NameValidation::Utf8).unwrap();
    }
    let target = Labels::from_pairs([
        ("__address__", "10.1.2.3:8080"),
        ("__meta_kubernetes_namespace", "monitoring"),
        ("__meta_kubernetes_pod_name", "api-server-7d9f8c6b5-x2x9q"),
        ("__meta_kubernetes_pod_label_app", "api"),
        ("__meta_kubernetes_pod_label_tier", "backend"),
        (
            "__meta_kubernetes_pod_annotation_prometheus_io_scrape",
            "true",
        ),
        (
            "__meta_kubernetes_pod_annotation_prometheus_io_port",
            "9090",
        ),
        ("__meta_kubernetes_pod_ip", "10.1.2.3"),
        ("job", "kubernetes-pods"),
    ]);
    let mut lb = LabelsBuilder::new(Labels::default());
    c.bench_function("relabel/k8s_pod_target", |b| {
        b.iter(|| {
            lb.reset(target.clone());
            assert!(process_builder(&mut lb, &rules));
            black_box(lb.labels())
        })
    });

    // Metric relabeling that keeps a series untouched: the common scrape-path case.
    let mut metric_rules: Vec<RelabelConfig> = serde_norway::from_str(
        "- {source_labels: [__name__], regex: 'go_gc_.*|process_.*', action: drop}",
    )
    .unwrap();
    metric_rules[0].validate(NameValidation::Utf8).unwrap();
    let series = Labels::from_pairs([
        ("__name__", "http_requests_total"),
        ("code", "200"),
        ("job", "api"),
    ]);
    c.bench_function("relabel/metric_drop_miss", |b| {
        b.iter(|| {
            lb.reset(series.clone());
            black_box(process_builder(&mut lb, &metric_rules))
        })
    });
}

criterion_group!(benches, regex_matching, relabeling);
criterion_main!(benches);
