//! `meminfo_numa`: per-NUMA-node memory statistics from
//! /sys/devices/system/node/node<N>/{meminfo,numastat}.

use std::collections::BTreeMap;

use pm_common::metrics::{ConstFamily, ConstKind};

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, parse_f64};
use crate::paths::{Paths, read, sorted_entries};

struct MeminfoNuma(Paths);

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(MeminfoNuma(s.paths.clone())))
}

/// One sample: metric suffix, kind, node and value.
type Sample = (String, ConstKind, String, f64);

/// `Node 0 Active(anon):  123 kB` lines; `(x)` in a name becomes `_x` and kB become bytes.
fn parse_meminfo(text: &str) -> Result<Vec<Sample>, String> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let raw = parts
            .get(3)
            .ok_or_else(|| format!("invalid line in meminfo: {line}"))?;
        let mut v = parse_f64(raw).ok_or_else(|| format!("invalid value in meminfo: {raw:?}"))?;
        match parts.len() {
            4 => {}
            5 if parts[4] == "kB" => v *= 1024.0,
            _ => return Err(format!("invalid line in meminfo: {line}")),
        }
        let key = parts[2].trim_end_matches(':');
        let name = match (key.find('('), key.rfind(')')) {
            (Some(open), Some(close)) if open < close => {
                format!(
                    "{}_{}{}",
                    &key[..open],
                    &key[open + 1..close],
                    &key[close + 1..]
                )
            }
            _ => key.to_owned(),
        };
        out.push((name, ConstKind::Gauge, parts[1].to_owned(), v));
    }
    Ok(out)
}

/// `numa_hit 193460335812` lines, exported as counters.
fn parse_numastat(text: &str, node: &str) -> Result<Vec<Sample>, String> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [key, raw] = parts[..] else {
            return Err(format!("line scan did not return 2 fields: {line}"));
        };
        let v = parse_f64(raw).ok_or_else(|| format!("invalid value in numastat: {raw:?}"))?;
        out.push((
            format!("{key}_total"),
            ConstKind::Counter,
            node.to_owned(),
            v,
        ));
    }
    Ok(out)
}

impl Collector for MeminfoNuma {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let dir = self.0.sys("devices/system/node");
        let entries = match sorted_entries(&dir) {
            Err(CollectorError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                Vec::new()
            }
            r => r?,
        };
        let mut samples = Vec::new();
        // Upstream globs `node[0-9]*` and takes the node number from the leading digits.
        for (name, path) in entries {
            let Some(digits) = name.strip_prefix("node") else {
                continue;
            };
            if !digits.starts_with(|c: char| c.is_ascii_digit()) {
                continue;
            }
            let node: String = digits.chars().take_while(char::is_ascii_digit).collect();
            let meminfo = path.join("meminfo");
            samples.extend(
                parse_meminfo(&read(&meminfo)?).map_err(|e| CollectorError::parse(&meminfo, e))?,
            );
            let numastat = path.join("numastat");
            samples.extend(
                parse_numastat(&read(&numastat)?, &node)
                    .map_err(|e| CollectorError::parse(&numastat, e))?,
            );
        }
        let mut families: BTreeMap<String, ConstFamily> = BTreeMap::new();
        for (name, kind, node, v) in samples {
            families
                .entry(name.clone())
                .or_insert_with(|| {
                    ConstFamily::new(
                        format!("node_memory_numa_{name}"),
                        format!("Memory information field {name}."),
                        kind,
                    )
                })
                .push(&[("node", &node)], v);
        }
        out.extend(families.into_values().map(ConstFamily::into_family));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_node_meminfo() {
        let s = parse_meminfo(
            "Node 0 MemTotal:  100 kB\nNode 0 Active(anon): 2 kB\nNode 0 HugePages_Total: 3\n",
        )
        .unwrap();
        assert_eq!(
            s[0],
            ("MemTotal".into(), ConstKind::Gauge, "0".into(), 102400.0)
        );
        assert_eq!(s[1].0, "Active_anon");
        assert_eq!(s[2].3, 3.0);
        assert!(parse_meminfo("Node 0 MemTotal: 1 MB\n").is_err());
        assert!(parse_meminfo("Node 0\n").is_err());
    }

    #[test]
    fn parses_numastat_as_counters() {
        let s = parse_numastat("numa_hit 193460335812\nnuma_miss 12624528\n", "1").unwrap();
        assert_eq!(
            s[0],
            (
                "numa_hit_total".into(),
                ConstKind::Counter,
                "1".into(),
                193460335812.0
            )
        );
        assert!(parse_numastat("numa_hit\n", "1").is_err());
    }
}
