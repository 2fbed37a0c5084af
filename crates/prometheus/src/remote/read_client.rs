//! A `remote_read` endpoint as a [`Queryable`]: selects become `ReadRequest`s (SAMPLES), with
//! upstream's handling of `required_matchers` and external labels. Label lookups are not part
//! of the protocol: they fail with upstream's `not implemented`, which the merge with local
//! storage ([`super::read_storage`]) turns into a warning.

use std::collections::BTreeMap;

use pm_common::model::{Labels, MatchType, Matcher};
use pm_storage::{
    BoxSeriesSet, EmptySeriesSet, ErrorSeriesSet, LabelHints, LabelQuerier, ListSeries, Querier,
    Queryable, SelectHints, SeriesSample, StorageError, VecSeriesSet, Warnings,
};
use tokio::runtime::Handle;

use super::client::RemoteClient;
use super::codec::{self, AnyHistogram};
use super::prompb::{self, Query, ReadHints, ReadRequest, ReadResponse, ResponseType};

#[derive(Debug, thiserror::Error)]
enum ReadFailed {
    #[error("remote_read: {0}")]
    Request(String),
    #[error("not implemented")]
    LabelLookup,
}

/// One `remote_read` entry.
pub struct RemoteRead {
    pub client: RemoteClient,
    /// Only selects with these equality matchers go to the endpoint.
    pub required_matchers: BTreeMap<String, String>,
    /// Added to selects (and removed from results) when `filter_external_labels` is set.
    pub external: Labels,
    /// The runtime the HTTP requests run on (selects are synchronous).
    pub handle: Handle,
}

impl Queryable for RemoteRead {
    fn querier(&self, mint: i64, maxt: i64) -> pm_storage::Result<Box<dyn Querier>> {
        Ok(Box::new(RemoteQuerier {
            read: RemoteRead {
                client: self.client.clone(),
                required_matchers: self.required_matchers.clone(),
                external: self.external.clone(),
                handle: self.handle.clone(),
            },
            mint,
            maxt,
        }))
    }
}

struct RemoteQuerier {
    read: RemoteRead,
    mint: i64,
    maxt: i64,
}

impl LabelQuerier for RemoteQuerier {
    fn label_values(
        &self,
        _: &str,
        _: Option<&LabelHints>,
        _: &[Matcher],
    ) -> pm_storage::Result<(Vec<String>, Warnings)> {
        Err(StorageError::other(ReadFailed::LabelLookup))
    }

    fn label_names(
        &self,
        _: Option<&LabelHints>,
        _: &[Matcher],
    ) -> pm_storage::Result<(Vec<String>, Warnings)> {
        Err(StorageError::other(ReadFailed::LabelLookup))
    }
}

impl RemoteQuerier {
    /// Whether every required matcher is among `matchers` (as an equality matcher).
    fn required_present(&self, matchers: &[Matcher]) -> bool {
        self.read.required_matchers.iter().all(|(name, value)| {
            matchers.iter().any(|m| {
                m.match_type() == MatchType::Equal && m.name() == name && m.value() == value
            })
        })
    }

    fn request(&self, hints: Option<&SelectHints>, matchers: &[Matcher]) -> ReadRequest {
        let mut wire: Vec<prompb::LabelMatcher> =
            matchers.iter().map(codec::matcher_to_proto).collect();
        for l in &self.read.external {
            if !matchers.iter().any(|m| m.name() == l.name) {
                wire.push(prompb::LabelMatcher {
                    r#type: prompb::MatcherType::Eq as i32,
                    name: l.name.to_owned(),
                    value: l.value.to_owned(),
                });
            }
        }
        ReadRequest {
            queries: vec![Query {
                start_timestamp_ms: self.mint,
                end_timestamp_ms: self.maxt,
                matchers: wire,
                hints: hints.map(|h| ReadHints {
                    step_ms: h.step,
                    func: h.func.clone(),
                    start_ms: h.start,
                    end_ms: h.end,
                    grouping: h.grouping.clone(),
                    by: h.by,
                    range_ms: h.range,
                }),
            }],
            accepted_response_types: vec![ResponseType::Samples as i32],
        }
    }

    /// A returned series' labels without the external labels the select added.
    fn strip_external(&self, labels: Labels, matchers: &[Matcher]) -> Labels {
        let added: Vec<&str> = self
            .read
            .external
            .iter()
            .filter(|l| !matchers.iter().any(|m| m.name() == l.name))
            .filter(|l| labels.get(l.name) == Some(l.value))
            .map(|l| l.name)
            .collect();
        if added.is_empty() {
            labels
        } else {
            labels.drop_names(&added)
        }
    }
}

impl Querier for RemoteQuerier {
    fn select(
        &self,
        sort: bool,
        hints: Option<&SelectHints>,
        matchers: &[Matcher],
    ) -> BoxSeriesSet {
        if !self.required_present(matchers) {
            return Box::new(EmptySeriesSet);
        }
        let body = codec::encode(&self.request(hints, matchers));
        let client = &self.read.client;
        let handle = &self.read.handle;
        // The select is synchronous and may run on a runtime thread: the request runs on a
        // scoped thread of its own that blocks on the runtime.
        let reply = std::thread::scope(|s| {
            s.spawn(|| handle.block_on(client.read(body)))
                .join()
                .unwrap_or_else(|_| Err("remote read panicked".into()))
        });
        let resp: ReadResponse = match reply.and_then(|raw| {
            <ReadResponse as prost::Message>::decode(raw.as_slice()).map_err(|e| e.to_string())
        }) {
            Ok(r) => r,
            Err(e) => return Box::new(ErrorSeriesSet(StorageError::other(ReadFailed::Request(e)))),
        };
        let mut series: Vec<(Labels, Vec<SeriesSample>)> = resp
            .results
            .into_iter()
            .flat_map(|r| r.timeseries)
            .map(|ts| {
                let labels = self.strip_external(codec::labels_from_proto(&ts.labels), matchers);
                let mut samples: Vec<SeriesSample> = ts
                    .samples
                    .iter()
                    .map(|s| SeriesSample::float(s.timestamp, s.value))
                    .collect();
                samples.extend(ts.histograms.iter().map(|h| {
                    match codec::histogram_from_proto(h) {
                        AnyHistogram::Int(i) => SeriesSample::histogram(h.timestamp, i),
                        AnyHistogram::Float(f) => SeriesSample::float_histogram(h.timestamp, f),
                    }
                }));
                samples.sort_by_key(|s| s.t);
                (labels, samples)
            })
            .collect();
        if sort {
            series.sort_by(|a, b| a.0.cmp(&b.0));
        }
        Box::new(VecSeriesSet::new(series.into_iter().map(|(l, s)| {
            Box::new(ListSeries::new(l, s)) as pm_storage::BoxSeries
        })))
    }
}

#[cfg(test)]
#[path = "read_client_tests.rs"]
mod tests;
