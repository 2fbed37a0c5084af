//! Regular expressions with the semantics of Go's `regexp` package, as Prometheus uses them.
//!
//! Every place that takes a regex from a user (label matchers, relabeling, `label_replace`,
//! silences) matches it against the *whole* value, dot matching newline: Prometheus 3
//! compiles `^(?s:<pattern>)$`. [`GoRegex`] does that after rewriting the Go dialect into
//! the `regex` crate's ([`to_rust_syntax`]), and keeps the pattern as written, which is what
//! configs and APIs print back. [`FastRegexMatcher`] adds the shortcuts that make matching
//! a series' label value cheap for the patterns people actually write.

mod fast;
mod translate;

use std::fmt;

pub use fast::FastRegexMatcher;
pub use translate::to_rust_syntax;

/// A pattern Go's `regexp` would reject (or that could not be compiled here).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("error parsing regexp {pattern:?}: {reason}")]
pub struct RegexError {
    pattern: String,
    reason: String,
}

impl RegexError {
    fn new(pattern: &str, reason: impl Into<String>) -> Self {
        RegexError {
            pattern: pattern.to_owned(),
            reason: reason.into(),
        }
    }

    /// The pattern as the user wrote it.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }
}

/// A fully anchored regular expression with Go semantics.
#[derive(Clone)]
pub struct GoRegex {
    source: String,
    anchored: regex::Regex,
}

impl GoRegex {
    /// Compiles `pattern` as Prometheus does: `^(?s:<pattern>)$`.
    pub fn new(pattern: &str) -> Result<Self, RegexError> {
        let translated = to_rust_syntax(pattern)?;
        Self::from_translated(pattern, &translated)
    }

    fn from_translated(pattern: &str, translated: &str) -> Result<Self, RegexError> {
        // The wrapping is textual, as upstream's, so that unbalanced patterns such as
        // `a)|(b` behave the same.
        let anchored = regex::RegexBuilder::new(&format!("^(?s:{translated})$"))
            .octal(true)
            .build()
            .map_err(|e| RegexError::new(pattern, first_line(&e.to_string())))?;
        Ok(GoRegex {
            source: pattern.to_owned(),
            anchored,
        })
    }

    /// The pattern as written, without the anchors.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the whole of `s` matches.
    pub fn is_match(&self, s: &str) -> bool {
        self.anchored.is_match(s)
    }

    /// The compiled, anchored expression, for capture groups.
    pub fn anchored(&self) -> &regex::Regex {
        &self.anchored
    }
}

/// The `regex` crate's errors span several lines with a caret diagram; configs and API
/// responses want one line.
fn first_line(message: &str) -> String {
    let last = message
        .lines()
        .rev()
        .find(|l| l.starts_with("error:"))
        .unwrap_or(message);
    last.trim_start_matches("error:").trim().to_owned()
}

impl PartialEq for GoRegex {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl Eq for GoRegex {}

impl fmt::Display for GoRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl fmt::Debug for GoRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("GoRegex").field(&self.source).finish()
    }
}

#[cfg(test)]
mod tests;
