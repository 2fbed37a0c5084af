//! `filesystem`: space and inode usage of every mounted file system, from the mount table of
//! PID 1 (the host's, also inside a container) and `statfs(2)` on each mount point.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::cli::{DeviceFilter, Settings};
use crate::collector::Collector;
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, gauge_family};
use crate::paths::{Paths, to_valid_utf8};

const DEFAULT_MOUNT_POINTS_EXCLUDE: &str =
    r"^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)";
const DEFAULT_FS_TYPES_EXCLUDE: &str = r"^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|erofs|sysfs|tracefs)$";

struct Filesystem {
    paths: Paths,
    mount_points: DeviceFilter,
    fs_types: DeviceFilter,
    mount_timeout: Duration,
    /// Mount points whose `statfs` is under way, with its start: one still running after
    /// `mount_timeout` (a hung NFS server) is reported as an error instead of being waited on
    /// again by the next scrapes.
    in_flight: Mutex<HashMap<String, Instant>>,
}

/// The exclude pattern in force: the flag, else none when the include flag is used, else the
/// default.
fn exclude<'a>(
    flag: Option<&'a str>,
    include: Option<&str>,
    default: &'static str,
) -> Option<&'a str> {
    flag.or(match include {
        Some(i) if !i.is_empty() => None,
        _ => Some(default),
    })
}

pub fn build(s: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    let f = &s.flags;
    let mp_include = f.fs_mount_points_include.as_deref();
    let fs_include = f.fs_types_include.as_deref();
    Ok(Box::new(Filesystem {
        paths: s.paths.clone(),
        mount_points: DeviceFilter::new(
            ("collector.filesystem.mount-points-include", mp_include),
            (
                "collector.filesystem.mount-points-exclude",
                exclude(
                    f.fs_mount_points_exclude.as_deref(),
                    mp_include,
                    DEFAULT_MOUNT_POINTS_EXCLUDE,
                ),
            ),
        )?,
        fs_types: DeviceFilter::new(
            ("collector.filesystem.fs-types-include", fs_include),
            (
                "collector.filesystem.fs-types-exclude",
                exclude(
                    f.fs_types_exclude.as_deref(),
                    fs_include,
                    DEFAULT_FS_TYPES_EXCLUDE,
                ),
            ),
        )?,
        mount_timeout: f.fs_mount_timeout.into(),
        in_flight: Mutex::new(HashMap::new()),
    }))
}

/// One line of `mountinfo`, with the fields the collectors report.
#[derive(Debug, PartialEq)]
pub(super) struct Mount {
    major: u32,
    minor: u32,
    pub(super) mount_point: String,
    pub(super) fs_type: String,
    pub(super) source: String,
    read_only: bool,
}

/// Parses `/proc/<pid>/mountinfo` (proc(5)): ten or more space-separated fields with a `-`
/// separating the optional fields from file system type, source and super options.
fn parse_mountinfo(text: &str) -> Result<Vec<Mount>, String> {
    text.lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split(' ').collect();
            let n = f.len();
            if n < 10 {
                return Err(format!("too few fields in mount string: {line}"));
            }
            if f[n - 4] != "-" {
                return Err(format!("couldn't find separator in expected field: {line}"));
            }
            let (major, minor) = f[2]
                .split_once(':')
                .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
                .ok_or_else(|| format!("malformed mount point MajorMinorVer: {:?}", f[2]))?;
            let has = |opts: &str, want: &[&str]| {
                opts.split(',')
                    .any(|o| want.contains(&o.split('=').next().unwrap_or(o)))
            };
            Ok(Mount {
                major,
                minor,
                mount_point: f[4].replace("\\040", " ").replace("\\011", "\t"),
                fs_type: f[n - 3].to_owned(),
                source: f[n - 2].to_owned(),
                read_only: has(f[5], &["ro"]) || has(f[n - 1], &["ro", "emergency_ro"]),
            })
        })
        .collect()
}

/// What `statfs` gave for one mount point, or the error to label it with.
enum Usage {
    Stats {
        size: f64,
        free: f64,
        avail: f64,
        files: f64,
        files_free: f64,
    },
    Error(String),
}

/// The mount table of PID 1, else (no such file) this process's, as upstream reads it.
pub(super) fn mounts(paths: &Paths) -> Result<Vec<Mount>, CollectorError> {
    let pid1 = paths.proc("1/mountinfo");
    let bytes = match std::fs::read(&pid1) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::debug!(err = %e, "Reading root mounts failed, falling back to self mounts");
            let own = paths.proc("self/mountinfo");
            std::fs::read(&own).map_err(|e| CollectorError::io(own, e))?
        }
        Err(e) => return Err(CollectorError::io(pid1, e)),
    };
    parse_mountinfo(&to_valid_utf8(&bytes)).map_err(|reason| CollectorError::parse(&pid1, reason))
}

impl Filesystem {
    fn usage(&self, mount_point: &str) -> Usage {
        {
            let mut in_flight = self
                .in_flight
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            match in_flight.get(mount_point) {
                Some(start) if start.elapsed() >= self.mount_timeout => {
                    tracing::debug!(
                        mountpoint = mount_point,
                        "Mount point is in an unresponsive state"
                    );
                    return Usage::Error("mountpoint timeout".into());
                }
                Some(_) => {}
                None => {
                    in_flight.insert(mount_point.to_owned(), Instant::now());
                }
            }
        }
        let path = self.paths.root(mount_point);
        let result = rustix::fs::statfs(&path);
        self.in_flight
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(mount_point);
        match result {
            Ok(st) => {
                let bsize = st.f_bsize as f64;
                Usage::Stats {
                    size: st.f_blocks as f64 * bsize,
                    free: st.f_bfree as f64 * bsize,
                    avail: st.f_bavail as f64 * bsize,
                    files: st.f_files as f64,
                    files_free: st.f_ffree as f64,
                }
            }
            Err(e) => {
                let e = std::io::Error::from(e);
                tracing::debug!(rootfs = %path.display(), err = %e, "Error on statfs() system call");
                Usage::Error(go_errno_text(&e))
            }
        }
    }
}

