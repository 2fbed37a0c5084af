//! `--collector.wifi.fixtures=DIR`: WiFi state from JSON files instead of the kernel, the
//! layout upstream's end-to-end test uses: `interfaces.json`, and per interface
//! `<name>/bss.json` and `<name>/stationinfo.json`. The files hold upstream's library types
//! as Go's `encoding/json` writes them: field names matched case-insensitively, hardware
//! addresses in base64, durations in nanoseconds.

use std::io;
use std::path::PathBuf;

use base64::Engine;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::{Bss, Interface, Source, Station};
use crate::error::CollectorError;

pub struct Fixtures {
    dir: PathBuf,
}

impl Fixtures {
    pub fn new(dir: PathBuf) -> Self {
        Fixtures { dir }
    }

    /// The file decoded, or None when it does not exist.
    fn read<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, CollectorError> {
        let path = self.dir.join(name);
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(CollectorError::io(path, e)),
        };
        serde_json::from_slice::<Value>(&text)
            .and_then(|v| serde_json::from_value(lowercase_keys(v)))
            .map(Some)
            .map_err(|e| CollectorError::parse(path, e.to_string()))
    }
}

/// Go matches JSON keys to field names ignoring case; lower-casing the keys of every object
/// lets the derived (lower-case) names do the same.
fn lowercase_keys(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .map(|(k, v)| (k.to_lowercase(), lowercase_keys(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(lowercase_keys).collect()),
        v => v,
    }
}

/// Go's JSON form of `[]byte`: standard base64, `null` for none.
fn base64_bytes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let Some(text) = Option::<String>::deserialize(d)? else {
        return Ok(Vec::new());
    };
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(serde::de::Error::custom)
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct InterfaceJson {
    index: u32,
    name: String,
    #[serde(deserialize_with = "base64_bytes")]
    hardwareaddr: Vec<u8>,
    r#type: i64,
    frequency: i64,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct BssJson {
    ssid: String,
    #[serde(deserialize_with = "base64_bytes")]
    bssid: Vec<u8>,
    status: i64,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct StationJson {
    #[serde(deserialize_with = "base64_bytes")]
    hardwareaddr: Vec<u8>,
    connected: i64,
    inactive: i64,
    receivedbytes: i64,
    transmittedbytes: i64,
    receivedpackets: i64,
    transmittedpackets: i64,
    receivebitrate: i64,
    transmitbitrate: i64,
    signal: i64,
    transmitretries: i64,
    transmitfailed: i64,
    beaconloss: i64,
}

impl Source for Fixtures {
    fn interfaces(&mut self) -> Result<Vec<Interface>, CollectorError> {
        let path = self.dir.join("interfaces.json");
        let list: Option<Vec<InterfaceJson>> = self
            .read("interfaces.json")?
            .ok_or_else(|| CollectorError::io(path, io::ErrorKind::NotFound.into()))?;
        Ok(list
            .unwrap_or_default()
            .into_iter()
            .map(|i| Interface {
                name: i.name,
                index: i.index,
                mac: i.hardwareaddr,
                kind: i.r#type,
                frequency_mhz: i.frequency,
            })
            .collect())
    }

    fn bss(&mut self, ifi: &Interface) -> Result<Option<Bss>, CollectorError> {
        let bss: Option<BssJson> = self.read(&format!("{}/bss.json", ifi.name))?;
        Ok(bss.map(|b| Bss {
            bssid: b.bssid,
            ssid: b.ssid,
            status: b.status,
        }))
    }

    fn stations(&mut self, ifi: &Interface) -> Result<Option<Vec<Station>>, CollectorError> {
        let list: Option<Option<Vec<StationJson>>> =
            self.read(&format!("{}/stationinfo.json", ifi.name))?;
        Ok(list.map(|l| {
            l.unwrap_or_default()
                .into_iter()
                .map(|s| Station {
                    mac: s.hardwareaddr,
                    connected_ns: s.connected,
                    inactive_ns: s.inactive,
                    receive_bitrate: s.receivebitrate,
                    transmit_bitrate: s.transmitbitrate,
                    receive_bytes: s.receivedbytes,
                    transmit_bytes: s.transmittedbytes,
                    receive_packets: s.receivedpackets,
                    transmit_packets: s.transmittedpackets,
                    signal_dbm: s.signal,
                    transmit_retries: s.transmitretries,
                    transmit_failed: s.transmitfailed,
                    beacon_loss: s.beaconloss,
                })
                .collect()
        }))
    }
}
