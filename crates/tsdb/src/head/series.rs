//! One series in the head: its chunks, the out-of-order buffer, and what each commit added,
//! which is how queriers opened before a commit keep not seeing it.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use pm_common::model::{FloatHistogram, Histogram, Labels, Metadata, STALE_NAN_BITS};
use pm_storage::{SampleValue, SeriesSample};

use super::chunk_files::{ChunkFileError, ChunkFiles, DiskChunk, MappedChunk};
use crate::chunkenc::histogram_append::{ChunkHistogram, OpenHistogramChunk};
use crate::chunkenc::{ChunkEncoding, XorChunk};

/// Upstream's size target for histogram chunks (`TargetBytesPerHistogramChunk`) and the
/// fewest samples one holds before that target may cut it (`MinSamplesPerHistogramChunk`).
const TARGET_BYTES_PER_HISTOGRAM_CHUNK: usize = 1024;
const MIN_SAMPLES_PER_HISTOGRAM_CHUNK: usize = 10;

/// A chunk that is full or was cut at a range boundary; never changes again.
#[derive(Clone)]
pub(crate) struct ClosedChunk {
    pub(crate) min_t: i64,
    pub(crate) max_t: i64,
    pub(crate) encoding: ChunkEncoding,
    pub(crate) data: ChunkData,
}

/// Where a closed chunk's bytes are: in memory until written to the head chunk files (always,
/// for a head without a directory), then only there.
#[derive(Clone)]
pub(crate) enum ChunkData {
    Mem(Arc<[u8]>),
    Disk(DiskChunk),
}

/// The chunk samples are appended to, in the encoding of the series' newest sample. Histogram
/// chunks (encoder state plus the last histogram) are boxed so float series, the vast
/// majority, do not pay for their size.
pub(crate) enum OpenData {
    Xor(XorChunk),
    Histogram(Box<OpenHistogramChunk<Histogram>>),
    FloatHistogram(Box<OpenHistogramChunk<FloatHistogram>>),
}

pub(crate) struct OpenChunk {
    pub(crate) data: OpenData,
    pub(crate) min_t: i64,
    pub(crate) max_t: i64,
}

impl OpenChunk {
    pub(crate) fn encoding(&self) -> ChunkEncoding {
        match &self.data {
            OpenData::Xor(_) => ChunkEncoding::Xor,
            OpenData::Histogram(_) => ChunkEncoding::Histogram,
            OpenData::FloatHistogram(_) => ChunkEncoding::FloatHistogram,
        }
    }

    /// The chunk as it is now (histogram chunks are finished into a copy).
    pub(crate) fn bytes(&self) -> Cow<'_, [u8]> {
        match &self.data {
            OpenData::Xor(c) => Cow::Borrowed(c.bytes()),
            OpenData::Histogram(c) => Cow::Owned(c.bytes()),
            OpenData::FloatHistogram(c) => Cow::Owned(c.bytes()),
        }
    }

    fn close(self) -> ClosedChunk {
        let encoding = self.encoding();
        let bytes: Arc<[u8]> = match self.data {
            OpenData::Xor(c) => c.into_bytes().into(),
            OpenData::Histogram(c) => c.bytes().into(),
            OpenData::FloatHistogram(c) => c.bytes().into(),
        };
        ClosedChunk {
            min_t: self.min_t,
            max_t: self.max_t,
            encoding,
            data: ChunkData::Mem(bytes),
        }
    }
}

/// Where a sample went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Applied {
    InOrder {
        chunk_created: bool,
    },
    OutOfOrder,
    /// Same timestamp and value as the newest sample (accepted, not stored again) or an
    /// out-of-order timestamp already present.
    Dropped,
}

pub(crate) struct MemSeries {
    pub(crate) r: u64,
    pub(crate) labels: Labels,
    /// Set once a series record for it is in the WAL; the first commit using the series writes
    /// the record, whichever appender created it.
    pub(crate) logged: AtomicBool,
    /// Appenders holding uncommitted samples for it; garbage collection skips such series.
    /// Raised only through [`MemSeries::reserve`].
    pub(crate) pending: AtomicU32,
    /// Set by garbage collection, under the series lock, when it takes the series out of the
    /// head: an appender that looked the series up just before must not add samples to it
    /// (nothing would ever read them), so it looks the labels up again.
    retired: AtomicBool,
    data: Mutex<SeriesData>,
}

