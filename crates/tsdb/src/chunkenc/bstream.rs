//! Bit streams, written and read most significant bit first, as in upstream's
//! `tsdb/chunkenc/bstream.go`: the chunk encodings pack fields of any width back to back, and the
//! resulting bytes must match upstream's bit for bit.

use super::ChunkError;

/// An append-only bit stream over a byte vector.
///
/// `free` is the number of low bits of the last byte not yet written. It mirrors upstream's
/// `bstream.count` exactly, including its quirk: a whole-byte write always appends a fresh byte
/// for the bits that spill over, so after a byte-aligned byte write the stream ends in an empty
/// byte (`free == 8`). Upstream stores that byte in chunks, so we must produce it too.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct BitWriter {
    bytes: Vec<u8>,
    free: u32,
}

impl BitWriter {
    pub(crate) fn from_bytes(bytes: Vec<u8>) -> Self {
        Self { bytes, free: 0 }
    }

    /// Resumes writing after bit position `bit_len` of `bytes`, whose bits past that position
    /// must be zero: either the bytes that position needs or, after a byte-aligned position,
    /// one more empty byte (see the type docs).
    pub(crate) fn resume(bytes: Vec<u8>, bit_len: usize) -> Self {
        let free = bytes.len() * 8 - bit_len;
        debug_assert!(free <= 8);
        Self {
            bytes,
            free: free as u32,
        }
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    pub(crate) fn write_bit(&mut self, bit: bool) {
        self.write_bits(u64::from(bit), 1);
    }

    /// Writes the low `n` bits of `value` (`n <= 64`), most significant first.
    ///
    /// Upstream writes whole bytes with `writeByte` and the rest with `writeBit`; only the
    /// resulting length differs from plain bit packing: a write that used `writeByte` and ends
    /// after a whole number of bytes leaves an empty byte behind. The bits are placed in one go.
    pub(crate) fn write_bits(&mut self, value: u64, n: u32) {
        debug_assert!(n <= 64);
        if n == 0 {
            return;
        }
        let pos = self.bytes.len() * 8 - self.free as usize;
        let end = pos + n as usize;
        let len = if n >= 8 && n.is_multiple_of(8) {
            end / 8 + 1
        } else {
            end.div_ceil(8)
        };
        self.bytes.resize(len, 0);
        let shift = (pos % 8) as u32;
        let placed = (u128::from(value) << (128 - n)) >> shift;
        let first = pos / 8;
        let span = (shift + n).div_ceil(8) as usize;
        for (dst, src) in self.bytes[first..first + span]
            .iter_mut()
            .zip(placed.to_be_bytes())
        {
            *dst |= src;
        }
        self.free = (len * 8 - end) as u32;
    }

    pub(crate) fn write_byte(&mut self, byte: u8) {
        self.write_bits(u64::from(byte), 8);
    }

    /// Go's `binary.PutVarint`: zig-zag, then unsigned varint.
    pub(crate) fn write_varint(&mut self, v: i64) {
        self.write_uvarint(((v << 1) ^ (v >> 63)) as u64);
    }

    /// Go's `binary.PutUvarint`: 7 bits per byte, low groups first, high bit = more follows.
    pub(crate) fn write_uvarint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.write_byte((v as u8) | 0x80);
            v >>= 7;
        }
        self.write_byte(v as u8);
    }
}

/// A reader over a bit stream written by [`BitWriter`].
#[derive(Clone, Debug)]
pub(crate) struct BitReader<'a> {
    bytes: &'a [u8],
    /// Position of the next bit to read, counted from the start of `bytes`.
    pos: usize,
}

