//! Command-line flags, with upstream's names and defaults.
//!
//! Kingpin gives every boolean flag a `--no-` twin and lets the last one given win; the
//! `--collector.<name>` switches and the boolean collector options are added to the clap
//! command from tables so each has both spellings.

use std::collections::BTreeSet;
use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, Command, CommandFactory, FromArgMatches, Parser};
use pm_common::log::LogFlags;
use pm_common::web::{DefaultListenAddress, WebFlags};
use regex::{Regex, RegexBuilder};

use crate::collector::{COLLECTORS, SystemdExtras};
use crate::error::ConfigError;
use crate::paths::Paths;

/// `--web.listen-address` defaults to `:9100`.
#[derive(Debug, Clone, Copy)]
pub struct NodeExporterPort;

impl DefaultListenAddress for NodeExporterPort {
    const ADDRESS: &'static str = ":9100";
}

/// The flags that take a value.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "node_exporter",
    version,
    about = "Prometheus exporter for machine metrics"
)]
pub struct ValueFlags {
    /// procfs mountpoint.
    #[arg(long = "path.procfs", default_value = "/proc")]
    pub procfs: PathBuf,
    /// sysfs mountpoint.
    #[arg(long = "path.sysfs", default_value = "/sys")]
    pub sysfs: PathBuf,
    /// rootfs mountpoint.
    #[arg(long = "path.rootfs", default_value = "/")]
    pub rootfs: PathBuf,
    /// udev data path.
    #[arg(long = "path.udev.data", default_value = "/run/udev/data")]
    pub udev_data: PathBuf,

    /// Path under which to expose metrics.
    #[arg(long = "web.telemetry-path", default_value = "/metrics")]
    pub telemetry_path: String,
    /// Maximum number of parallel scrape requests. Use 0 to disable.
    #[arg(long = "web.max-requests", default_value_t = 40)]
    pub max_requests: usize,
    #[command(flatten)]
    pub web: WebFlags<NodeExporterPort>,
    #[command(flatten)]
    pub log: LogFlags,

    /// Regexp of arp devices to include (mutually exclusive to device-exclude).
    #[arg(long = "collector.arp.device-include")]
    pub arp_device_include: Option<String>,
    /// Regexp of arp devices to exclude (mutually exclusive to device-include).
    #[arg(long = "collector.arp.device-exclude")]
    pub arp_device_exclude: Option<String>,

    /// Regexp of `flags` field in cpu info to filter.
    #[arg(long = "collector.cpu.info.flags-include")]
    pub cpu_flags_include: Option<String>,
    /// Regexp of `bugs` field in cpu info to filter.
    #[arg(long = "collector.cpu.info.bugs-include")]
    pub cpu_bugs_include: Option<String>,

    /// Regexp of diskstats devices to exclude (mutually exclusive to device-include).
    #[arg(long = "collector.diskstats.device-exclude")]
    pub diskstats_device_exclude: Option<String>,
    /// Regexp of diskstats devices to include (mutually exclusive to device-exclude).
    #[arg(long = "collector.diskstats.device-include")]
    pub diskstats_device_include: Option<String>,

    /// Regexp of ethtool devices to include (mutually exclusive to device-exclude).
    #[arg(long = "collector.ethtool.device-include")]
    pub ethtool_device_include: Option<String>,
    /// Regexp of ethtool devices to exclude (mutually exclusive to device-include).
    #[arg(long = "collector.ethtool.device-exclude")]
    pub ethtool_device_exclude: Option<String>,
    /// Regexp of ethtool stats to include.
    #[arg(long = "collector.ethtool.metrics-include", default_value = ".*")]
    pub ethtool_metrics_include: String,

