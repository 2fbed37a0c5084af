//! Label sets: the identity of a series.
//!
//! A [`Labels`] value is a sorted set of `name="value"` pairs packed into **one** reference-counted
//! byte buffer. That shape is chosen for the two hot paths that handle label sets by the million:
//!
//! * the scrape loop builds one label set per new series and then keeps it in a cache, so building
//!   must cost one allocation, not one per label;
//! * the TSDB head and the PromQL engine clone, hash and compare label sets constantly, so a clone is
//!   a reference-count increment and hashing walks one contiguous buffer.
//!
//! Encoding: for every label, in ascending name order, `len(name) name len(value) value`. Names are
//! unique. Lengths are written as little-endian groups of 6 bits, one ASCII byte each, with bit 6
//! (`0x40`) marking "more bytes follow": that keeps the whole buffer valid UTF-8, so it is stored as
//! `Arc<str>` and reading a label is a bounds-checked slice with no UTF-8 re-validation. The
//! encoding is private; callers see [`Label`] views borrowed from the buffer.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use xxhash_rust::xxh64::Xxh64;

use super::names::{METRIC_NAME_LABEL, is_valid_legacy_label_name};

/// Separator byte used between names and values when hashing, as upstream does (`0xff` never
/// occurs in valid UTF-8), so hashes agree with Prometheus' `labels.Labels.Hash`.
const HASH_SEP: u8 = 0xff;

/// One label, borrowed from a [`Labels`] buffer or built by a caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label<'a> {
    pub name: &'a str,
    pub value: &'a str,
}

/// A sorted, immutable, cheaply clonable set of labels. See the module documentation.
#[derive(Clone, Default)]
pub struct Labels {
    /// `None` for the empty set, so empty label sets never allocate.
    buf: Option<Arc<str>>,
}

impl Labels {
    /// The empty label set.
    pub const fn empty() -> Self {
        Labels { buf: None }
    }

    /// Builds a label set from pairs in any order. When a name repeats, the last value wins;
    /// pairs with an empty value are dropped (an empty value means "label absent" in Prometheus).
    pub fn from_pairs<N, V>(pairs: impl IntoIterator<Item = (N, V)>) -> Self
    where
        N: AsRef<str>,
        V: AsRef<str>,
    {
        let mut b = ScratchBuilder::new();
        for (n, v) in pairs {
            b.push(n.as_ref(), v.as_ref());
        }
        b.sort_dedup_last_wins();
        b.labels()
    }

