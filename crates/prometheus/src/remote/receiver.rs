//! The remote-write receiver (`POST /api/v1/write`): decodes 1.0 and 2.0 requests and appends
//! them in one transaction, with upstream's status codes so that senders retry only what a
//! retry can fix.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pm_common::model::{Exemplar, Labels, METRIC_NAME_LABEL, Metadata, ScratchBuilder};
use pm_storage::{Appendable, Appender, SeriesRef, StorageError};

use super::codec::{self, AnyHistogram, CodecError, WriteMessage};
use super::prompb::{self, WriteRequest};
use super::writev2::{self, SymbolError};

/// Samples further ahead than this are out of bounds, as upstream's time-limit appender.
const MAX_AHEAD: Duration = Duration::from_secs(10 * 60);

/// What the receiver accepts.
#[derive(Clone, Debug)]
pub struct ReceiverOptions {
    /// `--web.remote-write-receiver.accepted-protobuf-messages`.
    pub accepted: Vec<WriteMessage>,
}

/// How much of a request was written (remote write 2.0 reports it in response headers).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WriteStats {
    pub samples: u64,
    pub histograms: u64,
    pub exemplars: u64,
}

/// Why a request was (partly) refused, by the status it maps to.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WriteError {
    /// 415: the sender must change what it sends.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 400: retrying the same data cannot succeed.
    #[error("{0}")]
    BadRequest(String),
    /// 500: the storage failed; a retry may succeed.
    #[error("{0}")]
    Internal(String),
}

