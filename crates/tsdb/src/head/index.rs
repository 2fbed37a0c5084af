//! Finding series: the striped label-hash map, the paged reference table, and the in-memory
//! postings.

use std::collections::BTreeMap;
use std::collections::hash_map::Entry;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use foldhash::HashMap as FastMap;
use pm_common::model::{Labels, Matcher};

use super::series::MemSeries;

/// Stripes of the series maps: two scrape loops rarely touch the same stripe.
const STRIPES: usize = 64;

/// The maps are probed on series creation and on appends without a usable reference: their
/// keys are label hashes, so a fast hasher is safe.
///
/// Label hashes almost never collide, so the series of a hash is held directly in `by_hash`
/// and only the rare further series with the same hash go to `conflicts` (as upstream's
/// `seriesHashmap`): a `Vec` per hash would cost an allocation and ~60 bytes per series.
#[derive(Default)]
struct Stripe {
    by_hash: FastMap<u64, Arc<MemSeries>>,
    conflicts: FastMap<u64, Vec<Arc<MemSeries>>>,
}

impl Stripe {
    fn find(&self, hash: u64, labels: &Labels) -> Option<&Arc<MemSeries>> {
        match self.by_hash.get(&hash) {
            Some(s) if s.labels == *labels => Some(s),
            Some(_) => self
                .conflicts
                .get(&hash)?
                .iter()
                .find(|s| s.labels == *labels),
            None => None,
        }
    }

    fn insert(&mut self, hash: u64, series: Arc<MemSeries>) {
        match self.by_hash.entry(hash) {
            Entry::Vacant(e) => {
                e.insert(series);
            }
            Entry::Occupied(_) => self.conflicts.entry(hash).or_default().push(series),
        }
    }

    fn remove(&mut self, hash: u64, r: u64) {
        if self.by_hash.get(&hash).is_some_and(|s| s.r == r) {
            // A conflicting series with the same hash takes the freed place.
            match self.conflicts.get_mut(&hash).and_then(Vec::pop) {
                Some(next) => {
                    self.by_hash.insert(hash, next);
                }
                None => {
                    self.by_hash.remove(&hash);
                }
            }
        } else if let Some(v) = self.conflicts.get_mut(&hash) {
            v.retain(|s| s.r != r);
        }
        if self.conflicts.get(&hash).is_some_and(Vec::is_empty) {
            self.conflicts.remove(&hash);
        }
    }
}

/// References per page of the reference table: 8 KiB of slots, so the series of a scrape
/// target (whose references were handed out together) share one or two pages.
const PAGE_BITS: u32 = 10;
const PAGE_SLOTS: usize = 1 << PAGE_BITS;

fn page_of(r: u64) -> (u64, usize) {
    (r >> PAGE_BITS, (r as usize) & (PAGE_SLOTS - 1))
}

/// The series of one range of references, and how many of its slots are filled: a page
/// whose series were all garbage-collected is freed, so series churn cannot grow the table
/// with every reference ever issued.
struct PageSlots {
    slots: Box<[Option<Arc<MemSeries>>]>,
    live: usize,
}

type Page = Arc<RwLock<PageSlots>>;

/// A transaction's last used page of the reference table. Consecutive appends nearly always
/// hit the same page, so an appender looks up the page map (whose lock every scrape loop
/// shares) about once per page instead of once per sample.
#[derive(Default)]
pub(crate) struct PageCursor(Option<(u64, Page)>);

/// All series of the head, by labels and by reference.
///
/// By reference they sit in pages of consecutive references rather than in a hash map:
/// looking up a sample's series was two cache misses (control byte and bucket) over a map
/// of all series, and now reads a slot next to those of the target's other series.
pub(crate) struct SeriesMap {
    stripes: Vec<RwLock<Stripe>>,
    /// Pages by number (reference >> `PAGE_BITS`). Created and freed under its write lock,
    /// so a page is never created twice; series are also added and removed under it.
    pages: RwLock<FastMap<u64, Page>>,
    /// Series in the reference table, kept so that counting them (for every metrics scrape)
    /// need not visit them all.
    len: AtomicUsize,
}

fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

impl SeriesMap {
    pub(crate) fn new() -> Self {
        SeriesMap {
            stripes: (0..STRIPES).map(|_| RwLock::default()).collect(),
            pages: RwLock::default(),
            len: AtomicUsize::new(0),
        }
    }

    fn stripe(&self, key: u64) -> &RwLock<Stripe> {
        &self.stripes[(key % STRIPES as u64) as usize]
    }

