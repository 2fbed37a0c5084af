//! Proxy selection with upstream's semantics.
//!
//! A bare `proxy_url` sends every request through the proxy (Go's `http.ProxyURL`). With
//! `no_proxy` or `proxy_from_environment`, upstream goes through `httpproxy.Config`, which never
//! proxies requests to `localhost` or loopback addresses; that rule is kept here.

use std::net::IpAddr;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{NoProxy, Proxy};
use url::Url;

use super::client::HttpClientError;
use super::config::ProxyConfig;

/// The proxies for a client; empty means "connect directly".
pub(crate) fn proxies(cfg: ProxyConfig<'_>) -> Result<Vec<Proxy>, HttpClientError> {
    let proxy = if cfg.proxy_from_environment {
        from_environment()
    } else if let Some(url) = cfg.proxy_url {
        if cfg.no_proxy.is_empty() {
            Some(Proxy::all(url.clone()).map_err(HttpClientError::Proxy)?)
        } else {
            let target = url.clone();
            let proxy = Proxy::custom(move |dest| (!is_loopback(dest)).then(|| target.clone()));
            Some(proxy.no_proxy(NoProxy::from_string(cfg.no_proxy)))
        }
    } else {
        None
    };
    let Some(mut proxy) = proxy else {
        return Ok(Vec::new());
    };
    if !cfg.proxy_connect_header.is_empty() {
        proxy = proxy.headers(connect_headers(cfg)?);
    }
    Ok(vec![proxy])
}

fn connect_headers(cfg: ProxyConfig<'_>) -> Result<HeaderMap, HttpClientError> {
    let mut headers = HeaderMap::new();
    for (name, values) in cfg.proxy_connect_header {
        let header = HeaderName::try_from(name.as_str())
            .map_err(|err| HttpClientError::invalid_header(name, err))?;
        for value in values {
            let value = HeaderValue::try_from(value.expose())
                .map_err(|err| HttpClientError::invalid_header(name, err))?;
            headers.append(header.clone(), value);
        }
    }
    Ok(headers)
}

/// Go's `httpproxy.FromEnvironment`: `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY` (or their lower
/// case forms), read once when the client is built.
fn from_environment() -> Option<Proxy> {
    let lookup = |name: &str| std::env::var(name).ok();
    let http = env_proxy(lookup, "HTTP_PROXY", "http_proxy");
    let https = env_proxy(lookup, "HTTPS_PROXY", "https_proxy");
    if http.is_none() && https.is_none() {
        return None;
    }
    let proxy = Proxy::custom(move |dest| {
        if is_loopback(dest) {
            return None;
        }
        match dest.scheme() {
            "https" => https.clone(),
            "http" => http.clone(),
            _ => None,
        }
    });
    Some(proxy.no_proxy(NoProxy::from_env()))
}

/// The proxy named by the first non-empty of two variables; like Go, a value without a scheme
/// means an HTTP proxy.
fn env_proxy(lookup: impl Fn(&str) -> Option<String>, upper: &str, lower: &str) -> Option<Url> {
    let raw = [upper, lower]
        .into_iter()
        .filter_map(&lookup)
        .find(|v| !v.is_empty())?;
    Url::parse(&raw)
        .ok()
        .filter(|url| url.has_host())
        .or_else(|| Url::parse(&format!("http://{raw}")).ok())
}

fn is_loopback(url: &Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_values() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string())
            }
        };
        let url = |vars| env_proxy(env(vars), "HTTP_PROXY", "http_proxy").map(String::from);
        assert_eq!(
            url(&[("HTTP_PROXY", "proxy:3128")]),
            Some("http://proxy:3128/".into())
        );
        assert_eq!(
            url(&[("HTTP_PROXY", ""), ("http_proxy", "https://p.example")]),
            Some("https://p.example/".into())
        );
        assert_eq!(
            url(&[
                ("HTTP_PROXY", "socks5://s:1080"),
                ("http_proxy", "http://other")
            ]),
            Some("socks5://s:1080".into())
        );
        assert_eq!(url(&[("HTTPS_PROXY", "http://p")]), None);
    }

    #[test]
    fn loopback_detection() {
        for (url, want) in [
            ("http://localhost:9090/", true),
            ("http://127.0.0.1/", true),
            ("http://127.8.9.1/", true),
            ("http://[::1]:80/", true),
            ("http://example.com/", false),
            ("http://10.0.0.1/", false),
        ] {
            assert_eq!(is_loopback(&Url::parse(url).unwrap()), want, "{url}");
        }
    }
}
