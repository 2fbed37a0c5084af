//! The `haproxy_exporter` binary.

use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser as _;
use pm_haproxy_exporter::{App, Flags, router};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    pm_common::log::init(&flags.log)?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        "Starting haproxy_exporter"
    );
    let app = match App::new(&flags) {
        Ok(app) => Arc::new(app),
        Err(e) => {
            tracing::error!(err = %e, "Error creating an exporter");
            std::process::exit(1);
        }
    };
    let routes = router(app, &flags.telemetry_path);
    pm_common::web::serve(routes, &flags.web, pm_common::web::shutdown_signal())
        .await
        .context("serving HTTP")?;
    Ok(())
}
