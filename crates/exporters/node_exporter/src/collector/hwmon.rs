//! `hwmon`: the kernel's hardware monitoring sensors (`/sys/class/hwmon`): temperatures,
//! voltages, fans, power, with upstream's chip naming and per-element metric names.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use pm_common::metrics::{ConstFamily, ConstKind};
use regex::Regex;

use crate::cli::{DeviceFilter, Settings};
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::Out;
use crate::paths::{Paths, sorted_entries, to_valid_utf8};

/// The sensor types whose files are read; others (`name`, `uevent`…) are ignored.
const SENSOR_TYPES: &[&str] = &[
    "vrm",
    "beep_enable",
    "update_interval",
    "in",
    "cpu",
    "fan",
    "pwm",
    "temp",
    "curr",
    "power",
    "energy",
    "humidity",
    "intrusion",
    "freq",
];

/// `temp1_crit_alarm` → type `temp`, number `1`, property `crit_alarm`.
static FILENAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?P<type>[^0-9]+)(?P<id>[0-9]*)?(_(?P<property>.+))?$").expect("valid regex")
});
static INVALID: LazyLock<Regex> = LazyLock::new(|| Regex::new("[^a-z0-9:_]").expect("valid regex"));

struct Hwmon {
    paths: Paths,
    chips: DeviceFilter,
    sensors: DeviceFilter,
}

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    let f = &s.flags;
    Ok(Box::new(Hwmon {
        paths: s.paths.clone(),
        chips: DeviceFilter::combined(
            (
                "collector.hwmon.chip-include",
                f.hwmon_chip_include.as_deref(),
            ),
            (
                "collector.hwmon.chip-exclude",
                f.hwmon_chip_exclude.as_deref(),
            ),
        )?,
        sensors: DeviceFilter::combined(
            (
                "collector.hwmon.sensor-include",
                f.hwmon_sensor_include.as_deref(),
            ),
            (
                "collector.hwmon.sensor-exclude",
                f.hwmon_sensor_exclude.as_deref(),
            ),
        )?,
    }))
}

/// Lower case, invalid characters as `_`, no leading or trailing `_`.
fn clean(name: &str) -> String {
    INVALID
        .replace_all(&name.to_lowercase(), "_")
        .trim_matches('_')
        .to_owned()
}

/// Splits a sensor file name; `None` for names that are no sensor attribute.
fn explode(filename: &str) -> Option<(&str, u64, &str)> {
    let c = FILENAME.captures(filename)?;
    let kind = c.name("type").map_or("", |m| m.as_str());
    let id = match c.name("id").map(|m| m.as_str()) {
        Some(id) if !id.is_empty() => id.parse().ok()?,
        _ => 0,
    };
    Some((kind, id, c.name("property").map_or("", |m| m.as_str())))
}

/// Reads a sensor attribute as upstream does: one read of at most 128 bytes, newlines trimmed.
fn read_attr(path: &Path) -> Option<String> {
    let mut buf = [0u8; 128];
    let n = std::fs::File::open(path).ok()?.read(&mut buf).ok()?;
    Some(to_valid_utf8(&buf[..n]).trim_matches('\n').to_owned())
}

type SensorData = BTreeMap<String, HashMap<String, String>>;

fn collect_sensor_data(dir: &Path, data: &mut SensorData) -> Result<(), CollectorError> {
    for (name, path) in sorted_entries(dir)? {
        let Some((kind, id, property)) = explode(&name) else {
            continue;
        };
        if !SENSOR_TYPES.contains(&kind) {
            continue;
        }
        if let Some(value) = read_attr(&path) {
            data.entry(format!("{kind}{id}"))
                .or_default()
                .insert(property.to_owned(), value);
        }
    }
    Ok(())
}

/// The chip's name: its device's bus and name, else the `name` attribute, else the
/// directory's own name.
fn chip_base_name(dir: &Path) -> Option<String> {
    if let Ok(device) = std::fs::canonicalize(dir.join("device")) {
        let name = clean(&device.file_name()?.to_string_lossy());
        let kind = device
            .parent()
            .and_then(Path::file_name)
            .map(|n| clean(&n.to_string_lossy()))
            .unwrap_or_default();
        match (kind.is_empty(), name.is_empty()) {
            (false, false) => return Some(format!("{kind}_{name}")),
            (true, false) => return Some(name),
            _ => {}
        }
    }
    if let Ok(raw) = std::fs::read_to_string(dir.join("name")) {
        let name = clean(&raw);
        if !name.is_empty() {
            return Some(name);
        }
    }
    let real = std::fs::canonicalize(dir).ok()?;
    Some(clean(&real.file_name()?.to_string_lossy())).filter(|n| !n.is_empty())
}

