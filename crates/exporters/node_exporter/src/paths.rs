//! Where the collectors read the host's state from (`--path.*`), so that they run unchanged
//! against a real system, a container's bind-mounted host paths, or a fixture tree.

use std::path::{Path, PathBuf};

use crate::error::CollectorError;

#[derive(Debug, Clone)]
pub struct Paths {
    pub procfs: PathBuf,
    pub sysfs: PathBuf,
    pub rootfs: PathBuf,
    pub udev_data: PathBuf,
}

impl Default for Paths {
    fn default() -> Self {
        Self {
            procfs: "/proc".into(),
            sysfs: "/sys".into(),
            rootfs: "/".into(),
            udev_data: "/run/udev/data".into(),
        }
    }
}

impl Paths {
    pub fn proc(&self, rel: &str) -> PathBuf {
        self.procfs.join(rel)
    }

    pub fn sys(&self, rel: &str) -> PathBuf {
        self.sysfs.join(rel)
    }

    /// A path on the host's root file system (`--path.rootfs`); `abs` is absolute on the host.
    pub fn root(&self, abs: &str) -> PathBuf {
        self.rootfs.join(abs.trim_start_matches('/'))
    }

    /// Strips the rootfs prefix from a mount point seen from inside a container, as upstream
    /// reports mount points relative to the host's root.
    pub fn strip_rootfs<'a>(&self, mount_point: &'a str) -> Option<&'a str> {
        let root = self.rootfs.to_str()?.trim_end_matches('/');
        if root.is_empty() {
            return Some(mount_point);
        }
        match mount_point.strip_prefix(root) {
            Some("") => Some("/"),
            Some(rest) if rest.starts_with('/') => Some(rest),
            _ => None,
        }
    }
}

/// Reads a whole file, naming it in the error.
pub fn read(path: &Path) -> Result<String, CollectorError> {
    std::fs::read_to_string(path).map_err(|e| CollectorError::io(path, e))
}

/// Reads a sysfs attribute: the file with its trailing newline removed.
pub fn read_trimmed(path: &Path) -> Result<String, CollectorError> {
    read(path).map(|s| s.trim_end_matches('\n').trim().to_owned())
}

/// Reads a sysfs attribute holding one number.
pub fn read_u64(path: &Path) -> Result<u64, CollectorError> {
    let s = read_trimmed(path)?;
    s.parse()
        .map_err(|_| CollectorError::parse(path, format!("not an unsigned integer: {s:?}")))
}

/// The entries of a directory, sorted by name (upstream reads directories sorted).
pub fn sorted_entries(dir: &Path) -> Result<Vec<(String, PathBuf)>, CollectorError> {
    let rd = std::fs::read_dir(dir).map_err(|e| CollectorError::io(dir, e))?;
    let mut out: Vec<(String, PathBuf)> = rd
        .filter_map(Result::ok)
        .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
        .collect();
    out.sort();
    Ok(out)
}
