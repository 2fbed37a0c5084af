//! WAL records, byte-compatible with upstream's `tsdb/record` package (documented in
//! `tsdb/docs/format/wal.md`): the first byte names the type, the rest is a type-specific list.
//!
//! Samples, exemplars and histograms store the first entry's series reference and timestamp in
//! full and every entry as signed deltas to them, which keeps a scrape's batch small.

mod buf;
mod histogram;
#[cfg(test)]
mod tests;

use pm_common::model::{Label, Labels, MetricType};

pub(crate) use buf::{Decbuf, Encbuf};
pub use histogram::{
    RefFloatHistogramSample, RefHistogramSample, encode_float_histograms, encode_histograms,
};

/// A series reference as the WAL stores it (upstream's `chunks.HeadSeriesRef`).
pub type HeadSeriesRef = u64;

/// Record type identifiers (upstream's `record.Type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum RecordType {
    Series = 1,
    Samples = 2,
    Tombstones = 3,
    Exemplars = 4,
    MmapMarkers = 5,
    Metadata = 6,
    HistogramSamples = 7,
    FloatHistogramSamples = 8,
    CustomBucketsHistogramSamples = 9,
    CustomBucketsFloatHistogramSamples = 10,
}

impl RecordType {
    /// The type of an encoded record; `None` for an empty record or an unknown type byte.
    pub fn of(rec: &[u8]) -> Option<RecordType> {
        Some(match rec.first()? {
            1 => RecordType::Series,
            2 => RecordType::Samples,
            3 => RecordType::Tombstones,
            4 => RecordType::Exemplars,
            5 => RecordType::MmapMarkers,
            6 => RecordType::Metadata,
            7 => RecordType::HistogramSamples,
            8 => RecordType::FloatHistogramSamples,
            9 => RecordType::CustomBucketsHistogramSamples,
            10 => RecordType::CustomBucketsFloatHistogramSamples,
            _ => return None,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("record ends in the middle of a value")]
    Truncated,
    #[error("varint in record overflows 64 bits")]
    VarintOverflow,
    #[error("label in record is not valid UTF-8")]
    InvalidUtf8,
    #[error("empty record")]
    Empty,
    #[error("unknown record type {0}")]
    UnknownType(u8),
    #[error("decode error after {decoded} {what}: {source}")]
    Entry {
        what: &'static str,
        decoded: usize,
        source: Box<RecordError>,
    },
}

/// A series definition: the reference later records use, and its labels.
#[derive(Clone, Debug, PartialEq)]
pub struct RefSeries {
    pub r: HeadSeriesRef,
    pub labels: Labels,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RefSample {
    pub r: HeadSeriesRef,
    pub t: i64,
    pub v: f64,
}

/// A deleted time range `[mint, maxt]` of one series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stone {
    pub r: HeadSeriesRef,
    pub mint: i64,
    pub maxt: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RefExemplar {
    pub r: HeadSeriesRef,
    pub t: i64,
    pub v: f64,
    pub labels: Labels,
}

/// Points at a chunk written to a memory-mapped head chunk file (out-of-order WBL records).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefMmapMarker {
    pub r: HeadSeriesRef,
    pub mmap_ref: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RefMetadata {
    pub r: HeadSeriesRef,
    pub metric_type: MetricType,
    pub unit: String,
    pub help: String,
}

/// A decoded record.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    Series(Vec<RefSeries>),
    Samples(Vec<RefSample>),
    Tombstones(Vec<Stone>),
    Exemplars(Vec<RefExemplar>),
    MmapMarkers(Vec<RefMmapMarker>),
    Metadata(Vec<RefMetadata>),
    /// Integer histograms, from both the exponential and the custom-buckets record types.
    Histograms(Vec<RefHistogramSample>),
    /// Float histograms, from both the exponential and the custom-buckets record types.
    FloatHistograms(Vec<RefFloatHistogramSample>),
}

const UNIT_FIELD: &str = "UNIT";
const HELP_FIELD: &str = "HELP";

/// Upstream's `record.MetricType` numbering, which differs from the text formats' order.
fn metric_type_byte(t: MetricType) -> u8 {
    match t {
        MetricType::Unknown => 0,
        MetricType::Counter => 1,
        MetricType::Gauge => 2,
        MetricType::Histogram => 3,
        MetricType::GaugeHistogram => 4,
        MetricType::Summary => 5,
        MetricType::Info => 6,
        MetricType::StateSet => 7,
    }
}

fn metric_type_from_byte(b: u8) -> MetricType {
    match b {
        1 => MetricType::Counter,
        2 => MetricType::Gauge,
        3 => MetricType::Histogram,
        4 => MetricType::GaugeHistogram,
        5 => MetricType::Summary,
        6 => MetricType::Info,
        7 => MetricType::StateSet,
        _ => MetricType::Unknown,
    }
}

pub(crate) fn encode_labels(e: &mut Encbuf<'_>, labels: &Labels) {
    e.uvarint(labels.len() as u64);
    for l in labels.iter() {
        e.uvarint_str(l.name);
        e.uvarint_str(l.value);
    }
}

pub(crate) fn decode_labels(d: &mut Decbuf<'_>) -> Result<Labels, RecordError> {
    let n = d.uvarint()?;
    // Every label takes at least two bytes, so a corrupt count cannot make us allocate much.
    let mut pairs = Vec::with_capacity((n as usize).min(d.len() / 2));
    for _ in 0..n {
        let name = d.uvarint_str()?;
        let value = d.uvarint_str()?;
        pairs.push(Label { name, value });
    }
    Ok(Labels::from_sorted(pairs))
}

/// Appends a series record to `buf`.
pub fn encode_series(series: &[RefSeries], buf: &mut Vec<u8>) {
    let mut e = Encbuf::new(buf);
    e.byte(RecordType::Series as u8);
    for s in series {
        e.be64(s.r);
        encode_labels(&mut e, &s.labels);
    }
}

/// Appends a samples record to `buf`.
pub fn encode_samples(samples: &[RefSample], buf: &mut Vec<u8>) {
    let mut e = SamplesEncoder::new(buf);
    for s in samples {
        e.push(s.r, s.t, s.v);
    }
}

/// Appends a samples record to a buffer one sample at a time, so that the head's commit
/// encodes its pending samples directly instead of gathering them into a `[RefSample]` first.
/// The bytes are those of [`encode_samples`].
pub struct SamplesEncoder<'a> {
    e: Encbuf<'a>,
    /// Reference and time of the first sample, which the others are stored relative to.
    first: Option<(u64, i64)>,
}

impl<'a> SamplesEncoder<'a> {
    pub fn new(buf: &'a mut Vec<u8>) -> Self {
        let mut e = Encbuf::new(buf);
        e.byte(RecordType::Samples as u8);
        SamplesEncoder { e, first: None }
    }

