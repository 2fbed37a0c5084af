//! `body_size_limit`: a byte count written with base-2 units (`1MB` is 1 MiB), as the Go
//! `units.Base2Bytes` type reads it.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A size in bytes; zero means "no limit".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Base2Bytes(pub u64);

impl Base2Bytes {
    pub fn is_zero(&self) -> bool {
        self.0 == 0
    }

    /// Parses `1MB`, `512KiB`, `1GB512MB`, `0`; every unit is a power of 1024.
    pub fn parse(text: &str) -> Result<Self, String> {
        let err = || format!("invalid byte size {text:?}");
        let s = text.trim();
        if s == "0" {
            return Ok(Base2Bytes(0));
        }
        let mut rest = s;
        let mut total: u64 = 0;
        if rest.is_empty() {
            return Err(err());
        }
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(err());
            }
            let number: u64 = rest[..digits].parse().map_err(|_| err())?;
            rest = &rest[digits..];
            let unit_len = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
            let shift = match &rest[..unit_len] {
                "B" => 0,
                "KB" | "KiB" => 10,
                "MB" | "MiB" => 20,
                "GB" | "GiB" => 30,
                "TB" | "TiB" => 40,
                "PB" | "PiB" => 50,
                "EB" | "EiB" => 60,
                _ => return Err(err()),
            };
            rest = &rest[unit_len..];
            let bytes = number.checked_shl(shift).filter(|b| b >> shift == number);
            total = bytes.and_then(|b| total.checked_add(b)).ok_or_else(err)?;
        }
        Ok(Base2Bytes(total))
    }
}

impl<'de> Deserialize<'de> for Base2Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(u64),
            Text(String),
        }
        match Raw::deserialize(deserializer)? {
            Raw::Int(n) => Ok(Base2Bytes(n)),
            Raw::Text(t) => Base2Bytes::parse(&t).map_err(serde::de::Error::custom),
        }
    }
}

impl Serialize for Base2Bytes {
    /// Printed with the largest unit that divides it, as upstream's `String()` does.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        const UNITS: [(&str, u32); 6] = [
            ("EiB", 60),
            ("PiB", 50),
            ("TiB", 40),
            ("GiB", 30),
            ("MiB", 20),
            ("KiB", 10),
        ];
        let n = self.0;
        for (unit, shift) in UNITS {
            if n != 0 && n.trailing_zeros() >= shift {
                return serializer.serialize_str(&format!("{}{unit}", n >> shift));
            }
        }
        serializer.serialize_str(&format!("{n}B"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_base2_units() {
        assert_eq!(Base2Bytes::parse("1MB").unwrap().0, 1 << 20);
        assert_eq!(Base2Bytes::parse("1KiB").unwrap().0, 1024);
        assert_eq!(
            Base2Bytes::parse("1GB512MB").unwrap().0,
            (1 << 30) + (512 << 20)
        );
        assert_eq!(Base2Bytes::parse("0").unwrap().0, 0);
        assert!(Base2Bytes::parse("12").is_err());
        assert!(Base2Bytes::parse("1XB").is_err());
        assert!(Base2Bytes::parse("99999999999EB").is_err());
    }
}
