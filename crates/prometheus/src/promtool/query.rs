//! `query instant|range|series|labels`: the HTTP API v1 client, printing results as
//! client_golang's model types print themselves (`--format promql`) or encode to JSON
//! (`--format json`), since scripts parse both.

mod print;

use std::time::{Duration as StdDuration, SystemTime, UNIX_EPOCH};

use pm_common::config::http::{HttpClient, HttpClientConfig};
use pm_common::expfmt::encode::float::format_f;
use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use url::Url;

use super::{FAILURE, Output, SUCCESS, go_quoted};
pub use print::{Format, print_label_values, print_series, print_value};

/// How long one API call may take, as upstream's two minutes.
const TIMEOUT: StdDuration = StdDuration::from_secs(120);

/// Why a call failed, printed after `query error: `.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The server answered with an error, or a body that is not the API's envelope;
    /// `detail` is the body of a non-API error status.
    #[error("{kind}: {message}")]
    Api {
        kind: String,
        message: String,
        detail: String,
    },
    #[error("{0}")]
    Transport(String),
}

/// The server's API root and the HTTP client (with `--http.config.file` applied).
pub struct Client {
    base: Url,
    http: HttpClient,
    headers: Vec<(String, String)>,
}

impl Client {
    /// A client for `server`; a URL without scheme is taken as `http://`.
    pub fn new(
        server: &str,
        http_config: Option<&HttpClientConfig>,
        headers: Vec<(String, String)>,
    ) -> Result<Client, String> {
        let with_scheme = if server.contains("://") {
            server.to_owned()
        } else {
            format!("http://{server}")
        };
        let base = Url::parse(&with_scheme).map_err(|err| err.to_string())?;
        let default = HttpClientConfig::default();
        let http = HttpClient::new(http_config.unwrap_or(&default), "promtool")
            .map_err(|err| err.to_string())?;
        Ok(Client {
            base,
            http,
            headers,
        })
    }

    /// `/api/v1/query_range`: the result's `data` (its `resultType` and `result`).
    pub async fn query_range(
        &self,
        expr: &str,
        start: SystemTime,
        end: SystemTime,
        step: StdDuration,
    ) -> Result<Value, ApiError> {
        let params = [
            ("query", expr.to_owned()),
            ("start", api_time(start)),
            ("end", api_time(end)),
            ("step", format_f(step.as_secs_f64())),
        ];
        self.call("api/v1/query_range", &params, true).await
    }

    fn endpoint(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        let joined = format!("{}/{}", url.path().trim_end_matches('/'), path);
        url.set_path(&joined);
        url
    }

    /// Calls `path` with `params`: as a form POST falling back to GET on 405/501 when
    /// `post` (as client_golang does for queries), else as a GET.
    async fn call(
        &self,
        path: &str,
        params: &[(&str, String)],
        post: bool,
    ) -> Result<Value, ApiError> {
        let url = self.endpoint(path);
        let mut response = self.send(Method::POST, &url, params, post).await?;
        if post
            && matches!(
                response.0,
                StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_IMPLEMENTED
            )
        {
            response = self.send(Method::GET, &url, params, false).await?;
        }
        decode(response.0, &response.1)
    }

    async fn send(
        &self,
        method: Method,
        url: &Url,
        params: &[(&str, String)],
        form: bool,
    ) -> Result<(StatusCode, Vec<u8>), ApiError> {
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        let mut request = if form {
            self.http
                .request(method, url.clone())
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(encoded)
        } else {
            let mut url = url.clone();
            url.set_query(Some(&encoded));
            self.http.request(Method::GET, url)
        }
        .timeout(TIMEOUT);
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        let transport = |err: &dyn std::fmt::Display| ApiError::Transport(err.to_string());
        let response = self.http.send(request).await.map_err(|e| transport(&e))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| transport(&e))?;
        Ok((status, body.to_vec()))
    }
}

/// client_golang's reading of a response: non-API error statuses carry the body as detail;
/// 400, 422 and 503 must hold an error envelope.
fn decode(status: StatusCode, body: &[u8]) -> Result<Value, ApiError> {
    let code = status.as_u16();
    let api_status = matches!(code, 400 | 422 | 503);
    let api = |kind: &str, message: String, detail: String| ApiError::Api {
        kind: kind.to_owned(),
        message,
        detail,
    };
    if !status.is_success() && !api_status {
        let (kind, message) = match code / 100 {
            5 => ("server_error", format!("server error: {code}")),
            4 => ("client_error", format!("client error: {code}")),
            _ => ("bad_response", format!("bad response code {code}")),
        };
        return Err(api(
            kind,
            message,
            String::from_utf8_lossy(body).into_owned(),
        ));
    }
    let envelope: Value = serde_json::from_slice(body)
        .map_err(|err| api("bad_response", err.to_string(), String::new()))?;
    let field = |name: &str| envelope.get(name).and_then(Value::as_str).unwrap_or("");
    if field("status") == "error" {
        return Err(api(
            field("errorType"),
            field("error").to_owned(),
            String::new(),
        ));
    }
    if api_status {
        return Err(api(
            "bad_response",
            "inconsistent body for response code".into(),
            String::new(),
        ));
    }
    Ok(envelope.get("data").cloned().unwrap_or(Value::Null))
}

