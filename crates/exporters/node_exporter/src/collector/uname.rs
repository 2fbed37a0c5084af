//! `uname`, `os` (os-release) and `time` (clock and clock sources).

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::cli::Settings;
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, gauge, gauge_family};
use crate::paths::{Paths, read, read_trimmed, sorted_entries};

struct Uname;

pub fn uname(_: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Uname))
}

impl Collector for Uname {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let u = rustix::system::uname();
        let s = |c: &std::ffi::CStr| c.to_string_lossy().into_owned();
        let nodename = s(u.nodename());
        out.push(
            gauge_family(
                "node_uname_info",
                "Labeled system information as provided by the uname system call.",
            )
            .with(
                &[
                    ("sysname", &s(u.sysname())),
                    ("release", &s(u.release())),
                    ("version", &s(u.version())),
                    ("machine", &s(u.machine())),
                    ("nodename", &nodename),
                    ("domainname", &s(u.domainname())),
                ],
                1.0,
            )
            .into_family(),
        );
        Ok(())
    }
}

struct Os(Paths);

pub fn os(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Os(s.paths.clone())))
}

/// An os-release file: `KEY=value` lines, values optionally quoted.
fn parse_os_release(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| {
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                .unwrap_or(v);
            (
                k.trim().to_owned(),
                v.replace("\\\"", "\"").replace("\\$", "$"),
            )
        })
        .collect()
}

/// The leading `major.minor` of a version, as a number.
fn version_number(v: &str) -> Option<f64> {
    let end = v
        .char_indices()
        .scan(false, |dot, (i, c)| {
            if c.is_ascii_digit() {
                Some(i + 1)
            } else if c == '.' && !*dot {
                *dot = true;
                Some(i + 1)
            } else {
                None
            }
        })
        .last()?;
    v[..end].trim_end_matches('.').parse().ok()
}

impl Collector for Os {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let mut found = None;
        for candidate in ["/etc/os-release", "/usr/lib/os-release"] {
            if let Ok(text) = std::fs::read_to_string(self.0.root(candidate)) {
                found = Some(text);
                break;
            }
        }
        let text = found.ok_or_else(|| {
            CollectorError::NoData("no os-release file in /etc or /usr/lib".into())
        })?;
        let r = parse_os_release(&text);
        let get = |k: &str| r.get(k).map(String::as_str).unwrap_or("");
        out.push(
            gauge_family(
                "node_os_info",
                "A metric with a constant '1' value labeled by build_id, id, id_like, image_id, image_version, name, pretty_name, variant, variant_id, version, version_codename, version_id.",
            )
            .with(
                &[
                    ("build_id", get("BUILD_ID")),
                    ("id", get("ID")),
                    ("id_like", get("ID_LIKE")),
                    ("image_id", get("IMAGE_ID")),
                    ("image_version", get("IMAGE_VERSION")),
                    ("name", get("NAME")),
                    ("pretty_name", get("PRETTY_NAME")),
                    ("variant", get("VARIANT")),
                    ("variant_id", get("VARIANT_ID")),
                    ("version", get("VERSION")),
                    ("version_codename", get("VERSION_CODENAME")),
                    ("version_id", get("VERSION_ID")),
                ],
                1.0,
            )
            .into_family(),
        );
        if let Some(v) = version_number(get("VERSION_ID")) {
            out.push(
                gauge_family(
                    "node_os_version",
                    "Metric containing the major.minor part of the OS version.",
                )
                .with(
                    &[
                        ("id", get("ID")),
                        ("id_like", get("ID_LIKE")),
                        ("name", get("NAME")),
                    ],
                    v,
                )
                .into_family(),
            );
        }
        Ok(())
    }
}

/// The local time zone is resolved once, as Go's `time.Local` is: `TZ`, else /etc/localtime,
/// else UTC.
struct Time(Paths, jiff::tz::TimeZone);

pub fn time(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(Time(
        s.paths.clone(),
        jiff::tz::TimeZone::system(),
    )))
}

impl Collector for Time {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        gauge(
            out,
            "node_time_seconds",
            "System time in seconds since epoch (1970).",
            now,
        );
        let info = self.1.to_offset_info(jiff::Timestamp::now());
        out.push(
            gauge_family(
                "node_time_zone_offset_seconds",
                "System time zone offset in seconds.",
            )
            .with(
                &[("time_zone", info.abbreviation())],
                f64::from(info.offset().seconds()),
            )
            .into_family(),
        );
        let dir = self.0.sys("devices/system/clocksource");
        let Ok(entries) = sorted_entries(&dir) else {
            return Ok(());
        };
        let mut available = gauge_family(
            "node_time_clocksource_available_info",
            "Available clocksources read from '/sys/devices/system/clocksource'.",
        );
        let mut current = gauge_family(
            "node_time_clocksource_current_info",
            "Current clocksource read from '/sys/devices/system/clocksource'.",
        );
        for (name, path) in entries {
            let Some(device) = name.strip_prefix("clocksource") else {
                continue;
            };
            for source in read(&path.join("available_clocksource"))?.split_whitespace() {
                available.push(&[("device", device), ("clocksource", source)], 1.0);
            }
            let cur = read_trimmed(&path.join("current_clocksource"))?;
            current.push(&[("device", device), ("clocksource", &cur)], 1.0);
        }
        out.push(available.into_family());
        out.push(current.into_family());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release_values_and_versions() {
        let r = parse_os_release("NAME=\"Ubuntu\"\nID=ubuntu\n# x=y\nVERSION_ID='20.04'\n");
        assert_eq!(r["NAME"], "Ubuntu");
        assert_eq!(r["VERSION_ID"], "20.04");
        assert!(!r.contains_key("# x"));
        assert_eq!(version_number("20.04"), Some(20.04));
        assert_eq!(version_number("12"), Some(12.0));
        assert_eq!(version_number("3.18.4"), Some(3.18));
        assert_eq!(version_number("rolling"), None);
    }
}
