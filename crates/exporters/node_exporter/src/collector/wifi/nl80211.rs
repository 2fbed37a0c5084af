//! The kernel's view of WiFi devices over nl80211: interface, scan (BSS) and station dumps,
//! decoded into the values upstream's wifi library reads.

use std::io;

use super::netlink::{Attr, Attrs, Family, GenlSocket, put_attr};
use super::{Bss, Interface, Source, Station};
use crate::error::CollectorError;

const NL80211_CMD_GET_INTERFACE: u8 = 5;
const NL80211_CMD_GET_STATION: u8 = 17;
const NL80211_CMD_GET_SCAN: u8 = 32;

const NL80211_ATTR_IFINDEX: u16 = 3;
const NL80211_ATTR_IFNAME: u16 = 4;
const NL80211_ATTR_IFTYPE: u16 = 5;
const NL80211_ATTR_MAC: u16 = 6;
const NL80211_ATTR_STA_INFO: u16 = 21;
const NL80211_ATTR_WIPHY_FREQ: u16 = 38;
const NL80211_ATTR_BSS: u16 = 47;

const NL80211_BSS_BSSID: u16 = 1;
const NL80211_BSS_INFORMATION_ELEMENTS: u16 = 6;
const NL80211_BSS_STATUS: u16 = 9;

const NL80211_STA_INFO_INACTIVE_TIME: u16 = 1;
const NL80211_STA_INFO_RX_BYTES: u16 = 2;
const NL80211_STA_INFO_TX_BYTES: u16 = 3;
const NL80211_STA_INFO_SIGNAL: u16 = 7;
const NL80211_STA_INFO_TX_BITRATE: u16 = 8;
const NL80211_STA_INFO_RX_PACKETS: u16 = 9;
const NL80211_STA_INFO_TX_PACKETS: u16 = 10;
const NL80211_STA_INFO_TX_RETRIES: u16 = 11;
const NL80211_STA_INFO_TX_FAILED: u16 = 12;
const NL80211_STA_INFO_RX_BITRATE: u16 = 14;
const NL80211_STA_INFO_CONNECTED_TIME: u16 = 16;
const NL80211_STA_INFO_BEACON_LOSS: u16 = 18;
const NL80211_STA_INFO_RX_BYTES64: u16 = 23;
const NL80211_STA_INFO_TX_BYTES64: u16 = 24;

const NL80211_RATE_INFO_BITRATE: u16 = 1;
const NL80211_RATE_INFO_BITRATE32: u16 = 5;

/// The 802.11 information element holding the SSID.
const IE_SSID: u8 = 0;

/// The kernel reports bitrates in units of 100 kbit/s.
const BITRATE_UNIT: i64 = 100_000;

const NANOS_PER_MILLI: i64 = 1_000_000;
const NANOS_PER_SEC: i64 = 1_000_000_000;

/// An open nl80211 session; one per scrape, as upstream dials one per scrape.
pub struct Nl80211 {
    socket: GenlSocket,
    family: Family,
}

impl Nl80211 {
    /// Opens a generic-netlink socket and resolves nl80211. A kernel without cfg80211 fails
    /// with `NotFound`, a refused socket with `PermissionDenied`.
    pub fn open() -> io::Result<Self> {
        let mut socket = GenlSocket::open()?;
        let family = socket.family("nl80211")?;
        Ok(Nl80211 { socket, family })
    }

    /// Dumps `cmd` for one interface, identified as upstream does (index, and MAC if known).
    fn dump_for(&mut self, cmd: u8, ifi: &Interface) -> io::Result<Vec<Vec<u8>>> {
        let mut attrs = Vec::new();
        put_attr(&mut attrs, NL80211_ATTR_IFINDEX, &ifi.index.to_ne_bytes());
        if !ifi.mac.is_empty() {
            put_attr(&mut attrs, NL80211_ATTR_MAC, &ifi.mac);
        }
        self.socket
            .exchange(self.family.id, cmd, self.family.version, true, &attrs)
    }
}

