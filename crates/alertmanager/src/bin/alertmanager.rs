use clap::Parser as _;
use pm_alertmanager::daemon::Flags;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    pm_alertmanager::daemon::alloc::tune();
    let flags = Flags::parse();
    if let Err(e) = pm_common::log::init(&flags.log) {
        eprintln!("alertmanager: {e}");
        return std::process::ExitCode::FAILURE;
    }
    match pm_alertmanager::daemon::run(flags).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(err = %e, "alertmanager failed");
            eprintln!("alertmanager: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
