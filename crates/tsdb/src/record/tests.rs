use pm_common::model::{FloatHistogram, Histogram, Labels, MetricType, Span};

use super::*;

fn lbls(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

#[test]
fn samples_layout_matches_upstream() {
    let mut b = Vec::new();
    encode_samples(
        &[
            RefSample {
                r: 2,
                t: 1000,
                v: 1.0,
            },
            RefSample {
                r: 1,
                t: 1001,
                v: 2.0,
            },
        ],
        &mut b,
    );
    let mut want = vec![2u8];
    want.extend_from_slice(&2u64.to_be_bytes());
    want.extend_from_slice(&1000u64.to_be_bytes());
    want.extend_from_slice(&[0, 0]);
    want.extend_from_slice(&1.0f64.to_bits().to_be_bytes());
    // ref delta -1 zig-zags to 1, time delta +1 to 2.
    want.extend_from_slice(&[1, 2]);
    want.extend_from_slice(&2.0f64.to_bits().to_be_bytes());
    assert_eq!(b, want);
}

#[test]
fn series_layout_matches_upstream() {
    let mut b = Vec::new();
    encode_series(
        &[RefSeries {
            r: 7,
            labels: lbls(&[("a", "bc")]),
        }],
        &mut b,
    );
    assert_eq!(b, [1, 0, 0, 0, 0, 0, 0, 0, 7, 1, 1, b'a', 2, b'b', b'c']);
}

#[test]
fn every_record_round_trips() {
    let series = vec![
        RefSeries {
            r: 1,
            labels: lbls(&[("__name__", "up"), ("job", "x")]),
        },
        RefSeries {
            r: 100,
            labels: Labels::default(),
        },
    ];
    let samples = vec![
        RefSample {
            r: 5,
            t: -3,
            v: f64::NAN,
        },
        RefSample {
            r: 1,
            t: i64::MAX,
            v: -0.0,
        },
    ];
    let stones = vec![Stone {
        r: 3,
        mint: i64::MIN,
        maxt: 10,
    }];
    let exemplars = vec![RefExemplar {
        r: 9,
        t: 12,
        v: 1.5,
        labels: lbls(&[("trace_id", "abc")]),
    }];
    let markers = vec![RefMmapMarker {
        r: 1,
        mmap_ref: 1 << 40,
    }];
    let metadata = vec![RefMetadata {
        r: 4,
        metric_type: MetricType::Summary,
        unit: "seconds".into(),
        help: "How long.".into(),
    }];
    let h = Histogram {
        schema: 3,
        zero_threshold: 0.001,
        zero_count: 2,
        count: 9,
        sum: 4.5,
        positive_spans: vec![Span {
            offset: -2,
            length: 2,
        }],
        positive_deltas: vec![3, -1],
        ..Histogram::default()
    };
    let custom = FloatHistogram {
        schema: -53,
        count: 3.0,
        positive_spans: vec![Span {
            offset: 0,
            length: 1,
        }],
        positive_buckets: vec![3.0],
        custom_values: vec![0.5, 1.0],
        ..FloatHistogram::default()
    };
    let hists = vec![RefHistogramSample { r: 2, t: 10, h }];
    let fhists = vec![RefFloatHistogramSample {
        r: 2,
        t: 11,
        fh: custom,
    }];

    let mut b = Vec::new();
    encode_series(&series, &mut b);
    assert_eq!(decode(&b).unwrap(), Record::Series(series));
    b.clear();
    encode_samples(&samples, &mut b);
    let Record::Samples(got) = decode(&b).unwrap() else {
        panic!("type")
    };
    assert_eq!((got[0].r, got[0].t, got[1].t), (5, -3, i64::MAX));
    assert!(got[0].v.is_nan() && got[1].v.to_bits() == (-0.0f64).to_bits());
    for (rec, want) in [
        (
            {
                let mut b = Vec::new();
                encode_tombstones(&stones, &mut b);
                b
            },
            Record::Tombstones(stones),
        ),
        (
            {
                let mut b = Vec::new();
                encode_exemplars(&exemplars, &mut b);
                b
            },
            Record::Exemplars(exemplars),
        ),
        (
            {
                let mut b = Vec::new();
                encode_mmap_markers(&markers, &mut b);
                b
            },
            Record::MmapMarkers(markers),
        ),
        (
            {
                let mut b = Vec::new();
                encode_metadata(&metadata, &mut b);
                b
            },
            Record::Metadata(metadata),
        ),
        (
            {
                let mut b = Vec::new();
                encode_histograms(&hists, &mut b);
                b
            },
            Record::Histograms(hists),
        ),
        (
            {
                let mut b = Vec::new();
                encode_float_histograms(&fhists, &mut b);
                b
            },
            Record::FloatHistograms(fhists),
        ),
    ] {
        assert_eq!(decode(&rec).unwrap(), want);
    }
}

#[test]
fn custom_bucket_histograms_get_their_own_type() {
    let mut b = Vec::new();
    encode_float_histograms(
        &[RefFloatHistogramSample {
            r: 1,
            t: 1,
            fh: FloatHistogram {
                schema: -53,
                ..FloatHistogram::default()
            },
        }],
        &mut b,
    );
    assert_eq!(
        RecordType::of(&b),
        Some(RecordType::CustomBucketsFloatHistogramSamples)
    );
}

#[test]
fn empty_lists_and_bad_input() {
    let mut b = Vec::new();
    encode_samples(&[], &mut b);
    assert_eq!(b, [2]);
    assert_eq!(decode(&b).unwrap(), Record::Samples(vec![]));
    assert_eq!(decode(&[]), Err(RecordError::Empty));
    assert_eq!(decode(&[42]), Err(RecordError::UnknownType(42)));
    let mut b = Vec::new();
    encode_samples(
        &[
            RefSample { r: 1, t: 1, v: 1.0 },
            RefSample { r: 2, t: 2, v: 2.0 },
        ],
        &mut b,
    );
    b.truncate(b.len() - 3);
    let err = decode(&b).unwrap_err();
    assert_eq!(
        err.to_string(),
        "decode error after 1 samples: record ends in the middle of a value"
    );
}
