use super::*;

fn err(input: &str) -> String {
    decode_text_families(input.as_bytes())
        .expect_err(input)
        .to_string()
}

#[test]
fn groups_summaries_and_histograms() {
    let input = "# HELP s A summary.\n# TYPE s summary\n\
                 s{a=\"1\",quantile=\"0.5\"} 10\n\
                 s{a=\"1\",quantile=\"0.9\"} 20 5\n\
                 s_sum{a=\"1\"} 30\n\
                 s_count{a=\"1\"} 3 7\n\
                 # TYPE h histogram\n\
                 h_bucket{le=\"1\"} 1\n\
                 h_bucket{le=\"+Inf\"} 2\n\
                 h_sum 3.5\n\
                 h_count 2\n\
                 plain{x=\"y\"} 1\n";
    let fams = decode_text_families(input.as_bytes()).unwrap();
    let names: Vec<_> = fams.iter().map(|f| f.name()).collect();
    assert_eq!(names, ["h", "plain", "s"]);
    let h = &fams[0];
    assert_eq!(h.r#type, Some(dto::MetricType::Histogram as i32));
    let hist = h.metric[0].histogram.as_ref().unwrap();
    assert_eq!(hist.sample_count, Some(2));
    assert_eq!(hist.sample_sum, Some(3.5));
    let bounds: Vec<_> = hist
        .bucket
        .iter()
        .map(|b| (b.upper_bound(), b.cumulative_count()))
        .collect();
    assert_eq!(bounds, [(1.0, 1), (f64::INFINITY, 2)]);
    assert_eq!(fams[1].r#type, Some(dto::MetricType::Untyped as i32));
    assert_eq!(fams[1].metric[0].untyped.as_ref().unwrap().value, Some(1.0));
    let s = &fams[2];
    assert_eq!(s.help(), "A summary.");
    assert_eq!(s.metric.len(), 1);
    let m = &s.metric[0];
    assert_eq!(m.label.len(), 1);
    assert_eq!((m.label[0].name(), m.label[0].value()), ("a", "1"));
    assert_eq!(m.timestamp_ms, Some(7), "latest timestamp wins");
    let sum = m.summary.as_ref().unwrap();
    assert_eq!((sum.sample_count, sum.sample_sum), (Some(3), Some(30.0)));
    assert_eq!(sum.quantile.len(), 2);
}

#[test]
fn upstream_error_messages() {
    for (input, want) in [
        (
            "bla 3.14",
            "text format parsing error in line 1: unexpected end of input stream",
        ),
        (
            "metric{label=\"\\t\"} 3.14\n",
            "line 1: invalid escape sequence '\\t'",
        ),
        (
            "metric{label=\"bla\"} 3.14 2 3\n",
            "line 1: spurious string after timestamp: \" 3\"",
        ),
        (
            "metric{label=\"bla\"} blubb\n",
            "line 1: expected float as value, got \"blubb\"",
        ),
        (
            "\n# HELP metric one\n# HELP metric two\n",
            "line 3: second HELP line for metric name \"metric\"",
        ),
        (
            "\n# TYPE metric counter\n# TYPE metric untyped\n",
            "line 3: second TYPE line for metric name \"metric\", or TYPE reported after samples",
        ),
        (
            "\nmetric 4.12\n# TYPE metric counter\n",
            "line 3: second TYPE line for metric name \"metric\", or TYPE reported after samples",
        ),
        (
            "\n# TYPE metric bla\n",
            "line 2: unknown metric type \"bla\"",
        ),
        (
            "\n# TYPE met-ric\n",
            "line 2: invalid metric name in comment",
        ),
        (
            "@invalidmetric{label=\"bla\"} 3.14 2",
            "line 1: invalid metric name",
        ),
        ("{label=\"bla\"} 3.14 2", "line 1: invalid metric name"),
        (
            "\n# TYPE metric histogram\nmetric_bucket{le=\"bla\"} 3.14\n",
            "line 3: expected float as value for 'le' label, got \"bla\"",
        ),
        (
            "\nmetric{label=\"new\nline\"} 3.14\n",
            "line 2: label value \"new\" contains unescaped new-line",
        ),
        (
            "metric{@=\"bla\"} 3.14",
            "line 1: invalid label name for metric \"metric\"",
        ),
        (
            "metric{__name__=\"bla\"} 3.14",
            "line 1: label name \"__name__\" is reserved",
        ),
        (
            "metric{label+=\"bla\"} 3.14",
            "line 1: expected '=' after label name, found '+'",
        ),
        (
            "metric{label=bla} 3.14",
            "line 1: expected '\"' at start of label value, found 'b'",
        ),
        (
            "\n# TYPE metric summary\nmetric{quantile=\"bla\"} 3.14\n",
            "line 3: expected float as value for 'quantile' label, got \"bla\"",
        ),
        (
            "metric{label=\"bla\"+} 3.14",
            "line 1: unexpected end of label value \"bla\"",
        ),
        (
            "metric{label=\"bla\"} 3.14 2.72\n",
            "line 1: expected integer as timestamp, got \"2.72\"",
        ),
        (
            "m{a=\"1\",a=\"2\"} 1\n",
            "line 1: duplicate label names for metric \"m\"",
        ),
    ] {
        let got = err(input);
        assert!(
            got.ends_with(want),
            "{input:?}: got {got:?}, want …{want:?}"
        );
        assert!(
            got.starts_with("text format parsing error in line "),
            "{got}"
        );
    }
}

#[test]
fn quoted_names_and_help_escapes() {
    let input = "# HELP \"my.metric\" a \\\\ b\\nc\n{\"my.metric\", \"label.x\"=\"v\"} 1\n";
    let fams = decode_text_families(input.as_bytes()).unwrap();
    assert_eq!(fams.len(), 1);
    assert_eq!(fams[0].name(), "my.metric");
    assert_eq!(fams[0].help(), "a \\ b\nc");
    assert_eq!(fams[0].metric[0].label[0].name(), "label.x");
}

#[test]
fn empty_families_are_dropped() {
    let fams = decode_text_families(b"# HELP a only help\n# TYPE b counter\nb 1\n").unwrap();
    assert_eq!(fams.len(), 1);
    assert_eq!(fams[0].metric[0].counter.as_ref().unwrap().value, Some(1.0));
}
