//! The `graphite_exporter` binary.

use clap::Parser as _;
use pm_graphite_exporter::app::{load_mapper, start};
use pm_graphite_exporter::cli::Flags;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    pm_common::log::init(&flags.log)?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        "Starting graphite_exporter"
    );
    if flags.check_config {
        if let Err(err) = load_mapper(&flags) {
            tracing::error!(%err, "Error loading metric mapping config");
            std::process::exit(1);
        }
        tracing::info!("Configuration check successful, exiting");
        return Ok(());
    }
    match start(&flags).await {
        Ok(running) => tracing::info!(graphite = %running.graphite, "Accepting samples"),
        Err(err) => {
            tracing::error!(%err, "Unable to start");
            std::process::exit(1);
        }
    }
    pm_common::web::shutdown_signal().await;
    Ok(())
}
