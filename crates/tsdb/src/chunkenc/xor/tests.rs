use proptest::prelude::*;

use super::*;
use pm_common::model::stale_nan;

fn encode(samples: &[(i64, f64)]) -> XorChunk {
    let mut chunk = XorChunk::new();
    let mut app = chunk.appender().unwrap();
    for &(t, v) in samples {
        app.append(t, v).unwrap();
    }
    chunk
}

fn decode(chunk: &XorChunk) -> Vec<(i64, f64)> {
    let mut it = chunk.iter();
    let mut out = Vec::new();
    while it.next_value() == ValueType::Float {
        out.push(it.at());
    }
    assert_eq!(it.err(), None);
    out
}

/// Compares values by bit pattern so NaN payloads (the stale marker) count.
fn assert_same(got: &[(i64, f64)], want: &[(i64, f64)]) {
    let bits = |s: &[(i64, f64)]| s.iter().map(|&(t, v)| (t, v.to_bits())).collect::<Vec<_>>();
    assert_eq!(bits(got), bits(want));
}

#[test]
fn hand_encoded_bytes() {
    let chunk = encode(&[(1000, 1.0), (2000, 1.0), (3000, 2.0)]);
    assert_eq!(
        chunk.bytes(),
        &[
            0x00, 0x03, // three samples
            0xd0, 0x0f, // varint 1000
            0x3f, 0xf0, 0, 0, 0, 0, 0, 0, // 1.0
            0xe8, 0x07, // delta 1000
            // value unchanged, dod 0, then 2.0: new window, leading 1, 11 bits.
            0x30, 0x97, 0xff, 0xc0,
        ]
    );
    assert_same(&decode(&chunk), &[(1000, 1.0), (2000, 1.0), (3000, 2.0)]);
}

#[test]
fn every_dod_width_and_its_bounds() {
    let dods = [
        0i64,
        1,
        -1,
        8192,
        -8191,
        8193,
        -8192,
        65536,
        -65535,
        65537,
        524_288,
        -524_287,
        524_289,
        -524_288,
        1 << 40,
        -(1 << 40),
    ];
    let mut samples = vec![(0i64, 0.0), (10_000_000_000_000, 1.0)];
    let mut delta = 10_000_000_000_000i64;
    for (i, dod) in dods.iter().enumerate() {
        delta += dod;
        let t = samples.last().unwrap().0 + delta;
        samples.push((t, i as f64));
    }
    assert_same(&decode(&encode(&samples)), &samples);
}

#[test]
fn special_values_survive() {
    let samples = [
        (-5_000, f64::NAN),
        (-4_000, stale_nan()),
        (-3_000, f64::INFINITY),
        (-2_000, f64::NEG_INFINITY),
        (0, -0.0),
        (1, 0.0),
        (i64::MAX / 2, f64::MIN_POSITIVE),
        (i64::MAX, f64::MAX),
    ];
    let got = decode(&encode(&samples));
    assert_same(&got, &samples);
    assert!(pm_common::model::is_stale_nan(got[1].1));
}

#[test]
fn extreme_timestamps_wrap_consistently() {
    let samples = [(i64::MIN, 1.0), (0, 2.0), (i64::MAX, 3.0)];
    assert_same(&decode(&encode(&samples)), &samples);
}

#[test]
fn rejects_non_increasing_timestamps() {
    let mut chunk = XorChunk::new();
    let mut app = chunk.appender().unwrap();
    app.append(10, 1.0).unwrap();
    assert_eq!(
        app.append(10, 2.0),
        Err(ChunkError::OutOfOrder { t: 10, last: 10 })
    );
    assert_eq!(
        app.append(9, 2.0),
        Err(ChunkError::OutOfOrder { t: 9, last: 10 })
    );
    assert_eq!(chunk.num_samples(), 1);
}

