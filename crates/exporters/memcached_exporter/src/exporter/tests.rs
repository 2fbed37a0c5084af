use super::*;
use pm_common::expfmt::encode::write_text;

fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn text(sink: Sink) -> String {
    let mut families: Vec<_> = sink.into_families().collect();
    families.sort_by(|a, b| a.name.cmp(&b.name));
    let mut s = String::new();
    for f in &families {
        write_text(&mut s, f).unwrap();
    }
    s
}

#[test]
fn value_parsers() {
    assert_eq!(timeval("1.500000"), Some(1.5));
    // The fraction is always microseconds, even when written short.
    assert_eq!(timeval("1.5"), Some(1.000005));
    assert_eq!(timeval("1"), None);
    assert_eq!(timeval("1.2.3"), None);
    assert_eq!(boolean("yes"), Some(1.0));
    assert_eq!(boolean("no"), Some(0.0));
    assert_eq!(boolean("on"), None);
    assert_eq!(sum(&map(&[("a", "1"), ("b", "2")]), &["a", "b"]), Some(3.0));
    assert_eq!(sum(&map(&[("a", "1")]), &["a", "b"]), None);
}

#[test]
fn commands_and_set_without_cas() {
    let mut stats = Stats {
        global: map(&[
            ("version", "1.6.18"),
            ("get_hits", "3"),
            ("get_misses", "1"),
            ("cmd_set", "10"),
            ("cas_misses", "1"),
            ("cas_hits", "2"),
            ("cas_badval", "3"),
            ("rusage_user", "1.250000"),
            ("total_malloced", "1048576"),
        ]),
        ..Stats::default()
    };
    stats.slabs.insert(
        1,
        map(&[
            ("chunk_size", "96"),
            ("cmd_set", "5"),
            ("cas_hits", "1"),
            ("cas_badval", "1"),
        ]),
    );
    stats
        .items
        .insert(1, map(&[("number", "4"), ("hits_to_hot", "2")]));
    let mut sink = Sink::default();
    export_stats(&mut sink, &stats);
    assert!(!sink.failed);
    let got = text(sink);
    for want in [
        "memcached_version{version=\"1.6.18\"} 1\n",
        "memcached_commands_total{command=\"get\",status=\"hit\"} 3\n",
        "memcached_commands_total{command=\"get\",status=\"miss\"} 1\n",
        "memcached_commands_total{command=\"set\",status=\"hit\"} 4\n",
        "memcached_process_user_cpu_seconds_total 1.25\n",
        "memcached_malloced_bytes 1.048576e+06\n",
        "memcached_slab_chunk_size_bytes{slab=\"1\"} 96\n",
        "memcached_slab_commands_total{command=\"set\",slab=\"1\",status=\"hit\"} 3\n",
        "memcached_slab_current_items{slab=\"1\"} 4\n",
        "memcached_slab_lru_hits_total{lru=\"hot\",slab=\"1\"} 2\n",
    ] {
        assert!(got.contains(want), "{want} missing from\n{got}");
    }
    // Absent statistics give no series.
    assert!(!got.contains("memcached_extstore_"));
    assert!(!got.contains("memcached_uptime_seconds"));
}

#[test]
fn unparsable_or_missing_counters_fail_the_scrape() {
    let stats = Stats {
        global: map(&[("uptime", "soon"), ("cmd_set", "1")]),
        ..Stats::default()
    };
    let mut sink = Sink::default();
    export_stats(&mut sink, &stats);
    assert!(sink.failed, "a bad value and the missing cas counters");
    let got = text(sink);
    assert!(!got.contains("memcached_uptime_seconds"));
    assert!(got.contains("memcached_version{version=\"\"} 1\n"));
}

#[test]
fn settings_with_and_without_the_crawler() {
    let on = map(&[
        ("maxconns", "1024"),
        ("lru_crawler", "yes"),
        ("lru_crawler_sleep", "100"),
        ("lru_maintainer_thread", "no"),
        ("hot_max_factor", "0.20"),
    ]);
    let mut sink = Sink::default();
    export_settings(&mut sink, &on);
    assert!(!sink.failed);
    let got = text(sink);
    assert!(got.contains("memcached_max_connections 1024\n"));
    assert!(got.contains("memcached_lru_crawler_enabled 1\n"));
    assert!(got.contains("memcached_lru_crawler_maintainer_thread 0\n"));
    assert!(got.contains("memcached_lru_crawler_hot_max_factor 0.2\n"));
    let mut sink = Sink::default();
    export_settings(&mut sink, &map(&[("maxconns", "8"), ("lru_crawler", "no")]));
    let got = text(sink);
    assert!(got.contains("memcached_max_connections 8\n"));
    assert!(!got.contains("lru_crawler"));
}

#[test]
fn conflicting_types_keep_the_first() {
    let mut sink = Sink::default();
    let desc = metrics::UP;
    sink.push(desc, ConstKind::Gauge, &[], 1.0);
    sink.push(desc, ConstKind::Counter, &[("a", "b")], 2.0);
    let families: Vec<_> = sink.into_families().collect();
    assert_eq!(families[0].metric.len(), 1);
}
