//! The XOR float chunk, bit for bit as upstream's `tsdb/chunkenc/xor.go` (format described in
//! prometheus `tsdb/docs/format/chunks.md`, "XOR chunk data"):
//!
//! ```text
//! num_samples u16 big-endian
//! t0 varint | v0 64 raw bits
//! t1-t0 uvarint | xor(v1)
//! then per sample: dod(t) | xor(v)
//! ```
//!
//! The timestamp delta-of-delta is `0` for 0, else a unary prefix `10`/`110`/`1110` followed by 14,
//! 17 or 20 bits of two's complement, or `1111` and all 64 bits. A value is `0` when equal to the
//! previous one; else `1`, then either `0` and the meaningful bits inside the previous
//! leading/trailing zero window, or `1`, 5 bits of leading zeros (capped at 31), 6 bits of
//! meaningful-bit count (64 written as 0) and those bits.

use super::bstream::{BitReader, BitWriter};
use super::{ChunkError, ValueType};

/// Bytes of the sample count that starts every chunk.
const HEADER_LEN: usize = 2;

/// Marks "no leading/trailing window yet", so the first changed value always writes one.
const NO_WINDOW: u8 = 0xff;

/// A float chunk. Holds exactly the bytes upstream stores for it, header included.
///
/// The encoder state after the last sample is kept beside the bytes, so appending one sample at
/// a time (the head's hot path) costs O(1); only a chunk wrapped from bytes is decoded once, on
/// its first append.
#[derive(Clone, Debug)]
pub struct XorChunk {
    stream: BitWriter,
    /// `None` until known: a chunk from bytes has not been decoded yet.
    state: Option<EncoderState>,
}

/// Two chunks are equal when their bytes are: the cached encoder state is derived from them.
impl PartialEq for XorChunk {
    fn eq(&self, other: &Self) -> bool {
        self.bytes() == other.bytes()
    }
}

impl Eq for XorChunk {}

impl Default for XorChunk {
    fn default() -> Self {
        Self::new()
    }
}

impl XorChunk {
    pub fn new() -> Self {
        // A 120-sample chunk of a typical series takes 100-300 bytes; start big enough to skip
        // most regrowth, as upstream does.
        let mut bytes = Vec::with_capacity(128);
        bytes.resize(HEADER_LEN, 0);
        Self {
            stream: BitWriter::from_bytes(bytes),
            state: Some(EncoderState::EMPTY),
        }
    }

    /// Wraps chunk bytes read from disk or received from elsewhere. Only the header is checked
    /// here; corrupt sample data surfaces as an iterator error.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, ChunkError> {
        if bytes.len() < HEADER_LEN {
            return Err(ChunkError::MissingHeader);
        }
        Ok(Self {
            stream: BitWriter::from_bytes(bytes),
            state: None,
        })
    }

    pub fn bytes(&self) -> &[u8] {
        self.stream.bytes()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.stream.into_bytes()
    }

    pub fn num_samples(&self) -> u16 {
        header_count(self.stream.bytes())
    }

    pub fn iter(&self) -> XorIterator<'_> {
        XorIterator::new(self.stream.bytes())
    }

    /// An appender that continues after the chunk's last sample. Cheap for a chunk built by
    /// appending; a chunk wrapped from bytes is decoded once (see [`Self::resume`]).
    pub fn appender(&mut self) -> Result<XorAppender<'_>, ChunkError> {
        if self.state.is_none() {
            self.resume()?;
        }
        Ok(XorAppender { chunk: self })
    }

    /// Decodes the whole chunk to recover the encoder state (last timestamp and delta, last
    /// value, zero window) and where the last sample's bits end, so a chunk read back from
    /// bytes can be extended exactly as if it had never been closed.
    fn resume(&mut self) -> Result<(), ChunkError> {
        let mut it = self.iter();
        while it.next_value() != ValueType::None {}
        if let Some(err) = it.err() {
            return Err(err.clone());
        }
        let state = EncoderState {
            num: it.read,
            t: it.t,
            v: it.v,
            t_delta: it.t_delta,
            leading: it.leading,
            trailing: it.trailing,
        };
        let bit_len = HEADER_LEN * 8 + it.reader.position();
        let mut bytes = std::mem::take(&mut self.stream).into_bytes();
        let used = bit_len.div_ceil(8);
        // Keep upstream's empty byte after a byte-aligned end, so continuing a chunk yields the
        // same bytes as never having stopped (see `BitWriter`).
        let aligned = bit_len.is_multiple_of(8);
        let empty_tail = aligned && bytes.len() > used;
        bytes.truncate(used + usize::from(empty_tail));
        // Bits past the last sample carry no data, and a writer ORs into them.
        if empty_tail {
            bytes[used] = 0;
        } else if !aligned {
            bytes[used - 1] &= 0xffu8 << (8 - bit_len % 8);
        }
        self.stream = BitWriter::resume(bytes, bit_len);
        self.state = Some(state);
        Ok(())
    }
}

