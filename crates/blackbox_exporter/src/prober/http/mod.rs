//! The http prober: one request (following redirects as configured), judged by status code,
//! HTTP version, TLS use, headers and body, with per-phase timings summed over redirects.

mod checks;
mod proxy;
mod request;
mod roundtrip;

use std::net::SocketAddr;
use std::time::Instant;

use http::StatusCode;
use http::header::LOCATION;
use url::Url;

use super::resolve::{choose_protocol, lookup};
use super::{Probe, tls};
use pm_common::config::http::ProxySelector;
use proxy::Via;
use roundtrip::{Endpoint, Route, round_trip};

/// `User-Agent` unless the module sets one; upstream sends `Blackbox-Exporter/<version>`.
fn user_agent() -> String {
    format!("Blackbox-Exporter/{}", env!("CARGO_PKG_VERSION"))
}

/// Go's client gives up after this many redirects.
const MAX_REDIRECTS: usize = 10;

const DURATION: (&str, &str) = (
    "probe_http_duration_seconds",
    "Duration of http request by phase, summed over all redirects",
);
const CEL: (&str, &str) = (
    "probe_failed_due_to_cel",
    "Indicates if probe failed due to CEL expression not matching",
);
const PHASES: [&str; 5] = ["resolve", "connect", "tls", "processing", "transfer"];

/// The final numbers, reported whatever happened.
#[derive(Debug, Default)]
struct Outcome {
    status: u16,
    content_length: f64,
    body_bytes: usize,
    redirects: usize,
    /// Upstream shows the `resolve` phase only once a resolution was attempted.
    resolve_attempted: bool,
    /// Seconds per entry of [`PHASES`], summed over hops.
    phases: [f64; 5],
}

pub async fn probe(probe: &Probe<'_>) -> bool {
    let m = probe.metrics;
    m.declare(DURATION.0, DURATION.1, &["phase"]);
    for (name, help) in GAUGES {
        m.declare(name, help, &[]);
    }
    let mut outcome = Outcome::default();
    let success = execute(probe, &mut outcome).await;
    for (i, phase) in PHASES.iter().enumerate() {
        if i > 0 || outcome.resolve_attempted {
            m.set_labelled(
                DURATION.0,
                DURATION.1,
                &["phase"],
                &[phase],
                outcome.phases[i],
            );
        }
    }
    m.set(GAUGES[0].0, GAUGES[0].1, outcome.content_length);
    m.set(GAUGES[1].0, GAUGES[1].1, outcome.body_bytes as f64);
    m.set(GAUGES[2].0, GAUGES[2].1, outcome.redirects as f64);
    m.set(GAUGES[4].0, GAUGES[4].1, f64::from(outcome.status));
    success
}

const GAUGES: [(&str, &str); 7] = [
    (
        "probe_http_content_length",
        "Length of http content response",
    ),
    (
        "probe_http_uncompressed_body_length",
        "Length of uncompressed response body",
    ),
    ("probe_http_redirects", "The number of redirects"),
    (
        "probe_http_ssl",
        "Indicates if SSL was used for the final redirect",
    ),
    ("probe_http_status_code", "Response HTTP status code"),
    (
        "probe_http_version",
        "Returns the version of HTTP of the probe response",
    ),
    (
        "probe_failed_due_to_regex",
        "Indicates if probe failed due to regex",
    ),
];

