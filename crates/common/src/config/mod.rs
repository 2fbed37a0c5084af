//! Configuration primitives shared by every daemon's YAML config.
//!
//! Upstream spreads these over prometheus/common (`model.Duration`, `config.Secret`,
//! `config.HTTPClientConfig`) and gopkg.in/yaml. Keeping them in one place means every daemon
//! accepts the same duration syntax, hides secrets the same way, resolves `*_file` paths the
//! same way and reports YAML errors with the same file/line/column context.

mod duration;
pub mod http;
pub mod positions;
mod secret;
mod sigv4;
mod units;
pub mod yaml;

pub use duration::{Duration, DurationError, parse_go_duration};
pub use secret::{Secret, SecretError, SecretSource, join_dir};
pub use sigv4::{Credentials as AwsCredentials, SigV4Config, SigV4Error, Signer as SigV4Signer};
pub use units::Base2Bytes;
