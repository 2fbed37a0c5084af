use super::*;

/// Every entry of `input` as a readable line, labels built and sorted.
fn entries(input: &str) -> Vec<String> {
    let mut p = PromParser::new(input.as_bytes());
    let mut b = ScratchBuilder::new();
    let mut out = Vec::new();
    while let Some(e) = p.next().unwrap() {
        out.push(match e {
            Entry::Help => {
                let (n, h) = p.help();
                format!("help {} {h:?}", String::from_utf8_lossy(n))
            }
            Entry::Type => {
                let (n, t) = p.type_();
                format!("type {} {}", String::from_utf8_lossy(n), t.as_str())
            }
            Entry::Comment => format!("comment {}", String::from_utf8_lossy(p.comment())),
            Entry::Series => {
                let (raw, ts, v) = p.series();
                p.labels(&mut b);
                format!(
                    "{} {v} {ts:?} raw={}",
                    b.labels(),
                    String::from_utf8_lossy(raw)
                )
            }
            Entry::Unit => unreachable!("no units in the text format"),
        });
    }
    out
}

fn error(input: impl AsRef<[u8]>) -> String {
    let input = input.as_ref();
    let mut p = PromParser::new(input);
    loop {
        match p.next() {
            Ok(Some(_)) => {}
            Ok(None) => panic!("{input:?} parsed"),
            Err(e) => return e.to_string(),
        }
    }
}

#[test]
fn parses_the_text_format() {
    let input = "# HELP go_gc go \\\\ gc\\nstats\n\
                 # TYPE go_gc summary\n\
                 go_gc{quantile=\"1\"} 4.9351e-05 1234\n\
                 \n\
                 # a comment\n\
                 \t go_gc_sum  1.5\n\
                 m{a=\"x\\\"y\\n\\\\\", b = \"2\",} +Inf\n\
                 \"my.metric\"{\"le\"=\"1\"} NaN\n\
                 {\"other.metric\", a=\"b\"} -1\n";
    assert_eq!(
        entries(input),
        vec![
            r#"help go_gc "go \\ gc\nstats""#.to_string(),
            "type go_gc summary".into(),
            r#"{__name__="go_gc", quantile="1.0"} 0.000049351 Some(1234) raw=go_gc{quantile="1"}"#
                .into(),
            "comment # a comment".into(),
            r#"{__name__="go_gc_sum"} 1.5 None raw=go_gc_sum"#.into(),
            r#"{__name__="m", a="x\"y\n\\", b="2"} inf None raw=m{a="x\"y\n\\", b = "2",}"#.into(),
            r#"{__name__="my.metric", le="1"} NaN None raw="my.metric"{"le"="1"}"#.into(),
            r#"{__name__="other.metric", a="b"} -1 None raw={"other.metric", a="b"}"#.into(),
        ]
    );
}

#[test]
fn nan_is_upstreams_normal_nan() {
    let mut p = PromParser::new(b"a NaN\n");
    p.next().unwrap();
    assert_eq!(
        p.series().2.to_bits(),
        crate::expfmt::textparse::NORMAL_NAN_BITS
    );
}

#[test]
fn metric_type_applies_to_its_family_only() {
    let mut p = PromParser::new(b"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nother 2\n");
    p.next().unwrap();
    p.next().unwrap();
    assert_eq!(p.metric_type(), MetricType::Histogram);
    p.next().unwrap();
    assert_eq!(p.metric_type(), MetricType::Unknown);
}

#[test]
fn errors_name_line_and_expectation() {
    assert_eq!(
        error("a 1\nb{c\"d\"} 1\n"),
        r#"line 2: expected equal, got "\"" while parsing: "b{c\"""#
    );
    assert!(error("a 1 -5\n").contains("expected timestamp or new record"));
    assert!(error("a 1 5 x\n").contains("expected next entry after timestamp"));
    assert!(error("a\n").contains("expected value after metric"));
    assert!(error("a 0x1p3\n").contains("unsupported character in float"));
    assert!(error("# TYPE a gaugehistogram\n").contains("invalid metric type \"gaugehistogram\""));
    assert!(error("{a=\"b\"} 1\n").contains("metric name not set"));
    assert!(error("{\"a\", \"b\"} 1\n").contains("metric name already set"));
    assert!(error(b"a{b=\"\xff\"} 1\n").contains("invalid UTF-8 label value"));
    assert!(error("-a 1\n").contains("expected a valid start token"));
    assert!(error("a 1 99999999999999999999\n").contains("value out of range"));
}

#[test]
fn last_line_needs_no_newline() {
    assert_eq!(entries("a 1 2").len(), 1);
    assert_eq!(entries("# HELP a").len(), 1);
}
