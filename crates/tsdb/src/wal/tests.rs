use super::checkpoint::{Retain, checkpoint, last_checkpoint};
use super::*;
use crate::record::{self, Record, RefSample, RefSeries};
use pm_common::model::Labels;

fn read_all(dir: &Path) -> Result<Vec<Vec<u8>>, WalError> {
    let mut r = LogReader::open(dir, 0..=u32::MAX)?;
    let mut out = Vec::new();
    while let Some(rec) = r.next_record()? {
        out.push(rec.to_vec());
    }
    Ok(out)
}

/// Records of awkward sizes: empty, tiny, exactly filling a page, spanning several pages.
fn records() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for (i, len) in [
        1usize,
        0,
        10,
        PAGE_SIZE - 7,
        PAGE_SIZE,
        3 * PAGE_SIZE + 5,
        100,
    ]
    .into_iter()
    .enumerate()
    {
        out.push((0..len).map(|j| (i * 31 + j * 7) as u8).collect());
    }
    out
}

#[test]
fn records_read_back_across_pages_and_segments() {
    for compression in [Compression::None, Compression::Snappy] {
        let dir = tempfile::tempdir().unwrap();
        let opts = WalOptions {
            segment_size: 4 * PAGE_SIZE,
            compression,
        };
        let mut w = Wal::open(dir.path(), opts).unwrap();
        let recs = records();
        for r in &recs {
            w.log(&[r]).unwrap();
        }
        w.log(&[&recs[2], &recs[6]]).unwrap();
        drop(w);
        let mut want = recs.clone();
        want.extend([recs[2].clone(), recs[6].clone()]);
        assert_eq!(read_all(dir.path()).unwrap(), want, "{compression:?}");
        if compression == Compression::None {
            assert!(
                list_segments(dir.path()).unwrap().len() > 1,
                "small segments roll over"
            );
        }
    }
}

#[test]
fn reopening_starts_a_new_segment() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = Wal::open(dir.path(), WalOptions::default()).unwrap();
    w.log(&[b"one"]).unwrap();
    drop(w);
    let mut w = Wal::open(dir.path(), WalOptions::default()).unwrap();
    assert_eq!(w.current_segment(), 1);
    w.log(&[b"two"]).unwrap();
    assert_eq!(
        read_all(dir.path()).unwrap(),
        [b"one".to_vec(), b"two".to_vec()]
    );
}

#[test]
fn fragment_layout_matches_the_format_doc() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = Wal::open(dir.path(), WalOptions::default()).unwrap();
    w.log(&[b"abc"]).unwrap();
    let bytes = std::fs::read(segment_name(dir.path(), 0)).unwrap();
    let mut want = vec![FRAG_FULL, 0, 3];
    want.extend_from_slice(&crc32c::crc32c(b"abc").to_be_bytes());
    want.extend_from_slice(b"abc");
    assert_eq!(bytes, want);
}

#[test]
fn torn_tail_is_reported_and_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let big = vec![7u8; PAGE_SIZE * 2];
    w.log(&[b"first".as_slice(), big.as_slice()]).unwrap();
    drop(w);
    let path = segment_name(dir.path(), 0);
    let len = std::fs::metadata(&path).unwrap().len();
    // Cut the last record in the middle of its second fragment.
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(len - 100).unwrap();
    let c = match read_all(dir.path()).unwrap_err() {
        WalError::Corruption(c) => c,
        other => panic!("{other}"),
    };
    assert_eq!((c.segment, c.offset), (0, RECORD_HEADER_SIZE + 5));
    let msg = repair(dir.path(), &c).unwrap();
    assert!(msg.contains("truncated segment 0"), "{msg}");
    assert_eq!(read_all(dir.path()).unwrap(), [b"first".to_vec()]);
}

#[test]
fn flipped_bit_is_a_checksum_error_and_later_segments_go() {
    let dir = tempfile::tempdir().unwrap();
    let opts = WalOptions {
        segment_size: PAGE_SIZE,
        compression: Compression::None,
    };
    let mut w = Wal::open(dir.path(), opts).unwrap();
    for _ in 0..4 {
        w.log(&[&vec![1u8; PAGE_SIZE / 2]]).unwrap();
    }
    drop(w);
    let path = segment_name(dir.path(), 1);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[20] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    let WalError::Corruption(c) = read_all(dir.path()).unwrap_err() else {
        panic!()
    };
    assert_eq!(c.reason, "checksum mismatch");
    repair(dir.path(), &c).unwrap();
    assert_eq!(read_all(dir.path()).unwrap().len(), 1);
    assert_eq!(list_segments(dir.path()).unwrap(), [0, 1]);
}

#[test]
fn checkpoint_keeps_live_series_and_recent_samples() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = Wal::open(dir.path(), WalOptions::default()).unwrap();
    let mut buf = Vec::new();
    let series: Vec<_> = (1..=3)
        .map(|r| RefSeries {
            r,
            labels: Labels::from_pairs([("n", r.to_string())]),
        })
        .collect();
    record::encode_series(&series, &mut buf);
    w.log(&[&buf]).unwrap();
    buf.clear();
    let samples: Vec<_> = (1..=3)
        .flat_map(|r| {
            [
                RefSample { r, t: 10, v: 1.0 },
                RefSample { r, t: 20, v: 2.0 },
            ]
        })
        .collect();
    record::encode_samples(&samples, &mut buf);
    w.log(&[&buf]).unwrap();
    let last = w.current_segment();
    w.next_segment().unwrap();
    let live = |r: u64| r != 2;
    checkpoint(
        dir.path(),
        last,
        &Retain {
            series: &live,
            mint: 15,
        },
    )
    .unwrap();
    w.truncate(last + 1).unwrap();
    let (cp, n) = last_checkpoint(dir.path()).unwrap().unwrap();
    assert_eq!(n, last);
    let recs: Vec<_> = read_all(&cp)
        .unwrap()
        .iter()
        .map(|r| record::decode(r).unwrap())
        .collect();
    assert_eq!(
        recs,
        [
            Record::Series(vec![series[0].clone(), series[2].clone()]),
            Record::Samples(vec![
                RefSample {
                    r: 1,
                    t: 20,
                    v: 2.0
                },
                RefSample {
                    r: 3,
                    t: 20,
                    v: 2.0
                }
            ]),
        ]
    );
    assert_eq!(list_segments(dir.path()).unwrap(), [last + 1]);
}
