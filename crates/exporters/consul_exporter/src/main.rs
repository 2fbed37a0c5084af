//! The `consul_exporter` binary.

use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser as _;
use pm_consul_exporter::{App, Flags, router};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    pm_common::log::init(&flags.log)?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        "Starting consul_exporter"
    );
    let token = std::env::var("CONSUL_HTTP_TOKEN").ok();
    let app = match App::new(&flags, token) {
        Ok(app) => Arc::new(app),
        Err(e) => {
            tracing::error!(err = %e, "Error creating the exporter");
            std::process::exit(1);
        }
    };
    let routes = router(app, &flags);
    pm_common::web::serve(routes, &flags.web, pm_common::web::shutdown_signal())
        .await
        .context("serving HTTP")?;
    Ok(())
}
