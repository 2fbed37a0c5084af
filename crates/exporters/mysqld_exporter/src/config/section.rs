//! One section of the client configuration, and the connection options it gives for a
//! target.

use std::path::PathBuf;

use mysql_async::{ClientIdentity, Opts, OptsBuilder, SslOpts};

use super::{Ini, split_host_port};
use crate::error::SectionError;

/// How the connection is secured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tls {
    Off,
    /// TLS with the system's roots (`tls=true`).
    Verified,
    /// TLS without certificate checks (`tls=skip-verify` or `preferred`,
    /// `ssl-skip-verfication`, `--tls.insecure-skip-verify`).
    SkipVerify,
    /// `ssl-ca` (with an optional client certificate) and/or `tls-server-name`.
    Custom {
        ca: Option<PathBuf>,
        identity: Option<(PathBuf, PathBuf)>,
        server_name: Option<String>,
    },
}

/// A validated section.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub user: String,
    pub password: String,
    pub host: String,
    pub port: u16,
    pub socket: String,
    pub tls: Tls,
    pub enable_cleartext_plugin: bool,
}

impl Section {
    pub fn from_ini(ini: &Ini, name: &str, insecure_default: bool) -> Result<Self, SectionError> {
        let get = |key| ini.get(name, key).unwrap_or_default().to_owned();
        let user = get("user");
        if user.is_empty() {
            return Err(SectionError::NoUser);
        }
        let port = match get("port").as_str() {
            "" => 0,
            p => p.parse().map_err(|_| SectionError::Value {
                key: "port",
                value: p.to_owned(),
            })?,
        };
        let boolean = |key: &'static str, default: bool| match ini.get(name, key) {
            None | Some("") => Ok(default),
            Some(v) => go_ini_bool(v).ok_or_else(|| SectionError::Value {
                key,
                value: v.to_owned(),
            }),
        };
        let insecure = boolean("ssl-skip-verfication", insecure_default)?;
        let enable_cleartext_plugin = boolean("enable-cleartext-plugin", false)?;
        let path = |key| Some(PathBuf::from(get(key))).filter(|p| !p.as_os_str().is_empty());
        let ca = path("ssl-ca");
        let server_name = Some(get("tls-server-name")).filter(|s| !s.is_empty());
        let tls = if insecure {
            Tls::SkipVerify
        } else if ca.is_some() || server_name.is_some() {
            Tls::Custom {
                identity: ca.as_ref().and(path("ssl-cert")).zip(path("ssl-key")),
                ca,
                server_name,
            }
        } else {
            match get("tls").as_str() {
                "" | "false" => Tls::Off,
                "true" => Tls::Verified,
                "skip-verify" | "preferred" => Tls::SkipVerify,
                other => {
                    return Err(SectionError::Value {
                        key: "tls",
                        value: other.to_owned(),
                    });
                }
            }
        };
        Ok(Self {
            user,
            password: get("password"),
            host: get("host"),
            port,
            socket: get("socket"),
            tls,
            enable_cleartext_plugin,
        })
    }

    /// Connection options for `target` (`host:port`, `unix:///path`), or for the section's
    /// own server when `target` is empty (its socket, else host and port, defaulting to
    /// `127.0.0.1:3306`).
    pub fn opts(&self, target: &str) -> Result<OptsBuilder, SectionError> {
        let builder = OptsBuilder::default()
            .user(Some(&self.user))
            .pass(Some(&self.password).filter(|p| !p.is_empty()))
            .prefer_socket(false)
            .enable_cleartext_plugin(self.enable_cleartext_plugin)
            .ssl_opts(self.ssl_opts());
        Ok(if target.is_empty() {
            if self.socket.is_empty() {
                let host = if self.host.is_empty() {
                    "127.0.0.1"
                } else {
                    &self.host
                };
                let port = if self.port == 0 { 3306 } else { self.port };
                builder.ip_or_hostname(host).tcp_port(port)
            } else {
                builder.socket(Some(&self.socket))
            }
        } else if let Some(socket) = target.strip_prefix("unix://") {
            builder.socket(Some(socket))
        } else {
            let (host, port) = split_host_port(target)
                .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
                .ok_or_else(|| SectionError::Target(target.to_owned()))?;
            builder.ip_or_hostname(host).tcp_port(port)
        })
    }

    fn ssl_opts(&self) -> Option<SslOpts> {
        match &self.tls {
            Tls::Off => None,
            Tls::Verified => Some(SslOpts::default()),
            Tls::SkipVerify => Some(
                SslOpts::default()
                    .with_danger_accept_invalid_certs(true)
                    .with_danger_skip_domain_validation(true),
            ),
            Tls::Custom {
                ca,
                identity,
                server_name,
            } => {
                let mut ssl = SslOpts::default();
                if let Some(ca) = ca {
                    ssl = ssl
                        .with_root_certs(vec![ca.clone().into()])
                        .with_disable_built_in_roots(true);
                }
                if let Some((cert, key)) = identity {
                    ssl = ssl.with_client_identity(Some(ClientIdentity::new(
                        cert.clone().into(),
                        key.clone().into(),
                    )));
                }
                if let Some(name) = server_name {
                    ssl = ssl.with_danger_tls_hostname_override(Some(name.clone()));
                }
                Some(ssl)
            }
        }
    }

    /// Where `opts(target)` connects, for logs.
    pub fn describe(opts: &Opts) -> String {
        match opts.socket() {
            Some(socket) => format!("unix({socket})"),
            None => format!("{}:{}", opts.ip_or_hostname(), opts.tcp_port()),
        }
    }
}

/// go-ini's boolean words.
fn go_ini_bool(v: &str) -> Option<bool> {
    match v {
        "1" | "t" | "T" | "TRUE" | "true" | "True" | "YES" | "yes" | "Yes" | "y" | "ON" | "on"
        | "On" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" | "NO" | "no" | "No" | "n" | "OFF"
        | "off" | "Off" => Some(false),
        _ => None,
    }
}
