//! `zfs`: ZFS kstats from `/proc/spl/kstat/zfs`: the module-wide statistics files, and per
//! pool the I/O counters, the datasets' object-set counters and the pool state.

use std::path::Path;

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, gauge_family, untyped_family};
use crate::paths::{Paths, read, sorted_entries};

/// Module-wide kstat files and the subsystem their metrics are named under.
const FILES: &[(&str, &str)] = &[
    ("abdstats", "abd"),
    ("arcstats", "arc"),
    ("dbufstats", "dbuf"),
    ("dmu_tx", "dmu_tx"),
    ("dnodestats", "dnode"),
    ("fm", "fm"),
    ("vdev_cache_stats", "vdev_cache"),
    ("vdev_mirror_stats", "vdev_mirror"),
    ("xuio_stats", "xuio"),
    ("zfetchstats", "zfetch"),
    ("zil", "zil"),
];

const POOL_STATES: &[&str] = &[
    "online",
    "degraded",
    "faulted",
    "offline",
    "removed",
    "unavail",
    "suspended",
];

/// kstat data types: 3 is a signed and 4 an unsigned 64-bit integer; others are skipped.
const KSTAT_INT64: &str = "3";
const KSTAT_UINT64: &str = "4";

/// The metric name part of a kstat name: dashes become underscores.
fn metric_name(kstat: &str) -> String {
    kstat.replace('-', "_")
}

/// A `name type data` kstat table: the numeric rows, in file order.
fn parse_named(text: &str, file: &str) -> Result<Vec<(String, f64)>, String> {
    let mut rows = Vec::new();
    let mut in_table = false;
    for line in text.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if !in_table {
            in_table = parts == ["name", "type", "data"];
            continue;
        }
        if parts.len() < 3 {
            continue;
        }
        let key = || format!("kstat.zfs.misc.{file}.{}", parts[0]);
        let value = match parts[1] {
            KSTAT_UINT64 => parts[2].parse::<u64>().map(|v| v as f64).map_err(|e| {
                format!(
                    "could not parse expected unsigned integer value for {:?}: {e}",
                    key()
                )
            })?,
            KSTAT_INT64 => parts[2].parse::<i64>().map(|v| v as f64).map_err(|e| {
                format!(
                    "could not parse expected signed integer value for {:?}: {e}",
                    key()
                )
            })?,
            _ => continue,
        };
        rows.push((parts[0].to_owned(), value));
    }
    if !in_table {
        return Err(format!("did not parse a single {file:?} metric"));
    }
    Ok(rows)
}

/// A pool's `io` kstat: a header row of names starting with `nread`, then value rows.
fn parse_pool_io(text: &str) -> Result<Vec<(String, f64)>, String> {
    let mut header: Option<Vec<&str>> = None;
    let mut rows = Vec::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let Some(names) = &header else {
            if parts.len() >= 12 && parts[0] == "nread" {
                header = Some(parts);
            }
            continue;
        };
        for (i, name) in names.iter().enumerate() {
            let raw = parts.get(i).copied().unwrap_or_default();
            let v: u64 = raw.parse().map_err(|e| {
                format!(
                    "could not parse expected integer value for \"kstat.zfs.misc.io.{name}\": {e}"
                )
            })?;
            rows.push(((*name).to_owned(), v as f64));
        }
    }
    Ok(rows)
}

/// A dataset's `objset-*` kstat: its name (spaces kept) and its unsigned counters.
fn parse_objset(text: &str) -> Result<(String, Vec<(String, f64)>), String> {
    let mut in_table = false;
    let mut dataset = String::new();
    let mut rows = Vec::new();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        if !in_table {
            in_table = parts == ["name", "type", "data"];
            continue;
        }
        if parts.len() < 3 {
            continue;
        }
        if parts[0] == "dataset_name" {
            // The name runs from its first word to the end of the line.
            dataset = line[line.find(parts[2]).unwrap_or(0)..].to_owned();
            continue;
        }
        if parts[1] == KSTAT_UINT64 {
            let v: u64 = parts[2].parse().map_err(|_| {
                format!(
                    "could not parse expected integer value for \"kstat.zfs.misc.objset.{}\"",
                    parts[0]
                )
            })?;
            rows.push((parts[0].to_owned(), v as f64));
        }
    }
    if !in_table {
        return Err(format!("did not parse a single {dataset} metric"));
    }
    Ok((dataset, rows))
}

