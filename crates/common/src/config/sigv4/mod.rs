//! `sigv4:` — AWS Signature Version 4 request signing, as remote write, the notifier and
//! Alertmanager's SNS integration configure it (upstream's `sigv4.SigV4Config`). Amazon
//! Managed Service for Prometheus accepts only signed requests.
//!
//! Credentials come from the block itself, else from the environment, else from the shared
//! credentials file, as the AWS SDK's default chain starts; instance roles (EC2/ECS metadata)
//! and `role_arn` (STS) would need calls to AWS and are refused with a clear error.

mod credentials;
mod signer;

use serde::{Deserialize, Serialize};

use super::Secret;
pub use credentials::Credentials;
pub use signer::Signer;

/// `sigv4`: AWS Signature Version 4 request signing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SigV4Config {
    #[serde(skip_serializing_if = "String::is_empty")]
    pub region: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub access_key: String,
    #[serde(skip_serializing_if = "Secret::is_empty")]
    pub secret_key: Secret,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub profile: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub role_arn: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub external_id: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub use_fips_sts_endpoint: bool,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub service_name: String,
}

/// Why a `sigv4` block cannot sign.
#[derive(Debug, thiserror::Error)]
pub enum SigV4Error {
    #[error(
        "must provide a AWS SigV4 Access key and Secret Key if credentials are specified in the SigV4 config"
    )]
    HalfCredentials,
    #[error("sigv4 role_arn (credentials from AWS STS) is not supported yet")]
    RoleArn,
    #[error("could not get SigV4 credentials: {0}")]
    Credentials(String),
    #[error("region not configured in sigv4 or in default credentials chain")]
    Region,
}

/// The service a signature is for when the block names none: Amazon Managed Service for
/// Prometheus.
const DEFAULT_SERVICE: &str = "aps";

impl SigV4Config {
    /// The checks upstream makes when the config loads.
    pub fn validate(&self) -> Result<(), String> {
        if self.access_key.is_empty() != self.secret_key.is_empty() {
            return Err(SigV4Error::HalfCredentials.to_string());
        }
        Ok(())
    }

    /// Resolves credentials and region (from the process environment and the AWS files) into
    /// a signer; fails as upstream does when either cannot be found.
    pub fn signer(&self) -> Result<Signer, SigV4Error> {
        self.signer_with(&credentials::Environment::process())
    }

    fn signer_with(&self, env: &credentials::Environment) -> Result<Signer, SigV4Error> {
        if self.access_key.is_empty() != self.secret_key.is_empty() {
            return Err(SigV4Error::HalfCredentials);
        }
        if !self.role_arn.is_empty() {
            return Err(SigV4Error::RoleArn);
        }
        let credentials = if self.access_key.is_empty() {
            env.credentials(&self.profile)
                .map_err(SigV4Error::Credentials)?
        } else {
            Credentials {
                access_key: self.access_key.clone(),
                secret_key: self.secret_key.expose().to_owned(),
                session_token: None,
            }
        };
        let region = if self.region.is_empty() {
            env.region(&self.profile).ok_or(SigV4Error::Region)?
        } else {
            self.region.clone()
        };
        let service = if self.service_name.is_empty() {
            DEFAULT_SERVICE
        } else {
            &self.service_name
        };
        Ok(Signer::new(credentials, region, service.to_owned()))
    }
}

#[cfg(test)]
mod tests;