fn error(what: String, e: io::Error) -> CollectorError {
    CollectorError::io(format!("nl80211 {what}"), e)
}

/// `NotFound` (the kernel's `ENOENT`) means "not available for this interface" upstream.
fn absent_if_not_found<T>(r: io::Result<Option<T>>) -> io::Result<Option<T>> {
    match r {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        r => r,
    }
}

impl Source for Nl80211 {
    fn interfaces(&mut self) -> Result<Vec<Interface>, CollectorError> {
        let replies = self
            .socket
            .exchange(
                self.family.id,
                NL80211_CMD_GET_INTERFACE,
                self.family.version,
                true,
                &[],
            )
            .map_err(|e| error("interface dump".into(), e))?;
        replies
            .iter()
            .map(|r| parse_interface(r))
            .collect::<io::Result<_>>()
            .map_err(|e| error("interface dump".into(), e))
    }

    fn bss(&mut self, ifi: &Interface) -> Result<Option<Bss>, CollectorError> {
        let r = self
            .dump_for(NL80211_CMD_GET_SCAN, ifi)
            .and_then(|replies| parse_bss(&replies));
        absent_if_not_found(r).map_err(|e| error(format!("scan dump of {}", ifi.name), e))
    }

    fn stations(&mut self, ifi: &Interface) -> Result<Option<Vec<Station>>, CollectorError> {
        let r = self
            .dump_for(NL80211_CMD_GET_STATION, ifi)
            .and_then(|replies| {
                // One reply without station info makes the whole list unavailable, as upstream.
                replies.iter().map(|r| parse_station(r)).collect()
            });
        absent_if_not_found(r).map_err(|e| error(format!("station dump of {}", ifi.name), e))
    }
}

/// One `NL80211_CMD_NEW_INTERFACE` reply.
pub fn parse_interface(payload: &[u8]) -> io::Result<Interface> {
    let mut ifi = Interface::default();
    for attr in Attrs::new(payload) {
        let attr = attr?;
        match attr.kind {
            NL80211_ATTR_IFINDEX => ifi.index = attr.u32()?,
            NL80211_ATTR_IFNAME => ifi.name = attr.string(),
            NL80211_ATTR_MAC => ifi.mac = attr.data.to_vec(),
            NL80211_ATTR_IFTYPE => ifi.kind = i64::from(attr.u32()?),
            NL80211_ATTR_WIPHY_FREQ => ifi.frequency_mhz = i64::from(attr.u32()?),
            _ => {}
        }
    }
    Ok(ifi)
}

/// The BSS the interface is in: the first scan entry carrying a status. None when no entry
/// has one (not connected, or not a station).
pub fn parse_bss(replies: &[Vec<u8>]) -> io::Result<Option<Bss>> {
    for reply in replies {
        for attr in Attrs::new(reply) {
            let attr = attr?;
            if attr.kind != NL80211_ATTR_BSS {
                continue;
            }
            let nested: Vec<Attr> = attr.nested().collect::<io::Result<_>>()?;
            if !nested.iter().any(|a| a.kind == NL80211_BSS_STATUS) {
                continue;
            }
            let mut bss = Bss::default();
            for a in nested {
                match a.kind {
                    NL80211_BSS_BSSID => bss.bssid = a.data.to_vec(),
                    NL80211_BSS_STATUS => bss.status = i64::from(a.u32()?),
                    NL80211_BSS_INFORMATION_ELEMENTS => {
                        if let Some(ssid) = ssid_of(a.data)? {
                            bss.ssid = ssid;
                        }
                    }
                    _ => {}
                }
            }
            return Ok(Some(bss));
        }
    }
    Ok(None)
}

/// The last SSID element of an information-element list; a truncated list is malformed.
fn ssid_of(mut ies: &[u8]) -> io::Result<Option<String>> {
    let mut ssid = None;
    while !ies.is_empty() {
        let (&[id, len], rest) = ies.split_first_chunk::<2>().ok_or_else(truncated_ie)?;
        let data = rest.get(..usize::from(len)).ok_or_else(truncated_ie)?;
        if id == IE_SSID {
            ssid = Some(go_decode_utf8(data));
        }
        ies = &rest[usize::from(len)..];
    }
    Ok(ssid)
}

