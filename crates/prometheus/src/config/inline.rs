//! Decoding and encoding of structs that inline other blocks.
//!
//! Upstream inlines the HTTP client block, and in scrape and Alertmanager configs every
//! `<mechanism>_sd_configs` list, into the parent's mapping. serde cannot combine `flatten`
//! with `deny_unknown_fields`, so the mapping is split by key and each part is decoded
//! strictly on its own; printing merges the parts back into one mapping.

use pm_common::config::http::HttpClientConfig;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_norway::{Mapping, Value};

/// A mapping split into the parent's own keys, the HTTP client keys and the SD lists.
#[derive(Default)]
pub(crate) struct Split {
    pub own: Mapping,
    pub http: Mapping,
    pub sd: Mapping,
}

/// Splits `mapping`; `is_sd` says which keys are service-discovery lists (none when the
/// parent does not inline them).
///
/// A key with a null value is dropped: Go's decoder leaves the field at its zero value for
/// it, where serde would refuse null for a string.
pub(crate) fn split(mapping: Mapping, with_http: bool, is_sd: impl Fn(&str) -> bool) -> Split {
    let mut split = Split::default();
    for (key, value) in mapping {
        if value.is_null() {
            continue;
        }
        let name = key.as_str().unwrap_or_default();
        if with_http && HttpClientConfig::FIELDS.contains(&name) {
            split.http.insert(key, value);
        } else if is_sd(name) {
            split.sd.insert(key, value);
        } else {
            split.own.insert(key, value);
        }
    }
    split
}

/// Decodes one part strictly.
pub(crate) fn decode<T: DeserializeOwned, E: serde::de::Error>(part: Mapping) -> Result<T, E> {
    serde_norway::from_value(Value::Mapping(part)).map_err(E::custom)
}

/// Reads the mapping a custom `Deserialize` works on; null reads as empty, as upstream's
/// decoder leaves the defaults in place for it.
pub(crate) fn mapping<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Mapping, D::Error> {
    use serde::Deserialize;
    Ok(Option::<Mapping>::deserialize(d)?.unwrap_or_default())
}

/// Decodes the HTTP client part. Every value in it is text or a flag, and Go's decoder reads
/// an unquoted number (`bearer_token: 1234`) as text, so numbers are turned into text first.
pub(crate) fn decode_http<E: serde::de::Error>(part: Mapping) -> Result<HttpClientConfig, E> {
    fn numbers_to_text(value: &mut Value) {
        match value {
            Value::Number(n) => *value = Value::String(n.to_string()),
            Value::Mapping(m) => m.iter_mut().for_each(|(_, v)| numbers_to_text(v)),
            Value::Sequence(items) => items.iter_mut().for_each(numbers_to_text),
            _ => {}
        }
    }
    let mut value = Value::Mapping(part);
    numbers_to_text(&mut value);
    serde_norway::from_value(value).map_err(E::custom)
}

/// Decodes the HTTP client part and runs upstream's `Validate()` on it. `enable_http2`
/// defaults differ between blocks (remote write turns it off), hence the parameter.
pub(crate) fn http_client<E: serde::de::Error>(
    part: Mapping,
    enable_http2: bool,
) -> Result<HttpClientConfig, E> {
    let explicit_http2 = part.contains_key("enable_http2");
    let mut http = decode_http::<E>(part)?;
    if !explicit_http2 {
        http.enable_http2 = enable_http2;
    }
    http.validate().map_err(E::custom)?;
    Ok(http)
}

/// Serializes `value` into a mapping so that parts can be merged.
pub(crate) fn to_mapping<T: Serialize, E: serde::ser::Error>(value: &T) -> Result<Mapping, E> {
    match serde_norway::to_value(value).map_err(E::custom)? {
        Value::Mapping(m) => Ok(m),
        Value::Null => Ok(Mapping::new()),
        other => Err(E::custom(format!("expected a mapping, got {other:?}"))),
    }
}

/// Whether Go's `url.Parse` accepts `s`. Go accepts almost anything (relative references
/// included); it refuses control characters and a `:` before any scheme character.
pub(crate) fn go_url_parses(s: &str) -> Result<(), String> {
    if s.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err(format!(
            "parse {s:?}: net/url: invalid control character in URL"
        ));
    }
    for (i, c) in s.char_indices() {
        match c {
            'a'..='z' | 'A'..='Z' => {}
            '0'..='9' | '+' | '-' | '.' if i > 0 => {}
            ':' if i == 0 => return Err(format!("parse {s:?}: missing protocol scheme")),
            _ => break,
        }
    }
    Ok(())
}

/// The scheme and host of a URL the way Go's `url.Parse` splits them (empty when absent).
pub(crate) fn go_url_scheme_host(s: &str) -> Result<(String, String), String> {
    go_url_parses(s)?;
    let (scheme, rest) = match s.split_once(':') {
        Some((scheme, rest))
            if !scheme.is_empty()
                && scheme
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            (scheme.to_ascii_lowercase(), rest)
        }
        _ => (String::new(), s),
    };
    let host = match rest.strip_prefix("//") {
        Some(authority) => {
            let end = authority.find(['/', '?', '#']).unwrap_or(authority.len());
            let authority = &authority[..end];
            authority
                .rsplit_once('@')
                .map_or(authority, |(_, host)| host)
                .to_owned()
        }
        None => String::new(),
    };
    Ok((scheme, host))
}

/// Refuses null entries in a list with upstream's message for that list.
pub(crate) fn non_null<T, E: serde::de::Error>(
    items: Vec<Option<T>>,
    message: &str,
) -> Result<Vec<T>, E> {
    items
        .into_iter()
        .map(|item| item.ok_or_else(|| E::custom(message)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_url_rules() {
        assert!(go_url_parses("://invalid").is_err());
        assert!(go_url_parses("localhost:8080").is_ok());
        assert_eq!(
            go_url_scheme_host("https://u:p@host:1/x").unwrap(),
            ("https".to_owned(), "host:1".to_owned())
        );
        assert_eq!(
            go_url_scheme_host("foo.com/x").unwrap(),
            (String::new(), String::new())
        );
        assert_eq!(
            go_url_scheme_host("http:///x").unwrap(),
            ("http".to_owned(), String::new())
        );
    }

    #[test]
    fn null_entries_are_refused() {
        let err = non_null::<u8, serde_norway::Error>(vec![Some(1), None], "empty or null x")
            .unwrap_err();
        assert_eq!(err.to_string(), "empty or null x");
    }
}
