//! `promtool`, with upstream's command line, output texts and exit codes, because CI
//! pipelines grep its output and branch on its exit status (0 ok, 1 failure, 3 lint problems).
//!
//! One module per command group: [`check`] (config, rules, web-config), [`lint`] (`check
//! metrics`), [`query`], [`unittest`] (`test rules`), [`tsdb`] (analyze, list, dump,
//! create-blocks-from) and [`push`] (`push metrics`). Commands write to the [`Output`] they
//! are given so tests can drive them in-process.

pub mod check;
mod cli;
pub mod lint;
pub mod push;
pub mod query;
pub mod tsdb;
pub mod unittest;

use std::io::{self, Write};
use std::process::ExitCode;

pub use cli::main;

/// Everything went well.
pub const SUCCESS: u8 = 0;
/// Something was invalid or could not be done.
pub const FAILURE: u8 = 1;
/// Only lint problems were found (upstream's `lintErrExitCode`).
pub const LINT_PROBLEMS: u8 = 3;

/// Where a command prints: results to `out`, diagnostics to `err`, as upstream splits them.
pub struct Output<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
}

impl Output<'_> {
    /// Runs `f` with the process's standard streams and turns its status into an exit code;
    /// a closed stdout (e.g. `| head`) is a failure, not a panic.
    fn run_std(f: impl FnOnce(&mut Output<'_>) -> io::Result<u8>) -> ExitCode {
        let (mut out, mut err) = (io::stdout().lock(), io::stderr().lock());
        let mut o = Output {
            out: &mut out,
            err: &mut err,
        };
        let code = f(&mut o).unwrap_or(FAILURE);
        let _ = o.out.flush();
        ExitCode::from(code)
    }
}

/// `s` as Go's `%q` prints it, as upstream quotes names and paths in messages.
fn go_quoted(s: &str) -> String {
    let mut q = String::with_capacity(s.len() + 2);
    // Writing into a String cannot fail.
    let _ = pm_common::model::write_go_quoted(&mut q, s);
    q
}

/// Writes JSON as Go's `json.Encoder` does: compact, `<`, `>` and `&` escaped, one line.
fn write_go_json(out: &mut dyn Write, text: &str) -> io::Result<()> {
    let escaped = text
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026");
    writeln!(out, "{escaped}")
}
