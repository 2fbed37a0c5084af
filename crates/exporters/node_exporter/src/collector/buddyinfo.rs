//! `buddyinfo`: free memory blocks per NUMA node, zone and order from /proc/buddyinfo.

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, gauge_family, parse_f64};
use crate::paths::{Paths, read};

struct Buddyinfo(Paths);

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Buddyinfo(s.paths.clone())))
}

/// One `Node N, zone Z c0 c1 …` row.
#[derive(Debug, PartialEq)]
struct Row<'a> {
    node: &'a str,
    zone: &'a str,
    sizes: Vec<f64>,
}

/// Parses every row; all rows must have the same number of orders.
fn parse(text: &str) -> Result<Vec<Row<'_>>, String> {
    let mut rows: Vec<Row<'_>> = Vec::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if parts.len() < 4 {
            return Err(format!("invalid number of fields, found: {parts:?}"));
        }
        let sizes = parts[4..]
            .iter()
            .map(|v| parse_f64(v).ok_or_else(|| format!("invalid value in buddyinfo: {v:?}")))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(first) = rows.first()
            && first.sizes.len() != sizes.len()
        {
            return Err(format!(
                "mismatch in number of buddyinfo buckets, previous count {}, new count {}",
                first.sizes.len(),
                sizes.len()
            ));
        }
        rows.push(Row {
            node: parts[1].trim_end_matches(','),
            zone: parts[3].trim_end_matches(','),
            sizes,
        });
    }
    Ok(rows)
}

impl Collector for Buddyinfo {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let path = self.0.proc("buddyinfo");
        let text = read(&path)?;
        let rows = parse(&text)
            .map_err(|e| CollectorError::parse(&path, format!("couldn't get buddyinfo: {e}")))?;
        let mut family = gauge_family(
            "node_buddyinfo_blocks",
            "Count of free blocks according to size.",
        );
        for row in &rows {
            for (size, v) in row.sizes.iter().enumerate() {
                family.push(
                    &[
                        ("node", row.node),
                        ("zone", row.zone),
                        ("size", &size.to_string()),
                    ],
                    *v,
                );
            }
        }
        out.push(family.into_family());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_with_equal_bucket_counts() {
        let rows = parse("Node 0, zone      DMA      1      0\nNode 1, zone Normal 4 5\n").unwrap();
        assert_eq!(
            rows[0],
            Row {
                node: "0",
                zone: "DMA",
                sizes: vec![1.0, 0.0]
            }
        );
        assert_eq!(rows[1].node, "1");
        assert!(parse("Node 0, zone DMA 1 0\nNode 0, zone DMA32 1\n").is_err());
        assert!(parse("Node 0,\n").is_err());
    }
}
