use pm_common::model::{CounterResetHint, FloatHistogram, Histogram, STALE_NAN_BITS, Span};

use super::{OpenHistogramChunk, Verdict, indices, spans_of};
use crate::chunkenc::{decode_float_histograms, decode_histograms};

fn span(offset: i32, length: u32) -> Span {
    Span { offset, length }
}

/// An integer histogram with positive buckets `counts` (absolute) over `spans`.
fn hist(spans: &[Span], counts: &[i64]) -> Histogram {
    let mut prev = 0;
    let deltas = counts
        .iter()
        .map(|&c| {
            let d = c - prev;
            prev = c;
            d
        })
        .collect();
    let total: i64 = counts.iter().sum();
    Histogram {
        schema: 0,
        count: total as u64,
        sum: total as f64,
        positive_spans: spans.to_vec(),
        positive_deltas: deltas,
        ..Histogram::default()
    }
}

fn gauge(h: Histogram) -> Histogram {
    Histogram {
        counter_reset_hint: CounterResetHint::Gauge,
        ..h
    }
}

fn header(bytes: &[u8]) -> u8 {
    bytes[2] & 0b1100_0000
}

#[test]
fn spans_and_indices_round_trip() {
    let spans = [span(-2, 2), span(3, 1), span(0, 2)];
    let idx = indices(&spans);
    assert_eq!(idx, [-2, -1, 3, 4, 5]);
    assert_eq!(spans_of(&idx), [span(-2, 2), span(3, 3)]);
    assert!(spans_of(&[]).is_empty());
}

#[test]
fn growing_counters_continue_the_chunk() {
    let mut c = OpenHistogramChunk::start(0, &hist(&[span(0, 2)], &[1, 2]), None).unwrap();
    assert_eq!(
        c.push(10, &hist(&[span(0, 2)], &[2, 3]))
            .unwrap()
            .map(|_| ()),
        None
    );
    assert_eq!(c.num_samples(), 2);
    assert_eq!(header(&c.bytes()), 0, "a first chunk's header is unknown");
}

#[test]
fn new_buckets_recode_the_chunk() {
    let mut c = OpenHistogramChunk::start(0, &hist(&[span(0, 2)], &[1, 2]), None).unwrap();
    let wider = hist(&[span(0, 2), span(1, 1)], &[1, 2, 5]);
    let v = c.verdict(&wider);
    assert_eq!(v, Verdict::Append(wider.positive_spans.clone(), vec![]));
    let Verdict::Append(p, n) = v else {
        unreachable!()
    };
    assert!(c.append(10, &wider, &p, &n).unwrap(), "recoded");
    let got = decode_histograms(&c.bytes()).unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].1.positive_spans, wider.positive_spans);
    assert_eq!(
        got[0].1.positive_deltas,
        [1, 1, -2],
        "the new bucket is empty before"
    );
    assert_eq!(got[1].1.positive_deltas, wider.positive_deltas);
}

#[test]
fn empty_buckets_may_disappear_full_ones_mean_a_reset() {
    let first = hist(&[span(0, 3)], &[1, 0, 2]);
    let mut c = OpenHistogramChunk::start(0, &first, None).unwrap();
    // Bucket 1 (empty) is left out: the histogram is widened to the chunk's layout.
    let narrower = hist(&[span(0, 1), span(1, 1)], &[1, 3]);
    assert_eq!(c.push(10, &narrower).unwrap().map(|_| ()), None);
    let got = decode_histograms(&c.bytes()).unwrap();
    assert_eq!(got[1].1.positive_spans, [span(0, 3)]);
    assert_eq!(got[1].1.to_float().positive_buckets, [1.0, 0.0, 3.0]);
    // Bucket 2 (holding observations) disappears: a counter reset.
    let reset = hist(&[span(0, 2)], &[5, 5]);
    assert_eq!(
        c.verdict(&reset),
        Verdict::NewChunk(CounterResetHint::CounterReset)
    );
    let next = c.push(20, &reset).unwrap().expect("a new chunk");
    assert_eq!(header(&next.bytes()), 0b1000_0000);
    assert_eq!(c.num_samples(), 2, "the old chunk is left as it was");
}

