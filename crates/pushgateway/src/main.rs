use clap::Parser as _;
use pm_pushgateway::Flags;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let flags = Flags::parse();
    if let Err(e) = pm_common::log::init(&flags.log) {
        eprintln!("pushgateway: {e}");
        return std::process::ExitCode::FAILURE;
    }
    match pm_pushgateway::run(flags).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(err = %e, "pushgateway failed");
            eprintln!("pushgateway: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
