//! `bcache`: bcache cache sets from `/sys/fs/bcache/<uuid>` with their backing (`bdevN`) and
//! cache (`cacheN`) devices.

use std::path::Path;

use pm_common::metrics::ConstFamily;

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, counter_family, gauge_family};
use crate::paths::{Paths, sorted_entries};

/// bcache's `bch_hprint` writes `<int>.<tenths-ish><unit>`: the digits after the point count
/// 1/1024ths of the unit divided by 100, so `.1` is 100/1024 and not a tenth.
fn pseudo_float(s: &str) -> Result<f64, String> {
    let bad = || format!("invalid number {s:?}");
    let mut parts = s.split('.');
    let int: f64 = parts.next().unwrap_or("").parse().map_err(|_| bad())?;
    match parts.next() {
        None => Ok(int),
        Some(frac) => Ok(int + frac.parse::<f64>().map_err(|_| bad())? / 10.24),
    }
}

/// A sysfs value, plain or humanized by `bch_hprint` (binary unit suffix).
fn dehumanize(s: &str) -> Result<u64, String> {
    let Some(last) = s.chars().last() else {
        return Err("zero-length reply".into());
    };
    let value = if last.is_ascii_digit() || last == '.' {
        s.parse::<f64>()
            .map_err(|_| format!("invalid number {s:?}"))?
    } else {
        let exp = "kMGTPEZY".find(last).map_or(0.0, |i| (i + 1) as f64);
        pseudo_float(&s[..s.len() - last.len_utf8()])? * 1024f64.powf(exp)
    };
    Ok(value as u64)
}

/// [`dehumanize`] with an optional leading minus, as the controller terms use.
fn dehumanize_signed(s: &str) -> Result<i64, String> {
    match s.strip_prefix('-') {
        Some(rest) => dehumanize(rest).map(|v| (v as i64).wrapping_neg()),
        None => dehumanize(s).map(|v| v as i64),
    }
}

/// Reads one value file; an absent file reads as zero, as upstream's parser treats it.
fn value(dir: &Path, file: &str) -> Result<u64, CollectorError> {
    let path = dir.join(file);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let text = text.strip_suffix('\n').unwrap_or(&text);
            dehumanize(text).map_err(|r| CollectorError::parse(&path, r))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(CollectorError::io(path, e)),
    }
}

/// The last field of the (last) line of `text` starting with `key`.
fn field<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    text.lines()
        .rfind(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().next_back())
}

/// `writeback_rate_debug`: target, rate, proportional, integral and change terms.
#[derive(Debug, Default, PartialEq)]
struct Writeback {
    rate: u64,
    target: u64,
    proportional: i64,
    integral: i64,
    change: i64,
}

fn parse_writeback(text: &str) -> Result<Writeback, String> {
    let unsigned = |key: &str, suffix: &str| {
        field(text, key).map_or(Ok(0), |v| dehumanize(v.strip_suffix(suffix).unwrap_or(v)))
    };
    let signed = |key: &str, suffix: &str| {
        field(text, key).map_or(Ok(0), |v| {
            dehumanize_signed(v.strip_suffix(suffix).unwrap_or(v))
        })
    };
    Ok(Writeback {
        rate: unsigned("rate:", "/sec")?,
        target: unsigned("target:", "")?,
        proportional: signed("proportional:", "")?,
        integral: signed("integral:", "")?,
        change: signed("change:", "/sec")?,
    })
}

/// `priority_stats`: the unused and metadata percentages.
fn parse_priority(text: &str) -> Result<(u64, u64), String> {
    let percent = |key: &str| {
        field(text, key).map_or(Ok(0), |v| {
            v.trim_end_matches('%')
                .parse::<u64>()
                .map_err(|_| format!("invalid percentage {v:?}"))
        })
    };
    Ok((percent("Unused:")?, percent("Metadata:")?))
}

/// Subdirectories named `<prefix><digits>` (the glob `<prefix>[0-9]*`), sorted.
fn numbered(dir: &Path, prefix: &str) -> Result<Vec<(String, std::path::PathBuf)>, CollectorError> {
    Ok(sorted_entries(dir)?
        .into_iter()
        .filter(|(name, _)| {
            name.strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
        })
        .collect())
}