pub(crate) struct SeriesData {
    pub(crate) closed: Vec<ClosedChunk>,
    pub(crate) open: Option<OpenChunk>,
    /// Newest in-order timestamp, `i64::MIN` before the first sample.
    pub(crate) max_t: i64,
    /// The newest in-order sample's value (duplicates are compared with it).
    pub(crate) last: SampleValue,
    /// Upper bound for the open chunk's last timestamp (upstream's `nextAt`).
    next_at: i64,
    /// Whether `next_at` was predicted from the open histogram chunk's size yet (upstream's
    /// `histogramChunkHasComputedEndTime`).
    histogram_end_computed: bool,
    /// Out-of-order samples with the commit that added each, sorted by time.
    pub(crate) ooo: Vec<(i64, SampleValue, u64)>,
    /// For recent commits to this series: the commit sequence number and the series' newest
    /// in-order timestamp before it. A querier whose snapshot predates a commit sees only
    /// samples up to that timestamp.
    commits: CommitLog,
    pub(crate) metadata: Option<Metadata>,
}

impl MemSeries {
    pub(crate) fn new(r: u64, labels: Labels) -> Self {
        MemSeries {
            r,
            labels,
            logged: AtomicBool::new(false),
            pending: AtomicU32::new(0),
            retired: AtomicBool::new(false),
            data: Mutex::new(SeriesData::empty()),
        }
    }