    /// Builds a label set from pairs that the caller guarantees are sorted by name and unique,
    /// e.g. when copying from another label set. Checked in debug builds.
    pub fn from_sorted<'a>(labels: impl IntoIterator<Item = Label<'a>>) -> Self {
        let mut buf = String::new();
        let mut prev: Option<&str> = None;
        for l in labels {
            debug_assert!(prev.is_none_or(|p| p < l.name), "labels not sorted/unique");
            prev = Some(l.name);
            if l.value.is_empty() {
                continue;
            }
            encode_str(&mut buf, l.name);
            encode_str(&mut buf, l.value);
        }
        Self::from_buf(buf)
    }

    fn from_buf(buf: String) -> Self {
        if buf.is_empty() {
            Labels { buf: None }
        } else {
            Labels {
                buf: Some(Arc::from(buf)),
            }
        }
    }

    fn text(&self) -> &str {
        self.buf.as_deref().unwrap_or("")
    }

    /// Iterates over the labels in ascending name order.
    pub fn iter(&self) -> Iter<'_> {
        Iter { rest: self.text() }
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_none()
    }

    /// The value of label `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        for l in self.iter() {
            match l.name.cmp(name) {
                Ordering::Less => continue,
                Ordering::Equal => return Some(l.value),
                Ordering::Greater => return None,
            }
        }
        None
    }

    /// The value of `name`, or `""` when absent (upstream's `Labels.Get`).
    pub fn get_or_empty(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The metric name (`__name__`), if any.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME_LABEL)
    }

    /// Hash of the whole set, identical to upstream's `labels.Labels.Hash` (xxhash64 over
    /// `name 0xff value 0xff …`).
    pub fn hash_value(&self) -> u64 {
        let mut h = Xxh64::new(0);
        for l in self.iter() {
            h.update(l.name.as_bytes());
            h.update(&[HASH_SEP]);
            h.update(l.value.as_bytes());
            h.update(&[HASH_SEP]);
        }
        h.digest()
    }

    /// Hash over only the labels whose names are in `names` (which must be sorted), as upstream's
    /// `HashForLabels`; used for `on(...)` matching and `by(...)` grouping.
    pub fn hash_for_labels(&self, names: &[impl AsRef<str>]) -> u64 {
        let mut h = Xxh64::new(0);
        let mut i = 0;
        for l in self.iter() {
            while i < names.len() && names[i].as_ref() < l.name {
                i += 1;
            }
            if i == names.len() {
                break;
            }
            if names[i].as_ref() == l.name {
                h.update(l.name.as_bytes());
                h.update(&[HASH_SEP]);
                h.update(l.value.as_bytes());
                h.update(&[HASH_SEP]);
                i += 1;
            }
        }
        h.digest()
    }

    /// Hash over all labels except `__name__` and those in `names` (sorted), as upstream's
    /// `HashWithoutLabels`; used for `ignoring(...)` and `without(...)`.
    pub fn hash_without_labels(&self, names: &[impl AsRef<str>]) -> u64 {
        let mut h = Xxh64::new(0);
        let mut i = 0;
        for l in self.iter() {
            while i < names.len() && names[i].as_ref() < l.name {
                i += 1;
            }
            if l.name == METRIC_NAME_LABEL || (i < names.len() && names[i].as_ref() == l.name) {
                continue;
            }
            h.update(l.name.as_bytes());
            h.update(&[HASH_SEP]);
            h.update(l.value.as_bytes());
            h.update(&[HASH_SEP]);
        }
        h.digest()
    }

    /// A copy without `__name__`.
    pub fn without_metric_name(&self) -> Labels {
        if !self.has(METRIC_NAME_LABEL) {
            return self.clone();
        }
        Labels::from_sorted(self.iter().filter(|l| l.name != METRIC_NAME_LABEL))
    }

    /// A copy keeping only the labels named in `names` (any order).
    pub fn keep(&self, names: &[impl AsRef<str>]) -> Labels {
        Labels::from_sorted(
            self.iter()
                .filter(|l| names.iter().any(|n| n.as_ref() == l.name)),
        )
    }

    /// A copy dropping the labels named in `names` (any order).
    pub fn drop_names(&self, names: &[impl AsRef<str>]) -> Labels {
        Labels::from_sorted(
            self.iter()
                .filter(|l| !names.iter().any(|n| n.as_ref() == l.name)),
        )
    }

    /// True if any two labels share a name. A [`Labels`] built through this module never has
    /// duplicates; kept for validation of decoded external input.
    pub fn has_duplicate_names(&self) -> bool {
        let mut prev: Option<&str> = None;
        for l in self.iter() {
            if prev == Some(l.name) {
                return true;
            }
            prev = Some(l.name);
        }
        false
    }

    /// Size in bytes of the packed buffer; used for memory accounting.
    pub fn byte_len(&self) -> usize {
        self.text().len()
    }

    /// A builder starting from this set.
    pub fn builder(&self) -> LabelsBuilder {
        LabelsBuilder::new(self.clone())
    }
}

/// Iterator over a [`Labels`] buffer.
#[derive(Clone)]
pub struct Iter<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Iter<'a> {
    type Item = Label<'a>;

    fn next(&mut self) -> Option<Label<'a>> {
        if self.rest.is_empty() {
            return None;
        }
        let (name, rest) = decode_str(self.rest);
        let (value, rest) = decode_str(rest);
        self.rest = rest;
        Some(Label { name, value })
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = Label<'a>;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

fn encode_str(buf: &mut String, s: &str) {
    let mut n = s.len();
    loop {
        let group = (n & 0x3f) as u8;
        n >>= 6;
        if n == 0 {
            buf.push(char::from(group));
            break;
        }
        buf.push(char::from(group | 0x40));
    }
    buf.push_str(s);
}

fn decode_str(buf: &str) -> (&str, &str) {
    let bytes = buf.as_bytes();
    let mut n = 0usize;
    let mut shift = 0;
    let mut i = 0;
    loop {
        let b = bytes[i];
        i += 1;
        n |= ((b & 0x3f) as usize) << shift;
        if b & 0x40 == 0 {
            break;
        }
        shift += 6;
    }
    (&buf[i..i + n], &buf[i + n..])
}

impl PartialEq for Labels {
    fn eq(&self, other: &Self) -> bool {
        // Clones share their buffer, and the head compares a scrape cache's label set with
        // its own clone of it for every sample: that needs no byte comparison.
        let same_buffer = match (&self.buf, &other.buf) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        same_buffer || self.text() == other.text()
    }
}

impl Eq for Labels {}

impl Hash for Labels {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.text().hash(state);
    }
}