/// Go prints an errno as the bare C library message ("permission denied"); Rust's `io::Error`
/// adds " (os error N)" and capitalises it.
fn go_errno_text(e: &std::io::Error) -> String {
    let text = e.to_string();
    let text = text.split(" (os error").next().unwrap_or(&text);
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_lowercase().chain(chars).collect::<String>()
    })
}

impl Collector for Filesystem {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let mounts = mounts(&self.paths)?;
        let mut size = gauge_family("node_filesystem_size_bytes", "Filesystem size in bytes.");
        let mut free = gauge_family(
            "node_filesystem_free_bytes",
            "Filesystem free space in bytes.",
        );
        let mut avail = gauge_family(
            "node_filesystem_avail_bytes",
            "Filesystem space available to non-root users in bytes.",
        );
        let mut files = gauge_family("node_filesystem_files", "Filesystem total file nodes.");
        let mut files_free = gauge_family(
            "node_filesystem_files_free",
            "Filesystem total free file nodes.",
        );
        let mut readonly = gauge_family("node_filesystem_readonly", "Filesystem read-only status.");
        let mut device_error = gauge_family(
            "node_filesystem_device_error",
            "Whether an error occurred while getting statistics for the given device.",
        );
        let mut mount_info = gauge_family(
            "node_filesystem_mount_info",
            "Filesystem mount information.",
        );
        let mut seen = HashSet::new();
        for m in &mounts {
            let mount_point = self.paths.strip_rootfs(&m.mount_point);
            if self.mount_points.ignored(mount_point) {
                tracing::debug!(mountpoint = mount_point, "Ignoring mount point");
                continue;
            }
            if self.fs_types.ignored(&m.fs_type) {
                tracing::debug!(r#type = m.fs_type, "Ignoring fs type");
                continue;
            }
            let usage = self.usage(mount_point);
            let error = match &usage {
                Usage::Error(e) => e.as_str(),
                Usage::Stats { .. } => "",
            };
            let (major, minor) = (m.major.to_string(), m.minor.to_string());
            let key = (
                &m.source,
                mount_point,
                &m.fs_type,
                error.to_owned(),
                m.major,
                m.minor,
            );
            if !seen.insert(key) {
                continue;
            }
            let labels = [
                ("device", m.source.as_str()),
                ("mountpoint", mount_point),
                ("fstype", m.fs_type.as_str()),
                ("device_error", error),
            ];
            let ro = if m.read_only { 1.0 } else { 0.0 };
            readonly.push(&labels, ro);
            let Usage::Stats {
                size: s,
                free: f,
                avail: a,
                files: n,
                files_free: nf,
            } = usage
            else {
                device_error.push(&labels, 1.0);
                continue;
            };
            device_error.push(&labels, 0.0);
            size.push(&labels, s);
            free.push(&labels, f);
            avail.push(&labels, a);
            files.push(&labels, n);
            files_free.push(&labels, nf);
            mount_info.push(
                &[
                    ("device", m.source.as_str()),
                    ("major", &major),
                    ("minor", &minor),
                    ("mountpoint", mount_point),
                ],
                1.0,
            );
        }
        for family in [
            size,
            free,
            avail,
            files,
            files_free,
            readonly,
            device_error,
            mount_info,
        ] {
            out.push(family.into_family());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mountinfo_lines() {
        let text = "21 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw,errors=remount-ro\n\
                    22 21 0:5 / /mnt/a\\040b ro,nosuid - tmpfs tmpfs rw\n\
                    23 21 0:6 / /x rw master:2 shared:3 - nfs srv:/x ro,vers=4\n";
        let m = parse_mountinfo(text).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!((m[0].major, m[0].minor), (8, 1));
        assert_eq!(m[0].source, "/dev/sda1");
        assert!(!m[0].read_only);
        assert_eq!(m[1].mount_point, "/mnt/a b");
        assert!(m[1].read_only);
        assert_eq!(m[2].fs_type, "nfs");
        assert!(m[2].read_only);
        assert!(parse_mountinfo("1 2 3 4 5 6 7 8 9 10\n").is_err());
    }

    #[test]
    fn fixture_mounts_come_from_pid1() {
        let paths = Paths {
            procfs: pm_testsupport::testdata("node_exporter/proc"),
            ..Paths::default()
        };
        let mounts = mounts(&paths).unwrap();
        assert!(!mounts.is_empty());
        assert!(mounts.iter().any(|m| m.mount_point == "/"));
    }

    #[test]
    fn go_error_text() {
        let e = std::io::Error::from_raw_os_error(13);
        assert_eq!(go_errno_text(&e), "permission denied");
    }

    #[test]
    fn rootfs_prefix_is_stripped() {
        let p = Paths {
            rootfs: "/host".into(),
            ..Paths::default()
        };
        assert_eq!(p.strip_rootfs("/host"), "/");
        assert_eq!(p.strip_rootfs("/host/var"), "/var");
        assert_eq!(p.strip_rootfs("/proc"), "/proc");
    }
}
