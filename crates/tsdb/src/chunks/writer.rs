//! Writes chunks into segment files, cutting a new segment when the next chunk would push the
//! current one past the size limit.
//!
//! Each segment is written under a temporary name and only renamed to its final `%06d` name
//! after its data is fsynced, followed by an fsync of the directory: a reader (or a restart after
//! a crash) sees either a complete segment or none.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::{
    CRC_LEN, ChunkRef, DEFAULT_SEGMENT_SIZE, FORMAT_V1, MAGIC, MAX_LEN_FIELD, SEGMENT_HEADER_LEN,
    SegmentError, segment_files, segment_name,
};
use crate::chunkenc::Encoding;

const TMP_SUFFIX: &str = ".tmp";

#[derive(Debug)]
pub struct ChunkWriter {
    dir: PathBuf,
    segment_size: u64,
    /// Sequence number for the next segment file name.
    next_seq: u64,
    /// Index the next segment gets in chunk refs: its position among the directory's segments.
    next_index: u32,
    current: Option<OpenSegment>,
}

#[derive(Debug)]
struct OpenSegment {
    out: BufWriter<File>,
    tmp_path: PathBuf,
    final_path: PathBuf,
    index: u32,
    len: u64,
}

impl ChunkWriter {
    /// A writer with upstream's default 512 MiB segment size.
    pub fn new(dir: impl AsRef<Path>) -> Result<Self, SegmentError> {
        Self::with_segment_size(dir, DEFAULT_SEGMENT_SIZE)
    }

    /// Creates `dir` if needed. New segments continue after any already in it, so chunk refs
    /// stay valid for a [`super::ChunkReader`] over the whole directory.
    pub fn with_segment_size(
        dir: impl AsRef<Path>,
        segment_size: u64,
    ) -> Result<Self, SegmentError> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(SegmentError::io("create", &dir))?;
        let existing = segment_files(&dir)?;
        let next_index =
            u32::try_from(existing.len()).map_err(|_| SegmentError::TooManySegments)?;
        let next_seq = existing.last().map_or(1, |(seq, _)| seq + 1);
        Ok(Self {
            dir,
            segment_size,
            next_seq,
            next_index,
            current: None,
        })
    }

    /// Appends one chunk and returns where it was written.
    pub fn write_chunk(
        &mut self,
        encoding: Encoding,
        data: &[u8],
    ) -> Result<ChunkRef, SegmentError> {
        let budget = MAX_LEN_FIELD + 1 + data.len() as u64 + CRC_LEN as u64;
        let must_cut = match &self.current {
            None => true,
            // A chunk larger than a whole segment still gets one to itself, never an empty cut.
            Some(seg) => {
                seg.len > SEGMENT_HEADER_LEN as u64 && seg.len + budget > self.segment_size
            }
        };
        if must_cut {
            self.cut()?;
        }
        let seg = self.current.as_mut().expect("cut opens a segment");
        let offset = u32::try_from(seg.len).map_err(|_| SegmentError::TooLarge(data.len()))?;
        let data_len = u32::try_from(data.len()).map_err(|_| SegmentError::TooLarge(data.len()))?;

        let mut head = [0u8; MAX_LEN_FIELD as usize + 1];
        let mut n = put_uvarint(&mut head, u64::from(data_len));
        head[n] = encoding.as_u8();
        n += 1;
        let crc = crc32c::crc32c_append(crc32c::crc32c(&head[n - 1..n]), data);
        let path = seg.tmp_path.clone();
        let io = || SegmentError::io("write", path.clone());
        seg.out.write_all(&head[..n]).map_err(io())?;
        seg.out.write_all(data).map_err(io())?;
        seg.out.write_all(&crc.to_be_bytes()).map_err(io())?;
        seg.len += (n + data.len() + CRC_LEN) as u64;
        Ok(ChunkRef::new(seg.index, offset))
    }

    /// Finishes the open segment, making everything written durable and visible.
    pub fn close(mut self) -> Result<(), SegmentError> {
        self.finish_current()
    }

    fn cut(&mut self) -> Result<(), SegmentError> {
        self.finish_current()?;
        let name = segment_name(self.next_seq);
        let final_path = self.dir.join(&name);
        let tmp_path = self.dir.join(format!("{name}{TMP_SUFFIX}"));
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp_path)
            .map_err(SegmentError::io("create", &tmp_path))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        let mut header = [0u8; SEGMENT_HEADER_LEN];
        header[..4].copy_from_slice(&MAGIC.to_be_bytes());
        header[4] = FORMAT_V1;
        out.write_all(&header)
            .map_err(SegmentError::io("write", &tmp_path))?;
        let index = self.next_index;
        self.next_index = index.checked_add(1).ok_or(SegmentError::TooManySegments)?;
        self.next_seq += 1;
        self.current = Some(OpenSegment {
            out,
            tmp_path,
            final_path,
            index,
            len: SEGMENT_HEADER_LEN as u64,
        });
        Ok(())
    }

    fn finish_current(&mut self) -> Result<(), SegmentError> {
        let Some(seg) = self.current.take() else {
            return Ok(());
        };
        let file = seg
            .out
            .into_inner()
            .map_err(|e| SegmentError::io("write", &seg.tmp_path)(e.into_error()))?;
        file.sync_all()
            .map_err(SegmentError::io("fsync", &seg.tmp_path))?;
        drop(file);
        std::fs::rename(&seg.tmp_path, &seg.final_path)
            .map_err(SegmentError::io("rename", &seg.tmp_path))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(SegmentError::io("fsync", &self.dir))
    }
}

/// Go's `binary.PutUvarint`; returns the number of bytes used.
fn put_uvarint(buf: &mut [u8], mut v: u64) -> usize {
    let mut i = 0;
    while v >= 0x80 {
        buf[i] = (v as u8) | 0x80;
        v >>= 7;
        i += 1;
    }
    buf[i] = v as u8;
    i + 1
}
