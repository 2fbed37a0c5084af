//! The collectors: each reads one part of the host's state through [`Paths`] and appends
//! families with upstream's names, help texts and labels.

mod bcache;
mod btrfs;
mod cpu;
mod diskstats;
mod fibrechannel;
mod filesystem;
mod hw;
mod hwmon;
mod infiniband;
mod ipvs;
mod mdadm;
mod meminfo;
mod netclass;
mod netdev;
mod netmisc;
mod nfs;
mod nfsd;
mod powersupply;
mod procfs_simple;
mod stat;
mod storage;
mod sysfs_simple;
mod sysmisc;
mod textfile;
mod uname;
mod xfs;
mod zfs;

use crate::cli::Settings;
use crate::error::{CollectorError, ConfigError};
use crate::metric::Out;

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
    "conntrack", true, procfs_simple::conntrack;
    "cpu", true, cpu::build;
    "cpufreq", true, sysfs_simple::cpufreq;
    "diskstats", true, diskstats::build;
    "dmi", true, hw::dmi;
    "edac", true, sysmisc::edac;
    "entropy", true, procfs_simple::entropy;
    "fibrechannel", true, fibrechannel::build;
    "filefd", true, procfs_simple::filefd;
    "filesystem", true, filesystem::build;
    "hwmon", true, hwmon::build;
    "infiniband", true, infiniband::build;
    "ipvs", true, ipvs::build;
    "loadavg", true, procfs_simple::loadavg;
    "mdadm", true, mdadm::build;
    "meminfo", true, meminfo::build;
    "netclass", true, netclass::build;
    "netdev", true, netdev::build;
    "netstat", true, netdev::netstat;
    "nfs", true, nfs::build;
    "nfsd", true, nfsd::build;
    "nvme", true, storage::nvme;
    "os", true, uname::os;
    "powersupplyclass", true, powersupply::build;
    "pressure", true, procfs_simple::pressure;
    "rapl", true, hw::rapl;
    "schedstat", true, sysmisc::schedstat;
    "selinux", true, sysmisc::selinux;
    "sockstat", true, netdev::sockstat;
    "softnet", true, netmisc::softnet;
    "stat", true, stat::build;
    "tapestats", true, storage::tapestats;
    "textfile", true, textfile::build;
    "thermal_zone", true, sysfs_simple::thermal_zone;
    "time", true, uname::time;
    "udp_queues", true, netmisc::udp_queues;
    "uname", true, uname::uname;
    "vmstat", true, meminfo::vmstat;
    "watchdog", true, sysmisc::watchdog;
    "xfs", true, xfs::build;
    "zfs", true, zfs::build;
}

/// Looks a collector up by name.
pub fn find(name: &str) -> Option<&'static Registration> {
    COLLECTORS.iter().find(|r| r.name == name)
}
