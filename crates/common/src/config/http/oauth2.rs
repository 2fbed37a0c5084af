//! The OAuth 2.0 client-credentials grant, as upstream's `oauth2` block uses it.
//!
//! Tokens are cached until 10 seconds before they expire (the margin Go's `oauth2` package
//! uses) and fetched again after that. A `client_secret_file` is re-read on every request, and a
//! changed secret throws the cached token away, as upstream does.

use std::time::{Duration, Instant};

use reqwest::header::HeaderValue;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::client::{HttpClientError, build_reqwest};
use super::config::OAuth2;
use crate::config::{SecretError, SecretSource};

/// How long before its expiry a token stops being used.
const EXPIRY_MARGIN: Duration = Duration::from_secs(10);

/// Failure to obtain a token; texts follow Go's `oauth2` package.
#[derive(Debug, thiserror::Error)]
pub enum OAuth2Error {
    #[error("unable to read oauth2 client secret: {0}")]
    Secret(#[source] SecretError),
    #[error("oauth2: cannot fetch token: {0}")]
    Request(#[source] reqwest::Error),
    #[error("oauth2: cannot fetch token: {status}\nResponse: {body}")]
    Status {
        status: reqwest::StatusCode,
        body: String,
    },
    #[error("oauth2: cannot parse json: {0}")]
    Decode(#[source] serde_json::Error),
    #[error("oauth2: server response missing access_token")]
    MissingToken,
    #[error("oauth2: the access token cannot be sent in a header")]
    InvalidToken,
}

/// Where the client credentials go in the token request. Go's default "auto detect" tries the
/// `Authorization` header first and falls back to form fields, remembering what worked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AuthStyle {
    Unknown,
    Header,
    Params,
}

#[derive(Debug)]
struct Token {
    header: HeaderValue,
    expires_at: Option<Instant>,
}

impl Token {
    fn is_fresh(&self) -> bool {
        self.expires_at
            .is_none_or(|at| Instant::now() + EXPIRY_MARGIN < at)
    }
}

#[derive(Debug)]
struct State {
    /// The client secret the token was fetched with; `None` before the first request.
    secret: Option<String>,
    token: Option<Token>,
    style: AuthStyle,
}

/// Supplies `Authorization` headers from an OAuth 2.0 token endpoint; shared by every request
/// of one client so that the token is fetched once and reused until it expires.
#[derive(Debug)]
pub struct OAuth2TokenSource {
    config: OAuth2,
    secret: Option<SecretSource>,
    client: reqwest::Client,
    /// Held across a token fetch so that concurrent requests wait for one fetch.
    state: Mutex<State>,
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    token_type: String,
    #[serde(default)]
    expires_in: Option<f64>,
}

impl OAuth2TokenSource {
    pub fn new(config: &OAuth2) -> Result<Self, HttpClientError> {
        let client = build_reqwest(&config.tls_config, config.proxy(), true, true, None)?;
        Ok(OAuth2TokenSource {
            secret: SecretSource::from_pair(&config.client_secret, &config.client_secret_file),
            config: config.clone(),
            client,
            state: Mutex::new(State {
                secret: None,
                token: None,
                style: AuthStyle::Unknown,
            }),
        })
    }

    /// The `Authorization` header value for the next request.
    pub async fn header(&self) -> Result<HeaderValue, OAuth2Error> {
        let mut state = self.state.lock().await;
        let stale_secret =
            state.secret.is_none() || self.secret.as_ref().is_some_and(|s| !s.is_immutable());
        if stale_secret {
            let secret = match &self.secret {
                Some(source) => source.fetch().map_err(OAuth2Error::Secret)?,
                None => String::new(),
            };
            if state.secret.as_ref() != Some(&secret) {
                *state = State {
                    secret: Some(secret),
                    token: None,
                    style: AuthStyle::Unknown,
                };
            }
        }
        if let Some(token) = state.token.as_ref().filter(|t| t.is_fresh()) {
            return Ok(token.header.clone());
        }
        let secret = state.secret.clone().unwrap_or_default();
        let (token, style) = self.fetch(&secret, state.style).await?;
        let header = token.header.clone();
        state.token = Some(token);
        state.style = style;
        Ok(header)
    }

    async fn fetch(
        &self,
        secret: &str,
        style: AuthStyle,
    ) -> Result<(Token, AuthStyle), OAuth2Error> {
        match style {
            AuthStyle::Header | AuthStyle::Params => {
                Ok((self.request(secret, style).await?, style))
            }
            AuthStyle::Unknown => match self.request(secret, AuthStyle::Header).await {
                Ok(token) => Ok((token, AuthStyle::Header)),
                Err(_) => {
                    let token = self.request(secret, AuthStyle::Params).await?;
                    Ok((token, AuthStyle::Params))
                }
            },
        }
    }

    async fn request(&self, secret: &str, style: AuthStyle) -> Result<Token, OAuth2Error> {
        let mut form: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
        let scope = self.config.scopes.join(" ");
        if !scope.is_empty() {
            form.push(("scope", &scope));
        }
        if style == AuthStyle::Params {
            form.push(("client_id", &self.config.client_id));
            form.push(("client_secret", secret));
        }
        for (name, value) in &self.config.endpoint_params {
            form.retain(|(existing, _)| existing != name);
            form.push((name, value));
        }
        let mut request = self.client.post(&self.config.token_url).form(&form);
        if style == AuthStyle::Header {
            // RFC 6749 section 2.3.1: both parts are form-encoded before Basic encoding.
            let id: String =
                url::form_urlencoded::byte_serialize(self.config.client_id.as_bytes()).collect();
            let secret: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
            request = request.basic_auth(id, Some(secret));
        }
        let response = request.send().await.map_err(OAuth2Error::Request)?;
        let status = response.status();
        let form_encoded = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ct| {
                ct.starts_with("application/x-www-form-urlencoded") || ct.starts_with("text/plain")
            });
        let body = response.bytes().await.map_err(OAuth2Error::Request)?;
        if !status.is_success() {
            return Err(OAuth2Error::Status {
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        let parsed = if form_encoded {
            parse_form(&body)
        } else {
            serde_json::from_slice(&body).map_err(OAuth2Error::Decode)?
        };
        token_from(parsed)
    }
}

fn parse_form(body: &[u8]) -> TokenResponse {
    let mut response = TokenResponse {
        access_token: String::new(),
        token_type: String::new(),
        expires_in: None,
    };
    for (name, value) in url::form_urlencoded::parse(body) {
        match &*name {
            "access_token" => response.access_token = value.into_owned(),
            "token_type" => response.token_type = value.into_owned(),
            "expires_in" => response.expires_in = value.parse().ok(),
            _ => {}
        }
    }
    response
}

/// Go's `Token.Type()`: well-known types are capitalised canonically, empty means Bearer.
fn canonical_type(token_type: &str) -> &str {
    if token_type.eq_ignore_ascii_case("bearer") || token_type.is_empty() {
        "Bearer"
    } else if token_type.eq_ignore_ascii_case("mac") {
        "MAC"
    } else if token_type.eq_ignore_ascii_case("basic") {
        "Basic"
    } else {
        token_type
    }
}

fn token_from(response: TokenResponse) -> Result<Token, OAuth2Error> {
    if response.access_token.is_empty() {
        return Err(OAuth2Error::MissingToken);
    }
    let value = format!(
        "{} {}",
        canonical_type(&response.token_type),
        response.access_token
    );
    let mut header = HeaderValue::try_from(value).map_err(|_| OAuth2Error::InvalidToken)?;
    header.set_sensitive(true);
    let expires_at = response
        .expires_in
        .filter(|secs| secs.is_finite() && *secs > 0.0)
        .map(|secs| Instant::now() + Duration::from_secs_f64(secs.min(1e9)));
    Ok(Token { header, expires_at })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_types_and_expiry() {
        let token = token_from(TokenResponse {
            access_token: "abc".into(),
            token_type: "bearer".into(),
            expires_in: Some(3600.0),
        })
        .unwrap();
        assert_eq!(token.header, "Bearer abc");
        assert!(token.is_fresh());

        let token = token_from(parse_form(
            b"access_token=x%20y&token_type=mac&expires_in=5",
        ))
        .unwrap();
        assert_eq!(token.header, "MAC x y");
        // Within the 10 s margin: already stale.
        assert!(!token.is_fresh());

        let token = token_from(parse_form(b"access_token=z")).unwrap();
        assert_eq!(token.header, "Bearer z");
        assert!(token.is_fresh());

        assert!(matches!(
            token_from(parse_form(b"")),
            Err(OAuth2Error::MissingToken)
        ));
    }
}
