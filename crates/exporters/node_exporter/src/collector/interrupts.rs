//! `interrupts`: per-CPU interrupt counts from /proc/interrupts.

use std::collections::BTreeMap;

use crate::cli::{DeviceFilter, Settings};
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, counter_family, parse_f64};
use crate::paths::{Paths, read};

struct Interrupts {
    paths: Paths,
    names: DeviceFilter,
    include_zeros: bool,
}

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Interrupts {
        paths: s.paths.clone(),
        // Upstream accepts both patterns at once here.
        names: DeviceFilter::combined(
            (
                "collector.interrupts.name-include",
                s.flags.interrupts_name_include.as_deref(),
            ),
            (
                "collector.interrupts.name-exclude",
                s.flags.interrupts_name_exclude.as_deref(),
            ),
        )?,
        include_zeros: s.interrupts_include_zeros,
    }))
}

/// One line of /proc/interrupts.
#[derive(Debug, PartialEq)]
struct Interrupt<'a> {
    info: String,
    devices: String,
    values: Vec<&'a str>,
}

/// Parses the table by name; a later line with the same name replaces an earlier one. Lines
/// with fewer columns than CPUs plus one (ERR, MIS) are left out, as upstream does.
fn parse(text: &str) -> Option<BTreeMap<&str, Interrupt<'_>>> {
    let mut lines = text.lines();
    let cpus = lines.next()?.split_whitespace().count();
    let mut out = BTreeMap::new();
    for line in lines {
        // aarch64 may put no space between the name and the first value.
        let Some((name, rest)) = line.split_once(':') else {
            continue;
        };
        let parts: Vec<&str> = rest.split_whitespace().collect();
        if parts.len() < cpus + 1 {
            continue;
        }
        let name = name.trim_start_matches(' ');
        let (info, devices) = if name.parse::<i64>().is_ok() {
            (parts[cpus].to_owned(), parts[cpus + 1..].join(" "))
        } else {
            (parts[cpus..].join(" "), String::new())
        };
        out.insert(
            name,
            Interrupt {
                info,
                devices,
                values: parts[..cpus].to_vec(),
            },
        );
    }
    Some(out)
}

impl Collector for Interrupts {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let path = self.paths.proc("interrupts");
        let text = read(&path)?;
        let table = parse(&text).ok_or_else(|| CollectorError::parse(&path, "interrupts empty"))?;
        let mut family = counter_family("node_interrupts_total", "Interrupt details.");
        for (name, irq) in &table {
            let filter_name = format!("{name};{};{}", irq.info, irq.devices);
            if self.names.ignored(&filter_name) {
                continue;
            }
            for (cpu, value) in irq.values.iter().enumerate() {
                let v = parse_f64(value).ok_or_else(|| {
                    CollectorError::parse(&path, format!("invalid value {value} in interrupts"))
                })?;
                if !self.include_zeros && v == 0.0 {
                    continue;
                }
                family.push(
                    &[
                        ("cpu", &cpu.to_string()),
                        ("type", name),
                        ("info", &irq.info),
                        ("devices", &irq.devices),
                    ],
                    v,
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
    fn parses_numbered_and_named_lines() {
        let text = "           CPU0       CPU1\n  \
                    9:     398553       2320   IR-IO-APIC-fasteoi   acpi extra\n \
                    NMI:         47         5   Non-maskable interrupts\n \
                    ERR:          0\n\
                    11:1 2 GICv3 27 Level arch_timer\n";
        let t = parse(text).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(
            t["9"],
            Interrupt {
                info: "IR-IO-APIC-fasteoi".into(),
                devices: "acpi extra".into(),
                values: vec!["398553", "2320"],
            }
        );
        assert_eq!(t["NMI"].info, "Non-maskable interrupts");
        assert_eq!(t["NMI"].devices, "");
        assert_eq!(t["11"].values, ["1", "2"]);
        assert_eq!(t["11"].devices, "27 Level arch_timer");
        assert!(parse("").is_none());
    }
}
