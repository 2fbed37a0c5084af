//! Regular expressions as blackbox.yml writes them: Go RE2 syntax, unanchored, matched against
//! raw bytes (bodies, protocol lines, DNS records), printed back as written.

use pm_common::model::to_rust_syntax;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A compiled, unanchored pattern that remembers its source text.
#[derive(Clone)]
pub struct Regexp {
    source: String,
    regex: regex::bytes::Regex,
}

impl Regexp {
    /// Compiles `pattern`; the error text is upstream's, which users grep their logs for.
    pub fn new(pattern: &str) -> Result<Self, String> {
        let fail = || format!("\"Could not compile regular expression\" regexp=\"{pattern}\"");
        let translated = to_rust_syntax(pattern).map_err(|_| fail())?;
        let regex = regex::bytes::RegexBuilder::new(&translated)
            .octal(true)
            .build()
            .map_err(|_| fail())?;
        Ok(Regexp {
            source: pattern.to_owned(),
            regex,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    pub fn is_match(&self, haystack: &[u8]) -> bool {
        self.regex.is_match(haystack)
    }

    pub fn regex(&self) -> &regex::bytes::Regex {
        &self.regex
    }
}

impl std::fmt::Debug for Regexp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Regexp({:?})", self.source)
    }
}

impl PartialEq for Regexp {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl<'de> Deserialize<'de> for Regexp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let source = String::deserialize(deserializer)?;
        Regexp::new(&source).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Regexp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unanchored_with_go_classes() {
        let re = Regexp::new(r"^250-\w+").unwrap();
        assert!(re.is_match(b"250-STARTTLS"));
        assert!(!re.is_match(b" 250-X"));
        assert!(Regexp::new("PING").unwrap().is_match(b"xx PING yy"));
    }

    #[test]
    fn invalid_pattern_has_upstream_message() {
        assert_eq!(
            Regexp::new(":[").unwrap_err(),
            r#""Could not compile regular expression" regexp=":[""#
        );
    }
}
