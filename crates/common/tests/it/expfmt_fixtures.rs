//! Conformance of the protobuf codec and the text encoder against prometheus/common's own
//! exposition fixtures (`shared/testdata/expfmt/testdata`).

use std::io::Read;

use pm_common::expfmt::dto::{self, MetricType};
use pm_common::expfmt::encode::write_text;
use pm_common::expfmt::proto::{
    DelimitedReader, ProtoError, decode_delimited, encode_delimited_all,
};

fn fixture(name: &str) -> Vec<u8> {
    let path = pm_testsupport::testdata("expfmt/testdata").join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .expect("valid gzip fixture");
    out
}

fn find<'a>(families: &'a [dto::MetricFamily], name: &str) -> &'a dto::MetricFamily {
    families
        .iter()
        .find(|f| f.name() == name)
        .unwrap_or_else(|| panic!("family {name} missing"))
}

#[test]
fn protobuf_fixture_decodes() {
    let families = decode_delimited(&fixture("protobuf")).expect("fixture decodes");
    assert_eq!(families.len(), 37);

    let vm = find(&families, "process_virtual_memory_bytes");
    assert_eq!(vm.r#type(), MetricType::Gauge);
    assert_eq!(vm.help(), "Virtual memory size in bytes.");
    assert_eq!(vm.metric.len(), 1);
    assert!(vm.metric[0].gauge.as_ref().unwrap().value() > 0.0);

    let requests = find(&families, "http_requests_total");
    assert_eq!(requests.r#type(), MetricType::Counter);
    assert!(!requests.metric.is_empty());
    for m in &requests.metric {
        let names: Vec<_> = m.label.iter().map(|l| l.name()).collect();
        assert_eq!(names, ["code", "handler", "method"]);
        assert!(m.counter.as_ref().unwrap().value() >= 0.0);
    }

    let summaries = families
        .iter()
        .filter(|f| f.r#type() == MetricType::Summary)
        .count();
    assert_eq!(summaries, 10);
}

#[test]
fn protobuf_fixture_reencodes_byte_for_byte() {
    let raw = fixture("protobuf");
    let families = decode_delimited(&raw).unwrap();
    let mut out = Vec::new();
    encode_delimited_all(&families, &mut out);
    assert_eq!(
        out, raw,
        "re-encoded protobuf differs from upstream's bytes"
    );
}

#[test]
fn gzipped_protobuf_fixture_matches_plain() {
    let plain = decode_delimited(&fixture("protobuf")).unwrap();
    let gz = decode_delimited(&gunzip(&fixture("protobuf.gz"))).unwrap();
    assert_eq!(gz, plain);
}

#[test]
fn multimessage_fixture_has_six_families() {
    let raw = fixture("protobuf-multimessage");
    let families = decode_delimited(&raw).unwrap();
    assert_eq!(families.len(), 6);
    let mut out = Vec::new();
    encode_delimited_all(&families, &mut out);
    assert_eq!(out, raw);
}

#[test]
fn truncated_fixture_is_an_error_not_a_panic() {
    let raw = fixture("protobuf");
    for cut in [1, raw.len() / 3, raw.len() - 1] {
        let err = decode_delimited(&raw[..cut]).unwrap_err();
        assert!(
            matches!(
                err,
                ProtoError::Truncated { .. } | ProtoError::Decode { .. }
            ),
            "cut at {cut}: {err}"
        );
    }
    // Everything before the damaged message still decodes.
    let complete = DelimitedReader::new(&raw[..raw.len() - 1])
        .take_while(Result::is_ok)
        .count();
    assert_eq!(complete, 36);
}

/// The `text` fixture is the same exposition as `protobuf`; every family we write from the
/// protobuf must appear in it verbatim.
#[test]
fn text_encoding_of_protobuf_fixture_matches_text_fixture() {
    let expected = String::from_utf8(fixture("text")).unwrap();
    let families = decode_delimited(&fixture("protobuf")).unwrap();
    let mut missing = Vec::new();
    for mf in &families {
        let mut block = String::new();
        write_text(&mut block, mf).unwrap();
        if !expected.contains(&block) {
            missing.push(block);
        }
    }
    assert!(
        missing.is_empty(),
        "{} of {} families differ, first:\n{}",
        missing.len(),
        families.len(),
        missing[0]
    );
}
