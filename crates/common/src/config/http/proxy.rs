//! Proxy selection with upstream's semantics.
//!
//! A bare `proxy_url` sends every request through the proxy (Go's `http.ProxyURL`). With
//! `no_proxy` or `proxy_from_environment`, upstream goes through `httpproxy.Config`: a proxy per
//! scheme, `no_proxy` rules, and never a proxy for `localhost` or loopback addresses.
//!
//! [`ProxySelector`] is public so that clients not built on reqwest (the blackbox prober) pick
//! proxies by the same rules.

use std::net::IpAddr;

use reqwest::Proxy;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use url::Url;

use super::client::HttpClientError;
use super::config::ProxyConfig;
use super::proxy_url::ProxyUrl;

/// Decides, per request URL, which proxy (if any) a request goes through.
#[derive(Debug, Clone)]
pub struct ProxySelector {
    mode: Mode,
}

#[derive(Debug, Clone)]
enum Mode {
    Direct,
    /// Every request, whatever its destination.
    All(Url),
    /// Per scheme, subject to the no-proxy rules.
    Filtered {
        http: Option<Url>,
        https: Option<Url>,
        no_proxy: NoProxy,
    },
}

/// Go dials a relative proxy URL's empty host and port, i.e. port 0 of this machine, which
/// refuses the connection; this address reproduces that failure.
const UNUSABLE_PROXY: &str = "http://127.0.0.1:0";

impl ProxySelector {
    /// The selector for `cfg`; with `proxy_from_environment` the environment is read now.
    pub fn new(cfg: ProxyConfig<'_>) -> ProxySelector {
        let lookup = |name: &str| std::env::var(name).ok();
        let mode = if cfg.proxy_from_environment {
            Mode::Filtered {
                http: env_any(lookup, "HTTP_PROXY", "http_proxy").and_then(|v| parse_proxy(&v)),
                https: env_any(lookup, "HTTPS_PROXY", "https_proxy").and_then(|v| parse_proxy(&v)),
                no_proxy: NoProxy::parse(
                    &env_any(lookup, "NO_PROXY", "no_proxy").unwrap_or_default(),
                ),
            }
        } else {
            match cfg.proxy_url {
                None => Mode::Direct,
                Some(url) if cfg.no_proxy.is_empty() => Mode::All(match url {
                    ProxyUrl::Absolute(url) => url.clone(),
                    ProxyUrl::Relative(_) => Url::parse(UNUSABLE_PROXY).expect("valid URL"),
                }),
                Some(url) => {
                    let proxy = parse_proxy(url.as_str());
                    Mode::Filtered {
                        http: proxy.clone(),
                        https: proxy,
                        no_proxy: NoProxy::parse(cfg.no_proxy),
                    }
                }
            }
        };
        ProxySelector { mode }
    }

    /// The proxy for a request to `url`, or `None` to connect directly.
    pub fn proxy_for(&self, url: &Url) -> Option<&Url> {
        match &self.mode {
            Mode::Direct => None,
            Mode::All(proxy) => Some(proxy),
            Mode::Filtered {
                http,
                https,
                no_proxy,
            } => {
                let proxy = match url.scheme() {
                    "https" => https.as_ref(),
                    "http" => http.as_ref(),
                    _ => None,
                }?;
                no_proxy.use_proxy(url).then_some(proxy)
            }
        }
    }
}

/// The proxies for a reqwest client; empty means "connect directly".
pub(crate) fn proxies(cfg: ProxyConfig<'_>) -> Result<Vec<Proxy>, HttpClientError> {
    let selector = ProxySelector::new(cfg);
    if matches!(selector.mode, Mode::Direct) {
        return Ok(Vec::new());
    }
    let mut proxy = Proxy::custom(move |url| selector.proxy_for(url).map(go_socks));
    if !cfg.proxy_connect_header.is_empty() {
        proxy = proxy.headers(connect_headers(cfg)?);
    }
    Ok(vec![proxy])
}

