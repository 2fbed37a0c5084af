//! Collectors over small sysfs classes: `cpufreq` and `thermal_zone`.

use std::path::Path;

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, gauge_family};
use crate::paths::{Paths, read_trimmed, sorted_entries};

struct Cpufreq(Paths);

pub fn cpufreq(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Cpufreq(s.paths.clone())))
}

/// A kHz attribute in Hz, when present.
fn khz(path: &Path) -> Option<f64> {
    read_trimmed(path)
        .ok()?
        .parse::<f64>()
        .ok()
        .map(|v| v * 1000.0)
}

impl Collector for Cpufreq {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let dir = self.0.sys("devices/system/cpu");
        let mut families = [
            (
                "cpuinfo_cur_freq",
                gauge_family(
                    "node_cpu_frequency_hertz",
                    "Current CPU thread frequency in hertz.",
                ),
            ),
            (
                "cpuinfo_max_freq",
                gauge_family(
                    "node_cpu_frequency_max_hertz",
                    "Maximum CPU thread frequency in hertz.",
                ),
            ),
            (
                "cpuinfo_min_freq",
                gauge_family(
                    "node_cpu_frequency_min_hertz",
                    "Minimum CPU thread frequency in hertz.",
                ),
            ),
            (
                "scaling_cur_freq",
                gauge_family(
                    "node_cpu_scaling_frequency_hertz",
                    "Current scaled CPU thread frequency in hertz.",
                ),
            ),
            (
                "scaling_max_freq",
                gauge_family(
                    "node_cpu_scaling_frequency_max_hertz",
                    "Maximum scaled CPU thread frequency in hertz.",
                ),
            ),
            (
                "scaling_min_freq",
                gauge_family(
                    "node_cpu_scaling_frequency_min_hertz",
                    "Minimum scaled CPU thread frequency in hertz.",
                ),
            ),
        ];
        let mut governors = gauge_family(
            "node_cpu_scaling_governor",
            "Current enabled CPU frequency governor.",
        );
        let mut any = [false; 6];
        let mut any_governor = false;
        for (name, path) in sorted_entries(&dir)? {
            let Some(cpu) = name.strip_prefix("cpu") else {
                continue;
            };
            if cpu.is_empty() || !cpu.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let freq = path.join("cpufreq");
            if !freq.is_dir() {
                continue;
            }
            for (i, (file, family)) in families.iter_mut().enumerate() {
                if let Some(v) = khz(&freq.join(file)) {
                    family.push(&[("cpu", cpu)], v);
                    any[i] = true;
                }
            }
            if let (Ok(available), Ok(current)) = (
                read_trimmed(&freq.join("scaling_available_governors")),
                read_trimmed(&freq.join("scaling_governor")),
            ) {
                for g in available.split_whitespace() {
                    let v = if g == current { 1.0 } else { 0.0 };
                    governors.push(&[("cpu", cpu), ("governor", g)], v);
                    any_governor = true;
                }
            }
        }
        for (i, (_, family)) in families.into_iter().enumerate() {
            if any[i] {
                out.push(family.into_family());
            }
        }
        if any_governor {
            out.push(governors.into_family());
        }
        Ok(())
    }
}

struct ThermalZone(Paths);

pub fn thermal_zone(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(ThermalZone(s.paths.clone())))
}

impl Collector for ThermalZone {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let dir = self.0.sys("class/thermal");
        let entries = sorted_entries(&dir)?;
        let mut temp = gauge_family("node_thermal_zone_temp", "Zone temperature in Celsius");
        let mut cur = gauge_family(
            "node_cooling_device_cur_state",
            "Current throttle state of the cooling device",
        );
        let mut max = gauge_family(
            "node_cooling_device_max_state",
            "Maximum throttle state of the cooling device",
        );
        let (mut any_zone, mut any_cooling) = (false, false);
        for (name, path) in entries {
            if let Some(zone) = name.strip_prefix("thermal_zone") {
                let (Ok(kind), Ok(t)) = (
                    read_trimmed(&path.join("type")),
                    read_trimmed(&path.join("temp")),
                ) else {
                    continue;
                };
                let Ok(t) = t.parse::<f64>() else { continue };
                temp.push(&[("zone", zone), ("type", &kind)], t / 1000.0);
                any_zone = true;
            } else if let Some(device) = name.strip_prefix("cooling_device") {
                let kind = read_trimmed(&path.join("type"))?;
                let c = read_trimmed(&path.join("cur_state"))?;
                let m = read_trimmed(&path.join("max_state"))?;
                let (Ok(c), Ok(m)) = (c.parse::<f64>(), m.parse::<f64>()) else {
                    continue;
                };
                cur.push(&[("name", device), ("type", &kind)], c);
                max.push(&[("name", device), ("type", &kind)], m);
                any_cooling = true;
            }
        }
        if any_zone {
            out.push(temp.into_family());
        }
        if any_cooling {
            out.push(cur.into_family());
            out.push(max.into_family());
        }
        Ok(())
    }
}
