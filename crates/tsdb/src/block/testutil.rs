//! Reading query results back in tests.

use pm_common::model::Labels;
use pm_storage::SeriesSet;

pub use super::VecChunkSeriesSet;

/// Every series of a sample set with its float samples.
pub fn collect(mut set: Box<dyn SeriesSet>) -> Vec<(Labels, Vec<(i64, f64)>)> {
    let mut out = Vec::new();
    while let Some(s) = set.next() {
        let mut it = s.iter();
        let mut samples = Vec::new();
        while it.next().is_some() {
            samples.push(it.at());
        }
        assert!(it.err().is_none(), "{:?}", it.err());
        out.push((s.labels().clone(), samples));
    }
    assert!(set.err().is_none(), "{:?}", set.err());
    out
}
