//! The `node_exporter` binary.

use std::sync::Arc;

use anyhow::Context as _;
use pm_node_exporter::{Exporter, malloc, router};

/// One thread serves HTTP: a scrape's work is the collection, which runs on the blocking
/// pool (shared by concurrent scrapes, see `pm_node_exporter::coalesce`), and writing a
/// shared, already encoded page. Worker threads per core would only add stacks, caches and
/// wake-ups.
fn main() -> anyhow::Result<()> {
    malloc::use_one_arena();
    let settings = match pm_node_exporter::parse_from(std::env::args_os()) {
        Ok(s) => s,
        Err(e) => e.exit(),
    };
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?
        .block_on(run(settings))
}

async fn run(settings: pm_node_exporter::Settings) -> anyhow::Result<()> {
    pm_common::log::init(&settings.flags.log)?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        "Starting node_exporter"
    );
    let exporter = Arc::new(Exporter::new(&settings).context("invalid collector flags")?);
    let names: Vec<_> = exporter.node().names().collect();
    tracing::info!(collectors = %names.join(","), "Enabled collectors");
    let app = router(Arc::clone(&exporter), &settings.flags.telemetry_path);
    pm_common::web::serve(app, &settings.flags.web, pm_common::web::shutdown_signal())
        .await
        .context("serving HTTP")?;
    Ok(())
}
