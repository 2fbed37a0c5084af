use pm_common::model::Labels;

use super::*;

const SCRIPT: &str = r#"
# A comment ends nothing by itself, a blank line ends a block.
load 1m
  metric{a="b"} 1+1x2
  other 5

clear
LOAD_WITH_NHCB 30s
  h_bucket{le="1"} 1

eval instant at 1m metric
  expect warn msg: something (1:1)
  expect no_info
  metric{a="b"} 2

eval range from 0 to 2m step 1m metric
  metric{a="b"} 1 _ 3

eval_fail instant at 0 foo(
  expected_fail_regexp unexpected.*

eval instant at -1m 1 + 1
  2

eval instant at 0 "x"
  expect string "x"

eval instant at 1m metric[1m]
  expect range vector from 0 to 1m step 1m
  expect ordered
  metric{a="b"} 1 2
"#;

#[test]
fn parses_every_command_kind() {
    let cmds = parse_script(SCRIPT).unwrap();
    assert_eq!(cmds.len(), 9);
    let Command::Load(load) = &cmds[0] else {
        panic!("load first")
    };
    assert_eq!(
        (load.line, load.step, load.with_nhcb, load.lines.len()),
        (3, 60_000, false, 2)
    );
    assert_eq!(cmds[1], Command::Clear { line: 7 });
    let Command::Load(nhcb) = &cmds[2] else {
        panic!("load_with_nhcb")
    };
    assert!(nhcb.with_nhcb);
    let evals: Vec<&EvalCmd> = cmds
        .iter()
        .filter_map(|c| match c {
            Command::Eval(e) => Some(e.as_ref()),
            _ => None,
        })
        .collect();
    assert_eq!(evals[0].kind, EvalKind::Instant { at: 60_000 });
    assert_eq!(
        evals[0].warn,
        vec![MessageMatch::Exact("something (1:1)".into())]
    );
    assert!(evals[0].no_info && !evals[0].no_warn);
    let ExpectedResult::Series(s) = &evals[0].expected else {
        panic!("series")
    };
    assert_eq!(
        s[0].labels,
        Labels::from_pairs([("__name__", "metric"), ("a", "b")])
    );
    assert_eq!(
        evals[1].kind,
        EvalKind::Range {
            start: 0,
            end: 120_000,
            step: 60_000
        }
    );
    assert_eq!(
        evals[2].fail,
        Some(MessageMatch::Regex("unexpected.*".into()))
    );
    assert_eq!(evals[2].expr, "foo(");
    assert_eq!(evals[3].kind, EvalKind::Instant { at: -60_000 });
    assert_eq!(evals[3].expected, ExpectedResult::Scalar(2.0));
    assert_eq!(evals[4].expected, ExpectedResult::String("x".into()));
    assert!(evals[5].ordered);
    assert!(matches!(
        &evals[5].expected,
        ExpectedResult::RangeVector { start: 0, end: 60_000, step: 60_000, series } if series.len() == 1
    ));
}

#[test]
fn errors_carry_line_numbers() {
    let err = parse_script("load 1m\n  m 1\n\nbogus\n").unwrap_err();
    assert_eq!(err.line, 4);
    let err = parse_script("eval instant at 0 m\n  m 1 2\n").unwrap_err();
    assert_eq!(err.line, 2);
    assert!(err.message.contains("multiple values"));
    let err = parse_script("eval instant at 0 m\n  expect fail\n  expect fail\n").unwrap_err();
    assert_eq!(err.line, 3);
    assert!(parse_script("eval range from 0 to 1m step 1m m\n  expect ordered\n").is_err());
    assert!(parse_script("eval instant at 0 m\n  expect warn\n  expect no_warn\n").is_err());
    assert!(parse_script("load 1m\n  m{a=\"b\" 1\n").is_err());
}

#[test]
fn load_series_pair_start_timestamps_and_keep_last_definition() {
    let cmds = parse_script("load 1m\n  a 1 2\n  b@st _ -1s\n  b 3 4\n  a 5\n  c 6\n").unwrap();
    let Command::Load(load) = &cmds[0] else {
        panic!("load")
    };
    let series = load.series();
    let names: Vec<_> = series
        .iter()
        .map(|s| s.labels.metric_name().unwrap())
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(series[0].values.len(), 1, "the second definition of a wins");
    assert_eq!(series[1].start_timestamps, Some(&[None, Some(-1000)][..]));
    assert_eq!(series[2].start_timestamps, None);
}
