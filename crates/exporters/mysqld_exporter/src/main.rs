//! The `mysqld_exporter` binary.

use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser as _;
use pm_mysqld_exporter::{App, Flags, router};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    pm_common::log::init(&flags.log)?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        "Starting mysqld_exporter"
    );
    let app = match App::new(&flags) {
        Ok(app) => Arc::new(app),
        Err(err) => {
            tracing::error!(file = %flags.my_cnf, %err, "Error parsing host config");
            std::process::exit(1);
        }
    };
    let routes = router(app, &flags.telemetry_path);
    pm_common::web::serve(routes, &flags.web, pm_common::web::shutdown_signal())
        .await
        .context("serving HTTP")?;
    Ok(())
}
