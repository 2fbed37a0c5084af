//! Mapping behaviour as upstream's mapper tests pin it down, plus the shipped example config.

use std::time::Duration;

use crate::{ActionType, CacheType, CachedMapper, MetricMapper, MetricType, ObserverType};

/// What one lookup must give: `None` for no match, else the name and labels.
type Want<'a> = Option<(&'a str, &'a [(&'a str, &'a str)])>;

fn load(config: &str) -> MetricMapper {
    MetricMapper::from_yaml(config, "test.yml").unwrap_or_else(|e| panic!("{e}\n{config}"))
}

/// Checks `cases` against the plain mapper and against both cache types (twice each, so that
/// the second round is served from the cache).
fn check(config: &str, cases: &[(&str, MetricType, Want<'_>)]) {
    let plain = load(config);
    let cached: Vec<CachedMapper> = [CacheType::Lru, CacheType::Random]
        .into_iter()
        .map(|t| CachedMapper::new(load(config), 2, t, None))
        .collect();
    for _round in 0..2 {
        for (metric, metric_type, want) in cases {
            let mut got = vec![plain.get_mapping(metric, *metric_type)];
            got.extend(
                cached
                    .iter()
                    .map(|c| c.get_mapping(metric, *metric_type).map(|m| (*m).clone())),
            );
            for got in got {
                let got = got.map(|m| (m.name, m.labels));
                let want = want.map(|(name, labels)| {
                    let labels = labels.iter().map(|(k, v)| (k.to_string(), v.to_string()));
                    let mut labels: Vec<_> = labels.collect();
                    labels.sort();
                    (name.to_string(), labels)
                });
                assert_eq!(got, want, "{metric} ({metric_type})\n{config}");
            }
        }
    }
}

fn bad(config: &str) -> String {
    MetricMapper::from_yaml(config, "bad.yml")
        .err()
        .unwrap_or_else(|| panic!("loaded a bad config:\n{config}"))
        .to_string()
}

const C: MetricType = MetricType::Counter;
const G: MetricType = MetricType::Gauge;

#[test]
fn several_mappings_glob_before_regex() {
    let config = r#"
mappings:
- match: test.dispatcher.*.*.*
  name: "dispatch_events"
  labels: {processor: "$1", action: "$2", result: "$3", job: "test_dispatcher"}
- match: test.my-dispatch-host01.name.dispatcher.*.*.*
  name: "host_dispatch_events"
  labels: {processor: "$1", action: "$2", result: "$3"}
- match: request_time.*.*.*.*.*.*.*.*.*.*.*.*
  name: "tyk_http_request"
  labels: {method_and_path: "${1}", ipv4_t4: "${10}", orgid: "${11}", oauthid: "${12}"}
- match: "*.*"
  name: "catchall"
  labels: {first: "$1", second: "$2", third: "$3", job: "$1-$2-$3"}
- match: (.*)\.(.*)-(.*)\.(.*)
  match_type: regex
  name: "proxy_requests_total"
  labels: {job: "$1", protocol: "$2", endpoint: "$3", result: "$4"}
"#;
    check(
        config,
        &[
            (
                "test.dispatcher.FooProcessor.send.succeeded",
                C,
                Some((
                    "dispatch_events",
                    &[
                        ("processor", "FooProcessor"),
                        ("action", "send"),
                        ("result", "succeeded"),
                        ("job", "test_dispatcher"),
                    ],
                )),
            ),
            (
                "test.my-dispatch-host01.name.dispatcher.FooProcessor.send.succeeded",
                C,
                Some((
                    "host_dispatch_events",
                    &[
                        ("processor", "FooProcessor"),
                        ("action", "send"),
                        ("result", "succeeded"),
                    ],
                )),
            ),
            (
                "request_time.get/threads/1/posts.200.00000000.nonversioned.discussions.a11bbcdf0ac64ec243658dc64b7100fb.172.20.0.1.12ba97b7eaa1a50001000001.",
                C,
                Some((
                    "tyk_http_request",
                    &[
                        ("method_and_path", "get/threads/1/posts"),
                        ("ipv4_t4", "1"),
                        ("orgid", "12ba97b7eaa1a50001000001"),
                        ("oauthid", ""),
                    ],
                )),
            ),
            (
                "foo.bar",
                C,
                Some((
                    "catchall",
                    &[
                        ("first", "foo"),
                        ("second", "bar"),
                        ("third", ""),
                        ("job", "foo-bar-"),
                    ],
                )),
            ),
            ("foo.bar.baz", C, None),
            (
                "proxy-1.http-goober.success",
                C,
                Some((
                    "proxy_requests_total",
                    &[
                        ("job", "proxy-1"),
                        ("protocol", "http"),
                        ("endpoint", "goober"),
                        ("result", "success"),
                    ],
                )),
            ),
        ],
    );
}

#[test]
fn backtracking_without_ordering() {
    let config = r#"
defaults:
  glob_disable_ordering: true
mappings:
- match: backtrack.*.bbb
  name: "testb"
  labels: {label: "${1}_foo"}
- match: backtrack.justatest.aaa
  name: "testa"
  labels: {label: "${1}_foo"}
"#;
    check(
        config,
        &[
            (
                "backtrack.good.bbb",
                C,
                Some(("testb", &[("label", "good_foo")])),
            ),
            (
                "backtrack.justatest.bbb",
                C,
                Some(("testb", &[("label", "justatest_foo")])),
            ),
            (
                "backtrack.justatest.aaa",
                C,
                Some(("testa", &[("label", "_foo")])),
            ),
        ],
    );
}

#[test]
fn backtracking_keeps_captures_of_the_match() {
    let config = r#"
defaults:
  glob_disable_ordering: false
mappings:
- match: '*.dummy.*'
  name: metric_one
  labels: {system: $1, attribute: $2}
- match: 'full.name.*'
  name: metric_two
  labels: {system: static, attribute: $1}
"#;
    check(
        config,
        &[
            (
                "whatever.dummy.test",
                C,
                Some((
                    "metric_one",
                    &[("system", "whatever"), ("attribute", "test")],
                )),
            ),
            (
                "full.name.anothertest",
                C,
                Some((
                    "metric_two",
                    &[("system", "static"), ("attribute", "anothertest")],
                )),
            ),
        ],
    );
}

#[test]
fn super_sets_with_and_without_ordering() {
    let unordered = r#"
defaults: {glob_disable_ordering: true}
mappings:
- {match: noorder.*.*, name: testa, labels: {label: "${1}_foo"}}
- {match: noorder.*.bbb, name: testb, labels: {label: "${1}_foo"}}
- {match: noorder.ccc.bbb, name: testc, labels: {label: "ccc_foo"}}
"#;
    check(
        unordered,
        &[
            (
                "noorder.good.bbb",
                C,
                Some(("testb", &[("label", "good_foo")])),
            ),
            (
                "noorder.ccc.bbb",
                C,
                Some(("testc", &[("label", "ccc_foo")])),
            ),
        ],
    );
    let ordered = r#"
mappings:
- {match: order.*.*, name: testa, labels: {label: "${1}_foo"}}
- {match: order.*.bbb, name: testb, labels: {label: "${1}_foo"}}
"#;
    check(
        ordered,
        &[(
            "order.good.bbb",
            C,
            Some(("testa", &[("label", "good_foo")])),
        )],
    );
}

#[test]
fn templates_and_segments() {
    check(
        "mappings:\n- {match: test.*, name: name, labels: {label: \"$1_foo\"}}\n",
        &[("test.a", C, Some(("name", &[("label", "")])))],
    );
    check(
        "mappings:\n- {match: test.99test.myapp.*, name: name, labels: {label: \"${1}_foo\"}}\n",
        &[(
            "test.99test.myapp.create",
            C,
            Some(("name", &[("label", "create_foo")])),
        )],
    );
    check(
        "mappings:\n- {match: '*', name: single_segment, labels: {label: \"${1}\"}}\n",
        &[("test", C, Some(("single_segment", &[("label", "test")])))],
    );
    check(
        "mappings:\n- {match: \"foo--bar.*\", name: \"foo_bar_${1}\"}\n",
        &[("foo--bar.count", C, Some(("foo_bar_count", &[])))],
    );
    check(
        r#"mappings:
- {match: test1.*.*, name: "$1"}
- {match: test2.*.*, name: "${1}_$2"}
- {match: 'test3\.(\w+)\.(\w+)', match_type: regex, name: "${2}_$1"}
"#,
        &[
            (
                "test1.total_requests.count",
                C,
                Some(("total_requests", &[])),
            ),
            (
                "test2.total_requests.count",
                C,
                Some(("total_requests_count", &[])),
            ),
            (
                "test3.total_requests.count",
                C,
                Some(("count_total_requests", &[])),
            ),
        ],
    );
    check(
        "mappings:\n- match: kafka.server.FetcherStats.brokerHost.hostname.brokerPort.9092.clientId.ReplicaFetcherThread-0-1.BytesPerSec.1MinuteRate.gauge\n  name: example_name\n",
        &[(
            "kafka.server.FetcherStats.brokerHost.hostname.brokerPort.9092.clientId.ReplicaFetcherThread-0-1.BytesPerSec.1MinuteRate.gauge",
            C,
            Some(("example_name", &[])),
        )],
    );
}

#[test]
fn metric_types() {
    let config = r#"
mappings:
- {match: test.foo.*, name: test_foo_sum, match_metric_type: counter}
- {match: test.foo.*, name: test_foo_current, match_metric_type: gauge}
- {match: 're\.(.*)', match_type: regex, name: "re_$1", match_metric_type: gauge}
"#;
    check(
        config,
        &[
            ("test.foo.test", C, Some(("test_foo_sum", &[]))),
            ("test.foo.test", G, Some(("test_foo_current", &[]))),
            ("test.foo.test", MetricType::Observer, None),
            ("re.x", G, Some(("re_x", &[]))),
            ("re.x", C, None),
        ],
    );
}

#[test]
fn drop_actions() {
    let config = r#"
mappings:
- {match: web.*, name: web, labels: {site: "$1"}}
- {match: ., match_type: regex, name: drop, action: drop}
"#;
    let mapper = load(config);
    let dropped = mapper.get_mapping("test.a", C).unwrap();
    assert_eq!(dropped.action(), ActionType::Drop);
    let kept = mapper.get_mapping("web.localhost", C).unwrap();
    assert_eq!(kept.action(), ActionType::Map);
    assert_eq!(
        kept.labels,
        vec![("site".to_string(), "localhost".to_string())]
    );
}

#[test]
fn defaults_fill_in_observer_options_and_ttl() {
    let config = r#"
defaults:
  observer_type: summary
  ttl: 1m30s
  summary_options:
    quantiles: [{quantile: 0.42, error: 0.04}]
    max_age: 5m
    age_buckets: 2
mappings:
- {match: a.*, name: a}
- {match: b.*, name: b, ttl: 10s, summary_options: {max_age: 1m, buf_cap: 7}}
- {match: c.*, name: c, observer_type: histogram}
- {match: d.*, name: d, scale: 1e-3}
"#;
    let mapper = load(config);
    let get = |m: &str| {
        mapper
            .get_mapping(m, MetricType::Observer)
            .unwrap()
            .mapping
            .mapping
            .clone()
    };
    let a = get("a.x");
    assert_eq!(a.ttl, Duration::from_secs(90));
    assert_eq!(a.observer_type, Some(ObserverType::Summary));
    let s = a.summary_options.unwrap();
    assert_eq!(
        (s.quantiles[0].quantile, s.max_age, s.age_buckets),
        (0.42, Duration::from_secs(300), 2)
    );
    let b = get("b.x").summary_options.unwrap();
    assert_eq!(
        (b.max_age, b.age_buckets, b.buf_cap),
        (Duration::from_secs(60), 2, 7)
    );
    assert_eq!(get("b.x").ttl, Duration::from_secs(10));
    let c = get("c.x").histogram_options.unwrap();
    assert_eq!(c.buckets, pm_common::metrics::DEFAULT_BUCKETS.to_vec());
    assert_eq!(get("d.x").scale, Some(0.001));
}

#[test]
fn bad_configs() {
    for (config, want) in [
        (
            "mappings:\n- {match: bad!!metric-line.*.*, name: foo}\n",
            "invalid match: bad!!metric-line.*.*",
        ),
        (
            "mappings:\n- {match: test.*.*, name: 0foo}\n",
            "metric name '0foo' doesn't match regex",
        ),
        (
            "mappings:\n- {match: test.*.*, labels: {this: $1}}\n",
            "line 0: metric mapping didn't set a metric name",
        ),
        ("mappings:\n- match: *.test.*\n  name: name\n", "bad.yml"),
        (
            "mappings:\n- {match: t.*, name: n, observer_type: bad}\n",
            "invalid observer type 'bad'",
        ),
        (
            "mappings:\n- {match: t.*, name: n, match_metric_type: wrong}\n",
            "invalid metric type 'wrong'",
        ),
        (
            "mappings:\n- {match: t.*, name: n, action: nope}\n",
            "invalid action type \"nope\"",
        ),
        (
            "mappings:\n- {match: t.*, name: n, quantiles: []}\n",
            "unknown field `quantiles`",
        ),
        (
            "mappings:\n- {match: \"*\\\\.foo\", match_type: regex, name: foo}\n",
            "invalid regex",
        ),
        (
            "mappings:\n- {match: t.*, name: n, labels: {a: b}}\n",
            "invalid label key: a",
        ),
        (
            "mappings:\n- {match: t.*, name: n, observer_type: histogram, summary_options: {}}\n",
            "cannot use histogram observer and summary options at the same time",
        ),
        (
            "mappings:\n- {match: t.*, name: n, observer_type: summary, histogram_options: {}}\n",
            "cannot use summary observer and histogram options at the same time",
        ),
    ] {
        let err = bad(config);
        assert!(err.contains(want), "{err:?} lacks {want:?}");
    }
}

#[test]
fn empty_config_maps_nothing() {
    let mapper = load("");
    assert!(mapper.is_empty());
    assert!(mapper.get_mapping("a.b", C).is_none());
}

#[test]
fn cache_reload_forgets_results() {
    let cached = CachedMapper::new(
        load("mappings:\n- {match: a.*, name: first}\n"),
        10,
        CacheType::Lru,
        None,
    );
    assert_eq!(cached.get_mapping("a.b", C).unwrap().name, "first");
    cached.replace(load("mappings:\n- {match: a.*, name: second}\n"));
    assert_eq!(cached.get_mapping("a.b", C).unwrap().name, "second");
}

#[test]
fn lru_cache_evicts_least_recent() {
    let registry = pm_common::metrics::Registry::new();
    let metrics = crate::CacheMetrics::register(&registry).unwrap();
    let cached = CachedMapper::new(
        load("mappings:\n- {match: a.*, name: a_$1}\n"),
        2,
        CacheType::Lru,
        Some(metrics),
    );
    for m in ["a.x", "a.y", "a.x", "a.z", "a.x", "a.y"] {
        cached.get_mapping(m, C);
    }
    // a.x stayed recent, so a.y was evicted by a.z: hits are a.x twice only.
    let text = String::from_utf8(pm_common::metrics::render(&registry.gather(), None).1).unwrap();
    assert!(
        text.contains("statsd_metric_mapper_cache_gets_total 6\n"),
        "{text}"
    );
    assert!(
        text.contains("statsd_metric_mapper_cache_hits_total 2\n"),
        "{text}"
    );
    assert!(
        text.contains("statsd_metric_mapper_cache_length 2\n"),
        "{text}"
    );
}

#[test]
fn example_config_fixture() {
    let path = pm_testsupport::testdata("statsd/config.example.yml");
    let mapper = MetricMapper::load_file(&path).unwrap();
    assert_eq!(mapper.len(), 3);
    let t = mapper
        .get_mapping("test.timing.aws.success.web", MetricType::Observer)
        .unwrap();
    assert_eq!(t.name, "my_timer");
    assert_eq!(
        t.labels,
        vec![
            ("job".to_string(), "aws_server".to_string()),
            ("outcome".to_string(), "web".to_string()),
            ("provider".to_string(), "success".to_string()),
        ]
    );
    let m = &t.mapping.mapping;
    assert_eq!(m.observer_type, Some(ObserverType::Histogram));
    assert_eq!(
        m.histogram_options.as_ref().unwrap().buckets,
        vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]
    );
    let consistent = mapper
        .get_mapping("consistent_app.timing.a.b.c", MetricType::Observer)
        .unwrap();
    let h = consistent
        .mapping
        .mapping
        .histogram_options
        .clone()
        .unwrap();
    assert_eq!(
        (h.buckets.len(), h.native_histogram_bucket_factor),
        (11, 1.005)
    );
    let other = mapper
        .get_mapping("other.distribution.a.b.c", MetricType::Observer)
        .unwrap();
    assert_eq!(
        other.labels[0],
        ("job".to_string(), "a_server_other".to_string())
    );
    let s = other.mapping.mapping.summary_options.clone().unwrap();
    assert_eq!(
        (s.quantiles.len(), s.max_age, s.age_buckets, s.buf_cap),
        (4, Duration::from_secs(300), 2, 1000)
    );
    assert!(mapper.defaults().glob_disable_ordering);
    assert!(mapper.get_mapping("unmapped.metric", C).is_none());
}