    /// Whether no sample was pushed yet.
    pub fn is_empty(&self) -> bool {
        self.first.is_none()
    }

    pub fn push(&mut self, r: u64, t: i64, v: f64) {
        let (first_r, first_t) = match self.first {
            Some(first) => first,
            None => {
                self.e.be64(r);
                self.e.be64(t as u64);
                self.first = Some((r, t));
                (r, t)
            }
        };
        self.e.varint(r.wrapping_sub(first_r) as i64);
        self.e.varint(t.wrapping_sub(first_t));
        self.e.be64(v.to_bits());
    }
}

/// Appends a tombstones record to `buf`.
pub fn encode_tombstones(stones: &[Stone], buf: &mut Vec<u8>) {
    let mut e = Encbuf::new(buf);
    e.byte(RecordType::Tombstones as u8);
    for s in stones {
        e.be64(s.r);
        e.varint(s.mint);
        e.varint(s.maxt);
    }
}

/// Appends an exemplars record to `buf`.
pub fn encode_exemplars(exemplars: &[RefExemplar], buf: &mut Vec<u8>) {
    let mut e = Encbuf::new(buf);
    e.byte(RecordType::Exemplars as u8);
    let Some(first) = exemplars.first() else {
        return;
    };
    e.be64(first.r);
    e.be64(first.t as u64);
    for x in exemplars {
        e.varint(x.r.wrapping_sub(first.r) as i64);
        e.varint(x.t.wrapping_sub(first.t));
        e.be64(x.v.to_bits());
        encode_labels(&mut e, &x.labels);
    }
}

/// Appends an mmap-markers record to `buf`.
pub fn encode_mmap_markers(markers: &[RefMmapMarker], buf: &mut Vec<u8>) {
    let mut e = Encbuf::new(buf);
    e.byte(RecordType::MmapMarkers as u8);
    for m in markers {
        e.be64(m.r);
        e.be64(m.mmap_ref);
    }
}

/// Appends a metadata record to `buf`.
pub fn encode_metadata(metadata: &[RefMetadata], buf: &mut Vec<u8>) {
    let mut e = Encbuf::new(buf);
    e.byte(RecordType::Metadata as u8);
    for m in metadata {
        e.uvarint(m.r);
        e.byte(metric_type_byte(m.metric_type));
        e.uvarint(2);
        e.uvarint_str(UNIT_FIELD);
        e.uvarint_str(&m.unit);
        e.uvarint_str(HELP_FIELD);
        e.uvarint_str(&m.help);
    }
}

/// Decodes any record.
pub fn decode(rec: &[u8]) -> Result<Record, RecordError> {
    let t = record_type(rec)?;
    let mut d = Decbuf::new(&rec[1..]);
    Ok(match t {
        RecordType::Series => Record::Series(entries(&mut d, "series", |d| {
            Ok(RefSeries {
                r: d.be64()?,
                labels: decode_labels(d)?,
            })
        })?),
        RecordType::Samples => {
            let mut out = Vec::new();
            decode_sample_entries(&mut d, &mut out)?;
            Record::Samples(out)
        }
        RecordType::Tombstones => Record::Tombstones(entries(&mut d, "stones", |d| {
            Ok(Stone {
                r: d.be64()?,
                mint: d.varint()?,
                maxt: d.varint()?,
            })
        })?),
        RecordType::Exemplars => {
            Record::Exemplars(based_entries(&mut d, "exemplars", |d, r, t| {
                Ok(RefExemplar {
                    r,
                    t,
                    v: d.be64_f64()?,
                    labels: decode_labels(d)?,
                })
            })?)
        }
        RecordType::MmapMarkers => Record::MmapMarkers(entries(&mut d, "mmap markers", |d| {
            Ok(RefMmapMarker {
                r: d.be64()?,
                mmap_ref: d.be64()?,
            })
        })?),
        RecordType::Metadata => Record::Metadata(entries(&mut d, "metadata", decode_metadata)?),
        RecordType::HistogramSamples | RecordType::CustomBucketsHistogramSamples => {
            Record::Histograms(based_entries(&mut d, "histograms", |d, r, t| {
                Ok(RefHistogramSample {
                    r,
                    t,
                    h: histogram::decode_histogram(d)?,
                })
            })?)
        }
        RecordType::FloatHistogramSamples | RecordType::CustomBucketsFloatHistogramSamples => {
            Record::FloatHistograms(based_entries(&mut d, "float histograms", |d, r, t| {
                Ok(RefFloatHistogramSample {
                    r,
                    t,
                    fh: histogram::decode_float_histogram(d)?,
                })
            })?)
        }
    })
}

/// Decodes a samples record into `out`, which is cleared first: replay reuses one buffer for
/// every record instead of allocating a vector per record. On error `out` holds the samples
/// before the bad entry, which the caller must not apply (the whole record is corrupt).
pub fn decode_samples_into(rec: &[u8], out: &mut Vec<RefSample>) -> Result<(), RecordError> {
    out.clear();
    match record_type(rec)? {
        RecordType::Samples => decode_sample_entries(&mut Decbuf::new(&rec[1..]), out),
        _ => Err(RecordError::UnknownType(rec[0])),
    }
}

/// The type a record starts with.
fn record_type(rec: &[u8]) -> Result<RecordType, RecordError> {
    RecordType::of(rec).ok_or(match rec.first() {
        None => RecordError::Empty,
        Some(&b) => RecordError::UnknownType(b),
    })
}

fn decode_sample_entries(d: &mut Decbuf<'_>, out: &mut Vec<RefSample>) -> Result<(), RecordError> {
    // Each entry takes at least 10 bytes (two one-byte varints and the value).
    out.reserve(d.len() / 10);
    based_entries_into(d, "samples", out, |d, r, t| {
        Ok(RefSample {
            r,
            t,
            v: d.be64_f64()?,
        })
    })
}

fn decode_metadata(d: &mut Decbuf<'_>) -> Result<RefMetadata, RecordError> {
    let r = d.uvarint()?;
    let metric_type = metric_type_from_byte(d.byte()?);
    let fields = d.uvarint()?;
    let (mut unit, mut help) = (String::new(), String::new());
    // Fields are named so that later versions can add some; unknown ones are skipped.
    for _ in 0..fields {
        let name = d.uvarint_str()?;
        let value = d.uvarint_str()?;
        match name {
            UNIT_FIELD => unit = value.to_owned(),
            HELP_FIELD => help = value.to_owned(),
            _ => {}
        }
    }
    Ok(RefMetadata {
        r,
        metric_type,
        unit,
        help,
    })
}

/// Decodes entries until the record ends.
fn entries<T>(
    d: &mut Decbuf<'_>,
    what: &'static str,
    one: impl FnMut(&mut Decbuf<'_>) -> Result<T, RecordError>,
) -> Result<Vec<T>, RecordError> {
    let mut out = Vec::new();
    entries_into(d, what, &mut out, one)?;
    Ok(out)
}

/// Decodes entries until the record ends, appending them to `out`.
fn entries_into<T>(
    d: &mut Decbuf<'_>,
    what: &'static str,
    out: &mut Vec<T>,
    mut one: impl FnMut(&mut Decbuf<'_>) -> Result<T, RecordError>,
) -> Result<(), RecordError> {
    let start = out.len();
    while !d.is_empty() {
        match one(d) {
            Ok(v) => out.push(v),
            Err(source) => {
                return Err(RecordError::Entry {
                    what,
                    decoded: out.len() - start,
                    source: Box::new(source),
                });
            }
        }
    }
    Ok(())
}

/// Decodes entries stored as deltas to a base reference and timestamp that start the record.
fn based_entries<T>(
    d: &mut Decbuf<'_>,
    what: &'static str,
    one: impl FnMut(&mut Decbuf<'_>, HeadSeriesRef, i64) -> Result<T, RecordError>,
) -> Result<Vec<T>, RecordError> {
    let mut out = Vec::new();
    based_entries_into(d, what, &mut out, one)?;
    Ok(out)
}

/// [`based_entries`], appending to `out`.
fn based_entries_into<T>(
    d: &mut Decbuf<'_>,
    what: &'static str,
    out: &mut Vec<T>,
    mut one: impl FnMut(&mut Decbuf<'_>, HeadSeriesRef, i64) -> Result<T, RecordError>,
) -> Result<(), RecordError> {
    if d.is_empty() {
        return Ok(());
    }
    let base = (|| Ok::<_, RecordError>((d.be64()?, d.be64()? as i64)))().map_err(|source| {
        RecordError::Entry {
            what,
            decoded: 0,
            source: Box::new(source),
        }
    })?;
    entries_into(d, what, out, |d| {
        let r = base.0.wrapping_add(d.varint()? as u64);
        let t = base.1.wrapping_add(d.varint()?);
        one(d, r, t)
    })
}
