use clap::Parser as _;
use pm_prometheus::daemon::{self, Flags, notifier_plugins, plugins, remote, run};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let flags = Flags::parse();
    if let Err(e) = pm_common::log::init(&flags.log) {
        eprintln!("prometheus: {e}");
        return std::process::ExitCode::FAILURE;
    }
    // The rule manager sends its alerts to the notifier; its stop runs before the notifier
    // drains what is queued.
    let (notify, alerts) = match notifier_plugins(&flags) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("prometheus: registering notifier metrics: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let subsystems = plugins()
        .and(remote::plugins())
        .and(daemon::rules::plugins(Some(alerts)))
        .and(notify);
    match run(flags, subsystems).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(err = %e, "prometheus failed");
            eprintln!("prometheus: {e}");
            std::process::ExitCode::from(e.exit_code())
        }
    }
}