/// Upstream's `parseTime`: Unix seconds (fractions allowed) or RFC 3339.
pub fn parse_time(s: &str) -> Result<SystemTime, String> {
    let invalid = || format!("cannot parse {} to a valid timestamp", go_quoted(s));
    if let Ok(secs) = s.parse::<f64>() {
        let nanos = (secs * 1e9) as i128;
        return Ok(from_unix_nanos(nanos));
    }
    let ts: jiff::Timestamp = s.parse().map_err(|_| invalid())?;
    Ok(from_unix_nanos(ts.as_nanosecond()))
}

fn from_unix_nanos(nanos: i128) -> SystemTime {
    if nanos >= 0 {
        UNIX_EPOCH + StdDuration::from_nanos(nanos as u64)
    } else {
        UNIX_EPOCH - StdDuration::from_nanos(nanos.unsigned_abs() as u64)
    }
}

/// A time as the API expects it: Unix seconds with the shortest fraction.
fn api_time(t: SystemTime) -> String {
    let secs = match t.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    };
    format_f(secs)
}

fn print_error(o: &mut Output<'_>, err: &ApiError) -> std::io::Result<u8> {
    match err {
        ApiError::Api { detail, .. } if !detail.trim().is_empty() => {
            writeln!(o.err, "query error: {err} (detail: {})", detail.trim())?
        }
        _ => writeln!(o.err, "query error: {err}")?,
    }
    Ok(FAILURE)
}

/// What `query` subcommand to run, with its parsed arguments.
pub enum Query {
    Instant {
        expr: String,
        time: Option<String>,
    },
    Range {
        expr: String,
        start: Option<String>,
        end: Option<String>,
        step: Option<StdDuration>,
    },
    Series {
        matchers: Vec<String>,
        start: Option<String>,
        end: Option<String>,
    },
    Labels {
        name: String,
        matchers: Vec<String>,
        start: Option<String>,
        end: Option<String>,
    },
}

/// Runs `query` against `client`, printing in `format`.
pub async fn run(
    client: &Client,
    query: Query,
    format: Format,
    o: &mut Output<'_>,
) -> std::io::Result<u8> {
    let now = SystemTime::now();
    match query {
        Query::Instant { expr, time } => {
            let at = match time.as_deref().map(parse_time).transpose() {
                Ok(t) => t.unwrap_or(now),
                Err(err) => {
                    writeln!(o.err, "error parsing evaluation time: {err}")?;
                    return Ok(FAILURE);
                }
            };
            let params = [("query", expr), ("time", api_time(at))];
            match client.call("api/v1/query", &params, true).await {
                Ok(data) => print_value(o.out, &data, format).map(|()| SUCCESS),
                Err(err) => print_error(o, &err),
            }
        }
        Query::Range {
            expr,
            start,
            end,
            step,
        } => {
            let end = match end.as_deref().map(parse_time).transpose() {
                Ok(t) => t.unwrap_or(now),
                Err(err) => {
                    writeln!(o.err, "error parsing end time: {err}")?;
                    return Ok(FAILURE);
                }
            };
            let start = match start.as_deref().map(parse_time).transpose() {
                Ok(t) => t.unwrap_or(end - StdDuration::from_secs(300)),
                Err(err) => {
                    writeln!(o.err, "error parsing start time: {err}")?;
                    return Ok(FAILURE);
                }
            };
            let Ok(span) = end
                .duration_since(start)
                .map_err(drop)
                .and_then(|d| if d.is_zero() { Err(()) } else { Ok(d) })
            else {
                writeln!(o.err, "start time is not before end time")?;
                return Ok(FAILURE);
            };
            let step = step.filter(|s| !s.is_zero()).unwrap_or_else(|| {
                StdDuration::from_secs((span.as_secs_f64() / 250.0).floor().max(1.0) as u64)
            });
            match client.query_range(&expr, start, end, step).await {
                Ok(data) => print_value(o.out, &data, format).map(|()| SUCCESS),
                Err(err) => print_error(o, &err),
            }
        }
        Query::Series {
            matchers,
            start,
            end,
        } => {
            let Some(mut params) = range_params(o, start, end, now)? else {
                return Ok(FAILURE);
            };
            params.extend(matchers.into_iter().map(|m| ("match[]", m)));
            match client.call("api/v1/series", &params, true).await {
                Ok(data) => print_series(o.out, &data, format).map(|()| SUCCESS),
                Err(err) => print_error(o, &err),
            }
        }
        Query::Labels {
            name,
            matchers,
            start,
            end,
        } => {
            let Some(mut params) = range_params(o, start, end, now)? else {
                return Ok(FAILURE);
            };
            params.extend(matchers.into_iter().map(|m| ("match[]", m)));
            let path = format!("api/v1/label/{name}/values");
            match client.call(&path, &params, false).await {
                Ok(data) => print_label_values(o.out, &data, format).map(|()| SUCCESS),
                Err(err) => print_error(o, &err),
            }
        }
    }
}

/// `start`/`end` for series and label lookups, defaulting to 9999 hours either side of now.
fn range_params(
    o: &mut Output<'_>,
    start: Option<String>,
    end: Option<String>,
    now: SystemTime,
) -> std::io::Result<Option<Vec<(&'static str, String)>>> {
    let wide = StdDuration::from_secs(9999 * 3600);
    let mut params = Vec::new();
    for (name, given, default) in [("start", start, now - wide), ("end", end, now + wide)] {
        match given.as_deref().map(parse_time).transpose() {
            Ok(t) => params.push((name, api_time(t.unwrap_or(default)))),
            Err(err) => {
                writeln!(o.err, "error parsing {name} time: {err}")?;
                return Ok(None);
            }
        }
    }
    Ok(Some(params))
}