    pub(crate) fn by_ref(&self, r: u64) -> Option<Arc<MemSeries>> {
        let (page, slot) = page_of(r);
        let pages = read(&self.pages);
        read(pages.get(&page)?).slots[slot].clone()
    }

    /// [`by_ref`](Self::by_ref) through `cursor`'s page when `r` is on it. A page held by a
    /// cursor may have been freed and a new one created for its references since (when the
    /// newest references are on it), so a miss there is looked up again in the page map.
    pub(crate) fn by_ref_via(&self, r: u64, cursor: &mut PageCursor) -> Option<Arc<MemSeries>> {
        let (page_no, slot) = page_of(r);
        if let Some((no, page)) = &cursor.0
            && *no == page_no
            && let Some(s) = &read(page).slots[slot]
        {
            return Some(s.clone());
        }
        let page = read(&self.pages).get(&page_no)?.clone();
        let found = read(&page).slots[slot].clone();
        cursor.0 = Some((page_no, page));
        found
    }

    pub(crate) fn by_labels(&self, hash: u64, labels: &Labels) -> Option<Arc<MemSeries>> {
        read(self.stripe(hash)).find(hash, labels).cloned()
    }

    /// Returns the series with `labels`, creating it with reference `new_ref()` when missing;
    /// the flag says whether it was created.
    pub(crate) fn get_or_create(
        &self,
        hash: u64,
        labels: &Labels,
        new_ref: impl FnOnce() -> u64,
    ) -> (Arc<MemSeries>, bool) {
        if let Some(s) = self.by_labels(hash, labels) {
            return (s, false);
        }
        let mut stripe = write(self.stripe(hash));
        if let Some(s) = stripe.find(hash, labels) {
            return (s.clone(), false);
        }
        let series = Arc::new(MemSeries::new(new_ref(), labels.clone()));
        stripe.insert(hash, series.clone());
        drop(stripe);
        let (page_no, slot) = page_of(series.r);
        let mut pages = write(&self.pages);
        let page = pages.entry(page_no).or_insert_with(|| {
            Arc::new(RwLock::new(PageSlots {
                slots: vec![None; PAGE_SLOTS].into_boxed_slice(),
                live: 0,
            }))
        });
        let mut page = write(page);
        if page.slots[slot].replace(series.clone()).is_none() {
            page.live += 1;
            self.len.fetch_add(1, Ordering::Relaxed);
        }
        (series, true)
    }

