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

    /// A mount point as seen from the host: the rootfs prefix removed when the exporter runs
    /// with the host's root bind-mounted elsewhere (upstream strips it textually).
    pub fn strip_rootfs<'a>(&self, mount_point: &'a str) -> &'a str {
        let Some(root) = self.rootfs.to_str() else {
            return mount_point;
        };
        if root == "/" {
            return mount_point;
        }
        match mount_point.strip_prefix(root) {
            Some("") => "/",
            Some(rest) => rest,
            None => mount_point,
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

/// Reads a sysfs attribute as procfs' `SysReadFile` does: a single read of at most 128 bytes
/// (some attributes block or never end when read further), surrounding white space trimmed.
pub fn sys_read(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut buf = [0u8; 128];
    let n = std::fs::File::open(path)?.read(&mut buf)?;
    Ok(to_valid_utf8(&buf[..n]).trim().to_owned())
}

/// Go's `strconv.ParseUint(s, 0, 64)` for the forms sysfs writes (`0x…`, leading-`0` octal or
/// decimal).
pub fn parse_go_uint(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None if s.len() > 1 && s.starts_with('0') => u64::from_str_radix(&s[1..], 8).ok(),
        None => s.parse().ok(),
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`: decimal, or `0x`/`0o`/`0b`/leading-`0` prefixed.
pub fn parse_go_int(s: &str) -> Option<i64> {
    let (neg, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let lower = digits.to_ascii_lowercase();
    let (radix, body) = if let Some(h) = lower.strip_prefix("0x") {
        (16, h)
    } else if let Some(o) = lower.strip_prefix("0o") {
        (8, o)
    } else if let Some(b) = lower.strip_prefix("0b") {
        (2, b)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    let body = body.replace('_', "");
    if body.is_empty() || body.starts_with(['+', '-']) {
        return None;
    }
    let v = i64::from_str_radix(&body, radix).ok()?;
    Some(if neg { -v } else { v })
}

/// Go's `strings.ToValidUTF8(s, "\u{FFFD}")`: every run of invalid bytes becomes one
/// replacement character (`String::from_utf8_lossy` would put one per invalid sequence).
pub fn to_valid_utf8(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut in_invalid_run = false;
    for chunk in bytes.utf8_chunks() {
        if !chunk.valid().is_empty() {
            out.push_str(chunk.valid());
            in_invalid_run = false;
        }
        if !chunk.invalid().is_empty() && !in_invalid_run {
            out.push('\u{FFFD}');
            in_invalid_run = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_int_syntax() {
        assert_eq!(parse_go_int("0x1003"), Some(0x1003));
        assert_eq!(parse_go_int("-1"), Some(-1));
        assert_eq!(parse_go_int("010"), Some(8));
        assert_eq!(parse_go_int("0"), Some(0));
        assert_eq!(parse_go_int(""), None);
        assert_eq!(parse_go_int("up"), None);
    }

    #[test]
    fn invalid_runs_become_one_replacement() {
        assert_eq!(to_valid_utf8(b"\xff\xfe[\xc3"), "\u{FFFD}[\u{FFFD}");
        assert_eq!(to_valid_utf8("ok é".as_bytes()), "ok é");
    }
}
