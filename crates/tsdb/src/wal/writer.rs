//! Appending records to the log.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use super::{
    Corruption, FRAG_FIRST, FRAG_FULL, FRAG_LAST, FRAG_MIDDLE, PAGE_SIZE, RECORD_HEADER_SIZE,
    SNAPPY_FLAG, WalError, WalMetrics, list_segments, segment_name,
};

/// Record compression, upstream's `--storage.tsdb.wal-compression`. Only snappy is written;
/// the reader rejects zstd-compressed records with a corruption error naming them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Compression {
    #[default]
    None,
    Snappy,
}

#[derive(Clone, Copy, Debug)]
pub struct WalOptions {
    pub segment_size: usize,
    pub compression: Compression,
}

impl Default for WalOptions {
    fn default() -> Self {
        WalOptions {
            segment_size: super::DEFAULT_SEGMENT_SIZE,
            compression: Compression::None,
        }
    }
}

/// The writable end of a log.
///
/// Records are written to the OS on every [`log`](Self::log) call (a process crash loses
/// nothing logged); `fsync` happens when a segment is finished and on [`sync`](Self::sync),
/// as upstream does.
pub struct Wal {
    dir: PathBuf,
    opts: WalOptions,
    file: File,
    segment: u32,
    /// Bytes written to the current segment, always the start of the page being filled plus
    /// `page.len()`.
    page_start: usize,
    /// The page being filled; written out up to its end on every `log`.
    page: Vec<u8>,
    flushed: usize,
    compressed: Vec<u8>,
    snappy: snap::raw::Encoder,
    metrics: Arc<WalMetrics>,
}

impl Wal {
    /// Opens the log in `dir`, creating it when missing. Writing always starts a fresh segment
    /// after the last existing one, so a repaired or torn tail is never appended to.
    pub fn open(dir: impl AsRef<Path>, opts: WalOptions) -> Result<Wal, WalError> {
        let dir = dir.as_ref().to_owned();
        if opts.segment_size == 0 || !opts.segment_size.is_multiple_of(PAGE_SIZE) {
            return Err(WalError::BadSegmentSize(opts.segment_size));
        }
        std::fs::create_dir_all(&dir).map_err(WalError::io("create directory", &dir))?;
        let next = list_segments(&dir)?.last().map_or(0, |&n| n + 1);
        let file = create_segment(&dir, next)?;
        let metrics = Arc::new(WalMetrics::default());
        metrics
            .segment_current
            .store(u64::from(next), std::sync::atomic::Ordering::Relaxed);
        Ok(Wal {
            dir,
            opts,
            file,
            segment: next,
            page_start: 0,
            page: Vec::with_capacity(PAGE_SIZE),
            flushed: 0,
            compressed: Vec::new(),
            snappy: snap::raw::Encoder::new(),
            metrics,
        })
    }

