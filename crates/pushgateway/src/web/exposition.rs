//! `/metrics`: the daemon's own families merged with every pushed family, by name.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::response::IntoResponse;
use http::HeaderMap;
use http::header::{ACCEPT, CONTENT_TYPE};
use pm_common::expfmt::encode::write_text;
use pm_common::expfmt::{FormatKind, dto, negotiate};
use pm_common::metrics::{RenderOptions, encode};

use super::AppState;
use crate::store::{Store, sort_metrics};

/// Upstream's handler offers text and protobuf, not OpenMetrics (which would, for instance,
/// rename pushed counters lacking `_total`), so negotiation is the same here.
pub async fn metrics(State(s): State<Arc<AppState>>, headers: HeaderMap) -> impl IntoResponse {
    let accept = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let format = negotiate(accept);
    let own = s.metrics.registry.gather();
    let body = if format.kind() == FormatKind::Text {
        text(&s.store, own)
    } else {
        encode(
            &all_families(&s.store, own),
            format,
            RenderOptions::default(),
        )
    };
    ([(CONTENT_TYPE, format.content_type())], body)
}

/// The text exposition: cached pushed families interleaved by name with freshly rendered own
/// families. A pushed family sharing a name with an own family is merged into it.
fn text(store: &Store, own: Vec<dto::MetricFamily>) -> Vec<u8> {
    let pushed = store.rendered_text();
    let mut own: BTreeMap<String, dto::MetricFamily> =
        own.into_iter().map(|f| (f.name().to_owned(), f)).collect();
    let size = pushed.iter().map(|(_, t)| t.len()).sum::<usize>();
    let mut out = String::with_capacity(size + 16 * 1024);
    let write_own = |out: &mut String, family: &dto::MetricFamily| {
        if let Err(e) = write_text(out, family) {
            tracing::warn!(error = %e, "error encoding and sending metric family");
        }
    };
    for (name, chunk) in &pushed {
        while let Some(entry) = own.first_entry().filter(|e| e.key() < name) {
            write_own(&mut out, &entry.remove());
        }
        match own.remove(name) {
            Some(mut family) => {
                if let Some(extra) = store.merged_family(name) {
                    merge_into(&mut family, extra);
                }
                write_own(&mut out, &family);
            }
            None => out.push_str(chunk),
        }
    }
    for family in own.into_values() {
        write_own(&mut out, &family);
    }
    out.into_bytes()
}

/// Own and pushed families as one list sorted by name, for the non-text formats.
fn all_families(store: &Store, own: Vec<dto::MetricFamily>) -> Vec<dto::MetricFamily> {
    let mut by_name: BTreeMap<String, dto::MetricFamily> =
        own.into_iter().map(|f| (f.name().to_owned(), f)).collect();
    for family in store.merged_families() {
        match by_name.get_mut(family.name()) {
            Some(existing) => merge_into(existing, family),
            None => {
                by_name.insert(family.name().to_owned(), family);
            }
        }
    }
    by_name.into_values().collect()
}

/// Adds pushed metrics to an own family; the own help and type stand (the consistency check
/// has refused pushes of another type).
fn merge_into(own: &mut dto::MetricFamily, pushed: dto::MetricFamily) {
    own.metric.extend(pushed.metric);
    sort_metrics(&mut own.metric);
}
