//! Tailing the write-ahead log as the head writes it, for remote write: the queue manager
//! learns series from `Series` records (from the last checkpoint on) and is handed the
//! samples appended after the watcher started, segment after segment as they grow.
//!
//! As upstream's watcher, nothing is persisted: a (re)start replays the checkpoint and the
//! segments after it for series only, then sends what the last segment receives from the
//! start time on. While the consumer blocks (its queue is full because the endpoint is down)
//! the watcher stops reading, so data is kept for as long as the WAL keeps its segments.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::checkpoint::last_checkpoint;
use super::{
    FRAG_FIRST, FRAG_FULL, FRAG_LAST, FRAG_MIDDLE, FRAG_PAGE_TERM, FRAG_TYPE_MASK, LogReader,
    PAGE_SIZE, RECORD_HEADER_SIZE, SNAPPY_FLAG, WalError, ZSTD_FLAG, list_segments, segment_name,
};
use crate::record::{
    self, RefExemplar, RefFloatHistogramSample, RefHistogramSample, RefMetadata, RefSample,
    RefSeries,
};

/// Where the watched data goes. Calls come from the watcher's thread, in WAL order.
pub trait WatcherSink: Send {
    /// Series defined in `segment` (a checkpoint's number for series read from it).
    fn store_series(&mut self, series: Vec<RefSeries>, segment: u32);
    /// Metadata of series already stored.
    fn store_metadata(&mut self, metadata: Vec<RefMetadata>);
    /// Data written after the watcher started. May block while the consumer is full; returns
    /// false when the consumer is shutting down, which stops the watcher.
    fn append(&mut self, data: Watched) -> bool;
    /// A checkpoint covering the segments before `segment` was written: series last defined
    /// there are gone from the head, unless the checkpoint (just stored) still has them.
    fn series_reset(&mut self, segment: u32);
}

/// Data records the watcher hands on.
#[derive(Debug)]
pub enum Watched {
    Samples(Vec<RefSample>),
    Histograms(Vec<RefHistogramSample>),
    FloatHistograms(Vec<RefFloatHistogramSample>),
    Exemplars(Vec<RefExemplar>),
}

#[derive(Clone, Debug)]
pub struct WatcherOptions {
    /// How long to wait for the last segment to grow before looking again.
    pub poll_interval: Duration,
    /// How often to look for a new checkpoint while tailing.
    pub checkpoint_period: Duration,
    pub send_exemplars: bool,
    pub send_histograms: bool,
}

