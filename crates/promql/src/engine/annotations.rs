//! The warnings and infos of one query (upstream's `util/annotations`): what a kernel or the
//! evaluator noticed ([`Note`], whose texts live in `functions::annotations`), with the
//! position of the expression it refers to. The texts and positions are part of the API.

use std::collections::HashMap;

pub use crate::functions::annotations::{Annotation as Note, Severity};
use crate::parser::PosRange;

/// One annotation: what it says and the expression it points at.
#[derive(Clone, Debug, PartialEq)]
pub struct Annotation {
    pub note: Note,
    pub pos: PosRange,
}

impl Annotation {
    pub fn new(note: Note, pos: PosRange) -> Self {
        Annotation { note, pos }
    }

    pub fn severity(&self) -> Severity {
        self.note.severity()
    }

    /// The text with the `(line:column)` of the expression's start in `query`, as the API
    /// returns it.
    pub fn render(&self, query: &str) -> String {
        let before = &query[..self.pos.start.min(query.len())];
        let line = before.matches('\n').count() + 1;
        let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
        format!("{} ({line}:{col})", self.note.rendered())
    }

    /// Folds a later annotation with the same text into this one, as upstream's merge: fixes
    /// for monotonicity widen their ranges and count, start-time overlaps add up (both keep
    /// the first position); any other note is replaced by the later one.
    fn merge(&mut self, later: Annotation) {
        match (&mut self.note, later.note) {
            (
                Note::HistogramQuantileForcedMonotonicity { fix, .. },
                Note::HistogramQuantileForcedMonotonicity { fix: next, .. },
            ) => fix.merge(&next),
            (
                Note::StartTimeOverlap { occurrences, .. },
                Note::StartTimeOverlap {
                    occurrences: more, ..
                },
            ) => *occurrences += more,
            (_, note) => {
                self.note = note;
                self.pos = later.pos;
            }
        }
    }
}

/// A query's annotations, keyed by their text without position as upstream's map is, in
/// the order they first appeared.
#[derive(Clone, Debug, Default)]
pub struct Annotations {
    items: Vec<Annotation>,
    index: HashMap<String, usize>,
    /// What storage reported beside its data (a remote-read endpoint that failed): warnings
    /// without a position, as upstream adds the storage's errors to the set.
    storage: pm_storage::Warnings,
}

impl Annotations {
    pub fn add(&mut self, a: Annotation) {
        let key = a.note.to_string();
        match self.index.get(&key) {
            Some(&i) => self.items[i].merge(a),
            None => {
                self.index.insert(key, self.items.len());
                self.items.push(a);
            }
        }
    }

    /// Adds `note` about the expression at `pos`.
    pub fn note(&mut self, note: Note, pos: PosRange) {
        self.add(Annotation::new(note, pos));
    }

    pub fn merge(&mut self, other: Annotations) {
        for a in other.items {
            self.add(a);
        }
        self.storage.extend(&other.storage);
    }

    /// Adds the warnings a storage select returned.
    pub fn storage(&mut self, warnings: &pm_storage::Warnings) {
        self.storage.extend(warnings);
    }

    pub fn iter(&self) -> impl Iterator<Item = &Annotation> {
        self.items.iter()
    }

    /// Rendered warnings and infos, as the API returns them.
    pub fn render(&self, query: &str) -> (Vec<String>, Vec<String>) {
        let mut warnings: Vec<String> = self.storage.iter().map(str::to_owned).collect();
        let mut infos = Vec::new();
        for a in &self.items {
            match a.severity() {
                Severity::Warning => warnings.push(a.render(query)),
                Severity::Info => infos.push(a.render(query)),
            }
        }
        (warnings, infos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::annotations::MonotonicityFix;

    fn fix(ts: i64, bucket: f64, diff: f64) -> Note {
        Note::HistogramQuantileForcedMonotonicity {
            metric_name: String::new(),
            fix: MonotonicityFix {
                min_ts: ts,
                max_ts: ts,
                min_bucket: bucket,
                max_bucket: bucket,
                max_diff: diff,
                merged: 0,
            },
        }
    }

    #[test]
    fn same_text_deduplicates_and_keeps_the_later_position() {
        let mut a = Annotations::default();
        a.note(Note::SortInRangeQuery, PosRange::new(0, 4));
        a.note(Note::SortInRangeQuery, PosRange::new(7, 9));
        let (warnings, infos) = a.render("sort(x) + sort(y)");
        assert_eq!(
            warnings,
            [
                "PromQL warning: sort is ineffective for range queries since results are always ordered by labels (1:8)"
            ]
        );
        assert!(infos.is_empty());
    }

    #[test]
    fn monotonicity_fixes_merge_over_steps() {
        let mut a = Annotations::default();
        a.note(fix(60_000, 1.0, 0.5), PosRange::new(0, 1));
        a.note(fix(120_000, 5.0, 2.0), PosRange::new(2, 3));
        let (_, infos) = a.render("x y");
        assert_eq!(infos.len(), 1);
        assert!(
            infos[0].ends_with(
                ", from buckets 1 to 5, with a max diff of 2, over 2 samples from 1970-01-01T00:01:00Z to 1970-01-01T00:02:00Z (1:1)"
            ),
            "{}",
            infos[0]
        );
    }

    #[test]
    fn start_time_overlaps_count_occurrences() {
        let mut a = Annotations::default();
        let overlap = || Note::StartTimeOverlap {
            metric_name: "m".into(),
            occurrences: 1,
        };
        a.note(overlap(), PosRange::new(0, 1));
        a.note(overlap(), PosRange::new(0, 1));
        let (warnings, _) = a.render("m");
        assert_eq!(
            warnings,
            [
                "PromQL warning: sample has start time that overlaps with previous sample timestamp for metric \"m\" (2 occurrences) (1:1)"
            ]
        );
    }
}
