//! Reading and writing through the database: blocks and head queried as one, appends to the
//! head.

use pm_common::model::Matcher;
use pm_storage::merge::{MergeQuerier, merge_label_lists};
use pm_storage::{
    Appendable, Appender, ChunkQuerier, ChunkQueryable, ChunkSeriesSet, LabelHints, LabelQuerier,
    Querier, Queryable, Result, SelectHints, Warnings,
};

use super::Db;
use crate::compact::MergedChunkSeriesSet;

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

impl ChunkQueryable for Db {
    /// Blocks overlapping `[mint, maxt]` and the head; a series' chunks from all of them are
    /// merged as compaction merges them (overlapping chunks re-encoded without repeats), like
    /// upstream's compacting chunk series merger.
    fn chunk_querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn ChunkQuerier>> {
        let mut queriers: Vec<Box<dyn ChunkQuerier>> = self
            .blocks()
            .iter()
            .filter(|b| b.overlaps(mint, maxt))
            .map(|b| Box::new(b.querier(mint, maxt)) as Box<dyn ChunkQuerier>)
            .collect();
        queriers.push(self.head().chunk_querier(mint, maxt)?);
        Ok(Box::new(DbChunkQuerier(queriers)))
    }
}

struct DbChunkQuerier(Vec<Box<dyn ChunkQuerier>>);

impl DbChunkQuerier {
    fn merge_labels(
        &self,
        hints: Option<&LabelHints>,
        lookup: impl Fn(&dyn ChunkQuerier) -> Result<(Vec<String>, Warnings)>,
    ) -> Result<(Vec<String>, Warnings)> {
        let mut warnings = Warnings::new();
        let mut lists = Vec::with_capacity(self.0.len());
        for q in &self.0 {
            let (values, w) = lookup(q.as_ref())?;
            warnings.extend(&w);
            lists.push(values);
        }
        Ok((merge_label_lists(lists, hints), warnings))
    }
}

impl LabelQuerier for DbChunkQuerier {
    fn label_values(
        &self,
        name: &str,
        hints: Option<&LabelHints>,
        matchers: &[Matcher],
    ) -> Result<(Vec<String>, Warnings)> {
        self.merge_labels(hints, |q| q.label_values(name, hints, matchers))
    }

    fn label_names(
        &self,
        hints: Option<&LabelHints>,
        matchers: &[Matcher],
    ) -> Result<(Vec<String>, Warnings)> {
        self.merge_labels(hints, |q| q.label_names(hints, matchers))
    }
}

impl ChunkQuerier for DbChunkQuerier {
    /// Always sorted: merging needs sorted input and costs nothing more.
    fn select(
        &self,
        _sort: bool,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> Box<dyn ChunkSeriesSet> {
        let sets = self
            .0
            .iter()
            .map(|q| q.select(true, hints, matchers))
            .collect();
        Box::new(MergedChunkSeriesSet::new(sets))
    }
}

impl Appendable for Db {
    fn appender(&self) -> Box<dyn Appender> {
        Box::new(self.head().appender())
    }
}
