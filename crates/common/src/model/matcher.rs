//! Label matchers (`=`, `!=`, `=~`, `!~`), shared by PromQL selectors, the TSDB querier,
//! federation, remote read and Alertmanager silences.

use std::fmt;
use std::sync::Arc;

use super::regex::{FastRegexMatcher, RegexError};

/// The four matcher kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatchType {
    Equal,
    NotEqual,
    Regexp,
    NotRegexp,
}

impl MatchType {
    pub fn as_str(self) -> &'static str {
        match self {
            MatchType::Equal => "=",
            MatchType::NotEqual => "!=",
            MatchType::Regexp => "=~",
            MatchType::NotRegexp => "!~",
        }
    }
}

/// A compiled matcher. Regexes have Go semantics and are fully anchored (`^(?s:…)$`), as in
/// Prometheus 3, and use [`FastRegexMatcher`]'s shortcuts.
#[derive(Clone)]
pub struct Matcher {
    match_type: MatchType,
    name: String,
    value: String,
    /// Shared: matchers are cloned freely, and a large set of values is costly to copy.
    re: Option<Arc<FastRegexMatcher>>,
}

#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct MatcherError(#[from] RegexError);

impl Matcher {
    pub fn new(
        match_type: MatchType,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, MatcherError> {
        let value = value.into();
        let re = match match_type {
            MatchType::Regexp | MatchType::NotRegexp => {
                Some(Arc::new(FastRegexMatcher::new(&value)?))
            }
            _ => None,
        };
        Ok(Matcher {
            match_type,
            name: name.into(),
            value,
            re,
        })
    }

    pub fn match_type(&self) -> MatchType {
        self.match_type
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn value(&self) -> &str {
        &self.value
    }

    /// Whether a label value (`""` when the label is absent) satisfies the matcher.
    pub fn matches(&self, v: &str) -> bool {
        match self.match_type {
            MatchType::Equal => v == self.value,
            MatchType::NotEqual => v != self.value,
            MatchType::Regexp => self.re.as_ref().is_some_and(|re| re.is_match(v)),
            MatchType::NotRegexp => !self.re.as_ref().is_some_and(|re| re.is_match(v)),
        }
    }

    /// For `=~`, the finite set of values the regex matches, if it has one (see
    /// [`FastRegexMatcher::set_matches`]).
    pub fn set_matches(&self) -> Option<&[String]> {
        match self.match_type {
            MatchType::Regexp => self.re.as_deref().and_then(FastRegexMatcher::set_matches),
            _ => None,
        }
    }

    /// The compiled regex of `=~` and `!~` matchers.
    pub fn regex(&self) -> Option<&FastRegexMatcher> {
        self.re.as_deref()
    }

    /// Whether the matcher accepts the empty string, i.e. also selects series without the label.
    pub fn matches_empty(&self) -> bool {
        self.matches("")
    }
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.match_type == other.match_type && self.name == other.name && self.value == other.value
    }
}

impl fmt::Display for Matcher {
    /// `name="value"` with the value Go-quoted, as upstream's `Matcher.String()`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if super::is_valid_legacy_label_name(&self.name) {
            f.write_str(&self.name)?;
        } else {
            super::write_go_quoted(f, &self.name)?;
        }
        f.write_str(self.match_type.as_str())?;
        super::write_go_quoted(f, &self.value)
    }
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchored_regex_with_dot_all() {
        let m = Matcher::new(MatchType::Regexp, "a", "foo.*").unwrap();
        assert!(m.matches("foo\nbar"));
        assert!(!m.matches("xfoo"));
        let n = Matcher::new(MatchType::NotRegexp, "a", "").unwrap();
        assert!(n.matches("x") && !n.matches(""));
        assert_eq!(m.to_string(), r#"a=~"foo.*""#);
    }

    #[test]
    fn regex_matchers_have_go_semantics_and_set_matches() {
        let m = Matcher::new(MatchType::Regexp, "a", r"\d+|x").unwrap();
        assert!(m.matches("42") && m.matches("x") && !m.matches("٤٢"));
        assert_eq!(m.set_matches(), None);
        let m = Matcher::new(MatchType::Regexp, "a", "b|a").unwrap();
        assert_eq!(m.set_matches(), Some(&["a".to_owned(), "b".into()][..]));
        let n = Matcher::new(MatchType::NotRegexp, "a", "b|a").unwrap();
        assert_eq!(n.set_matches(), None);
        assert!(n.matches("c") && !n.matches("a"));
        assert!(Matcher::new(MatchType::Equal, "a", "(").is_ok());
        let err = Matcher::new(MatchType::Regexp, "a", "(").unwrap_err();
        assert!(err.to_string().contains(r#""(""#), "{err}");
    }
}
