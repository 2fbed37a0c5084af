//! Remote write 2.0's `io.prometheus.write.v2.Request` (`prompb/io/prometheus/write/v2`): series
//! carry references into one de-duplicated string table instead of their label strings.

use std::collections::HashMap;

use pm_common::model::{Labels, ScratchBuilder};
use prost::Message;

pub use super::prompb::{BucketSpan, Count, Histogram, MetricType, ResetHint, ZeroCount};

#[derive(Clone, PartialEq, Message)]
pub struct Request {
    /// Starts with `""`, so that reference 0 means "absent" for optional strings.
    #[prost(string, repeated, tag = "4")]
    pub symbols: Vec<String>,
    #[prost(message, repeated, tag = "5")]
    pub timeseries: Vec<TimeSeries>,
}

#[derive(Clone, PartialEq, Message)]
pub struct TimeSeries {
    /// Name/value pairs of references into [`Request::symbols`].
    #[prost(uint32, repeated, tag = "1")]
    pub labels_refs: Vec<u32>,
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    #[prost(message, repeated, tag = "3")]
    pub histograms: Vec<Histogram>,
    #[prost(message, repeated, tag = "4")]
    pub exemplars: Vec<Exemplar>,
    #[prost(message, optional, tag = "5")]
    pub metadata: Option<Metadata>,
    #[prost(int64, tag = "6")]
    pub created_timestamp: i64,
}

#[derive(Clone, PartialEq, Message)]
pub struct Exemplar {
    #[prost(uint32, repeated, tag = "1")]
    pub labels_refs: Vec<u32>,
    #[prost(double, tag = "2")]
    pub value: f64,
    #[prost(int64, tag = "3")]
    pub timestamp: i64,
}

#[derive(Clone, PartialEq, Message)]
pub struct Sample {
    #[prost(double, tag = "1")]
    pub value: f64,
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

#[derive(Clone, PartialEq, Message)]
pub struct Metadata {
    #[prost(enumeration = "MetricType", tag = "1")]
    pub r#type: i32,
    #[prost(uint32, tag = "3")]
    pub help_ref: u32,
    #[prost(uint32, tag = "4")]
    pub unit_ref: u32,
}

/// Builds a request's string table: each distinct string once, `""` at index 0.
#[derive(Debug)]
pub struct SymbolTable {
    symbols: Vec<String>,
    index: HashMap<String, u32>,
}

impl Default for SymbolTable {
    fn default() -> Self {
        SymbolTable {
            symbols: vec![String::new()],
            index: HashMap::from([(String::new(), 0)]),
        }
    }
}

impl SymbolTable {
    /// The reference of `s`, adding it when new.
    pub fn symbolize(&mut self, s: &str) -> u32 {
        if let Some(&r) = self.index.get(s) {
            return r;
        }
        let r = u32::try_from(self.symbols.len()).unwrap_or(u32::MAX);
        self.symbols.push(s.to_owned());
        self.index.insert(s.to_owned(), r);
        r
    }

    /// The references of `labels`' names and values, pairwise.
    pub fn symbolize_labels(&mut self, labels: &Labels, out: &mut Vec<u32>) {
        out.clear();
        for l in labels {
            out.push(self.symbolize(l.name));
            out.push(self.symbolize(l.value));
        }
    }

    /// The table, leaving this one empty but for `""`, ready for the next request.
    pub fn take(&mut self) -> Vec<String> {
        let symbols = std::mem::replace(&mut self.symbols, vec![String::new()]);
        self.index.clear();
        self.index.insert(String::new(), 0);
        symbols
    }
}

/// Why a request's references cannot be resolved.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SymbolError {
    #[error("labelRefs {0} outside of symbols table (size {1})")]
    OutOfRange(u32, usize),
    #[error("odd number of label references ({0})")]
    Odd(usize),
}

/// The string `r` refers to.
pub fn symbol(symbols: &[String], r: u32) -> Result<&str, SymbolError> {
    symbols
        .get(r as usize)
        .map(String::as_str)
        .ok_or(SymbolError::OutOfRange(r, symbols.len()))
}

/// Collects the labels `refs` stand for into `b`, sorted (senders should sort them; the spec
/// does not let a receiver rely on it). The caller checks [`ScratchBuilder::duplicate_name`].
pub fn labels_from_refs(
    symbols: &[String],
    refs: &[u32],
    b: &mut ScratchBuilder,
) -> Result<(), SymbolError> {
    if !refs.len().is_multiple_of(2) {
        return Err(SymbolError::Odd(refs.len()));
    }
    b.reset();
    for pair in refs.chunks_exact(2) {
        b.push(symbol(symbols, pair[0])?, symbol(symbols, pair[1])?);
    }
    b.sort();
    Ok(())
}
