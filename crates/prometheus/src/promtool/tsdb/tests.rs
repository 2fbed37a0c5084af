use pm_common::model::FloatHistogram;

use super::list::{base2_bytes, write_table};

#[test]
fn sizes_print_as_base2_parts() {
    assert_eq!(base2_bytes(0), "0B");
    assert_eq!(base2_bytes(512), "512B");
    assert_eq!(base2_bytes(2048), "2KiB");
    assert_eq!(base2_bytes(1536), "1KiB512B");
    assert_eq!(base2_bytes(3 * 1024 * 1024 + 5), "3MiB5B");
}

#[test]
fn table_columns_are_padded_to_the_widest_cell_plus_two() {
    let rows = vec![
        vec!["A".to_owned(), "LONG HEADER".to_owned(), "X".to_owned()],
        vec![
            "0123456789abcdef".to_owned(),
            "1".to_owned(),
            "2".to_owned(),
        ],
    ];
    let mut out = Vec::new();
    write_table(&mut out, &rows).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "A                 LONG HEADER  X\n0123456789abcdef  1            2\n"
    );
}

#[test]
fn histograms_print_as_go_does() {
    let h = FloatHistogram {
        count: 5.0,
        sum: 12.5,
        zero_threshold: 0.001,
        zero_count: 1.0,
        schema: 0,
        positive_spans: vec![pm_common::model::Span {
            offset: 0,
            length: 2,
        }],
        positive_buckets: vec![2.0, 2.0],
        ..FloatHistogram::default()
    };
    assert_eq!(
        h.to_string(),
        "{count:5, sum:12.5, [-0.001,0.001]:1, (0.5,1]:2, (1,2]:2}"
    );
}

#[test]
fn block_duration_follows_upstream_ranges() {
    use super::create::block_duration;
    const H: i64 = 3600 * 1000;
    assert_eq!(block_duration(0), 2 * H);
    assert_eq!(block_duration(H), 2 * H);
    assert_eq!(block_duration(5 * H), 2 * H);
    assert_eq!(block_duration(6 * H), 6 * H);
    assert_eq!(block_duration(24 * H), 18 * H);
}

#[test]
fn chunk_histograms_print_as_upstream_3x() {
    use super::analyze::write_histogram;
    let mut out = Vec::new();
    write_histogram(
        &mut out,
        "samples per float chunk",
        vec![120, 5, 40, 120],
        4,
    )
    .unwrap();
    write_histogram(&mut out, "bytes per histogram chunk", Vec::new(), 4).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        format!(
            "samples per float chunk (min/avg/max): 5/71/120\n[  1, 100]: 2 {bar}\n[101, 200]: 2 {bar}\n[201, 300]: 0 \n\nbytes per histogram chunk: N/A\n\n",
            bar = "#".repeat(50)
        )
    );
}
