//! The `/metrics` body: one collection's families, encoded once per format and shared by every
//! request of its batch, merged by name with each request's own exporter metrics.
//!
//! The result is byte for byte what encoding the sorted union of both sets would give
//! (`pm_common::metrics::render`), which is what upstream's single registry writes.

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};

use pm_common::expfmt::dto::MetricFamily;
use pm_common::expfmt::encode::{
    EncodeError, OpenMetricsOptions, escape_metric_family, finalize_openmetrics, write_openmetrics,
    write_text,
};
use pm_common::expfmt::proto::encode_delimited;
use pm_common::expfmt::{Format, FormatKind, negotiate};
use pm_common::metrics::{Registry, gather_scraped, render};

/// One collection's families, sorted and merged as a registry gathers them, with their
/// encodings made on demand.
#[derive(Debug)]
pub struct Page {
    families: Vec<MetricFamily>,
    encoded: Mutex<Vec<(Format, Arc<Encoded>)>>,
}

/// Families encoded back to back: family `i` is `bytes[ends[i - 1]..ends[i]]`.
#[derive(Debug)]
struct Encoded {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    /// Families from this index on could not be encoded (the first failure ends the body).
    failed_at: Option<usize>,
}

impl Encoded {
    fn family(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }
}

impl Page {
    /// Sorts and merges collected families as a registry's gather does.
    pub fn new(collected: Vec<MetricFamily>) -> Self {
        Self {
            families: gather_scraped(&Registry::new(), collected),
            encoded: Mutex::new(Vec::new()),
        }
    }

    pub fn families(&self) -> &[MetricFamily] {
        &self.families
    }

    /// This page plus `own` (sorted, as a registry gathers them) for a client that sent
    /// `accept`: the `Content-Type` and the body.
    pub fn render(&self, own: Vec<MetricFamily>, accept: Option<&str>) -> (String, Vec<u8>) {
        let format = negotiate(accept.unwrap_or_default());
        if self.overlaps(&own) {
            // Same-named families must be merged sample by sample: rare enough (a textfile
            // exporting `process_*`) to take the unshared path.
            let all = self.families.iter().cloned().chain(own).collect();
            return render(&gather_scraped(&Registry::new(), all), accept);
        }
        let shared = self.encoded(format);
        let mut body = Vec::with_capacity(shared.bytes.len() + 4096);
        let mut text = String::new();
        let mut own = own.iter().peekable();
        let shared_ok = shared.failed_at.unwrap_or(self.families.len());
        for (i, mf) in self.families.iter().enumerate() {
            while let Some(o) = own.next_if(|o| o.name < mf.name) {
                if !append(&mut body, &mut text, o, format) {
                    return (format.content_type(), body);
                }
            }
            if i == shared_ok {
                return (format.content_type(), body);
            }
            body.extend_from_slice(shared.family(i));
        }
        for o in own {
            if !append(&mut body, &mut text, o, format) {
                return (format.content_type(), body);
            }
        }
        if format.kind().is_openmetrics() {
            text.clear();
            finalize_openmetrics(&mut text);
            body.extend_from_slice(text.as_bytes());
        }
        (format.content_type(), body)
    }

    fn overlaps(&self, own: &[MetricFamily]) -> bool {
        own.iter().any(|o| {
            self.families
                .binary_search_by(|mf| mf.name.cmp(&o.name))
                .is_ok()
        })
    }

    fn encoded(&self, format: Format) -> Arc<Encoded> {
        let mut cache = self.encoded.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, e)) = cache.iter().find(|(f, _)| *f == format) {
            return Arc::clone(e);
        }
        let mut bytes = Vec::new();
        let mut ends = Vec::with_capacity(self.families.len());
        let mut text = String::new();
        let mut failed_at = None;
        for (i, mf) in self.families.iter().enumerate() {
            if !append(&mut bytes, &mut text, mf, format) {
                failed_at = Some(i);
                break;
            }
            ends.push(bytes.len());
        }
        let encoded = Arc::new(Encoded {
            bytes,
            ends,
            failed_at,
        });
        cache.push((format, Arc::clone(&encoded)));
        encoded
    }
}

