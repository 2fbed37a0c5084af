use pm_common::model::is_stale_nan;

use super::*;

fn floats(line: &str) -> Vec<Option<f64>> {
    parse_series_line(line)
        .unwrap()
        .values
        .into_iter()
        .map(|v| match v {
            SequenceValue::Float(f) => Some(f),
            SequenceValue::Omitted => None,
            SequenceValue::Histogram { .. } => panic!("unexpected histogram"),
        })
        .collect()
}

#[test]
fn expanding_notation() {
    assert_eq!(floats("m 1+2x3"), [1.0, 3.0, 5.0, 7.0].map(Some));
    assert_eq!(floats("m 1-2x2"), [1.0, -1.0, -3.0].map(Some));
    assert_eq!(floats("m -1+1x1 5x2"), [-1.0, 0.0, 5.0, 5.0, 5.0].map(Some));
    assert_eq!(floats("m _ _x2 1e-3"), vec![None, None, None, Some(0.001)]);
    let special = floats("m Inf -Inf NaN");
    assert_eq!(special[..2], [Some(f64::INFINITY), Some(f64::NEG_INFINITY)]);
    assert!(special[2].unwrap().is_nan());
    assert!(is_stale_nan(floats("m stale")[0].unwrap()));
}

#[test]
fn label_sets() {
    let line = parse_series_line(r#"metric{a="b", c="x y}", "d.e"='f'} 1"#).unwrap();
    assert_eq!(
        line.labels,
        Labels::from_pairs([
            ("__name__", "metric"),
            ("a", "b"),
            ("c", "x y}"),
            ("d.e", "f")
        ])
    );
    let line = parse_series_line(r#"{"utf8.name", job="a\"q"} 2"#).unwrap();
    assert_eq!(
        line.labels,
        Labels::from_pairs([("__name__", "utf8.name"), ("job", "a\"q")])
    );
    assert!(parse_series_line("{} 3").unwrap().labels.is_empty());
    assert!(parse_series_line("{a=} 3").is_err());
    assert!(parse_series_line(r#"m{a="1",a="2"} 3"#).is_err());
}

#[test]
fn histogram_expansion() {
    let line = parse_series_line(
        "h {{schema:0 count:1 sum:1 buckets:[1]}}+{{count:2 sum:3 buckets:[2]}}x2 {{sum:1}}x1",
    )
    .unwrap();
    let counts: Vec<f64> = line
        .values
        .iter()
        .map(|v| match v {
            SequenceValue::Histogram { histogram, .. } => histogram.count,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(counts, vec![1.0, 3.0, 5.0, 0.0, 0.0]);
}

#[test]
fn start_timestamp_lines() {
    let LoadLine::StartTimestamps(st) =
        parse_load_line(r#"m{type="a"}@st _ _ -30s-1mx2 -1msx1"#).unwrap()
    else {
        panic!("expected a start-timestamp line");
    };
    assert_eq!(
        st.offsets,
        vec![
            None,
            None,
            Some(-30_000),
            Some(-90_000),
            Some(-150_000),
            Some(-1),
            Some(-1)
        ]
    );
    assert!(matches!(
        parse_load_line("m 1 2").unwrap(),
        LoadLine::Series(_)
    ));
}
