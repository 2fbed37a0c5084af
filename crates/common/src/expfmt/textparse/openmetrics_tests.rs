use super::*;

fn samples(input: &str, options: OpenMetricsOptions) -> Vec<String> {
    let mut p = OpenMetricsParser::with_options(input.as_bytes(), options);
    let mut b = ScratchBuilder::new();
    let mut out = Vec::new();
    while let Some(e) = p.next().unwrap() {
        if e != Entry::Series {
            continue;
        }
        let (_, ts, v) = p.series();
        p.labels(&mut b);
        let mut line = format!("{} {v} {ts:?}", b.labels());
        if let Some(ct) = p.created_timestamp() {
            line.push_str(&format!(" ct={ct}"));
        }
        if let Some(ex) = p.exemplar() {
            line.push_str(&format!(" ex={} {} {:?}", ex.labels, ex.value, ex.ts));
        }
        assert!(p.exemplar().is_none(), "an exemplar is handed out once");
        out.push(line);
    }
    out
}

fn error(input: &str) -> String {
    let mut p = OpenMetricsParser::new(input.as_bytes());
    loop {
        match p.next() {
            Ok(Some(_)) => {}
            Ok(None) => panic!("{input:?} parsed"),
            Err(e) => return e.to_string(),
        }
    }
}

const WITH_CREATED: &str = "# TYPE c counter\n\
    c_total{a=\"1\"} 3 1.5 # {trace_id=\"x\"} 0.5 1.25\n\
    c_created{a=\"1\"} 1000.5\n\
    # TYPE h histogram\n\
    h_bucket{le=\"1\"} 1\n\
    h_bucket{le=\"+Inf\"} 2 # {} 7\n\
    h_count 2\n\
    h_sum 3\n\
    h_created 12\n\
    # EOF\n";

#[test]
fn parses_samples_exemplars_and_timestamps() {
    // Without skipping, `_created` samples stay visible and created timestamps are still found.
    assert_eq!(
        samples(WITH_CREATED, OpenMetricsOptions::default()),
        vec![
            r#"{__name__="c_total", a="1"} 3 Some(1500) ct=1000500 ex={trace_id="x"} 0.5 Some(1250)"#,
            r#"{__name__="c_created", a="1"} 1000.5 None"#,
            r#"{__name__="h_bucket", le="1.0"} 1 None ct=12000"#,
            r#"{__name__="h_bucket", le="+Inf"} 2 None ct=12000 ex={} 7 None"#,
            r#"{__name__="h_count"} 2 None ct=12000"#,
            r#"{__name__="h_sum"} 3 None ct=12000"#,
            r#"{__name__="h_created"} 12 None"#,
        ]
    );
}

#[test]
fn created_series_become_created_timestamps() {
    let options = OpenMetricsOptions {
        skip_created_series: true,
    };
    assert_eq!(
        samples(WITH_CREATED, options),
        vec![
            r#"{__name__="c_total", a="1"} 3 Some(1500) ct=1000500 ex={trace_id="x"} 0.5 Some(1250)"#,
            r#"{__name__="h_bucket", le="1.0"} 1 None ct=12000"#,
            r#"{__name__="h_bucket", le="+Inf"} 2 None ct=12000 ex={} 7 None"#,
            r#"{__name__="h_count"} 2 None ct=12000"#,
            r#"{__name__="h_sum"} 3 None ct=12000"#,
        ]
    );
}

#[test]
fn family_without_created_lines_does_not_hide_the_next_familys() {
    // The first family's look-ahead finds no `_created` line and remembers that up to the
    // family's end only; the next family's created timestamp must still be found.
    let input = "# TYPE a counter\n\
        a_total{x=\"1\"} 1\n\
        a_total{x=\"2\"} 2\n\
        a_total{x=\"3\"} 3\n\
        # TYPE b counter\n\
        b_total 4\n\
        b_created 5\n\
        # EOF\n";
    let options = OpenMetricsOptions {
        skip_created_series: true,
    };
    assert_eq!(
        samples(input, options),
        vec![
            r#"{__name__="a_total", x="1"} 1 None"#,
            r#"{__name__="a_total", x="2"} 2 None"#,
            r#"{__name__="a_total", x="3"} 3 None"#,
            r#"{__name__="b_total"} 4 None ct=5000"#,
        ]
    );
}

#[test]
fn metadata_accessors() {
    let input =
        "# HELP a_seconds he\\\\lp\\n\n# TYPE a_seconds gauge\n# UNIT a_seconds seconds\n# EOF";
    let mut p = OpenMetricsParser::new(input.as_bytes());
    assert_eq!(p.next().unwrap(), Some(Entry::Help));
    assert_eq!(p.help().1, "he\\lp\n");
    assert_eq!(p.next().unwrap(), Some(Entry::Type));
    assert_eq!(p.type_(), (&b"a_seconds"[..], MetricType::Gauge));
    assert_eq!(p.next().unwrap(), Some(Entry::Unit));
    assert_eq!(p.unit(), (&b"a_seconds"[..], "seconds"));
    assert_eq!(p.next().unwrap(), None);
    assert_eq!(p.next().unwrap(), None);
}

#[test]
fn grammar_errors() {
    assert!(error("a 1\n").contains("data does not end with # EOF"));
    assert!(error("a 1\n# EOF\nb 1\n").contains("unexpected data after # EOF"));
    assert!(error("a  1\n# EOF\n").contains("expected value after metric"));
    assert!(error("a 1 NaN\n# EOF\n").contains("invalid timestamp NaN"));
    assert!(error("a_total 1 # {a=\"b\"} 1 Inf\n# EOF\n").contains("invalid exemplar timestamp"));
    assert!(error("# UNIT a seconds\n# EOF\n").contains("not a suffix"));
    assert!(error("# TYPE a untyped\n# EOF\n").contains("invalid metric type"));
    assert!(error("\n# EOF\n").contains("expected a valid start token"));
    assert!(error("# foo\n# EOF\n").contains("expected a valid start token"));
    assert!(error("a{b=\"c\" ,d=\"e\"} 1\n# EOF\n").contains("expected comma or brace close"));
    assert_eq!(
        error("a 1\nb{c=1} 1\n# EOF\n"),
        r#"line 2: expected label value, got "1" while parsing: "b{c=1""#
    );
}