    pub(crate) fn remove(&self, series: &MemSeries) {
        let hash = series.labels.hash_value();
        write(self.stripe(hash)).remove(hash, series.r);
        let (page_no, slot) = page_of(series.r);
        let mut pages = write(&self.pages);
        let Some(page) = pages.get(&page_no) else {
            return;
        };
        let mut p = write(page);
        if p.slots[slot].take().is_some() {
            p.live -= 1;
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
        if p.live == 0 {
            drop(p);
            pages.remove(&page_no);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    /// Every series, in no particular order.
    pub(crate) fn all(&self) -> Vec<Arc<MemSeries>> {
        let pages: Vec<Page> = read(&self.pages).values().cloned().collect();
        let mut out = Vec::new();
        for page in &pages {
            out.extend(read(page).slots.iter().flatten().cloned());
        }
        out
    }

    /// Pages in the reference table, for tests of their freeing.
    #[cfg(test)]
    fn page_count(&self) -> usize {
        read(&self.pages).len()
    }
}

/// Label name → value → references of the series carrying it, sorted.
#[derive(Default)]
pub(crate) struct Postings {
    map: BTreeMap<String, BTreeMap<String, Vec<u64>>>,
}

impl Postings {
    pub(crate) fn add(&mut self, r: u64, labels: &Labels) {
        for l in labels.iter() {
            let refs = self
                .map
                .entry(l.name.to_owned())
                .or_default()
                .entry(l.value.to_owned())
                .or_default();
            // References grow, so this is a push except after replaying a checkpoint.
            if let Err(i) = refs.binary_search(&r) {
                refs.insert(i, r);
            }
        }
    }

    pub(crate) fn remove(&mut self, r: u64, labels: &Labels) {
        for l in labels.iter() {
            let Some(values) = self.map.get_mut(l.name) else {
                continue;
            };
            if let Some(refs) = values.get_mut(l.value) {
                if let Ok(i) = refs.binary_search(&r) {
                    refs.remove(i);
                }
                if refs.is_empty() {
                    values.remove(l.value);
                }
            }
            if values.is_empty() {
                self.map.remove(l.name);
            }
        }
    }

    /// Candidate references for `matchers`: the union of the postings of the values one
    /// matcher that needs its label accepts, or every series when none does. Callers still
    /// check each candidate against all matchers.
    pub(crate) fn candidates(&self, matchers: &[Matcher]) -> Option<Vec<u64>> {
        // An equality matcher is the most selective to start from.
        let m = matchers
            .iter()
            .filter(|m| !m.matches_empty())
            .min_by_key(|m| m.match_type() != pm_common::model::MatchType::Equal)?;
        let Some(values) = self.map.get(m.name()) else {
            return Some(Vec::new());
        };
        let mut refs: Vec<u64> = values
            .iter()
            .filter(|(v, _)| m.matches(v))
            .flat_map(|(_, r)| r.iter().copied())
            .collect();
        refs.sort_unstable();
        refs.dedup();
        Some(refs)
    }

    /// Every label name with its values and their series.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &BTreeMap<String, Vec<u64>>)> {
        self.map.iter().map(|(n, v)| (n.as_str(), v))
    }

    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.map.keys().map(String::as_str)
    }

    pub(crate) fn values(&self, name: &str) -> impl Iterator<Item = &str> {
        self.map
            .get(name)
            .into_iter()
            .flat_map(|v| v.keys().map(String::as_str))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(r: u64, value: &str) -> Arc<MemSeries> {
        Arc::new(MemSeries::new(r, Labels::from_pairs([("a", value)])))
    }

    #[test]
    fn series_with_colliding_hashes_are_kept_apart() {
        let mut stripe = Stripe::default();
        let (a, b, c) = (series(1, "a"), series(2, "b"), series(3, "c"));
        for s in [&a, &b, &c] {
            stripe.insert(7, s.clone());
        }
        for s in [&a, &b, &c] {
            assert_eq!(stripe.find(7, &s.labels).map(|s| s.r), Some(s.r));
        }
        assert!(stripe.find(8, &a.labels).is_none());
        // Removing the directly held series promotes a conflicting one.
        stripe.remove(7, 1);
        assert!(stripe.find(7, &a.labels).is_none());
        assert_eq!(stripe.find(7, &b.labels).map(|s| s.r), Some(2));
        assert_eq!(stripe.find(7, &c.labels).map(|s| s.r), Some(3));
        stripe.remove(7, 2);
        stripe.remove(7, 3);
        assert!(stripe.by_hash.is_empty() && stripe.conflicts.is_empty());
    }

    fn create(map: &SeriesMap, r: u64) -> Arc<MemSeries> {
        let labels = Labels::from_pairs([("r", r.to_string().as_str())]);
        map.get_or_create(labels.hash_value(), &labels, || r).0
    }

    #[test]
    fn pages_are_freed_when_their_series_are_removed() {
        let map = SeriesMap::new();
        let first: Vec<_> = (1..PAGE_SLOTS as u64).map(|r| create(&map, r)).collect();
        let next = create(&map, PAGE_SLOTS as u64);
        assert_eq!(map.page_count(), 2);
        assert_eq!(map.len(), PAGE_SLOTS);
        for s in &first[1..] {
            map.remove(s);
        }
        // Removing twice counts once.
        map.remove(&first[1]);
        assert_eq!(map.len(), 2);
        // One series keeps its page.
        assert_eq!(map.page_count(), 2);
        assert_eq!(map.by_ref(1).map(|s| s.r), Some(1));
        assert!(map.by_ref(2).is_none());
        map.remove(&first[0]);
        assert_eq!(map.page_count(), 1);
        assert!(map.by_ref(1).is_none());
        assert_eq!(map.all().iter().map(|s| s.r).collect::<Vec<_>>(), [next.r]);
        map.remove(&next);
        assert_eq!(map.page_count(), 0);
        assert!(map.all().is_empty());
        assert_eq!(map.len(), 0);
    }

    #[test]
    fn a_cursor_on_a_freed_page_finds_series_of_its_successor() {
        let map = SeriesMap::new();
        let mut cursor = PageCursor::default();
        let a = create(&map, 5);
        assert_eq!(map.by_ref_via(5, &mut cursor).map(|s| s.r), Some(5));
        map.remove(&a);
        assert_eq!(map.page_count(), 0);
        assert!(map.by_ref_via(5, &mut cursor).is_none());
        // The cursor still holds the freed page; the new series is on a new one.
        create(&map, 6);
        assert_eq!(map.by_ref_via(6, &mut cursor).map(|s| s.r), Some(6));
        assert_eq!(
            map.by_ref_via(6, &mut PageCursor::default()).map(|s| s.r),
            Some(6)
        );
        assert!(map.by_ref_via(PAGE_SLOTS as u64 + 6, &mut cursor).is_none());
    }
}
