//! The whole of a storage, as the server wires it: queryable and appendable.

use crate::append::Appendable;
use crate::error::Result;
use crate::query::Queryable;

/// A storage that ingests and serves samples (the TSDB, a fanout, the test storage). All
/// methods may be called from any thread.
pub trait Storage: Queryable + Appendable {
    /// The oldest timestamp the storage holds, in milliseconds; `i64::MAX` when it holds none.
    /// The API uses it to avoid querying remote storage for times the local one covers.
    fn start_time(&self) -> Result<i64>;
}

impl<T: Storage + ?Sized> Storage for std::sync::Arc<T> {
    fn start_time(&self) -> Result<i64> {
        (**self).start_time()
    }
}