    /// Regexp of mount points to exclude for filesystem collector.
    #[arg(long = "collector.filesystem.mount-points-exclude")]
    pub fs_mount_points_exclude: Option<String>,
    /// Regexp of mount points to include for filesystem collector (mutually exclusive to mount-points-exclude).
    #[arg(long = "collector.filesystem.mount-points-include")]
    pub fs_mount_points_include: Option<String>,
    /// Regexp of filesystem types to exclude for filesystem collector.
    #[arg(long = "collector.filesystem.fs-types-exclude")]
    pub fs_types_exclude: Option<String>,
    /// Regexp of filesystem types to include for filesystem collector (mutually exclusive to fs-types-exclude).
    #[arg(long = "collector.filesystem.fs-types-include")]
    pub fs_types_include: Option<String>,
    /// How long to wait for a mount to respond before marking it as stale.
    #[arg(
        long = "collector.filesystem.mount-timeout",
        default_value = "5s",
        hide = true
    )]
    pub fs_mount_timeout: pm_common::config::Duration,

    /// Regexp of hwmon chip to include (mutually exclusive to device-exclude).
    #[arg(long = "collector.hwmon.chip-include")]
    pub hwmon_chip_include: Option<String>,
    /// Regexp of hwmon chip to exclude (mutually exclusive to device-include).
    #[arg(long = "collector.hwmon.chip-exclude")]
    pub hwmon_chip_exclude: Option<String>,
    /// Regexp of hwmon sensor to include (mutually exclusive to sensor-exclude).
    #[arg(long = "collector.hwmon.sensor-include")]
    pub hwmon_sensor_include: Option<String>,
    /// Regexp of hwmon sensor to exclude (mutually exclusive to sensor-include).
    #[arg(long = "collector.hwmon.sensor-exclude")]
    pub hwmon_sensor_exclude: Option<String>,

    /// Comma separated list for IPVS backend stats labels.
    #[arg(
        long = "collector.ipvs.backend-labels",
        default_value = "local_address,local_port,remote_address,remote_port,proto,local_mark"
    )]
    pub ipvs_backend_labels: String,

    /// Regexp of infiniband devices to include (mutually exclusive to device-exclude).
    #[arg(long = "collector.infiniband.device-include")]
    pub infiniband_device_include: Option<String>,
    /// Regexp of infiniband devices to exclude (mutually exclusive to device-include).
    #[arg(long = "collector.infiniband.device-exclude")]
    pub infiniband_device_exclude: Option<String>,

    /// Regexp of interrupts name to include (mutually exclusive to --collector.interrupts.name-exclude).
    #[arg(long = "collector.interrupts.name-include")]
    pub interrupts_name_include: Option<String>,
    /// Regexp of interrupts name to exclude (mutually exclusive to --collector.interrupts.name-include).
    #[arg(long = "collector.interrupts.name-exclude")]
    pub interrupts_name_exclude: Option<String>,

    /// Regexp of net devices to ignore for netclass collector.
    #[arg(long = "collector.netclass.ignored-devices", default_value = "^$")]
    pub netclass_ignored_devices: String,

    /// Regexp of power supplies to ignore for powersupplyclass collector.
    #[arg(long = "collector.powersupply.ignored-supplies", default_value = "^$")]
    pub powersupply_ignored: String,

    /// Regexp of slabs to include in slabinfo collector.
    #[arg(long = "collector.slabinfo.slabs-include", default_value = ".*")]
    pub slabinfo_slabs_include: String,
    /// Regexp of slabs to exclude in slabinfo collector.
    #[arg(long = "collector.slabinfo.slabs-exclude", default_value = "")]
    pub slabinfo_slabs_exclude: String,

    /// Select sysctl metrics to include (repeatable).
    #[arg(long = "collector.sysctl.include")]
    pub sysctl_include: Vec<String>,
    /// Select sysctl metrics to include as info metrics (repeatable).
    #[arg(long = "collector.sysctl.include-info")]
    pub sysctl_include_info: Vec<String>,

    /// Regexp of systemd units to include. Units must both match include and not match exclude to be included. [default: .+]
    #[arg(long = "collector.systemd.unit-include")]
    pub systemd_unit_include: Option<String>,
    /// DEPRECATED: Use --collector.systemd.unit-include
    #[arg(long = "collector.systemd.unit-whitelist", hide = true)]
    pub systemd_unit_whitelist: Option<String>,
    /// Regexp of systemd units to exclude. Units must both match include and not match exclude to be included. [default: .+\.(automount|device|mount|scope|slice)]
    #[arg(long = "collector.systemd.unit-exclude")]
    pub systemd_unit_exclude: Option<String>,
    /// DEPRECATED: Use collector.systemd.unit-exclude
    #[arg(long = "collector.systemd.unit-blacklist", hide = true)]
    pub systemd_unit_blacklist: Option<String>,

    /// Regexp of devices to ignore for tapestats.
    #[arg(long = "collector.tapestats.ignored-devices", default_value = "^$")]
    pub tapestats_ignored: String,

    /// Regexp of net devices to exclude (mutually exclusive to device-include).
    #[arg(long = "collector.netdev.device-exclude")]
    pub netdev_device_exclude: Option<String>,
    /// Regexp of net devices to include (mutually exclusive to device-exclude).
    #[arg(long = "collector.netdev.device-include")]
    pub netdev_device_include: Option<String>,

    /// Regexp of fields to return for netstat collector.
    #[arg(
        long = "collector.netstat.fields",
        default_value = r"^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts|TCPOFOQueue|TCPRcvQDrop)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$"
    )]
    pub netstat_fields: String,

    /// Regexp of fields to return for vmstat collector.
    #[arg(
        long = "collector.vmstat.fields",
        default_value = r"^(oom_kill|pgpg|pswp|pg.*fault).*"
    )]
    pub vmstat_fields: String,

    /// Directory to read text files with metrics from (repeatable).
    #[arg(long = "collector.textfile.directory")]
    pub textfile_directories: Vec<PathBuf>,

    /// test fixtures to use for wifi collector metrics
    #[arg(long = "collector.wifi.fixtures", default_value = "")]
    pub wifi_fixtures: String,
}