#[test]
fn counter_resets_and_layout_changes_cut() {
    let c = OpenHistogramChunk::start(0, &hist(&[span(0, 2)], &[3, 3]), None).unwrap();
    use CounterResetHint::*;
    assert_eq!(
        c.verdict(&hist(&[span(0, 2)], &[1, 1])),
        Verdict::NewChunk(CounterReset),
        "count went down"
    );
    assert_eq!(
        c.verdict(&hist(&[span(0, 2)], &[4, 2])),
        Verdict::NewChunk(CounterReset),
        "one bucket went down"
    );
    let explicit = Histogram {
        counter_reset_hint: CounterReset,
        ..hist(&[span(0, 2)], &[4, 4])
    };
    assert_eq!(c.verdict(&explicit), Verdict::NewChunk(CounterReset));
    let schema = Histogram {
        schema: 1,
        ..hist(&[span(0, 2)], &[4, 4])
    };
    assert_eq!(c.verdict(&schema), Verdict::NewChunk(Unknown));
    assert_eq!(
        c.verdict(&gauge(hist(&[span(0, 2)], &[4, 4]))),
        Verdict::NewChunk(Gauge)
    );
    // A chunk following another: the header says whether the counter went on.
    let next = OpenHistogramChunk::start(10, &hist(&[span(0, 2)], &[4, 4]), Some(&c)).unwrap();
    assert_eq!(header(&next.bytes()), 0b0100_0000);
    let after_reset = OpenHistogramChunk::start(10, &hist(&[span(0, 2)], &[1, 1]), Some(&c));
    assert_eq!(header(&after_reset.unwrap().bytes()), 0b1000_0000);
}

#[test]
fn gauges_go_up_and_down_and_merge_layouts() {
    let mut c = OpenHistogramChunk::start(0, &gauge(hist(&[span(0, 2)], &[3, 3])), None).unwrap();
    assert_eq!(header(&c.bytes()), 0b1100_0000);
    assert!(
        c.push(10, &gauge(hist(&[span(0, 2)], &[1, 0])))
            .unwrap()
            .is_none()
    );
    // Bucket 0 vanishes and bucket 3 appears: both sides widen to the union.
    assert!(
        c.push(20, &gauge(hist(&[span(1, 1), span(1, 1)], &[2, 7])))
            .unwrap()
            .is_none()
    );
    let got = decode_histograms(&c.bytes()).unwrap();
    assert!(
        got.iter()
            .all(|(_, h)| h.positive_spans == [span(0, 2), span(1, 1)])
    );
    assert_eq!(got[2].1.to_float().positive_buckets, [0.0, 2.0, 7.0]);
    assert!(
        got.iter()
            .all(|(_, h)| h.counter_reset_hint == CounterResetHint::Gauge)
    );
    assert_eq!(
        c.verdict(&hist(&[span(0, 2)], &[4, 4])),
        Verdict::NewChunk(CounterResetHint::NotCounterReset),
        "a counter does not continue a gauge chunk"
    );
}

#[test]
fn stale_markers_end_a_chunk() {
    let stale = Histogram {
        sum: f64::from_bits(STALE_NAN_BITS),
        ..Histogram::default()
    };
    let mut c = OpenHistogramChunk::start(0, &hist(&[span(0, 2)], &[3, 3]), None).unwrap();
    assert!(c.push(10, &stale).unwrap().is_none());
    assert!(c.push(20, &stale).unwrap().is_none());
    assert_eq!(
        c.verdict(&hist(&[span(0, 2)], &[3, 3])),
        Verdict::NewChunk(CounterResetHint::Unknown)
    );
    let got = decode_histograms(&c.bytes()).unwrap();
    assert_eq!(got[1].1.sum.to_bits(), STALE_NAN_BITS);
}

#[test]
fn float_histograms_recode_too() {
    let fh = |spans: &[Span], counts: &[f64]| FloatHistogram {
        count: counts.iter().sum(),
        sum: 1.5,
        positive_spans: spans.to_vec(),
        positive_buckets: counts.to_vec(),
        ..FloatHistogram::default()
    };
    let mut c = OpenHistogramChunk::start(0, &fh(&[span(1, 1)], &[0.5]), None).unwrap();
    assert!(
        c.push(10, &fh(&[span(0, 2)], &[0.25, 0.75]))
            .unwrap()
            .is_none()
    );
    let got = decode_float_histograms(&c.bytes()).unwrap();
    assert_eq!(got[0].1.positive_buckets, [0.0, 0.5]);
    assert_eq!(got[1].1.positive_buckets, [0.25, 0.75]);
    assert!(matches!(
        c.verdict(&fh(&[span(0, 2)], &[0.25, 0.5])),
        Verdict::NewChunk(CounterResetHint::CounterReset)
    ));
}