impl WriteError {
    pub fn status(&self) -> http::StatusCode {
        match self {
            WriteError::UnsupportedMediaType(_) => http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
            WriteError::BadRequest(_) => http::StatusCode::BAD_REQUEST,
            WriteError::Internal(_) => http::StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<CodecError> for WriteError {
    fn from(e: CodecError) -> Self {
        WriteError::BadRequest(e.to_string())
    }
}

/// What a request produced: the stats (for 2.0's headers) and the outcome.
#[derive(Debug)]
pub struct Outcome {
    pub message: WriteMessage,
    pub stats: WriteStats,
    pub result: Result<(), WriteError>,
}

/// Handles one request body with its `Content-Type` and `Content-Encoding` headers.
pub fn receive(
    storage: &dyn Appendable,
    options: &ReceiverOptions,
    content_type: Option<&str>,
    content_encoding: Option<&str>,
    body: &[u8],
) -> Outcome {
    let message = match content_type
        .filter(|c| !c.is_empty())
        .map(WriteMessage::from_content_type)
        .unwrap_or(Ok(WriteMessage::V1))
    {
        Ok(m) => m,
        Err(e) => return refused(WriteMessage::V1, WriteError::UnsupportedMediaType(e)),
    };
    if !options.accepted.contains(&message) {
        return refused(
            message,
            WriteError::UnsupportedMediaType(format!(
                "{} protobuf message is not accepted by this server; accepted {}",
                message.name(),
                options
                    .accepted
                    .iter()
                    .map(|m| m.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        );
    }
    let encoding = content_encoding
        .filter(|e| !e.is_empty())
        .unwrap_or(codec::SNAPPY);
    if encoding != codec::SNAPPY {
        return refused(
            message,
            WriteError::UnsupportedMediaType(format!(
                "{encoding} encoding (compression) is not accepted by this server; only {} is acceptable",
                codec::SNAPPY
            )),
        );
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let max_t = i64::try_from((now + MAX_AHEAD).as_millis()).unwrap_or(i64::MAX);
    match message {
        WriteMessage::V1 => match codec::decode::<WriteRequest>(body) {
            Ok(req) => {
                let mut stats = WriteStats::default();
                let result = write_v1(storage, &req, max_t, &mut stats);
                Outcome {
                    message,
                    stats,
                    result,
                }
            }
            Err(e) => refused(message, e.into()),
        },
        WriteMessage::V2 => match codec::decode::<writev2::Request>(body) {
            Ok(req) => {
                let mut stats = WriteStats::default();
                let result = write_v2(storage, &req, max_t, &mut stats);
                Outcome {
                    message,
                    stats,
                    result,
                }
            }
            Err(e) => refused(message, e.into()),
        },
    }
}

fn refused(message: WriteMessage, e: WriteError) -> Outcome {
    Outcome {
        message,
        stats: WriteStats::default(),
        result: Err(e),
    }
}

/// Errors about the data itself (a retry sends the same data again), which upstream answers
/// with 400 so that senders drop the batch instead of retrying forever.
fn is_bad_data(e: &StorageError) -> bool {
    matches!(
        e,
        StorageError::OutOfOrderSample
            | StorageError::OutOfBounds
            | StorageError::DuplicateSample(_)
            | StorageError::TooOldSample
            | StorageError::InvalidHistogram(_)
            | StorageError::NativeHistogramsDisabled
    )
}

fn classify(e: StorageError) -> WriteError {
    if is_bad_data(&e) {
        WriteError::BadRequest(e.to_string())
    } else {
        WriteError::Internal(e.to_string())
    }
}

/// Why a series' labels are refused: no name, an empty or duplicate label name.
fn invalid_labels(b: &ScratchBuilder) -> Option<String> {
    if let Some(dup) = b.duplicate_name() {
        return Some(format!("duplicate label with name: {dup}"));
    }
    let mut has_name = false;
    for l in b.iter() {
        if l.name.is_empty() {
            return Some("empty label name".into());
        }
        has_name |= l.name == METRIC_NAME_LABEL && !l.value.is_empty();
    }
    (!has_name).then(|| "missing metric name".into())
}

/// Remote write 1.0: all or nothing. Series with invalid labels are skipped (logged), as
/// upstream; the first sample the storage refuses rolls the whole request back.
fn write_v1(
    storage: &dyn Appendable,
    req: &WriteRequest,
    max_t: i64,
    stats: &mut WriteStats,
) -> Result<(), WriteError> {
    let mut app = storage.appender();
    let mut b = ScratchBuilder::new();
    let mut exemplar_errors = 0usize;
    for ts in &req.timeseries {
        codec::labels_into(&ts.labels, &mut b);
        if let Some(reason) = invalid_labels(&b) {
            tracing::warn!(reason, "Invalid metric names or labels in remote write");
            continue;
        }
        let labels = b.labels();
        let mut r = SeriesRef::UNKNOWN;
        for s in &ts.samples {
            r = append_float(app.as_mut(), r, &labels, s.timestamp, s.value, max_t)
                .map_err(|e| rejected(e, &labels, s.timestamp))?;
            stats.samples += 1;
        }
        for h in &ts.histograms {
            r = append_histogram(app.as_mut(), r, &labels, h, max_t)
                .map_err(|e| rejected(e, &labels, h.timestamp))?;
            stats.histograms += 1;
        }
        for e in &ts.exemplars {
            let exemplar = Exemplar {
                labels: codec::labels_from_proto(&e.labels),
                value: e.value,
                ts: Some(e.timestamp),
            };
            match app.append_exemplar(r, &labels, &exemplar) {
                Ok(_) => stats.exemplars += 1,
                Err(_) => exemplar_errors += 1,
            }
        }
    }
    if exemplar_errors > 0 {
        tracing::warn!(
            count = exemplar_errors,
            "Error on ingesting exemplars from remote write"
        );
    }
    app.commit()
        .map_err(|e| WriteError::Internal(e.to_string()))
}

fn rejected(e: StorageError, labels: &Labels, t: i64) -> WriteError {
    if is_bad_data(&e) {
        tracing::error!(err = %e, series = %labels, timestamp = t, "Out of order sample from remote write");
    }
    classify(e)
}

fn append_float(
    app: &mut dyn Appender,
    r: SeriesRef,
    labels: &Labels,
    t: i64,
    v: f64,
    max_t: i64,
) -> Result<SeriesRef, StorageError> {
    if t > max_t {
        return Err(StorageError::OutOfBounds);
    }
    app.append(r, labels, t, v)
}

fn append_histogram(
    app: &mut dyn Appender,
    r: SeriesRef,
    labels: &Labels,
    h: &prompb::Histogram,
    max_t: i64,
) -> Result<SeriesRef, StorageError> {
    if h.timestamp > max_t {
        return Err(StorageError::OutOfBounds);
    }
    match codec::histogram_from_proto(h) {
        AnyHistogram::Int(h2) => app.append_histogram(r, labels, h.timestamp, Some(&h2), None),
        AnyHistogram::Float(fh) => app.append_histogram(r, labels, h.timestamp, None, Some(&fh)),
    }
}

/// Remote write 2.0: partial writes. Data the storage refuses as bad is skipped and reported
/// (400 after the rest is committed); a storage failure aborts with 500.
fn write_v2(
    storage: &dyn Appendable,
    req: &writev2::Request,
    max_t: i64,
    stats: &mut WriteStats,
) -> Result<(), WriteError> {
    let mut app = storage.appender();
    let mut b = ScratchBuilder::new();
    let mut eb = ScratchBuilder::new();
    let mut bad: Vec<String> = Vec::new();
    let symbols = &req.symbols;
    for ts in &req.timeseries {
        writev2::labels_from_refs(symbols, &ts.labels_refs, &mut b).map_err(|e| {
            WriteError::BadRequest(format!(
                "parsing labels for series {:?}: {e}",
                ts.labels_refs
            ))
        })?;
        if let Some(reason) = invalid_labels(&b) {
            bad.push(format!(
                "invalid labels for series, labels {:?}: {reason}",
                b.iter()
                    .map(|l| format!("{}={}", l.name, l.value))
                    .collect::<Vec<_>>()
            ));
            continue;
        }
        let labels = b.labels();
        let mut r = SeriesRef::UNKNOWN;
        for s in &ts.samples {
            match append_float(app.as_mut(), r, &labels, s.timestamp, s.value, max_t) {
                Ok(got) => {
                    r = got;
                    stats.samples += 1;
                }
                Err(e) if is_bad_data(&e) => bad.push(format!("{e} for series {labels}")),
                Err(e) => return Err(WriteError::Internal(e.to_string())),
            }
        }
        for h in &ts.histograms {
            match append_histogram(app.as_mut(), r, &labels, h, max_t) {
                Ok(got) => {
                    r = got;
                    stats.histograms += 1;
                }
                Err(e) if is_bad_data(&e) => bad.push(format!("{e} for series {labels}")),
                Err(e) => return Err(WriteError::Internal(e.to_string())),
            }
        }
        for e in &ts.exemplars {
            writev2::labels_from_refs(symbols, &e.labels_refs, &mut eb)
                .map_err(|err: SymbolError| WriteError::BadRequest(err.to_string()))?;
            let exemplar = Exemplar {
                labels: eb.labels(),
                value: e.value,
                ts: Some(e.timestamp),
            };
            if app.append_exemplar(r, &labels, &exemplar).is_ok() {
                stats.exemplars += 1;
            }
        }
        if let Some(m) = &ts.metadata {
            let metadata = Metadata {
                metric_type: codec::metric_type_from_proto(m.r#type),
                help: writev2::symbol(symbols, m.help_ref)
                    .map_err(|e| WriteError::BadRequest(e.to_string()))?
                    .to_owned(),
                unit: writev2::symbol(symbols, m.unit_ref)
                    .map_err(|e| WriteError::BadRequest(e.to_string()))?
                    .to_owned(),
            };
            if !r.is_unknown() && m.r#type != 0 {
                // Metadata of a series without accepted samples has nothing to attach to.
                let _ = app.update_metadata(r, &labels, &metadata);
            }
        }
    }
    app.commit()
        .map_err(|e| WriteError::Internal(e.to_string()))?;
    if bad.is_empty() {
        Ok(())
    } else {
        Err(WriteError::BadRequest(bad.join("\n")))
    }
}

#[cfg(test)]
#[path = "receiver_tests.rs"]
mod tests;
