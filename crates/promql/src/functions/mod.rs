//! The computational kernels of the PromQL functions, with upstream's exact semantics.
//!
//! Kernels work on one series' points in one window ([`FPoint`](crate::value::FPoint),
//! [`HPoint`](crate::value::HPoint)) or on single values; they know nothing of storage, the
//! AST or the evaluator, which selects the points, loops over series and steps, builds the
//! output labels and turns reported [`annotations::Issue`]s into annotations.
//!
//! - [`range`]: `rate`/`increase`/`delta`, `irate`/`idelta`, `deriv`, `predict_linear`,
//!   `double_exponential_smoothing`, `changes`, `resets` and the `*_over_time` family.
//! - [`histogram`]: `histogram_quantile`/`histogram_fraction` for classic buckets and native
//!   histograms, `histogram_stddev`/`stdvar`/`count`/`sum`/`avg`.
//! - [`math`], [`date`]: element-wise float functions.
//! - [`labels`], [`sort`]: `label_replace`/`label_join` and the `sort*` orderings.
//! - [`stats`]: compensated sums, means, variances and quantiles shared with aggregations.
//! - [`annotations`]: the warnings and infos, with upstream's texts.

pub mod annotations;
pub mod date;
pub mod histogram;
pub mod labels;
pub mod math;
pub mod range;
pub mod sort;
pub mod stats;
