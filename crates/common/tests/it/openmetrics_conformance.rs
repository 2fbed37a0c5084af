//! Runs every case of the OpenMetrics conformance suite (`shared/testdata/openmetrics/parsers/`)
//! through the OpenMetrics parser plus the whole-exposition validator, and checks the parsed
//! samples of several valid cases exactly.

use std::path::PathBuf;

use pm_common::expfmt::textparse::{Entry, OpenMetricsParser, Parser, validate_openmetrics};
use pm_common::model::ScratchBuilder;

/// Cases whose verdict we knowingly do not match, with the reason. The test fails if a listed
/// case starts passing, so this list can only shrink.
const SKIPPED: &[(&str, &str)] = &[];

fn suite_dir() -> PathBuf {
    pm_testsupport::testdata("openmetrics/parsers")
}

fn read_case(name: &str) -> Vec<u8> {
    std::fs::read(suite_dir().join(name).join("metrics")).expect("read metrics")
}

#[test]
fn every_case_gets_the_expected_verdict() {
    let mut cases: Vec<_> = std::fs::read_dir(suite_dir())
        .expect("list suite")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert_eq!(cases.len(), 211, "the suite has 211 cases");
    let (mut passed, mut failed, mut skipped) = (0, Vec::new(), 0);
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let spec: serde_json::Value =
            serde_json::from_slice(&std::fs::read(case.join("test.json")).expect("test.json"))
                .expect("valid test.json");
        assert_eq!(spec["type"], "text", "{name}");
        let should_parse = spec["shouldParse"].as_bool().expect("shouldParse");
        let input = std::fs::read(case.join(spec["file"].as_str().expect("file"))).expect("input");
        let result = validate_openmetrics(&input);
        let ok = result.is_ok() == should_parse;
        let is_skipped = SKIPPED.iter().any(|(n, _)| *n == name);
        match (ok, is_skipped) {
            (true, false) => passed += 1,
            (false, true) => skipped += 1,
            (true, true) => failed.push(format!("{name}: listed in SKIPPED but passes now")),
            (false, false) => failed.push(format!(
                "{name}: expected shouldParse={should_parse}, got {result:?}"
            )),
        }
    }
    println!(
        "openmetrics: {passed} passed, {} failed, {skipped} skipped",
        failed.len()
    );
    assert!(failed.is_empty(), "failing cases:\n{}", failed.join("\n"));
}

/// (labels, value, timestamp) of every sample of a case, labels in display form.
fn samples(name: &str) -> Vec<(String, f64, Option<i64>)> {
    let input = read_case(name);
    let mut p = OpenMetricsParser::new(&input);
    let mut b = ScratchBuilder::new();
    let mut out = Vec::new();
    while let Some(e) = p.next().expect("valid case") {
        if e == Entry::Series {
            let (_, ts, v) = p.series();
            p.labels(&mut b);
            out.push((b.labels().to_string(), v, ts));
        }
    }
    out
}

fn s(labels: &str, v: f64, ts: Option<i64>) -> (String, f64, Option<i64>) {
    (labels.to_string(), v, ts)
}

#[test]
fn valid_cases_yield_exact_samples() {
    assert_eq!(
        samples("escaping"),
        vec![
            s(r#"{__name__="a_total", foo="b\"a\nr"}"#, 1.0, None),
            s(r#"{__name__="a_total", foo="b\\a\\z"}"#, 2.0, None),
            s(r#"{__name__="a_total", foo="b\"a\nr # "}"#, 3.0, None),
            s(r#"{__name__="a_total", foo="b\\a\\z # "}"#, 4.0, None),
        ]
    );
    assert_eq!(
        samples("timestamps"),
        vec![
            s(r#"{__name__="a_total", foo="1"}"#, 1.0, Some(0)),
            s(r#"{__name__="a_total", foo="2"}"#, 1.0, Some(0)),
            s(r#"{__name__="a_total", foo="3"}"#, 1.0, Some(1100)),
            s(r#"{__name__="a_total", foo="4"}"#, 1.0, Some(i64::MAX)),
            s(r#"{__name__="a_total", foo="5"}"#, 1.0, Some(1_500_000)),
            s(r#"{__name__="b_total"}"#, 2.0, Some(1_234_567_890_000)),
        ]
    );
    assert_eq!(
        samples("simple_histogram"),
        vec![
            s(r#"{__name__="a_bucket", le="1.0"}"#, 0.0, None),
            s(r#"{__name__="a_bucket", le="+Inf"}"#, 3.0, None),
            s(r#"{__name__="a_count"}"#, 3.0, None),
            s(r#"{__name__="a_sum"}"#, 2.0, None),
        ]
    );
    assert_eq!(
        samples("labels_and_infinite"),
        vec![
            s(r#"{__name__="a", foo="bar"}"#, f64::INFINITY, None),
            s(r#"{__name__="a", foo="baz"}"#, f64::NEG_INFINITY, None),
        ]
    );
    assert_eq!(
        samples("uint64_counter"),
        vec![s(r#"{__name__="a_total"}"#, 9223372036854775808.0, None)]
    );
    let hist_labels: Vec<String> = samples("histogram_noncanonical")
        .into_iter()
        .map(|(l, _, _)| l)
        .collect();
    assert_eq!(hist_labels[1], r#"{__name__="a_bucket", le="1e-11"}"#);
    assert_eq!(hist_labels[8], r#"{__name__="a_bucket", le="100000.0"}"#);
    let nan = samples("nan");
    assert_eq!(nan.len(), 1);
    assert!(nan[0].1.is_nan());
}
