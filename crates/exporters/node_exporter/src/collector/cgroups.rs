//! `cgroups`: the cgroup v1 controller summary of /proc/cgroups.

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, gauge_family};
use crate::paths::{Paths, read};

struct Cgroups(Paths);

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Cgroups(s.paths.clone())))
}

/// One controller: its name, number of cgroups and whether it is enabled.
#[derive(Debug, PartialEq)]
struct Summary<'a> {
    subsys: &'a str,
    cgroups: i64,
    enabled: i64,
}

fn parse(text: &str) -> Result<Vec<Summary<'_>>, String> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 4 {
            return Err(format!(
                "4+ fields required, found {} fields in cgroup info string: {line}",
                f.len()
            ));
        }
        let int = |i: usize| {
            f[i].parse::<i64>()
                .map_err(|_| format!("invalid number {:?} in {line:?}", f[i]))
        };
        int(1)?;
        out.push(Summary {
            subsys: f[0],
            cgroups: int(2)?,
            enabled: int(3)?,
        });
    }
    Ok(out)
}

impl Collector for Cgroups {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let path = self.0.proc("cgroups");
        let text = read(&path)?;
        let summaries = parse(&text).map_err(|e| CollectorError::parse(&path, e))?;
        // Upstream gives both families the same help text.
        let help = "Current cgroup number of the subsystem.";
        let mut cgroups = gauge_family("node_cgroups_cgroups", help);
        let mut enabled = gauge_family("node_cgroups_enabled", help);
        for s in &summaries {
            cgroups.push(&[("subsys_name", s.subsys)], s.cgroups as f64);
            enabled.push(&[("subsys_name", s.subsys)], s.enabled as f64);
        }
        out.push(cgroups.into_family());
        out.push(enabled.into_family());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rows_and_skips_the_header() {
        let rows =
            parse("#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t3\t172\t1\n").unwrap();
        assert_eq!(
            rows,
            [Summary {
                subsys: "cpu",
                cgroups: 172,
                enabled: 1
            }]
        );
        assert!(parse("cpu 3 172\n").is_err());
        assert!(parse("cpu x 172 1\n").is_err());
    }
}
