//! The read side of upstream's fanout storage: queries see the local TSDB merged with every
//! `remote_read` endpoint of the current config.
//!
//! As upstream: local errors fail a query while a remote's become warnings; an endpoint with
//! `read_recent: false` is only asked for the time before local storage starts (the first
//! block's min time, or now when there is no block, plus a margin of two minimum block
//! durations), and not at all for queries starting after that; remotes answer no label
//! lookups (`not implemented`, a warning).

use std::sync::{Arc, PoisonError, RwLock};

use pm_common::model::Labels;
use pm_storage::{Querier, Queryable, merge::MergeQuerier};
use pm_tsdb::Db;
use tokio::runtime::Handle;

use super::client::RemoteClient;
use super::read_client::RemoteRead;
use crate::config::{Config, RemoteReadConfig};

/// One configured endpoint.
struct Endpoint {
    read: RemoteRead,
    read_recent: bool,
}

/// The `remote_read` endpoints of the current config, replaced on every reload.
pub struct RemoteReads {
    handle: Handle,
    endpoints: RwLock<Arc<Vec<Endpoint>>>,
}

impl RemoteReads {
    /// No endpoints until a config is applied; requests run on `handle`.
    pub fn new(handle: Handle) -> Self {
        RemoteReads {
            handle,
            endpoints: RwLock::new(Arc::new(Vec::new())),
        }
    }

    /// Replaces the endpoints with the config's; a bad entry fails the reload and keeps the
    /// old set.
    pub fn apply_config(&self, cfg: &Config) -> Result<(), String> {
        let external = Labels::from_pairs(cfg.global.external_labels.clone());
        let endpoints = cfg
            .remote_read
            .iter()
            .map(|rr| self.endpoint(rr, &external))
            .collect::<Result<Vec<_>, _>>()?;
        *self
            .endpoints
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(endpoints);
        Ok(())
    }

    fn endpoint(&self, rr: &RemoteReadConfig, external: &Labels) -> Result<Endpoint, String> {
        let s = &rr.settings;
        let url = s.url.as_ref().map(|u| u.0.as_str()).unwrap_or_default();
        let name = if s.name.is_empty() { url } else { &s.name };
        let client = RemoteClient::new(
            name,
            url,
            &rr.http_client,
            None,
            s.remote_timeout.as_std(),
            &s.headers,
        )?;
        Ok(Endpoint {
            read: RemoteRead {
                client,
                required_matchers: s.required_matchers.clone(),
                external: if s.filter_external_labels {
                    external.clone()
                } else {
                    Labels::default()
                },
                handle: self.handle.clone(),
            },
            read_recent: s.read_recent,
        })
    }

    fn current(&self) -> Arc<Vec<Endpoint>> {
        self.endpoints
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The remote queriers for `[mint, maxt]`; `local_start` is asked only when an endpoint
    /// defers to local storage.
    pub fn queriers(
        &self,
        mint: i64,
        maxt: i64,
        local_start: impl Fn() -> i64,
    ) -> pm_storage::Result<Vec<Box<dyn Querier>>> {
        let endpoints = self.current();
        let mut out = Vec::with_capacity(endpoints.len());
        let mut start = None;
        for e in endpoints.iter() {
            let until = if e.read_recent {
                maxt
            } else {
                let local = *start.get_or_insert_with(&local_start);
                if mint > local {
                    continue;
                }
                maxt.min(local)
            };
            out.push(e.read.querier(mint, until)?);
        }
        Ok(out)
    }
}

/// The local database merged with the remote endpoints: the queryable of the API and rules.
pub struct ReadFanout {
    pub local: Arc<Db>,
    pub remotes: Arc<RemoteReads>,
    /// Added to local storage's start time (upstream: two minimum block durations).
    pub start_margin_ms: i64,
}

impl ReadFanout {
    /// Where local storage starts, as upstream's ready storage reports it.
    fn local_start(&self) -> i64 {
        let start = self
            .local
            .blocks()
            .first()
            .map(|b| b.meta().min_time)
            .unwrap_or_else(|| jiff::Timestamp::now().as_millisecond());
        start.saturating_add(self.start_margin_ms)
    }
}

impl Queryable for ReadFanout {
    fn querier(&self, mint: i64, maxt: i64) -> pm_storage::Result<Box<dyn Querier>> {
        let primary = self.local.querier(mint, maxt)?;
        let secondaries = self.remotes.queriers(mint, maxt, || self.local_start())?;
        Ok(MergeQuerier::boxed(vec![primary], secondaries))
    }
}
