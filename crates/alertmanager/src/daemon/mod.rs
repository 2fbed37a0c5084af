//! The `alertmanager` daemon: flags, shared state, the HTTP surface around the API, reloads
//! and the background garbage collection.

pub mod alloc;
mod flags;
mod metrics;
mod muting;
mod state;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::HttpBody as _;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiff::SignedDuration;
use pm_common::web::{ReloadSignals, Server, metrics_endpoint, shutdown_signal};
use tokio::sync::Semaphore;

pub use flags::{ClusterFlags, Flags, Port9093};
pub use metrics::ServerMetrics;
pub use muting::{Muted, Muting};
pub use state::{App, AppOptions, Metrics, Runtime, StartError};

use crate::clock::SystemClock;

/// Limits applied to every request (`--web.get-concurrency`, `--web.timeout`).
#[derive(Debug)]
pub struct Limits {
    get: Semaphore,
    max_get: usize,
    timeout: Option<Duration>,
}

impl Limits {
    pub fn new(max_get: usize, timeout: Duration) -> Self {
        Limits {
            get: Semaphore::new(max_get),
            max_get,
            timeout: (!timeout.is_zero()).then_some(timeout),
        }
    }
}

/// Applies the limits and records upstream's HTTP metrics: GETs in flight and refused,
/// and latency and response size per route outside API v2 (which upstream leaves
/// uninstrumented).
async fn limit(
    State((limits, app)): State<(Arc<Limits>, Arc<App>)>,
    req: Request,
    next: Next,
) -> Response {
    let metrics = &app.server_metrics;
    let started = std::time::Instant::now();
    let method = req.method().as_str().to_ascii_lowercase();
    let handler = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .filter(|p| !p.contains("/api/v2/"));
    let get = req.method() == Method::GET;
    let _permit = if get {
        match limits.get.try_acquire() {
            Ok(p) => Some(p),
            Err(_) => {
                metrics.http_limit_exceeded.inc();
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!(
                        "Limit of concurrent GET requests reached ({}), try again later.\n",
                        limits.max_get
                    ),
                )
                    .into_response();
            }
        }
    } else {
        None
    };
    if get {
        metrics.http_in_flight.inc();
    }
    let response = match limits.timeout {
        Some(t) => tokio::time::timeout(t, next.run(req))
            .await
            .unwrap_or_else(|_| StatusCode::SERVICE_UNAVAILABLE.into_response()),
        None => next.run(req).await,
    };
    if get {
        metrics.http_in_flight.dec();
    }
    if let Some(handler) = handler {
        let labels = [handler.as_str(), method.as_str()];
        metrics
            .http_request_duration
            .with_label_values(&labels)
            .observe(metrics::seconds_since(started));
        if let Some(size) = response.body().size_hint().exact() {
            metrics
                .http_response_size
                .with_label_values(&labels)
                .observe(size as f64);
        }
    }
    response
}

/// The whole router: API v2, the web UI, `/metrics`, the health, readiness and reload
/// endpoints.
pub fn router(app: Arc<App>, prefix: &str, limits: Arc<Limits>) -> Router {
    let ok = || async { "OK" };
    let app_for_limits = Arc::clone(&app);
    let metrics = Router::new().route(
        &format!("{prefix}/metrics"),
        metrics_endpoint(Arc::clone(&app.registry)),
    );
    crate::api::router(prefix)
        .route(&format!("{prefix}/-/healthy"), get(ok).head(ok))
        .route(&format!("{prefix}/-/ready"), get(ok).head(ok))
        .route(&format!("{prefix}/-/reload"), post(reload))
        .with_state(app)
        .merge(metrics)
        .merge(crate::ui::router(prefix))
        .layer(axum::middleware::from_fn_with_state(
            (limits, app_for_limits),
            limit,
        ))
}

async fn reload(State(app): State<Arc<App>>) -> Response {
    match app.reload() {
        Ok(()) => StatusCode::OK.into_response(),
        Err(err) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed to reload config: {err}\n"),
        )
            .into_response(),
    }
}

/// Runs the daemon until SIGTERM/SIGINT.
pub async fn run(flags: Flags) -> anyhow::Result<()> {
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "Starting Alertmanager");
    if !flags.cluster.listen_address.is_empty() {
        tracing::warn!(
            "clustering is not supported yet; this instance runs alone (set --cluster.listen-address= to silence this warning)"
        );
    }
    let retention = SignedDuration::try_from(flags.retention)?;
    tracing::info!(file = %flags.config_path.display(), "Loading configuration file");
    let app = App::new(AppOptions {
        config_file: flags.config_path.clone(),
        storage_dir: Some(flags.storage_path.clone()),
        clock: Arc::new(SystemClock),
        retention,
        external_url: flags.external_url_or_default(),
    })?;
    tracing::info!(file = %flags.config_path.display(), "Completed loading of configuration file");

    let mut signals = ReloadSignals::new()?;
    let reloader = Arc::clone(&app);
    tokio::spawn(async move {
        while signals.recv().await.is_some() {
            // reload() logs the error and keeps the running config.
            let _ = reloader.reload();
        }
    });
    spawn_every(flags.alerts_gc_interval, Arc::clone(&app), |app| {
        let removed = app.alerts.gc(app.clock.now());
        tracing::debug!(removed, "alert GC done");
    });
    spawn_every(flags.maintenance_interval, Arc::clone(&app), App::maintain);
    tokio::spawn(drive_notifications(Arc::clone(&app)));

    let limits = Arc::new(Limits::new(flags.get_concurrency(), flags.web_timeout));
    let router = router(Arc::clone(&app), &flags.route_prefix(), limits);
    Server::bind(&flags.web)
        .await?
        .run(router, shutdown_signal())
        .await;
    // Nothing is lost at shutdown: the silences are written once more.
    tokio::task::spawn_blocking(move || app.maintain()).await?;
    Ok(())
}

/// Flushes aggregation groups as their timers fire. It sleeps until the earliest timer, or
/// until a sooner one is set (a new group, a reload).
async fn drive_notifications(app: Arc<App>) {
    loop {
        drop(crate::notify::start_due(&app));
        let runtime = app.runtime();
        let wait = runtime.dispatcher.next_deadline().map(|at| {
            let until = app.clock.now().duration_until(at);
            Duration::try_from(until).unwrap_or(Duration::ZERO)
        });
        let changed = runtime.dispatcher.changed();
        match wait {
            Some(wait) => {
                let _ = tokio::time::timeout(wait, changed).await;
            }
            None => changed.await,
        }
    }
}

/// Runs `task` every `period` on the blocking pool, so a long pass never holds up the
/// request workers.
fn spawn_every(period: Duration, app: Arc<App>, task: fn(&App)) {
    if period.is_zero() {
        return;
    }
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(period);
        ticker.tick().await;
        loop {
            ticker.tick().await;
            let app = Arc::clone(&app);
            // A failed pass (a panic) is logged by the runtime; the next tick tries again.
            let _ = tokio::task::spawn_blocking(move || task(&app)).await;
        }
    });
}
