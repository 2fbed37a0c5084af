//! Where the stats come from: the CSV stats page over HTTP(S), or the `show stat` / `show info`
//! commands on HAProxy's stats socket (`unix:` path or `tcp://host:port`).

use std::path::PathBuf;
use std::time::Duration;

use pm_common::config::http::{HttpClient, HttpClientConfig, HttpClientError};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UnixStream};
use url::Url;

use crate::error::{ConfigError, FetchError};

/// The command that returns the CSV statistics.
pub const SHOW_STAT: &str = "show stat\n";
/// The command that returns the version and process information.
pub const SHOW_INFO: &str = "show info\n";

/// What one fetch returned. A body cut short by an error or the timeout still carries what
/// arrived, as upstream exports the rows it read before the failure.
#[derive(Debug, Default)]
pub struct Body {
    pub bytes: Vec<u8>,
    pub cut_short: Option<FetchError>,
}

/// The parsed `--haproxy.scrape-uri`.
#[derive(Debug)]
pub enum Source {
    Http { url: Url, client: HttpClient },
    Unix(PathBuf),
    Tcp(String),
}

impl Source {
    /// `http`, `https` and `file` URIs are fetched over HTTP (so `file` fails on every scrape,
    /// as upstream's); `unix` and `tcp` talk to the stats socket.
    pub fn new(uri: &str, ssl_verify: bool, proxy_from_env: bool) -> Result<Self, ConfigError> {
        let url = Url::parse(uri).map_err(|source| match source {
            url::ParseError::RelativeUrlWithoutBase => ConfigError::Scheme(String::new()),
            source => ConfigError::Uri {
                uri: uri.to_owned(),
                source,
            },
        })?;
        match url.scheme() {
            "http" | "https" | "file" => {
                let mut cfg = HttpClientConfig {
                    proxy_from_environment: proxy_from_env,
                    ..HttpClientConfig::default()
                };
                cfg.tls_config.insecure_skip_verify = !ssl_verify;
                let client = HttpClient::new(&cfg, "haproxy").map_err(ConfigError::Client)?;
                Ok(Source::Http { url, client })
            }
            // Only a hierarchical path names a socket; `unix:relative` has none, as in Go.
            "unix" => Ok(Source::Unix(PathBuf::from(if url.cannot_be_a_base() {
                String::new()
            } else {
                percent_decode(url.path())
            }))),
            "tcp" => {
                let host = url.host_str().unwrap_or_default();
                Ok(Source::Tcp(match url.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host.to_owned(),
                }))
            }
            other => Err(ConfigError::Scheme(other.to_owned())),
        }
    }

    /// Whether this source also answers `show info` (only the stats socket does).
    pub fn has_info(&self) -> bool {
        !matches!(self, Source::Http { .. })
    }

    /// Runs `command` (ignored over HTTP, where the page is the CSV) within `timeout`.
    pub async fn fetch(&self, command: &str, timeout: Duration) -> Result<Body, FetchError> {
        let deadline = tokio::time::Instant::now() + timeout;
        match self {
            Source::Http { url, client } => {
                let response = tokio::time::timeout_at(deadline, client.get(url.clone()))
                    .await
                    .map_err(|_| FetchError::Timeout)?
                    .map_err(|e| FetchError::Http(Box::new(e)))?;
                let status = response.status();
                if !status.is_success() {
                    return Err(FetchError::Status(status.as_u16()));
                }
                let mut body = Body::default();
                let mut response = response;
                loop {
                    match tokio::time::timeout_at(deadline, response.chunk()).await {
                        Err(_) => body.cut_short = Some(FetchError::Timeout),
                        Ok(Err(e)) => {
                            body.cut_short =
                                Some(FetchError::Http(Box::new(HttpClientError::from(e))))
                        }
                        Ok(Ok(Some(chunk))) => {
                            body.bytes.extend_from_slice(&chunk);
                            continue;
                        }
                        Ok(Ok(None)) => {}
                    }
                    return Ok(body);
                }
            }
            Source::Unix(path) => {
                let connect = UnixStream::connect(path);
                let stream = tokio::time::timeout_at(deadline, connect)
                    .await
                    .map_err(|_| FetchError::Timeout)?
                    .map_err(FetchError::Io)?;
                exchange(stream, command, deadline).await
            }
            Source::Tcp(addr) => {
                let connect = TcpStream::connect(addr.as_str());
                let stream = tokio::time::timeout_at(deadline, connect)
                    .await
                    .map_err(|_| FetchError::Timeout)?
                    .map_err(FetchError::Io)?;
                exchange(stream, command, deadline).await
            }
        }
    }
}

/// Sends one command and reads until HAProxy closes the connection.
async fn exchange<S>(
    mut stream: S,
    command: &str,
    deadline: tokio::time::Instant,
) -> Result<Body, FetchError>
where
    S: AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    tokio::time::timeout_at(deadline, stream.write_all(command.as_bytes()))
        .await
        .map_err(|_| FetchError::Timeout)?
        .map_err(FetchError::Io)?;
    let mut body = Body::default();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => body.cut_short = Some(FetchError::Timeout),
            Ok(Err(e)) => body.cut_short = Some(FetchError::Io(e)),
            Ok(Ok(0)) => {}
            Ok(Ok(n)) => {
                body.bytes.extend_from_slice(&buf[..n]);
                continue;
            }
        }
        return Ok(body);
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0)) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        assert!(matches!(
            Source::new("http://localhost/;csv", true, false),
            Ok(Source::Http { .. })
        ));
        match Source::new("unix:/run/haproxy%20admin.sock", true, false) {
            Ok(Source::Unix(p)) => assert_eq!(p, PathBuf::from("/run/haproxy admin.sock")),
            other => panic!("{other:?}"),
        }
        match Source::new("tcp://127.0.0.1:9999", true, false) {
            Ok(Source::Tcp(a)) => assert_eq!(a, "127.0.0.1:9999"),
            other => panic!("{other:?}"),
        }
        let err = Source::new("gopher://gopher.quux.org", true, false).unwrap_err();
        assert_eq!(err.to_string(), "unsupported scheme: \"gopher\"");
        let err = Source::new("", true, false).unwrap_err();
        assert_eq!(err.to_string(), "unsupported scheme: \"\"");
    }
}
