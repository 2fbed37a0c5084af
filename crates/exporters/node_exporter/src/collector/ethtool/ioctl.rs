//! The kernel side of the ethtool collector: `SIOCETHTOOL` requests on a datagram socket.
//! Neither rustix nor nix wraps them, so this module holds the `unsafe` calls behind
//! [`Ioctl`]'s safe methods. Requests and replies are plain byte buffers encoded and decoded
//! field by field, so the only unsafe operations are the socket creation and the ioctl.

#![allow(unsafe_code)]

use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Mutex, PoisonError};

use super::{DriverInfo, LinkInfo, Source};

// Commands and string sets from linux/ethtool.h.
const ETHTOOL_GSET: u32 = 0x01;
const ETHTOOL_GDRVINFO: u32 = 0x03;
const ETHTOOL_GSTRINGS: u32 = 0x1b;
const ETHTOOL_GSTATS: u32 = 0x1d;
const ETH_SS_STATS: u32 = 1;
const ETH_GSTRING_LEN: usize = 32;

/// `struct ethtool_drvinfo`: the command, five 32-byte strings, 12 reserved bytes, five
/// `u32` counts (`n_stats` the second).
const DRVINFO_LEN: usize = 4 + 5 * 32 + 12 + 5 * 4;
const DRVINFO_N_STATS: usize = 4 + 5 * 32 + 12 + 4;
/// `struct ethtool_cmd`: `supported` at 4, `advertising` at 8, `autoneg` at 18.
const CMD_LEN: usize = 44;
/// `struct ethtool_gstrings` / `ethtool_stats` headers before their flexible arrays.
const GSTRINGS_HEADER: usize = 12;
const GSTATS_HEADER: usize = 8;

/// The most statistics a device may report, as upstream's library bounds them. The kernel
/// writes as many entries as the driver counts at the time of each call (it ignores the
/// length we pass), so the reply buffers always hold this many.
const MAX_STATS: usize = 32 * 1024;
const STRINGS_LEN: usize = GSTRINGS_HEADER + MAX_STATS * ETH_GSTRING_LEN;
const VALUES_LEN: usize = GSTATS_HEADER + MAX_STATS * 8;

/// An `AF_INET` datagram socket to address `SIOCETHTOOL` requests to.
#[derive(Debug)]
pub struct Ioctl {
    fd: OwnedFd,
    replies: Mutex<Replies>,
}

/// The statistics reply buffers (1.25 MiB), allocated zeroed on first use and kept: fresh
/// zeroed pages cost memory only once the kernel writes to them, which it does for the
/// entries a device has, and keeping them avoids re-zeroing a heap block every scrape.
#[derive(Debug, Default)]
struct Replies {
    strings: Vec<u8>,
    values: Vec<u8>,
}

