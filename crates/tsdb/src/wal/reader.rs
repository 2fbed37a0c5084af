//! Reading records back, segment by segment.

use std::path::{Path, PathBuf};

use super::{
    FRAG_FIRST, FRAG_FULL, FRAG_LAST, FRAG_MIDDLE, FRAG_PAGE_TERM, FRAG_TYPE_MASK, PAGE_SIZE,
    RECORD_HEADER_SIZE, SNAPPY_FLAG, WalError, ZSTD_FLAG, list_segments, segment_name,
};

/// Where and why a log stopped being readable. `offset` is the start of the first record that
/// cannot be read, which is where [`repair`](super::repair) cuts.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("corruption in segment {} at {offset}: {reason}", .path.display())]
pub struct Corruption {
    pub path: PathBuf,
    pub segment: u32,
    pub offset: usize,
    pub reason: String,
}

/// Reads the records of consecutive segments in order.
///
/// A segment is read whole into memory (segments are at most 128 MiB and replay touches each
/// once), which keeps the fragment parsing a tight loop over a slice.
pub struct LogReader {
    dir: PathBuf,
    segments: Vec<u32>,
    next_segment: usize,
    current: Option<u32>,
    data: Vec<u8>,
    pos: usize,
    record_start: usize,
    record: Vec<u8>,
    decompressed: Vec<u8>,
    snappy: snap::raw::Decoder,
}

impl LogReader {
    /// Reads the segments of `dir` whose numbers are in `range`.
    pub fn open(
        dir: impl AsRef<Path>,
        range: std::ops::RangeInclusive<u32>,
    ) -> Result<LogReader, WalError> {
        let dir = dir.as_ref().to_owned();
        let segments = list_segments(&dir)?
            .into_iter()
            .filter(|n| range.contains(n))
            .collect();
        Ok(LogReader {
            dir,
            segments,
            next_segment: 0,
            current: None,
            data: Vec::new(),
            pos: 0,
            record_start: 0,
            record: Vec::new(),
            decompressed: Vec::new(),
            snappy: snap::raw::Decoder::new(),
        })
    }

    /// The segment and offset just past the last record returned.
    pub fn position(&self) -> (Option<u32>, usize) {
        (self.current, self.pos)
    }

    /// A corruption at the start of the record last returned, for records whose framing is
    /// intact but whose content cannot be decoded.
    pub fn corruption(&self, reason: String) -> Corruption {
        let segment = self.current.unwrap_or_default();
        Corruption {
            path: segment_name(&self.dir, segment),
            segment,
            offset: self.record_start,
            reason,
        }
    }

    /// The next record, `None` at the end of the last segment.
    pub fn next_record(&mut self) -> Result<Option<&[u8]>, WalError> {
        loop {
            if self.current.is_none() || self.pos >= self.data.len() {
                if !self.open_next()? {
                    return Ok(None);
                }
                continue;
            }
            let start = self.pos;
            self.record_start = start;
            let compressed = self.read_fragments().map_err(|reason| {
                let segment = self.current.unwrap_or_default();
                Corruption {
                    path: segment_name(&self.dir, segment),
                    segment,
                    offset: start,
                    reason,
                }
            })?;
            let Some(compressed) = compressed else {
                // Only padding was left in the segment.
                continue;
            };
            if !compressed {
                return Ok(Some(&self.record));
            }
            let segment = self.current.unwrap_or_default();
            let corruption = |reason: String| Corruption {
                path: segment_name(&self.dir, segment),
                segment,
                offset: start,
                reason,
            };
            let len = snap::raw::decompress_len(&self.record)
                .map_err(|e| corruption(format!("snappy: {e}")))?;
            self.decompressed.resize(len, 0);
            self.snappy
                .decompress(&self.record, &mut self.decompressed)
                .map_err(|e| corruption(format!("snappy: {e}")))?;
            return Ok(Some(&self.decompressed));
        }
    }

    fn open_next(&mut self) -> Result<bool, WalError> {
        let Some(&n) = self.segments.get(self.next_segment) else {
            return Ok(false);
        };
        self.next_segment += 1;
        let path = segment_name(&self.dir, n);
        // Into the previous segment's buffer: its pages are already mapped, and a full segment
        // is 128 MiB.
        self.data.clear();
        std::fs::File::open(&path)
            .and_then(|mut f| std::io::Read::read_to_end(&mut f, &mut self.data))
            .map_err(WalError::io("read segment", &path))?;
        self.current = Some(n);
        self.pos = 0;
        Ok(true)
    }

    /// Assembles the next record into `self.record`. `Ok(None)` means the segment ended in
    /// padding; `Ok(Some(compressed))` a complete record.
    fn read_fragments(&mut self) -> Result<Option<bool>, String> {
        self.record.clear();
        let mut expect_continuation = false;
        loop {
            let in_page = self.pos % PAGE_SIZE;
            let page_left = PAGE_SIZE - in_page;
            if self.pos >= self.data.len() {
                return if expect_continuation {
                    Err("segment ends inside a record".into())
                } else {
                    Ok(None)
                };
            }
            if page_left < RECORD_HEADER_SIZE
                || self.data[self.pos] & FRAG_TYPE_MASK == FRAG_PAGE_TERM
            {
                let end = (self.pos + page_left).min(self.data.len());
                if self.data[self.pos..end].iter().any(|&b| b != 0) {
                    return Err("unexpected non-zero byte in page padding".into());
                }
                self.pos = end;
                continue;
            }
            let header = &self.data[self.pos..];
            if header.len() < RECORD_HEADER_SIZE {
                return Err("segment ends inside a record header".into());
            }
            let typ = header[0];
            let len = u16::from_be_bytes([header[1], header[2]]) as usize;
            let crc = u32::from_be_bytes([header[3], header[4], header[5], header[6]]);
            if RECORD_HEADER_SIZE + len > page_left {
                return Err(format!("fragment of {len} bytes crosses a page boundary"));
            }
            let body_start = self.pos + RECORD_HEADER_SIZE;
            let Some(body) = self.data.get(body_start..body_start + len) else {
                return Err("segment ends inside a record".into());
            };
            if crc32c::crc32c(body) != crc {
                return Err("checksum mismatch".into());
            }
            if typ & ZSTD_FLAG != 0 {
                return Err("zstd-compressed records are not supported".into());
            }
            let frag = typ & FRAG_TYPE_MASK;
            match (frag, expect_continuation) {
                (FRAG_FULL | FRAG_FIRST, false) | (FRAG_MIDDLE | FRAG_LAST, true) => {}
                (FRAG_FULL | FRAG_FIRST | FRAG_MIDDLE | FRAG_LAST, _) => {
                    return Err(format!("unexpected fragment type {frag}"));
                }
                _ => return Err(format!("invalid fragment type {frag}")),
            }
            self.record.extend_from_slice(body);
            self.pos = body_start + len;
            if frag == FRAG_FULL || frag == FRAG_LAST {
                return Ok(Some(typ & SNAPPY_FLAG != 0));
            }
            expect_continuation = true;
        }
    }
}