impl Ord for Labels {
    /// Label-by-label comparison (name, then value), as upstream's `labels.Compare`; a prefix
    /// sorts first.
    fn cmp(&self, other: &Self) -> Ordering {
        let mut a = self.iter();
        let mut b = other.iter();
        loop {
            match (a.next(), b.next()) {
                (None, None) => return Ordering::Equal,
                (None, Some(_)) => return Ordering::Less,
                (Some(_), None) => return Ordering::Greater,
                (Some(x), Some(y)) => match x.name.cmp(y.name).then(x.value.cmp(y.value)) {
                    Ordering::Equal => continue,
                    o => return o,
                },
            }
        }
    }
}

impl PartialOrd for Labels {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Formats like upstream's `Labels.String()`: `{a="1", b="2"}`, with Go-quoted values and names
/// quoted when they are not legacy-valid.
impl fmt::Display for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, l) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            if is_valid_legacy_label_name(l.name) {
                f.write_str(l.name)?;
            } else {
                write_go_quoted(f, l.name)?;
            }
            f.write_str("=")?;
            write_go_quoted(f, l.value)?;
        }
        f.write_str("}")
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Writes `s` as Go's `strconv.Quote` does: double quotes, `\"`, `\\`, `\n`, `\t`, `\r`, other
/// control characters as `\x..`/`\u....`; printable Unicode is kept as is.
pub fn write_go_quoted(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            '\x07' => f.write_str("\\a")?,
            '\x08' => f.write_str("\\b")?,
            '\x0c' => f.write_str("\\f")?,
            '\x0b' => f.write_str("\\v")?,
            c if (c as u32) < 0x20 || c as u32 == 0x7f => write!(f, "\\x{:02x}", c as u32)?,
            c if c.is_control() => {
                if (c as u32) < 0x10000 {
                    write!(f, "\\u{:04x}", c as u32)?
                } else {
                    write!(f, "\\U{:08x}", c as u32)?
                }
            }
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

/// Serializes as a JSON object `{"name": "value", …}`, the shape of every Prometheus API.
impl Serialize for Labels {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for l in self.iter() {
            map.serialize_entry(l.name, l.value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let map = std::collections::BTreeMap::<String, String>::deserialize(deserializer)?;
        Ok(Labels::from_pairs(map))
    }
}

/// Collects label pairs into a reusable scratch area and packs them into a [`Labels`] with one
/// allocation. Intended for hot paths (scrape parsing, decoding): keep one per worker and reuse it.
#[derive(Default)]
pub struct ScratchBuilder {
    /// Concatenated name and value bytes.
    text: String,
    /// (name start, name end, value end) offsets into `text`.
    spans: Vec<(u32, u32, u32)>,
}

impl ScratchBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Clears the builder, keeping its capacity.
    pub fn reset(&mut self) {
        self.text.clear();
        self.spans.clear();
    }

    /// Adds a pair. Order does not matter until [`Self::sort`].
    pub fn push(&mut self, name: &str, value: &str) {
        let start = self.text.len() as u32;
        self.text.push_str(name);
        let mid = self.text.len() as u32;
        self.text.push_str(value);
        self.spans.push((start, mid, self.text.len() as u32));
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    fn name(&self, span: (u32, u32, u32)) -> &str {
        &self.text[span.0 as usize..span.1 as usize]
    }

    fn value(&self, span: (u32, u32, u32)) -> &str {
        &self.text[span.1 as usize..span.2 as usize]
    }

    /// Sorts by name (stable, so among duplicates the push order is kept).
    pub fn sort(&mut self) {
        let text = &self.text;
        self.spans.sort_by(|a, b| {
            text[a.0 as usize..a.1 as usize].cmp(&text[b.0 as usize..b.1 as usize])
        });
    }

    /// The first name that occurs twice after [`Self::sort`], if any.
    pub fn duplicate_name(&self) -> Option<&str> {
        self.spans
            .windows(2)
            .find(|w| self.name(w[0]) == self.name(w[1]))
            .map(|w| self.name(w[0]))
    }

    fn sort_dedup_last_wins(&mut self) {
        self.sort();
        let text = &self.text;
        let name = |s: &(u32, u32, u32)| &text[s.0 as usize..s.1 as usize];
        let mut out: Vec<(u32, u32, u32)> = Vec::with_capacity(self.spans.len());
        for s in &self.spans {
            match out.last_mut() {
                Some(last) if name(last) == name(s) => *last = *s,
                _ => out.push(*s),
            }
        }
        self.spans = out;
    }

    /// Iterates over the pairs in their current order.
    pub fn iter(&self) -> impl Iterator<Item = Label<'_>> {
        self.spans.iter().map(|&s| Label {
            name: self.name(s),
            value: self.value(s),
        })
    }

    /// Packs the pairs into a [`Labels`]. The builder must be sorted and free of duplicates
    /// (call [`Self::sort`] and check [`Self::duplicate_name`]); empty values are dropped.
    pub fn labels(&self) -> Labels {
        let size: usize = self.spans.iter().map(|s| (s.2 - s.0) as usize + 4).sum();
        let mut buf = String::with_capacity(size);
        for &s in &self.spans {
            let value = self.value(s);
            if value.is_empty() {
                continue;
            }
            encode_str(&mut buf, self.name(s));
            encode_str(&mut buf, value);
        }
        Labels::from_buf(buf)
    }
}

/// Edits a label set: set and delete labels over a base set, as upstream's `labels.Builder`
/// (used by relabeling and by PromQL when it rewrites result labels).
#[derive(Clone, Debug, Default)]
pub struct LabelsBuilder {
    base: Labels,
    /// Overrides and additions, sorted by name.
    set: Vec<(String, String)>,
    /// Deleted names, sorted.
    del: Vec<String>,
}

impl LabelsBuilder {
    pub fn new(base: Labels) -> Self {
        LabelsBuilder {
            base,
            set: Vec::new(),
            del: Vec::new(),
        }
    }

    /// Starts over from `base`.
    pub fn reset(&mut self, base: Labels) {
        self.base = base;
        self.set.clear();
        self.del.clear();
    }

    /// Sets `name` to `value`; an empty value deletes the label, as upstream.
    pub fn set(&mut self, name: &str, value: &str) -> &mut Self {
        if value.is_empty() {
            return self.del(name);
        }
        if let Ok(i) = self.del.binary_search_by(|d| d.as_str().cmp(name)) {
            self.del.remove(i);
        }
        match self.set.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
            Ok(i) => self.set[i].1 = value.to_owned(),
            Err(i) => self.set.insert(i, (name.to_owned(), value.to_owned())),
        }
        self
    }

    pub fn del(&mut self, name: &str) -> &mut Self {
        if let Ok(i) = self.set.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
            self.set.remove(i);
        }
        if let Err(i) = self.del.binary_search_by(|d| d.as_str().cmp(name)) {
            self.del.insert(i, name.to_owned());
        }
        self
    }

    /// The current value of `name`, taking edits into account.
    pub fn get(&self, name: &str) -> Option<&str> {
        if let Ok(i) = self.set.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
            return Some(&self.set[i].1);
        }
        if self.del.binary_search_by(|d| d.as_str().cmp(name)).is_ok() {
            return None;
        }
        self.base.get(name)
    }

    /// Keeps only the labels named in `names`.
    pub fn keep(&mut self, names: &[impl AsRef<str>]) -> &mut Self {
        let keep = |n: &str| names.iter().any(|k| k.as_ref() == n);
        let drop: Vec<String> = self
            .current()
            .filter(|l| !keep(l.name))
            .map(|l| l.name.to_owned())
            .collect();
        for n in drop {
            self.del(&n);
        }
        self
    }

    /// Calls `f` for every current label, in name order.
    pub fn range(&self, mut f: impl FnMut(Label<'_>)) {
        for l in self.current() {
            f(l)
        }
    }

    fn current(&self) -> impl Iterator<Item = Label<'_>> {
        let mut base = self.base.iter().peekable();
        let mut set = self.set.iter().peekable();
        std::iter::from_fn(move || {
            loop {
                let next = match (base.peek(), set.peek()) {
                    (None, None) => return None,
                    (Some(_), None) => base.next().unwrap(),
                    (None, Some(_)) => {
                        let (n, v) = set.next().unwrap();
                        Label { name: n, value: v }
                    }
                    (Some(b), Some((n, _))) => match b.name.cmp(n.as_str()) {
                        Ordering::Less => base.next().unwrap(),
                        Ordering::Equal => {
                            base.next();
                            let (n, v) = set.next().unwrap();
                            Label { name: n, value: v }
                        }
                        Ordering::Greater => {
                            let (n, v) = set.next().unwrap();
                            Label { name: n, value: v }
                        }
                    },
                };
                if self
                    .del
                    .binary_search_by(|d| d.as_str().cmp(next.name))
                    .is_err()
                {
                    return Some(next);
                }
            }
        })
    }

    /// The resulting label set.
    pub fn labels(&self) -> Labels {
        if self.set.is_empty() && self.del.is_empty() {
            return self.base.clone();
        }
        Labels::from_sorted(self.current())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ls(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn sorted_and_deduplicated() {
        let l = ls(&[("b", "2"), ("a", "1"), ("b", "3"), ("c", "")]);
        let v: Vec<_> = l.iter().map(|l| (l.name, l.value)).collect();
        assert_eq!(v, vec![("a", "1"), ("b", "3")]);
        assert_eq!(l.len(), 2);
        assert_eq!(l.get("b"), Some("3"));
        assert_eq!(l.get("c"), None);
        assert!(Labels::from_pairs(Vec::<(&str, &str)>::new()).is_empty());
    }

    #[test]
    fn hash_matches_upstream() {
        // Upstream: labels.FromStrings("__name__", "up", "job", "x").Hash()
        // = xxhash.Sum64("__name__\xffup\xffjob\xffx\xff").
        let l = ls(&[("job", "x"), ("__name__", "up")]);
        let raw = b"__name__\xffup\xffjob\xffx\xff";
        assert_eq!(l.hash_value(), xxhash_rust::xxh64::xxh64(raw, 0));
        assert_eq!(
            l.hash_for_labels(&["job"]),
            xxhash_rust::xxh64::xxh64(b"job\xffx\xff", 0)
        );
        assert_eq!(
            l.hash_without_labels(&[] as &[&str]),
            xxhash_rust::xxh64::xxh64(b"job\xffx\xff", 0)
        );
    }

    #[test]
    fn long_values_use_multibyte_lengths() {
        let long = "x".repeat(70_000);
        let l = ls(&[("a", &long), ("b", "y")]);
        assert_eq!(l.get("a").unwrap().len(), 70_000);
        assert_eq!(l.get("b"), Some("y"));
    }

    #[test]
    fn ordering_is_label_by_label() {
        let a = ls(&[("a", "1")]);
        let b = ls(&[("a", "1"), ("b", "1")]);
        let c = ls(&[("a", "2")]);
        assert!(a < b && b < c);
    }

    #[test]
    fn display_quotes_like_go() {
        let l = ls(&[("__name__", "up"), ("a", "x\"y\n"), ("my.name", "v")]);
        assert_eq!(
            l.to_string(),
            r#"{__name__="up", a="x\"y\n", "my.name"="v"}"#
        );
    }

    #[test]
    fn builder_edits() {
        let base = ls(&[("a", "1"), ("b", "2"), ("c", "3")]);
        let mut b = base.builder();
        b.set("b", "20").del("c").set("d", "4").set("a", "");
        assert_eq!(b.get("b"), Some("20"));
        assert_eq!(b.get("a"), None);
        assert_eq!(b.labels(), ls(&[("b", "20"), ("d", "4")]));
        b.set("c", "5");
        assert_eq!(b.labels(), ls(&[("b", "20"), ("c", "5"), ("d", "4")]));
        b.keep(&["c"]);
        assert_eq!(b.labels(), ls(&[("c", "5")]));
    }

    #[test]
    fn scratch_builder_reports_duplicates() {
        let mut s = ScratchBuilder::new();
        s.push("b", "1");
        s.push("a", "1");
        s.push("b", "2");
        s.sort();
        assert_eq!(s.duplicate_name(), Some("b"));
        s.reset();
        s.push("z", "1");
        s.push("y", "2");
        s.sort();
        assert_eq!(s.duplicate_name(), None);
        assert_eq!(s.labels(), ls(&[("y", "2"), ("z", "1")]));
    }

    #[test]
    fn json_round_trip() {
        let l = ls(&[("job", "a"), ("__name__", "up")]);
        let j = serde_json::to_string(&l).unwrap();
        assert_eq!(j, r#"{"__name__":"up","job":"a"}"#);
        let back: Labels = serde_json::from_str(&j).unwrap();
        assert_eq!(back, l);
    }

    proptest::proptest! {
        #[test]
        fn from_pairs_equals_btreemap(pairs in proptest::collection::vec(("[a-c]{1,2}", "[x-z]{0,3}"), 0..12)) {
            let mut model = std::collections::BTreeMap::new();
            for (n, v) in &pairs {
                model.insert(n.clone(), v.clone());
            }
            model.retain(|_, v| !v.is_empty());
            let l = Labels::from_pairs(pairs.iter().map(|(a, b)| (a.as_str(), b.as_str())));
            let got: Vec<(String, String)> = l.iter().map(|l| (l.name.to_owned(), l.value.to_owned())).collect();
            let want: Vec<(String, String)> = model.into_iter().collect();
            proptest::prop_assert_eq!(got, want);
        }
    }
}
