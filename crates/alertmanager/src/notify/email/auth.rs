//! SMTP authentication the way upstream's email notifier does it: the mechanism is the first
//! one in the server's advertised `AUTH` list that the configured credentials can satisfy
//! (CRAM-MD5 needs `auth_secret`, PLAIN and LOGIN a password), and nothing is attempted when
//! no `auth_username` is configured. The SASL exchanges are written here because lettre
//! knows neither CRAM-MD5 nor PLAIN's authorization identity (`auth_identity`).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use md5::{Digest as _, Md5};

/// A mechanism with the credentials it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Auth {
    CramMd5 {
        username: String,
        secret: String,
    },
    Plain {
        identity: String,
        username: String,
        password: String,
    },
    Login {
        username: String,
        password: String,
    },
}

/// A password or secret, inline or in a file read only when a mechanism needs it (as
/// upstream, an unreadable file only rules that mechanism out).
#[derive(Debug, Clone, Copy)]
pub(super) struct Secret<'a> {
    pub inline: &'a str,
    pub file: &'a str,
}

impl Secret<'_> {
    fn read(&self) -> Result<String, String> {
        if self.file.is_empty() {
            return Ok(self.inline.to_owned());
        }
        std::fs::read_to_string(self.file).map_err(|e| format!("could not read {}: {e}", self.file))
    }
}

/// The configured credentials.
#[derive(Debug, Clone, Copy)]
pub(super) struct Credentials<'a> {
    pub username: &'a str,
    pub identity: &'a str,
    pub password: Secret<'a>,
    pub secret: Secret<'a>,
}

/// Picks the mechanism from the server's `AUTH` parameters (space-separated, in the server's
/// order). `Ok(None)`: no username, so the message goes unauthenticated.
pub(super) fn choose(advertised: &str, creds: &Credentials<'_>) -> Result<Option<Auth>, String> {
    if creds.username.is_empty() {
        return Ok(None);
    }
    let username = creds.username.to_owned();
    let mut errors = Vec::new();
    for mechanism in advertised.split(' ') {
        let needed = match mechanism {
            "CRAM-MD5" => creds.secret.read().map(|s| (s, "secret")),
            "PLAIN" | "LOGIN" => creds.password.read().map(|p| (p, "password")),
            other => {
                errors.push(format!("unknown auth mechanism: {other}"));
                continue;
            }
        };
        let value = match needed {
            Ok((value, _)) if !value.is_empty() => value,
            Ok((_, what)) => {
                errors.push(format!("missing {what} for {mechanism} auth mechanism"));
                continue;
            }
            Err(err) => {
                errors.push(err);
                continue;
            }
        };
        return Ok(Some(match mechanism {
            "CRAM-MD5" => Auth::CramMd5 {
                username,
                secret: value,
            },
            "PLAIN" => Auth::Plain {
                identity: creds.identity.to_owned(),
                username,
                password: value,
            },
            _ => Auth::Login {
                username,
                password: value,
            },
        }));
    }
    Err(errors.join("; "))
}

/// Go's `smtp.PlainAuth` sends the password in clear only to the local host.
fn is_localhost(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "::1")
}

impl Auth {
    pub fn mechanism(&self) -> &'static str {
        match self {
            Auth::CramMd5 { .. } => "CRAM-MD5",
            Auth::Plain { .. } => "PLAIN",
            Auth::Login { .. } => "LOGIN",
        }
    }

    /// The `AUTH` command line (without CRLF), with PLAIN's initial response. PLAIN refuses
    /// an unencrypted connection to anything but the local host, as Go's client does.
    pub fn command(&self, encrypted: bool, host: &str) -> Result<String, String> {
        match self {
            Auth::Plain {
                identity,
                username,
                password,
            } => {
                if !encrypted && !is_localhost(host) {
                    return Err("unencrypted connection".into());
                }
                let response = format!("{identity}\0{username}\0{password}");
                Ok(format!("AUTH PLAIN {}", BASE64.encode(response)))
            }
            other => Ok(format!("AUTH {}", other.mechanism())),
        }
    }

    /// The answer to a decoded server challenge (a 334 reply).
    pub fn answer(&self, challenge: &[u8]) -> Result<Vec<u8>, String> {
        match self {
            Auth::CramMd5 { username, secret } => {
                let digest = hmac_md5(secret.as_bytes(), challenge);
                let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                Ok(format!("{username} {hex}").into_bytes())
            }
            Auth::Login { username, password } => {
                match String::from_utf8_lossy(challenge).to_lowercase().as_str() {
                    "username:" => Ok(username.clone().into_bytes()),
                    "password:" => Ok(password.clone().into_bytes()),
                    _ => Err("unexpected server challenge".into()),
                }
            }
            Auth::Plain { .. } => Err("unexpected server challenge".into()),
        }
    }
}

