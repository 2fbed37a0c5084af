//! The `node_exporter` binary.

use std::sync::Arc;

use anyhow::Context as _;
use pm_node_exporter::{Exporter, router};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let settings = match pm_node_exporter::parse_from(std::env::args_os()) {
        Ok(s) => s,
        Err(e) => e.exit(),
    };
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