/// Metric suffix, help, and whether it is a counter, for the set-wide values in file order.
const SET: &[(&str, &str, &str, bool)] = &[
    ("", "average_key_size", "average_key_size_sectors", false),
    ("", "btree_cache_size", "btree_cache_size_bytes", false),
    (
        "",
        "cache_available_percent",
        "cache_available_percent",
        false,
    ),
    ("", "congested", "congested", false),
    ("", "root_usage_percent", "root_usage_percent", false),
    ("", "tree_depth", "tree_depth", false),
    (
        "internal",
        "active_journal_entries",
        "active_journal_entries",
        false,
    ),
    ("internal", "btree_nodes", "btree_nodes", false),
    (
        "internal",
        "cache_read_races",
        "cache_read_races_total",
        true,
    ),
];

fn help(metric: &str) -> &'static str {
    match metric {
        "average_key_size_sectors" => "Average data per key in the btree (sectors).",
        "btree_cache_size_bytes" => "Amount of memory currently used by the btree cache.",
        "cache_available_percent" => {
            "Percentage of cache device without dirty data, usable for writeback (may contain clean cached data)."
        }
        "congested" => "Congestion.",
        "root_usage_percent" => {
            "Percentage of the root btree node in use (tree depth increases if too high)."
        }
        "tree_depth" => "Depth of the btree.",
        "active_journal_entries" => "Number of journal entries that are newer than the index.",
        "btree_nodes" => "Total nodes in the btree.",
        "btree_read_average_duration_seconds" => "Average btree read duration.",
        "cache_read_races_total" => {
            "Counts instances where while data was being read from the cache, the bucket was reused and invalidated - i.e. where the pointer was stale after the read completed."
        }
        "dirty_data_bytes" => "Amount of dirty data for this backing device in the cache.",
        "dirty_target_bytes" => {
            "Current dirty data target threshold for this backing device in bytes."
        }
        "writeback_rate" => "Current writeback rate for this backing device in bytes.",
        "writeback_rate_proportional_term" => {
            "Current result of proportional controller, part of writeback rate"
        }
        "writeback_rate_integral_term" => {
            "Current result of integral controller, part of writeback rate"
        }
        "writeback_change" => "Last writeback rate change step for this backing device.",
        "bypassed_bytes_total" => {
            "Amount of IO (both reads and writes) that has bypassed the cache."
        }
        "cache_hits_total" => "Hits counted per individual IO as bcache sees them.",
        "cache_misses_total" => "Misses counted per individual IO as bcache sees them.",
        "cache_bypass_hits_total" => "Hits for IO intended to skip the cache.",
        "cache_bypass_misses_total" => "Misses for IO intended to skip the cache.",
        "cache_miss_collisions_total" => {
            "Instances where data insertion from cache miss raced with write (data already present)."
        }
        "cache_readaheads_total" => "Count of times readahead occurred.",
        "io_errors" => "Number of errors that have occurred, decayed by io_error_halflife.",
        "metadata_written_bytes_total" => {
            "Sum of all non data writes (btree writes and all other metadata)."
        }
        "written_bytes_total" => "Sum of all data that has been written to the cache.",
        "priority_stats_unused_percent" => {
            "The percentage of the cache that doesn't contain any data."
        }
        "priority_stats_metadata_percent" => "Bcache's metadata overhead.",
        _ => unreachable!("every bcache metric has its help text"),
    }
}

/// A backing device's `stats_total/` files and their metric suffixes.
const PERIOD: &[(&str, &str)] = &[
    ("bypassed", "bypassed_bytes_total"),
    ("cache_hits", "cache_hits_total"),
    ("cache_misses", "cache_misses_total"),
    ("cache_bypass_hits", "cache_bypass_hits_total"),
    ("cache_bypass_misses", "cache_bypass_misses_total"),
    ("cache_miss_collisions", "cache_miss_collisions_total"),
    ("cache_readaheads", "cache_readaheads_total"),
];

/// Collects families by metric suffix, keeping first-seen order.
#[derive(Default)]
struct Families(Vec<(&'static str, ConstFamily)>);

impl Families {
    fn push(&mut self, metric: &'static str, counter: bool, labels: &[(&str, &str)], v: f64) {
        let i = match self.0.iter().position(|(m, _)| *m == metric) {
            Some(i) => i,
            None => {
                let name = format!("node_bcache_{metric}");
                let family = if counter {
                    counter_family(name, help(metric))
                } else {
                    gauge_family(name, help(metric))
                };
                self.0.push((metric, family));
                self.0.len() - 1
            }
        };
        self.0[i].1.push(labels, v);
    }
}

struct Bcache {
    paths: Paths,
    priority_stats: bool,
}

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Bcache {
        paths: s.paths.clone(),
        priority_stats: s.bcache_priority_stats,
    }))
}

