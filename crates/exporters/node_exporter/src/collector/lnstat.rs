//! `lnstat`: per-CPU network cache statistics from the tables in /proc/net/stat.

use std::collections::BTreeMap;

use pm_common::metrics::ConstFamily;

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, counter_family};
use crate::paths::{Paths, read, sorted_entries};

struct Lnstat(Paths);

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Lnstat(s.paths.clone())))
}

/// A table: a header row of column names, then one row of hexadecimal counters per CPU.
/// Returns each column's values in CPU order.
fn parse(text: &str) -> Result<BTreeMap<&str, Vec<u64>>, String> {
    let mut lines = text.lines();
    let headers: Vec<&str> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    let mut columns: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for line in lines {
        for (i, field) in line.split_whitespace().enumerate() {
            let header = headers
                .get(i)
                .ok_or_else(|| format!("more values than columns in {line:?}"))?;
            let v = u64::from_str_radix(field, 16)
                .map_err(|_| format!("invalid hexadecimal counter {field:?}"))?;
            columns.entry(header).or_default().push(v);
        }
    }
    Ok(columns)
}

impl Collector for Lnstat {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let dir = self.0.proc("net/stat");
        // A missing directory is an empty glob upstream.
        let tables = match sorted_entries(&dir) {
            Err(CollectorError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                Vec::new()
            }
            r => r?,
        };
        let mut families: BTreeMap<String, ConstFamily> = BTreeMap::new();
        for (table, path) in tables {
            let text = read(&path)?;
            let columns = parse(&text)
                .map_err(|e| CollectorError::parse(&path, format!("lnstat error: {e}")))?;
            for (header, values) in columns {
                let family = families.entry(header.to_owned()).or_insert_with(|| {
                    counter_family(
                        format!("node_lnstat_{header}_total"),
                        "linux network cache stats",
                    )
                });
                for (cpu, v) in values.iter().enumerate() {
                    family.push(
                        &[("subsystem", table.as_str()), ("cpu", &cpu.to_string())],
                        *v as f64,
                    );
                }
            }
        }
        out.extend(families.into_values().map(ConstFamily::into_family));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hex_columns_per_cpu() {
        let t = parse("entries  allocs\n00000014  0000000d\n00000015 0000000e\n").unwrap();
        assert_eq!(t["entries"], [0x14, 0x15]);
        assert_eq!(t["allocs"], [0xd, 0xe]);
        assert!(parse("entries\n1 2\n").is_err());
        assert!(parse("entries\nxyz\n").is_err());
    }
}