struct Zfs(Paths);

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Zfs(s.paths.clone())))
}

fn parsed<T>(
    path: &Path,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Result<T, CollectorError> {
    parse(&read(path)?).map_err(|r| CollectorError::parse(path, r))
}

impl Collector for Zfs {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let base = self.0.proc("spl/kstat/zfs");
        if !base.exists() {
            return Err(CollectorError::NoData(
                "ZFS / ZFS statistics are not available".into(),
            ));
        }
        for (file, subsystem) in FILES {
            let path = base.join(file);
            if !path.is_file() {
                continue;
            }
            for (name, v) in parsed(&path, |t| parse_named(t, file))? {
                let help = format!("kstat.zfs.misc.{file}.{name}");
                let metric = format!("node_zfs_{subsystem}_{}", metric_name(&name));
                out.push(untyped_family(metric, help).with(&[], v).into_family());
            }
        }
        let pools: Vec<_> = sorted_entries(&base)?
            .into_iter()
            .filter(|(_, p)| p.is_dir())
            .collect();
        for (pool, dir) in &pools {
            let io = dir.join("io");
            if io.is_file() {
                for (name, v) in parsed(&io, parse_pool_io)? {
                    let help = format!("kstat.zfs.misc.io.{name}");
                    let metric = format!("node_zfs_zpool_{}", metric_name(&name));
                    out.push(
                        untyped_family(metric, help)
                            .with(&[("zpool", pool)], v)
                            .into_family(),
                    );
                }
            }
        }
        for (pool, dir) in &pools {
            let objsets = sorted_entries(dir)?
                .into_iter()
                .filter(|(n, _)| n.starts_with("objset-"));
            for (_, path) in objsets {
                let (dataset, rows) = parsed(&path, parse_objset)?;
                let labels = [("zpool", pool.as_str()), ("dataset", dataset.as_str())];
                for (name, v) in rows {
                    let help = format!("kstat.zfs.misc.objset.{name}");
                    let metric = format!("node_zfs_zpool_dataset_{}", metric_name(&name));
                    out.push(untyped_family(metric, help).with(&labels, v).into_family());
                }
            }
        }
        for (pool, dir) in &pools {
            let path = dir.join("state");
            if !path.is_file() {
                continue;
            }
            let text = read(&path)?;
            let state = text.lines().next().unwrap_or_default().to_lowercase();
            let mut family = gauge_family("node_zfs_zpool_state", "kstat.zfs.misc.state");
            for name in POOL_STATES {
                let active = if state == *name { 1.0 } else { 0.0 };
                family.push(&[("zpool", pool), ("state", name)], active);
            }
            out.push(family.into_family());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kstat_tables_parse_as_upstream() {
        let rows = parse_named(
            "6 1 0x01\nname type data\nhits 4 7\nneg 3 -2\ntext 7 x\n",
            "arcstats",
        )
        .unwrap();
        assert_eq!(rows, [("hits".to_owned(), 7.0), ("neg".to_owned(), -2.0)]);
        assert!(parse_named("hits 4 7\n", "arcstats").is_err());
        assert!(parse_named("name type data\nhits 4 x\n", "arcstats").is_err());
        let (name, rows) =
            parse_objset("1 1\nname type data\ndataset_name 7    a/b  c\nreads 4 2\n").unwrap();
        assert_eq!((name.as_str(), rows.len()), ("a/b  c", 1));
        let io = "12 3\nnread nwritten reads writes wtime wlentime wupdate rtime rlentime rupdate wcnt rcnt\n1 2 3 4 5 6 7 8 9 10 11 12\n";
        assert_eq!(parse_pool_io(io).unwrap()[11], ("rcnt".to_owned(), 12.0));
        assert_eq!(metric_name("l2-hits"), "l2_hits");
    }
}
