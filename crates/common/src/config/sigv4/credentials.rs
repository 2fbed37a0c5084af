//! The start of the AWS SDK's default credential and region chain: environment variables,
//! then the shared `credentials` and `config` files of the selected profile.

use std::collections::HashMap;
use std::path::PathBuf;

/// An access key pair, with the session token of temporary credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key: String,
    pub secret_key: String,
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key", &self.access_key)
            .finish_non_exhaustive()
    }
}

/// What the chain reads: environment variables and the home directory. A value rather than
/// the process's own environment, so tests need not change the process's.
pub(super) struct Environment {
    vars: HashMap<String, String>,
    home: Option<PathBuf>,
}

impl Environment {
    pub(super) fn process() -> Environment {
        let vars: HashMap<String, String> = std::env::vars().collect();
        let home = vars.get("HOME").map(PathBuf::from);
        Environment { vars, home }
    }

    #[cfg(test)]
    pub(super) fn new(vars: &[(&str, &str)], home: Option<PathBuf>) -> Environment {
        Environment {
            vars: vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            home,
        }
    }

    fn var(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The profile the block names, else `AWS_PROFILE`, else `default`.
    fn profile<'a>(&'a self, configured: &'a str) -> &'a str {
        if !configured.is_empty() {
            return configured;
        }
        self.var("AWS_PROFILE").unwrap_or("default")
    }

    fn file(&self, variable: &str, default: &str) -> Option<PathBuf> {
        match self.var(variable) {
            Some(path) => Some(PathBuf::from(path)),
            None => self
                .home
                .as_ref()
                .map(|home| home.join(".aws").join(default)),
        }
    }

    /// Environment variables first, then the profile's keys in the shared credentials file.
    pub(super) fn credentials(&self, profile: &str) -> Result<Credentials, String> {
        let key = self.var("AWS_ACCESS_KEY_ID").or(self.var("AWS_ACCESS_KEY"));
        let secret = self
            .var("AWS_SECRET_ACCESS_KEY")
            .or(self.var("AWS_SECRET_KEY"));
        if let (Some(key), Some(secret)) = (key, secret) {
            return Ok(Credentials {
                access_key: key.to_owned(),
                secret_key: secret.to_owned(),
                session_token: self.var("AWS_SESSION_TOKEN").map(str::to_owned),
            });
        }
        let profile = self.profile(profile);
        let Some(path) = self.file("AWS_SHARED_CREDENTIALS_FILE", "credentials") else {
            return Err("no credentials in the environment and no home directory".into());
        };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "no credentials in the environment, and reading {}: {e}",
                path.display()
            )
        })?;
        let section = ini_section(&text, profile)
            .ok_or_else(|| format!("profile {profile:?} not found in {}", path.display()))?;
        match (
            section.get("aws_access_key_id"),
            section.get("aws_secret_access_key"),
        ) {
            (Some(key), Some(secret)) => Ok(Credentials {
                access_key: key.clone(),
                secret_key: secret.clone(),
                session_token: section.get("aws_session_token").cloned(),
            }),
            _ => Err(format!(
                "profile {profile:?} in {} has no aws_access_key_id and aws_secret_access_key",
                path.display()
            )),
        }
    }

    /// `AWS_REGION`, `AWS_DEFAULT_REGION`, else the profile's `region` in the shared config file.
    pub(super) fn region(&self, profile: &str) -> Option<String> {
        if let Some(region) = self.var("AWS_REGION").or(self.var("AWS_DEFAULT_REGION")) {
            return Some(region.to_owned());
        }
        let profile = self.profile(profile);
        let text = std::fs::read_to_string(self.file("AWS_CONFIG_FILE", "config")?).ok()?;
        // The config file names every profile but the default one `profile NAME`.
        let section = ini_section(&text, &format!("profile {profile}"))
            .or_else(|| (profile == "default").then(|| ini_section(&text, "default"))?)?;
        section.get("region").cloned()
    }
}

/// The `key = value` lines of `[name]` in an AWS INI file (comments start with `#` or `;`).
fn ini_section(text: &str, name: &str) -> Option<HashMap<String, String>> {
    let mut section: Option<HashMap<String, String>> = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            if section.is_some() {
                break;
            }
            if header.trim() == name {
                section = Some(HashMap::new());
            }
        } else if let (Some(entries), Some((k, v))) = (section.as_mut(), line.split_once('=')) {
            entries.insert(k.trim().to_owned(), v.trim().to_owned());
        }
    }
    section
}
