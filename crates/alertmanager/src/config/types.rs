//! Small value types of alertmanager.yml with upstream's parsing and printing rules.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration as StdDuration;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::labels::{self, Matcher};

/// What secrets print as in `/api/v2/status` and `amtool config show`.
pub const SECRET_TOKEN: &str = "<secret>";

/// An absolute `http`/`https` URL (upstream's `config.URL`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpUrl(pub url::Url);

impl HttpUrl {
    /// Upstream's `ParseURL`: only `http` and `https`, and a host is required.
    pub fn parse(s: &str) -> Result<HttpUrl, String> {
        let url = url::Url::parse(s).map_err(|err| format!("parse {s:?}: {err}"))?;
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(format!("unsupported scheme {:?} for URL", url.scheme()));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("missing host for URL".to_owned());
        }
        Ok(HttpUrl(url))
    }

    /// Makes sure the path ends in `/`, as upstream does for API base URLs.
    pub fn with_trailing_slash(mut self) -> HttpUrl {
        if !self.0.path().ends_with('/') {
            let path = format!("{}/", self.0.path());
            self.0.set_path(&path);
        }
        self
    }
}

impl fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for HttpUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        HttpUrl::parse(&s).map_err(D::Error::custom)
    }
}

impl Serialize for HttpUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.as_str())
    }
}

/// A URL that is a secret (webhook URLs with tokens in them). `<secret>` is accepted on input
/// so that a dumped config can be loaded again, as upstream allows.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretUrl(Option<url::Url>);

impl SecretUrl {
    /// The real URL; `None` when the config held the `<secret>` placeholder.
    pub fn expose(&self) -> Option<&url::Url> {
        self.0.as_ref()
    }

    pub fn from_url(url: url::Url) -> SecretUrl {
        SecretUrl(Some(url))
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SECRET_TOKEN)
    }
}

impl<'de> Deserialize<'de> for SecretUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s == SECRET_TOKEN {
            return Ok(SecretUrl(None));
        }
        HttpUrl::parse(&s)
            .map(|u| SecretUrl(Some(u.0)))
            .map_err(|e| D::Error::custom(e.replace(&s, "[REDACTED]")))
    }
}

impl Serialize for SecretUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(SECRET_TOKEN)
    }
}

/// A secret URL that may contain Go template syntax (the webhook `url`); only a URL without
/// `{{` is checked at load time.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretTemplateUrl(pub pm_common::config::Secret);

impl fmt::Debug for SecretTemplateUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SECRET_TOKEN)
    }
}

impl<'de> Deserialize<'de> for SecretTemplateUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if !s.is_empty() && s != SECRET_TOKEN {
            if s.contains("{{") {
                pm_gotmpl::Template::new("")
                    .parse(&s)
                    .map_err(|e| D::Error::custom(format!("invalid template syntax: {e}")))?;
            } else {
                HttpUrl::parse(&s).map_err(|e| D::Error::custom(format!("invalid URL: {e}")))?;
            }
        }
        Ok(SecretTemplateUrl(s.into()))
    }
}

impl Serialize for SecretTemplateUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// `host:port` (upstream's `HostPort`); the empty string means unset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostPort {
    pub host: String,
    pub port: String,
}

impl HostPort {
    pub fn is_empty(&self) -> bool {
        self.host.is_empty() && self.port.is_empty()
    }

    /// Go's `net.SplitHostPort`, plus upstream's "port cannot be empty" check.
    pub fn parse(s: &str) -> Result<HostPort, String> {
        if s.is_empty() {
            return Ok(HostPort::default());
        }
        let bad = |why: &str| format!("address {s}: {why}");
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (host, after) = rest
                .split_once(']')
                .ok_or_else(|| bad("missing ']' in address"))?;
            let port = after
                .strip_prefix(':')
                .ok_or_else(|| bad("missing port in address"))?;
            (host, port)
        } else {
            let (host, port) = s
                .rsplit_once(':')
                .ok_or_else(|| bad("missing port in address"))?;
            if host.contains(':') {
                return Err(bad("too many colons in address"));
            }
            (host, port)
        };
        if port.is_empty() {
            return Err(format!("address {s:?}: port cannot be empty"));
        }
        Ok(HostPort {
            host: host.to_owned(),
            port: port.to_owned(),
        })
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            Ok(())
        } else if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl<'de> Deserialize<'de> for HostPort {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        HostPort::parse(&String::deserialize(d)?).map_err(D::Error::custom)
    }
}

impl Serialize for HostPort {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A Go `time.Duration` written in Go syntax (`1m30s`), as receivers' `timeout` fields are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GoDuration(pub StdDuration);

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        pm_common::config::parse_go_duration(&s)
            .map(GoDuration)
            .map_err(D::Error::custom)
    }
}

impl Serialize for GoDuration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u128(self.0.as_nanos())
    }
}

/// The legacy `match_re` map: label name to an anchored regex. A key without a value is an
/// error naming the key, as upstream's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MatchRegexps(pub BTreeMap<String, String>);

impl<'de> Deserialize<'de> for MatchRegexps {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = BTreeMap::<String, Option<String>>::deserialize(d)?;
        let mut out = BTreeMap::new();
        for (name, value) in raw {
            if !labels::is_legacy_label_name(&name) {
                return Err(D::Error::custom(format!("invalid label name {name:?}")));
            }
            let value = value
                .ok_or_else(|| D::Error::custom(format!("invalid regexp value for {name:?}")))?;
            crate::labels::Matcher::new(labels::MatchType::Regexp, &name, &value)
                .map_err(D::Error::custom)?;
            out.insert(name, value);
        }
        Ok(MatchRegexps(out))
    }
}

impl Serialize for MatchRegexps {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// The legacy `match` map, whose keys must be classic label names.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MatchEqual(pub BTreeMap<String, String>);

impl<'de> Deserialize<'de> for MatchEqual {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = BTreeMap::<String, String>::deserialize(d)?;
        if let Some(name) = raw.keys().find(|k| !labels::is_legacy_label_name(k)) {
            return Err(D::Error::custom(format!("invalid label name {name:?}")));
        }
        Ok(MatchEqual(raw))
    }
}

/// A `matchers:` list: each string holds one or more matchers; the result is sorted, as
/// upstream sorts it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigMatchers(pub Vec<Matcher>);

impl<'de> Deserialize<'de> for ConfigMatchers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let lines = Vec::<String>::deserialize(d)?;
        let mut out = Vec::new();
        for line in &lines {
            out.extend(labels::parse_matchers(line).map_err(D::Error::custom)?);
        }
        out.sort();
        Ok(ConfigMatchers(out))
    }
}

impl Serialize for ConfigMatchers {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(ToString::to_string))
    }
}
