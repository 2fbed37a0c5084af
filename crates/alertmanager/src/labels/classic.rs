//! The classic matcher syntax (upstream's `pkg/labels` parser): legacy label names, values
//! optionally quoted, `\n`, `\"` and `\\` escapes, anything else kept literally.

use std::sync::LazyLock;

use super::ParseError;
use super::matcher::{MatchType, Matcher};

/// `=~` precedes `=` so that the tilde is not read as part of the value.
static MATCHER_RE: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*((?s).*?)\s*$")
        .expect("static regex")
});

/// Splits on commas outside double quotes, then parses each piece. One pair of surrounding
/// braces is dropped first.
pub(super) fn parse_matchers(input: &str) -> Result<Vec<Matcher>, ParseError> {
    let s = input.strip_prefix('{').unwrap_or(input);
    let s = s.strip_suffix('}').unwrap_or(s);
    let mut tokens = Vec::new();
    let mut token = String::new();
    let (mut inside_quotes, mut escaped) = (false, false);
    for c in s.chars() {
        match c {
            ',' if !inside_quotes => {
                tokens.push(std::mem::take(&mut token));
                continue;
            }
            ',' => {}
            '"' if !escaped => inside_quotes = !inside_quotes,
            '"' => escaped = false,
            '\\' => escaped = !escaped,
            _ => escaped = false,
        }
        token.push(c);
    }
    let last = token.trim();
    if !last.is_empty() {
        tokens.push(last.to_owned());
    }
    tokens.iter().map(|t| parse_matcher(t)).collect()
}

pub(super) fn parse_matcher(input: &str) -> Result<Matcher, ParseError> {
    let caps = MATCHER_RE
        .captures(input)
        .ok_or_else(|| ParseError::new(format!("bad matcher format: {input}")))?;
    let (name, op, raw) = (&caps[1], &caps[2], &caps[3]);
    let unescaped_quote = || {
        ParseError::new(format!(
            "matcher value contains unescaped double quote: {raw}"
        ))
    };
    let (body, mut expect_trailing_quote) = match raw.strip_prefix('"') {
        Some(rest) => (rest, true),
        None => (raw, false),
    };
    let mut value = String::with_capacity(body.len());
    let mut escaped = false;
    let mut chars = body.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if escaped {
            escaped = false;
            match c {
                'n' => value.push('\n'),
                '"' | '\\' => value.push(c),
                c => {
                    value.push('\\');
                    value.push(c);
                }
            }
            continue;
        }
        let is_last = chars.peek().is_none();
        match c {
            '\\' if !is_last => escaped = true,
            '\\' => value.push('\\'),
            '"' => {
                if !expect_trailing_quote || i + 1 < body.len() {
                    return Err(unescaped_quote());
                }
                expect_trailing_quote = false;
            }
            c => value.push(c),
        }
    }
    if expect_trailing_quote {
        return Err(unescaped_quote());
    }
    let match_type = match op {
        "=" => MatchType::Equal,
        "!=" => MatchType::NotEqual,
        "=~" => MatchType::Regexp,
        _ => MatchType::NotRegexp,
    };
    Matcher::new(match_type, name, value)
}
