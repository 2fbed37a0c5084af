//! Per-device sizes and error counters of a mounted Btrfs filesystem, asked of the kernel
//! with `BTRFS_IOC_FS_INFO`, `BTRFS_IOC_DEV_INFO` and `BTRFS_IOC_GET_DEV_STATS` on its mount
//! point. Neither rustix nor nix wraps these, so this module holds the `unsafe` ioctl behind
//! [`Mounted`]'s safe methods; arguments and replies are byte buffers decoded field by field.

#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::Path;

use rustix::fs::{Mode, OFlags};

const BTRFS_IOCTL_MAGIC: u32 = 0x94;
/// The inode number of every subvolume's root directory.
const BTRFS_FIRST_FREE_OBJECTID: u64 = 256;
/// `statfs(2)`'s `f_type` for Btrfs.
const BTRFS_SUPER_MAGIC: u64 = 0x9123_683e;

/// `struct btrfs_ioctl_fs_info_args`: `max_id`, `num_devices`, `fsid` first.
const FS_INFO_LEN: usize = 1024;
/// `struct btrfs_ioctl_dev_info_args`: `devid`, `uuid`, `bytes_used`, `total_bytes`, padding,
/// then the 1024-byte device path.
const DEV_INFO_LEN: usize = 4096;
const DEV_INFO_PATH: usize = DEV_INFO_LEN - 1024;
/// `struct btrfs_ioctl_get_dev_stats`: `devid`, `nr_items`, `flags`, then the counters
/// (padded to 1032 bytes, as the kernel's header explains).
const DEV_STATS_LEN: usize = 1032;
const DEV_STAT_VALUES: usize = 5;

/// Linux's `_IOC` request number for `dir` (2 read, 3 read-write), command `nr` and an
/// argument of `size` bytes.
const fn ioc(dir: u32, nr: u32, size: usize) -> u32 {
    (dir << 30) | ((size as u32) << 16) | (BTRFS_IOCTL_MAGIC << 8) | nr
}
const BTRFS_IOC_DEV_INFO: u32 = ioc(3, 30, DEV_INFO_LEN);
const BTRFS_IOC_FS_INFO: u32 = ioc(2, 31, FS_INFO_LEN);
const BTRFS_IOC_GET_DEV_STATS: u32 = ioc(3, 52, DEV_STATS_LEN);

/// What `BTRFS_IOC_FS_INFO` tells about the filesystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FsInfo {
    pub max_id: u64,
    pub num_devices: u64,
    pub fsid: [u8; 16],
}

/// One device of the filesystem with its error counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub path: String,
    pub uuid: [u8; 16],
    pub bytes_used: u64,
    pub total_bytes: u64,
    /// Write, read, flush, corruption and generation errors, in the kernel's order.
    pub errors: [u64; DEV_STAT_VALUES],
}

/// An open subvolume root of a mounted Btrfs filesystem.
pub struct Mounted(OwnedFd);

