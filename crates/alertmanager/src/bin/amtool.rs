//! `amtool`, the Alertmanager command-line client.

use std::io::Write as _;

use clap::Parser as _;
use pm_alertmanager::cli::{Cli, run};

fn main() {
    let outcome = run(Cli::parse());
    let mut stdout = std::io::stdout().lock();
    // A closed pipe is not worth a panic.
    let _ = stdout.write_all(outcome.stdout.as_bytes());
    let _ = stdout.flush();
    if let Some(err) = outcome.error {
        eprintln!("amtool: error: {err}");
    }
    std::process::exit(outcome.exit_code);
}
