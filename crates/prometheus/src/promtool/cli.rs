//! The command line: upstream's commands, flags and defaults.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use pm_common::config::Duration;
use pm_promql::ParserOptions;

use super::check::{self, ConfigLint, RulesLint};
use super::{FAILURE, Output, lint};

#[derive(Parser, Debug)]
#[command(
    name = "promtool",
    about = "Tooling for the Prometheus monitoring system.",
    version
)]
struct Cli {
    /// Enable experimental commands.
    #[arg(long, global = true)]
    experimental: bool,
    /// Comma separated feature names to enable. Valid options: promql-experimental-functions,
    /// promql-delayed-name-removal, promql-extended-range-selectors.
    #[arg(long = "enable-feature", global = true, value_name = "FEATURE")]
    enable_feature: Vec<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check the resources for validity.
    Check(CheckArgs),
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// The server's maximum query lookback duration.
    #[arg(long = "query.lookback-delta", default_value = "5m", value_parser = Duration::parse)]
    lookback_delta: Duration,
    #[command(subcommand)]
    command: CheckCommand,
}

#[derive(Subcommand, Debug)]
enum CheckCommand {
    /// Check if the config files are valid or not.
    Config {
        /// Only check the config file syntax, ignoring file and content validation referenced
        /// in the config.
        #[arg(long)]
        syntax_only: bool,
        /// Linting checks to apply to the rules/scrape configs specified in the config.
        /// Available options are: all, duplicate-rules, none, too-long-scrape-interval. Use
        /// --lint=none to disable linting.
        #[arg(long, default_value = "duplicate-rules")]
        lint: String,
        /// Make lint errors exit with exit code 3.
        #[arg(long)]
        lint_fatal: bool,
        /// Ignore unknown fields in the rule groups read by the config files.
        #[arg(long)]
        ignore_unknown_fields: bool,
        /// Check config file for Prometheus in Agent mode.
        #[arg(long)]
        agent: bool,
        /// The config files to check.
        #[arg(required = true, value_name = "config-files")]
        files: Vec<PathBuf>,
    },
    /// Check if the web config files are valid or not.
    WebConfig {
        /// The config files to check.
        #[arg(required = true, value_name = "web-config-files")]
        files: Vec<PathBuf>,
    },
    /// Check if the rule files are valid or not.
    Rules {
        /// Linting checks to apply. Available options are: all, duplicate-rules, none. Use
        /// --lint=none to disable linting.
        #[arg(long, default_value = "duplicate-rules")]
        lint: String,
        /// Make lint errors exit with exit code 3.
        #[arg(long)]
        lint_fatal: bool,
        /// Ignore unknown fields in the rule files.
        #[arg(long)]
        ignore_unknown_fields: bool,
        /// The rule files to check, default is read from standard input.
        #[arg(value_name = "rule-files")]
        files: Vec<PathBuf>,
    },
    /// Pass Prometheus metrics over stdin to lint them for consistency and correctness, and
    /// optionally perform cardinality analysis.
    Metrics {
        /// Print extended information related to the cardinality of the metrics.
        #[arg(long)]
        extended: bool,
        /// Linting checks to apply for metrics. Available options are: all, none. Use
        /// --lint=none to disable metrics linting.
        #[arg(long, default_value = "all")]
        lint: String,
    },
}

/// Parses the command line and runs the command; usage errors exit 1 as kingpin's do.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(FAILURE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    Output::run_std(|o| run(cli, o))
}

fn run(cli: Cli, o: &mut Output<'_>) -> std::io::Result<u8> {
    let parser = parser_options(&cli.enable_feature, o)?;
    match cli.command {
        Command::Check(args) => run_check(args, parser, o),
    }
}

/// The PromQL features `--enable-feature` turns on; duration expressions are always on, as in
/// upstream's promtool.
fn parser_options(features: &[String], o: &mut Output<'_>) -> std::io::Result<ParserOptions> {
    let mut options = ParserOptions {
        experimental_duration_expr: true,
        ..ParserOptions::default()
    };
    for feature in features.iter().flat_map(|f| f.split(',')) {
        match feature {
            "promql-experimental-functions" => options.enable_experimental_functions = true,
            "promql-extended-range-selectors" => options.enable_extended_range_selectors = true,
            "promql-binop-fill-modifiers" => options.enable_binop_fill_modifiers = true,
            "promql-delayed-name-removal" | "promql-duration-expr" | "" => {}
            other => write!(
                o.out,
                "  WARNING: Unknown feature passed to --enable-feature: {other}"
            )?,
        }
    }
    Ok(options)
}

fn run_check(args: CheckArgs, parser: ParserOptions, o: &mut Output<'_>) -> std::io::Result<u8> {
    match args.command {
        CheckCommand::Config {
            syntax_only,
            lint,
            lint_fatal,
            ignore_unknown_fields,
            agent,
            files,
        } => {
            if let Some(code) = require_existing(&files, o)? {
                return Ok(code);
            }
            let lint = ConfigLint::parse(
                &lint,
                lint_fatal,
                ignore_unknown_fields,
                args.lookback_delta,
                o,
            )?;
            check::check_config(o, agent, syntax_only, &lint, parser, &files)
        }
        CheckCommand::WebConfig { files } => {
            if let Some(code) = require_existing(&files, o)? {
                return Ok(code);
            }
            check::check_web_config(o, &files)
        }
        CheckCommand::Rules {
            lint,
            lint_fatal,
            ignore_unknown_fields,
            files,
        } => {
            if let Some(code) = require_existing(&files, o)? {
                return Ok(code);
            }
            let lint = RulesLint::parse(&lint, lint_fatal, ignore_unknown_fields, o)?;
            check::check_rules(o, &lint, parser, &files)
        }
        CheckCommand::Metrics { extended, lint } => lint::check_metrics(o, extended, &lint),
    }
}

/// kingpin's `ExistingFiles`: a missing argument file is a usage error.
fn require_existing(files: &[PathBuf], o: &mut Output<'_>) -> std::io::Result<Option<u8>> {
    for file in files {
        if !file.exists() {
            writeln!(
                o.err,
                "promtool: error: path '{}' does not exist, try --help",
                file.display()
            )?;
            return Ok(Some(FAILURE));
        }
    }
    Ok(None)
}
