//! Building the probe request: method, body, configured headers, authentication (basic,
//! `authorization` with credentials read per probe, OAuth 2 client credentials).

use base64::Engine as _;
use bytes::Bytes;
use http::header::{AUTHORIZATION, HOST, USER_AGENT};
use http::{HeaderName, HeaderValue, Method, Request, StatusCode};
use http_body_util::Full;
use pm_common::config::SecretSource;
use pm_common::config::http::{HttpClientConfig, OAuth2Error, OAuth2TokenSource};
use url::Url;

use super::super::ProbeLog;
use crate::config::HttpProbe;

/// Everything about the request that stays the same across redirect hops (bar the method and
/// body after a 303).
pub struct RequestSpec {
    method: Method,
    body: Bytes,
    headers: Vec<(HeaderName, HeaderValue)>,
    host_header: Option<String>,
    tls_server_name: String,
    /// One token source per probe, as upstream builds one client per probe: the token is
    /// fetched once and reused across redirects.
    oauth2: Option<OAuth2TokenSource>,
}

impl RequestSpec {
    pub async fn new(cfg: &HttpProbe, log: &ProbeLog) -> Option<Self> {
        let fields = &cfg.probe;
        let method = if fields.method.is_empty() {
            "GET"
        } else {
            &fields.method
        };
        let method = match Method::from_bytes(method.as_bytes()) {
            Ok(m) => m,
            Err(err) => {
                log.error("Error creating request", &[("err", &err)]);
                return None;
            }
        };
        let body = if !fields.body_file.is_empty() {
            match tokio::fs::read(&fields.body_file).await {
                Ok(b) => Bytes::from(b),
                Err(err) => {
                    log.error("Error creating request", &[("err", &err)]);
                    return None;
                }
            }
        } else {
            Bytes::from(fields.body.clone())
        };
        let mut headers = Vec::new();
        let mut host_header = None;
        let mut push = |name: &str, value: &str| -> Result<(), String> {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
            let value = HeaderValue::from_str(value).map_err(|e| e.to_string())?;
            headers.push((name, value));
            Ok(())
        };
        let result = (|| {
            for (name, header) in &cfg.client.http_headers {
                let inline = header.values.iter().cloned();
                let secrets = header.secrets.iter().map(|s| s.expose().to_owned());
                for value in inline.chain(secrets) {
                    push(name, &value)?;
                }
                for file in &header.files {
                    let value = std::fs::read_to_string(file)
                        .map_err(|e| format!("unable to read headers file {file}: {e}"))?;
                    push(name, value.trim())?;
                }
            }
            // Go's auth round-trippers leave a request's own Authorization alone.
            let own_auth = fields
                .headers
                .keys()
                .any(|k| k.eq_ignore_ascii_case("authorization"));
            if !own_auth && let Some(auth) = auth_header(&cfg.client)? {
                push(AUTHORIZATION.as_str(), &auth)?;
            }
            for (name, value) in &fields.headers {
                if name.eq_ignore_ascii_case("host") {
                    host_header = Some(value.clone());
                } else {
                    push(name, value)?;
                }
            }
            if !fields
                .headers
                .keys()
                .any(|k| k.eq_ignore_ascii_case("user-agent"))
            {
                push(USER_AGENT.as_str(), &super::user_agent())?;
            }
            if !fields.compression.is_empty()
                && !fields
                    .headers
                    .keys()
                    .any(|k| k.eq_ignore_ascii_case("accept-encoding"))
            {
                push("accept-encoding", &fields.compression)?;
            }
            Ok::<(), String>(())
        })();
        if let Err(err) = result {
            log.error("Error creating request", &[("err", &err)]);
            return None;
        }
        let oauth2 = match cfg.client.oauth2.as_ref().map(OAuth2TokenSource::new) {
            None => None,
            Some(Ok(source)) => Some(source),
            Some(Err(err)) => {
                log.error("Error generating HTTP client", &[("err", &err)]);
                return None;
            }
        };
        Some(RequestSpec {
            method,
            body,
            headers,
            host_header,
            tls_server_name: cfg.client.tls_config.server_name.clone(),
            oauth2,
        })
    }

    /// The TLS name: the configured one, else the `Host` header, else the URL's host.
    pub fn server_name(&self, url_host: &str) -> String {
        if !self.tls_server_name.is_empty() {
            return self.tls_server_name.clone();
        }
        self.host_header
            .as_deref()
            .map(|h| {
                h.rsplit_once(':')
                    .filter(|(_, p)| p.parse::<u16>().is_ok())
                    .map_or(h, |(h, _)| h)
            })
            .unwrap_or(url_host)
            .to_owned()
    }

    /// Go's client turns a redirected POST into a GET without body on 301/302/303.
    pub fn redirected(&mut self, status: StatusCode) {
        let to_get = status == StatusCode::SEE_OTHER
            || ((status == StatusCode::MOVED_PERMANENTLY || status == StatusCode::FOUND)
                && self.method == Method::POST);
        if to_get && self.method != Method::HEAD {
            self.method = Method::GET;
            self.body = Bytes::new();
        }
    }

    /// Sets the OAuth 2 bearer token, replacing any other credentials as Go's `oauth2`
    /// transport does.
    pub async fn authorize(&self, request: &mut Request<Full<Bytes>>) -> Result<(), OAuth2Error> {
        if let Some(source) = &self.oauth2 {
            let value = source.header().await?;
            request.headers_mut().insert(AUTHORIZATION, value);
        }
        Ok(())
    }

    pub fn build(&self, url: &Url) -> Result<Request<Full<Bytes>>, String> {
        let authority = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            (None, _) => return Err("missing host".to_owned()),
        };
        let host = self.host_header.clone().unwrap_or(authority);
        let mut builder = Request::builder()
            .method(self.method.clone())
            .uri(url.as_str())
            .header(HOST, host);
        for (name, value) in &self.headers {
            builder = builder.header(name, value);
        }
        builder
            .body(Full::new(self.body.clone()))
            .map_err(|e| e.to_string())
    }
}

/// The `Authorization` value from `basic_auth` or `authorization`, files read per probe.
fn auth_header(client: &HttpClientConfig) -> Result<Option<String>, String> {
    let read = |inline, file: &str| -> Result<String, String> {
        match SecretSource::from_pair(inline, file) {
            Some(source) => source.fetch().map_err(|e| e.to_string()),
            None => Ok(String::new()),
        }
    };
    if let Some(basic) = &client.basic_auth {
        let username = pm_common::config::Secret::new(basic.username.clone());
        let user = read(&username, &basic.username_file)?;
        let pass = read(&basic.password, &basic.password_file)?;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        return Ok(Some(format!("Basic {token}")));
    }
    if let Some(auth) = &client.authorization {
        let credentials = read(&auth.credentials, &auth.credentials_file)?;
        return Ok(Some(format!("{} {credentials}", auth.kind)));
    }
    Ok(None)
}