impl<'a> BitReader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// Bits consumed so far.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// The whole stream, for decoders that read fields by position themselves.
    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Continues at bit `pos` (at most the stream's length) after such a decoder.
    pub(crate) fn set_position(&mut self, pos: usize) {
        debug_assert!(pos <= self.bytes.len() * 8);
        self.pos = pos;
    }

    pub(crate) fn read_bit(&mut self) -> Result<bool, ChunkError> {
        let byte = *self.bytes.get(self.pos / 8).ok_or(ChunkError::Truncated)?;
        let bit = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Ok(bit == 1)
    }

    /// Reads `n <= 64` bits as the low bits of the result.
    pub(crate) fn read_bits(&mut self, n: u32) -> Result<u64, ChunkError> {
        debug_assert!(n <= 64);
        if n == 0 {
            return Ok(0);
        }
        if self.pos + n as usize > self.bytes.len() * 8 {
            return Err(ChunkError::Truncated);
        }
        let start = self.pos / 8;
        let shift = (self.pos % 8) as u32;
        if let Some(word) = self.bytes.get(start..start + 8) {
            let mut word = u64::from_be_bytes(word.try_into().expect("8 bytes")) << shift;
            if shift + n > 64 {
                // The bounds check above guarantees the ninth byte holds the remaining bits.
                word |= u64::from(self.bytes[start + 8]) >> (8 - shift);
            }
            self.pos += n as usize;
            return Ok(word >> (64 - n));
        }
        // Near the end: nine bytes always cover 64 bits at any bit offset.
        let mut window = [0u8; 16];
        let end = (start + 9).min(self.bytes.len());
        window[..end - start].copy_from_slice(&self.bytes[start..end]);
        let word = u128::from_be_bytes(window) << shift;
        self.pos += n as usize;
        Ok((word >> (128 - n)) as u64)
    }

    pub(crate) fn read_byte(&mut self) -> Result<u8, ChunkError> {
        Ok(self.read_bits(8)? as u8)
    }

    pub(crate) fn read_uvarint(&mut self) -> Result<u64, ChunkError> {
        let mut value = 0u64;
        for i in 0..10 {
            let byte = self.read_byte()?;
            if i == 9 && byte > 1 {
                return Err(ChunkError::VarintOverflow);
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                return Ok(value);
            }
        }
        Err(ChunkError::VarintOverflow)
    }

    pub(crate) fn read_varint(&mut self) -> Result<i64, ChunkError> {
        let u = self.read_uvarint()?;
        Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_round_trip_at_every_alignment() {
        let mut w = BitWriter::default();
        let fields: Vec<(u64, u32)> = (1..=64u32)
            .map(|n| (0xdead_beef_cafe_f00d_u64 >> (64 - n), n))
            .collect();
        for &(v, n) in &fields {
            w.write_bits(v, n);
            w.write_bit(n % 2 == 0);
        }
        let bytes = w.into_bytes();
        let mut r = BitReader::new(&bytes);
        for &(v, n) in &fields {
            assert_eq!(r.read_bits(n).unwrap(), v, "width {n}");
            assert_eq!(r.read_bit().unwrap(), n % 2 == 0);
        }
    }

    /// Upstream's `bstream` transcribed literally: `count` free bits, `writeByte` always appends.
    #[derive(Default)]
    struct GoModel {
        stream: Vec<u8>,
        count: u32,
    }

    impl GoModel {
        fn write_bit(&mut self, bit: bool) {
            if self.count == 0 {
                self.stream.push(0);
                self.count = 8;
            }
            let last = self.stream.len() - 1;
            if bit {
                self.stream[last] |= 1 << (self.count - 1);
            }
            self.count -= 1;
        }

        fn write_byte(&mut self, byte: u8) {
            if self.count == 0 {
                self.stream.push(0);
                self.count = 8;
            }
            let last = self.stream.len() - 1;
            self.stream[last] |= byte >> (8 - self.count);
            self.stream.push(byte.checked_shl(self.count).unwrap_or(0));
        }

        fn write_bits(&mut self, value: u64, mut n: u32) {
            while n >= 8 {
                n -= 8;
                self.write_byte((value >> n) as u8);
            }
            while n > 0 {
                n -= 1;
                self.write_bit((value >> n) & 1 == 1);
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn matches_upstream_bstream(writes in proptest::collection::vec((proptest::num::u64::ANY, 0u32..=64), 0..60)) {
            let mut ours = BitWriter::default();
            let mut go = GoModel::default();
            for (v, n) in writes {
                let v = if n == 64 { v } else { v & ((1 << n) - 1) };
                ours.write_bits(v, n);
                go.write_bits(v, n);
                proptest::prop_assert_eq!(ours.bytes(), &go.stream[..]);
                proptest::prop_assert_eq!(ours.free, go.count);
            }
        }
    }

    #[test]
    fn msb_first_layout() {
        let mut w = BitWriter::default();
        w.write_bits(0b101, 3);
        w.write_bits(0b11111, 5);
        w.write_bit(true);
        assert_eq!(w.bytes(), &[0b1011_1111, 0b1000_0000]);
    }

    #[test]
    fn varints_match_go_encoding() {
        let mut w = BitWriter::default();
        w.write_varint(-1);
        w.write_varint(64);
        w.write_uvarint(300);
        // The trailing empty byte is upstream's (see `BitWriter`).
        assert_eq!(w.bytes(), &[0x01, 0x80, 0x01, 0xac, 0x02, 0x00]);
        let bytes = w.into_bytes();
        let mut r = BitReader::new(&bytes);
        assert_eq!(r.read_varint().unwrap(), -1);
        assert_eq!(r.read_varint().unwrap(), 64);
        assert_eq!(r.read_uvarint().unwrap(), 300);
        assert_eq!(r.read_byte().unwrap(), 0);
        assert!(matches!(r.read_bit(), Err(ChunkError::Truncated)));
    }

    #[test]
    fn byte_writes_leave_an_empty_tail_that_bits_reuse() {
        let mut w = BitWriter::default();
        w.write_bits(0xab, 8);
        assert_eq!(w.bytes(), &[0xab, 0x00]);
        w.write_bits(0b1, 1);
        assert_eq!(w.bytes(), &[0xab, 0x80]);
        w.write_bits(0x1ff, 9);
        assert_eq!(w.bytes(), &[0xab, 0xff, 0xc0]);
        let mut w = BitWriter::resume(vec![0xab, 0x00], 8);
        w.write_bit(true);
        assert_eq!(w.bytes(), &[0xab, 0x80]);
    }

    #[test]
    fn resume_continues_a_partial_byte() {
        let mut w = BitWriter::default();
        w.write_bits(0b1, 1);
        let mut w = BitWriter::resume(w.into_bytes(), 1);
        w.write_bits(0b1, 1);
        assert_eq!(w.bytes(), &[0b1100_0000]);
    }
}
