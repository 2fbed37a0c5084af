//! `meminfo` (/proc/meminfo) and `vmstat` (/proc/vmstat).

use regex::Regex;

use crate::cli::{Settings, regex_flag};
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, counter, gauge, single};
use crate::paths::{Paths, read};
use pm_common::metrics::ConstKind;

struct Meminfo(Paths);

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Meminfo(s.paths.clone())))
}

/// `Active(anon)` becomes `Active_anon`, as upstream names the field.
fn field_name(key: &str) -> String {
    match key.split_once('(') {
        Some((head, rest)) => format!("{head}_{}", rest.trim_end_matches(')')),
        None => key.to_owned(),
    }
}

impl Collector for Meminfo {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let path = self.0.proc("meminfo");
        let text = read(&path)?;
        for line in text.lines() {
            let parts: Vec<&str> = line.split_whitespace().collect();
            let (Some(key), Some(value)) = (parts.first(), parts.get(1)) else {
                continue;
            };
            let mut v: f64 = value
                .parse()
                .map_err(|_| CollectorError::parse(&path, format!("invalid value in {line:?}")))?;
            let mut name = field_name(key.trim_end_matches(':'));
            match parts.len() {
                2 => {}
                3 => {
                    v *= 1024.0;
                    name.push_str("_bytes");
                }
                _ => {
                    return Err(CollectorError::parse(
                        &path,
                        format!("invalid line {line:?}"),
                    ));
                }
            }
            let help = format!("Memory information field {name}.");
            let name = format!("node_memory_{name}");
            if name.ends_with("_total") {
                counter(out, name, &help, v);
            } else {
                gauge(out, name, &help, v);
            }
        }
        Ok(())
    }
}

struct Vmstat {
    paths: Paths,
    fields: Option<Regex>,
}

pub fn vmstat(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Vmstat {
        paths: s.paths.clone(),
        fields: regex_flag("collector.vmstat.fields", Some(&s.flags.vmstat_fields))?,
    }))
}

impl Collector for Vmstat {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let path = self.paths.proc("vmstat");
        let text = read(&path)?;
        for line in text.lines() {
            let mut f = line.split_whitespace();
            let (Some(key), Some(value)) = (f.next(), f.next()) else {
                continue;
            };
            if self.fields.as_ref().is_some_and(|r| !r.is_match(key)) {
                continue;
            }
            let v: f64 = value
                .parse()
                .map_err(|_| CollectorError::parse(&path, format!("invalid value in {line:?}")))?;
            single(
                out,
                ConstKind::Untyped,
                format!("node_vmstat_{key}"),
                &format!("/proc/vmstat information field {key}."),
                v,
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fields_like_upstream() {
        assert_eq!(field_name("Active(anon)"), "Active_anon");
        assert_eq!(field_name("MemTotal"), "MemTotal");
    }
}
