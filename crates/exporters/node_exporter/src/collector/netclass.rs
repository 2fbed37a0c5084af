//! `netclass`: network interface properties from `/sys/class/net/<iface>` (link state,
//! speed, MTU, carrier changes…).

use std::collections::BTreeMap;
use std::io;
use std::path::Path;

use pm_common::metrics::{ConstFamily, ConstKind};
use regex::Regex;

use crate::cli::{Settings, regex_flag};
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, gauge_family};
use crate::paths::{Paths, parse_go_int, sorted_entries, sys_read};

/// Numeric attributes in upstream's emission order: file, metric suffix, whether a counter.
const NUMERIC: &[(&str, &str, bool)] = &[
    ("addr_assign_type", "address_assign_type", false),
    ("carrier", "carrier", false),
    ("carrier_changes", "carrier_changes_total", true),
    ("carrier_up_count", "carrier_up_changes_total", true),
    ("carrier_down_count", "carrier_down_changes_total", true),
    ("dev_id", "device_id", false),
    ("dormant", "dormant", false),
    ("flags", "flags", false),
    ("ifindex", "iface_id", false),
    ("iflink", "iface_link", false),
    ("link_mode", "iface_link_mode", false),
    ("mtu", "mtu_bytes", false),
    ("name_assign_type", "name_assign_type", false),
    ("netdev_group", "net_dev_group", false),
    ("tx_queue_len", "transmit_queue_length", false),
    ("type", "protocol_type", false),
];

/// `IFF_UP` from `<net/if.h>`.
const IFF_UP: i64 = 1;

struct Netclass {
    paths: Paths,
    ignored: Option<Regex>,
    ignore_invalid_speed: bool,
}

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Netclass {
        paths: s.paths.clone(),
        ignored: regex_flag(
            "collector.netclass.ignored-devices",
            Some(&s.flags.netclass_ignored_devices),
        )?,
        ignore_invalid_speed: s.netclass_ignore_invalid_speed,
    }))
}

/// The errors upstream's sysfs reader skips an attribute for: absent, unreadable or not
/// supported by the driver (a down link's `speed` reads as `EINVAL`).
fn ignorable(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied | io::ErrorKind::InvalidInput
    ) || matches!(e.raw_os_error(), Some(22 | 95))
}

/// The readable attributes of one interface; a number that does not parse reads as 0, as in
/// procfs' value parser.
fn read_iface(dir: &Path) -> Result<BTreeMap<String, String>, CollectorError> {
    let mut attrs = BTreeMap::new();
    for (name, path) in sorted_entries(dir)? {
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if !meta.file_type().is_file() {
            continue;
        }
        match sys_read(&path) {
            Ok(v) => {
                attrs.insert(name, v);
            }
            Err(e) if ignorable(&e) => {}
            Err(e) => return Err(CollectorError::io(path, e)),
        }
    }
    Ok(attrs)
}

fn number(attrs: &BTreeMap<String, String>, key: &str) -> Option<i64> {
    attrs.get(key).map(|v| parse_go_int(v).unwrap_or(0))
}

impl Collector for Netclass {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let root = self.paths.sys("class/net");
        let devices = match sorted_entries(&root) {
            Err(e) if e.is_no_data() => {
                return Err(CollectorError::NoData(
                    "Could not read netclass file".into(),
                ));
            }
            r => r?,
        };
        let mut up = gauge_family(
            "node_network_up",
            "Value is 1 if operstate is 'up', 0 otherwise.",
        );
        let mut info = gauge_family(
            "node_network_info",
            "Non-numeric data from /sys/class/net/<iface>, value is always 1.",
        );
        let family = |suffix: &str, counter: bool| {
            let kind = if counter {
                ConstKind::Counter
            } else {
                ConstKind::Gauge
            };
            ConstFamily::new(
                format!("node_network_{suffix}"),
                format!("Network device property: {suffix}"),
                kind,
            )
        };
        let mut numeric: Vec<ConstFamily> = NUMERIC.iter().map(|(_, s, c)| family(s, *c)).collect();
        let mut speed = family("speed_bytes", false);
        for (device, dir) in devices {
            if std::fs::symlink_metadata(&dir).is_ok_and(|m| m.file_type().is_file()) {
                continue;
            }
            if self.ignored.as_ref().is_some_and(|r| r.is_match(&device)) {
                continue;
            }
            let attrs = read_iface(&dir)?;
            let text = |k: &str| attrs.get(k).map_or("", String::as_str);
            let labels = [("device", device.as_str())];
            let operstate = text("operstate");
            up.push(&labels, if operstate == "up" { 1.0 } else { 0.0 });
            let admin = match number(&attrs, "flags") {
                None => "unknown",
                Some(f) if f & IFF_UP == 1 => "up",
                Some(_) => "down",
            };
            info.push(
                &[
                    ("device", &device),
                    ("address", text("address")),
                    ("broadcast", text("broadcast")),
                    ("duplex", text("duplex")),
                    ("operstate", operstate),
                    ("adminstate", admin),
                    ("ifalias", text("ifalias")),
                ],
                1.0,
            );
            for (fam, (file, _, _)) in numeric.iter_mut().zip(NUMERIC) {
                if let Some(v) = number(&attrs, file) {
                    fam.push(&labels, v as f64);
                }
            }
            if let Some(mbit) = number(&attrs, "speed")
                && (mbit >= 0 || !self.ignore_invalid_speed)
            {
                speed.push(&labels, (mbit.wrapping_mul(1_000_000) / 8) as f64);
            }
        }
        out.push(up.into_family());
        out.push(info.into_family());
        out.extend(numeric.into_iter().map(ConstFamily::into_family));
        out.push(speed.into_family());
        Ok(())
    }
}
