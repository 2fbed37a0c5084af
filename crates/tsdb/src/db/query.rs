//! Reading and writing through the database: blocks and head queried as one, appends to the
//! head.

use pm_storage::merge::MergeQuerier;
use pm_storage::{Appendable, Appender, Querier, Queryable, Result};

use super::Db;

impl Queryable for Db {
    /// Blocks overlapping `[mint, maxt]` and the head, merged; where a block and the head both
    /// hold a timestamp (briefly, after a block is written and before the head lets go), the
    /// series merge keeps one sample.
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier>> {
        let mut queriers: Vec<Box<dyn Querier>> = self
            .blocks()
            .iter()
            .filter(|b| b.overlaps(mint, maxt))
            .map(|b| Box::new(b.querier(mint, maxt)) as Box<dyn Querier>)
            .collect();
        queriers.push(self.head().querier(mint, maxt)?);
        Ok(MergeQuerier::boxed(queriers, Vec::new()))
    }
}

impl Appendable for Db {
    fn appender(&self) -> Box<dyn Appender> {
        Box::new(self.head().appender())
    }
}