/// RFC 2104's HMAC over MD5 (64-byte blocks), which CRAM-MD5 answers with.
fn hmac_md5(key: &[u8], message: &[u8]) -> [u8; 16] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..16].copy_from_slice(&Md5::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Md5::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Md5::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(inline: &str) -> Secret<'_> {
        Secret { inline, file: "" }
    }

    fn creds<'a>(username: &'a str, password: Secret<'a>, secret: Secret<'a>) -> Credentials<'a> {
        Credentials {
            username,
            identity: "id",
            password,
            secret,
        }
    }

    #[test]
    fn the_servers_order_decides_among_satisfiable_mechanisms() {
        let c = creds("u", secret("pw"), secret(""));
        assert_eq!(
            choose("CRAM-MD5 LOGIN PLAIN", &c)
                .unwrap()
                .unwrap()
                .mechanism(),
            "LOGIN"
        );
        assert_eq!(
            choose("PLAIN LOGIN", &c).unwrap(),
            Some(Auth::Plain {
                identity: "id".into(),
                username: "u".into(),
                password: "pw".into()
            })
        );
        let c = creds("u", secret("pw"), secret("s"));
        assert_eq!(
            choose("CRAM-MD5 PLAIN", &c).unwrap().unwrap().mechanism(),
            "CRAM-MD5"
        );
    }

    #[test]
    fn no_username_means_no_authentication() {
        assert_eq!(
            choose("PLAIN", &creds("", secret(""), secret(""))),
            Ok(None)
        );
    }

    #[test]
    fn unsatisfiable_mechanisms_are_explained() {
        assert_eq!(
            choose("PLAIN XOAUTH2", &creds("u", secret(""), secret(""))),
            Err(
                "missing password for PLAIN auth mechanism; unknown auth mechanism: XOAUTH2".into()
            )
        );
        let unreadable = Secret {
            inline: "",
            file: "/nonexistent/pw",
        };
        let err = choose("CRAM-MD5 LOGIN", &creds("u", unreadable, secret(""))).unwrap_err();
        assert!(
            err.starts_with(
                "missing secret for CRAM-MD5 auth mechanism; could not read /nonexistent/pw: "
            ),
            "{err}"
        );
    }

    #[test]
    fn plain_needs_tls_away_from_the_local_host() {
        let auth = Auth::Plain {
            identity: String::new(),
            username: "u".into(),
            password: "p".into(),
        };
        assert_eq!(
            auth.command(false, "127.0.0.1").unwrap(),
            format!("AUTH PLAIN {}", BASE64.encode("\0u\0p"))
        );
        assert!(auth.command(true, "mail.example.org").is_ok());
        assert_eq!(
            auth.command(false, "mail.example.org"),
            Err("unencrypted connection".into())
        );
    }

    #[test]
    fn cram_md5_answers_rfc_2195s_example() {
        let auth = Auth::CramMd5 {
            username: "tim".into(),
            secret: "tanstaaftanstaaf".into(),
        };
        let answer = auth
            .answer(b"<1896.697170952@postoffice.reston.mci.net>")
            .unwrap();
        assert_eq!(
            String::from_utf8(answer).unwrap(),
            "tim b913a602c7eda7a495b4e6e7334d3890"
        );
    }

    #[test]
    fn login_answers_the_two_prompts_only() {
        let auth = Auth::Login {
            username: "u".into(),
            password: "p".into(),
        };
        assert_eq!(auth.answer(b"Username:").unwrap(), b"u");
        assert_eq!(auth.answer(b"PASSWORD:").unwrap(), b"p");
        assert!(auth.answer(b"Token:").is_err());
    }
}