/// Go hands a SOCKS5 proxy the target's host name to resolve (`socks5` and `socks5h` alike);
/// reqwest resolves it locally unless the scheme is `socks5h`.
fn go_socks(proxy: &Url) -> Url {
    let mut proxy = proxy.clone();
    if proxy.scheme() == "socks5" {
        proxy
            .set_scheme("socks5h")
            .expect("both schemes are non-special");
    }
    proxy
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

/// The first non-empty of two variables (Go's `getEnvAny`).
fn env_any(lookup: impl Fn(&str) -> Option<String>, upper: &str, lower: &str) -> Option<String> {
    [upper, lower]
        .into_iter()
        .filter_map(lookup)
        .find(|v| !v.is_empty())
}

/// Go's `httpproxy.parseProxy`: a value without scheme or host is retried as `http://value`.
fn parse_proxy(raw: &str) -> Option<Url> {
    Url::parse(raw)
        .ok()
        .filter(|url| url.has_host())
        .or_else(|| Url::parse(&format!("http://{raw}")).ok())
}

/// `NO_PROXY` rules as Go's `httpproxy` reads them: `*`, CIDRs, IPs and domains, each with an
/// optional port; `example.com` also covers its subdomains, `.example.com` only them.
#[derive(Debug, Clone, Default)]
struct NoProxy {
    all: bool,
    cidrs: Vec<(IpAddr, u8)>,
    ips: Vec<(IpAddr, String)>,
    domains: Vec<DomainRule>,
}

#[derive(Debug, Clone)]
struct DomainRule {
    /// With a leading dot.
    suffix: String,
    port: String,
    match_host: bool,
}

impl NoProxy {
    fn parse(list: &str) -> NoProxy {
        let mut rules = NoProxy::default();
        for entry in list.split(',') {
            let entry = entry.trim().to_ascii_lowercase();
            if entry.is_empty() {
                continue;
            }
            if entry == "*" {
                rules.all = true;
                return rules;
            }
            if let Some(cidr) = parse_cidr(&entry) {
                rules.cidrs.push(cidr);
                continue;
            }
            let (host, port) = match split_host_port(&entry) {
                Some(("", _)) => continue,
                Some((host, port)) => (host, port),
                None => (entry.as_str(), ""),
            };
            if let Ok(ip) = host.parse::<IpAddr>() {
                rules.ips.push((ip, port.to_owned()));
                continue;
            }
            let host = host
                .strip_prefix('*')
                .filter(|h| h.starts_with('.'))
                .unwrap_or(host);
            let match_host = !host.starts_with('.');
            rules.domains.push(DomainRule {
                suffix: if match_host {
                    format!(".{host}")
                } else {
                    host.to_owned()
                },
                port: port.to_owned(),
                match_host,
            });
        }
        rules
    }

    /// Go's `useProxy` for the request's host and (explicit or default) port.
    fn use_proxy(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else {
            return true;
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let ip = host.parse::<IpAddr>().ok();
        if host == "localhost" || ip.is_some_and(|ip| ip.is_loopback()) {
            return false;
        }
        if self.all {
            return false;
        }
        let port = url
            .port_or_known_default()
            .map(|p| p.to_string())
            .unwrap_or_default();
        let port_ok = |want: &str| want.is_empty() || want == port;
        if let Some(ip) = ip {
            if self.cidrs.iter().any(|&(net, bits)| in_cidr(ip, net, bits)) {
                return false;
            }
            if self.ips.iter().any(|(want, p)| *want == ip && port_ok(p)) {
                return false;
            }
        }
        let host = host.to_ascii_lowercase();
        !self.domains.iter().any(|rule| {
            (host.ends_with(&rule.suffix) || (rule.match_host && host == rule.suffix[1..]))
                && port_ok(&rule.port)
        })
    }
}

fn parse_cidr(entry: &str) -> Option<(IpAddr, u8)> {
    let (ip, bits) = entry.split_once('/')?;
    let ip: IpAddr = ip.parse().ok()?;
    let bits: u8 = bits.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some((ip, bits))
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let (ip, net, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u128::from(a.to_bits()), u128::from(b.to_bits()), 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (a.to_bits(), b.to_bits(), 128),
        _ => return false,
    };
    let shift = width - u32::from(bits);
    shift >= width || (ip >> shift) == (net >> shift)
}

/// Go's `net.SplitHostPort` for the shapes a no-proxy entry takes: `host:port`, `[v6]:port`.
fn split_host_port(entry: &str) -> Option<(&str, &str)> {
    if let Some(rest) = entry.strip_prefix('[') {
        let (host, port) = rest.split_once("]:")?;
        return Some((host, port));
    }
    let (host, port) = entry.rsplit_once(':')?;
    (!host.contains(':')).then_some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_values_without_scheme_are_http() {
        let url = |raw| parse_proxy(raw).map(String::from);
        assert_eq!(url("proxy:3128"), Some("http://proxy:3128/".into()));
        assert_eq!(url("foo"), Some("http://foo/".into()));
        assert_eq!(url("https://p.example"), Some("https://p.example/".into()));
        assert_eq!(url("socks5://s:1080"), Some("socks5://s:1080".into()));
        let env = |name: &str| match name {
            "HTTP_PROXY" => Some(String::new()),
            "http_proxy" => Some("lower".to_owned()),
            _ => None,
        };
        assert_eq!(
            env_any(env, "HTTP_PROXY", "http_proxy").as_deref(),
            Some("lower")
        );
    }

    #[test]
    fn no_proxy_rules_follow_go() {
        let rules = NoProxy::parse(
            " Example.com, .sub.org ,*.star.net, 10.0.0.0/8, 192.0.2.7:8080, [2001:db8::1]:443, fd00::/8, bad:",
        );
        for (url, proxied) in [
            ("http://localhost:9090/", false),
            ("http://127.8.9.1/", false),
            ("http://[::1]:80/", false),
            ("http://example.com/", false),
            ("http://a.example.com/", false),
            ("http://notexample.com/", true),
            ("http://sub.org/", true),
            ("http://x.sub.org/", false),
            ("http://star.net/", true),
            ("http://y.star.net/", false),
            ("http://10.2.3.4/", false),
            ("http://11.2.3.4/", true),
            ("http://192.0.2.7:8080/", false),
            ("http://192.0.2.7/", true),
            ("https://[2001:db8::1]/", false),
            ("http://[2001:db8::1]/", true),
            ("http://[fd12::5]/", false),
            ("http://bad/", false),
        ] {
            let url = Url::parse(url).unwrap();
            assert_eq!(rules.use_proxy(&url), proxied, "{url}");
        }
        assert!(!NoProxy::parse("a.b, *").use_proxy(&Url::parse("http://x.y/").unwrap()));
    }

    #[test]
    fn selector_modes() {
        let headers = Default::default();
        let proxy = ProxyUrl::parse("http://p:3128").unwrap();
        let cfg = |no_proxy| ProxyConfig {
            proxy_url: Some(&proxy),
            no_proxy,
            proxy_from_environment: false,
            proxy_connect_header: &headers,
        };
        let local = Url::parse("http://127.0.0.1:80/").unwrap();
        let remote = Url::parse("https://192.0.2.1/").unwrap();
        let all = ProxySelector::new(cfg(""));
        assert_eq!(
            all.proxy_for(&local).map(Url::as_str),
            Some("http://p:3128/")
        );
        let filtered = ProxySelector::new(cfg("example.com"));
        assert_eq!(filtered.proxy_for(&local), None);
        assert_eq!(
            filtered.proxy_for(&remote).map(Url::as_str),
            Some("http://p:3128/")
        );

        let relative = ProxyUrl::parse("foo").unwrap();
        let cfg = ProxyConfig {
            proxy_url: Some(&relative),
            ..cfg("")
        };
        let unusable = ProxySelector::new(cfg);
        assert_eq!(
            unusable.proxy_for(&local).map(Url::as_str),
            Some("http://127.0.0.1:0/")
        );
        let retried = ProxySelector::new(ProxyConfig {
            no_proxy: "x",
            ..cfg
        });
        assert_eq!(
            retried.proxy_for(&remote).map(Url::as_str),
            Some("http://foo/")
        );
    }
}