/// A boolean flag with its `--no-` twin.
struct Switch {
    name: &'static str,
    default: bool,
    help: &'static str,
}

const SWITCHES: &[Switch] = &[
    Switch {
        name: "collector.disable-defaults",
        default: false,
        help: "Set all collectors to disabled by default.",
    },
    Switch {
        name: "web.disable-exporter-metrics",
        default: false,
        help: "Exclude metrics about the exporter itself (promhttp_*, process_*, go_*).",
    },
    Switch {
        name: "collector.arp.netlink",
        default: true,
        help: "Use netlink to gather stats instead of /proc/net/arp (both list the same entries; /proc/net/arp is read).",
    },
    Switch {
        name: "collector.bcache.priorityStats",
        default: false,
        help: "Expose expensive priority stats.",
    },
    Switch {
        name: "collector.cpu.guest",
        default: true,
        help: "Enables metric node_cpu_guest_seconds_total",
    },
    Switch {
        name: "collector.cpu.info",
        default: false,
        help: "Enables metric cpu_info",
    },
    Switch {
        name: "collector.interrupts.include-zeros",
        default: true,
        help: "Include interrupts that have a zero value",
    },
    Switch {
        name: "collector.netclass.ignore-invalid-speed",
        default: false,
        help: "Ignore devices where the speed is invalid. This will be the default behavior in 2.x.",
    },
    Switch {
        name: "collector.netdev.netlink",
        default: true,
        help: "Use netlink to gather stats instead of /proc/net/dev.",
    },
    Switch {
        name: "collector.rapl.enable-zone-label",
        default: false,
        help: "Enables service unit metric unit_start_time_seconds",
    },
    Switch {
        name: "collector.systemd.enable-task-metrics",
        default: false,
        help: "Enables service unit tasks metrics unit_tasks_current and unit_tasks_max",
    },
    Switch {
        name: "collector.systemd.enable-restarts-metrics",
        default: false,
        help: "Enables service unit metric service_restart_total",
    },
    Switch {
        name: "collector.systemd.enable-start-time-metrics",
        default: false,
        help: "Enables service unit metric unit_start_time_seconds",
    },
    Switch {
        name: "collector.stat.softirq",
        default: false,
        help: "Export softirq calls per vector",
    },
];

