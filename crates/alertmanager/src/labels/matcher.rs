use std::cmp::Ordering;
use std::fmt;
use std::sync::Arc;

use super::ParseError;
use super::quote::go_quote;

/// The four matcher kinds, ordered as upstream orders them when sorting (`=`, `!=`, `=~`,
/// `!~`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

    pub fn is_regex(self) -> bool {
        matches!(self, MatchType::Regexp | MatchType::NotRegexp)
    }

    /// Whether a match selects (`=`, `=~`) rather than excludes (`!=`, `!~`).
    pub fn is_equal(self) -> bool {
        matches!(self, MatchType::Equal | MatchType::Regexp)
    }
}

/// A compiled Alertmanager matcher; cheap to clone.
#[derive(Clone)]
pub struct Matcher {
    match_type: MatchType,
    name: String,
    value: String,
    re: Option<Arc<regex::Regex>>,
}

impl Matcher {
    /// Builds a matcher; regexes use Go syntax anchored as `^(?:value)$`, like upstream's.
    pub fn new(
        match_type: MatchType,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Matcher, ParseError> {
        let value = value.into();
        let re = if match_type.is_regex() {
            Some(Arc::new(compile_anchored(&value)?))
        } else {
            None
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

    /// Whether a label value (`""` for an absent label) satisfies the matcher.
    pub fn matches(&self, v: &str) -> bool {
        match (&self.re, self.match_type) {
            (_, MatchType::Equal) => v == self.value,
            (_, MatchType::NotEqual) => v != self.value,
            (Some(re), MatchType::Regexp) => re.is_match(v),
            (Some(re), MatchType::NotRegexp) => !re.is_match(v),
            (None, _) => false,
        }
    }
}

/// Compiles a Go regex anchored the Alertmanager way: the pattern is wrapped textually, so
/// `.` does not match a newline unless the pattern says `(?s)`.
pub(crate) fn compile_anchored(pattern: &str) -> Result<regex::Regex, ParseError> {
    let translated = pm_common::model::to_rust_syntax(pattern)
        .map_err(|err| ParseError::new(err.to_string()))?;
    regex::RegexBuilder::new(&format!("^(?:{translated})$"))
        .octal(true)
        .build()
        .map_err(|err| {
            let reason = err.to_string();
            let reason = reason
                .lines()
                .rev()
                .find(|l| l.starts_with("error:"))
                .map(|l| l.trim_start_matches("error:").trim().to_owned())
                .unwrap_or(reason);
            // Go's wording for the two most common mistakes.
            let reason = match reason.as_str() {
                "unclosed group" => "missing closing )".to_owned(),
                "unopened group" => "unexpected )".to_owned(),
                _ => reason,
            };
            ParseError::new(format!("error parsing regexp: {reason}: `{pattern}`"))
        })
}

/// Characters that force a matcher's name to be quoted when printed.
fn is_reserved(c: char) -> bool {
    c.is_whitespace() || "{}!=~,\\\"'`".contains(c)
}

impl fmt::Display for Matcher {
    /// Upstream's `Matcher.String`: a plain name with an escaped, quoted value, or both name
    /// and value Go-quoted when the name needs it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = self.match_type.as_str();
        if self.name.chars().any(is_reserved) {
            return write!(f, "{}{op}{}", go_quote(&self.name), go_quote(&self.value));
        }
        f.write_str(&self.name)?;
        f.write_str(op)?;
        f.write_str("\"")?;
        for c in self.value.chars() {
            match c {
                '\\' => f.write_str("\\\\")?,
                '\n' => f.write_str("\\n")?,
                '"' => f.write_str("\\\"")?,
                c => fmt::Write::write_char(f, c)?,
            }
        }
        f.write_str("\"")
    }
}

impl fmt::Debug for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl PartialEq for Matcher {
    fn eq(&self, other: &Self) -> bool {
        self.match_type == other.match_type && self.name == other.name && self.value == other.value
    }
}

impl Eq for Matcher {}

impl PartialOrd for Matcher {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Matcher {
    /// Upstream sorts by name, then value, then type.
    fn cmp(&self, other: &Self) -> Ordering {
        self.name
            .cmp(&other.name)
            .then_with(|| self.value.cmp(&other.value))
            .then_with(|| self.match_type.cmp(&other.match_type))
    }
}

/// An ordered list of matchers that must all match.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Matchers(pub Vec<Matcher>);

impl Matchers {
    /// Whether every matcher accepts the label set; `get` looks a label's value up.
    pub fn matches<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.0
            .iter()
            .all(|m| m.matches(get(m.name()).unwrap_or("")))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Matcher> {
        self.0.iter()
    }
}

impl fmt::Display for Matchers {
    /// `{a="b",c=~"d"}`, as upstream's `Matchers.String`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{m}")?;
        }
        f.write_str("}")
    }
}
