//! The command line: upstream's commands, flags and defaults.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use pm_common::config::Duration;
use pm_promql::ParserOptions;

use pm_common::config::http::HttpClientConfig;

use super::check::{self, ConfigLint, RulesLint};
use super::push::{self, PushOptions};
use super::query::{self, Client, Format, Query};
use super::unittest::{self, UnitTestOptions};
use super::{FAILURE, Output, lint};
use tsdb::{TsdbArgs, run_tsdb};

mod tsdb;

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
    /// Run query against a Prometheus server.
    Query(QueryArgs),
    /// Unit testing.
    Test(TestArgs),
    /// Run tsdb commands.
    Tsdb(TsdbArgs),
    /// Push to a Prometheus server.
    Push(PushArgs),
}

#[derive(Args, Debug)]
struct PushArgs {
    /// HTTP client configuration file, see details at
    /// https://prometheus.io/docs/prometheus/latest/configuration/promtool
    #[arg(long = "http.config.file", value_name = "filename")]
    http_config_file: Option<PathBuf>,
    #[command(subcommand)]
    command: PushCommand,
}

#[derive(Subcommand, Debug)]
enum PushCommand {
    /// Push metrics to a prometheus remote write (for testing purpose only).
    Metrics {
        /// Prometheus remote write url to push metrics.
        #[arg(value_name = "remote-write-url")]
        url: String,
        /// The metric files to push, default is read from standard input.
        #[arg(value_name = "metric-files")]
        files: Vec<PathBuf>,
        /// Label to attach to metrics. Can be specified multiple times.
        #[arg(long = "label", value_parser = key_value, default_value = "job=promtool")]
        labels: Vec<(String, String)>,
        /// The time to wait for pushing metrics.
        #[arg(long, value_parser = parse_go_duration, default_value = "30s")]
        timeout: std::time::Duration,
        /// Prometheus remote write header.
        #[arg(long = "header", value_parser = key_value)]
        headers: Vec<(String, String)>,
        /// Protobuf message to use when writing (prometheus.WriteRequest or
        /// io.prometheus.write.v2.Request).
        #[arg(long = "protobuf_message", default_value = "prometheus.WriteRequest")]
        protobuf_message: String,
        /// Override the default remote write API path.
        #[arg(long = "remote-write.path", default_value = "/api/v1/write")]
        api_path: String,
    },
}

#[derive(Args, Debug)]
struct TestArgs {
    #[command(subcommand)]
    command: TestCommand,
}

#[derive(Subcommand, Debug)]
enum TestCommand {
    /// Unit tests for rules.
    Rules {
        /// If set, will only run test groups whose names match the regular expression. Can be
        /// specified multiple times.
        #[arg(long)]
        run: Vec<String>,
        /// Enable unit test debugging.
        #[arg(long)]
        debug: bool,
        /// Ignore unknown fields in the rule files. This is useful when you want to extend
        /// rule files with custom metadata.
        #[arg(long)]
        ignore_unknown_fields: bool,
        /// The unit test file.
        #[arg(required = true, value_name = "test-rule-file")]
        files: Vec<PathBuf>,
    },
}

#[derive(Args, Debug)]
struct QueryArgs {
    /// Output format of the query.
    #[arg(short = 'o', long, value_enum, default_value = "promql")]
    format: Format,
    /// HTTP client configuration file, see details at
    /// https://prometheus.io/docs/prometheus/latest/configuration/promtool
    #[arg(long = "http.config.file", value_name = "filename")]
    http_config_file: Option<PathBuf>,
    #[command(subcommand)]
    command: QueryCommand,
}

#[derive(Subcommand, Debug)]
enum QueryCommand {
    /// Run instant query.
    Instant {
        /// Prometheus server to query.
        server: String,
        /// PromQL query expression.
        expr: String,
        /// Query evaluation time (RFC3339 or Unix timestamp).
        #[arg(long)]
        time: Option<String>,
        /// Extra headers to send to server.
        #[arg(long = "header", value_parser = key_value)]
        headers: Vec<(String, String)>,
    },
    /// Run range query.
    Range {
        /// Prometheus server to query.
        server: String,
        /// PromQL query expression.
        expr: String,
        /// Extra headers to send to server.
        #[arg(long = "header", value_parser = key_value)]
        headers: Vec<(String, String)>,
        /// Query range start time (RFC3339 or Unix timestamp).
        #[arg(long)]
        start: Option<String>,
        /// Query range end time (RFC3339 or Unix timestamp).
        #[arg(long)]
        end: Option<String>,
        /// Query step size (duration).
        #[arg(long, value_parser = parse_go_duration)]
        step: Option<std::time::Duration>,
    },
    /// Run series query.
    Series {
        /// Prometheus server to query.
        server: String,
        /// Series selector. Can be specified multiple times.
        #[arg(long = "match", required = true)]
        matchers: Vec<String>,
        /// Start time (RFC3339 or Unix timestamp).
        #[arg(long)]
        start: Option<String>,
        /// End time (RFC3339 or Unix timestamp).
        #[arg(long)]
        end: Option<String>,
    },
    /// Run labels query.
    Labels {
        /// Prometheus server to query.
        server: String,
        /// Label name to provide label values for.
        name: String,
        /// Start time (RFC3339 or Unix timestamp).
        #[arg(long)]
        start: Option<String>,
        /// End time (RFC3339 or Unix timestamp).
        #[arg(long)]
        end: Option<String>,
        /// Series selector. Can be specified multiple times.
        #[arg(long = "match")]
        matchers: Vec<String>,
    },
}

