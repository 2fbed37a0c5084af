use clap::Parser as _;
use pm_prometheus::daemon::{self, Flags, plugins, run};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let flags = Flags::parse();
    if let Err(e) = pm_common::log::init(&flags.log) {
        eprintln!("prometheus: {e}");
        return std::process::ExitCode::FAILURE;
    }
    match run(flags, plugins().and(daemon::rules::plugins(None))).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(err = %e, "prometheus failed");
            eprintln!("prometheus: {e}");
            std::process::ExitCode::from(e.exit_code())
        }
    }
}
