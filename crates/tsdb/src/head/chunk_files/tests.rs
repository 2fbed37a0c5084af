use std::path::Path;

use super::*;
use crate::chunkenc::XorChunk;

fn chunk(n: i64) -> Vec<u8> {
    let mut c = XorChunk::new();
    {
        let mut a = c.appender().unwrap();
        for t in 0..n {
            a.append(t * 1000, t as f64).unwrap();
        }
    }
    c.into_bytes()
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn chunks_are_written_in_upstreams_layout_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let (files, loaded) = ChunkFiles::open(dir.path()).unwrap();
    assert!(loaded.series.is_empty() && loaded.repaired.is_none());
    let data = chunk(120);
    let a = files
        .write(7, 0, 119_000, ChunkEncoding::Xor, &data)
        .unwrap();
    let b = files
        .write(8, 5, 10, ChunkEncoding::Xor, &chunk(3))
        .unwrap();
    assert_eq!(a.r, 1 << 32 | HEADER_LEN as u64, "file 1, after the header");
    assert_eq!(b.offset(), a.offset() + a.record_len() as u64);
    // Readable from the write buffer and, once flushed, from the file.
    assert_eq!(*files.read(a).unwrap(), data[..]);
    files.sync().unwrap();
    assert_eq!(*files.read(a).unwrap(), data[..]);

    let raw = std::fs::read(dir.path().join("000001")).unwrap();
    assert_eq!(raw[..8], [0x01, 0x30, 0xBC, 0x91, 1, 0, 0, 0]);
    let rec = &raw[8..];
    assert_eq!(rec[..8], 7u64.to_be_bytes());
    assert_eq!(rec[8..16], 0u64.to_be_bytes());
    assert_eq!(rec[16..24], 119_000u64.to_be_bytes());
    assert_eq!(rec[24], 1, "XOR encoding");
    let len_field = uvarint_len(data.len() as u64);
    let data_at = 25 + len_field;
    assert_eq!(rec[data_at..data_at + data.len()], data[..]);
    let crc_at = data_at + data.len();
    assert_eq!(
        rec[crc_at..crc_at + 4],
        crc32c::crc32c(&rec[..crc_at]).to_be_bytes()
    );
}

#[test]
fn reopening_lists_each_series_chunks_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let (files, _) = ChunkFiles::open(dir.path()).unwrap();
    let c1 = files
        .write(3, 0, 9, ChunkEncoding::Xor, &chunk(10))
        .unwrap();
    let c2 = files
        .write(3, 10, 19, ChunkEncoding::Xor, &chunk(10))
        .unwrap();
    files.sync().unwrap();
    drop(files);
    let (files, loaded) = ChunkFiles::open(dir.path()).unwrap();
    let got: Vec<_> = loaded.series[&3]
        .iter()
        .map(|c| (c.chunk, c.min_t, c.max_t))
        .collect();
    assert_eq!(got, [(c1, 0, 9), (c2, 10, 19)]);
    // New chunks go to a new file; the old one stays readable.
    let c3 = files
        .write(3, 20, 29, ChunkEncoding::Xor, &chunk(2))
        .unwrap();
    assert_eq!(c3.file(), 2);
    assert_eq!(*files.read(c1).unwrap(), chunk(10)[..]);
}

#[test]
fn truncation_deletes_files_older_than_the_head() {
    let dir = tempfile::tempdir().unwrap();
    let (files, _) = ChunkFiles::open(dir.path()).unwrap();
    files
        .write(1, 0, 100, ChunkEncoding::Xor, &chunk(5))
        .unwrap();
    files.truncate(50).unwrap();
    assert_eq!(
        files_in(dir.path()),
        ["000001"],
        "holds a chunk ending after 50"
    );
    let late = files
        .write(1, 200, 300, ChunkEncoding::Xor, &chunk(5))
        .unwrap();
    assert_eq!(late.file(), 2, "truncation starts a new file");
    files.truncate(101).unwrap();
    assert_eq!(files_in(dir.path()), ["000002"]);
    assert_eq!(*files.read(late).unwrap(), chunk(5)[..]);
}

