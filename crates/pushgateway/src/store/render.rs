//! Merging groups into one family per name, as `/metrics` shows them, and the text rendering
//! cache: each merged family is rendered once and kept until a change touches that name, so an
//! idle scrape of 10,000 groups only concatenates cached strings.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use pm_common::expfmt::dto;
use pm_common::expfmt::encode::write_text;

use super::{Inner, Store, StoredFamily};

#[derive(Debug, Default)]
pub(super) struct RenderCache {
    /// Rendered text of each merged family by name; absent means not rendered yet or gone.
    text: BTreeMap<String, Arc<str>>,
    /// Names changed since they were rendered.
    dirty: HashSet<String>,
    /// Whether everything must be re-rendered (start, restore, wipe).
    all_dirty: bool,
}

impl RenderCache {
    pub(super) fn invalidate(&mut self, names: Vec<String>) {
        if !self.all_dirty {
            self.dirty.extend(names);
        }
    }

    pub(super) fn clear(&mut self) {
        self.text.clear();
        self.dirty.clear();
        self.all_dirty = true;
    }
}

impl Default for Store {
    fn default() -> Self {
        Self::new(super::OwnFamilies::default(), true)
    }
}

impl Store {
    /// Every pushed family merged across groups, sorted by name, metrics sorted as client_golang
    /// sorts them. Empty families are left out. The help of a name pushed with different help
    /// texts is the one of the group with the smallest grouping key (upstream: random).
    pub fn merged_families(&self) -> Vec<dto::MetricFamily> {
        let inner = self.read();
        let mut names: Vec<&str> = inner.names.keys().map(|n| &**n).collect();
        names.sort_unstable();
        gather(&inner, &names)
            .iter()
            .filter_map(|parts| merge(parts))
            .collect()
    }

    /// One pushed family merged across groups, if any group has metrics of that name.
    pub fn merged_family(&self, name: &str) -> Option<dto::MetricFamily> {
        let inner = self.read();
        merge(&gather(&inner, &[name])[0])
    }

    /// The text exposition of every pushed family, by name, from the cache. Families are
    /// re-rendered one at a time, so the decoded form of at most one family is held at once.
    pub fn rendered_text(&self) -> Vec<(String, Arc<str>)> {
        let mut cache = self.cache();
        if cache.all_dirty || !cache.dirty.is_empty() {
            let inner = self.read();
            let mut names: Vec<String> = if cache.all_dirty {
                cache.text.clear();
                inner.names.keys().map(|n| n.to_string()).collect()
            } else {
                cache.dirty.drain().collect()
            };
            names.sort_unstable();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let parts = gather(&inner, &refs);
            for (name, parts) in names.iter().zip(&parts) {
                cache.text.remove(name);
                let Some(family) = merge(parts) else {
                    continue;
                };
                let mut text = String::new();
                match write_text(&mut text, &family) {
                    Ok(()) => {
                        cache.text.insert(name.clone(), text.into());
                    }
                    Err(e) => tracing::warn!(error = %e, "error encoding pushed metric family"),
                }
            }
            drop(parts);
            drop(inner);
            cache.all_dirty = false;
            cache.dirty.clear();
        }
        cache
            .text
            .iter()
            .map(|(name, text)| (name.clone(), Arc::clone(text)))
            .collect()
    }
}

/// For each of `names` (sorted), the non-empty families of that name in grouping-key order. One
/// pass over the groups, walking each group's sorted families beside the sorted names, instead
/// of a lookup per group and name.
fn gather<'a>(inner: &'a Inner, names: &[&str]) -> Vec<Vec<&'a StoredFamily>> {
    let mut out = vec![Vec::new(); names.len()];
    for group in inner.groups.values() {
        let families = group.families();
        let (mut i, mut j) = (0, 0);
        while i < families.len() && j < names.len() {
            match families[i].name().cmp(names[j]) {
                Ordering::Less => i += 1,
                Ordering::Greater => j += 1,
                Ordering::Equal => {
                    if !families[i].is_empty() {
                        out[j].push(&families[i]);
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
    }
    out
}

/// The families of one name merged into one (description of the first), `None` when empty.
fn merge(parts: &[&StoredFamily]) -> Option<dto::MetricFamily> {
    let (first, rest) = parts.split_first()?;
    let mut family = first.family();
    for stored in rest {
        stored.append_metrics_to(&mut family);
    }
    sort_metrics(&mut family.metric);
    Some(family)
}

/// client_golang's order: fewer labels first, then label values position by position, then
/// timestamp.
pub fn sort_metrics(metrics: &mut [dto::Metric]) {
    metrics.sort_by(|a, b| {
        a.label
            .len()
            .cmp(&b.label.len())
            .then_with(|| {
                a.label
                    .iter()
                    .zip(&b.label)
                    .map(|(x, y)| x.value().cmp(y.value()))
                    .find(|o| o.is_ne())
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
            .then_with(|| a.timestamp_ms.cmp(&b.timestamp_ms))
    });
}
