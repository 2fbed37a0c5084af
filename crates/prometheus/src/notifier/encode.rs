//! The request body: Alertmanager's v2 `postableAlerts`, byte for byte as upstream's
//! go-swagger models marshal it (field order, omitted empties, millisecond RFC 3339 times).

use jiff::Timestamp;
use jiff::tz::Offset;

use super::Alert;
use crate::web::api::v1::json::{push_label_pairs, push_labels, push_str};

/// Go's zero `time.Time` as go-openapi's `DateTime` writes it: what upstream sends as `endsAt`
/// for an alert with no end.
const ZERO_TIME: &str = "0001-01-01T00:00:00.000Z";

/// The JSON array Alertmanager's `POST /api/v2/alerts` takes. Fields come in the order the
/// swagger model writes them: `annotations` (left out when empty), `endsAt`, `startsAt`,
/// `generatorURL` (left out when empty), `labels`.
pub fn encode_alerts(alerts: &[Alert]) -> String {
    let mut out = String::with_capacity(alerts.len() * 256 + 2);
    out.push('[');
    for (i, alert) in alerts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('{');
        if !alert.annotations.is_empty() {
            out.push_str("\"annotations\":");
            push_label_pairs(&mut out, alert.annotations.iter());
            out.push(',');
        }
        out.push_str("\"endsAt\":\"");
        match alert.ends_at {
            Some(t) => push_time(&mut out, t),
            None => out.push_str(ZERO_TIME),
        }
        out.push_str("\",\"startsAt\":\"");
        push_time(&mut out, alert.starts_at);
        out.push('"');
        if !alert.generator_url.is_empty() {
            out.push_str(",\"generatorURL\":");
            push_str(&mut out, &alert.generator_url);
        }
        out.push_str(",\"labels\":");
        push_labels(&mut out, &alert.labels);
        out.push('}');
    }
    out.push(']');
    out
}

/// `2006-01-02T15:04:05.000Z`: UTC, milliseconds truncated as Go's `Format` truncates.
fn push_time(out: &mut String, t: Timestamp) {
    let dt = Offset::UTC.to_datetime(t);
    out.push_str(&format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.subsec_nanosecond() / 1_000_000
    ));
}