/// The families of one scrape, by name; the first sample of a name fixes its help text.
#[derive(Default)]
struct Families(BTreeMap<String, ConstFamily>);

impl Families {
    fn push(&mut self, kind: ConstKind, name: String, help: &str, labels: &[(&str, &str)], v: f64) {
        self.0
            .entry(name)
            .or_insert_with_key(|n| ConstFamily::new(n.clone(), help, kind))
            .push(labels, v);
    }

    fn gauge(&mut self, name: String, help: &str, labels: &[(&str, &str)], v: f64) {
        self.push(ConstKind::Gauge, name, help, labels, v);
    }
}

impl Hwmon {
    fn chip(&self, f: &mut Families, dir: &Path, chip: &str) -> Result<(), CollectorError> {
        let mut data = SensorData::new();
        collect_sensor_data(dir, &mut data)?;
        let device = dir.join("device");
        if device.exists() {
            collect_sensor_data(&device, &mut data)?;
        }
        if let Ok(raw) = std::fs::read_to_string(dir.join("name")) {
            let name = clean(&raw);
            if !name.is_empty() {
                f.gauge(
                    "node_hwmon_chip_names".into(),
                    "Annotation metric for human-readable chip names",
                    &[("chip", chip), ("chip_name", &name)],
                    1.0,
                );
            }
        }
        for (sensor, props) in &data {
            if self.sensors.ignored(&format!("{chip};{sensor}")) {
                tracing::debug!(sensor, "ignoring sensor");
                continue;
            }
            let kind = explode(sensor).map_or("", |(k, _, _)| k);
            sensor_metrics(f, chip, sensor, kind, props);
        }
        Ok(())
    }
}

/// The metrics of one sensor: the unit and scale follow from its type and element.
fn sensor_metrics(
    f: &mut Families,
    chip: &str,
    sensor: &str,
    kind: &str,
    props: &HashMap<String, String>,
) {
    let labels = [("chip", chip), ("sensor", sensor)];
    if let Some(label) = props.get("label") {
        f.gauge(
            "node_hwmon_sensor_label".into(),
            "Label for given chip and sensor",
            &[("chip", chip), ("sensor", sensor), ("label", label)],
            1.0,
        );
    }
    let bare = props.get("").map(String::as_str);
    match kind {
        "beep_enable" => {
            let v = if bare == Some("1") { 1.0 } else { 0.0 };
            f.gauge(
                "node_hwmon_beep_enabled".into(),
                "Hardware beep enabled",
                &labels,
                v,
            );
            return;
        }
        "vrm" | "update_interval" => {
            if let Some(v) = bare.and_then(|s| s.parse::<f64>().ok()) {
                if kind == "vrm" {
                    f.gauge(
                        "node_hwmon_voltage_regulator_version".into(),
                        "Hardware voltage regulator",
                        &labels,
                        v,
                    );
                } else {
                    f.gauge(
                        "node_hwmon_update_interval_seconds".into(),
                        "Hardware monitor update interval",
                        &labels,
                        v * 0.001,
                    );
                }
            }
            return;
        }
        _ => {}
    }
    let prefix = format!("node_hwmon_{kind}");
    for (element, raw) in props {
        let element = element.as_str();
        if element == "label" {
            continue;
        }
        let name = match element {
            "input" if bare.is_some() => format!("{prefix}_input"),
            "input" | "" => prefix.clone(),
            e => format!("{prefix}_{}", clean(e)),
        };
        let Ok(v) = raw.parse::<f64>() else { continue };
        element_metric(f, &labels, kind, element, name, v, props.get("label"));
    }
}

/// How a raw sysfs value becomes the base unit; the float operations are upstream's, so the
/// printed values match digit for digit.
enum Scale {
    One,
    Milli,
    Micro,
}

