use std::collections::BTreeSet;

use pm_common::model::Labels;

use super::*;

fn write_sample_index(path: &std::path::Path) -> Vec<(Labels, Vec<ChunkIndexMeta>)> {
    let series: Vec<(Labels, Vec<ChunkIndexMeta>)> = (0..50)
        .map(|i| {
            let labels = Labels::from_pairs([
                ("__name__", format!("metric_{}", i % 5)),
                ("instance", format!("host-{i:02}")),
                ("job", if i % 2 == 0 { "a" } else { "b" }.to_owned()),
            ]);
            let chunks = (0..i % 4)
                .map(|c| ChunkIndexMeta {
                    min_time: -1000 + c * 1000,
                    max_time: -1000 + c * 1000 + 999,
                    chunk_ref: ((c as u64) << 32) | (8 + i as u64 * 100),
                })
                .collect();
            (labels, chunks)
        })
        .collect();
    let mut sorted = series;
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let symbols: BTreeSet<String> = sorted
        .iter()
        .flat_map(|(l, _)| {
            l.iter()
                .flat_map(|l| [l.name.to_owned(), l.value.to_owned()])
                .collect::<Vec<_>>()
        })
        .collect();
    let mut w = IndexWriter::create(path, symbols.iter().map(String::as_str)).unwrap();
    for (i, (l, c)) in sorted.iter().enumerate() {
        let r = w.add_series(l, c).unwrap();
        assert!(i == 0 || r > 0);
    }
    w.finish().unwrap();
    sorted
}

#[test]
fn round_trips_series_postings_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    let series = write_sample_index(&path);
    let r = IndexReader::open(&path).unwrap();

    let all = r.all_postings().unwrap();
    assert_eq!(all.len(), series.len());
    assert!(all.windows(2).all(|w| w[0] < w[1]));
    let mut chunks = Vec::new();
    for (id, (labels, want_chunks)) in all.iter().zip(&series) {
        assert_eq!(&r.series(*id, &mut chunks).unwrap(), labels);
        assert_eq!(&chunks, want_chunks);
    }

    assert_eq!(
        r.label_names().collect::<Vec<_>>(),
        ["__name__", "instance", "job"]
    );
    let jobs: Vec<&str> = r.values("job").iter().map(|(v, _)| &**v).collect();
    assert_eq!(jobs, ["a", "b"]);
    let a = r.postings("job", "a").unwrap();
    assert_eq!(a.len(), 25);
    for id in &a {
        let l = r.series(*id, &mut chunks).unwrap();
        assert_eq!(l.get("job"), Some("a"));
    }
    assert!(r.postings("job", "c").unwrap().is_empty());
    assert!(r.postings("nope", "a").unwrap().is_empty());
    assert!(r.symbols().any(|s| s == "host-07"));
}

#[test]
fn series_are_16_byte_aligned_and_sections_checksummed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("index");
    write_sample_index(&path);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..5], &[0xBA, 0xAA, 0xD7, 0x00, 2]);
    let r = IndexReader::from_bytes(bytes.clone()).unwrap();
    let first = r.all_postings().unwrap()[0];
    // The first series starts at the first 16-byte boundary after the symbol table.
    let toc = &bytes[bytes.len() - TOC_LEN..];
    let series_start = u64::from_be_bytes(toc[8..16].try_into().unwrap());
    assert_eq!(first, series_start.div_ceil(16));

    // Corrupting a series byte is caught by its checksum.
    let mut corrupt = bytes.clone();
    corrupt[(first * 16 + 2) as usize] ^= 0xff;
    let r = IndexReader::from_bytes(corrupt).unwrap();
    assert!(matches!(
        r.series(first, &mut Vec::new()),
        Err(IndexError::Decode {
            section: "series",
            ..
        })
    ));
    // So is a corrupt TOC.
    let mut corrupt = bytes;
    let n = corrupt.len();
    corrupt[n - 10] ^= 1;
    assert!(IndexReader::from_bytes(corrupt).is_err());
}

#[test]
fn writer_rejects_unsorted_input() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        IndexWriter::create(dir.path().join("i1"), ["b", "a"]),
        Err(IndexError::SymbolOrder(_))
    ));
    let mut w = IndexWriter::create(dir.path().join("i2"), ["a", "b", "x"]).unwrap();
    let b = Labels::from_pairs([("x", "b")]);
    w.add_series(&b, &[]).unwrap();
    assert!(matches!(
        w.add_series(&Labels::from_pairs([("x", "a")]), &[]),
        Err(IndexError::SeriesOrder(_))
    ));
    assert!(matches!(
        w.add_series(&Labels::from_pairs([("x", "c")]), &[]),
        Err(IndexError::MissingSymbol(_))
    ));
}
