//! What evaluation produces: samples, series and the four PromQL result types.

use std::sync::Arc;

use pm_common::model::{FloatHistogram, Labels};

use crate::value::{FPoint, HPoint};

/// One element of an instant vector: a float or a histogram at the evaluation time.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub metric: Labels,
    pub t: i64,
    pub f: f64,
    /// Set for histogram samples; `f` is then meaningless.
    pub h: Option<Arc<FloatHistogram>>,
    /// With delayed name removal, `__name__` is dropped only when the query finishes, so the
    /// decision travels with the sample.
    pub drop_name: bool,
}

impl Sample {
    pub fn float(metric: Labels, t: i64, f: f64) -> Self {
        Sample {
            metric,
            t,
            f,
            h: None,
            drop_name: false,
        }
    }
}

/// One series of a range result (or of an intermediate step-wise evaluation): floats and
/// histograms, each in ascending time order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    pub metric: Labels,
    pub floats: Vec<FPoint>,
    pub histograms: Vec<HPoint>,
    pub drop_name: bool,
}

impl Series {
    pub fn new(metric: Labels) -> Self {
        Series {
            metric,
            ..Series::default()
        }
    }

    /// Points held, counting a histogram by its size as upstream's sample limit does.
    pub fn sample_count(&self) -> usize {
        self.floats.len()
            + self
                .histograms
                .iter()
                .map(|p| histogram_size(&p.h))
                .sum::<usize>()
    }
}

/// How many samples a histogram counts as against `max_samples`: upstream weighs it by its
/// estimated in-memory size, one sample per 16 bytes (a 168-byte header plus 8 bytes per span,
/// bucket and custom bound).
pub fn histogram_size(h: &FloatHistogram) -> usize {
    let elements = h.positive_spans.len()
        + h.negative_spans.len()
        + h.positive_buckets.len()
        + h.negative_buckets.len()
        + h.custom_values.len();
    (168 + 8 * elements + 8) / 16
}

pub type Vector = Vec<Sample>;
pub type Matrix = Vec<Series>;

/// A query's value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar { t: i64, v: f64 },
    String { t: i64, s: String },
    Vector(Vector),
    Matrix(Matrix),
}

impl Value {
    /// The API's `resultType`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Scalar { .. } => "scalar",
            Value::String { .. } => "string",
            Value::Vector(_) => "vector",
            Value::Matrix(_) => "matrix",
        }
    }
}