/// Writes two files of two chunks each; returns the directory and the second file's path.
fn two_files() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let (files, _) = ChunkFiles::open(dir.path()).unwrap();
    files
        .write(1, 0, 9, ChunkEncoding::Xor, &chunk(10))
        .unwrap();
    files
        .write(2, 0, 9, ChunkEncoding::Xor, &chunk(10))
        .unwrap();
    files.truncate(0).unwrap();
    files
        .write(1, 10, 19, ChunkEncoding::Xor, &chunk(10))
        .unwrap();
    files
        .write(2, 10, 19, ChunkEncoding::Xor, &chunk(10))
        .unwrap();
    files.sync().unwrap();
    let second = dir.path().join("000002");
    (dir, second)
}

#[test]
fn a_torn_last_chunk_deletes_its_file() {
    let (dir, second) = two_files();
    let len = std::fs::metadata(&second).unwrap().len();
    let f = OpenOptions::new().write(true).open(&second).unwrap();
    f.set_len(len - 3).unwrap();
    let (files, loaded) = ChunkFiles::open(dir.path()).unwrap();
    let what = loaded.repaired.expect("a repair");
    assert!(what.contains("head chunk file 000002"), "{what}");
    assert_eq!(files_in(dir.path()), ["000001"]);
    assert_eq!(loaded.series[&1].len(), 1);
    assert_eq!(loaded.series[&2].len(), 1);
    let next = files
        .write(1, 20, 29, ChunkEncoding::Xor, &chunk(1))
        .unwrap();
    assert_eq!(next.file(), 2);
}

#[test]
fn a_flipped_bit_in_an_early_file_deletes_it_and_every_later_one() {
    let (dir, _) = two_files();
    let first = dir.path().join("000001");
    let mut raw = std::fs::read(&first).unwrap();
    raw[HEADER_LEN + META_LEN + 3] ^= 0x10;
    std::fs::write(&first, raw).unwrap();
    let (_, loaded) = ChunkFiles::open(dir.path()).unwrap();
    assert!(loaded.repaired.unwrap().contains("checksum mismatch"));
    assert!(loaded.series.is_empty());
    assert!(files_in(dir.path()).is_empty());
}

#[test]
fn preallocated_zeros_end_a_file_and_an_empty_last_file_is_removed() {
    let (dir, second) = two_files();
    let mut raw = std::fs::read(&second).unwrap();
    raw.resize(raw.len() + 4096, 0);
    std::fs::write(&second, raw).unwrap();
    std::fs::write(dir.path().join("000003"), [0u8; 16]).unwrap();
    let (_, loaded) = ChunkFiles::open(dir.path()).unwrap();
    assert!(loaded.repaired.is_none());
    assert_eq!(loaded.series[&1].len(), 2);
    assert_eq!(files_in(dir.path()), ["000001", "000002"]);
}

#[test]
fn out_of_order_chunks_and_unknown_encodings_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let (files, _) = ChunkFiles::open(dir.path()).unwrap();
    files
        .write(1, 0, 9, ChunkEncoding::Xor, &chunk(10))
        .unwrap();
    files.sync().unwrap();
    drop(files);
    // Rewrite the chunk's encoding byte with upstream's out-of-order bit.
    let path = dir.path().join("000001");
    let mut raw = std::fs::read(&path).unwrap();
    let at = HEADER_LEN + META_LEN - 1;
    raw[at] |= OUT_OF_ORDER_MASK;
    let end = raw.len() - CRC_LEN;
    let crc = crc32c::crc32c(&raw[HEADER_LEN..end]).to_be_bytes();
    raw[end..].copy_from_slice(&crc);
    std::fs::write(&path, raw).unwrap();
    let (_, loaded) = ChunkFiles::open(dir.path()).unwrap();
    assert_eq!(loaded.skipped, 1);
    assert!(loaded.series.is_empty() && loaded.repaired.is_none());
}
