//! `powersupplyclass`: batteries and mains adapters from `/sys/class/power_supply`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use pm_common::metrics::{ConstFamily, ConstKind};
use regex::Regex;

use crate::cli::{Settings, regex_flag};
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, gauge_family};
use crate::paths::{Paths, parse_go_int, sorted_entries, sys_read};

/// How a numeric attribute is reported: its file, metric suffix and divisor to base units.
const NUMERIC: &[(&str, &str, f64)] = &[
    ("authentic", "authentic", 1.0),
    ("calibrate", "calibrate", 1.0),
    ("capacity", "capacity", 1.0),
    ("capacity_alert_max", "capacity_alert_max", 1.0),
    ("capacity_alert_min", "capacity_alert_min", 1.0),
    ("cycle_count", "cyclecount", 1.0),
    ("online", "online", 1.0),
    ("present", "present", 1.0),
    ("time_to_empty_now", "time_to_empty_seconds", 1.0),
    ("time_to_full_now", "time_to_full_seconds", 1.0),
    ("current_boot", "current_boot", 1e6),
    ("current_max", "current_max", 1e6),
    ("current_now", "current_ampere", 1e6),
    ("energy_empty", "energy_empty", 1e6),
    ("energy_empty_design", "energy_empty_design", 1e6),
    ("energy_full", "energy_full", 1e6),
    ("energy_full_design", "energy_full_design", 1e6),
    ("energy_now", "energy_watthour", 1e6),
    ("voltage_boot", "voltage_boot", 1e6),
    ("voltage_max", "voltage_max", 1e6),
    ("voltage_max_design", "voltage_max_design", 1e6),
    ("voltage_min", "voltage_min", 1e6),
    ("voltage_min_design", "voltage_min_design", 1e6),
    ("voltage_now", "voltage_volt", 1e6),
    ("voltage_ocv", "voltage_ocv", 1e6),
    ("charge_control_limit", "charge_control_limit", 1e6),
    ("charge_control_limit_max", "charge_control_limit_max", 1e6),
    ("charge_counter", "charge_counter", 1e6),
    ("charge_empty", "charge_empty", 1e6),
    ("charge_empty_design", "charge_empty_design", 1e6),
    ("charge_full", "charge_full", 1e6),
    ("charge_full_design", "charge_full_design", 1e6),
    ("charge_now", "charge_ampere", 1e6),
    ("charge_term_current", "charge_term_current", 1e6),
    ("constant_charge_current", "constant_charge_current", 1e6),
    (
        "constant_charge_current_max",
        "constant_charge_current_max",
        1e6,
    ),
    ("constant_charge_voltage", "constant_charge_voltage", 1e6),
    (
        "constant_charge_voltage_max",
        "constant_charge_voltage_max",
        1e6,
    ),
    ("precharge_current", "precharge_current", 1e6),
    ("input_current_limit", "input_current_limit", 1e6),
    ("power_now", "power_watt", 1e6),
    ("temp", "temp_celsius", 10.0),
    ("temp_alert_max", "temp_alert_max_celsius", 10.0),
    ("temp_alert_min", "temp_alert_min_celsius", 10.0),
    ("temp_ambient", "temp_ambient_celsius", 10.0),
    ("temp_ambient_max", "temp_ambient_max_celsius", 10.0),
    ("temp_ambient_min", "temp_ambient_min_celsius", 10.0),
    ("temp_max", "temp_max_celsius", 10.0),
    ("temp_min", "temp_min_celsius", 10.0),
];

/// Numeric files the kernel has that are parsed (and so must be numbers) but not exported.
const NUMERIC_UNEXPORTED: &[&str] = &[
    "charge_avg",
    "current_avg",
    "energy_avg",
    "power_avg",
    "time_to_empty_avg",
    "time_to_full_avg",
    "voltage_avg",
];

/// Text attributes that label `node_power_supply_info`.
const TEXT: &[&str] = &[
    "capacity_level",
    "charge_type",
    "health",
    "manufacturer",
    "model_name",
    "serial_number",
    "status",
    "technology",
    "type",
    "usb_type",
    "scope",
];

struct PowerSupply {
    paths: Paths,
    ignored: Option<Regex>,
}

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(PowerSupply {
        paths: s.paths.clone(),
        ignored: regex_flag(
            "collector.powersupply.ignored-supplies",
            Some(&s.flags.powersupply_ignored),
        )?,
    }))
}

/// The attributes of one supply; a read error the kernel uses for "not available now" skips
/// the attribute, a numeric attribute that does not parse fails the collector.
fn read_supply(dir: &Path) -> Result<HashMap<String, String>, CollectorError> {
    let mut attrs = HashMap::new();
    for (name, path) in sorted_entries(dir)? {
        if !std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file()) {
            continue;
        }
        let value = match sys_read(&path) {
            Ok(v) => v,
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    || matches!(e.raw_os_error(), Some(19 | 22 | 95)) =>
            {
                continue;
            }
            Err(e) => return Err(CollectorError::io(path, e)),
        };
        let numeric = NUMERIC.iter().any(|(f, _, _)| *f == name)
            || NUMERIC_UNEXPORTED.contains(&name.as_str());
        if numeric && parse_go_int(&value).is_none() {
            return Err(CollectorError::parse(
                path,
                format!("invalid number {value:?}"),
            ));
        }
        attrs.insert(name, value);
    }
    Ok(attrs)
}

impl Collector for PowerSupply {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let entries = match sorted_entries(&self.paths.sys("class/power_supply")) {
            Err(e) if e.is_no_data() => {
                return Err(CollectorError::NoData("no power_supply class".into()));
            }
            r => r?,
        };
        let mut supplies = Vec::new();
        for (name, dir) in entries {
            let attrs = read_supply(&dir)?;
            if self.ignored.as_ref().is_some_and(|r| r.is_match(&name)) {
                continue;
            }
            supplies.push((name, attrs));
        }
        let mut families: BTreeMap<&str, ConstFamily> = BTreeMap::new();
        let mut info = gauge_family(
            "node_power_supply_info",
            "info of /sys/class/power_supply/<power_supply>.",
        );
        for (name, attrs) in &supplies {
            for (file, suffix, divisor) in NUMERIC {
                let Some(v) = attrs.get(*file).and_then(|v| parse_go_int(v)) else {
                    continue;
                };
                let value = if *divisor == 1.0 {
                    v as f64
                } else {
                    v as f64 / divisor
                };
                families
                    .entry(suffix)
                    .or_insert_with(|| {
                        ConstFamily::new(
                            format!("node_power_supply_{suffix}"),
                            format!("{suffix} value of /sys/class/power_supply/<power_supply>."),
                            ConstKind::Gauge,
                        )
                    })
                    .push(&[("power_supply", name)], value);
            }
            let mut labels: Vec<(&str, &str)> = vec![("power_supply", name)];
            labels.extend(
                TEXT.iter()
                    .filter_map(|k| Some((*k, attrs.get(*k)?.as_str())))
                    .filter(|(_, v)| !v.is_empty()),
            );
            info.push(&labels, 1.0);
        }
        out.extend(families.into_values().map(ConstFamily::into_family));
        out.push(info.into_family());
        Ok(())
    }
}