impl Bcache {
    fn cache_set(&self, uuid: &str, dir: &Path, f: &mut Families) -> Result<(), CollectorError> {
        let set = [("uuid", uuid)];
        for (sub, file, metric, counter) in SET {
            let v = value(&dir.join(sub), file)?;
            f.push(metric, *counter, &set, v as f64);
        }
        // The file says microseconds; upstream scales it as nanoseconds.
        let read = value(&dir.join("internal"), "btree_read_average_duration_us")?;
        f.push(
            "btree_read_average_duration_seconds",
            false,
            &set,
            read as f64 * 1e-9,
        );

        for (name, bdev) in numbered(dir, "bdev")? {
            let labels = [("uuid", uuid), ("backing_device", name.as_str())];
            let dirty = value(&bdev, "dirty_data")?;
            let debug = bdev.join("writeback_rate_debug");
            let text =
                std::fs::read_to_string(&debug).map_err(|e| CollectorError::io(&debug, e))?;
            let wb = parse_writeback(&text).map_err(|r| CollectorError::parse(&debug, r))?;
            f.push("dirty_data_bytes", false, &labels, dirty as f64);
            f.push("dirty_target_bytes", false, &labels, wb.target as f64);
            f.push("writeback_rate", false, &labels, wb.rate as f64);
            f.push(
                "writeback_rate_proportional_term",
                false,
                &labels,
                wb.proportional as f64,
            );
            f.push(
                "writeback_rate_integral_term",
                false,
                &labels,
                wb.integral as f64,
            );
            f.push("writeback_change", false, &labels, wb.change as f64);
            let total = bdev.join("stats_total");
            for (file, metric) in PERIOD {
                let v = value(&total, file)?;
                // Upstream leaves readaheads out while they are zero.
                if *metric == "cache_readaheads_total" && v == 0 {
                    continue;
                }
                f.push(metric, true, &labels, v as f64);
            }
        }

        for (name, cache) in numbered(dir, "cache")? {
            let labels = [("uuid", uuid), ("cache_device", name.as_str())];
            f.push(
                "io_errors",
                false,
                &labels,
                value(&cache, "io_errors")? as f64,
            );
            let metadata = value(&cache, "metadata_written")?;
            f.push(
                "metadata_written_bytes_total",
                true,
                &labels,
                metadata as f64,
            );
            f.push(
                "written_bytes_total",
                true,
                &labels,
                value(&cache, "written")? as f64,
            );
            if self.priority_stats {
                let path = cache.join("priority_stats");
                let text =
                    std::fs::read_to_string(&path).map_err(|e| CollectorError::io(&path, e))?;
                let (unused, metadata) =
                    parse_priority(&text).map_err(|r| CollectorError::parse(&path, r))?;
                f.push(
                    "priority_stats_unused_percent",
                    false,
                    &labels,
                    unused as f64,
                );
                f.push(
                    "priority_stats_metadata_percent",
                    false,
                    &labels,
                    metadata as f64,
                );
            }
        }
        Ok(())
    }
}

impl Collector for Bcache {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let sets = match sorted_entries(&self.paths.sys("fs/bcache")) {
            Err(e) if e.is_no_data() => Vec::new(),
            r => r?,
        };
        let mut families = Families::default();
        // Cache sets are the `*-*` entries (their UUIDs); `register` and friends are not.
        for (uuid, dir) in sets.into_iter().filter(|(n, _)| n.contains('-')) {
            self.cache_set(&uuid, &dir, &mut families)?;
        }
        out.extend(families.0.into_iter().map(|(_, f)| f.into_family()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humanized_values_parse_as_upstream() {
        assert_eq!(dehumanize("1.1M"), Ok(1_150_976));
        assert_eq!(dehumanize("20.4G"), Ok(21_894_266_880));
        assert_eq!(dehumanize("512"), Ok(512));
        assert_eq!(dehumanize_signed("-427.5k"), Ok(-437_748));
        assert!(dehumanize("").is_err());
        assert!(dehumanize("x.1k").is_err());
        let wb =
            parse_writeback("rate:\t1.1M/sec\ntarget:  20.4G\nchange:  -321.5k/sec\n").unwrap();
        assert_eq!((wb.rate, wb.change, wb.integral), (1_150_976, -329_204, 0));
        assert_eq!(
            parse_priority("Unused:\t\t99%\nMetadata:\t0%\n"),
            Ok((99, 0))
        );
    }
}
