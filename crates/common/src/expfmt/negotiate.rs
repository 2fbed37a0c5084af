//! Content negotiation on both sides of a scrape.
//!
//! Exposing side: pick a [`Format`] from the scraper's `Accept` header as prometheus/common
//! `expfmt.Negotiate`/`NegotiateIncludingOpenMetrics` do, quirks included (their `Accept` parser
//! orders clauses with a non-transitive comparison, and an `escaping=` parameter is remembered
//! from any clause seen before the matching one).
//!
//! Scraping side: build the `Accept` header from `scrape_protocols` and choose a parser from the
//! response `Content-Type`, as Prometheus 3's scrape loop and `textparse.New` do.

mod accept;
mod scrape;

pub use accept::{AcceptClause, parse_accept};
pub use scrape::{
    ContentTypeError, MediaTypeError, ParserKind, ParserSelection, ScrapeProtocol,
    ScrapeProtocolError, parse_media_type, scrape_accept_header, select_parser,
};

use super::format::{Format, FormatKind, OPENMETRICS_TYPE, TEXT_VERSION};
use crate::model::{ESCAPING_KEY, EscapingScheme};

/// The format for a client that accepts `accept` (the raw header, empty when absent), among
/// text and protobuf. This is what client_golang's default `/metrics` handler offers.
pub fn negotiate(accept: &str) -> Format {
    negotiate_among(accept, &[FormatKind::ProtoDelimited, FormatKind::Text])
}

/// As [`negotiate`], but OpenMetrics 1.0.0 and 0.0.1 are preferred when acceptable.
pub fn negotiate_including_openmetrics(accept: &str) -> Format {
    negotiate_among(
        accept,
        &[
            FormatKind::OpenMetrics1,
            FormatKind::OpenMetrics0,
            FormatKind::ProtoDelimited,
            FormatKind::Text,
        ],
    )
}

/// Walks the clauses in preference order and returns the first candidate one accepts; without a
/// match, text (or the first candidate when text is not offered).
fn negotiate_among(accept: &str, candidates: &[FormatKind]) -> Format {
    let mut escaping = EscapingScheme::default();
    for clause in parse_accept(accept) {
        if let Some(scheme) = clause.param(ESCAPING_KEY).and_then(|v| v.parse().ok()) {
            escaping = scheme;
        }
        if let Some(&kind) = candidates.iter().find(|&&k| clause_matches(&clause, k)) {
            return Format::new(kind).with_escaping(escaping);
        }
    }
    let fallback = candidates
        .iter()
        .copied()
        .find(|&k| k == FormatKind::Text)
        .or_else(|| candidates.first().copied())
        .unwrap_or(FormatKind::Text);
    Format::new(fallback).with_escaping(escaping)
}

/// The candidate's media type and the parameters a clause must repeat to select it (`charset`
/// never has to match).
fn target(
    kind: FormatKind,
) -> (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
) {
    match kind {
        FormatKind::Text => ("text", "plain", &[("version", TEXT_VERSION)]),
        FormatKind::OpenMetrics1 => ("application", "openmetrics-text", &[("version", "1.0.0")]),
        FormatKind::OpenMetrics0 => ("application", "openmetrics-text", &[("version", "0.0.1")]),
        FormatKind::ProtoDelimited => (
            "application",
            "vnd.google.protobuf",
            &[
                ("proto", "io.prometheus.client.MetricFamily"),
                ("encoding", "delimited"),
            ],
        ),
    }
}

fn clause_matches(clause: &AcceptClause, kind: FormatKind) -> bool {
    let (ty, subtype, params) = target(kind);
    if clause.media_type != "*" && clause.media_type != ty {
        return false;
    }
    if clause.subtype != "*" && clause.subtype != subtype {
        return false;
    }
    // A missing version means the oldest version of the named format; `text/*`, `*/*` or
    // `application/*` therefore never satisfy a versioned target, and a wildcard never names
    // protobuf's `proto`/`encoding`: curl's `*/*` falls through to text, as with every
    // client_golang exporter.
    let default_version = match (clause.media_type.as_str(), clause.subtype.as_str()) {
        ("text", "plain") => Some(TEXT_VERSION),
        (ty, sub) if OPENMETRICS_TYPE.split_once('/') == Some((ty, sub)) => Some("0.0.1"),
        _ => None,
    };
    params.iter().all(|&(key, want)| {
        let got = clause.param(key);
        let got = if key == "version" {
            got.filter(|v| !v.is_empty()).or(default_version)
        } else {
            got
        };
        got == Some(want)
    })
}

#[cfg(test)]
mod tests;