fn header_count(bytes: &[u8]) -> u16 {
    u16::from_be_bytes([bytes[0], bytes[1]])
}

/// What encoding the next sample needs to know about the previous ones.
#[derive(Clone, Copy, Debug)]
struct EncoderState {
    num: u16,
    t: i64,
    v: f64,
    t_delta: u64,
    leading: u8,
    trailing: u8,
}

impl EncoderState {
    const EMPTY: Self = Self {
        num: 0,
        t: i64::MIN,
        v: 0.0,
        t_delta: 0,
        leading: NO_WINDOW,
        trailing: 0,
    };
}

/// Appends samples with strictly increasing timestamps to a [`XorChunk`].
#[derive(Debug)]
pub struct XorAppender<'a> {
    chunk: &'a mut XorChunk,
}

impl XorAppender<'_> {
    pub fn append(&mut self, t: i64, v: f64) -> Result<(), ChunkError> {
        let XorChunk { stream: w, state } = &mut *self.chunk;
        let s = state
            .as_mut()
            .expect("an appender exists only for a chunk with a known encoder state");
        if s.num == u16::MAX {
            return Err(ChunkError::Full(u16::MAX));
        }
        if s.num > 0 && t <= s.t {
            return Err(ChunkError::OutOfOrder { t, last: s.t });
        }
        let mut t_delta = 0;
        match s.num {
            0 => {
                w.write_varint(t);
                w.write_bits(v.to_bits(), 64);
                s.leading = NO_WINDOW;
            }
            1 => {
                t_delta = t.wrapping_sub(s.t) as u64;
                w.write_uvarint(t_delta);
                write_xor(w, v, s.v, &mut s.leading, &mut s.trailing);
            }
            _ => {
                t_delta = t.wrapping_sub(s.t) as u64;
                write_dod(w, t_delta.wrapping_sub(s.t_delta) as i64);
                write_xor(w, v, s.v, &mut s.leading, &mut s.trailing);
            }
        }
        s.t = t;
        s.v = v;
        s.t_delta = t_delta;
        s.num += 1;
        w.bytes_mut()[..HEADER_LEN].copy_from_slice(&s.num.to_be_bytes());
        Ok(())
    }
}

/// Whether `x` fits the `nbits` two's complement field as upstream bounds it: one less on the
/// negative side than two's complement allows, one more on the positive side. The reader maps
/// the top pattern back to the positive value, so this asymmetry is part of the format.
fn fits(x: i64, nbits: u32) -> bool {
    let half = 1i64 << (nbits - 1);
    -(half - 1) <= x && x <= half
}

fn write_dod(w: &mut BitWriter, dod: i64) {
    if dod == 0 {
        w.write_bit(false);
    } else if fits(dod, 14) {
        w.write_bits(0b10, 2);
        w.write_bits(dod as u64, 14);
    } else if fits(dod, 17) {
        w.write_bits(0b110, 3);
        w.write_bits(dod as u64, 17);
    } else if fits(dod, 20) {
        w.write_bits(0b1110, 4);
        w.write_bits(dod as u64, 20);
    } else {
        w.write_bits(0b1111, 4);
        w.write_bits(dod as u64, 64);
    }
}

pub(crate) fn write_xor(w: &mut BitWriter, v: f64, prev: f64, leading: &mut u8, trailing: &mut u8) {
    let delta = v.to_bits() ^ prev.to_bits();
    if delta == 0 {
        w.write_bit(false);
        return;
    }
    w.write_bit(true);
    // Five bits hold the leading count, so anything beyond 31 is stored as 31.
    let new_leading = (delta.leading_zeros() as u8).min(31);
    let new_trailing = delta.trailing_zeros() as u8;
    if *leading != NO_WINDOW && new_leading >= *leading && new_trailing >= *trailing {
        w.write_bit(false);
        let sig = 64 - u32::from(*leading) - u32::from(*trailing);
        w.write_bits(delta >> *trailing, sig);
        return;
    }
    *leading = new_leading;
    *trailing = new_trailing;
    w.write_bit(true);
    w.write_bits(u64::from(new_leading), 5);
    let sig = 64 - u32::from(new_leading) - u32::from(new_trailing);
    // 64 meaningful bits do not fit 6 bits; they are written as 0, which never occurs otherwise.
    w.write_bits(u64::from(sig) & 0x3f, 6);
    w.write_bits(delta >> new_trailing, sig);
}

