use clap::Parser as _;
use pm_prometheus::daemon::{Flags, notifier_plugins, plugins, remote, run};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let flags = Flags::parse();
    if let Err(e) = pm_common::log::init(&flags.log) {
        eprintln!("prometheus: {e}");
        return std::process::ExitCode::FAILURE;
    }
    // The sink is where the rule manager will send its alerts.
    let (notify, _alerts) = match notifier_plugins(&flags) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("prometheus: registering notifier metrics: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match run(flags, plugins().and(remote::plugins()).and(notify)).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(err = %e, "prometheus failed");
            eprintln!("prometheus: {e}");
            std::process::ExitCode::from(e.exit_code())
        }
    }
}