    /// Counts a transaction in before it adds samples; `false` if garbage collection retired
    /// the series. Together with [`MemSeries::try_retire`] this is a two-flag handshake on
    /// sequentially consistent atomics: of an appender raising `pending` and then reading
    /// `retired`, and garbage collection setting `retired` and then reading `pending`, at
    /// least one sees the other's write, so a series is never both reserved and retired.
    /// (Upstream closes the same window by locking the series for every lookup.)
    pub(crate) fn reserve(&self) -> bool {
        self.pending.fetch_add(1, Ordering::SeqCst);
        if self.retired.load(Ordering::SeqCst) {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// Marks the series retired unless a transaction holds it. Called with the series locked
    /// (`_locked` proves it), and the caller removes the series from the head's maps before
    /// unlocking, so that an appender which waited for the lock ([`MemSeries::await_removal`])
    /// no longer finds it.
    pub(crate) fn try_retire(&self, _locked: &SeriesData) -> bool {
        if self.pending.load(Ordering::SeqCst) != 0 {
            return false;
        }
        self.retired.store(true, Ordering::SeqCst);
        if self.pending.load(Ordering::SeqCst) != 0 {
            // An appender came in between; it may have seen `retired` and will look again.
            self.retired.store(false, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// Returns once garbage collection that retired this series (if any) has removed it from
    /// the head's maps.
    pub(crate) fn await_removal(&self) {
        drop(self.lock());
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, SeriesData> {
        // A panic while holding a series lock leaves consistent data behind (every mutation
        // is completed before the next begins), so a poisoned lock is still usable.
        self.data.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The commit records of a series (sequence number, newest in-order timestamp before it),
/// oldest first. The newest is kept inline: with no long-running querier a series written
/// once per scrape holds exactly one record, and a `VecDeque` would allocate for it (about
/// 80 bytes per series); older records only pile up while a querier holds an old snapshot.
#[derive(Default)]
struct CommitLog {
    newest: Option<(u64, i64)>,
    older: VecDeque<(u64, i64)>,
}

impl CommitLog {
    /// Records commit `seq` unless it is already the newest (a commit adding several samples).
    fn push(&mut self, seq: u64, before: i64) {
        if self.newest.is_some_and(|(s, _)| s == seq) {
            return;
        }
        if let Some(prev) = self.newest.replace((seq, before)) {
            self.older.push_back(prev);
        }
    }

    /// The timestamp recorded with the first commit after `snapshot`.
    fn before_first_after(&self, snapshot: u64) -> Option<i64> {
        self.older
            .iter()
            .chain(&self.newest)
            .find(|&&(s, _)| s > snapshot)
            .map(|&(_, before)| before)
    }

    /// Drops the records of commits up to `oldest_snapshot`.
    fn trim(&mut self, oldest_snapshot: u64) {
        while self
            .older
            .front()
            .is_some_and(|&(s, _)| s <= oldest_snapshot)
        {
            self.older.pop_front();
        }
        if self.older.is_empty() && self.newest.is_some_and(|(s, _)| s <= oldest_snapshot) {
            self.newest = None;
        }
    }
}

/// Upstream's `rangeForTimestamp`: the end of the chunk range `t` falls into. Go's `%`
/// truncates towards zero, and so does Rust's.
fn range_end(t: i64, width: i64) -> i64 {
    t - t % width + width
}

/// Upstream's `computeChunkEndTime`: once a quarter full, aim the chunk's end so that the
/// rest of the range splits into equally full chunks.
fn chunk_end_time(start: i64, cur: i64, max: i64, ratio_to_full: f64) -> i64 {
    let n = (max - start) as f64 / ((cur - start + 1) as f64 * ratio_to_full);
    if n <= 1.0 {
        return max;
    }
    (start as f64 + (max - start) as f64 / n.floor()) as i64
}

impl SeriesData {
    /// A series before its first sample; allocates nothing, so replay can swap it in while it
    /// builds a series' data outside the lock.
    pub(crate) fn empty() -> Self {
        SeriesData {
            closed: Vec::new(),
            open: None,
            max_t: i64::MIN,
            last: SampleValue::Float(0.0),
            next_at: i64::MIN,
            histogram_end_computed: false,
            ooo: Vec::new(),
            commits: CommitLog::default(),
            metadata: None,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.closed.is_empty() && self.open.is_none() && self.ooo.is_empty()
    }

    pub(crate) fn min_time(&self) -> Option<i64> {
        let in_order = self
            .closed
            .first()
            .map(|c| c.min_t)
            .or(self.open.as_ref().map(|c| c.min_t));
        let ooo = self.ooo.first().map(|s| s.0);
        match (in_order, ooo) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Newest timestamp held (in order or out of order), `None` when empty.
    pub(crate) fn max_time(&self) -> Option<i64> {
        let ooo = self.ooo.last().map(|s| s.0);
        if self.closed.is_empty() && self.open.is_none() {
            return ooo;
        }
        Some(ooo.map_or(self.max_t, |t| t.max(self.max_t)))
    }

    /// Appends a sample the appender validated (or one replayed from the WAL, which is checked
    /// here the same way) as commit `seq`.
    pub(crate) fn apply(
        &mut self,
        t: i64,
        v: SampleValue,
        seq: u64,
        ooo_allowed: bool,
        opts: &ChunkOpts,
    ) -> Applied {
        let v = self.stale_marker_for_last(v);
        if t > self.max_t {
            self.commits.push(seq, self.max_t);
            let chunk_created = match &v {
                SampleValue::Float(f) => self.append_float(t, *f, opts),
                SampleValue::Histogram(h) => self.append_histogram(t, h.as_ref(), opts),
                SampleValue::FloatHistogram(h) => self.append_histogram(t, h.as_ref(), opts),
            };
            self.max_t = t;
            self.last = v;
            return Applied::InOrder { chunk_created };
        }
        if t == self.max_t || !ooo_allowed {
            return Applied::Dropped;
        }
        match self.ooo.binary_search_by_key(&t, |s| s.0) {
            Ok(_) => Applied::Dropped,
            Err(i) => {
                self.ooo.insert(i, (t, v, seq));
                Applied::OutOfOrder
            }
        }
    }

    /// A float stale marker for a series whose newest sample is a histogram becomes a
    /// histogram stale marker, as upstream's commit turns it into one: the series' chunk of
    /// histograms ends with it instead of a new XOR chunk being cut for one marker.
    fn stale_marker_for_last(&self, v: SampleValue) -> SampleValue {
        let SampleValue::Float(f) = v else { return v };
        if f.to_bits() != STALE_NAN_BITS {
            return v;
        }
        match self.last {
            SampleValue::Histogram(_) => SampleValue::Histogram(Arc::new(Histogram {
                sum: f,
                ..Histogram::default()
            })),
            SampleValue::FloatHistogram(_) => {
                SampleValue::FloatHistogram(Arc::new(FloatHistogram {
                    sum: f,
                    ..FloatHistogram::default()
                }))
            }
            SampleValue::Float(_) => v,
        }
    }

    /// Starts a new open chunk at `t`, closing the current one.
    fn cut(&mut self, t: i64, data: OpenData, opts: &ChunkOpts) {
        if let Some(full) = self.open.take() {
            self.closed.push(full.close());
        }
        self.open = Some(OpenChunk {
            data,
            min_t: t,
            max_t: t,
        });
        self.next_at = range_end(t, opts.chunk_range);
    }

    fn append_float(&mut self, t: i64, v: f64, opts: &ChunkOpts) -> bool {
        let cut = match &self.open {
            Some(OpenChunk {
                data: OpenData::Xor(c),
                min_t,
                max_t,
            }) => {
                let n = usize::from(c.num_samples());
                if n == opts.samples_per_chunk / 4 {
                    self.next_at = chunk_end_time(*min_t, *max_t, self.next_at, 4.0);
                }
                t >= self.next_at || n >= opts.samples_per_chunk * 2
            }
            _ => true,
        };
        if cut {
            self.cut(t, OpenData::Xor(XorChunk::new()), opts);
        }
        let open = self.open.as_mut().expect("a chunk was opened above");
        let OpenData::Xor(chunk) = &mut open.data else {
            unreachable!("a float chunk was opened above")
        };
        // Timestamps only grow here, so the chunk cannot refuse the sample.
        chunk
            .appender()
            .and_then(|mut a| a.append(t, v))
            .expect("in-order sample appends to an intact head chunk");
        open.max_t = t;
        cut
    }

    /// Upstream's `histogramsAppendPreprocessor` and `appendHistogram`: chunks are cut by size
    /// (a target of 1 KiB, predicted once a quarter full, at least ten samples unless the
    /// chunk range ends) and where the histogram cannot continue the chunk.
    fn append_histogram<H: HeadHistogram>(&mut self, t: i64, h: &H, opts: &ChunkOpts) -> bool {
        let target = TARGET_BYTES_PER_HISTOGRAM_CHUNK;
        let Some(open) = self.open.as_mut() else {
            self.start_histogram(t, h, None, opts);
            return true;
        };
        let (min_t, max_t) = (open.min_t, open.max_t);
        let Some(chunk) = H::open_mut(&mut open.data) else {
            self.start_histogram(t, h, None, opts);
            return true;
        };
        let (bytes, n) = (chunk.len_bytes(), chunk.num_samples());
        let range_start = if self.histogram_end_computed {
            range_end(min_t, opts.chunk_range)
        } else {
            self.next_at
        };
        if !self.histogram_end_computed && bytes >= target / 4 {
            let ratio = target as f64 / bytes as f64;
            self.next_at = chunk_end_time(min_t, max_t, self.next_at, ratio);
            self.histogram_end_computed = true;
        }
        if (t >= self.next_at || bytes >= target * 2)
            && (n >= MIN_SAMPLES_PER_HISTOGRAM_CHUNK || t >= range_start)
        {
            let prev = chunk.clone();
            self.start_histogram(t, h, Some(&prev), opts);
            return true;
        }
        match chunk.push(t, h) {
            Ok(None) => {
                open.max_t = t;
                false
            }
            Ok(Some(next)) => {
                self.cut(t, H::wrap(next), opts);
                true
            }
            // Only a chunk at the 2-byte sample count refuses a sample; continue in a new one.
            Err(_) => {
                let prev = chunk.clone();
                self.start_histogram(t, h, Some(&prev), opts);
                true
            }
        }
    }

    fn start_histogram<H: HeadHistogram>(
        &mut self,
        t: i64,
        h: &H,
        prev: Option<&OpenHistogramChunk<H>>,
        opts: &ChunkOpts,
    ) {
        let chunk = OpenHistogramChunk::start(t, h, prev)
            .expect("a validated histogram starts an empty chunk");
        self.cut(t, H::wrap(chunk), opts);
        self.histogram_end_computed = false;
    }

    /// The newest in-order timestamp a querier with snapshot `seq` may see.
    pub(crate) fn visible_max_t(&self, snapshot: u64) -> i64 {
        self.commits
            .before_first_after(snapshot)
            .unwrap_or(self.max_t)
    }

    /// Forgets commit records that no open querier can need.
    pub(crate) fn trim_commits(&mut self, oldest_snapshot: u64) {
        self.commits.trim(oldest_snapshot);
    }

    /// Drops data entirely before `mint` (out-of-order samples too unless `keep_ooo`);
    /// returns the number of chunks removed.
    pub(crate) fn truncate_before(&mut self, mint: i64, keep_ooo: bool) -> usize {
        let before = self.closed.len();
        self.closed.retain(|c| c.max_t >= mint);
        let mut removed = before - self.closed.len();
        if self.open.as_ref().is_some_and(|c| c.max_t < mint) {
            self.open = None;
            removed += 1;
        }
        if !keep_ooo {
            self.ooo.retain(|s| s.0 >= mint);
        }
        removed
    }

    /// Writes the closed chunks still in memory to `files` (oldest first, stopping at the
    /// first failure so the files keep each series' chunks in order) and drops their bytes.
    pub(crate) fn spill(
        &mut self,
        series_ref: u64,
        files: &ChunkFiles,
    ) -> Result<(), ChunkFileError> {
        for c in &mut self.closed {
            if let ChunkData::Mem(bytes) = &c.data {
                let disk = files.write(series_ref, c.min_t, c.max_t, c.encoding, bytes)?;
                c.data = ChunkData::Disk(disk);
            }
        }
        Ok(())
    }

    /// Adds chunks found in the head chunk files during replay, those after the series'
    /// newest sample (a series whose labels came back under a new reference may already hold
    /// older ones). Returns how many were added and the newest time they cover, which the
    /// replay skips samples up to.
    pub(crate) fn attach(&mut self, chunks: Vec<MappedChunk>) -> Option<(u64, i64)> {
        let mut newest = None;
        let mut added = 0;
        for c in chunks {
            if c.min_t <= self.max_t || self.open.is_some() {
                continue;
            }
            self.closed.push(ClosedChunk {
                min_t: c.min_t,
                max_t: c.max_t,
                encoding: c.encoding,
                data: ChunkData::Disk(c.chunk),
            });
            self.max_t = c.max_t;
            newest = Some(c.max_t);
            added += 1;
        }
        newest.map(|t| (added, t))
    }

    /// After a replay that ended with the series' newest samples in a chunk file: reads its
    /// last sample back, which duplicate detection and stale markers compare with.
    pub(crate) fn restore_last(&mut self, files: &ChunkFiles) -> Result<(), ChunkFileError> {
        if self.open.is_some() {
            return Ok(());
        }
        let Some(c) = self.closed.last() else {
            return Ok(());
        };
        let ChunkData::Disk(disk) = c.data else {
            return Ok(());
        };
        let bytes = files.read(disk)?;
        let samples = crate::chunkenc::decode_samples(c.encoding, &bytes).map_err(|e| {
            ChunkFileError::Corrupt {
                file: disk.file(),
                offset: disk.offset(),
                what: e.to_string(),
            }
        })?;
        if let Some(s) = samples.last() {
            self.last = s.value.clone();
        }
        Ok(())
    }

    pub(crate) fn chunk_count(&self) -> usize {
        self.closed.len() + usize::from(self.open.is_some())
    }
}

/// How chunks are cut.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ChunkOpts {
    pub(crate) chunk_range: i64,
    pub(crate) samples_per_chunk: usize,
}

/// The histogram types' open chunks in [`OpenData`].
pub(crate) trait HeadHistogram: ChunkHistogram {
    fn open_mut(data: &mut OpenData) -> Option<&mut OpenHistogramChunk<Self>>;
    fn wrap(chunk: OpenHistogramChunk<Self>) -> OpenData;
}

impl HeadHistogram for Histogram {
    fn open_mut(data: &mut OpenData) -> Option<&mut OpenHistogramChunk<Self>> {
        match data {
            OpenData::Histogram(c) => Some(&mut **c),
            _ => None,
        }
    }
    fn wrap(chunk: OpenHistogramChunk<Self>) -> OpenData {
        OpenData::Histogram(Box::new(chunk))
    }
}

impl HeadHistogram for FloatHistogram {
    fn open_mut(data: &mut OpenData) -> Option<&mut OpenHistogramChunk<Self>> {
        match data {
            OpenData::FloatHistogram(c) => Some(&mut **c),
            _ => None,
        }
    }
    fn wrap(chunk: OpenHistogramChunk<Self>) -> OpenData {
        OpenData::FloatHistogram(Box::new(chunk))
    }
}

/// A chunk's samples in `[mint, maxt]`.
pub(crate) fn decode_range(
    encoding: ChunkEncoding,
    bytes: &[u8],
    mint: i64,
    maxt: i64,
) -> Vec<SeriesSample> {
    let mut samples = crate::chunkenc::decode_samples(encoding, bytes)
        .expect("the head encodes its chunks itself");
    samples.retain(|s| s.t >= mint && s.t <= maxt);
    samples
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(v: f64) -> SampleValue {
        SampleValue::Float(v)
    }

    const OPTS: ChunkOpts = ChunkOpts {
        chunk_range: 7_200_000,
        samples_per_chunk: 120,
    };

    #[test]
    fn chunks_hold_120_samples_at_a_steady_rate() {
        let s = MemSeries::new(1, Labels::default());
        let mut d = s.lock();
        // 15s scrapes from the start of a range: 480 samples fill the 2h range.
        for i in 0..480 {
            d.apply(i * 15_000, f(i as f64), 1, false, &OPTS);
        }
        let counts: Vec<_> = d
            .closed
            .iter()
            .map(|c| {
                let ChunkData::Mem(bytes) = &c.data else {
                    panic!("a head without files keeps chunks in memory")
                };
                XorChunk::from_bytes(bytes.to_vec()).unwrap().num_samples()
            })
            .collect();
        assert_eq!(counts, [120, 120, 120]);
        let open = d.open.as_ref().unwrap().bytes();
        assert_eq!(
            XorChunk::from_bytes(open.to_vec()).unwrap().num_samples(),
            120
        );
    }

    #[test]
    fn chunks_are_cut_at_range_boundaries() {
        let s = MemSeries::new(1, Labels::default());
        let mut d = s.lock();
        for t in [7_199_000, 7_200_000] {
            d.apply(t, f(1.0), 1, false, &OPTS);
        }
        assert_eq!(d.closed.len(), 1);
        assert_eq!(d.open.as_ref().unwrap().min_t, 7_200_000);
    }

    #[test]
    fn visibility_follows_commit_sequence() {
        let s = MemSeries::new(1, Labels::default());
        let mut d = s.lock();
        d.apply(10, f(1.0), 1, false, &OPTS);
        d.apply(20, f(2.0), 2, false, &OPTS);
        d.apply(30, f(3.0), 2, false, &OPTS);
        assert_eq!(d.visible_max_t(0), i64::MIN);
        assert_eq!(d.visible_max_t(1), 10);
        assert_eq!(d.visible_max_t(2), 30);
        d.trim_commits(1);
        assert_eq!(d.visible_max_t(1), 10);
        assert_eq!(d.apply(30, f(3.0), 3, true, &OPTS), Applied::Dropped);
        assert_eq!(d.apply(15, f(1.5), 3, true, &OPTS), Applied::OutOfOrder);
        assert_eq!(d.apply(15, f(1.5), 3, true, &OPTS), Applied::Dropped);
        assert_eq!(d.min_time(), Some(10));
    }

    #[test]
    fn steady_commits_keep_one_record_inline() {
        let s = MemSeries::new(1, Labels::default());
        let mut d = s.lock();
        // The appender trims before applying, so the previous record is gone before the new
        // one would push it into the overflow queue.
        for seq in 1..100u64 {
            d.trim_commits(seq - 1);
            d.apply(seq as i64 * 1000, f(1.0), seq, false, &OPTS);
        }
        assert_eq!(d.commits.older.capacity(), 0);
        assert_eq!(d.visible_max_t(98), 98_000);
        assert_eq!(d.visible_max_t(99), 99_000);
        // A querier holding snapshot 99 keeps the records of later commits.
        for seq in 100..103u64 {
            d.trim_commits(99);
            d.apply(seq as i64 * 1000, f(1.0), seq, false, &OPTS);
        }
        assert_eq!(d.visible_max_t(99), 99_000);
        assert_eq!(d.visible_max_t(100), 100_000);
        assert_eq!(d.visible_max_t(102), 102_000);
        d.trim_commits(102);
        assert!(d.commits.newest.is_none() && d.commits.older.is_empty());
    }

    #[test]
    fn float_series_do_not_pay_for_histogram_chunks() {
        assert!(
            std::mem::size_of::<OpenData>() <= std::mem::size_of::<XorChunk>() + 8,
            "{} bytes",
            std::mem::size_of::<OpenData>()
        );
    }

    #[test]
    fn chunk_end_prediction_matches_upstream() {
        // 30 samples over 29 minutes into a 2h range: n = 7200/(1741*4) rounds down to 1 → max.
        assert_eq!(chunk_end_time(0, 1_740_000, 7_200_000, 4.0), 7_200_000);
        // 30 samples in 29s: 2h splits into floor(62.06) = 62 chunks.
        assert_eq!(chunk_end_time(0, 29_000, 7_200_000, 4.0), 116_129);
        assert_eq!(range_end(-1, 1000), 1000);
    }
}
