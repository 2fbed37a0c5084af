//! `proxy_url` as upstream reads it: Go's `url.Parse`, which takes relative references too.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use url::Url;

/// A configured proxy URL. Go's `url.Parse` accepts a relative reference such as `foo`, so a
/// config holding one loads upstream; requests through it then fail (see
/// [`super::ProxySelector`]), which is kept here rather than refusing the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyUrl {
    Absolute(Url),
    Relative(String),
}

/// Why Go's `url.Parse` refuses a `proxy_url`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("parse {raw:?}: {reason}")]
pub struct ProxyUrlError {
    raw: String,
    reason: String,
}

impl ProxyUrl {
    /// Parses with Go's rules: absolute URLs as usual; relative references unless they contain
    /// a control character or an invalid escape, start with `:`, or have a colon in their first
    /// path segment (which Go reads as a missing scheme).
    pub fn parse(raw: &str) -> Result<ProxyUrl, ProxyUrlError> {
        let refuse = |reason: &str| ProxyUrlError {
            raw: raw.to_owned(),
            reason: reason.to_owned(),
        };
        if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err(refuse("net/url: invalid control character in URL"));
        }
        match Url::parse(raw) {
            Ok(url) => Ok(ProxyUrl::Absolute(url)),
            Err(url::ParseError::RelativeUrlWithoutBase) => {
                if raw.starts_with(':') {
                    return Err(refuse("missing protocol scheme"));
                }
                let reference = raw.split('#').next().unwrap_or_default();
                let path = reference.split('?').next().unwrap_or_default();
                if path.split('/').next().unwrap_or_default().contains(':') {
                    return Err(refuse("first path segment in URL cannot contain colon"));
                }
                if !valid_escapes(raw) {
                    return Err(refuse("invalid URL escape"));
                }
                Ok(ProxyUrl::Relative(raw.to_owned()))
            }
            Err(err) => Err(refuse(&err.to_string())),
        }
    }

    /// The URL when it is absolute; a relative one has no host to connect to.
    pub fn url(&self) -> Option<&Url> {
        match self {
            ProxyUrl::Absolute(url) => Some(url),
            ProxyUrl::Relative(_) => None,
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            ProxyUrl::Absolute(url) => url.as_str(),
            ProxyUrl::Relative(raw) => raw,
        }
    }
}

impl From<Url> for ProxyUrl {
    fn from(url: Url) -> Self {
        ProxyUrl::Absolute(url)
    }
}

impl fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every `%` starts two hex digits.
fn valid_escapes(raw: &str) -> bool {
    let bytes = raw.as_bytes();
    bytes.iter().enumerate().all(|(i, &b)| {
        b != b'%'
            || bytes
                .get(i + 1..i + 3)
                .is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
    })
}

/// `Option<ProxyUrl>` in YAML: an empty string means unset, as in upstream; a URL with a
/// password is written back with the password replaced by `xxxxx`.
pub(crate) mod opt_proxy_url {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<ProxyUrl>, D::Error> {
        let s = Option::<String>::deserialize(deserializer)?.unwrap_or_default();
        if s.is_empty() {
            return Ok(None);
        }
        ProxyUrl::parse(&s)
            .map(Some)
            .map_err(serde::de::Error::custom)
    }

    pub fn serialize<S: Serializer>(
        url: &Option<ProxyUrl>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match url {
            Some(ProxyUrl::Absolute(url)) if url.password().is_some() => {
                let mut redacted = url.clone();
                // Cannot fail: a URL that has a password can hold another one.
                let _ = redacted.set_password(Some("xxxxx"));
                redacted.as_str().serialize(serializer)
            }
            Some(url) => url.as_str().serialize(serializer),
            None => serializer.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_go_url_parse() {
        for raw in ["foo", "foo/bar:baz", "proxy%20x", "?q=1", "/path"] {
            assert_eq!(
                ProxyUrl::parse(raw),
                Ok(ProxyUrl::Relative(raw.to_owned())),
                "{raw}"
            );
        }
        let absolute = ProxyUrl::parse("http://user:pw@proxy:3128").unwrap();
        assert_eq!(absolute.url().unwrap().host_str(), Some("proxy"));
        // Go reads `localhost:3128` as scheme `localhost` with opaque data.
        assert!(ProxyUrl::parse("localhost:3128").unwrap().url().is_some());
        for (raw, reason) in [
            (
                "1.2.3.4:8080",
                "first path segment in URL cannot contain colon",
            ),
            (":foo", "missing protocol scheme"),
            ("foo%zz", "invalid URL escape"),
            ("fo\to", "net/url: invalid control character in URL"),
        ] {
            let err = ProxyUrl::parse(raw).unwrap_err();
            assert_eq!(err.reason, reason, "{raw}");
        }
        assert!(ProxyUrl::parse("http://[::1").is_err());
    }
}
