//! `amtool`, the Alertmanager command-line client.

use std::io::Write as _;

use clap::Parser as _;
use pm_alertmanager::cli::{Cli, run};

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and version print as usual; a bad command line fails as upstream's does:
        // one `amtool: error:` line, an empty line and status 1.
        Err(e) if !e.use_stderr() => e.exit(),
        Err(e) => {
            let rendered = e.render().to_string();
            let first = rendered.lines().next().unwrap_or_default();
            eprintln!("amtool: {first}\n");
            std::process::exit(1);
        }
    };
    let outcome = run(cli);
    let mut stdout = std::io::stdout().lock();
    // A closed pipe is not worth a panic.
    let _ = stdout.write_all(outcome.stdout.as_bytes());
    let _ = stdout.flush();
    eprint!("{}", outcome.stderr);
    if let Some(err) = outcome.error {
        // Upstream's kingpin ends every error with an empty line.
        eprintln!("amtool: error: {err}\n");
    }
    std::process::exit(outcome.exit_code);
}