    /// The log's own counters, shared with whoever exports them.
    pub fn metrics(&self) -> &Arc<WalMetrics> {
        &self.metrics
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The segment being written.
    pub fn current_segment(&self) -> u32 {
        self.segment
    }

    /// Appends records and hands them to the OS.
    pub fn log<R: AsRef<[u8]>>(&mut self, records: &[R]) -> Result<(), WalError> {
        let result = records
            .iter()
            .try_for_each(|rec| self.log_one(rec.as_ref()))
            .and_then(|()| self.write_out());
        if result.is_err() {
            WalMetrics::inc(&self.metrics.writes_failed, 1);
        }
        result
    }

    fn log_one(&mut self, rec: &[u8]) -> Result<(), WalError> {
        let compressed = match self.opts.compression {
            Compression::Snappy if !rec.is_empty() => {
                let mut buf = std::mem::take(&mut self.compressed);
                buf.resize(snap::raw::max_compress_len(rec.len()), 0);
                let n = self
                    .snappy
                    .compress(rec, &mut buf)
                    .expect("buffer sized by max_compress_len");
                buf.truncate(n);
                Some(buf)
            }
            _ => None,
        };
        let flag = if compressed.is_some() { SNAPPY_FLAG } else { 0 };
        if let Some(c) = &compressed {
            let saved = rec.len().saturating_sub(c.len()) as u64;
            WalMetrics::inc(&self.metrics.record_bytes_saved, saved);
        }
        let data: &[u8] = compressed.as_deref().unwrap_or(rec);
        let room = PAGE_SIZE - RECORD_HEADER_SIZE;
        let pages_left = (self.opts.segment_size - self.page_start) / PAGE_SIZE - 1;
        let left_here = PAGE_SIZE.saturating_sub(self.page.len() + RECORD_HEADER_SIZE);
        if data.len() > room * (self.opts.segment_size / PAGE_SIZE) {
            return Err(WalError::RecordTooLarge {
                len: data.len(),
                segment_size: self.opts.segment_size,
            });
        }
        if data.len() > left_here + room * pages_left {
            self.next_segment()?;
        }
        let mut rest = data;
        let mut first = true;
        loop {
            if PAGE_SIZE - self.page.len() < RECORD_HEADER_SIZE {
                self.finish_page()?;
            }
            let n = rest
                .len()
                .min(PAGE_SIZE - self.page.len() - RECORD_HEADER_SIZE);
            let (part, tail) = rest.split_at(n);
            let frag = match (first, tail.is_empty()) {
                (true, true) => FRAG_FULL,
                (true, false) => FRAG_FIRST,
                (false, false) => FRAG_MIDDLE,
                (false, true) => FRAG_LAST,
            };
            self.page.push(frag | flag);
            self.page.extend_from_slice(&(n as u16).to_be_bytes());
            self.page
                .extend_from_slice(&crc32c::crc32c(part).to_be_bytes());
            self.page.extend_from_slice(part);
            WalMetrics::inc(&self.metrics.record_part_writes, 1);
            WalMetrics::inc(
                &self.metrics.record_parts_bytes,
                (n + RECORD_HEADER_SIZE) as u64,
            );
            rest = tail;
            first = false;
            if rest.is_empty() {
                break;
            }
        }
        if let Some(buf) = compressed {
            self.compressed = buf;
        }
        Ok(())
    }

    /// Pads the page with zeros, writes it out and starts the next one.
    fn finish_page(&mut self) -> Result<(), WalError> {
        self.page.resize(PAGE_SIZE, 0);
        self.write_out()?;
        WalMetrics::inc(&self.metrics.completed_pages, 1);
        self.page.clear();
        self.flushed = 0;
        self.page_start += PAGE_SIZE;
        if self.page_start >= self.opts.segment_size {
            self.next_segment()?;
        }
        Ok(())
    }

    fn write_out(&mut self) -> Result<(), WalError> {
        if self.flushed < self.page.len() {
            let path = segment_name(&self.dir, self.segment);
            self.file
                .write_all(&self.page[self.flushed..])
                .map_err(WalError::io("write", &path))?;
            self.flushed = self.page.len();
            WalMetrics::inc(&self.metrics.page_flushes, 1);
        }
        Ok(())
    }

    /// Closes the current segment (padded to a whole page and fsynced) and starts the next;
    /// returns the new segment's number. Checkpointing calls it so that all segments it reads
    /// are complete.
    pub fn next_segment(&mut self) -> Result<u32, WalError> {
        if !self.page.is_empty() {
            self.page.resize(PAGE_SIZE, 0);
            self.write_out()?;
            WalMetrics::inc(&self.metrics.completed_pages, 1);
        }
        self.sync()?;
        self.segment += 1;
        self.file = create_segment(&self.dir, self.segment)?;
        self.metrics.segment_current.store(
            u64::from(self.segment),
            std::sync::atomic::Ordering::Relaxed,
        );
        self.page.clear();
        self.flushed = 0;
        self.page_start = 0;
        Ok(self.segment)
    }

    /// Makes everything logged so far durable.
    pub fn sync(&mut self) -> Result<(), WalError> {
        let path = segment_name(&self.dir, self.segment);
        let start = Instant::now();
        let result = self.file.sync_data().map_err(WalError::io("fsync", &path));
        self.metrics.observe_fsync(start.elapsed());
        result
    }

    /// Deletes the segments before `first`; they must be covered by a checkpoint.
    pub fn truncate(&mut self, first: u32) -> Result<(), WalError> {
        WalMetrics::inc(&self.metrics.truncations, 1);
        let result = self.remove_segments_before(first);
        if result.is_err() {
            WalMetrics::inc(&self.metrics.truncations_failed, 1);
        }
        result
    }

    fn remove_segments_before(&mut self, first: u32) -> Result<(), WalError> {
        for n in list_segments(&self.dir)? {
            if n >= first || n >= self.segment {
                break;
            }
            let path = segment_name(&self.dir, n);
            std::fs::remove_file(&path).map_err(WalError::io("remove", &path))?;
        }
        Ok(())
    }
}

fn create_segment(dir: &Path, n: u32) -> Result<File, WalError> {
    let path = segment_name(dir, n);
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(WalError::io("create segment", &path))?;
    // The new name must survive a crash before any record in it is trusted.
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(WalError::io("fsync directory", dir))?;
    Ok(file)
}

/// Cuts the log at a corruption: later segments are deleted and the corrupt segment is
/// truncated at the start of the first bad record, so what remains reads cleanly. Returns what
/// was removed, for the caller to log.
pub fn repair(dir: &Path, c: &Corruption) -> Result<String, WalError> {
    let mut removed = Vec::new();
    for n in list_segments(dir)? {
        if n > c.segment {
            let path = segment_name(dir, n);
            std::fs::remove_file(&path).map_err(WalError::io("remove", &path))?;
            removed.push(n);
        }
    }
    let path = segment_name(dir, c.segment);
    let file = OpenOptions::new()
        .write(true)
        .open(&path)
        .map_err(WalError::io("open", &path))?;
    let before = file.metadata().map_err(WalError::io("stat", &path))?.len();
    file.set_len(c.offset as u64)
        .and_then(|()| file.sync_all())
        .map_err(WalError::io("truncate", &path))?;
    Ok(format!(
        "truncated segment {} from {} to {} bytes and deleted {} later segment(s) {:?}",
        c.segment,
        before,
        c.offset,
        removed.len(),
        removed
    ))
}
