//! `sysctl`: chosen kernel parameters from /proc/sys, as numbers (`--collector.sysctl.include`)
//! or as info labels (`--collector.sysctl.include-info`).

use regex::Regex;

use pm_common::metrics::ConstKind;

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, gauge_family, single, untyped_family};
use crate::paths::{Paths, parse_go_int, sys_read};

/// One flag value: `name` or `name:key1,key2,…` (keys name the fields of a multi-value
/// sysctl).
#[derive(Debug, PartialEq)]
struct Sysctl {
    numeric: bool,
    name: String,
    keys: Vec<String>,
    /// The sanitised name used in metric names.
    metric: String,
}

impl Sysctl {
    fn new(include: &str, numeric: bool, sanitize: &Regex) -> Self {
        let (name, keys) = match include.split_once(':') {
            Some((name, keys)) => (name, keys.split(',').map(String::from).collect()),
            None => (include, Vec::new()),
        };
        Self {
            numeric,
            name: name.to_owned(),
            keys,
            metric: sanitize.replace_all(name, "_").into_owned(),
        }
    }
}

struct SysctlCollector {
    paths: Paths,
    sysctls: Vec<Sysctl>,
}

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    // Upstream's metric-name sanitiser: runs of invalid characters, with the underscores
    // around them, become one underscore.
    let sanitize = Regex::new(r"_*[^0-9A-Za-z_]+_*").expect("valid regex");
    let numeric = s.flags.sysctl_include.iter().map(|i| (i, true));
    let info = s.flags.sysctl_include_info.iter().map(|i| (i, false));
    Ok(Box::new(SysctlCollector {
        paths: s.paths.clone(),
        sysctls: numeric
            .chain(info)
            .map(|(i, numeric)| Sysctl::new(i, numeric, &sanitize))
            .collect(),
    }))
}

const INFO_HELP: &str = "sysctl info";

impl SysctlCollector {
    fn collect(&self, s: &Sysctl, out: &mut Out) -> Result<(), CollectorError> {
        let path = self
            .paths
            .proc(&format!("sys/{}", s.name.replace('.', "/")));
        let text = sys_read(&path).map_err(|e| CollectorError::io(&path, e))?;
        let fields: Vec<&str> = text.split_whitespace().collect();
        let fail = |reason: String| CollectorError::parse(&path, reason);
        let numbers = if s.numeric {
            fields
                .iter()
                .enumerate()
                .map(|(i, f)| {
                    parse_go_int(f).map(|v| v as f64).ok_or_else(|| {
                        fail(format!("field {i} in sysctl {} is not a valid int", s.name))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?
        } else {
            Vec::new()
        };
        let name = format!("node_sysctl_{}", s.metric);
        let help = format!("sysctl {}", s.name);
        match fields.len() {
            0 => return Err(fail(format!("sysctl {} has no values", s.name))),
            1 if !s.keys.is_empty() => {
                return Err(fail(format!(
                    "sysctl {} has only one value, but expected {:?}",
                    s.name, s.keys
                )));
            }
            1 if s.numeric => single(out, ConstKind::Untyped, name, &help, numbers[0]),
            1 => out.push(
                gauge_family("node_sysctl_info", INFO_HELP)
                    .with(
                        &[("name", &s.name), ("value", fields[0]), ("index", "0")],
                        1.0,
                    )
                    .into_family(),
            ),
            _ if s.keys.is_empty() && s.numeric => {
                let mut family = untyped_family(name, help);
                for (i, v) in numbers.iter().enumerate() {
                    family.push(&[("index", &i.to_string())], *v);
                }
                out.push(family.into_family());
            }
            _ if s.keys.is_empty() => {
                let mut family = gauge_family("node_sysctl_info", INFO_HELP);
                for (i, v) in fields.iter().enumerate() {
                    family.push(
                        &[("name", &s.name), ("value", v), ("index", &i.to_string())],
                        1.0,
                    );
                }
                out.push(family.into_family());
            }
            n if n != s.keys.len() => {
                return Err(fail(format!(
                    "sysctl {} has {n} keys but only {} defined in flag",
                    s.name,
                    s.keys.len()
                )));
            }
            _ if !s.numeric => {
                return Err(fail("mapped sysctl string values not supported".into()));
            }
            _ => {
                for (i, (key, v)) in s.keys.iter().zip(&numbers).enumerate() {
                    single(
                        out,
                        ConstKind::Untyped,
                        format!("{name}_{key}"),
                        &format!("sysctl {}, field {i}", s.name),
                        *v,
                    );
                }
            }
        }
        Ok(())
    }
}

impl Collector for SysctlCollector {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        for s in &self.sysctls {
            self.collect(s, out)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pm_common::expfmt::dto::MetricFamily;

    fn sanitize() -> Regex {
        Regex::new(r"_*[^0-9A-Za-z_]+_*").unwrap()
    }

    #[test]
    fn parses_flag_values() {
        let s = Sysctl::new("fs.file-nr:total,current,max", true, &sanitize());
        assert_eq!(s.name, "fs.file-nr");
        assert_eq!(s.keys, ["total", "current", "max"]);
        assert_eq!(s.metric, "fs_file_nr");
        assert_eq!(Sysctl::new("a_.b", false, &sanitize()).metric, "a_b");
    }

    fn run(
        include: &str,
        numeric: bool,
        content: &str,
    ) -> Result<Vec<MetricFamily>, CollectorError> {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sys/fs/file-nr");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, content).unwrap();
        let c = SysctlCollector {
            paths: Paths {
                procfs: dir.path().into(),
                ..Paths::default()
            },
            sysctls: vec![Sysctl::new(include, numeric, &sanitize())],
        };
        let mut out = Vec::new();
        c.update(&mut out).map(|()| out)
    }

    #[test]
    fn shapes_follow_the_value_count_and_keys() {
        let indexed = run("fs.file-nr", true, "1024\t0\t1631329\n").unwrap();
        assert_eq!(indexed.len(), 1);
        assert_eq!(indexed[0].metric.len(), 3);
        let mapped = run("fs.file-nr:total,current,max", true, "1024 0 1631329\n").unwrap();
        let names: Vec<_> = mapped.iter().map(|f| f.name()).collect();
        assert_eq!(
            names,
            [
                "node_sysctl_fs_file_nr_total",
                "node_sysctl_fs_file_nr_current",
                "node_sysctl_fs_file_nr_max"
            ]
        );
        let info = run("fs.file-nr", false, "a b\n").unwrap();
        assert_eq!(info[0].name(), "node_sysctl_info");
        assert!(run("fs.file-nr:a,b", true, "1 2 3\n").is_err());
        assert!(run("fs.file-nr:a", true, "1\n").is_err());
        assert!(run("fs.file-nr", true, "x\n").is_err());
        assert!(run("fs.file-nr", true, "\n").is_err());
        assert!(run("fs.file-nr:a,b", false, "x y\n").is_err());
    }
}