async fn execute(probe: &Probe<'_>, out: &mut Outcome) -> bool {
    let cfg = &probe.module.http;
    let lower = probe.target.to_ascii_lowercase();
    let target = if lower.starts_with("http://") || lower.starts_with("https://") {
        probe.target.to_owned()
    } else {
        format!("http://{}", probe.target)
    };
    let mut url = match Url::parse(&target) {
        Ok(url) if url.host_str().is_some() => url,
        Ok(_) => {
            probe
                .log
                .error("Could not parse target URL", &[("err", &"missing host")]);
            return false;
        }
        Err(err) => {
            probe
                .log
                .error("Could not parse target URL", &[("err", &err)]);
            return false;
        }
    };
    if cfg.probe.fail_if_body_json_matches_cel.is_some()
        || cfg.probe.fail_if_body_json_not_matches_cel.is_some()
    {
        let (name, help) = CEL;
        probe.metrics.set(name, help, 1.0);
        probe.log.error(
            "Error evaluating CEL expression",
            &[(
                "err",
                &"CEL expressions are not supported by this blackbox exporter",
            )],
        );
        return false;
    }
    let host = url.host_str().unwrap_or_default().to_owned();
    let proxies = ProxySelector::new(cfg.client.proxy());
    // Upstream resolves the target even with a proxy, unless told not to for a fixed proxy.
    let resolve = !cfg.probe.skip_resolve_phase_with_proxy
        || cfg.client.proxy_url.is_none()
        || cfg.client.proxy_from_environment;
    let mut ip = None;
    if resolve {
        out.resolve_attempted = true;
        match choose_protocol(
            probe,
            &cfg.probe.ip_protocol,
            cfg.probe.ip_protocol_fallback,
            &host,
        )
        .await
        {
            Ok((found, lookup_time)) => {
                out.phases[0] += lookup_time;
                ip = Some(found);
            }
            Err(err) => {
                probe.log.error("Error resolving address", &[("err", &err)]);
                return false;
            }
        }
    }
    let Some(mut spec) = request::RequestSpec::new(cfg, probe.log).await else {
        return false;
    };
    loop {
        let https = url.scheme() == "https";
        let port = url.port_or_known_default().unwrap_or(80);
        let hop_host = url.host_str().unwrap_or_default().to_owned();
        // The first hop goes to the resolved address; upstream writes it into the URL, so
        // the proxy decision and an absolute-form request see the IP.
        let mut dial_url = url.clone();
        if let Some(ip) = ip {
            // Cannot fail: an http(s) URL takes an IP host.
            let _ = dial_url.set_ip_host(ip);
        }
        let via = match proxies
            .proxy_for(&dial_url)
            .map(|p| Via::new(p, &cfg.client))
        {
            None => None,
            Some(Ok(via)) => Some(via),
            Some(Err(err)) => {
                probe.log.error("Error for HTTP request", &[("err", &err)]);
                return false;
            }
        };
        let route = match &via {
            Some(via) => Route::Proxy {
                via,
                authority: format!("{}:{port}", dial_url.host_str().unwrap_or_default()),
            },
            None => {
                let addr_ip = match ip.take() {
                    Some(ip) => ip,
                    None => {
                        let start = Instant::now();
                        let found = lookup(&hop_host).await;
                        out.phases[0] += start.elapsed().as_secs_f64();
                        match found.ok().and_then(|ips| ips.into_iter().next()) {
                            Some(ip) => ip,
                            None => {
                                probe.log.error(
                                    "Error for HTTP request",
                                    &[("err", &format!("lookup {hop_host}: no such host"))],
                                );
                                return false;
                            }
                        }
                    }
                };
                Route::Direct(SocketAddr::new(addr_ip, port))
            }
        };
        ip = None;
        let server_name = spec.server_name(&hop_host);
        let endpoint = Endpoint {
            route,
            https,
            server_name: &server_name,
            tls_config: &cfg.client.tls_config,
            http2: cfg.client.enable_http2,
        };
        let mut request = match spec.build(&url) {
            Ok(r) => r,
            Err(err) => {
                probe.log.error("Error creating request", &[("err", &err)]);
                return false;
            }
        };
        if let Err(err) = spec.authorize(&mut request).await {
            probe.log.error("Error for HTTP request", &[("err", &err)]);
            return false;
        }
        if !https && via.is_some() {
            // Cannot fail: the URL came from a valid `Url`.
            if let Ok(uri) = dial_url.as_str().parse() {
                *request.uri_mut() = uri;
            }
        }
        let exchange = match round_trip(&endpoint, request).await {
            Ok(exchange) => exchange,
            Err(err) => {
                probe.log.error("Error for HTTP request", &[("err", &err)]);
                return false;
            }
        };
        out.phases[1] += exchange.timings.connect;
        out.phases[2] += exchange.timings.tls;
        out.phases[3] += exchange.timings.processing;
        let status = exchange.response.status();
        let location = exchange
            .response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if let Some(location) = location.filter(|_| is_redirect(status)) {
            probe
                .log
                .info("Received redirect", &[("location", &location)]);
            out.redirects += 1;
            if out.redirects > MAX_REDIRECTS || !cfg.client.follow_redirects {
                probe.log.info("Not following redirect", &[]);
                return checks::judge(probe, exchange, out, false).await;
            }
            match url.join(&location) {
                Ok(next) => {
                    spec.redirected(status);
                    url = next;
                    continue;
                }
                Err(err) => {
                    probe.log.error("Error for HTTP request", &[("err", &err)]);
                    return false;
                }
            }
        }
        return checks::judge(probe, exchange, out, true).await;
    }
}

fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// Sets the TLS gauges for the final response.
fn record_tls(probe: &Probe<'_>, info: &tls::TlsInfo) {
    tls::record_info(probe.metrics, info);
    probe.metrics.set_labelled(
        "probe_tls_cipher_info",
        "Returns the TLS cipher negotiated during handshake",
        &["cipher"],
        &[&info.cipher],
        1.0,
    );
}
