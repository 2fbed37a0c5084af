//! The API v2 client behind amtool's remote commands. Errors read as upstream's generated
//! client words them (`[POST /silences][400] postSilencesBadRequest  <message>`), because
//! scripts grep amtool's stderr.

use std::time::Duration;

use pm_common::config::Secret;
use pm_common::config::http::{BasicAuth, HttpClient, HttpClientConfig, HttpClientError};
use reqwest::{Method, StatusCode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::wire::{
    AlertmanagerStatus, GettableAlert, GettableSilence, PostableAlert, PostableSilence,
    SilenceCreated,
};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("failed to load HTTP config file: {0}")]
    HttpConfig(String),
    #[error("failed to create a new HTTP client: {0}")]
    NewClient(#[source] Box<HttpClientError>),
    #[error("basic authentication and http.config.file are mutually exclusive")]
    AuthConflict,
    #[error("{method} \"{url}\": {source}")]
    Transport {
        method: Method,
        url: Box<Url>,
        #[source]
        source: Box<HttpClientError>,
    },
    #[error("{method} \"{url}\": context deadline exceeded")]
    Timeout { method: Method, url: Box<Url> },
    /// A status the endpoint documents, with the server's message.
    #[error("[{method} {path}][{code}] {operation}{}", payload(.message))]
    Api {
        method: Method,
        path: &'static str,
        code: u16,
        operation: String,
        message: String,
    },
    #[error("{operation} (status {code}): {body}")]
    Unexpected {
        operation: &'static str,
        code: u16,
        body: String,
    },
    #[error("{0}")]
    Decode(String),
}

/// Go-swagger's error text ends in two spaces and the payload, or in one space without one.
fn payload(message: &str) -> String {
    if message.is_empty() {
        " ".to_owned()
    } else {
        format!("  {message}")
    }
}

/// One API operation: its swagger path and name, and the statuses it documents.
struct Operation {
    method: Method,
    path: &'static str,
    name: &'static str,
    documented: &'static [u16],
}

const GET_ALERTS: Operation = Operation {
    method: Method::GET,
    path: "/alerts",
    name: "getAlerts",
    documented: &[400, 500],
};
const POST_ALERTS: Operation = Operation {
    method: Method::POST,
    path: "/alerts",
    name: "postAlerts",
    documented: &[400, 500],
};
const GET_SILENCES: Operation = Operation {
    method: Method::GET,
    path: "/silences",
    name: "getSilences",
    documented: &[500],
};
const POST_SILENCES: Operation = Operation {
    method: Method::POST,
    path: "/silences",
    name: "postSilences",
    documented: &[400, 404],
};
const GET_SILENCE: Operation = Operation {
    method: Method::GET,
    path: "/silence/{silenceID}",
    name: "getSilence",
    documented: &[404, 500],
};
const DELETE_SILENCE: Operation = Operation {
    method: Method::DELETE,
    path: "/silence/{silenceID}",
    name: "deleteSilence",
    documented: &[500],
};
const GET_STATUS: Operation = Operation {
    method: Method::GET,
    path: "/status",
    name: "getStatus",
    documented: &[],
};

/// Go-swagger's response names: `getSilenceNotFound` and so on.
fn status_name(code: u16) -> &'static str {
    match code {
        400 => "BadRequest",
        404 => "NotFound",
        _ => "InternalServerError",
    }
}

/// A client of one Alertmanager's API v2.
#[derive(Debug, Clone)]
pub struct Client {
    http: HttpClient,
    /// `<alertmanager.url>/api/v2`, without a trailing slash.
    base: String,
    timeout: Duration,
}

impl Client {
    /// As upstream, the URL's path is a prefix, a missing host means `localhost:9093`, and
    /// credentials in the URL are basic auth (not together with an HTTP config file).
    pub fn new(
        url: &Url,
        http_config_file: Option<&str>,
        timeout: Duration,
    ) -> Result<Client, ClientError> {
        let has_user = !url.username().is_empty() || url.password().is_some();
        let mut cfg = match http_config_file {
            Some(_) if has_user => return Err(ClientError::AuthConflict),
            Some(path) => load_http_config(path)?,
            None => HttpClientConfig::default(),
        };
        if has_user {
            cfg.basic_auth = Some(BasicAuth {
                username: percent_decode(url.username()),
                password: Secret::new(url.password().map(percent_decode).unwrap_or_default()),
                ..BasicAuth::default()
            });
        }
        let http =
            HttpClient::new(&cfg, "amtool").map_err(|e| ClientError::NewClient(Box::new(e)))?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .unwrap_or("localhost");
        let port = url.port().map_or_else(
            || {
                if url.host_str().is_some_and(|h| !h.is_empty()) {
                    String::new()
                } else {
                    ":9093".to_owned()
                }
            },
            |p| format!(":{p}"),
        );
        let path = url.path().trim_end_matches('/');
        let base = format!("{}://{host}{port}{path}/api/v2", url.scheme());
        Ok(Client {
            http,
            base,
            timeout,
        })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        op: &Operation,
        path: &str,
        query: &[(&str, String)],
        body: Option<Vec<u8>>,
    ) -> Result<T, ClientError> {
        let text = self.call_raw(op, path, query, body).await?;
        serde_json::from_str(&text).map_err(|e| ClientError::Decode(e.to_string()))
    }

