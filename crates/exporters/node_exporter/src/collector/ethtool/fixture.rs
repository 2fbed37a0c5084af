//! A [`Source`] over upstream's ethtool fixtures: per device, the text `ethtool -i`,
//! `ethtool -S` and `ethtool` print (`driver`, `statistics`, `settings`). A missing file
//! stands for a driver without the operation (`EOPNOTSUPP`); a `statistics` file holding
//! `ERROR: <errno>` for a failing one.

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;

use super::{DriverInfo, LinkInfo, Source, bit};

pub struct Fixture(pub PathBuf);

impl Fixture {
    /// The lines of `device/file` that are not comments.
    fn lines(&self, device: &str, file: &str) -> io::Result<Vec<String>> {
        let text = match std::fs::read_to_string(self.0.join(device).join(file)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(io::Error::from_raw_os_error(libc::EOPNOTSUPP));
            }
            r => r?,
        };
        Ok(text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(str::to_owned)
            .collect())
    }
}

/// Link-mode names as `ethtool` prints them → bits (the ones the fixtures use).
fn modes(text: &str) -> u32 {
    text.split(' ')
        .map(|mode| match mode {
            "10baseT/Half" => 1 << 0,
            "10baseT/Full" => 1 << 1,
            "100baseT/Half" => 1 << 2,
            "100baseT/Full" => 1 << 3,
            "1000baseT/Half" => 1 << 4,
            "1000baseT/Full" => 1 << 5,
            "10000baseT/Full" => 1 << 12,
            _ => 0,
        })
        .fold(0, |a, b| a | b)
}

fn ports(text: &str) -> u32 {
    text.split(' ')
        .map(|p| match p.trim_matches([' ', '\t']) {
            "TP" => 1 << bit::TP,
            "MII" => 1 << bit::MII,
            _ => 0,
        })
        .fold(0, |a, b| a | b)
}

fn pause(text: &str) -> u32 {
    match text {
        "Symmetric" => 1 << bit::PAUSE,
        "Receive-only" => 1 << bit::ASYM_PAUSE,
        _ => 0,
    }
}

/// Which mode list a continuation line adds to.
#[derive(Clone, Copy)]
enum List {
    Supported,
    Advertised,
}

fn list_of(link: &mut LinkInfo, list: List) -> &mut u32 {
    match list {
        List::Supported => &mut link.supported,
        List::Advertised => &mut link.advertising,
    }
}

impl Source for Fixture {
    fn driver_info(&self, device: &str) -> io::Result<DriverInfo> {
        let mut info = DriverInfo::default();
        for line in self.lines(device, "driver")? {
            let Some((key, value)) = line.trim_matches(' ').split_once(": ") else {
                continue;
            };
            let field = match key {
                "driver" => &mut info.driver,
                "version" => &mut info.version,
                "firmware-version" => &mut info.firmware_version,
                "bus-info" => &mut info.bus_info,
                "expansion-rom-version" => &mut info.expansion_rom_version,
                _ => continue,
            };
            *field = value.to_owned();
        }
        Ok(info)
    }

    fn stats(&self, device: &str) -> io::Result<BTreeMap<String, u64>> {
        let mut stats = BTreeMap::new();
        for line in self.lines(device, "statistics")? {
            if line.starts_with("NIC statistics:") {
                continue;
            }
            let (key, value) = line
                .trim_matches(' ')
                .split_once(": ")
                .ok_or_else(|| io::Error::other(format!("bad statistics line {line:?}")))?;
            let value: u64 = value.parse().map_err(io::Error::other)?;
            if key == "ERROR" {
                let errno = i32::try_from(value).map_err(io::Error::other)?;
                return Err(io::Error::from_raw_os_error(errno));
            }
            stats.insert(key.to_owned(), value);
        }
        Ok(stats)
    }

    fn link_info(&self, device: &str) -> io::Result<LinkInfo> {
        let mut link = LinkInfo::default();
        // Mode lists continue on the following lines, up to the next `key: value` line.
        let mut continuing = None;
        for line in self.lines(device, "settings")? {
            if line.starts_with("Settings for") {
                continue;
            }
            let line = line.trim_matches([' ', '\t']);
            if line.contains(':') {
                continuing = None;
            }
            if let Some(list) = continuing {
                *list_of(&mut link, list) |= modes(line);
                continue;
            }
            let (key, value) = line.split_once(": ").unwrap_or((line, ""));
            match key {
                "Supported pause frame use" => link.supported |= pause(value),
                "Advertised pause frame use" => link.advertising |= pause(value),
                "Supported ports" => link.supported |= ports(value),
                "Supported link modes" => {
                    link.supported |= modes(value);
                    continuing = Some(List::Supported);
                }
                "Advertised link modes" => {
                    link.advertising |= modes(value);
                    continuing = Some(List::Advertised);
                }
                "Supports auto-negotiation" if value == "Yes" => {
                    link.supported |= 1 << bit::AUTONEG;
                }
                "Advertised auto-negotiation" if value == "Yes" => {
                    link.advertising |= 1 << bit::AUTONEG;
                }
                "Auto-negotiation" if value == "on" => link.autoneg = 1,
                _ => {}
            }
        }
        Ok(link)
    }
}