impl Default for WatcherOptions {
    fn default() -> Self {
        WatcherOptions {
            poll_interval: Duration::from_millis(100),
            checkpoint_period: Duration::from_secs(5),
            send_exemplars: false,
            send_histograms: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WatcherError {
    #[error(transparent)]
    Wal(#[from] WalError),
    #[error("read {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("corruption in {path} at {offset}: {reason}")]
    Corruption {
        path: PathBuf,
        offset: usize,
        reason: String,
    },
    #[error("decode record in {path}: {reason}")]
    Decode { path: PathBuf, reason: String },
}

/// How a segment's watch ended.
enum SegmentEnd {
    /// The next segment exists and this one is read to its end.
    Done,
    /// Stop requested, or the sink is closing.
    Stopped,
}

/// Tails one WAL directory.
pub struct Watcher {
    dir: PathBuf,
    options: WatcherOptions,
}

impl Watcher {
    pub fn new(wal_dir: impl AsRef<Path>, options: WatcherOptions) -> Watcher {
        Watcher {
            dir: wal_dir.as_ref().to_owned(),
            options,
        }
    }

    /// Watches until `stop` is set or the sink closes. Errors (a corrupt or vanished segment)
    /// restart the watch from the last checkpoint after a pause, as upstream does.
    pub fn run(&self, sink: &mut dyn WatcherSink, stop: &AtomicBool) {
        while !stop.load(Ordering::Relaxed) {
            match self.watch(sink, stop) {
                Ok(()) => return,
                Err(e) => tracing::error!(dir = %self.dir.display(), err = %e, "error tailing WAL"),
            }
            if !self.sleep(Duration::from_secs(5), stop) {
                return;
            }
        }
    }

    /// Sleeps up to `d` in short steps; false when stopped meanwhile.
    fn sleep(&self, d: Duration, stop: &AtomicBool) -> bool {
        let until = Instant::now() + d;
        while Instant::now() < until {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            std::thread::sleep(self.options.poll_interval.min(until - Instant::now()));
        }
        !stop.load(Ordering::Relaxed)
    }

    fn watch(&self, sink: &mut dyn WatcherSink, stop: &AtomicBool) -> Result<(), WatcherError> {
        let start = now_millis();
        let mut checkpoint = self.read_checkpoint(sink, None)?;
        let first_wanted = checkpoint.map_or(0, |n| n + 1);
        let (mut current, last) = loop {
            let segments = list_segments(&self.dir)?;
            if let (Some(&first), Some(&last)) = (segments.first(), segments.last()) {
                break (first.max(first_wanted), last);
            }
            if !self.sleep(self.options.poll_interval, stop) {
                return Ok(());
            }
        };
        tracing::info!(dir = %self.dir.display(), segment = current, "Replaying WAL");
        loop {
            let tail = current >= last;
            match self.watch_segment(sink, stop, current, tail, start, &mut checkpoint)? {
                SegmentEnd::Done => current += 1,
                SegmentEnd::Stopped => return Ok(()),
            }
        }
    }

    /// Reads the newest checkpoint's series and metadata when it is newer than `seen`;
    /// returns the newest checkpoint number known.
    fn read_checkpoint(
        &self,
        sink: &mut dyn WatcherSink,
        seen: Option<u32>,
    ) -> Result<Option<u32>, WatcherError> {
        let Some((path, n)) = last_checkpoint(&self.dir)? else {
            return Ok(seen);
        };
        if seen.is_some_and(|s| s >= n) {
            return Ok(seen);
        }
        let mut reader = LogReader::open(&path, 0..=u32::MAX)?;
        while let Some(rec) = reader.next_record()? {
            match record::decode(rec) {
                Ok(record::Record::Series(s)) => sink.store_series(s, n),
                Ok(record::Record::Metadata(m)) => sink.store_metadata(m),
                Ok(_) => {}
                Err(e) => {
                    return Err(WatcherError::Decode {
                        path: path.clone(),
                        reason: e.to_string(),
                    });
                }
            }
        }
        if seen.is_some() {
            sink.series_reset(n);
        }
        Ok(Some(n))
    }

    fn watch_segment(
        &self,
        sink: &mut dyn WatcherSink,
        stop: &AtomicBool,
        n: u32,
        tail: bool,
        start: i64,
        checkpoint: &mut Option<u32>,
    ) -> Result<SegmentEnd, WatcherError> {
        let path = segment_name(&self.dir, n);
        let mut seg = LiveSegment::open(&path)?;
        let mut checked = Instant::now();
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(SegmentEnd::Stopped);
            }
            seg.fill()?;
            while let Some(rec) = seg.next_record()? {
                if !self.process(sink, rec, n, tail, start, &path)? {
                    return Ok(SegmentEnd::Stopped);
                }
            }
            // The writer completes a segment before it creates the next, so once the next
            // exists one more read drains this one.
            if list_segments(&self.dir)?
                .last()
                .is_some_and(|&last| last > n)
            {
                seg.fill()?;
                while let Some(rec) = seg.next_record()? {
                    if !self.process(sink, rec, n, tail, start, &path)? {
                        return Ok(SegmentEnd::Stopped);
                    }
                }
                return Ok(SegmentEnd::Done);
            }
            if checked.elapsed() >= self.options.checkpoint_period {
                *checkpoint = self.read_checkpoint(sink, *checkpoint)?;
                checked = Instant::now();
            }
            std::thread::sleep(self.options.poll_interval);
        }
    }

    /// Hands one record on; false when the sink is closing.
    fn process(
        &self,
        sink: &mut dyn WatcherSink,
        rec: &[u8],
        segment: u32,
        tail: bool,
        start: i64,
        path: &Path,
    ) -> Result<bool, WatcherError> {
        let kind = record::RecordType::of(rec);
        let wanted = match kind {
            Some(record::RecordType::Series | record::RecordType::Metadata) => true,
            Some(record::RecordType::Samples) => tail,
            Some(record::RecordType::Exemplars) => tail && self.options.send_exemplars,
            Some(
                record::RecordType::HistogramSamples
                | record::RecordType::FloatHistogramSamples
                | record::RecordType::CustomBucketsHistogramSamples
                | record::RecordType::CustomBucketsFloatHistogramSamples,
            ) => tail && self.options.send_histograms,
            _ => false,
        };
        if !wanted {
            return Ok(true);
        }
        let decoded = record::decode(rec).map_err(|e| WatcherError::Decode {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let data = match decoded {
            record::Record::Series(s) => {
                sink.store_series(s, segment);
                return Ok(true);
            }
            record::Record::Metadata(m) => {
                sink.store_metadata(m);
                return Ok(true);
            }
            record::Record::Samples(mut s) => {
                s.retain(|s| s.t > start);
                Watched::Samples(s)
            }
            record::Record::Exemplars(mut e) => {
                e.retain(|e| e.t > start);
                Watched::Exemplars(e)
            }
            record::Record::Histograms(mut h) => {
                h.retain(|h| h.t > start);
                Watched::Histograms(h)
            }
            record::Record::FloatHistograms(mut h) => {
                h.retain(|h| h.t > start);
                Watched::FloatHistograms(h)
            }
            _ => return Ok(true),
        };
        let empty = match &data {
            Watched::Samples(v) => v.is_empty(),
            Watched::Exemplars(v) => v.is_empty(),
            Watched::Histograms(v) => v.is_empty(),
            Watched::FloatHistograms(v) => v.is_empty(),
        };
        Ok(empty || sink.append(data))
    }
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Reads a segment that may still be growing: bytes are read as they are appended, and a
/// record is returned only once all its fragments are there.
struct LiveSegment {
    path: PathBuf,
    file: File,
    /// Unconsumed bytes; `buf[0]` is at file offset `base`.
    buf: Vec<u8>,
    base: usize,
    /// Start of the next record in `buf`.
    start: usize,
    record: Vec<u8>,
    decompressed: Vec<u8>,
    snappy: snap::raw::Decoder,
}

impl LiveSegment {
    fn open(path: &Path) -> Result<LiveSegment, WatcherError> {
        let file = File::open(path).map_err(|source| WatcherError::Io {
            path: path.to_owned(),
            source,
        })?;
        Ok(LiveSegment {
            path: path.to_owned(),
            file,
            buf: Vec::new(),
            base: 0,
            start: 0,
            record: Vec::new(),
            decompressed: Vec::new(),
            snappy: snap::raw::Decoder::new(),
        })
    }

    /// Reads whatever was appended since the last call.
    fn fill(&mut self) -> Result<(), WatcherError> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.base += self.start;
            self.start = 0;
        }
        self.file
            .read_to_end(&mut self.buf)
            .map_err(|source| WatcherError::Io {
                path: self.path.clone(),
                source,
            })?;
        Ok(())
    }

    fn corruption(&self, at: usize, reason: impl Into<String>) -> WatcherError {
        WatcherError::Corruption {
            path: self.path.clone(),
            offset: self.base + at,
            reason: reason.into(),
        }
    }

    /// The next complete record, `None` until more of the segment is written.
    fn next_record(&mut self) -> Result<Option<&[u8]>, WatcherError> {
        let mut i = self.start;
        let mut in_record = false;
        self.record.clear();
        loop {
            if i >= self.buf.len() {
                return Ok(None);
            }
            let page_left = PAGE_SIZE - (self.base + i) % PAGE_SIZE;
            if page_left < RECORD_HEADER_SIZE || self.buf[i] & FRAG_TYPE_MASK == FRAG_PAGE_TERM {
                // Padding up to the page's end, which the writer writes in one go.
                let Some(pad) = self.buf.get(i..i + page_left) else {
                    return Ok(None);
                };
                if pad.iter().any(|&b| b != 0) {
                    return Err(self.corruption(i, "unexpected non-zero byte in page padding"));
                }
                i += page_left;
                if !in_record {
                    self.start = i;
                }
                continue;
            }
            let Some(header) = self.buf.get(i..i + RECORD_HEADER_SIZE) else {
                return Ok(None);
            };
            let typ = header[0];
            let len = usize::from(u16::from_be_bytes([header[1], header[2]]));
            let crc = u32::from_be_bytes([header[3], header[4], header[5], header[6]]);
            if RECORD_HEADER_SIZE + len > page_left {
                return Err(self.corruption(
                    i,
                    format!("fragment of {len} bytes crosses a page boundary"),
                ));
            }
            let body_start = i + RECORD_HEADER_SIZE;
            let Some(body) = self.buf.get(body_start..body_start + len) else {
                return Ok(None);
            };
            if crc32c::crc32c(body) != crc {
                return Err(self.corruption(i, "checksum mismatch"));
            }
            if typ & ZSTD_FLAG != 0 {
                return Err(self.corruption(i, "zstd-compressed records are not supported"));
            }
            let frag = typ & FRAG_TYPE_MASK;
            match (frag, in_record) {
                (FRAG_FULL | FRAG_FIRST, false) | (FRAG_MIDDLE | FRAG_LAST, true) => {}
                _ => return Err(self.corruption(i, format!("unexpected fragment type {frag}"))),
            }
            self.record.extend_from_slice(body);
            i = body_start + len;
            if frag == FRAG_FULL || frag == FRAG_LAST {
                self.start = i;
                if typ & SNAPPY_FLAG == 0 {
                    return Ok(Some(&self.record));
                }
                let len = snap::raw::decompress_len(&self.record)
                    .map_err(|e| self.corruption(i, format!("snappy: {e}")))?;
                self.decompressed.resize(len, 0);
                self.snappy
                    .decompress(&self.record, &mut self.decompressed)
                    .map_err(|e| self.corruption(i, format!("snappy: {e}")))?;
                return Ok(Some(&self.decompressed));
            }
            in_record = true;
        }
    }
}

#[cfg(test)]
#[path = "watcher_tests.rs"]
mod tests;