fn element_metric(
    f: &mut Families,
    labels: &[(&str, &str); 2],
    kind: &str,
    element: &str,
    name: String,
    v: f64,
    label: Option<&String>,
) {
    let (suffix, help, scale): (&str, String, Scale) = match (kind, element) {
        (_, "fault" | "alarm") => (
            "",
            format!("Hardware sensor {element} status ({kind})"),
            Scale::One,
        ),
        (_, "beep") => (
            "_enabled",
            "Hardware monitor sensor has beeping enabled".into(),
            Scale::One,
        ),
        ("in" | "cpu", _) => (
            "_volts",
            format!("Hardware monitor for voltage ({element})"),
            Scale::Milli,
        ),
        ("temp", e) if e != "type" => {
            let e = if e.is_empty() { "input" } else { e };
            (
                "_celsius",
                format!("Hardware monitor for temperature ({e})"),
                Scale::Milli,
            )
        }
        ("curr", _) => (
            "_amps",
            format!("Hardware monitor for current ({element})"),
            Scale::Milli,
        ),
        ("energy", _) => {
            f.push(
                ConstKind::Counter,
                format!("{name}_joule_total"),
                &format!("Hardware monitor for joules used so far ({element})"),
                labels,
                v / 1_000_000.0,
            );
            return;
        }
        ("power", "accuracy") => (
            "",
            "Hardware monitor power meter accuracy, as a ratio".into(),
            Scale::Micro,
        ),
        ("power", "average_interval" | "average_interval_min" | "average_interval_max") => (
            "_seconds",
            format!("Hardware monitor power usage update interval ({element})"),
            Scale::Milli,
        ),
        ("power", _) => (
            "_watt",
            format!("Hardware monitor for power usage in watts ({element})"),
            Scale::Micro,
        ),
        ("humidity", _) => (
            "",
            format!(
                "Hardware monitor for humidity, as a ratio (multiply with 100.0 to get the humidity as a percentage) ({element})"
            ),
            Scale::Micro,
        ),
        ("fan", "input" | "min" | "max" | "target") => (
            "_rpm",
            format!("Hardware monitor for fan revolutions per minute ({element})"),
            Scale::One,
        ),
        ("freq", "input") => {
            if let Some(label) = label {
                f.gauge(
                    format!("{name}_freq_mhz"),
                    "Hardware monitor for GPU frequency in MHz",
                    &[("chip", labels[0].1), ("sensor", &clean(label))],
                    v / 1_000_000.0,
                );
            }
            return;
        }
        _ => (
            "",
            format!("Hardware monitor {kind} element {element}"),
            Scale::One,
        ),
    };
    let value = match scale {
        Scale::One => v,
        Scale::Milli => v * 0.001,
        Scale::Micro => v / 1_000_000.0,
    };
    f.gauge(format!("{name}{suffix}"), &help, labels, value);
}

impl Collector for Hwmon {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let root = self.paths.sys("class/hwmon");
        let listing = match sorted_entries(&root) {
            Err(e) if e.is_no_data() => {
                return Err(CollectorError::NoData(
                    "hwmon collector metrics are not available for this system".into(),
                ));
            }
            r => r?,
        };
        let mut chips: Vec<(PathBuf, String, String)> = Vec::new();
        for (_, dir) in listing {
            if !dir.is_dir() {
                continue;
            }
            let Some(base) = chip_base_name(&dir) else {
                tracing::debug!(dir = %dir.display(), "failed to derive hwmon chip name");
                continue;
            };
            let name_file = std::fs::read_to_string(dir.join("name"))
                .map(|s| s.trim().to_owned())
                .unwrap_or_default();
            chips.push((dir, base, name_file));
        }
        let mut base_counts: HashMap<&str, usize> = HashMap::new();
        let mut name_counts: HashMap<(&str, &str), usize> = HashMap::new();
        for (_, base, name_file) in &chips {
            *base_counts.entry(base).or_default() += 1;
            *name_counts.entry((base, name_file)).or_default() += 1;
        }
        let mut families = Families::default();
        let mut last_err = None;
        for (dir, base, name_file) in &chips {
            let mut chip = base.clone();
            if base_counts[base.as_str()] > 1 {
                let mut suffix = clean(name_file);
                if suffix.is_empty() || name_counts[&(base.as_str(), name_file.as_str())] > 1 {
                    suffix = clean(&dir.file_name().unwrap_or_default().to_string_lossy());
                }
                chip = format!("{base}_{suffix}");
            }
            if self.chips.ignored(&chip) {
                tracing::debug!(chip, "ignoring hwmon chip");
                continue;
            }
            if let Err(e) = self.chip(&mut families, dir, &chip) {
                last_err = Some(e);
            }
        }
        out.extend(families.0.into_values().map(ConstFamily::into_family));
        last_err.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_split_like_upstream() {
        assert_eq!(explode("temp1_crit_alarm"), Some(("temp", 1, "crit_alarm")));
        assert_eq!(explode("beep_enable"), Some(("beep_enable", 0, "")));
        assert_eq!(explode("pwm2"), Some(("pwm", 2, "")));
        assert_eq!(explode("in0_input"), Some(("in", 0, "input")));
        assert_eq!(explode("1abc"), None);
    }

    #[test]
    fn names_are_cleaned() {
        assert_eq!(clean("Core 0\n"), "core_0");
        assert_eq!(clean("platform"), "platform");
        assert_eq!(clean("__x-y__"), "x_y");
    }
}
