use clap::Parser;
use pm_blackbox_exporter::{cli::Cli, run};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    pm_common::log::init(&cli.log)?;
    let code = run(cli).await?;
    std::process::exit(code);
}
