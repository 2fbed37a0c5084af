use std::sync::Arc;
use std::time::Duration;

use pm_common::expfmt::encode::write_text;
use pm_common::metrics::Registry;
use pm_mapper::{CacheType, CachedMapper, MetricMapper};

use super::{Collector, CollectorMetrics, now_secs};

fn collector(config: &str, strict: bool) -> (Collector, Registry) {
    let mapper = MetricMapper::from_yaml(config, "test.yml").unwrap();
    let registry = Registry::new();
    let metrics = CollectorMetrics::register(&registry, Duration::from_secs(300)).unwrap();
    let mapper = Arc::new(CachedMapper::new(mapper, 100, CacheType::Lru, None));
    (
        Collector::new(mapper, strict, Duration::from_secs(300), metrics),
        registry,
    )
}

fn text(c: &Collector) -> String {
    let mut out = String::new();
    for f in c.gather() {
        write_text(&mut out, &f).unwrap();
    }
    out
}

#[test]
fn mapped_tagged_and_sanitized() {
    let (c, _) = collector(
        "mappings:\n- match: rspamd.actions.*\n  name: rspamd_actions\n  labels:\n    action: $1\n",
        false,
    );
    let now = now_secs() as i64;
    c.process_text(&format!(
        "rspamd.actions.add_header 2 {now}\nrspamd.connections 1 {now}\nweb.req;host=a;dc=x 7 {now}\n  padded.line 3 {now}  \n"
    ));
    assert_eq!(
        text(&c),
        format!(
            "# HELP padded_line Graphite metric padded_line\n# TYPE padded_line gauge\npadded_line 3\n\
             # HELP rspamd_actions Graphite metric rspamd_actions\n# TYPE rspamd_actions gauge\nrspamd_actions{{action=\"add_header\"}} 2\n\
             # HELP rspamd_connections Graphite metric rspamd_connections\n# TYPE rspamd_connections gauge\nrspamd_connections 1\n\
             # HELP web_req Graphite metric web_req\n# TYPE web_req gauge\nweb_req{{dc=\"x\",host=\"a\"}} 7\n"
        )
    );
}

#[test]
fn bad_lines_strict_match_drop_and_expiry() {
    let (c, registry) = collector(
        "mappings:\n- {match: keep.*, name: kept, labels: {which: $1}}\n- {match: drop.*, name: d, action: drop}\n",
        true,
    );
    let now = now_secs() as i64;
    let old = now - 301;
    c.process_text(&format!(
        "keep.a 1 {now}\nother.b 2 {now}\ndrop.c 3 {now}\nkeep.a x {now}\nkeep.a 1\nkeep.a 1 notatime\nkeep.b;novalue 4 {now}\nkeep.old 5 {old}\n"
    ));
    let out = text(&c);
    assert!(out.contains("\nkept{which=\"a\"} 1\n"), "{out}");
    assert!(!out.contains("other") && !out.contains("\nd "), "{out}");
    // keep.b survives its bad tag; keep.old is expired by its own timestamp.
    assert_eq!(
        out.lines().filter(|l| l.starts_with("kept")).count(),
        2,
        "{out}"
    );
    c.remove_expired();
    let own = String::from_utf8(pm_common::metrics::render(&registry.gather(), None).1).unwrap();
    assert!(own.contains("graphite_dropped_samples_total 2\n"), "{own}");
    assert!(own.contains("graphite_tag_parse_failures 1\n"), "{own}");
    assert!(
        own.contains("graphite_sample_expiry_seconds 300\n"),
        "{own}"
    );
}
