use super::*;

fn texts(input: &str) -> Vec<String> {
    lint_text(input.as_bytes())
        .unwrap()
        .into_iter()
        .map(|p| format!("{} {}", p.metric, p.text))
        .collect()
}

#[test]
fn units_resolve_prefixes_and_skip_lookalikes() {
    assert_eq!(
        metric_unit("disk_kilometers_total"),
        Some(("kilometers", "meters"))
    );
    assert_eq!(metric_unit("x_thermometers"), None);
    assert_eq!(metric_unit("a_bytes_b_hours"), Some(("bytes", "bytes")));
}

#[test]
fn clean_counter_has_no_problems() {
    assert!(texts("# HELP a_total A.\n# TYPE a_total counter\na_total 1\n").is_empty());
}

#[test]
fn histogram_names_are_reserved_for_histograms() {
    let found = texts("# HELP x_bucket X.\n# TYPE x_bucket gauge\nx_bucket{le=\"1\"} 1\n");
    assert_eq!(
        found,
        [
            r#"x_bucket non-histogram metrics should not have "_bucket" suffix"#,
            r#"x_bucket non-histogram metrics should not have "le" label"#,
        ]
    );
}

#[test]
fn parse_errors_are_reported() {
    assert!(lint_text(b"x{\n").unwrap_err().contains("line 1"));
}

#[test]
fn cardinality_counts_buckets_sum_and_count() {
    let input = "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n\
                 # TYPE g gauge\ng{a=\"1\"} 1\ng{a=\"2\"} 1\n";
    let rows = cardinalities(input.as_bytes()).unwrap();
    let rows: Vec<(&str, usize)> = rows.iter().map(|r| (r.name.as_str(), r.series)).collect();
    assert_eq!(rows, [("h", 4), ("g", 2)]);
}

#[test]
fn extended_table_is_tab_aligned() {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut o = Output {
        out: &mut out,
        err: &mut err,
    };
    let code = check_metrics_input(
        &mut o,
        b"# HELP a_total A.\n# TYPE a_total counter\na_total 1\n",
        true,
        "all",
    )
    .unwrap();
    assert_eq!(code, SUCCESS);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "Metric     Cardinality    Percentage    \n\
         a_total    1              100.00%       \n\
         Total      1              100%          \n"
    );
}
