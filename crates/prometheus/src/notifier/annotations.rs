//! Alert annotations: name/value pairs in which an empty value is still a value.
//!
//! Upstream keeps `summary: ""` — written so in a rule file, or a template that expanded to
//! nothing — in `/api/v1/rules`, `/api/v1/alerts` and the alerts it sends to Alertmanager.
//! [`Labels`](pm_common::model::Labels) reads an empty value as "label absent" and drops it, so
//! annotations have their own type.

use std::fmt;
use std::sync::Arc;

use pm_common::model::{Label, write_go_quoted};

/// One annotation: name and value.
type Pair = (Box<str>, Box<str>);

/// A set of annotations sorted by name, names unique; clones share one allocation.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Annotations(Option<Arc<[Pair]>>);

impl Annotations {
    /// Sorted by name; when a name is given twice, the last value wins.
    pub fn from_pairs<N, V>(pairs: impl IntoIterator<Item = (N, V)>) -> Self
    where
        N: Into<Box<str>>,
        V: Into<Box<str>>,
    {
        let mut pairs: Vec<Pair> = pairs
            .into_iter()
            .map(|(n, v)| (n.into(), v.into()))
            .collect();
        if pairs.is_empty() {
            return Annotations(None);
        }
        // A stable sort keeps duplicates in input order, so keeping the last of each run is
        // "the last value wins".
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let mut unique: Vec<Pair> = Vec::with_capacity(pairs.len());
        for pair in pairs {
            match unique.last_mut() {
                Some(last) if last.0 == pair.0 => *last = pair,
                _ => unique.push(pair),
            }
        }
        Annotations(Some(unique.into()))
    }

    pub fn iter(&self) -> impl Iterator<Item = Label<'_>> {
        self.0
            .iter()
            .flat_map(|pairs| pairs.iter())
            .map(|(n, v)| Label { name: n, value: v })
    }

    pub fn len(&self) -> usize {
        self.0.as_ref().map_or(0, |pairs| pairs.len())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_none()
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        let pairs = self.0.as_deref()?;
        let i = pairs.binary_search_by(|(n, _)| (**n).cmp(name)).ok()?;
        Some(&pairs[i].1)
    }
}

/// `{name="value", …}`, as labels print.
impl fmt::Display for Annotations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, a) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(a.name)?;
            f.write_str("=")?;
            write_go_quoted(f, a.value)?;
        }
        f.write_str("}")
    }
}

impl fmt::Debug for Annotations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_empty_values_sorted_with_last_duplicate_winning() {
        let a = Annotations::from_pairs([("summary", ""), ("description", "x"), ("summary", "s")]);
        let pairs: Vec<_> = a.iter().map(|l| (l.name, l.value)).collect();
        assert_eq!(pairs, [("description", "x"), ("summary", "s")]);

        let empty = Annotations::from_pairs([("summary", "")]);
        assert_eq!(empty.len(), 1);
        assert_eq!(empty.get("summary"), Some(""));
        assert_eq!(empty.get("other"), None);
        assert_eq!(empty.to_string(), r#"{summary=""}"#);
        assert!(!empty.is_empty());
    }

    #[test]
    fn no_pairs_is_empty() {
        let a = Annotations::from_pairs(Vec::<(&str, &str)>::new());
        assert!(a.is_empty());
        assert_eq!(a, Annotations::default());
        assert_eq!(a.to_string(), "{}");
    }
}
