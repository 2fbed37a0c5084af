//! Byte-level encoding primitives of upstream's `tsdb/encoding` package, as the record layouts
//! use them: big-endian fixed-width integers, Go varints (zig-zag) and uvarints, and
//! uvarint-length-prefixed strings.

use super::RecordError;

/// Appends encoded values to a byte vector.
#[derive(Debug)]
pub(crate) struct Encbuf<'a> {
    pub(crate) b: &'a mut Vec<u8>,
}

impl<'a> Encbuf<'a> {
    pub(crate) fn new(b: &'a mut Vec<u8>) -> Self {
        Encbuf { b }
    }

    pub(crate) fn byte(&mut self, v: u8) {
        self.b.push(v);
    }

    pub(crate) fn be64(&mut self, v: u64) {
        self.b.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn uvarint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.b.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.b.push(v as u8);
    }

    pub(crate) fn varint(&mut self, v: i64) {
        self.uvarint(((v << 1) ^ (v >> 63)) as u64);
    }

    pub(crate) fn uvarint_str(&mut self, s: &str) {
        self.uvarint(s.len() as u64);
        self.b.extend_from_slice(s.as_bytes());
    }
}

/// Reads encoded values from a byte slice; every read fails cleanly on truncated input.
#[derive(Debug)]
pub(crate) struct Decbuf<'a> {
    b: &'a [u8],
}

impl<'a> Decbuf<'a> {
    pub(crate) fn new(b: &'a [u8]) -> Self {
        Decbuf { b }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.b.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.b.len()
    }

    pub(crate) fn byte(&mut self) -> Result<u8, RecordError> {
        let (&v, rest) = self.b.split_first().ok_or(RecordError::Truncated)?;
        self.b = rest;
        Ok(v)
    }

    pub(crate) fn be64(&mut self) -> Result<u64, RecordError> {
        let (head, rest) = self
            .b
            .split_first_chunk::<8>()
            .ok_or(RecordError::Truncated)?;
        self.b = rest;
        Ok(u64::from_be_bytes(*head))
    }

    pub(crate) fn be64_f64(&mut self) -> Result<f64, RecordError> {
        self.be64().map(f64::from_bits)
    }

    pub(crate) fn uvarint(&mut self) -> Result<u64, RecordError> {
        let mut v = 0u64;
        for (i, &byte) in self.b.iter().enumerate().take(10) {
            if i == 9 && byte > 1 {
                return Err(RecordError::VarintOverflow);
            }
            v |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                self.b = &self.b[i + 1..];
                return Ok(v);
            }
        }
        Err(if self.b.len() >= 10 {
            RecordError::VarintOverflow
        } else {
            RecordError::Truncated
        })
    }

    pub(crate) fn varint(&mut self) -> Result<i64, RecordError> {
        let u = self.uvarint()?;
        Ok((u >> 1) as i64 ^ -((u & 1) as i64))
    }

    pub(crate) fn uvarint_str(&mut self) -> Result<&'a str, RecordError> {
        let len = usize::try_from(self.uvarint()?).map_err(|_| RecordError::Truncated)?;
        if len > self.b.len() {
            return Err(RecordError::Truncated);
        }
        let (s, rest) = self.b.split_at(len);
        self.b = rest;
        std::str::from_utf8(s).map_err(|_| RecordError::InvalidUtf8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_like_go() {
        let mut b = Vec::new();
        let mut e = Encbuf::new(&mut b);
        for v in [0i64, 1, -1, 63, -64, 64, i64::MAX, i64::MIN] {
            e.varint(v);
        }
        e.uvarint(u64::MAX);
        // Go's binary.PutVarint(-1) is the single byte 0x01, PutVarint(64) is 0x80 0x01.
        assert_eq!(&b[..4], &[0x00, 0x02, 0x01, 0x7e]);
        let mut d = Decbuf::new(&b);
        for v in [0i64, 1, -1, 63, -64, 64, i64::MAX, i64::MIN] {
            assert_eq!(d.varint().unwrap(), v);
        }
        assert_eq!(d.uvarint().unwrap(), u64::MAX);
        assert!(d.is_empty());
        assert_eq!(d.byte(), Err(RecordError::Truncated));
    }

    #[test]
    fn truncated_input_is_an_error() {
        assert_eq!(Decbuf::new(&[0x80]).uvarint(), Err(RecordError::Truncated));
        assert_eq!(Decbuf::new(&[1, 2, 3]).be64(), Err(RecordError::Truncated));
        assert_eq!(
            Decbuf::new(&[5, b'a']).uvarint_str(),
            Err(RecordError::Truncated)
        );
        assert_eq!(
            Decbuf::new(&[0xff; 11]).uvarint(),
            Err(RecordError::VarintOverflow)
        );
    }
}