/// Everything the collectors and the server need, resolved from the flags.
#[derive(Debug, Clone)]
pub struct Settings {
    pub paths: Paths,
    pub flags: ValueFlags,
    pub enabled: BTreeSet<&'static str>,
    pub disable_exporter_metrics: bool,
    pub bcache_priority_stats: bool,
    pub cpu_guest: bool,
    pub cpu_info: bool,
    pub stat_softirq: bool,
    pub netdev_netlink: bool,
    pub netclass_ignore_invalid_speed: bool,
    pub rapl_zone_label: bool,
    pub interrupts_include_zeros: bool,
    pub systemd_extras: SystemdExtras,
}

impl Settings {
    /// Settings with every default, reading from `paths` (tests, embedding).
    pub fn with_paths(paths: Paths) -> Self {
        let mut s = parse_from(["node_exporter"]).expect("the defaults parse");
        s.flags.procfs = paths.procfs.clone();
        s.flags.sysfs = paths.sysfs.clone();
        s.flags.rootfs = paths.rootfs.clone();
        s.flags.udev_data = paths.udev_data.clone();
        s.paths = paths;
        s
    }
}

/// The full clap command: the derived value flags plus the switches and collector toggles.
pub fn command() -> Command {
    let mut cmd = ValueFlags::command();
    for s in SWITCHES {
        cmd = add_switch(cmd, s.name.to_owned(), s.help.to_owned(), s.default);
    }
    for c in COLLECTORS {
        let help = format!(
            "Enable the {} collector (default: {}).",
            c.name,
            if c.default_enabled {
                "enabled"
            } else {
                "disabled"
            }
        );
        cmd = add_switch(
            cmd,
            format!("collector.{}", c.name),
            help,
            c.default_enabled,
        );
    }
    cmd
}

fn add_switch(cmd: Command, name: String, help: String, default: bool) -> Command {
    let no = format!("no-{name}");
    cmd.arg(
        Arg::new(name.clone())
            .long(name.clone())
            .help(format!("{help} [default: {default}]"))
            .action(ArgAction::SetTrue)
            .overrides_with(no.clone()),
    )
    .arg(
        Arg::new(no.clone())
            .long(no)
            .hide(true)
            .action(ArgAction::SetTrue)
            .overrides_with(name),
    )
}

/// The value of a switch: the last of `--name` / `--no-name` given, else `default`.
fn switch(m: &ArgMatches, name: &str, default: bool) -> bool {
    let no = format!("no-{name}");
    if m.get_flag(name) {
        true
    } else if m.get_flag(&no) {
        false
    } else {
        default
    }
}

/// Parses the command line.
pub fn parse_from<I, T>(args: I) -> Result<Settings, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let m = command().try_get_matches_from(args)?;
    let flags = ValueFlags::from_arg_matches(&m)?;
    let disable_defaults = switch(&m, "collector.disable-defaults", false);
    let enabled = COLLECTORS
        .iter()
        .filter(|c| {
            let default = c.default_enabled && !disable_defaults;
            switch(&m, &format!("collector.{}", c.name), default)
        })
        .map(|c| c.name)
        .collect();
    Ok(Settings {
        paths: Paths {
            procfs: flags.procfs.clone(),
            sysfs: flags.sysfs.clone(),
            rootfs: flags.rootfs.clone(),
            udev_data: flags.udev_data.clone(),
        },
        enabled,
        disable_exporter_metrics: switch(&m, "web.disable-exporter-metrics", false),
        bcache_priority_stats: switch(&m, "collector.bcache.priorityStats", false),
        cpu_guest: switch(&m, "collector.cpu.guest", true),
        cpu_info: switch(&m, "collector.cpu.info", false),
        stat_softirq: switch(&m, "collector.stat.softirq", false),
        netdev_netlink: switch(&m, "collector.netdev.netlink", true),
        rapl_zone_label: switch(&m, "collector.rapl.enable-zone-label", false),
        netclass_ignore_invalid_speed: switch(&m, "collector.netclass.ignore-invalid-speed", false),
        interrupts_include_zeros: switch(&m, "collector.interrupts.include-zeros", true),
        systemd_extras: SystemdExtras {
            tasks: switch(&m, "collector.systemd.enable-task-metrics", false),
            restarts: switch(&m, "collector.systemd.enable-restarts-metrics", false),
            start_time: switch(&m, "collector.systemd.enable-start-time-metrics", false),
        },
        flags,
    })
}

