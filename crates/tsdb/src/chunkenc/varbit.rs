//! Upstream's variable-bit-width integers (`tsdb/chunkenc/varbit.go`), used by the histogram
//! encodings: a unary prefix of up to eight ones picks the width of the value that follows.

use super::ChunkError;
use super::bstream::{BitReader, BitWriter};

/// The prefix: how many ones (0..=8) precede the terminating zero (no zero after eight).
fn read_prefix(r: &mut BitReader<'_>) -> Result<u32, ChunkError> {
    let mut ones = 0;
    while ones < 8 && r.read_bit()? {
        ones += 1;
    }
    Ok(ones)
}

/// Value widths by prefix length; eight ones mean a full 64-bit value.
const WIDTHS: [u32; 8] = [0, 3, 6, 9, 12, 18, 25, 56];

/// A signed value: the two's complement of its width, where the most negative pattern stands
/// for the positive bound (upstream's encoding of the range `-(2^(n-1)-1) ..= 2^(n-1)`).
pub(crate) fn read_varbit_int(r: &mut BitReader<'_>) -> Result<i64, ChunkError> {
    let ones = read_prefix(r)?;
    let Some(&width) = WIDTHS.get(ones as usize) else {
        return Ok(r.read_bits(64)? as i64);
    };
    if width == 0 {
        return Ok(0);
    }
    let bits = r.read_bits(width)?;
    Ok(if bits > 1 << (width - 1) {
        bits.wrapping_sub(1 << width) as i64
    } else {
        bits as i64
    })
}

pub(crate) fn read_varbit_uint(r: &mut BitReader<'_>) -> Result<u64, ChunkError> {
    let ones = read_prefix(r)?;
    match WIDTHS.get(ones as usize) {
        Some(&width) => r.read_bits(width),
        None => r.read_bits(64),
    }
}

/// Whether `v` fits the signed range of a `width`-bit varbit field.
fn fits_signed(v: i64, width: u32) -> bool {
    let bound = 1i64 << (width - 1);
    -(bound - 1) <= v && v <= bound
}

/// Writes `v` in the narrowest varbit form [`read_varbit_int`] reads back.
pub(crate) fn write_varbit_int(w: &mut BitWriter, v: i64) {
    if v == 0 {
        w.write_bit(false);
        return;
    }
    for (ones, &width) in WIDTHS.iter().enumerate().skip(1) {
        if fits_signed(v, width) {
            write_prefix(w, ones as u32);
            w.write_bits(v as u64 & ((1 << width) - 1), width);
            return;
        }
    }
    w.write_bits(0xff, 8);
    w.write_bits(v as u64, 64);
}

/// Writes `v` in the narrowest varbit form [`read_varbit_uint`] reads back.
pub(crate) fn write_varbit_uint(w: &mut BitWriter, v: u64) {
    if v == 0 {
        w.write_bit(false);
        return;
    }
    for (ones, &width) in WIDTHS.iter().enumerate().skip(1) {
        if v >> width == 0 {
            write_prefix(w, ones as u32);
            w.write_bits(v, width);
            return;
        }
    }
    w.write_bits(0xff, 8);
    w.write_bits(v, 64);
}

/// `ones` ones and the terminating zero.
fn write_prefix(w: &mut BitWriter, ones: u32) {
    w.write_bits(((1u64 << ones) - 1) << 1, ones + 1);
}
