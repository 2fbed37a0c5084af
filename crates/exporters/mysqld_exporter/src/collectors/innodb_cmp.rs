//! `information_schema.innodb_cmp` and `innodb_cmpmem`: compression and buddy-allocator
//! counters per page size (and buffer pool instance).

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};
use pm_common::metrics::ConstKind;

use super::{Sink, cell, numbers};
use crate::error::ScrapeError;

const CMP_QUERY: &str = "SELECT page_size, compress_ops, compress_ops_ok, compress_time, \
     uncompress_ops, uncompress_time FROM information_schema.innodb_cmp";

const CMPMEM_QUERY: &str = "SELECT page_size, buffer_pool_instance, pages_used, pages_free, \
     relocation_ops, relocation_time FROM information_schema.innodb_cmpmem";

/// Column → family and help, for columns 1.. of the cmp query.
const CMP: [(&str, &str); 5] = [
    (
        "mysql_info_schema_innodb_cmp_compress_ops_total",
        "Number of times a B-tree page of the size PAGE_SIZE has been compressed.",
    ),
    (
        "mysql_info_schema_innodb_cmp_compress_ops_ok_total",
        "Number of times a B-tree page of the size PAGE_SIZE has been successfully compressed.",
    ),
    (
        "mysql_info_schema_innodb_cmp_compress_time_seconds_total",
        "Total time in seconds spent in attempts to compress B-tree pages.",
    ),
    (
        "mysql_info_schema_innodb_cmp_uncompress_ops_total",
        "Number of times a B-tree page of the size PAGE_SIZE has been uncompressed.",
    ),
    (
        "mysql_info_schema_innodb_cmp_uncompress_time_seconds_total",
        "Total time in seconds spent in uncompressing B-tree pages.",
    ),
];

/// Column → family and help, for columns 2.. of the cmpmem query.
const CMPMEM: [(&str, &str); 4] = [
    (
        "mysql_info_schema_innodb_cmpmem_pages_used_total",
        "Number of blocks of the size PAGE_SIZE that are currently in use.",
    ),
    (
        "mysql_info_schema_innodb_cmpmem_pages_free_total",
        "Number of blocks of the size PAGE_SIZE that are currently available for allocation.",
    ),
    (
        "mysql_info_schema_innodb_cmpmem_relocation_ops_total",
        "Number of times a block of the size PAGE_SIZE has been relocated.",
    ),
    (
        "mysql_info_schema_innodb_cmpmem_relocation_time_seconds_total",
        "Total time in seconds spent in relocating blocks.",
    ),
];

pub async fn scrape_cmp(conn: &mut Conn, sink: &mut Sink) -> Result<(), ScrapeError> {
    let rows: Vec<Row> = conn.query(CMP_QUERY).await?;
    for row in &rows {
        let page_size = String::from_utf8_lossy(cell(row, 0));
        let values = numbers::<5>(row, 1)?;
        for ((name, help), value) in CMP.iter().zip(values) {
            sink.push(
                name,
                help,
                ConstKind::Counter,
                &[("page_size", &page_size)],
                value,
            );
        }
    }
    Ok(())
}

pub async fn scrape_cmpmem(conn: &mut Conn, sink: &mut Sink) -> Result<(), ScrapeError> {
    let rows: Vec<Row> = conn.query(CMPMEM_QUERY).await?;
    for row in &rows {
        let page_size = String::from_utf8_lossy(cell(row, 0));
        let buffer_pool = String::from_utf8_lossy(cell(row, 1));
        let mut values = numbers::<4>(row, 2)?;
        // relocation_time is in microseconds; upstream divides by 1000 (so the "seconds"
        // family holds milliseconds), and so do we, for dashboards' sake.
        values[3] /= 1000.0;
        for ((name, help), value) in CMPMEM.iter().zip(values) {
            sink.push(
                name,
                help,
                ConstKind::Counter,
                &[("page_size", &page_size), ("buffer_pool", &buffer_pool)],
                value,
            );
        }
    }
    Ok(())
}