/// Decodes a [`XorChunk`] sample by sample, like upstream's `chunkenc.Iterator`.
#[derive(Clone, Debug)]
pub struct XorIterator<'a> {
    reader: BitReader<'a>,
    total: u16,
    read: u16,
    t: i64,
    v: f64,
    t_delta: u64,
    leading: u8,
    trailing: u8,
    err: Option<ChunkError>,
}

impl<'a> XorIterator<'a> {
    /// Iterates over raw chunk bytes (header included).
    pub fn new(bytes: &'a [u8]) -> Self {
        let (total, body, err) = if bytes.len() < HEADER_LEN {
            (0, &[][..], Some(ChunkError::MissingHeader))
        } else {
            (header_count(bytes), &bytes[HEADER_LEN..], None)
        };
        Self {
            reader: BitReader::new(body),
            total,
            read: 0,
            t: i64::MIN,
            v: 0.0,
            t_delta: 0,
            leading: NO_WINDOW,
            trailing: 0,
            err,
        }
    }

    /// Moves to the next sample; [`ValueType::None`] at the end or on corrupt data (see
    /// [`Self::err`]).
    pub fn next_value(&mut self) -> ValueType {
        if self.err.is_some() || self.read == self.total {
            return ValueType::None;
        }
        match self.decode_next() {
            Ok(()) => {
                self.read += 1;
                ValueType::Float
            }
            Err(err) => {
                self.err = Some(err);
                ValueType::None
            }
        }
    }

    /// Advances to the first sample at or after `t`. Never moves backwards: if the current
    /// sample is already at or after `t`, it stays put.
    pub fn seek(&mut self, t: i64) -> ValueType {
        if self.err.is_some() {
            return ValueType::None;
        }
        while self.read == 0 || self.t < t {
            if self.next_value() == ValueType::None {
                return ValueType::None;
            }
        }
        ValueType::Float
    }

    /// The current sample. Only meaningful after `next_value`/`seek` returned `Float`.
    pub fn at(&self) -> (i64, f64) {
        (self.t, self.v)
    }

    pub fn at_t(&self) -> i64 {
        self.t
    }

    pub fn err(&self) -> Option<&ChunkError> {
        self.err.as_ref()
    }

    /// Decodes the remaining samples up to `maxt` in one loop, handing each to `f`; stops
    /// after the first sample past `maxt` (not handed out), at the end, or on corrupt data
    /// (see [`Self::err`]). Range queries read nearly every sample through here, so from the
    /// third sample on (timestamps as delta-of-delta, values against a window) each field is
    /// taken from one 64-bit look at the stream instead of bit by bit, and the stream is
    /// checked once per sample: a sample is complete when its last field ends within the data.
    pub fn decode_until(&mut self, maxt: i64, mut f: impl FnMut(i64, f64)) {
        while self.read < 2 {
            if self.next_value() == ValueType::None || self.t > maxt {
                return;
            }
            f(self.t, self.v);
        }
        let bytes = self.reader.bytes();
        let end = bytes.len() * 8;
        let mut pos = self.reader.position();
        let (mut t, mut v, mut t_delta) = (self.t, self.v.to_bits(), self.t_delta);
        let (mut leading, mut trailing) = (self.leading, self.trailing);
        let mut read = self.read;
        let mut err = None;
        while read < self.total {
            let w = peek(bytes, pos);
            if w >> 63 != 0 {
                let ones = (!w).leading_zeros().min(4);
                let dod = if ones < 4 {
                    let width = 11 + 3 * ones;
                    let bits = ((w << (ones + 1)) >> (64 - width)) as i64;
                    pos += (ones + 1 + width) as usize;
                    // Patterns above the positive bound are negative (see `fits`).
                    if bits > 1 << (width - 1) {
                        bits - (1 << width)
                    } else {
                        bits
                    }
                } else {
                    let bits = peek(bytes, pos + 4);
                    pos += 68;
                    bits as i64
                };
                t_delta = t_delta.wrapping_add(dod as u64);
            } else {
                pos += 1;
            }
            t = t.wrapping_add(t_delta as i64);
            let w = peek(bytes, pos);
            if w >> 63 == 0 {
                pos += 1;
            } else {
                if w & (1 << 62) != 0 {
                    leading = ((w >> 57) & 0x1f) as u8;
                    let sig = match ((w >> 51) & 0x3f) as u8 {
                        0 => 64,
                        n => n,
                    };
                    pos += 13;
                    let Some(tr) = 64u8.checked_sub(leading + sig) else {
                        err = Some(ChunkError::Truncated);
                        break;
                    };
                    trailing = tr;
                } else if leading == NO_WINDOW {
                    err = Some(if pos + 2 > end {
                        ChunkError::Truncated
                    } else {
                        ChunkError::NoPreviousWindow
                    });
                    break;
                } else {
                    pos += 2;
                }
                let sig = 64 - u32::from(leading) - u32::from(trailing);
                v ^= (peek(bytes, pos) >> (64 - sig)) << trailing;
                pos += sig as usize;
            }
            if pos > end {
                err = Some(ChunkError::Truncated);
                break;
            }
            read += 1;
            if t > maxt {
                break;
            }
            f(t, f64::from_bits(v));
        }
        self.reader.set_position(pos.min(end));
        (self.t, self.v, self.t_delta) = (t, f64::from_bits(v), t_delta);
        (self.leading, self.trailing, self.read) = (leading, trailing, read);
        if err.is_some() {
            self.err = err;
        }
    }

