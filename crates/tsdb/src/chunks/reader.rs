//! Reads chunks from a directory of segment files.
//!
//! Segments are read into memory with plain file reads: this keeps the crate free of `unsafe`
//! (a memory map would need it) at the cost of resident memory proportional to the block's
//! chunk data.

use std::path::Path;

use super::{CRC_LEN, ChunkRef, FORMAT_V1, MAGIC, SEGMENT_HEADER_LEN, SegmentError, segment_files};
use crate::chunkenc::Encoding;

/// The stored form of one chunk: its encoding and its bytes, borrowed from the segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawChunk<'a> {
    pub encoding: Encoding,
    pub data: &'a [u8],
}

#[derive(Debug)]
pub struct ChunkReader {
    segments: Vec<Vec<u8>>,
}

impl ChunkReader {
    /// Loads and validates the headers of all segment files in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, SegmentError> {
        let files = segment_files(dir.as_ref())?;
        let mut segments = Vec::with_capacity(files.len());
        for (_, path) in files {
            let bytes = std::fs::read(&path).map_err(SegmentError::io("read", &path))?;
            if bytes.len() < SEGMENT_HEADER_LEN {
                return Err(SegmentError::ShortHeader { path });
            }
            let magic = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            if magic != MAGIC {
                return Err(SegmentError::BadMagic { path, found: magic });
            }
            if bytes[4] != FORMAT_V1 {
                return Err(SegmentError::BadVersion {
                    path,
                    version: bytes[4],
                });
            }
            segments.push(bytes);
        }
        if u32::try_from(segments.len()).is_err() {
            return Err(SegmentError::TooManySegments);
        }
        Ok(Self { segments })
    }

    /// Total bytes of all segments.
    pub fn size(&self) -> u64 {
        self.segments.iter().map(|s| s.len() as u64).sum()
    }

    /// The chunk at `r`, with its checksum verified.
    pub fn chunk(&self, r: ChunkRef) -> Result<RawChunk<'_>, SegmentError> {
        let seg = self
            .segments
            .get(r.segment() as usize)
            .ok_or(SegmentError::NoSegment(r.0))?;
        parse_chunk(seg, r).map(|(chunk, _)| chunk)
    }

    /// Every chunk in storage order, for tools that walk a block without its index.
    pub fn iter(&self) -> impl Iterator<Item = Result<(ChunkRef, RawChunk<'_>), SegmentError>> {
        self.segments.iter().enumerate().flat_map(|(i, seg)| {
            let mut offset = SEGMENT_HEADER_LEN;
            let mut failed = false;
            std::iter::from_fn(move || {
                if failed || offset >= seg.len() {
                    return None;
                }
                // Both fit: `open` bounds the segment count, a 32-bit offset bounds the rest.
                let r = ChunkRef::new(i as u32, u32::try_from(offset).ok()?);
                match parse_chunk(seg, r) {
                    Ok((chunk, end)) => {
                        offset = end;
                        Some(Ok((r, chunk)))
                    }
                    Err(e) => {
                        failed = true;
                        Some(Err(e))
                    }
                }
            })
        })
    }
}

/// Parses the chunk at `r` in `seg`; also returns the offset just past it.
fn parse_chunk(seg: &[u8], r: ChunkRef) -> Result<(RawChunk<'_>, usize), SegmentError> {
    let out_of_bounds = || SegmentError::OutOfBounds(r.0);
    let start = r.offset() as usize;
    if start < SEGMENT_HEADER_LEN || start >= seg.len() {
        return Err(out_of_bounds());
    }
    let (len, n) = read_uvarint(&seg[start..]).ok_or_else(out_of_bounds)?;
    let enc_at = start + n;
    let data_end = usize::try_from(len)
        .ok()
        .and_then(|len| (enc_at + 1).checked_add(len))
        .ok_or_else(out_of_bounds)?;
    let end = data_end + CRC_LEN;
    if end > seg.len() {
        return Err(out_of_bounds());
    }
    let stored = u32::from_be_bytes(seg[data_end..end].try_into().expect("4 bytes"));
    let computed = crc32c::crc32c(&seg[enc_at..data_end]);
    if stored != computed {
        return Err(SegmentError::Checksum {
            ref_: r.0,
            stored,
            computed,
        });
    }
    let encoding = Encoding::try_from(seg[enc_at])
        .map_err(|source| SegmentError::Chunk { ref_: r.0, source })?;
    Ok((
        RawChunk {
            encoding,
            data: &seg[enc_at + 1..data_end],
        },
        end,
    ))
}

/// Go's `binary.Uvarint` over a byte slice: the value and bytes used, `None` if cut short or
/// longer than 64 bits.
fn read_uvarint(buf: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &b) in buf.iter().take(10).enumerate() {
        if i == 9 && b > 1 {
            return None;
        }
        value |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            return Some((value, i + 1));
        }
    }
    None
}
