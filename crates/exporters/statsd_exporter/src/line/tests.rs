use pm_common::metrics::{Opts, Registry};

use super::{Dialects, ParseMetrics, Parser};
use crate::event::{Event, EventKind};

fn metrics() -> ParseMetrics {
    let r = Registry::new();
    ParseMetrics {
        sample_errors: r
            .counter_vec(Opts::new("errors", "h"), &["reason"])
            .unwrap(),
        samples: r.counter(Opts::new("samples", "h")).unwrap(),
        tag_errors: r.counter(Opts::new("tag_errors", "h")).unwrap(),
        tags: r.counter(Opts::new("tags", "h")).unwrap(),
    }
}

fn parse_with(dialects: Dialects, line: &str) -> (Vec<Event>, ParseMetrics) {
    let m = metrics();
    let parser = Parser::new(dialects, m.clone());
    let mut out = Vec::new();
    parser.parse_line(line.as_bytes(), &mut out);
    (out, m)
}

fn parse(line: &str) -> Vec<Event> {
    parse_with(Dialects::default(), line).0
}

fn ev(name: &str, value: f64, kind: EventKind, labels: &[(&str, &str)]) -> Event {
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

const C: EventKind = EventKind::Counter;
const G: EventKind = EventKind::Gauge { relative: false };
const O: EventKind = EventKind::Observer { count: 1 };

fn error_count(m: &ParseMetrics, reason: &str) -> u64 {
    m.sample_errors.with_label_values(&[reason]).get() as u64
}

#[test]
fn simple_types() {
    assert_eq!(parse("foo:2|c"), vec![ev("foo", 2.0, C, &[])]);
    assert_eq!(parse("foo:3|g"), vec![ev("foo", 3.0, G, &[])]);
    assert_eq!(
        parse("foo:-10|g"),
        vec![ev("foo", -10.0, EventKind::Gauge { relative: true }, &[])]
    );
    assert_eq!(
        parse("foo:+4|g"),
        vec![ev("foo", 4.0, EventKind::Gauge { relative: true }, &[])]
    );
    assert_eq!(parse("foo:200|ms"), vec![ev("foo", 0.2, O, &[])]);
    assert_eq!(parse("foo:200|h"), vec![ev("foo", 200.0, O, &[])]);
    assert_eq!(parse("foo:200|d"), vec![ev("foo", 200.0, O, &[])]);
}

#[test]
fn multiple_samples_and_extended_aggregation() {
    assert_eq!(
        parse("foo:1|c:2|g"),
        vec![ev("foo", 1.0, C, &[]), ev("foo", 2.0, G, &[])]
    );
    assert_eq!(
        parse("foo:100:200|ms|#tag:a"),
        vec![
            ev("foo", 0.1, O, &[("tag", "a")]),
            ev("foo", 0.2, O, &[("tag", "a")])
        ]
    );
    let (events, m) = parse_with(Dialects::default(), "foo:1:2|c");
    assert!(events.is_empty());
    assert_eq!(error_count(&m, "invalid_extended_aggregate_type"), 1);
}

#[test]
fn sampling() {
    assert_eq!(parse("foo:1|c|@0.1"), vec![ev("foo", 10.0, C, &[])]);
    assert_eq!(parse("foo:3|g|@0.1"), vec![ev("foo", 3.0, G, &[])]);
    assert_eq!(
        parse("foo:100|ms|@0.25"),
        vec![ev("foo", 0.1, EventKind::Observer { count: 4 }, &[])]
    );
    // A bad rate is counted, and the sample is still taken with rate 1.
    let (events, m) = parse_with(Dialects::default(), "foo:1|c|@x");
    assert_eq!(events, vec![ev("foo", 1.0, C, &[])]);
    assert_eq!(error_count(&m, "invalid_sample_factor"), 1);
}

#[test]
fn tag_dialects() {
    let want = |kind| vec![ev("foo", 1.0, kind, &[("tag1", "bar"), ("tag2", "baz")])];
    assert_eq!(parse("foo:1|c|#tag1:bar,tag2:baz"), want(C));
    assert_eq!(parse("foo:1|c|#tag1:bar,#tag2:baz"), want(C));
    assert_eq!(parse("foo,tag1=bar,tag2=baz:1|c"), want(C));
    assert_eq!(parse("foo#tag1=bar,tag2=baz:1|c"), want(C));
    assert_eq!(parse("foo[tag1=bar,tag2=baz]:1|c"), want(C));
    assert_eq!(parse("foo[tag1=bar,tag2=baz].test:1|c")[0].name, "foo.test");
    assert_eq!(
        parse("foo:1|c|#tag-1:bar")[0].labels,
        vec![("tag_1".to_string(), "bar".to_string())]
    );
    assert_eq!(parse("foo:1|c|#c:id1|c:abc")[0].labels.len(), 2);
    assert_eq!(parse("foo:1|c|T1656581400"), vec![ev("foo", 1.0, C, &[])]);
}

#[test]
fn disabled_dialects_keep_the_name() {
    let none = Dialects {
        dogstatsd: false,
        influxdb: false,
        librato: false,
        signalfx: false,
    };
    assert_eq!(
        parse_with(none, "foo,tag1=bar:1|c").0,
        vec![ev("foo,tag1=bar", 1.0, C, &[])]
    );
    assert_eq!(
        parse_with(none, "foo:1|c|#tag1:bar").0,
        vec![ev("foo", 1.0, C, &[])]
    );
}

#[test]
fn tag_errors_keep_the_sample() {
    let (events, m) = parse_with(Dialects::default(), "foo:1|c|#tag1,tag2:,:v,ok:1");
    assert_eq!(events, vec![ev("foo", 1.0, C, &[("ok", "1")])]);
    assert_eq!(m.tag_errors.get(), 3.0);
    assert_eq!(m.tags.get(), 1.0);
    let (events, m) = parse_with(Dialects::default(), "foo[tag=1:1|c");
    assert_eq!(events, vec![ev("foo[tag=1", 1.0, C, &[])]);
    assert_eq!(m.tag_errors.get(), 1.0);
}

#[test]
fn malformed_lines_are_counted_by_reason() {
    for (line, reason) in [
        ("foo", "malformed_line"),
        (":1|c", "malformed_line"),
        ("foo:1", "not_enough_parts_after_colon"),
        ("foo:x|c", "malformed_value"),
        ("foo:1|c|", "malformed_component"),
        ("foo:1|c|a|b|c|d|e", "malformed_component"),
        ("foo:1|c|x", "invalid_sample_factor"),
        ("foo:1|c|c", "malformed_container_id"),
        ("foo:1|s", "illegal_event"),
        ("foo:1|zz", "illegal_event"),
        ("foo,a=b:1|c|#c:d", "mixed_tagging_styles"),
    ] {
        let (events, m) = parse_with(Dialects::default(), line);
        assert!(events.is_empty(), "{line}: {events:?}");
        assert_eq!(error_count(&m, reason), 1, "{line}");
    }
    let m = metrics();
    let mut out = Vec::new();
    Parser::new(Dialects::default(), m.clone()).parse_line(b"foo\xff:1|c", &mut out);
    assert_eq!(error_count(&m, "malformed_line"), 1);
}
