//! Decoding and load-time checks of the SD mechanisms the server implements (file, DNS,
//! Consul and HTTP). The config types live in pm-discovery, which runs them; the Consul and
//! HTTP entries inline the HTTP client keys, so they travel through [`Wire`].

use pm_common::config::Duration;
use pm_common::config::http::BasicAuth;
use pm_discovery::{ConsulSdConfig, ConsulSettings, DnsSdConfig, FileSdConfig, HttpSdConfig};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::global::GoQuoted;
use crate::config::inline;

/// Upstream's checks of a `file_sd_configs` entry.
pub(super) fn validate_file(config: &mut FileSdConfig) -> Result<(), String> {
    if config.files.is_empty() {
        return Err("file service discovery config must contain at least one path name".into());
    }
    match config.files.iter().find(|f| !is_valid_file_sd_name(f)) {
        Some(bad) => Err(format!(
            "path name {} is not valid for file discovery",
            GoQuoted(bad)
        )),
        None => Ok(()),
    }
}

/// A file SD path: a JSON or YAML extension, and a `*` only in the last path component.
fn is_valid_file_sd_name(name: &str) -> bool {
    const EXTENSIONS: [&str; 6] = [".json", ".yml", ".yaml", ".JSON", ".YML", ".YAML"];
    let glob_ok = name
        .find('*')
        .is_none_or(|star| !name[star + 1..].contains('/'));
    glob_ok && EXTENSIONS.iter().any(|ext| name.ends_with(ext))
}

/// Upstream's checks of a `dns_sd_configs` entry.
pub(super) fn validate_dns(config: &mut DnsSdConfig) -> Result<(), String> {
    if config.names.is_empty() {
        return Err("DNS-SD config must contain at least one SRV record name".into());
    }
    match config.record_type.to_uppercase().as_str() {
        "SRV" => Ok(()),
        "A" | "AAAA" | "MX" | "NS" if config.port == 0 => {
            Err("a port is required in DNS-SD configs for all record types except SRV".into())
        }
        "A" | "AAAA" | "MX" | "NS" => Ok(()),
        _ => Err(format!(
            "invalid DNS-SD records type {}",
            config.record_type
        )),
    }
}

/// The YAML form of a config type defined in pm-discovery whose keys are inlined with the
/// HTTP client's (the orphan rule keeps these impls off the types themselves).
pub(super) struct Wire<T>(pub T);

impl<'de> Deserialize<'de> for Wire<ConsulSdConfig> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let split = inline::split(inline::mapping(d)?, true, |_| false);
        let settings: ConsulSettings = inline::decode(split.own)?;
        let mut http_client = inline::decode_http::<D::Error>(split.http)?;
        if settings.server.trim().is_empty() {
            return Err(D::Error::custom(
                "consul SD configuration requires a server address",
            ));
        }
        // The legacy username/password keys are basic auth by another name.
        if !settings.username.is_empty() || !settings.password.is_empty() {
            if http_client.basic_auth.is_some() {
                return Err(D::Error::custom(
                    "at most one of consul SD configuration username and password and basic auth can be configured",
                ));
            }
            http_client.basic_auth = Some(BasicAuth {
                username: settings.username.clone(),
                password: settings.password.clone(),
                ..BasicAuth::default()
            });
        }
        if !settings.token.is_empty()
            && (http_client.authorization.is_some() || http_client.oauth2.is_some())
        {
            return Err(D::Error::custom(
                "at most one of consul SD token, authorization, or oauth2 can be configured",
            ));
        }
        http_client.validate().map_err(D::Error::custom)?;
        Ok(Wire(ConsulSdConfig {
            settings,
            http_client,
        }))
    }
}

impl Serialize for Wire<&ConsulSdConfig> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = inline::to_mapping::<_, S::Error>(&self.0.settings)?;
        out.extend(inline::to_mapping::<_, S::Error>(&self.0.http_client)?);
        out.serialize(serializer)
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpSdSettings {
    #[serde(default)]
    url: String,
    #[serde(
        default,
        skip_serializing_if = "crate::config::units::is_zero_duration"
    )]
    refresh_interval: Duration,
}

impl<'de> Deserialize<'de> for Wire<HttpSdConfig> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let split = inline::split(inline::mapping(d)?, true, |_| false);
        let own: HttpSdSettings = inline::decode(split.own)?;
        if own.url.is_empty() {
            return Err(D::Error::custom("URL is missing"));
        }
        check_http_url(&own.url).map_err(D::Error::custom)?;
        Ok(Wire(HttpSdConfig {
            url: own.url,
            refresh_interval: if own.refresh_interval.is_zero() {
                Duration::from_secs(60)
            } else {
                own.refresh_interval
            },
            http_client: inline::http_client(split.http, true)?,
        }))
    }
}

impl Serialize for Wire<&HttpSdConfig> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let own = HttpSdSettings {
            url: self.0.url.clone(),
            refresh_interval: self.0.refresh_interval,
        };
        let mut out = inline::to_mapping::<_, S::Error>(&self.0.http_client)?;
        out.extend(inline::to_mapping::<_, S::Error>(&own)?);
        out.serialize(serializer)
    }
}

/// The URL checks shared by HTTP SD and PuppetDB SD, with upstream's messages.
pub(crate) fn check_http_url(url: &str) -> Result<(), String> {
    let (scheme, host) = inline::go_url_scheme_host(url)?;
    if scheme != "http" && scheme != "https" {
        return Err("URL scheme must be 'http' or 'https'".into());
    }
    if host.is_empty() {
        return Err("host is missing in URL".into());
    }
    Ok(())
}