fn truncated_ie() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "invalid 802.11 information element",
    )
}

/// Decodes as Go's rune loop does: every byte that does not start a valid UTF-8 sequence
/// becomes one U+FFFD (Rust's lossy decoding merges some of them).
fn go_decode_utf8(mut bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    loop {
        match std::str::from_utf8(bytes) {
            Ok(valid) => {
                s.push_str(valid);
                return s;
            }
            Err(e) => {
                let (valid, rest) = bytes.split_at(e.valid_up_to());
                s.push_str(std::str::from_utf8(valid).expect("checked prefix"));
                s.push(char::REPLACEMENT_CHARACTER);
                bytes = &rest[1..];
            }
        }
    }
}

/// One station reply; None when it has no station info (upstream's "not found").
pub fn parse_station(payload: &[u8]) -> io::Result<Option<Station>> {
    let mut mac = Vec::new();
    for attr in Attrs::new(payload) {
        let attr = attr?;
        match attr.kind {
            NL80211_ATTR_MAC => mac = attr.data.to_vec(),
            NL80211_ATTR_STA_INFO => {
                let mut station = parse_station_info(attr)?;
                station.mac = mac;
                return Ok(Some(station));
            }
            _ => {}
        }
    }
    Ok(None)
}

fn parse_station_info(info: Attr) -> io::Result<Station> {
    let mut s = Station::default();
    for a in info.nested() {
        let a = a?;
        match a.kind {
            NL80211_STA_INFO_CONNECTED_TIME => {
                s.connected_ns = i64::from(a.u32()?) * NANOS_PER_SEC;
            }
            NL80211_STA_INFO_INACTIVE_TIME => {
                s.inactive_ns = i64::from(a.u32()?) * NANOS_PER_MILLI;
            }
            NL80211_STA_INFO_RX_BYTES64 => s.receive_bytes = a.u64()? as i64,
            NL80211_STA_INFO_TX_BYTES64 => s.transmit_bytes = a.u64()? as i64,
            // The 64-bit byte counters win; a 32-bit one counts only while the value is 0.
            NL80211_STA_INFO_RX_BYTES if s.receive_bytes == 0 => {
                s.receive_bytes = i64::from(a.u32()?);
            }
            NL80211_STA_INFO_TX_BYTES if s.transmit_bytes == 0 => {
                s.transmit_bytes = i64::from(a.u32()?);
            }
            NL80211_STA_INFO_SIGNAL => s.signal_dbm = i64::from(a.i8()?),
            NL80211_STA_INFO_RX_PACKETS => s.receive_packets = i64::from(a.u32()?),
            NL80211_STA_INFO_TX_PACKETS => s.transmit_packets = i64::from(a.u32()?),
            NL80211_STA_INFO_TX_RETRIES => s.transmit_retries = i64::from(a.u32()?),
            NL80211_STA_INFO_TX_FAILED => s.transmit_failed = i64::from(a.u32()?),
            NL80211_STA_INFO_BEACON_LOSS => s.beacon_loss = i64::from(a.u32()?),
            NL80211_STA_INFO_RX_BITRATE => s.receive_bitrate = bitrate(a)?,
            NL80211_STA_INFO_TX_BITRATE => s.transmit_bitrate = bitrate(a)?,
            _ => {}
        }
    }
    Ok(s)
}

