//! Small hardware collectors: `bonding` (slaves of bonded interfaces), `rapl` (CPU package
//! energy counters from powercap) and `dmi` (the firmware's system identification).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::LazyLock;

use pm_common::metrics::{ConstFamily, ConstKind};
use regex::Regex;

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, gauge_family};
use crate::paths::{Paths, read, read_trimmed, sorted_entries, sys_read};

struct Bonding(Paths);

pub fn bonding(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Bonding(s.paths.clone())))
}

impl Collector for Bonding {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let root = self.0.sys("class/net");
        let masters = match read(&root.join("bonding_masters")) {
            Err(e) if e.is_no_data() => {
                return Err(CollectorError::NoData(
                    "Not collecting bonding, file does not exist".into(),
                ));
            }
            r => r?,
        };
        let mut slaves_family = gauge_family(
            "node_bonding_slaves",
            "Number of configured slaves per bonding interface.",
        );
        let mut active_family = gauge_family(
            "node_bonding_active",
            "Number of active slaves per bonding interface.",
        );
        for master in masters.split_whitespace() {
            let dir = root.join(master);
            let slaves = read(&dir.join("bonding/slaves"))?;
            let (mut total, mut up) = (0u32, 0u32);
            for slave in slaves.split_whitespace() {
                let lower = dir.join(format!("lower_{slave}/bonding_slave/mii_status"));
                let state = match read(&lower) {
                    Err(e) if e.is_no_data() => {
                        read(&dir.join(format!("slave_{slave}/bonding_slave/mii_status")))?
                    }
                    r => r?,
                };
                total += 1;
                if state.trim() == "up" {
                    up += 1;
                }
            }
            slaves_family.push(&[("master", master)], f64::from(total));
            active_family.push(&[("master", master)], f64::from(up));
        }
        out.push(slaves_family.into_family());
        out.push(active_family.into_family());
        Ok(())
    }
}

struct Rapl {
    paths: Paths,
    zone_label: bool,
}

pub fn rapl(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Rapl {
        paths: s.paths.clone(),
        zone_label: s.rapl_zone_label,
    }))
}

/// Runs of characters invalid in a metric name, with the underscores around them.
static INVALID_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new("_*[^0-9A-Za-z_]+_*").expect("valid regex"));

/// One powercap zone: its name without the `-<n>` suffix, that index, its directory.
struct Zone {
    name: String,
    index: u64,
    path: String,
}

fn zones(dir: &Path) -> Result<Vec<Zone>, CollectorError> {
    let mut used: HashMap<String, u64> = HashMap::new();
    let mut out = Vec::new();
    for (_, zone_dir) in sorted_entries(dir)? {
        let Ok(raw) = std::fs::read_to_string(zone_dir.join("name")) else {
            continue;
        };
        let raw = raw.trim();
        let (index, name) = match raw.split('-').collect::<Vec<_>>().as_slice() {
            [name, n] if n.parse::<u64>().is_ok() => (n.parse().unwrap_or(0), (*name).to_owned()),
            _ => (used.get(raw).copied().unwrap_or(0), raw.to_owned()),
        };
        let max = zone_dir.join("max_energy_range_uj");
        let s = read_trimmed(&max)?;
        s.parse::<u64>()
            .map_err(|_| CollectorError::parse(&max, format!("not an unsigned integer: {s:?}")))?;
        used.insert(name.clone(), index + 1);
        out.push(Zone {
            name,
            index,
            path: zone_dir.to_string_lossy().into_owned(),
        });
    }
    Ok(out)
}

