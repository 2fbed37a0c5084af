use pm_common::model::{Labels, MetricType};
use pm_storage::{MemStorage, SeriesSample};

use super::*;
use crate::remote::prompb::{Sample, TimeSeries};
use crate::remote::writev2::SymbolTable;

fn both() -> ReceiverOptions {
    ReceiverOptions {
        accepted: vec![WriteMessage::V1, WriteMessage::V2],
    }
}

fn series(pairs: &[(&str, &str)], samples: &[(i64, f64)]) -> TimeSeries {
    TimeSeries {
        labels: codec::labels_to_proto(&Labels::from_pairs(pairs.iter().copied())),
        samples: samples
            .iter()
            .map(|&(timestamp, value)| Sample { value, timestamp })
            .collect(),
        ..Default::default()
    }
}

fn v1_body(ts: Vec<TimeSeries>) -> Vec<u8> {
    codec::encode(&WriteRequest {
        timeseries: ts,
        metadata: Vec::new(),
    })
}

#[test]
fn v1_appends_samples_and_exemplars() {
    let storage = MemStorage::new();
    let mut ts = series(
        &[("__name__", "up"), ("job", "a")],
        &[(1000, 1.0), (2000, 0.0)],
    );
    ts.exemplars.push(prompb::Exemplar {
        labels: codec::labels_to_proto(&Labels::from_pairs([("trace_id", "abc")])),
        value: 1.0,
        timestamp: 2000,
    });
    let out = receive(&storage, &both(), None, None, &v1_body(vec![ts]));
    assert_eq!(out.result, Ok(()));
    assert_eq!(out.message, WriteMessage::V1);
    assert_eq!(
        out.stats,
        WriteStats {
            samples: 2,
            histograms: 0,
            exemplars: 1
        }
    );
    let labels = Labels::from_pairs([("__name__", "up"), ("job", "a")]);
    assert_eq!(
        storage.samples(&labels),
        [
            SeriesSample::float(1000, 1.0),
            SeriesSample::float(2000, 0.0)
        ]
    );
    assert_eq!(storage.exemplars(&labels).len(), 1);
}

#[test]
fn v1_out_of_order_is_400_and_rolls_back() {
    let storage = MemStorage::new();
    let first = v1_body(vec![series(&[("__name__", "x")], &[(5000, 1.0)])]);
    assert_eq!(
        receive(&storage, &both(), None, None, &first).result,
        Ok(())
    );
    let body = v1_body(vec![
        series(&[("__name__", "y")], &[(1000, 1.0)]),
        series(&[("__name__", "x")], &[(1000, 1.0)]),
    ]);
    let out = receive(&storage, &both(), None, None, &body);
    let err = out.result.unwrap_err();
    assert_eq!(err.status(), http::StatusCode::BAD_REQUEST);
    assert_eq!(err.to_string(), "out of order sample");
    assert!(
        storage
            .samples(&Labels::from_pairs([("__name__", "y")]))
            .is_empty()
    );
}

#[test]
fn v1_skips_series_with_invalid_labels() {
    let storage = MemStorage::new();
    let body = v1_body(vec![
        series(&[("job", "no-name")], &[(1000, 1.0)]),
        series(&[("__name__", "ok")], &[(1000, 1.0)]),
    ]);
    let out = receive(&storage, &both(), None, None, &body);
    assert_eq!(out.result, Ok(()));
    assert_eq!(
        storage.series_labels(),
        [Labels::from_pairs([("__name__", "ok")])]
    );
}

#[test]
fn refuses_unsupported_types_encodings_and_garbage() {
    let storage = MemStorage::new();
    let body = v1_body(vec![series(&[("__name__", "x")], &[(1000, 1.0)])]);
    let status = |ct: Option<&str>, enc: Option<&str>, body: &[u8], opts: &ReceiverOptions| {
        receive(&storage, opts, ct, enc, body)
            .result
            .unwrap_err()
            .status()
    };
    assert_eq!(
        status(Some("application/json"), None, &body, &both()),
        http::StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        status(None, Some("gzip"), &body, &both()),
        http::StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let v1_only = ReceiverOptions {
        accepted: vec![WriteMessage::V1],
    };
    assert_eq!(
        status(
            Some(&WriteMessage::V2.content_type()),
            None,
            &body,
            &v1_only
        ),
        http::StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        status(None, None, b"not snappy", &both()),
        http::StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status(None, None, &codec::compress(b"\xff\xff\xff"), &both()),
        http::StatusCode::BAD_REQUEST
    );
    assert!(storage.series_labels().is_empty());
}

fn v2_series(
    table: &mut SymbolTable,
    labels: &Labels,
    samples: &[(i64, f64)],
    metadata: Option<(MetricType, &str)>,
) -> writev2::TimeSeries {
    let mut refs = Vec::new();
    table.symbolize_labels(labels, &mut refs);
    writev2::TimeSeries {
        labels_refs: refs,
        samples: samples
            .iter()
            .map(|&(timestamp, value)| writev2::Sample { value, timestamp })
            .collect(),
        metadata: metadata.map(|(t, help)| writev2::Metadata {
            r#type: codec::metric_type_to_proto(t) as i32,
            help_ref: table.symbolize(help),
            unit_ref: 0,
        }),
        ..Default::default()
    }
}

#[test]
fn v2_writes_partially_and_reports_counts() {
    let storage = MemStorage::new();
    let a = Labels::from_pairs([("__name__", "a_total")]);
    let b = Labels::from_pairs([("__name__", "b")]);
    let mut table = SymbolTable::default();
    let first = vec![v2_series(&mut table, &b, &[(5000, 1.0)], None)];
    let body = codec::encode(&writev2::Request {
        symbols: table.take(),
        timeseries: first,
    });
    let ct = WriteMessage::V2.content_type();
    assert_eq!(
        receive(&storage, &both(), Some(&ct), None, &body).result,
        Ok(())
    );
    let ts = vec![
        v2_series(
            &mut table,
            &a,
            &[(1000, 1.0), (2000, 2.0)],
            Some((MetricType::Counter, "A counter.")),
        ),
        v2_series(&mut table, &b, &[(1000, 1.0)], None),
    ];
    let body = codec::encode(&writev2::Request {
        symbols: table.take(),
        timeseries: ts,
    });
    let out = receive(&storage, &both(), Some(&ct), None, &body);
    assert_eq!(out.message, WriteMessage::V2);
    assert_eq!(out.stats.samples, 2);
    assert_eq!(
        out.result.unwrap_err().status(),
        http::StatusCode::BAD_REQUEST
    );
    assert_eq!(storage.samples(&a).len(), 2);
    let m = storage.metadata(&a).unwrap();
    assert_eq!(
        (m.metric_type, m.help.as_str()),
        (MetricType::Counter, "A counter.")
    );
}

#[test]
fn v2_bad_symbol_reference_is_400() {
    let storage = MemStorage::new();
    let body = codec::encode(&writev2::Request {
        symbols: vec![String::new()],
        timeseries: vec![writev2::TimeSeries {
            labels_refs: vec![5, 6],
            ..Default::default()
        }],
    });
    let out = receive(
        &storage,
        &both(),
        Some(&WriteMessage::V2.content_type()),
        None,
        &body,
    );
    assert_eq!(
        out.result.unwrap_err().status(),
        http::StatusCode::BAD_REQUEST
    );
}
