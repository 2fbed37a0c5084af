//! `systemd`: unit states, the manager's version and state, and per-unit service, socket,
//! timer and task figures, asked of systemd over D-Bus (off by default, as upstream).

mod query;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::cli::Settings;
use crate::collector::Collector;
use crate::collector::dbus::Bus;
use crate::error::{CollectorError, ConfigError};
use crate::metric::Out;

/// The `ActiveState`s every unit is reported in, one sample each.
pub const UNIT_STATES: [&str; 5] = ["active", "activating", "deactivating", "inactive", "failed"];

/// The oldest systemd with the `SystemState` manager property and timers' `LastTriggerUSec`.
const MIN_VERSION_SYSTEM_STATE: f64 = 212.0;

pub const DEFAULT_UNIT_INCLUDE: &str = ".+";
pub const DEFAULT_UNIT_EXCLUDE: &str = r".+\.(automount|device|mount|scope|slice)";

/// What to report beyond the unit states (upstream's `--collector.systemd.enable-*`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Extras {
    pub tasks: bool,
    pub restarts: bool,
    pub start_time: bool,
}

struct SystemdCollector {
    bus: Bus,
    include: Regex,
    exclude: Regex,
    extras: Extras,
}

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    let f = &s.flags;
    let include = renamed_flag(
        (
            "collector.systemd.unit-include",
            f.systemd_unit_include.as_deref(),
        ),
        (
            "collector.systemd.unit-whitelist",
            f.systemd_unit_whitelist.as_deref(),
        ),
    )?
    .unwrap_or(DEFAULT_UNIT_INCLUDE);
    let exclude = renamed_flag(
        (
            "collector.systemd.unit-exclude",
            f.systemd_unit_exclude.as_deref(),
        ),
        (
            "collector.systemd.unit-blacklist",
            f.systemd_unit_blacklist.as_deref(),
        ),
    )?
    .unwrap_or(DEFAULT_UNIT_EXCLUDE);
    Ok(Box::new(SystemdCollector {
        bus: Bus::new("collector.systemd")?,
        include: anchored("collector.systemd.unit-include", include)?,
        exclude: anchored("collector.systemd.unit-exclude", exclude)?,
        extras: s.systemd_extras,
    }))
}

/// A flag and the deprecated name it replaced: either may be given, not both.
fn renamed_flag<'a>(
    current: (&'static str, Option<&'a str>),
    old: (&'static str, Option<&'a str>),
) -> Result<Option<&'a str>, ConfigError> {
    match (current.1, old.1.filter(|o| !o.is_empty())) {
        (Some(_), Some(_)) => Err(ConfigError::Invalid {
            flag: old.0,
            reason: format!("--{} and --{} are mutually exclusive", old.0, current.0),
        }),
        (Some(v), None) => Ok(Some(v)),
        (None, Some(v)) => {
            tracing::warn!("--{} is DEPRECATED, use --{}", old.0, current.0);
            Ok(Some(v))
        }
        (None, None) => Ok(None),
    }
}

/// Upstream matches unit names against the whole pattern.
fn anchored(flag: &'static str, pattern: &str) -> Result<Regex, ConfigError> {
    Regex::new(&format!("^(?:{pattern})$")).map_err(|source| ConfigError::Regex {
        flag,
        pattern: pattern.to_owned(),
        source,
    })
}

impl Collector for SystemdCollector {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        self.bus.run(query::collect(self, out))
    }
}

/// One row of the manager's `ListUnits`.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    pub name: String,
    pub load_state: String,
    pub active_state: String,
}

/// Units per active state over every listed unit: the five known states always, plus any
/// other state a unit is in.
fn summarize(units: &[Unit]) -> BTreeMap<&str, f64> {
    let mut counts: BTreeMap<&str, f64> = UNIT_STATES.iter().map(|s| (*s, 0.0)).collect();
    for u in units {
        *counts.entry(u.active_state.as_str()).or_default() += 1.0;
    }
    counts
}

/// The loaded units the include pattern matches and the exclude pattern does not.
fn filter<'a>(units: &'a [Unit], include: &Regex, exclude: &Regex) -> Vec<&'a Unit> {
    units
        .iter()
        .filter(|u| {
            include.is_match(&u.name) && !exclude.is_match(&u.name) && u.load_state == "loaded"
        })
        .collect()
}

/// The manager's `Version` as a number (`252.19` of `252.19-1~deb12u1`) and the full string;
/// `(0, "")` when it holds no version.
fn parse_version(version: &str) -> (f64, String) {
    static NUMBER: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"[0-9]{3,}(\.[0-9]+)?").expect("valid regex"));
    NUMBER
        .find(version)
        .and_then(|m| m.as_str().parse().ok())
        .map_or((0.0, String::new()), |v| (v, version.to_owned()))
}

/// A unit's object path: its name with every byte that is not an ASCII letter or digit (and a
/// leading digit) written as `_xx`, as systemd's bus path escaping does.
pub fn unit_path(name: &str) -> String {
    let mut path = String::from("/org/freedesktop/systemd1/unit/");
    if name.is_empty() {
        path.push('_');
    }
    for (i, b) in name.bytes().enumerate() {
        if b.is_ascii_alphabetic() || (b.is_ascii_digit() && i > 0) {
            path.push(b as char);
        } else {
            path.push_str(&format!("_{b:02x}"));
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(name: &str, load: &str, active: &str) -> Unit {
        Unit {
            name: name.into(),
            load_state: load.into(),
            active_state: active.into(),
        }
    }

    #[test]
    fn paths_escape_as_systemd() {
        assert_eq!(
            unit_path("ssh.service"),
            "/org/freedesktop/systemd1/unit/ssh_2eservice"
        );
        assert_eq!(
            unit_path("1a-b@x.timer"),
            "/org/freedesktop/systemd1/unit/_31a_2db_40x_2etimer"
        );
    }

    #[test]
    fn versions() {
        assert_eq!(
            parse_version("252.19-1~deb12u1"),
            (252.19, "252.19-1~deb12u1".to_owned())
        );
        assert_eq!(parse_version("v245"), (245.0, "v245".to_owned()));
        assert_eq!(parse_version("unknown"), (0.0, String::new()));
    }

    #[test]
    fn summary_counts_every_unit_and_filter_keeps_loaded_matches() {
        let units = [
            unit("a.service", "loaded", "active"),
            unit("b.service", "not-found", "inactive"),
            unit("c.mount", "loaded", "active"),
            unit("d.service", "loaded", "reloading"),
        ];
        let s = summarize(&units);
        assert_eq!(s["active"], 2.0);
        assert_eq!(s["inactive"], 1.0);
        assert_eq!(s["failed"], 0.0);
        assert_eq!(s["reloading"], 1.0);
        let include = anchored("i", DEFAULT_UNIT_INCLUDE).unwrap();
        let exclude = anchored("e", DEFAULT_UNIT_EXCLUDE).unwrap();
        let names: Vec<_> = filter(&units, &include, &exclude)
            .iter()
            .map(|u| u.name.as_str())
            .collect();
        assert_eq!(names, ["a.service", "d.service"]);
        let only_a = anchored("i", "a").unwrap();
        assert!(filter(&units, &only_a, &exclude).is_empty());
    }

    #[test]
    fn renamed_flags_are_exclusive() {
        assert_eq!(
            renamed_flag(("new", None), ("old", Some("x"))).unwrap(),
            Some("x")
        );
        assert_eq!(
            renamed_flag(("new", None), ("old", Some(""))).unwrap(),
            None
        );
        assert!(renamed_flag(("new", Some("y")), ("old", Some("x"))).is_err());
    }
}
