//! Selecting series from an index by label matchers, with upstream's optimisations: matchers
//! are split into ones that narrow the result (intersected) and ones that remove series
//! (subtracted), `=~"a|b"` becomes postings lookups, literal regex prefixes bound the scan of
//! label values, and a matcher accepting the empty string also selects series without the label.

use pm_common::model::{MatchType, Matcher};

use crate::index::{IndexError, IndexReader, intersect, merge, without};

/// The series matching all `matchers`, sorted. No matchers select nothing.
pub fn postings_for_matchers(
    ix: &IndexReader,
    matchers: &[Matcher],
) -> Result<Vec<u64>, IndexError> {
    // A label some matcher requires to be non-empty: other matchers on it may then only narrow.
    let must_be_set = |name: &str| {
        matchers
            .iter()
            .any(|m| m.name() == name && !m.matches_empty())
    };
    let mut its = Vec::new();
    let mut not_its = Vec::new();
    for m in matchers {
        let is_not = matches!(m.match_type(), MatchType::NotEqual | MatchType::NotRegexp);
        if must_be_set(m.name()) {
            if is_not && m.matches_empty() {
                // `l!="foo"` beside a matcher requiring `l`: remove the series with `l="foo"`.
                not_its.push(postings_where(ix, m.name(), |v| !m.matches(v))?);
            } else {
                its.push(postings_for_matcher(ix, m)?);
            }
        } else {
            // Accepts the empty string: selects series without the label, and series whose
            // value it accepts; i.e. everything except the values it rejects.
            not_its.push(postings_where(ix, m.name(), |v| !m.matches(v))?);
        }
    }
    if its.is_empty() && !not_its.is_empty() {
        its.push(ix.all_postings()?);
    }
    let mut result = intersect(its);
    for n in not_its {
        result = without(result, &n);
    }
    Ok(result)
}

/// Series whose value of `m`'s label `m` accepts (never the empty value: that is absence).
fn postings_for_matcher(ix: &IndexReader, m: &Matcher) -> Result<Vec<u64>, IndexError> {
    match m.match_type() {
        MatchType::Equal => ix.postings(m.name(), m.value()),
        MatchType::Regexp => match m.set_matches() {
            Some(values) => {
                let lists = values
                    .iter()
                    .map(|v| ix.postings(m.name(), v))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(merge(lists))
            }
            None => {
                let prefix = literal_prefix(m.value());
                postings_where_prefixed(ix, m.name(), &prefix, |v| m.matches(v))
            }
        },
        MatchType::NotEqual | MatchType::NotRegexp => {
            postings_where(ix, m.name(), |v| m.matches(v))
        }
    }
}

fn postings_where(
    ix: &IndexReader,
    name: &str,
    accept: impl Fn(&str) -> bool,
) -> Result<Vec<u64>, IndexError> {
    postings_where_prefixed(ix, name, "", accept)
}

/// Union of the postings of `name`'s values starting with `prefix` that `accept` takes.
fn postings_where_prefixed(
    ix: &IndexReader,
    name: &str,
    prefix: &str,
    accept: impl Fn(&str) -> bool,
) -> Result<Vec<u64>, IndexError> {
    let values = ix.values(name);
    let start = values.partition_point(|(v, _)| &**v < prefix);
    let lists = values[start..]
        .iter()
        .take_while(|(v, _)| v.starts_with(prefix))
        .filter(|(v, _)| accept(v))
        .map(|&(_, offset)| ix.read_postings(offset))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(merge(lists))
}

/// The literal text every match of the (fully anchored) pattern starts with: the leading run of
/// plain characters, less the last one when a quantifier follows it. Patterns with an
/// alternation anywhere have none, since `|` may split the prefix.
fn literal_prefix(pattern: &str) -> String {
    const META: &[char] = &[
        '\\', '.', '+', '*', '?', '(', ')', '|', '[', ']', '{', '}', '^', '$',
    ];
    if pattern.contains('|') {
        return String::new();
    }
    let pattern = pattern.strip_prefix('^').unwrap_or(pattern);
    let end = pattern.find(META).unwrap_or(pattern.len());
    let mut prefix = &pattern[..end];
    if pattern[end..].starts_with(['?', '*', '{']) {
        let mut chars = prefix.chars();
        chars.next_back();
        prefix = chars.as_str();
    }
    prefix.to_owned()
}

#[cfg(test)]
mod tests {
    use super::literal_prefix;

    #[test]
    fn literal_prefixes() {
        assert_eq!(literal_prefix("foo.*"), "foo");
        assert_eq!(literal_prefix("foo.+bar"), "foo");
        assert_eq!(literal_prefix("fooo?"), "foo");
        assert_eq!(literal_prefix("ab*"), "a");
        assert_eq!(literal_prefix("a{2}"), "");
        assert_eq!(literal_prefix("foo|bar"), "");
        assert_eq!(literal_prefix("(?i)foo"), "");
        assert_eq!(literal_prefix("^abc$"), "abc");
        assert_eq!(literal_prefix("é+"), "é");
    }
}
