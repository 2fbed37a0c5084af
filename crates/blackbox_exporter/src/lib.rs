//! The blackbox exporter: probes endpoints from the outside (HTTP, HTTPS, TCP, DNS, ICMP, gRPC)
//! on request and reports the outcome as `probe_*` metrics, as prometheus/blackbox_exporter
//! does, with the same config file, query parameters and metric names.
//!
//! * [`config`]: blackbox.yml, with upstream's defaults and validation messages;
//! * [`prober`]: the probers and the per-probe log and metrics;
//! * [`web`]: `/probe`, the history pages, `/config`, reload;
//! * [`cli`]: the flags; [`run`] wires everything for `main`.

pub mod cli;
pub mod config;
pub mod prober;
pub mod web;

use std::sync::Arc;

use pm_common::web::{ReloadSignals, Server, shutdown_signal};

/// Runs the daemon until SIGTERM/SIGINT; returns the process exit code.
pub async fn run(cli: cli::Cli) -> anyhow::Result<i32> {
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        "Starting blackbox_exporter"
    );
    let external = cli.external_url().map_err(anyhow::Error::msg)?;
    let settings = web::Settings {
        config_file: cli.config_path.clone(),
        timeout_offset: cli.timeout_offset,
        history_limit: cli.history_limit,
        prober_log_level: cli.log_prober.into(),
        route_prefix: cli.route_prefix(&external),
    };
    let app = match web::AppState::new(settings) {
        Ok(app) => app,
        Err(err) => {
            tracing::error!(err = %err, "Error loading config");
            return Ok(1);
        }
    };
    if cli.config_check {
        tracing::info!("Config file is ok exiting...");
        return Ok(0);
    }
    tracing::info!("Loaded config file");
    let mut signals = ReloadSignals::new()?;
    let reloader = Arc::clone(&app);
    tokio::spawn(async move {
        while signals.recv().await.is_some() {
            // Errors are logged by reload(); the old config stays.
            let _ = reloader.reload();
        }
    });
    // Upstream keeps the external URL's path without its trailing slash, and redirects `/`
    // there verbatim.
    let mut redirect = external.clone();
    let path = redirect.path().trim_end_matches('/').to_owned();
    redirect.set_path(&path);
    let redirect = match (redirect.query(), redirect.fragment(), path.is_empty()) {
        (None, None, true) => redirect.as_str().trim_end_matches('/').to_owned(),
        _ => redirect.to_string(),
    };
    let router = web::router(Arc::clone(&app), &redirect);
    let server = Server::bind(&cli.web).await?;
    for addr in server.local_addrs() {
        tracing::info!(address = %addr, "Listening on");
    }
    server.run(router, shutdown_signal()).await;
    Ok(0)
}