impl Collector for Rapl {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let zones = match zones(&self.paths.sys("class/powercap")) {
            Err(e) if e.is_no_data() || is_permission(&e) => {
                return Err(CollectorError::NoData(format!(
                    "Platform doesn't have powercap files present: {e}"
                )));
            }
            r => r?,
        };
        let mut families: BTreeMap<String, ConstFamily> = BTreeMap::new();
        for z in &zones {
            let energy = Path::new(&z.path).join("energy_uj");
            let uj = match read_trimmed(&energy) {
                Err(e) if is_permission(&e) => {
                    return Err(CollectorError::NoData(format!(
                        "Can't access energy_uj file: {e}"
                    )));
                }
                r => r?,
            };
            let uj: u64 = uj.parse().map_err(|_| {
                CollectorError::parse(&energy, format!("not an unsigned integer: {uj:?}"))
            })?;
            let joules = uj as f64 / 1_000_000.0;
            let index = z.index.to_string();
            if self.zone_label {
                families
                    .entry("node_rapl_joules_total".into())
                    .or_insert_with(|| {
                        ConstFamily::new(
                            "node_rapl_joules_total",
                            "Current RAPL value in joules",
                            ConstKind::Counter,
                        )
                    })
                    .push(
                        &[("index", &index), ("path", &z.path), ("rapl_zone", &z.name)],
                        joules,
                    );
            } else {
                let name = format!(
                    "node_rapl_{}_joules_total",
                    INVALID_NAME.replace_all(&z.name, "_")
                );
                families
                    .entry(name)
                    .or_insert_with_key(|n| {
                        ConstFamily::new(
                            n.clone(),
                            format!("Current RAPL {} value in joules", z.name),
                            ConstKind::Counter,
                        )
                    })
                    .push(&[("index", &index), ("path", &z.path)], joules);
            }
        }
        out.extend(families.into_values().map(ConstFamily::into_family));
        Ok(())
    }
}

fn is_permission(e: &CollectorError) -> bool {
    matches!(e, CollectorError::Io { source, .. } if source.kind() == std::io::ErrorKind::PermissionDenied)
}

/// The files of `/sys/class/dmi/id` and the label each becomes.
const DMI_FIELDS: &[(&str, &str)] = &[
    ("bios_date", "bios_date"),
    ("bios_release", "bios_release"),
    ("bios_vendor", "bios_vendor"),
    ("bios_version", "bios_version"),
    ("board_asset_tag", "board_asset_tag"),
    ("board_name", "board_name"),
    ("board_serial", "board_serial"),
    ("board_vendor", "board_vendor"),
    ("board_version", "board_version"),
    ("chassis_asset_tag", "chassis_asset_tag"),
    ("chassis_serial", "chassis_serial"),
    ("chassis_vendor", "chassis_vendor"),
    ("chassis_version", "chassis_version"),
    ("product_family", "product_family"),
    ("product_name", "product_name"),
    ("product_serial", "product_serial"),
    ("product_sku", "product_sku"),
    ("product_uuid", "product_uuid"),
    ("product_version", "product_version"),
    ("sys_vendor", "system_vendor"),
];

/// DMI data never changes while the system runs, so it is read once at start-up.
struct Dmi(Vec<(&'static str, String)>);

pub fn dmi(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    let dir = s.paths.sys("class/dmi/id");
    let mut labels = Vec::new();
    match sorted_entries(&dir) {
        Ok(entries) => {
            for (name, path) in entries {
                let Some(&(_, label)) = DMI_FIELDS.iter().find(|(f, _)| *f == name) else {
                    continue;
                };
                if !std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_file()) {
                    continue;
                }
                match sys_read(&path) {
                    Ok(v) => labels.push((label, v)),
                    Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {}
                    Err(e) => {
                        return Err(ConfigError::Invalid {
                            flag: "path.sysfs",
                            reason: format!(
                                "failed to read Desktop Management Interface (DMI) information {}: {e}",
                                path.display()
                            ),
                        });
                    }
                }
            }
        }
        Err(e) if e.is_no_data() => {
            tracing::debug!(err = %e, "Platform does not support Desktop Management Interface (DMI) information");
        }
        Err(e) => {
            return Err(ConfigError::Invalid {
                flag: "path.sysfs",
                reason: format!(
                    "failed to read Desktop Management Interface (DMI) information: {e}"
                ),
            });
        }
    }
    Ok(Box::new(Dmi(labels)))
}

impl Collector for Dmi {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        if self.0.is_empty() {
            return Err(CollectorError::NoData("no DMI information".into()));
        }
        let labels: Vec<(&str, &str)> = self.0.iter().map(|(k, v)| (*k, v.as_str())).collect();
        out.push(
            gauge_family(
                "node_dmi_info",
                "A metric with a constant '1' value labeled by bios_date, bios_release, bios_vendor, bios_version, \
                 board_asset_tag, board_name, board_serial, board_vendor, board_version, chassis_asset_tag, \
                 chassis_serial, chassis_vendor, chassis_version, product_family, product_name, product_serial, \
                 product_sku, product_uuid, product_version, system_vendor if provided by DMI.",
            )
            .with(&labels, 1.0)
            .into_family(),
        );
        Ok(())
    }
}