/// Appends `mf` in `format` to `body` (through the reused `text` buffer for text formats);
/// false, logged, when it cannot be encoded, as promhttp stops there.
fn append(body: &mut Vec<u8>, text: &mut String, mf: &MetricFamily, format: Format) -> bool {
    match encode_family(body, text, mf, format) {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!(error = %e, "error encoding and sending metric family");
            false
        }
    }
}

fn encode_family(
    body: &mut Vec<u8>,
    text: &mut String,
    mf: &MetricFamily,
    format: Format,
) -> Result<(), EncodeError> {
    let mf: Cow<'_, MetricFamily> = escape_metric_family(mf, format.escaping());
    text.clear();
    match format.kind() {
        FormatKind::ProtoDelimited => {
            encode_delimited(&mf, body);
            return Ok(());
        }
        FormatKind::Text => write_text(text, &mf)?,
        FormatKind::OpenMetrics1 | FormatKind::OpenMetrics0 => {
            write_openmetrics(text, &mf, OpenMetricsOptions::default())?
        }
    }
    body.extend_from_slice(text.as_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use pm_common::expfmt::dto::MetricFamily;
    use pm_common::metrics::{ConstFamily, ConstKind};

    use super::*;

    fn family(name: &str, value: f64) -> MetricFamily {
        ConstFamily::new(name, "Help.", ConstKind::Gauge)
            .with(&[("a", "x")], value)
            .into_family()
    }

    fn reference(page: &[MetricFamily], own: &[MetricFamily], accept: &str) -> Vec<u8> {
        let all = page.iter().chain(own).cloned().collect();
        render(&gather_scraped(&Registry::new(), all), Some(accept)).1
    }

    /// Shared encodings merged with a request's own families equal one encoding of the union,
    /// in every format, whether or not names collide.
    #[test]
    fn matches_rendering_the_union() {
        let page = Page::new(vec![
            family("node_b", 2.0),
            family("node_a", 1.0),
            family("zz_textfile", 3.0),
        ]);
        let cases = [
            vec![family("process_x", 4.0), family("promhttp_y", 5.0)],
            vec![family("a_first", 6.0)],
            vec![family("node_b", 7.0)],
            Vec::new(),
        ];
        for accept in [
            "text/plain;version=0.0.4",
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited",
            "*/*",
        ] {
            for own in &cases {
                let (_, got) = page.render(own.clone(), Some(accept));
                assert_eq!(
                    got,
                    reference(page.families(), own, accept),
                    "{accept} {own:?}"
                );
            }
        }
        let (ct, body) = page.render(cases[0].clone(), Some("text/plain"));
        assert!(ct.starts_with("text/plain; version=0.0.4"));
        let text = String::from_utf8(body).unwrap();
        let names: Vec<_> = text
            .lines()
            .filter(|l| l.starts_with("# TYPE"))
            .map(|l| l.split(' ').nth(2).unwrap())
            .collect();
        assert_eq!(
            names,
            ["node_a", "node_b", "process_x", "promhttp_y", "zz_textfile"]
        );
    }

    #[test]
    fn stops_at_the_first_family_that_cannot_be_encoded() {
        let mut broken = family("node_c", 1.0);
        broken.metric[0].gauge = None;
        let page = Page::new(vec![family("node_a", 1.0), broken, family("node_d", 1.0)]);
        let (_, body) = page.render(vec![family("node_b", 2.0)], Some("text/plain"));
        let text = String::from_utf8(body).unwrap();
        assert!(text.contains("node_b{a=\"x\"} 2\n"), "{text}");
        assert!(
            !text.contains("node_c") && !text.contains("node_d"),
            "{text}"
        );
    }
}
