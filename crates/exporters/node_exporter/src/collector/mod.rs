//! The collectors: each reads one part of the host's state through [`Paths`] and appends
//! families with upstream's names, help texts and labels.

mod bcache;
mod btrfs;
mod buddyinfo;
mod cgroups;
mod cpu;
mod cpu_vulnerabilities;
mod dbus;
mod diskstats;
mod drbd;
mod ethtool;
mod fibrechannel;
mod filesystem;
mod hw;
mod hwmon;
mod infiniband;
mod infiniband_hw;
mod interrupts;
mod ipvs;
mod kernel_hung;
mod ksmd;
mod lnstat;
mod logind;
mod mdadm;
mod meminfo;
mod meminfo_numa;
mod mountstats;
mod netclass;
mod netdev;
mod netmisc;
mod nfs;
mod nfsd;
mod powersupply;
mod processes;
mod procfs_simple;
mod slabinfo;
mod softirqs;
mod stat;
mod storage;
mod sysctl;
mod sysfs_simple;
mod sysmisc;
mod systemd;
mod textfile;
mod timex;
mod uname;
mod wifi;
mod xfrm;
mod xfs;
mod zfs;
mod zoneinfo;

use crate::cli::Settings;
use crate::error::{CollectorError, ConfigError};
use crate::metric::Out;

pub use systemd::Extras as SystemdExtras;
pub use textfile::TextfileCollector;

/// One source of metrics. `update` runs once per scrape, possibly concurrently with the other
/// collectors, and appends its families to `out`.
pub trait Collector: Send + Sync {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError>;
}

type Build = fn(&Settings) -> Result<Box<dyn Collector>, ConfigError>;

/// A collector as `--collector.<name>` knows it.
pub struct Registration {
    pub name: &'static str,
    pub default_enabled: bool,
    pub build: Build,
}

macro_rules! registrations {
    ($( $name:literal, $default:expr, $build:path; )*) => {
        /// Every collector, sorted by name, with its upstream default state.
        pub const COLLECTORS: &[Registration] = &[
            $( Registration { name: $name, default_enabled: $default, build: $build }, )*
        ];
    };
}

registrations! {
    "arp", true, netmisc::arp;
    "bcache", true, bcache::build;
    "bonding", true, hw::bonding;
    "btrfs", true, btrfs::build;
    "buddyinfo", false, buddyinfo::build;
    "cgroups", false, cgroups::build;
    "conntrack", true, procfs_simple::conntrack;
    "cpu", true, cpu::build;
    "cpu_vulnerabilities", false, cpu_vulnerabilities::build;
    "cpufreq", true, sysfs_simple::cpufreq;
    "diskstats", true, diskstats::build;
    "dmi", true, hw::dmi;
    "drbd", false, drbd::build;
    "edac", true, sysmisc::edac;
    "entropy", true, procfs_simple::entropy;
    "ethtool", false, ethtool::build;
    "fibrechannel", true, fibrechannel::build;
    "filefd", true, procfs_simple::filefd;
    "filesystem", true, filesystem::build;
    "hwmon", true, hwmon::build;
    "infiniband", true, infiniband::build;
    "interrupts", false, interrupts::build;
    "ipvs", true, ipvs::build;
    "kernel_hung", true, kernel_hung::build;
    "ksmd", false, ksmd::build;
    "lnstat", false, lnstat::build;
    "loadavg", true, procfs_simple::loadavg;
    "logind", false, logind::build;
    "mdadm", true, mdadm::build;
    "meminfo", true, meminfo::build;
    "meminfo_numa", false, meminfo_numa::build;
    "mountstats", false, mountstats::build;
    "netclass", true, netclass::build;
    "netdev", true, netdev::build;
    "netstat", true, netdev::netstat;
    "nfs", true, nfs::build;
    "nfsd", true, nfsd::build;
    "nvme", true, storage::nvme;
    "os", true, uname::os;
    "powersupplyclass", true, powersupply::build;
    "pressure", true, procfs_simple::pressure;
    "processes", false, processes::build;
    "rapl", true, hw::rapl;
    "schedstat", true, sysmisc::schedstat;
    "selinux", true, sysmisc::selinux;
    "slabinfo", false, slabinfo::build;
    "sockstat", true, netdev::sockstat;
    "softirqs", false, softirqs::build;
    "softnet", true, netmisc::softnet;
    "stat", true, stat::build;
    "sysctl", false, sysctl::build;
    "systemd", false, systemd::build;
    "tapestats", true, storage::tapestats;
    "textfile", true, textfile::build;
    "thermal_zone", true, sysfs_simple::thermal_zone;
    "time", true, uname::time;
    "timex", true, timex::build;
    "udp_queues", true, netmisc::udp_queues;
    "uname", true, uname::uname;
    "vmstat", true, meminfo::vmstat;
    "watchdog", true, sysmisc::watchdog;
    "wifi", false, wifi::build;
    "xfrm", false, xfrm::build;
    "xfs", true, xfs::build;
    "zfs", true, zfs::build;
    "zoneinfo", false, zoneinfo::build;
}

/// Looks a collector up by name.
pub fn find(name: &str) -> Option<&'static Registration> {
    COLLECTORS.iter().find(|r| r.name == name)
}
