//! The Pushgateway: keeps the latest push of each group of metrics from batch and short-lived
//! jobs and exposes them all for Prometheus to scrape. A drop-in for prometheus/pushgateway
//! (same flags, URLs, status codes, error texts and exposition); see docs/pushgateway.md.

pub mod cli;
pub mod grouping;
pub mod metrics;
pub mod store;
pub mod web;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use jiff::Timestamp;
use tokio::sync::Notify;

pub use cli::Flags;
use metrics::OwnMetrics;
use store::persist::{self, LoadError};
use store::{OwnFamilies, Store};
use web::{AppState, RouteOptions};

/// Builds the store and router for `flags` (without touching the persistence file).
pub fn build(flags: &Flags) -> (Arc<AppState>, Router) {
    let metrics = OwnMetrics::new();
    let own = OwnFamilies::from_families(&metrics.registry.gather());
    let checked = !flags.disable_consistency_check;
    let state = Arc::new(AppState {
        store: Arc::new(Store::new(own, checked)),
        metrics,
        flags: flags.values(),
        start_time: Timestamp::now(),
        external_prefix: flags.external_path_prefix(),
        checked,
        lifecycle: flags.enable_lifecycle,
        quit: Arc::new(Notify::new()),
    });
    let options = RouteOptions {
        prefix: flags.route_prefix(),
        telemetry_path: flags.telemetry_path.clone(),
        enable_admin_api: flags.enable_admin_api,
    };
    let router = web::router(state.clone(), &options);
    (state, router)
}

/// Runs the daemon until SIGTERM/SIGINT or `/-/quit`, then writes the persistence file.
pub async fn run(flags: Flags) -> anyhow::Result<()> {
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "starting pushgateway");
    let (state, router) = build(&flags);
    let file = (!flags.persistence_file.is_empty())
        .then(|| std::path::PathBuf::from(&flags.persistence_file));
    if let Some(path) = &file {
        match persist::load(path) {
            Ok(groups) => state.store.restore(groups),
            Err(e @ LoadError::Corrupt { .. }) => {
                tracing::error!(err = %e, "could not load persisted metrics")
            }
            Err(e) => return Err(e.into()),
        }
    }
    let server = pm_common::web::Server::bind(&flags.web).await?;
    let persister = file.clone().map(|path| {
        let store = state.store.clone();
        let interval = flags.persistence_interval;
        tokio::spawn(persist_loop(store, path, interval))
    });
    let quit = state.quit.clone();
    let shutdown = async move {
        tokio::select! {
            () = pm_common::web::shutdown_signal() => {}
            () = quit.notified() => tracing::warn!("received termination request via web service, exiting gracefully..."),
        }
    };
    server.run(router, shutdown).await;
    tracing::info!("HTTP server stopped");
    if let Some(task) = persister {
        task.abort();
    }
    if let Some(path) = file {
        persist_now(&state.store, &path).await?;
        tracing::info!(file = %path.display(), "metrics persisted");
    }
    Ok(())
}

/// Writes the file whenever something changed, at most once per `interval`.
async fn persist_loop(store: Arc<Store>, path: std::path::PathBuf, interval: Duration) {
    let mut written = store.generation();
    loop {
        tokio::time::sleep(interval.max(Duration::from_millis(10))).await;
        let generation = store.generation();
        if generation == written {
            continue;
        }
        match persist_now(&store, &path).await {
            Ok(()) => {
                written = generation;
                tracing::info!(file = %path.display(), "metrics persisted");
            }
            Err(e) => tracing::error!(err = %e, "error persisting metrics"),
        }
    }
}

async fn persist_now(store: &Arc<Store>, path: &Path) -> anyhow::Result<()> {
    let store = store.clone();
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let data = persist::encode(&store.groups());
        persist::write_atomically(&path, &data)
    })
    .await??;
    Ok(())
}
