//! Runs the upstream exposition fixtures through every text entry point: the Prometheus text
//! parser, the OpenMetrics parser and validator, and the family decoder. Large pages must parse
//! completely with the right counts; nothing may panic.

use std::collections::BTreeMap;
use std::path::PathBuf;

use pm_common::expfmt::dto;
use pm_common::expfmt::textparse::{
    Entry, OpenMetricsParser, ParseError, Parser, PromParser, decode_text_families,
    validate_openmetrics,
};
use pm_common::model::ScratchBuilder;

fn fixture(rel: &str) -> PathBuf {
    pm_testsupport::testdata(rel)
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(fixture(rel)).expect("read fixture")
}

/// Entry counts by kind, building labels for every sample (the cache-miss path).
fn count<'a>(mut p: impl Parser<'a>) -> Result<BTreeMap<&'static str, usize>, ParseError> {
    let mut counts = BTreeMap::new();
    let mut b = ScratchBuilder::new();
    while let Some(e) = p.next()? {
        let kind = match e {
            Entry::Help => "help",
            Entry::Type => "type",
            Entry::Unit => "unit",
            Entry::Comment => "comment",
            Entry::Series => {
                p.labels(&mut b);
                b.sort();
                if b.duplicate_name().is_some() {
                    *counts.entry("duplicate_labels").or_default() += 1;
                }
                if p.exemplar().is_some() {
                    *counts.entry("exemplar").or_default() += 1;
                }
                "series"
            }
        };
        *counts.entry(kind).or_default() += 1;
    }
    Ok(counts)
}

fn counts(pairs: &[(&'static str, usize)]) -> BTreeMap<&'static str, usize> {
    pairs.iter().copied().collect()
}

#[test]
fn prometheus_text_pages_parse_completely() {
    for (file, help) in [
        ("textparse/alltypes.237mfs.prom.txt", 237),
        ("textparse/alltypes.237mfs.nometa.prom.txt", 0),
    ] {
        let input = read(file);
        let mut want = counts(&[("series", 1857), ("comment", 1)]);
        if help > 0 {
            want.insert("help", help);
            want.insert("type", help);
        }
        assert_eq!(count(PromParser::new(&input)).expect(file), want, "{file}");
    }
    let input = read("expfmt/testdata/text");
    assert_eq!(
        count(PromParser::new(&input)).expect("text"),
        counts(&[("series", 248), ("help", 37), ("type", 37)])
    );
}

#[test]
fn openmetrics_pages_parse_and_validate() {
    for (file, want) in [
        (
            "textparse/alltypes.5mfs.om.txt",
            counts(&[("series", 53), ("help", 5), ("type", 5), ("exemplar", 6)]),
        ),
        (
            "textparse/1histogram.om.txt",
            counts(&[("series", 42), ("help", 1), ("type", 1)]),
        ),
    ] {
        let input = read(file);
        assert_eq!(
            count(OpenMetricsParser::new(&input)).expect(file),
            want,
            "{file}"
        );
    }
    assert_eq!(
        validate_openmetrics(&read("textparse/1histogram.om.txt")),
        Ok(42)
    );
    // Upstream's benchmark page is not strictly valid OpenMetrics: a histogram with negative
    // buckets also exposes `_sum`, which the specification forbids. Scrape parsing accepts it
    // (above); the validator must point at that histogram.
    let err = validate_openmetrics(&read("textparse/alltypes.5mfs.om.txt")).unwrap_err();
    assert_eq!(err.line, 33, "{err}");
    assert!(
        err.to_string()
            .contains("rpc_durations_histogram_seconds_sum"),
        "{err}"
    );
}

#[test]
fn family_decoder_reads_full_pages() {
    let fams = decode_text_families(&read("expfmt/testdata/text")).expect("text");
    assert_eq!(fams.len(), 37);
    let samples: usize = fams.iter().map(|f| f.metric.len()).sum();
    assert!(samples > 0);
    let fams = decode_text_families(&read("textparse/alltypes.237mfs.prom.txt")).expect("237");
    assert_eq!(fams.len(), 237);
    for f in &fams {
        assert!(f.r#type.is_some() && f.help.is_some(), "{}", f.name());
        if f.r#type == Some(dto::MetricType::Histogram as i32) {
            for m in &f.metric {
                let h = m.histogram.as_ref().expect("histogram data");
                assert_eq!(
                    h.bucket.last().map(|b| b.upper_bound()),
                    Some(f64::INFINITY)
                );
            }
        }
    }
    decode_text_families(&read("textparse/alltypes.237mfs.nometa.prom.txt")).expect("nometa");
}

/// Upstream's parse-error inputs that upstream's decoder nevertheless accepts, with why.
const ACCEPTED_ERROR_INPUTS: &[(&str, &str)] = &[];

#[test]
fn fuzz_corpus_verdicts_and_no_panics() {
    let dir = fixture("expfmt/fuzz-corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("list corpus")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 26);
    let mut unexpected = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let input = std::fs::read(path).expect("read");
        // Robustness: the streaming parsers may accept or reject, but must terminate cleanly.
        let _ = count(PromParser::new(&input));
        let _ = count(OpenMetricsParser::new(&input));
        let _ = validate_openmetrics(&input);
        let decoded = decode_text_families(&input);
        let should_fail = name.starts_with("from_test_parse_error_")
            && !ACCEPTED_ERROR_INPUTS.iter().any(|(n, _)| *n == name);
        if decoded.is_err() != should_fail {
            unexpected.push(format!("{name}: {decoded:?}"));
        }
    }
    assert!(
        unexpected.is_empty(),
        "unexpected verdicts:\n{}",
        unexpected.join("\n")
    );
}