/// kingpin's `StringMap` entries: `name=value`.
fn key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected KEY=VALUE got '{s}'"))
}

fn parse_go_duration(s: &str) -> Result<std::time::Duration, String> {
    pm_common::config::parse_go_duration(s).map_err(|err| err.to_string())
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
        Command::Query(args) => run_query(args, o),
        Command::Test(args) => run_test(args, &cli.enable_feature, parser, o),
        Command::Tsdb(args) => run_tsdb(args, o),
        Command::Push(args) => run_push(args, o),
    }
}

fn run_push(args: PushArgs, o: &mut Output<'_>) -> std::io::Result<u8> {
    let PushCommand::Metrics {
        url,
        files,
        labels,
        timeout,
        headers,
        protobuf_message,
        api_path,
    } = args.command;
    if let Some(code) = require_existing(&files, o)? {
        return Ok(code);
    }
    let http = match http_config_flag(args.http_config_file.as_deref(), o)? {
        Ok(cfg) => cfg,
        Err(code) => return Ok(code),
    };
    let opts = PushOptions {
        url,
        api_path,
        labels: labels.into_iter().collect(),
        headers: headers.into_iter().collect(),
        timeout,
        message: protobuf_message,
        http,
        files,
    };
    push::push_metrics(o, &opts)
}

fn run_test(
    args: TestArgs,
    features: &[String],
    parser: ParserOptions,
    o: &mut Output<'_>,
) -> std::io::Result<u8> {
    match args.command {
        TestCommand::Rules {
            run,
            debug,
            ignore_unknown_fields,
            files,
        } => {
            if let Some(code) = require_existing(&files, o)? {
                return Ok(code);
            }
            let opts = UnitTestOptions {
                run,
                debug,
                ignore_unknown_fields,
                delayed_name_removal: features
                    .iter()
                    .flat_map(|f| f.split(','))
                    .any(|f| f == "promql-delayed-name-removal"),
                parser,
            };
            unittest::test_rules(o, &opts, &files)
        }
    }
}

fn run_query(args: QueryArgs, o: &mut Output<'_>) -> std::io::Result<u8> {
    let http_config = match http_config_flag(args.http_config_file.as_deref(), o)? {
        Ok(cfg) => cfg,
        Err(code) => return Ok(code),
    };
    let (server, headers, q) = match args.command {
        QueryCommand::Instant {
            server,
            expr,
            time,
            headers,
        } => (server, headers, Query::Instant { expr, time }),
        QueryCommand::Range {
            server,
            expr,
            headers,
            start,
            end,
            step,
        } => (
            server,
            headers,
            Query::Range {
                expr,
                start,
                end,
                step,
            },
        ),
        QueryCommand::Series {
            server,
            matchers,
            start,
            end,
        } => (
            server,
            Vec::new(),
            Query::Series {
                matchers,
                start,
                end,
            },
        ),
        QueryCommand::Labels {
            server,
            name,
            start,
            end,
            matchers,
        } => (
            server,
            Vec::new(),
            Query::Labels {
                name,
                matchers,
                start,
                end,
            },
        ),
    };
    let client = match Client::new(&server, http_config.as_ref(), headers) {
        Ok(client) => client,
        Err(err) => {
            writeln!(o.err, "error creating API client: {err}")?;
            return Ok(FAILURE);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(query::run(&client, q, args.format, o))
}

/// `--http.config.file`, if given: upstream's HTTP client block, relative paths against its
/// directory. A file that does not load is reported as upstream words it, and the command's
/// exit code is returned as the error.
fn http_config_flag(
    path: Option<&std::path::Path>,
    o: &mut Output<'_>,
) -> std::io::Result<Result<Option<HttpClientConfig>, u8>> {
    let Some(path) = path else {
        return Ok(Ok(None));
    };
    let load = || -> Result<HttpClientConfig, String> {
        let mut cfg: HttpClientConfig =
            pm_common::config::yaml::load_file(path).map_err(|err| err.to_string())?;
        cfg.set_directory(path.parent().unwrap_or(std::path::Path::new("")));
        cfg.validate().map_err(|err| err.to_string())?;
        Ok(cfg)
    };
    match load() {
        Ok(cfg) => Ok(Ok(Some(cfg))),
        Err(err) => {
            writeln!(
                o.err,
                "promtool: error: Failed to load HTTP config file: {err}"
            )?;
            Ok(Err(FAILURE))
        }
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