    fn decode_next(&mut self) -> Result<(), ChunkError> {
        let r = &mut self.reader;
        match self.read {
            0 => {
                self.t = r.read_varint()?;
                self.v = f64::from_bits(r.read_bits(64)?);
                return Ok(());
            }
            1 => self.t_delta = r.read_uvarint()?,
            _ => {
                let dod = read_dod(r)?;
                self.t_delta = self.t_delta.wrapping_add(dod as u64);
            }
        }
        self.t = self.t.wrapping_add(self.t_delta as i64);
        self.read_value()
    }

    fn read_value(&mut self) -> Result<(), ChunkError> {
        read_xor(
            &mut self.reader,
            &mut self.v,
            &mut self.leading,
            &mut self.trailing,
        )
    }
}

/// The 64 bits of `bytes` from bit `pos` on, left-aligned; bits past the end read as zero (the
/// caller checks where its fields end).
#[inline(always)]
fn peek(bytes: &[u8], pos: usize) -> u64 {
    let start = pos / 8;
    let shift = (pos % 8) as u32;
    if let Some(nine) = bytes.get(start..start + 9) {
        let word = u64::from_be_bytes(nine[..8].try_into().expect("8 bytes"));
        // With shift 0 the ninth byte contributes nothing (it is shifted out entirely).
        return (word << shift) | (u64::from(nine[8]) >> (8 - shift));
    }
    // The last bytes of a chunk: what is there, then zeros.
    if let Some(eight) = bytes.get(start..start + 8) {
        return u64::from_be_bytes(eight.try_into().expect("8 bytes")) << shift;
    }
    let mut word = 0u64;
    for i in 0..8 {
        word = word << 8 | u64::from(bytes.get(start + i).copied().unwrap_or(0));
    }
    word << shift
}

/// A window for [`read_xor`] before any value set one.
pub(crate) const NO_XOR_WINDOW: u8 = NO_WINDOW;

/// Reads one XOR-encoded value over `v`: unchanged, within the previous window of leading and
/// trailing zeros, or with a new window (upstream's `xorRead`, shared with the histogram
/// encodings, which keep one window per field).
pub(crate) fn read_xor(
    r: &mut BitReader<'_>,
    v: &mut f64,
    leading: &mut u8,
    trailing: &mut u8,
) -> Result<(), ChunkError> {
    if !r.read_bit()? {
        return Ok(());
    }
    if r.read_bit()? {
        *leading = r.read_bits(5)? as u8;
        let sig = match r.read_bits(6)? as u8 {
            0 => 64,
            n => n,
        };
        *trailing = 64u8
            .checked_sub(*leading + sig)
            .ok_or(ChunkError::Truncated)?;
    } else if *leading == NO_WINDOW {
        return Err(ChunkError::NoPreviousWindow);
    }
    let sig = 64 - u32::from(*leading) - u32::from(*trailing);
    let bits = r.read_bits(sig)?;
    *v = f64::from_bits(v.to_bits() ^ (bits << *trailing));
    Ok(())
}

fn read_dod(r: &mut BitReader<'_>) -> Result<i64, ChunkError> {
    let mut ones = 0;
    while ones < 4 && r.read_bit()? {
        ones += 1;
    }
    let width = match ones {
        0 => return Ok(0),
        1 => 14,
        2 => 17,
        3 => 20,
        _ => return Ok(r.read_bits(64)? as i64),
    };
    let bits = r.read_bits(width)? as i64;
    // Patterns above the positive bound are negative (see `fits`).
    Ok(if bits > 1 << (width - 1) {
        bits - (1 << width)
    } else {
        bits
    })
}

#[cfg(test)]
mod tests;