#[test]
fn seek_moves_forward_only() {
    let samples: Vec<_> = (0..10).map(|i| (i * 10, i as f64)).collect();
    let chunk = encode(&samples);
    let mut it = chunk.iter();
    assert_eq!(it.seek(-100), ValueType::Float);
    assert_eq!(it.at(), (0, 0.0));
    assert_eq!(it.seek(35), ValueType::Float);
    assert_eq!(it.at(), (40, 4.0));
    assert_eq!(it.seek(40), ValueType::Float);
    assert_eq!(it.at_t(), 40);
    assert_eq!(it.seek(10), ValueType::Float, "seeking backwards stays put");
    assert_eq!(it.at_t(), 40);
    assert_eq!(it.next_value(), ValueType::Float);
    assert_eq!(it.at_t(), 50);
    assert_eq!(it.seek(91), ValueType::None);
    assert_eq!(it.next_value(), ValueType::None);
    assert_eq!(it.err(), None);
}

#[test]
fn empty_and_corrupt_chunks() {
    assert_eq!(XorChunk::new().iter().next_value(), ValueType::None);
    assert_eq!(
        XorChunk::from_bytes(vec![0]),
        Err(ChunkError::MissingHeader)
    );
    let mut bytes = encode(&[(1, 1.0), (2, 2.0), (3, 4.0)]).into_bytes();
    bytes.truncate(bytes.len() - 2);
    let chunk = XorChunk::from_bytes(bytes).unwrap();
    let mut it = chunk.iter();
    while it.next_value() == ValueType::Float {}
    assert_eq!(it.err(), Some(&ChunkError::Truncated));
    let mut chunk = chunk;
    assert_eq!(chunk.appender().unwrap_err(), ChunkError::Truncated);
}

#[test]
fn full_chunk_refuses_more() {
    let mut chunk = XorChunk::new();
    let mut app = chunk.appender().unwrap();
    for t in 0..i64::from(u16::MAX) {
        app.append(t, 1.0).unwrap();
    }
    assert_eq!(app.append(1 << 20, 1.0), Err(ChunkError::Full(u16::MAX)));
    assert_eq!(chunk.num_samples(), u16::MAX);
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => -1e6f64..1e6,
        2 => (0u32..1000).prop_map(f64::from),
        1 => Just(f64::NAN),
        1 => Just(stale_nan()),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => any::<u64>().prop_map(f64::from_bits),
    ]
}

fn series() -> impl Strategy<Value = Vec<(i64, f64)>> {
    let gap = prop_oneof![
        6 => 14_000i64..16_000,
        2 => 1i64..100,
        1 => 1i64..(1 << 40),
    ];
    (
        -(1i64 << 45)..(1i64 << 45),
        prop::collection::vec((gap, value()), 0..300),
    )
        .prop_map(|(start, steps)| {
            let mut t = start;
            steps
                .into_iter()
                .map(|(gap, v)| {
                    t += gap;
                    (t, v)
                })
                .collect()
        })
}

proptest! {
    #[test]
    fn round_trips(samples in series()) {
        let chunk = encode(&samples);
        prop_assert_eq!(usize::from(chunk.num_samples()), samples.len());
        assert_same(&decode(&chunk), &samples);
    }

    /// Closing a chunk after any prefix and appending the rest later, from the bytes alone,
    /// yields the same bytes as appending everything in one go.
    #[test]
    fn continuation_matches_one_shot(samples in series(), split in 0usize..300) {
        let split = split.min(samples.len());
        let whole = encode(&samples);
        let mut chunk = XorChunk::from_bytes(encode(&samples[..split]).into_bytes()).unwrap();
        let mut app = chunk.appender().unwrap();
        for &(t, v) in &samples[split..] {
            app.append(t, v).unwrap();
        }
        prop_assert_eq!(chunk.bytes(), whole.bytes());
    }

    /// A fresh appender per sample (the head's pattern) continues from the cached state and
    /// produces the same bytes as one appender for the whole run.
    #[test]
    fn appender_per_sample_matches_one_shot(samples in series()) {
        let whole = encode(&samples);
        let mut chunk = XorChunk::new();
        for &(t, v) in &samples {
            chunk.appender().unwrap().append(t, v).unwrap();
        }
        prop_assert_eq!(chunk.bytes(), whole.bytes());
        prop_assert_eq!(chunk.num_samples() as usize, samples.len());
    }

    #[test]
    fn seek_finds_first_sample_at_or_after(samples in series(), probe in any::<i64>()) {
        let chunk = encode(&samples);
        let mut it = chunk.iter();
        let want = samples.iter().find(|s| s.0 >= probe);
        match it.seek(probe) {
            ValueType::Float => prop_assert_eq!(Some(it.at_t()), want.map(|s| s.0)),
            other => {
                prop_assert_eq!(other, ValueType::None);
                prop_assert!(want.is_none());
            }
        }
    }
}

