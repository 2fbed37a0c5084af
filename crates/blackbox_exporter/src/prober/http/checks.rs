//! Judging the final response: status, headers, body, HTTP version and TLS.

use std::io::Read as _;

use http::HeaderMap;

use super::roundtrip::{Exchange, read_body};
use super::{GAUGES, Outcome, Probe, record_tls};
use crate::config::{HeaderMatch, HttpProbeFields};

const FAILED_DUE_TO_REGEX: (&str, &str) = GAUGES[6];

/// Applies every check to `exchange`; `completed` is false when the client stopped at a
/// redirect it would not follow (upstream then neither reads the body).
pub async fn judge(
    probe: &Probe<'_>,
    exchange: Exchange,
    out: &mut Outcome,
    completed: bool,
) -> bool {
    let cfg = &probe.module.http.probe;
    let log = probe.log;
    let m = probe.metrics;
    let Exchange {
        response,
        tls,
        timings: _,
    } = exchange;
    let (parts, body) = response.into_parts();
    let status = parts.status.as_u16();
    out.status = status;
    out.content_length = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<f64>().ok())
        .unwrap_or(-1.0);
    log.debug("Received HTTP response", &[("status_code", &status)]);
    let mut success = if !cfg.valid_status_codes.is_empty() {
        let ok = cfg.valid_status_codes.contains(&status);
        if !ok {
            log.error(
                "Invalid HTTP response status code",
                &[
                    ("status_code", &status),
                    ("valid_status_codes", &go_list(&cfg.valid_status_codes)),
                ],
            );
        }
        ok
    } else if (200..300).contains(&status) {
        true
    } else {
        log.error(
            "Invalid HTTP response status code, wanted 2xx",
            &[("status_code", &status)],
        );
        false
    };
    if success
        && (!cfg.fail_if_header_matches.is_empty() || !cfg.fail_if_header_not_matches.is_empty())
    {
        success = headers_ok(probe, &parts.headers, cfg);
        m.set(
            FAILED_DUE_TO_REGEX.0,
            FAILED_DUE_TO_REGEX.1,
            if success { 0.0 } else { 1.0 },
        );
    }
    if completed {
        let start = std::time::Instant::now();
        let raw = read_body(body).await;
        out.phases[4] += start.elapsed().as_secs_f64();
        match raw.and_then(|raw| decode(&cfg.compression, &raw)) {
            Ok(decoded) => {
                // Upstream limits only by a positive size (a negative one parses too).
                let limit = usize::try_from(cfg.body_size_limit.0).unwrap_or(0);
                let (body, over) = if limit > 0 && decoded.len() > limit {
                    (&decoded[..limit], true)
                } else {
                    (&decoded[..], false)
                };
                out.body_bytes = body.len();
                if success
                    && (!cfg.fail_if_body_matches_regexp.is_empty()
                        || !cfg.fail_if_body_not_matches_regexp.is_empty())
                {
                    success = !over && body_ok(probe, body, cfg);
                    m.set(
                        FAILED_DUE_TO_REGEX.0,
                        FAILED_DUE_TO_REGEX.1,
                        if success { 0.0 } else { 1.0 },
                    );
                }
                if over {
                    log.error(
                        "Failed to read HTTP response body",
                        &[("err", &"http: request body too large")],
                    );
                    success = false;
                }
            }
            Err(err) => {
                log.error("Failed to read HTTP response body", &[("err", &err)]);
                success = false;
            }
        }
    }
    if let Some(modified) = parts
        .headers
        .get(http::header::LAST_MODIFIED)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| jiff::fmt::rfc2822::parse(v).ok())
    {
        m.set(
            "probe_http_last_modified_timestamp_seconds",
            "Returns the Last-Modified HTTP response header in unixtime",
            modified.timestamp().as_second() as f64,
        );
    }
    let proto = format!("{:?}", parts.version);
    let version: f64 = proto.trim_start_matches("HTTP/").parse().unwrap_or(0.0);
    m.set(GAUGES[5].0, GAUGES[5].1, version);
    if !cfg.valid_http_versions.is_empty() && !cfg.valid_http_versions.contains(&proto) {
        log.error("Invalid HTTP version number", &[("version", &proto)]);
        success = false;
    }
    match &tls {
        Some(info) => {
            m.set(GAUGES[3].0, GAUGES[3].1, 1.0);
            record_tls(probe, info);
            if cfg.fail_if_ssl {
                log.error("Final request was over SSL", &[]);
                success = false;
            }
        }
        None if cfg.fail_if_not_ssl && success => {
            log.error("Final request was not over SSL", &[]);
            success = false;
        }
        None => {}
    }
    success && completed
}

/// Go's `%v` of an int slice: `[200 204]`.
fn go_list(codes: &[u16]) -> String {
    let inner: Vec<String> = codes.iter().map(u16::to_string).collect();
    format!("[{}]", inner.join(" "))
}

fn headers_ok(probe: &Probe<'_>, headers: &HeaderMap, cfg: &HttpProbeFields) -> bool {
    let values = |spec: &HeaderMatch| -> Vec<&[u8]> {
        headers
            .get_all(spec.header.as_str())
            .iter()
            .map(|v| v.as_bytes())
            .collect()
    };
    for spec in &cfg.fail_if_header_matches {
        let found = values(spec);
        if found.is_empty() {
            if !spec.allow_missing {
                probe
                    .log
                    .error("Missing required header", &[("header", &spec.header)]);
                return false;
            }
            continue;
        }
        if let Some(re) = &spec.regexp
            && found.iter().any(|v| re.is_match(v))
        {
            probe.log.error(
                "Header matched regular expression",
                &[
                    ("header", &spec.header),
                    ("regexp", &re.as_str()),
                    ("value_count", &found.len()),
                ],
            );
            return false;
        }
    }
    for spec in &cfg.fail_if_header_not_matches {
        let found = values(spec);
        if found.is_empty() {
            if !spec.allow_missing {
                probe
                    .log
                    .error("Missing required header", &[("header", &spec.header)]);
                return false;
            }
            continue;
        }
        if let Some(re) = &spec.regexp
            && !found.iter().any(|v| re.is_match(v))
        {
            probe.log.error(
                "Header did not match regular expression",
                &[
                    ("header", &spec.header),
                    ("regexp", &re.as_str()),
                    ("value_count", &found.len()),
                ],
            );
            return false;
        }
    }
    true
}

fn body_ok(probe: &Probe<'_>, body: &[u8], cfg: &HttpProbeFields) -> bool {
    for re in &cfg.fail_if_body_matches_regexp {
        if re.is_match(body) {
            probe.log.error(
                "Body matched regular expression",
                &[("regexp", &re.as_str())],
            );
            return false;
        }
    }
    for re in &cfg.fail_if_body_not_matches_regexp {
        if !re.is_match(body) {
            probe.log.error(
                "Body did not match regular expression",
                &[("regexp", &re.as_str())],
            );
            return false;
        }
    }
    true
}

/// Undoes `compression`; brotli is not available in this build and fails the probe.
fn decode(compression: &str, raw: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    match compression.to_ascii_lowercase().as_str() {
        "" | "identity" => return Ok(raw.to_vec()),
        "gzip" => flate2::read::GzDecoder::new(raw).read_to_end(&mut out),
        "deflate" => flate2::read::DeflateDecoder::new(raw).read_to_end(&mut out),
        _ => return Err("unsupported compression algorithm".to_owned()),
    }
    .map_err(|e| e.to_string())?;
    Ok(out)
}
