//! Alertmanager's label matchers and the two syntaxes users write them in.
//!
//! Alertmanager matchers differ from Prometheus 3's: a regex is anchored as `^(?:…)$`, so `.`
//! does not match a newline, and matchers print and sort in Alertmanager's own way. Input is
//! accepted in the UTF-8 syntax (`{foo="bar", "ünïcode"=~"x.*"}`) and in the classic syntax
//! (unquoted values, legacy label names); like upstream's default "fallback" mode, the classic
//! reading wins when both syntaxes accept an input.

mod classic;
mod matcher;
mod quote;
mod utf8;

pub use matcher::{MatchType, Matcher, Matchers};
pub use quote::{go_quote, go_unquote};

/// A matcher (or list of matchers) that neither syntax accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub(crate) String);

impl ParseError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        ParseError(message.into())
    }
}

/// Parses a list of matchers such as `{a="b", c=~"d.*"}` (braces optional), as upstream's
/// fallback parser: the classic syntax's reading when it accepts the input, otherwise the
/// UTF-8 syntax's; when neither accepts it, the classic parser's error.
pub fn parse_matchers(input: &str) -> Result<Vec<Matcher>, ParseError> {
    let modern = utf8::parse_matchers(input);
    match classic::parse_matchers(input) {
        Ok(matchers) => Ok(matchers),
        Err(classic_err) => modern.map_err(|_| classic_err),
    }
}

/// Parses exactly one matcher (no braces), as upstream's fallback parser.
pub fn parse_matcher(input: &str) -> Result<Matcher, ParseError> {
    if input.starts_with('{') || input.ends_with('}') {
        return Err(ParseError::new(format!(
            "unexpected open or close brace: {input}"
        )));
    }
    let modern = utf8::parse_matcher(input);
    match classic::parse_matcher(input) {
        Ok(matcher) => Ok(matcher),
        Err(classic_err) => modern.map_err(|_| classic_err),
    }
}

/// Parses with the UTF-8 syntax only (upstream's `utf8-strict-mode`).
pub fn parse_matchers_utf8(input: &str) -> Result<Vec<Matcher>, ParseError> {
    utf8::parse_matchers(input)
}

/// Compiles a receiver-name filter of the API, anchored textually as upstream does (so its
/// errors quote the anchored pattern).
pub fn compile_receiver_regex(pattern: &str) -> Result<regex::Regex, ParseError> {
    matcher::compile_anchored(&format!("^(?:{pattern})$"))
}

/// Whether `name` is a label name Alertmanager accepts: any non-empty UTF-8 string, as in
/// upstream's default mode.
pub fn is_valid_label_name(name: &str) -> bool {
    !name.is_empty()
}

/// Whether `name` is a classic Prometheus label name (`[a-zA-Z_][a-zA-Z0-9_]*`), which the
/// legacy `match`/`match_re` maps still require.
pub fn is_legacy_label_name(name: &str) -> bool {
    pm_common::model::is_valid_legacy_label_name(name)
}

#[cfg(test)]
mod tests;