impl Mounted {
    /// Opens `path` read-only if it is the root of a Btrfs subvolume, as upstream's library
    /// requires (a bind mount of a plain directory is not one).
    pub fn open(path: &Path) -> io::Result<Self> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        // O_NOATIME needs ownership of the directory; retry without it.
        let fd = rustix::fs::open(path, flags | OFlags::NOATIME, Mode::empty())
            .or_else(|_| rustix::fs::open(path, flags, Mode::empty()))?;
        let st = rustix::fs::fstat(&fd)?;
        let sfs = rustix::fs::fstatfs(&fd)?;
        // `f_type`'s integer type differs between targets.
        #[allow(clippy::unnecessary_cast)]
        let fs_type = sfs.f_type as u64;
        if st.st_ino != BTRFS_FIRST_FREE_OBJECTID || fs_type != BTRFS_SUPER_MAGIC {
            return Err(io::Error::other(format!(
                "not a btrfs subvolume root: {}",
                path.display()
            )));
        }
        Ok(Self(fd))
    }

    fn ioctl(&self, request: u32, arg: &mut [u8]) -> io::Result<()> {
        // SAFETY: every request number encodes the size of its argument struct, and each
        // caller passes a buffer of exactly that size, alive for the whole call; the kernel
        // reads and writes only within it.
        let rc = unsafe {
            libc::ioctl(
                self.0.as_fd().as_raw_fd(),
                request as _,
                arg.as_mut_ptr().cast::<libc::c_void>(),
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    pub fn info(&self) -> io::Result<FsInfo> {
        let mut buf = [0u8; FS_INFO_LEN];
        self.ioctl(BTRFS_IOC_FS_INFO, &mut buf)?;
        Ok(decode_fs_info(&buf))
    }

    /// The devices with their counters. Device ids have gaps (a removed device leaves
    /// one), so ids up to `max_id` are tried until `num_devices` were found.
    pub fn devices(&self, info: &FsInfo) -> io::Result<Vec<Device>> {
        let mut devices = Vec::new();
        for id in 0..=info.max_id {
            let mut buf = [0u8; DEV_INFO_LEN];
            buf[..8].copy_from_slice(&id.to_ne_bytes());
            match self.ioctl(BTRFS_IOC_DEV_INFO, &mut buf) {
                Err(e) if e.raw_os_error() == Some(libc::ENODEV) => continue,
                r => r?,
            }
            let mut stats = [0u8; DEV_STATS_LEN];
            stats[..8].copy_from_slice(&id.to_ne_bytes());
            stats[8..16].copy_from_slice(&(DEV_STAT_VALUES as u64).to_ne_bytes());
            self.ioctl(BTRFS_IOC_GET_DEV_STATS, &mut stats)?;
            devices.push(decode_device(&buf, &stats));
            if devices.len() as u64 == info.num_devices {
                break;
            }
        }
        Ok(devices)
    }
}

fn u64_at(buf: &[u8], at: usize) -> u64 {
    u64::from_ne_bytes(buf[at..at + 8].try_into().expect("8 bytes"))
}

fn uuid_at(buf: &[u8], at: usize) -> [u8; 16] {
    buf[at..at + 16].try_into().expect("16 bytes")
}

fn decode_fs_info(buf: &[u8; FS_INFO_LEN]) -> FsInfo {
    FsInfo {
        max_id: u64_at(buf, 0),
        num_devices: u64_at(buf, 8),
        fsid: uuid_at(buf, 16),
    }
}

fn decode_device(info: &[u8; DEV_INFO_LEN], stats: &[u8; DEV_STATS_LEN]) -> Device {
    let path = &info[DEV_INFO_PATH..];
    let end = path.iter().position(|&b| b == 0).unwrap_or(path.len());
    Device {
        path: String::from_utf8_lossy(&path[..end]).into_owned(),
        uuid: uuid_at(info, 8),
        bytes_used: u64_at(info, 24),
        total_bytes: u64_at(info, 32),
        errors: std::array::from_fn(|i| u64_at(stats, 24 + 8 * i)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_numbers_match_linux_headers() {
        // As computed by `_IOR`/`_IOWR` in <linux/btrfs.h> on x86_64 and arm64.
        assert_eq!(BTRFS_IOC_FS_INFO, 0x8400_941f);
        assert_eq!(BTRFS_IOC_DEV_INFO, 0xd000_941e);
        assert_eq!(BTRFS_IOC_GET_DEV_STATS, 0xc408_9434);
    }

    #[test]
    fn decodes_replies() {
        let mut fs = [0u8; FS_INFO_LEN];
        fs[..8].copy_from_slice(&3u64.to_ne_bytes());
        fs[8..16].copy_from_slice(&2u64.to_ne_bytes());
        fs[16..32].copy_from_slice(&[0xab; 16]);
        assert_eq!(
            decode_fs_info(&fs),
            FsInfo {
                max_id: 3,
                num_devices: 2,
                fsid: [0xab; 16]
            }
        );

        let mut info = [0u8; DEV_INFO_LEN];
        info[8..24].copy_from_slice(&[1; 16]);
        info[24..32].copy_from_slice(&100u64.to_ne_bytes());
        info[32..40].copy_from_slice(&1000u64.to_ne_bytes());
        info[DEV_INFO_PATH..DEV_INFO_PATH + 10].copy_from_slice(b"/dev/loop7");
        let mut stats = [0u8; DEV_STATS_LEN];
        for (i, v) in [1u64, 2, 3, 4, 5].iter().enumerate() {
            stats[24 + 8 * i..32 + 8 * i].copy_from_slice(&v.to_ne_bytes());
        }
        assert_eq!(
            decode_device(&info, &stats),
            Device {
                path: "/dev/loop7".into(),
                uuid: [1; 16],
                bytes_used: 100,
                total_bytes: 1000,
                errors: [1, 2, 3, 4, 5],
            }
        );
    }

    #[test]
    fn refuses_what_is_not_a_btrfs_subvolume() {
        let dir = tempfile::tempdir().unwrap();
        let err = Mounted::open(dir.path())
            .err()
            .expect("tmp is not btrfs here");
        assert!(
            err.to_string().contains("not a btrfs subvolume root"),
            "{err}"
        );
    }
}