impl Ioctl {
    pub fn open() -> io::Result<Self> {
        // SAFETY: socket(2) takes no pointers; a non-negative return is a new descriptor
        // that nothing else owns, so `OwnedFd` may take it over.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: see above; `fd` is open and owned by no one else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Self {
            fd,
            replies: Mutex::default(),
        })
    }

    /// Sends `data` (starting with its command word) for `device`; the kernel answers in
    /// place.
    fn request(&self, device: &str, data: &mut [u8]) -> io::Result<()> {
        // Interface names are at most IFNAMSIZ - 1 bytes and NUL-terminated.
        if device.len() >= libc::IFNAMSIZ || device.contains('\0') {
            return Err(io::Error::from_raw_os_error(libc::ENODEV));
        }
        // SAFETY: `ifreq` is a C struct of byte arrays and a union of plain values and a
        // pointer, for which all-zero bytes are valid.
        let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
        for (dst, src) in ifr.ifr_name.iter_mut().zip(device.bytes()) {
            *dst = src as libc::c_char;
        }
        ifr.ifr_ifru.ifru_data = data.as_mut_ptr().cast();
        // SAFETY: `ifr` names the device (NUL-terminated: zeroed beyond the name) and points
        // at `data`, which lives across the call. Each caller sizes `data` for the command
        // in its first word: the fixed structs exactly, the string and statistics replies
        // for MAX_STATS entries after `stats_count` refused larger counts.
        let rc = unsafe { libc::ioctl(self.fd.as_raw_fd(), libc::SIOCETHTOOL as _, &mut ifr) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    fn drvinfo(&self, device: &str) -> io::Result<[u8; DRVINFO_LEN]> {
        let mut buf = [0u8; DRVINFO_LEN];
        buf[..4].copy_from_slice(&ETHTOOL_GDRVINFO.to_ne_bytes());
        self.request(device, &mut buf)?;
        Ok(buf)
    }

    /// The driver's statistics count, refused above [`MAX_STATS`].
    fn stats_count(&self, device: &str) -> io::Result<usize> {
        let n = u32_at(&self.drvinfo(device)?, DRVINFO_N_STATS) as usize;
        if n > MAX_STATS {
            return Err(io::Error::other(format!(
                "{n} statistics, more than the {MAX_STATS} supported"
            )));
        }
        Ok(n)
    }
}

fn u32_at(buf: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(buf[at..at + 4].try_into().expect("4 bytes"))
}

/// A NUL-terminated (or full-length) C string field.
fn c_string(field: &[u8]) -> String {
    let end = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

/// Decodes `struct ethtool_drvinfo`.
fn decode_drvinfo(buf: &[u8; DRVINFO_LEN]) -> DriverInfo {
    let field = |i: usize| c_string(&buf[4 + 32 * i..4 + 32 * (i + 1)]);
    DriverInfo {
        driver: field(0),
        version: field(1),
        firmware_version: field(2),
        bus_info: field(3),
        expansion_rom_version: field(4),
    }
}

/// Decodes `struct ethtool_cmd`.
fn decode_cmd(buf: &[u8; CMD_LEN]) -> LinkInfo {
    LinkInfo {
        supported: u32_at(buf, 4),
        advertising: u32_at(buf, 8),
        autoneg: buf[18],
    }
}

/// Pairs the names of a `GSTRINGS` reply with the values of a `GSTATS` reply; empty names
/// are skipped and a repeated name keeps its last value, as upstream's library does.
fn decode_stats(strings: &[u8], values: &[u8]) -> io::Result<BTreeMap<String, u64>> {
    let names = u32_at(strings, 8) as usize;
    let count = u32_at(values, 4) as usize;
    if names != count || count > MAX_STATS {
        return Err(io::Error::other(format!(
            "statistics changed during the read: {names} names, {count} values"
        )));
    }
    let names = strings[GSTRINGS_HEADER..].chunks_exact(ETH_GSTRING_LEN);
    let values = values[GSTATS_HEADER..].chunks_exact(8);
    Ok(names
        .zip(values)
        .take(count)
        .map(|(name, value)| {
            let value = u64::from_ne_bytes(value.try_into().expect("8 bytes"));
            (c_string(name), value)
        })
        .filter(|(name, _)| !name.is_empty())
        .collect())
}

impl Source for Ioctl {
    fn driver_info(&self, device: &str) -> io::Result<DriverInfo> {
        Ok(decode_drvinfo(&self.drvinfo(device)?))
    }

    fn stats(&self, device: &str) -> io::Result<BTreeMap<String, u64>> {
        let n = self.stats_count(device)?;
        let mut replies = self.replies.lock().unwrap_or_else(PoisonError::into_inner);
        let Replies { strings, values } = &mut *replies;
        if strings.is_empty() {
            *strings = vec![0u8; STRINGS_LEN];
            *values = vec![0u8; VALUES_LEN];
        }
        strings[..4].copy_from_slice(&ETHTOOL_GSTRINGS.to_ne_bytes());
        strings[4..8].copy_from_slice(&ETH_SS_STATS.to_ne_bytes());
        strings[8..12].copy_from_slice(&(n as u32).to_ne_bytes());
        self.request(device, strings)?;
        values[..4].copy_from_slice(&ETHTOOL_GSTATS.to_ne_bytes());
        values[4..8].copy_from_slice(&(n as u32).to_ne_bytes());
        self.request(device, values)?;
        decode_stats(strings, values)
    }

    fn link_info(&self, device: &str) -> io::Result<LinkInfo> {
        let mut buf = [0u8; CMD_LEN];
        buf[..4].copy_from_slice(&ETHTOOL_GSET.to_ne_bytes());
        self.request(device, &mut buf)?;
        Ok(decode_cmd(&buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_replies() {
        let mut info = [0u8; DRVINFO_LEN];
        info[4..14].copy_from_slice(b"virtio_net");
        info[4 + 32..4 + 32 + 5].copy_from_slice(b"1.0.0");
        info[4 + 96..4 + 96 + 12].copy_from_slice(b"0000:00:03.0");
        assert_eq!(
            decode_drvinfo(&info),
            DriverInfo {
                driver: "virtio_net".into(),
                version: "1.0.0".into(),
                bus_info: "0000:00:03.0".into(),
                ..DriverInfo::default()
            }
        );

        let mut cmd = [0u8; CMD_LEN];
        cmd[4..8].copy_from_slice(&0x2cu32.to_ne_bytes());
        cmd[8..12].copy_from_slice(&0x0cu32.to_ne_bytes());
        cmd[18] = 1;
        assert_eq!(
            decode_cmd(&cmd),
            LinkInfo {
                supported: 0x2c,
                advertising: 0x0c,
                autoneg: 1
            }
        );

        let mut strings = vec![0u8; GSTRINGS_HEADER + 3 * ETH_GSTRING_LEN];
        strings[8..12].copy_from_slice(&3u32.to_ne_bytes());
        for (i, name) in [&b"rx_packets"[..], b"", b"rx_packets"].iter().enumerate() {
            let at = GSTRINGS_HEADER + i * ETH_GSTRING_LEN;
            strings[at..at + name.len()].copy_from_slice(name);
        }
        let mut values = vec![0u8; GSTATS_HEADER + 3 * 8];
        values[4..8].copy_from_slice(&3u32.to_ne_bytes());
        for (i, v) in [5u64, 6, 7].iter().enumerate() {
            let at = GSTATS_HEADER + i * 8;
            values[at..at + 8].copy_from_slice(&v.to_ne_bytes());
        }
        let stats = decode_stats(&strings, &values).unwrap();
        assert_eq!(
            stats.into_iter().collect::<Vec<_>>(),
            [("rx_packets".to_owned(), 7)]
        );

        values[4..8].copy_from_slice(&2u32.to_ne_bytes());
        assert!(decode_stats(&strings, &values).is_err());
    }

    #[test]
    fn unknown_device_and_long_names_fail_cleanly() {
        let Ok(sock) = Ioctl::open() else {
            eprintln!("skipping: no AF_INET socket in this sandbox");
            return;
        };
        let e = sock.driver_info("pm-no-such-if").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENODEV));
        let e = sock.link_info("a-name-longer-than-ifnamsiz").unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::ENODEV));
    }
}