/// A rate-info attribute's bitrate in bits per second: the 32-bit field, else the 16-bit one.
fn bitrate(rate: Attr) -> io::Result<i64> {
    let mut units = 0;
    for a in rate.nested() {
        let a = a?;
        match a.kind {
            NL80211_RATE_INFO_BITRATE32 => units = i64::from(a.u32()?),
            NL80211_RATE_INFO_BITRATE if units == 0 => units = i64::from(a.u16()?),
            _ => {}
        }
    }
    Ok(units * BITRATE_UNIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attr(kind: u16, data: &[u8]) -> Vec<u8> {
        let mut buf = Vec::new();
        put_attr(&mut buf, kind, data);
        buf
    }

    fn attrs(parts: &[Vec<u8>]) -> Vec<u8> {
        parts.concat()
    }

    #[test]
    fn interface_reply() {
        let payload = attrs(&[
            attr(NL80211_ATTR_IFINDEX, &3u32.to_ne_bytes()),
            attr(NL80211_ATTR_IFNAME, b"wlan0\0"),
            attr(NL80211_ATTR_IFTYPE, &2u32.to_ne_bytes()),
            attr(NL80211_ATTR_MAC, &[0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]),
            attr(NL80211_ATTR_WIPHY_FREQ, &5180u32.to_ne_bytes()),
            attr(99, &[1, 2, 3]),
        ]);
        let ifi = parse_interface(&payload).unwrap();
        assert_eq!(ifi.index, 3);
        assert_eq!(ifi.name, "wlan0");
        assert_eq!(ifi.kind, 2);
        assert_eq!(ifi.mac, vec![0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]);
        assert_eq!(ifi.frequency_mhz, 5180);
        // A P2P device has neither index nor name.
        let p2p = parse_interface(&attr(NL80211_ATTR_IFTYPE, &10u32.to_ne_bytes())).unwrap();
        assert_eq!((p2p.name.as_str(), p2p.kind), ("", 10));
    }

    fn bss_entry(parts: &[Vec<u8>]) -> Vec<u8> {
        attr(0x8000 | NL80211_ATTR_BSS, &attrs(parts))
    }

    #[test]
    fn bss_is_the_entry_with_a_status() {
        let seen = bss_entry(&[
            attr(NL80211_BSS_BSSID, &[9; 6]),
            attr(
                NL80211_BSS_INFORMATION_ELEMENTS,
                &[0, 5, b'O', b't', b'h', b'e', b'r'],
            ),
        ]);
        let joined = bss_entry(&[
            attr(NL80211_BSS_BSSID, &[0x00, 0x11, 0x22, 0x33, 0x44, 0x55]),
            attr(2, &2412u32.to_ne_bytes()),
            // A supported-rates element, then the SSID.
            attr(
                NL80211_BSS_INFORMATION_ELEMENTS,
                &[
                    1, 2, 0x82, 0x84, 0, 7, b'E', b'x', b'a', b'm', b'p', b'l', b'e',
                ],
            ),
            attr(NL80211_BSS_STATUS, &1u32.to_ne_bytes()),
        ]);
        let replies = vec![
            attrs(&[attr(NL80211_ATTR_IFINDEX, &3u32.to_ne_bytes()), seen]),
            attrs(&[attr(NL80211_ATTR_IFINDEX, &3u32.to_ne_bytes()), joined]),
        ];
        let bss = parse_bss(&replies).unwrap().unwrap();
        assert_eq!(bss.bssid, vec![0x00, 0x11, 0x22, 0x33, 0x44, 0x55]);
        assert_eq!(bss.ssid, "Example");
        assert_eq!(bss.status, 1);
        assert_eq!(parse_bss(&replies[..1]).unwrap(), None);
        assert_eq!(parse_bss(&[]).unwrap(), None);
    }

    #[test]
    fn truncated_information_elements_are_errors() {
        let broken = bss_entry(&[
            attr(NL80211_BSS_INFORMATION_ELEMENTS, &[0, 9, b'a']),
            attr(NL80211_BSS_STATUS, &0u32.to_ne_bytes()),
        ]);
        assert!(parse_bss(&[broken]).is_err());
        assert!(ssid_of(&[0]).is_err());
        assert_eq!(ssid_of(&[]).unwrap(), None);
    }

    #[test]
    fn ssid_bytes_decode_like_go() {
        assert_eq!(go_decode_utf8("café".as_bytes()), "café");
        // A truncated three-byte sequence is two bad bytes for Go, one for Rust's lossy.
        assert_eq!(
            go_decode_utf8(&[b'a', 0xe2, 0x82, b'b']),
            "a\u{fffd}\u{fffd}b"
        );
        assert_eq!(go_decode_utf8(&[0xff]), "\u{fffd}");
    }

    fn rate(parts: &[Vec<u8>]) -> Vec<u8> {
        attrs(parts)
    }

    #[test]
    fn station_reply() {
        let info = attrs(&[
            attr(NL80211_STA_INFO_INACTIVE_TIME, &400u32.to_ne_bytes()),
            attr(NL80211_STA_INFO_RX_BYTES, &7u32.to_ne_bytes()),
            attr(NL80211_STA_INFO_TX_BYTES, &8u32.to_ne_bytes()),
            attr(NL80211_STA_INFO_SIGNAL, &[(-52i8) as u8]),
            attr(
                NL80211_STA_INFO_TX_BITRATE,
                &rate(&[
                    attr(NL80211_RATE_INFO_BITRATE, &1640u16.to_ne_bytes()),
                    attr(NL80211_RATE_INFO_BITRATE32, &1640u32.to_ne_bytes()),
                ]),
            ),
            attr(NL80211_STA_INFO_RX_PACKETS, &11u32.to_ne_bytes()),
            attr(NL80211_STA_INFO_TX_PACKETS, &12u32.to_ne_bytes()),
            attr(NL80211_STA_INFO_TX_RETRIES, &10u32.to_ne_bytes()),
            attr(NL80211_STA_INFO_TX_FAILED, &2u32.to_ne_bytes()),
            attr(
                NL80211_STA_INFO_RX_BITRATE,
                &rate(&[attr(NL80211_RATE_INFO_BITRATE, &1280u16.to_ne_bytes())]),
            ),
            attr(NL80211_STA_INFO_CONNECTED_TIME, &30u32.to_ne_bytes()),
            attr(NL80211_STA_INFO_BEACON_LOSS, &1u32.to_ne_bytes()),
            attr(NL80211_STA_INFO_RX_BYTES64, &(5u64 << 32).to_ne_bytes()),
        ]);
        let payload = attrs(&[
            attr(NL80211_ATTR_IFINDEX, &3u32.to_ne_bytes()),
            attr(NL80211_ATTR_MAC, &[0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]),
            attr(0x8000 | NL80211_ATTR_STA_INFO, &info),
        ]);
        let s = parse_station(&payload).unwrap().unwrap();
        assert_eq!(
            s,
            Station {
                mac: vec![0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff],
                connected_ns: 30 * NANOS_PER_SEC,
                inactive_ns: 400 * NANOS_PER_MILLI,
                receive_bitrate: 128_000_000,
                transmit_bitrate: 164_000_000,
                receive_bytes: 5 << 32,
                transmit_bytes: 8,
                receive_packets: 11,
                transmit_packets: 12,
                signal_dbm: -52,
                transmit_retries: 10,
                transmit_failed: 2,
                beacon_loss: 1,
            }
        );
        let no_info = attr(NL80211_ATTR_MAC, &[1; 6]);
        assert_eq!(parse_station(&no_info).unwrap(), None);
        let short = attrs(&[attr(
            NL80211_ATTR_STA_INFO,
            &attr(NL80211_STA_INFO_CONNECTED_TIME, &[1]),
        )]);
        assert!(parse_station(&short).is_err());
    }

    /// This machine may or may not have WiFi; either way opening must not fail otherwise
    /// than upstream's "not available" cases, and a present nl80211 must answer a dump.
    #[test]
    fn real_kernel_answers_or_has_no_nl80211() {
        match Nl80211::open() {
            Ok(mut nl) => {
                nl.interfaces().unwrap();
            }
            Err(e) => assert!(
                matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied
                ),
                "{e}"
            ),
        }
    }
}
