use pm_common::model::Labels;
use pm_storage::{Appendable, MemStorage, SeriesRef};
use prost::Message;

use super::*;
use crate::remote::prompb::{LabelMatcher, MatcherType};

const LIMITS: ReadLimits = ReadLimits {
    sample_limit: 0,
    max_bytes_in_frame: 1 << 20,
};

fn storage() -> MemStorage {
    let s = MemStorage::new();
    let mut app = s.appender();
    for (job, n) in [("a", 300), ("b", 2)] {
        let l = Labels::from_pairs([("__name__", "up"), ("job", job)]);
        for i in 0..n {
            app.append(SeriesRef::UNKNOWN, &l, i * 1000, i as f64)
                .unwrap();
        }
    }
    app.commit().unwrap();
    s
}

fn request(types: &[ResponseType], matchers: Vec<LabelMatcher>) -> Vec<u8> {
    codec::encode(&ReadRequest {
        queries: vec![Query {
            start_timestamp_ms: 0,
            end_timestamp_ms: 1_000_000,
            matchers,
            hints: None,
        }],
        accepted_response_types: types.iter().map(|&t| t as i32).collect(),
    })
}

fn eq(name: &str, value: &str) -> LabelMatcher {
    LabelMatcher {
        r#type: MatcherType::Eq as i32,
        name: name.into(),
        value: value.into(),
    }
}

#[test]
fn samples_response_adds_external_labels_and_ignores_their_matchers() {
    let external = Labels::from_pairs([("region", "eu")]);
    let body = request(&[], vec![eq("__name__", "up"), eq("region", "eu")]);
    let reply = serve(&storage(), &external, LIMITS, &body).unwrap();
    assert!(reply.snappy);
    assert_eq!(reply.content_type, "application/x-protobuf");
    let resp: ReadResponse = codec::decode(&reply.body).unwrap();
    assert_eq!(resp.results.len(), 1);
    let ts = &resp.results[0].timeseries;
    assert_eq!(ts.len(), 2);
    let mut by_job: Vec<(String, usize)> = ts
        .iter()
        .map(|t| {
            let l = codec::labels_from_proto(&t.labels);
            assert_eq!(l.get("region"), Some("eu"));
            (l.get("job").unwrap().to_owned(), t.samples.len())
        })
        .collect();
    by_job.sort();
    assert_eq!(by_job, [("a".to_owned(), 300), ("b".to_owned(), 2)]);
}

#[test]
fn sample_limit_is_400() {
    let limits = ReadLimits {
        sample_limit: 100,
        ..LIMITS
    };
    let body = request(&[ResponseType::Samples], vec![eq("__name__", "up")]);
    let err = serve(&storage(), &Labels::default(), limits, &body)
        .err()
        .unwrap();
    assert_eq!(err.to_string(), "exceeded sample limit (100)");
    assert_eq!(err.status(), http::StatusCode::BAD_REQUEST);
}

#[test]
fn streamed_chunks_decode_to_the_stored_samples() {
    let body = request(
        &[ResponseType::StreamedXorChunks, ResponseType::Samples],
        vec![eq("job", "a")],
    );
    let limits = ReadLimits {
        max_bytes_in_frame: 64,
        ..LIMITS
    };
    let reply = serve(&storage(), &Labels::default(), limits, &body).unwrap();
    assert!(!reply.snappy);
    assert_eq!(reply.content_type, codec::CONTENT_TYPE_STREAMED);
    let mut rest = reply.body.as_slice();
    let mut samples = Vec::new();
    let mut frames = 0;
    while !rest.is_empty() {
        let (msg, used) = codec::read_frame(rest, 1 << 20).unwrap().unwrap();
        let frame = ChunkedReadResponse::decode(msg).unwrap();
        assert_eq!(frame.query_index, 0);
        for s in &frame.chunked_series {
            assert_eq!(
                codec::labels_from_proto(&s.labels),
                Labels::from_pairs([("__name__", "up"), ("job", "a")])
            );
            for c in &s.chunks {
                assert_eq!(c.r#type, ChunkEncoding::Xor as i32);
                let mut it = pm_tsdb::chunkenc::XorIterator::new(&c.data);
                while it.next_value() == ValueType::Float {
                    samples.push(it.at());
                }
            }
        }
        frames += 1;
        rest = &rest[used..];
    }
    // 300 samples make 3 chunks; the small frame size puts each in its own frame.
    assert_eq!(frames, 3);
    assert_eq!(samples.len(), 300);
    assert_eq!(samples[299], (299_000, 299.0));
}

#[test]
fn unknown_response_types_only_are_refused() {
    let body = codec::encode(&ReadRequest {
        queries: Vec::new(),
        accepted_response_types: vec![7],
    });
    let err = serve(&storage(), &Labels::default(), LIMITS, &body)
        .err()
        .unwrap();
    assert_eq!(err.status(), http::StatusCode::BAD_REQUEST);
}