    async fn call_raw(
        &self,
        op: &Operation,
        path: &str,
        query: &[(&str, String)],
        body: Option<Vec<u8>>,
    ) -> Result<String, ClientError> {
        let mut url = Url::parse(&format!("{}{path}", self.base))
            .map_err(|e| ClientError::Decode(e.to_string()))?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut request = self.http.request(op.method.clone(), url.clone());
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let exchange = async {
            let response = self.http.send(request).await?;
            let status = response.status();
            let text = response.text().await?;
            Ok::<_, HttpClientError>((status, text))
        };
        let (status, text) = match tokio::time::timeout(self.timeout, exchange).await {
            Err(_) => {
                return Err(ClientError::Timeout {
                    method: op.method.clone(),
                    url: Box::new(url),
                });
            }
            Ok(Err(source)) => {
                return Err(ClientError::Transport {
                    method: op.method.clone(),
                    url: Box::new(url),
                    source: Box::new(source),
                });
            }
            Ok(Ok(pair)) => pair,
        };
        if status == StatusCode::OK {
            return Ok(text);
        }
        let code = status.as_u16();
        if !op.documented.contains(&code) {
            return Err(ClientError::Unexpected {
                operation: op.name,
                code,
                body: text.trim_end().to_owned(),
            });
        }
        // Error bodies are a JSON string; getSilence's 404 has none.
        let message =
            serde_json::from_str::<String>(&text).unwrap_or_else(|_| text.trim_end().to_owned());
        Err(ClientError::Api {
            method: op.method.clone(),
            path: op.path,
            code,
            operation: format!("{}{}", op.name, status_name(code)),
            message: if op.name == "getSilence" && code == 404 {
                String::new()
            } else {
                message
            },
        })
    }

    pub async fn alerts(
        &self,
        query: &[(&str, String)],
    ) -> Result<Vec<GettableAlert>, ClientError> {
        self.call(&GET_ALERTS, "/alerts", query, None).await
    }

    pub async fn post_alerts(&self, alerts: &[PostableAlert]) -> Result<(), ClientError> {
        self.call_raw(&POST_ALERTS, "/alerts", &[], Some(to_json(alerts)?))
            .await
            .map(drop)
    }

    pub async fn silences(&self, filter: &[String]) -> Result<Vec<GettableSilence>, ClientError> {
        let query: Vec<(&str, String)> = filter.iter().map(|f| ("filter", f.clone())).collect();
        self.call(&GET_SILENCES, "/silences", &query, None).await
    }

    pub async fn silence(&self, id: &str) -> Result<GettableSilence, ClientError> {
        self.call(
            &GET_SILENCE,
            &format!("/silence/{}", path_segment(id)),
            &[],
            None,
        )
        .await
    }

    /// Creates or replaces a silence, returning its (new) ID.
    pub async fn post_silence(&self, silence: &PostableSilence) -> Result<String, ClientError> {
        let created: SilenceCreated = self
            .call(&POST_SILENCES, "/silences", &[], Some(to_json(silence)?))
            .await?;
        Ok(created.silence_id)
    }

    pub async fn expire_silence(&self, id: &str) -> Result<(), ClientError> {
        self.call_raw(
            &DELETE_SILENCE,
            &format!("/silence/{}", path_segment(id)),
            &[],
            None,
        )
        .await
        .map(drop)
    }

    pub async fn status(&self) -> Result<AlertmanagerStatus, ClientError> {
        self.call(&GET_STATUS, "/status", &[], None).await
    }
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, ClientError> {
    serde_json::to_vec(value).map_err(|e| ClientError::Decode(e.to_string()))
}

fn path_segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `--http.config.file`: upstream's HTTP client block, relative paths resolved against
/// the file's directory.
fn load_http_config(path: &str) -> Result<HttpClientConfig, ClientError> {
    let mut cfg: HttpClientConfig = pm_common::config::yaml::load_file(path)
        .map_err(|e| ClientError::HttpConfig(e.to_string()))?;
    if let Some(dir) = std::path::Path::new(path).parent() {
        cfg.set_directory(dir);
    }
    cfg.validate()
        .map_err(|e| ClientError::HttpConfig(e.to_string()))?;
    Ok(cfg)
}
