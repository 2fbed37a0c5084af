use pm_common::model::{CounterResetHint, FloatHistogram, Histogram, Labels, Span};
use prost::Message;

use super::*;
use crate::remote::prompb::{Sample, TimeSeries, WriteRequest};
use crate::remote::writev2::{self, SymbolTable};

#[test]
fn write_request_round_trips_through_snappy() {
    let req = WriteRequest {
        timeseries: vec![TimeSeries {
            labels: labels_to_proto(&Labels::from_pairs([("__name__", "up"), ("job", "a")])),
            samples: vec![Sample {
                value: 1.5,
                timestamp: 1000,
            }],
            ..Default::default()
        }],
        metadata: Vec::new(),
    };
    let body = encode(&req);
    // Snappy block format: the uvarint length of the raw message comes first.
    assert_eq!(body[0] as usize, req.encoded_len());
    let back: WriteRequest = decode(&body).unwrap();
    assert_eq!(back, req);
    assert!(matches!(
        decode::<WriteRequest>(b"\xffgarbage"),
        Err(CodecError::Snappy(_))
    ));
}

#[test]
fn field_numbers_match_upstream() {
    // Label{name:"a", value:"b"} is 0a 01 61 12 01 62; Sample{value:1, timestamp:2} is
    // 09 <8 bytes of 1.0> 10 02.
    let l = prompb::Label {
        name: "a".into(),
        value: "b".into(),
    };
    assert_eq!(l.encode_to_vec(), [0x0a, 1, b'a', 0x12, 1, b'b']);
    let s = Sample {
        value: 1.0,
        timestamp: 2,
    };
    let mut want = vec![0x09];
    want.extend_from_slice(&1.0f64.to_le_bytes());
    want.extend_from_slice(&[0x10, 2]);
    assert_eq!(s.encode_to_vec(), want);
    // Request.symbols is field 4 (tag 0x22): a 2.0 body decoded as 1.0 gives nothing.
    let v2 = writev2::Request {
        symbols: vec![String::new(), "x".into()],
        timeseries: Vec::new(),
    };
    let bytes = v2.encode_to_vec();
    assert_eq!(bytes[0], 0x22);
    assert_eq!(
        WriteRequest::decode(bytes.as_slice()).unwrap(),
        WriteRequest::default()
    );
}

#[test]
fn symbol_table_dedups_and_resolves() {
    let mut t = SymbolTable::default();
    let mut refs = Vec::new();
    t.symbolize_labels(
        &Labels::from_pairs([("__name__", "up"), ("job", "up")]),
        &mut refs,
    );
    assert_eq!(refs, [1, 2, 3, 2]);
    let symbols = t.take();
    assert_eq!(symbols, ["", "__name__", "up", "job"]);
    let mut b = pm_common::model::ScratchBuilder::new();
    writev2::labels_from_refs(&symbols, &[3, 2, 1, 2], &mut b).unwrap();
    assert_eq!(
        b.labels(),
        Labels::from_pairs([("__name__", "up"), ("job", "up")])
    );
    assert_eq!(
        writev2::labels_from_refs(&symbols, &[1, 9], &mut b),
        Err(writev2::SymbolError::OutOfRange(9, 4))
    );
    assert_eq!(
        writev2::labels_from_refs(&symbols, &[1], &mut b),
        Err(writev2::SymbolError::Odd(1))
    );
    // After take() the table starts over with "".
    assert_eq!(t.symbolize("job"), 1);
}

#[test]
fn content_types() {
    assert_eq!(
        WriteMessage::from_content_type("application/x-protobuf"),
        Ok(WriteMessage::V1)
    );
    assert_eq!(
        WriteMessage::from_content_type(
            "application/x-protobuf;proto=io.prometheus.write.v2.Request"
        ),
        Ok(WriteMessage::V2)
    );
    assert_eq!(
        WriteMessage::from_content_type(&WriteMessage::V1.content_type()),
        Ok(WriteMessage::V1)
    );
    assert!(WriteMessage::from_content_type("application/json").is_err());
    assert!(WriteMessage::from_content_type("application/x-protobuf;proto=foo.Bar").is_err());
}

#[test]
fn histograms_round_trip() {
    let h = Histogram {
        counter_reset_hint: CounterResetHint::NotCounterReset,
        schema: 1,
        zero_threshold: 0.001,
        zero_count: 2,
        count: 10,
        sum: 12.5,
        positive_spans: vec![Span {
            offset: -1,
            length: 2,
        }],
        negative_spans: Vec::new(),
        positive_deltas: vec![3, 2],
        negative_deltas: Vec::new(),
        custom_values: Vec::new(),
    };
    let p = histogram_to_proto(7, &h);
    assert_eq!(p.timestamp, 7);
    let AnyHistogram::Int(back) = histogram_from_proto(&p) else {
        panic!("integer histogram decoded as float");
    };
    assert_eq!(back, h);
    let fh = FloatHistogram {
        counter_reset_hint: CounterResetHint::Gauge,
        count: 3.5,
        positive_spans: vec![Span {
            offset: 0,
            length: 1,
        }],
        positive_buckets: vec![3.5],
        ..FloatHistogram::default()
    };
    let AnyHistogram::Float(back) = histogram_from_proto(&float_histogram_to_proto(1, &fh)) else {
        panic!("float histogram decoded as integer");
    };
    assert_eq!(back, fh);
}

#[test]
fn frames_round_trip_and_detect_corruption() {
    let mut out = Vec::new();
    write_frame(&mut out, b"hello");
    write_frame(&mut out, &[7u8; 300]);
    let (first, used) = read_frame(&out, 1000).unwrap().unwrap();
    assert_eq!(first, b"hello");
    let (second, used2) = read_frame(&out[used..], 1000).unwrap().unwrap();
    assert_eq!(second, &[7u8; 300][..]);
    assert_eq!(used + used2, out.len());
    assert!(read_frame(&out[..used - 1], 1000).unwrap().is_none());
    assert!(matches!(
        read_frame(&out[used..], 100),
        Err(CodecError::FrameTooLarge(300, 100))
    ));
    let mut bad = out.clone();
    bad[used - 1] ^= 1;
    assert!(matches!(
        read_frame(&bad, 1000),
        Err(CodecError::FrameChecksum)
    ));
}

#[test]
fn external_labels_do_not_override_series_labels() {
    let series = Labels::from_pairs([("__name__", "up"), ("region", "own")]);
    let external = Labels::from_pairs([("region", "eu"), ("replica", "a")]);
    assert_eq!(
        merge_external(&series, &external),
        Labels::from_pairs([("__name__", "up"), ("region", "own"), ("replica", "a")])
    );
}
