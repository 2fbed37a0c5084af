use super::*;
use crate::chunkenc::{Encoding, XorChunk};

fn xor_chunk(n: i64) -> Vec<u8> {
    let mut chunk = XorChunk::new();
    let mut app = chunk.appender().unwrap();
    for t in 0..n {
        app.append(t * 15_000, (t * t) as f64).unwrap();
    }
    chunk.into_bytes()
}

#[test]
fn ref_packs_segment_and_offset() {
    let r = ChunkRef::new(3, 0x1234);
    assert_eq!(r.0, 0x0000_0003_0000_1234);
    assert_eq!((r.segment(), r.offset()), (3, 0x1234));
}

#[test]
fn writes_the_upstream_layout() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = ChunkWriter::new(dir.path()).unwrap();
    let r = w.write_chunk(Encoding::Xor, &[0xaa, 0xbb]).unwrap();
    w.close().unwrap();
    assert_eq!(r, ChunkRef::new(0, 8));
    let bytes = std::fs::read(dir.path().join("000001")).unwrap();
    let crc = crc32c::crc32c(&[1, 0xaa, 0xbb]).to_be_bytes();
    let mut want = vec![0x85, 0xbd, 0x40, 0xdd, 1, 0, 0, 0, 2, 1, 0xaa, 0xbb];
    want.extend_from_slice(&crc);
    assert_eq!(bytes, want);
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["000001"], "no temporary file is left behind");
}

#[test]
fn round_trip_across_cut_segments() {
    let dir = tempfile::tempdir().unwrap();
    let chunks: Vec<Vec<u8>> = (1..40).map(xor_chunk).collect();
    let mut w = ChunkWriter::with_segment_size(dir.path(), 300).unwrap();
    let refs: Vec<_> = chunks
        .iter()
        .map(|c| w.write_chunk(Encoding::Xor, c).unwrap())
        .collect();
    w.close().unwrap();

    let r = ChunkReader::open(dir.path()).unwrap();
    let segments = refs.last().unwrap().segment() + 1;
    assert!(
        segments > 3,
        "small segment size forces cuts, got {segments}"
    );
    for (chunk_ref, want) in refs.iter().zip(&chunks) {
        let got = r.chunk(*chunk_ref).unwrap();
        assert_eq!(got.encoding, Encoding::Xor);
        assert_eq!(got.data, &want[..]);
    }
    let walked: Vec<_> = r.iter().map(|c| c.unwrap().0).collect();
    assert_eq!(walked, refs);
    for seq in 1..=segments {
        let len = std::fs::metadata(dir.path().join(format!("{seq:06}")))
            .unwrap()
            .len();
        // Only a segment holding a single oversized chunk may exceed the limit.
        let single = refs.iter().filter(|r| r.segment() == seq - 1).count() == 1;
        assert!(len <= 300 || single, "segment {seq} is {len} bytes");
    }
}

#[test]
fn a_second_writer_continues_numbering() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = ChunkWriter::new(dir.path()).unwrap();
    w.write_chunk(Encoding::Xor, &xor_chunk(3)).unwrap();
    w.close().unwrap();
    let mut w = ChunkWriter::new(dir.path()).unwrap();
    let r = w.write_chunk(Encoding::Xor, &xor_chunk(5)).unwrap();
    w.close().unwrap();
    assert_eq!(r, ChunkRef::new(1, 8));
    assert!(dir.path().join("000002").exists());
    let reader = ChunkReader::open(dir.path()).unwrap();
    assert_eq!(reader.chunk(r).unwrap().data, &xor_chunk(5)[..]);
}

#[test]
fn detects_corruption_and_bad_refs() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = ChunkWriter::new(dir.path()).unwrap();
    let r = w.write_chunk(Encoding::Xor, &xor_chunk(10)).unwrap();
    w.close().unwrap();
    let path = dir.path().join("000001");
    let mut bytes = std::fs::read(&path).unwrap();

    let reader = ChunkReader::open(dir.path()).unwrap();
    assert!(matches!(
        reader.chunk(ChunkRef::new(1, 8)),
        Err(SegmentError::NoSegment(_))
    ));
    assert!(matches!(
        reader.chunk(ChunkRef::new(0, 4)),
        Err(SegmentError::OutOfBounds(_))
    ));
    assert!(matches!(
        reader.chunk(ChunkRef::new(0, 1 << 20)),
        Err(SegmentError::OutOfBounds(_))
    ));

    bytes[12] ^= 0x40;
    std::fs::write(&path, &bytes).unwrap();
    let reader = ChunkReader::open(dir.path()).unwrap();
    assert!(matches!(
        reader.chunk(r),
        Err(SegmentError::Checksum { .. })
    ));
    assert!(reader.iter().next().unwrap().is_err());

    bytes[0] = 0;
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(
        ChunkReader::open(dir.path()),
        Err(SegmentError::BadMagic { .. })
    ));
    bytes[0] = 0x85;
    bytes[4] = 2;
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(
        ChunkReader::open(dir.path()),
        Err(SegmentError::BadVersion { version: 2, .. })
    ));
}
