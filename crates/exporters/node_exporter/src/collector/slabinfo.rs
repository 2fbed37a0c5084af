//! `slabinfo`: kernel slab allocator caches from /proc/slabinfo (version 2.1).

use pm_common::metrics::ConstFamily;

use crate::cli::{DeviceFilter, Settings};
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, gauge_family};
use crate::paths::{Paths, read};

struct Slabinfo {
    paths: Paths,
    slabs: DeviceFilter,
}

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Slabinfo {
        paths: s.paths.clone(),
        slabs: DeviceFilter::combined(
            (
                "collector.slabinfo.slabs-include",
                Some(s.flags.slabinfo_slabs_include.as_str()),
            ),
            (
                "collector.slabinfo.slabs-exclude",
                Some(s.flags.slabinfo_slabs_exclude.as_str()),
            ),
        )?,
    }))
}

/// One cache: its name and active objects, objects, object size, objects per slab and
/// pages per slab.
type Slab<'a> = (&'a str, [i64; 5]);

/// Splits at runs of white space, as procfs does (`\s+` replaced by one space, then split at
/// spaces): leading or trailing space yields an empty first or last field.
fn go_fields(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = Some(0);
    for (i, c) in line.char_indices() {
        match (c.is_ascii_whitespace(), start) {
            (true, Some(s)) => {
                out.push(&line[s..i]);
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    out.push(start.map_or("", |s| &line[s..]));
    out
}

/// Parses the cache rows; the version line and the `# name` header are skipped.
fn parse(text: &str) -> Result<Vec<Slab<'_>>, String> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.contains("slabinfo -") || line.contains("# name") {
            continue;
        }
        let fields = go_fields(line);
        if fields.len() != 16 {
            return Err(format!("unable to parse: {line:?}"));
        }
        let mut values = [0; 5];
        for (v, f) in values.iter_mut().zip(&fields[1..6]) {
            *v = f
                .parse()
                .map_err(|_| format!("invalid number {f:?} in {line:?}"))?;
        }
        out.push((fields[0], values));
    }
    Ok(out)
}

impl Collector for Slabinfo {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let path = self.paths.proc("slabinfo");
        let text = read(&path)?;
        let slabs = parse(&text)
            .map_err(|e| CollectorError::parse(&path, format!("couldn't get slabinfo: {e}")))?;
        let mut families: [ConstFamily; 5] = [
            ("active_objects", "The number of objects that are currently active (i.e., in use)."),
            ("objects", "The total number of allocated objects (i.e., objects that are both in use and not in use)."),
            ("object_size_bytes", "The size of objects in this slab, in bytes."),
            ("objects_per_slab", "The number of objects stored in each slab."),
            ("pages_per_slab", "The number of pages allocated for each slab."),
        ]
        .map(|(name, help)| gauge_family(format!("node_slabinfo_{name}"), help));
        for (name, values) in slabs {
            if self.slabs.ignored(name) {
                continue;
            }
            for (family, v) in families.iter_mut().zip(values) {
                family.push(&[("slab", name)], v as f64);
            }
        }
        out.extend(families.map(ConstFamily::into_family));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_procfs() {
        assert_eq!(go_fields("a  b\tc"), ["a", "b", "c"]);
        assert_eq!(go_fields(" a b "), ["", "a", "b", ""]);
    }

    #[test]
    fn parses_version_2_1_rows() {
        let text = "slabinfo - version: 2.1\n# name <active_objs> …\n\
                    tw_sock_TCP          704    864    256   32    2 : tunables    0    0    0 : slabdata     27     27      0\n";
        assert_eq!(
            parse(text).unwrap(),
            [("tw_sock_TCP", [704, 864, 256, 32, 2])]
        );
        assert!(
            parse("tw_sock_TCP 704 864 256 32 2 : tunables 0 0 0 : slabdata 27 27 0 \n").is_err()
        );
        assert!(parse("short 1 2\n").is_err());
    }
}