/// Bound on each filter regex's lazy-DFA cache. The filters match short names (devices,
/// mount points, counters), which touch few states; with the crate's default (2 MiB) the
/// cache of every thread that ever matched a busy pattern stayed resident (~0.6 MiB each for
/// the netstat fields).
const FILTER_DFA_CACHE: usize = 64 << 10;

/// Compiles an optional regex flag.
pub fn regex_flag(flag: &'static str, pattern: Option<&str>) -> Result<Option<Regex>, ConfigError> {
    pattern
        .filter(|p| !p.is_empty())
        .map(|p| {
            RegexBuilder::new(p)
                .dfa_size_limit(FILTER_DFA_CACHE)
                .build()
                .map_err(|source| ConfigError::Regex {
                    flag,
                    pattern: p.to_owned(),
                    source,
                })
        })
        .transpose()
}

/// An include/exclude pair of regex flags, which upstream allows one of at a time.
#[derive(Debug, Clone, Default)]
pub struct DeviceFilter {
    include: Option<Regex>,
    exclude: Option<Regex>,
}

impl DeviceFilter {
    pub fn new(
        include: (&'static str, Option<&str>),
        exclude: (&'static str, Option<&str>),
    ) -> Result<Self, ConfigError> {
        let include_re = regex_flag(include.0, include.1)?;
        let exclude_re = regex_flag(exclude.0, exclude.1)?;
        if include_re.is_some() && exclude_re.is_some() {
            return Err(ConfigError::Invalid {
                flag: include.0,
                reason: format!("--{} and --{} are mutually exclusive", include.0, exclude.0),
            });
        }
        Ok(Self {
            include: include_re,
            exclude: exclude_re,
        })
    }

    /// Both patterns at once, for the flags upstream does not make mutually exclusive
    /// (hwmon's chip and sensor filters).
    pub fn combined(
        include: (&'static str, Option<&str>),
        exclude: (&'static str, Option<&str>),
    ) -> Result<Self, ConfigError> {
        Ok(Self {
            include: regex_flag(include.0, include.1)?,
            exclude: regex_flag(exclude.0, exclude.1)?,
        })
    }

    pub fn ignored(&self, name: &str) -> bool {
        self.exclude.as_ref().is_some_and(|r| r.is_match(name))
            || self.include.as_ref().is_some_and(|r| !r.is_match(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_switch_wins_and_defaults_apply() {
        let s = parse_from(["ne", "--no-collector.cpu", "--collector.cpu"]).unwrap();
        assert!(s.enabled.contains("cpu"));
        let s = parse_from(["ne", "--collector.cpu", "--no-collector.cpu"]).unwrap();
        assert!(!s.enabled.contains("cpu"));
        assert!(s.enabled.contains("meminfo"));
        let s = parse_from(["ne", "--collector.disable-defaults", "--collector.loadavg"]).unwrap();
        assert_eq!(s.enabled.iter().copied().collect::<Vec<_>>(), ["loadavg"]);
        assert!(s.cpu_guest);
        assert!(
            !parse_from(["ne", "--no-collector.cpu.guest"])
                .unwrap()
                .cpu_guest
        );
        assert!(parse_from(["ne", "--collector.nope"]).is_err());
    }

    #[test]
    fn device_filter() {
        let f = DeviceFilter::new(("i", Some("^lo$")), ("e", None)).unwrap();
        assert!(!f.ignored("lo"));
        assert!(f.ignored("eth0"));
        assert!(DeviceFilter::new(("i", Some("a")), ("e", Some("b"))).is_err());
    }
}
