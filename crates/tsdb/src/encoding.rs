//! Byte-level helpers shared by the index and tombstone formats: Go's varints, big-endian
//! integers and CRC32-Castagnoli checksummed sections.

/// A read ran past the end of its buffer or found an invalid value.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    #[error("unexpected end of data")]
    Truncated,
    #[error("varint overflows 64 bits")]
    VarintOverflow,
    #[error("value {0} does not fit 32 bits")]
    Overflow32(u64),
    #[error("string is not valid UTF-8")]
    InvalidUtf8,
    #[error("checksum mismatch (stored {stored:#010x}, computed {computed:#010x})")]
    Checksum { stored: u32, computed: u32 },
}

/// An append-only encoding buffer.
#[derive(Debug, Default, Clone)]
pub struct EncBuf {
    pub bytes: Vec<u8>,
}

impl EncBuf {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn clear(&mut self) {
        self.bytes.clear();
    }

    pub fn put_byte(&mut self, b: u8) {
        self.bytes.push(b);
    }

    pub fn put_be32(&mut self, v: u32) {
        self.bytes.extend_from_slice(&v.to_be_bytes());
    }

    pub fn put_be64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_be_bytes());
    }

    /// Go's `binary.PutUvarint`.
    pub fn put_uvarint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.bytes.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.bytes.push(v as u8);
    }

    /// Go's `binary.PutVarint` (zig-zag).
    pub fn put_varint(&mut self, v: i64) {
        self.put_uvarint(((v << 1) ^ (v >> 63)) as u64);
    }

    /// A string prefixed with its byte length as uvarint.
    pub fn put_uvarint_str(&mut self, s: &str) {
        self.put_uvarint(s.len() as u64);
        self.bytes.extend_from_slice(s.as_bytes());
    }

    /// Overwrites 4 bytes at `at` with `v`, for length fields known only after the body.
    pub fn patch_be32(&mut self, at: usize, v: u32) {
        self.bytes[at..at + 4].copy_from_slice(&v.to_be_bytes());
    }

    /// Appends the CRC32-Castagnoli of `self.bytes[from..]`.
    pub fn put_crc32_of(&mut self, from: usize) {
        let crc = crc32c::crc32c(&self.bytes[from..]);
        self.put_be32(crc);
    }
}

/// A cursor over encoded bytes; every read fails cleanly on short data.
#[derive(Debug, Clone, Copy)]
pub struct DecBuf<'a> {
    rest: &'a [u8],
}

impl<'a> DecBuf<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    pub fn rest(&self) -> &'a [u8] {
        self.rest
    }

    pub fn byte(&mut self) -> Result<u8, DecodeError> {
        let (&b, rest) = self.rest.split_first().ok_or(DecodeError::Truncated)?;
        self.rest = rest;
        Ok(b)
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if n > self.rest.len() {
            return Err(DecodeError::Truncated);
        }
        let (b, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(b)
    }

    pub fn skip(&mut self, n: usize) -> Result<(), DecodeError> {
        self.bytes(n).map(|_| ())
    }

    pub fn be32(&mut self) -> Result<u32, DecodeError> {
        let b = self.bytes(4)?;
        Ok(u32::from_be_bytes(b.try_into().expect("4 bytes")))
    }

    pub fn be64(&mut self) -> Result<u64, DecodeError> {
        let b = self.bytes(8)?;
        Ok(u64::from_be_bytes(b.try_into().expect("8 bytes")))
    }

    /// Go's `binary.Uvarint`.
    pub fn uvarint(&mut self) -> Result<u64, DecodeError> {
        let mut value = 0u64;
        for i in 0..10 {
            let b = self.byte()?;
            if i == 9 && b > 1 {
                return Err(DecodeError::VarintOverflow);
            }
            value |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(value);
            }
        }
        Err(DecodeError::VarintOverflow)
    }

    pub fn uvarint32(&mut self) -> Result<u32, DecodeError> {
        let v = self.uvarint()?;
        u32::try_from(v).map_err(|_| DecodeError::Overflow32(v))
    }

    /// Go's `binary.Varint` (zig-zag).
    pub fn varint(&mut self) -> Result<i64, DecodeError> {
        let u = self.uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }

    pub fn uvarint_str(&mut self) -> Result<&'a str, DecodeError> {
        let len = self.uvarint()?;
        let len = usize::try_from(len).map_err(|_| DecodeError::Truncated)?;
        std::str::from_utf8(self.bytes(len)?).map_err(|_| DecodeError::InvalidUtf8)
    }
}

/// Verifies that the 4 big-endian bytes after `data` hold its CRC32-Castagnoli.
pub fn check_crc(data: &[u8], stored: &[u8]) -> Result<(), DecodeError> {
    let stored = u32::from_be_bytes(stored.try_into().map_err(|_| DecodeError::Truncated)?);
    let computed = crc32c::crc32c(data);
    if stored == computed {
        Ok(())
    } else {
        Err(DecodeError::Checksum { stored, computed })
    }
}

/// The section of `buf` at `offset` laid out as `len <4b> | data <len bytes> | CRC32 <4b>`,
/// checksum verified; returns the data.
pub fn read_be32_section(buf: &[u8], offset: usize) -> Result<&[u8], DecodeError> {
    let mut d = DecBuf::new(buf.get(offset..).ok_or(DecodeError::Truncated)?);
    let len = d.be32()? as usize;
    let data = d.bytes(len)?;
    check_crc(data, d.bytes(4)?)?;
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_round_trip_like_go() {
        let mut e = EncBuf::new();
        let values = [
            0i64,
            1,
            -1,
            63,
            -64,
            64,
            i64::MAX,
            i64::MIN,
            1_700_000_000_000,
        ];
        for v in values {
            e.put_varint(v);
            e.put_uvarint(v as u64);
        }
        let mut d = DecBuf::new(&e.bytes);
        for v in values {
            assert_eq!(d.varint().unwrap(), v);
            assert_eq!(d.uvarint().unwrap(), v as u64);
        }
        assert_eq!(d.remaining(), 0);
        // Go encodes -1 as zig-zag 1, 300 as 0xac 0x02.
        let mut e = EncBuf::new();
        e.put_varint(-1);
        e.put_uvarint(300);
        assert_eq!(e.bytes, [1, 0xac, 0x02]);
    }

    #[test]
    fn short_data_and_bad_checksums_are_errors() {
        assert_eq!(DecBuf::new(&[0x80]).uvarint(), Err(DecodeError::Truncated));
        assert_eq!(DecBuf::new(&[1, 2]).be32(), Err(DecodeError::Truncated));
        let mut e = EncBuf::new();
        e.put_be32(3);
        e.bytes.extend_from_slice(b"abc");
        e.put_crc32_of(4);
        assert_eq!(read_be32_section(&e.bytes, 0).unwrap(), b"abc");
        let last = e.bytes.len() - 1;
        e.bytes[last] ^= 1;
        assert!(matches!(
            read_be32_section(&e.bytes, 0),
            Err(DecodeError::Checksum { .. })
        ));
    }
}