/// Everything an iterator tells about `bytes` when read sample by sample up to `maxt` and
/// then, from where that stopped, to the end: the samples up to `maxt`, the error then, the
/// sample it stands on, and the rest with the final error. `fast` reads the first part with
/// `decode_until` instead. (After an error the current sample is undefined, so not compared.)
type Reading = (
    Vec<(i64, u64)>,
    Option<ChunkError>,
    Option<(i64, u64)>,
    Vec<(i64, u64)>,
    Option<ChunkError>,
);

fn read_in_two_parts(bytes: &[u8], maxt: i64, fast: bool) -> Reading {
    let mut it = XorIterator::new(bytes);
    let mut head = Vec::new();
    if fast {
        it.decode_until(maxt, |t, v| head.push((t, v.to_bits())));
    } else {
        while it.next_value() == ValueType::Float && it.at_t() <= maxt {
            head.push((it.at_t(), it.at().1.to_bits()));
        }
    }
    let first_err = it.err().cloned();
    let at = first_err
        .is_none()
        .then(|| (it.at().0, it.at().1.to_bits()));
    let mut tail = Vec::new();
    while it.next_value() == ValueType::Float {
        tail.push((it.at_t(), it.at().1.to_bits()));
    }
    (head, first_err, at, tail, it.err().cloned())
}

proptest! {
    /// The batch decoder reads exactly what the sample-by-sample iterator reads, stops at
    /// the same sample, reports the same errors on cut or damaged bytes, and leaves the
    /// iterator where the single steps would have.
    #[test]
    fn decode_until_matches_next_value(
        samples in series(),
        maxt_pick in 0usize..320,
        cut in any::<prop::sample::Index>(),
        do_cut in any::<bool>(),
        damage in prop::option::of((any::<prop::sample::Index>(), 1u8..=255)),
    ) {
        let mut bytes = encode(&samples).into_bytes();
        if do_cut {
            let keep = 2 + cut.index(bytes.len() - 1);
            bytes.truncate(keep);
        }
        if let Some((at, mask)) = damage && bytes.len() > 2 {
            let i = 2 + at.index(bytes.len() - 2);
            bytes[i] ^= mask;
        }
        let maxt = samples.get(maxt_pick).map_or(i64::MAX, |s| s.0);
        prop_assert_eq!(
            read_in_two_parts(&bytes, maxt, true),
            read_in_two_parts(&bytes, maxt, false)
        );
    }
}

#[test]
fn decode_until_reads_every_field_width() {
    // Every delta-of-delta width (including the 64-bit escape), unchanged values, values in
    // the previous window, new windows and all 64 meaningful bits, at every bit alignment
    // the mix produces.
    let mut samples = Vec::new();
    let mut t = 0i64;
    let mut delta = 15_000i64;
    for (i, dod) in [
        0i64,
        1,
        -8191,
        8193,
        -65535,
        65537,
        -524287,
        524289,
        1 << 40,
        0,
    ]
    .into_iter()
    .cycle()
    .take(200)
    .enumerate()
    {
        delta += dod;
        t += delta.max(1);
        let v = match i % 5 {
            0 => 1.0,
            1 => 1.0,
            2 => 1.5,
            3 => f64::from_bits(u64::MAX >> 1),
            _ => -(i as f64) * 1e-3,
        };
        samples.push((t, v));
    }
    let chunk = encode(&samples);
    let mut got = Vec::new();
    let mut it = chunk.iter();
    it.decode_until(i64::MAX, |t, v| got.push((t, v)));
    assert_eq!(it.err(), None);
    assert_same(&got, &samples);
}
