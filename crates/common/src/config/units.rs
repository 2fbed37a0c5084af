//! Go's `units.Base2Bytes`: sizes in prometheus.yml (`body_size_limit`, retention size) and
//! blackbox.yml (`body_size_limit`), read and printed as upstream does.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A byte count written with base-2 units (`10MB` is 10 MiB), read as Go's
/// `units.ParseBase2Bytes` does: a unit is mandatory, so a bare `100` is refused, while a
/// negative size parses (the caller decides whether it makes sense).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Base2Bytes(pub i64);

const UNITS: [(&str, u32); 13] = [
    ("EiB", 60),
    ("PiB", 50),
    ("TiB", 40),
    ("GiB", 30),
    ("MiB", 20),
    ("KiB", 10),
    ("EB", 60),
    ("PB", 50),
    ("TB", 40),
    ("GB", 30),
    ("MB", 20),
    ("KB", 10),
    ("B", 0),
];

impl Base2Bytes {
    pub fn is_zero(&self) -> bool {
        self.0 == 0
    }

    /// Parses `512MB`, `1GiB512MiB`, `-1KB`; the message on failure is upstream's.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (negative, mut rest) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        if rest == "0" {
            return Ok(Base2Bytes(0));
        }
        if rest.is_empty() {
            return Err(format!("units: invalid {text}"));
        }
        let mut total: i64 = 0;
        while !rest.is_empty() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return Err(format!("units: invalid {text}"));
            }
            let number: i64 = rest[..digits]
                .parse()
                .map_err(|_| format!("units: invalid {text}"))?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let unit = &rest[..unit_len];
            let Some(&(_, shift)) = UNITS.iter().find(|(name, _)| *name == unit) else {
                return Err(format!("units: unknown unit {unit} in {text}"));
            };
            rest = &rest[unit_len..];
            total = number
                .checked_mul(1i64 << shift)
                .and_then(|bytes| total.checked_add(bytes))
                .ok_or_else(|| format!("units: overflow in {text}"))?;
        }
        Ok(Base2Bytes(if negative { -total } else { total }))
    }
}

impl fmt::Display for Base2Bytes {
    /// The largest unit that divides the value, the way upstream prints it back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        if n == 0 {
            return f.write_str("0B");
        }
        for (unit, shift) in UNITS.iter().take(6) {
            let size = 1i64 << shift;
            if n % size == 0 {
                return write!(f, "{}{unit}", n / size);
            }
        }
        write!(f, "{n}B")
    }
}

impl Serialize for Base2Bytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Base2Bytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // YAML `100` is an integer to the parser; upstream reads the text and refuses it for
        // lack of a unit, so the number is turned back into its text first.
        let value = serde_norway::Value::deserialize(deserializer)?;
        let text = match &value {
            serde_norway::Value::String(s) => s.clone(),
            serde_norway::Value::Number(n) => n.to_string(),
            other => return Err(serde::de::Error::custom(format!("invalid size {other:?}"))),
        };
        Base2Bytes::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both upstreams (Prometheus 2.42's promtool, blackbox_exporter) refuse a bare number.
    #[test]
    fn parses_and_prints_like_go() {
        assert_eq!(Base2Bytes::parse("10MB"), Ok(Base2Bytes(10 << 20)));
        assert_eq!(Base2Bytes::parse("1GiB512MiB"), Ok(Base2Bytes(1536 << 20)));
        assert_eq!(Base2Bytes::parse("-1KB"), Ok(Base2Bytes(-1024)));
        assert_eq!(Base2Bytes::parse("0"), Ok(Base2Bytes(0)));
        assert_eq!(
            Base2Bytes::parse("100"),
            Err("units: unknown unit  in 100".to_owned())
        );
        assert_eq!(Base2Bytes(10 << 20).to_string(), "10MiB");
        assert_eq!(Base2Bytes(1536 << 20).to_string(), "1536MiB");
        assert_eq!(Base2Bytes(1000).to_string(), "1000B");
    }
}
