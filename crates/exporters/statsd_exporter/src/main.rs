//! The `statsd_exporter` binary.

use clap::Parser as _;
use pm_statsd_exporter::app::{load_mapper, start};
use pm_statsd_exporter::cli::Flags;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    pm_common::log::init(&flags.log)?;
    if flags.check_config {
        if let Err(err) = load_mapper(&flags) {
            tracing::error!(%err, "error loading config");
            std::process::exit(1);
        }
        tracing::info!("Configuration check successful, exiting");
        return Ok(());
    }
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        "Starting StatsD -> Prometheus Exporter"
    );
    let running = match start(&flags).await {
        Ok(running) => running,
        Err(err) => {
            tracing::error!(%err, "Unable to start");
            std::process::exit(1);
        }
    };
    tracing::info!(udp = ?running.udp, tcp = ?running.tcp, http = ?running.http, "Accepting StatsD Traffic");
    tokio::select! {
        () = pm_common::web::shutdown_signal() => tracing::info!("Received os signal, exiting"),
        () = running.quit_requested() => tracing::info!("Received lifecycle api quit, exiting"),
    }
    Ok(())
}
