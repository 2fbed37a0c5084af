//! The `tsdb` commands' arguments: analyze, list, dump and create-blocks-from.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{http_config_flag, key_value, parse_go_duration, require_existing};
use crate::promtool::Output;
use crate::promtool::tsdb::{
    self, AnalyzeOptions, CreateOptions, DumpFormat, RulesBackfillOptions,
};

#[derive(Args, Debug)]
pub(super) struct TsdbArgs {
    #[command(subcommand)]
    command: TsdbCommand,
}

/// `--min-time`/`--max-time`/`--match` of both dump commands.
#[derive(Args, Debug)]
struct DumpRange {
    /// Minimum timestamp to dump, in milliseconds since the Unix epoch.
    #[arg(long, default_value_t = i64::MIN, allow_negative_numbers = true)]
    min_time: i64,
    /// Maximum timestamp to dump, in milliseconds since the Unix epoch.
    #[arg(long, default_value_t = i64::MAX, allow_negative_numbers = true)]
    max_time: i64,
    /// Series selector. Can be specified multiple times.
    #[arg(long = "match", default_value = "{__name__=~'(?s:.*)'}")]
    matchers: Vec<String>,
}

#[derive(Subcommand, Debug)]
enum TsdbCommand {
    /// Analyze churn, label pair cardinality and compaction efficiency.
    Analyze {
        /// How many items to show in each list.
        #[arg(long, default_value_t = 20, allow_negative_numbers = true)]
        limit: i64,
        /// Run extended analysis.
        #[arg(long)]
        extended: bool,
        /// Series selector to analyze. Only 1 set of matchers is supported now.
        #[arg(long = "match")]
        matcher: Option<String>,
        /// Database path (default is data/).
        #[arg(value_name = "db path", default_value = "data/")]
        path: PathBuf,
        /// Block to analyze (default is the last block).
        #[arg(value_name = "block id")]
        block_id: Option<String>,
    },
    /// List tsdb blocks.
    List {
        /// Print human readable values.
        #[arg(short = 'r', long)]
        human_readable: bool,
        /// Database path (default is data/).
        #[arg(value_name = "db path", default_value = "data/")]
        path: PathBuf,
    },
    /// Dump data (series+samples or optionally just series) from a TSDB.
    Dump {
        /// Database path (default is data/).
        #[arg(value_name = "db path", default_value = "data/")]
        path: PathBuf,
        #[command(flatten)]
        range: DumpRange,
        /// Output format of the dump (prom (default) or seriesjson).
        #[arg(long, value_enum, default_value = "prom")]
        format: DumpFormat,
    },
    /// [Experimental] Dump samples from a TSDB into OpenMetrics text format, excluding native
    /// histograms and staleness markers, which are not representable in OpenMetrics.
    DumpOpenmetrics {
        /// Database path (default is data/).
        #[arg(value_name = "db path", default_value = "data/")]
        path: PathBuf,
        #[command(flatten)]
        range: DumpRange,
    },
    /// [Experimental] Import samples from input and produce TSDB blocks. Please refer to the
    /// storage docs for more details.
    CreateBlocksFrom(CreateBlocksArgs),
}

#[derive(Args, Debug)]
struct CreateBlocksArgs {
    /// Print human readable values.
    #[arg(short = 'r', long, global = true)]
    human_readable: bool,
    /// Do not print created blocks.
    #[arg(short = 'q', long, global = true)]
    quiet: bool,
    /// Maximum duration created blocks may span. Anything less than 2h is ignored.
    #[arg(long, hide = true, global = true, value_parser = parse_go_duration)]
    max_block_duration: Option<std::time::Duration>,
    #[command(subcommand)]
    command: CreateBlocksCommand,
}

#[derive(Subcommand, Debug)]
enum CreateBlocksCommand {
    /// Import samples from OpenMetrics input and produce TSDB blocks. Please refer to the
    /// storage docs for more details.
    Openmetrics {
        /// Label to attach to metrics. Can be specified multiple times. Example
        /// --label=label_name=label_value
        #[arg(long = "label", value_parser = key_value)]
        labels: Vec<(String, String)>,
        /// OpenMetrics file to read samples from.
        #[arg(value_name = "input file")]
        input: PathBuf,
        /// Output directory for generated blocks.
        #[arg(value_name = "output directory", default_value = "data/")]
        output: PathBuf,
    },
    /// Create blocks of data for new recording rules.
    Rules(RulesBackfillArgs),
}

#[derive(Args, Debug)]
struct RulesBackfillArgs {
    /// HTTP client configuration file, see details at
    /// https://prometheus.io/docs/prometheus/latest/configuration/promtool
    #[arg(long = "http.config.file", value_name = "filename")]
    http_config_file: Option<PathBuf>,
    /// The URL for the Prometheus API with the data where the rule will be backfilled from.
    #[arg(long, default_value = "http://localhost:9090")]
    url: String,
    /// The time to start backfilling the new rule from. Must be a RFC3339 formatted date or
    /// Unix timestamp. Required.
    #[arg(long)]
    start: String,
    /// If an end time is provided, all recording rules in the rule files provided will be
    /// backfilled to the end time. Default will backfill up to 3 hours ago. Must be a RFC3339
    /// formatted date or Unix timestamp.
    #[arg(long)]
    end: Option<String>,
    /// Output directory for generated blocks.
    #[arg(long, default_value = "data/")]
    output_dir: PathBuf,
    /// How frequently to evaluate rules when backfilling if a value is not set in the
    /// recording rule files.
    #[arg(long, value_parser = parse_go_duration, default_value = "60s")]
    eval_interval: std::time::Duration,
    /// A list of one or more files containing recording rules to be backfilled. All recording
    /// rules listed in the files will be backfilled. Alerting rules are not evaluated.
    #[arg(required = true, value_name = "rule-files")]
    files: Vec<PathBuf>,
}

pub(super) fn run_tsdb(args: TsdbArgs, o: &mut Output<'_>) -> std::io::Result<u8> {
    match args.command {
        TsdbCommand::Analyze {
            limit,
            extended,
            matcher,
            path,
            block_id,
        } => {
            let opts = AnalyzeOptions {
                block_id,
                limit: usize::try_from(limit).unwrap_or(0),
                extended,
                // Upstream treats an empty selector as none.
                matcher: matcher.filter(|m| !m.is_empty()),
            };
            tsdb::analyze(o, &path, &opts)
        }
        TsdbCommand::List {
            human_readable,
            path,
        } => tsdb::list(o, &path, human_readable),
        TsdbCommand::Dump {
            path,
            range,
            format,
        } => tsdb::dump(
            o,
            &path,
            range.min_time,
            range.max_time,
            &range.matchers,
            format,
        ),
        TsdbCommand::DumpOpenmetrics { path, range } => tsdb::dump(
            o,
            &path,
            range.min_time,
            range.max_time,
            &range.matchers,
            DumpFormat::OpenMetrics,
        ),
        TsdbCommand::CreateBlocksFrom(args) => {
            let max_block_duration = args
                .max_block_duration
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
            match args.command {
                CreateBlocksCommand::Openmetrics {
                    labels,
                    input,
                    output,
                } => {
                    let opts = CreateOptions {
                        human_readable: args.human_readable,
                        quiet: args.quiet,
                        max_block_duration,
                        labels,
                    };
                    tsdb::create_from_openmetrics(o, &input, &output, &opts)
                }
                CreateBlocksCommand::Rules(rules) => {
                    run_rules_backfill(rules, max_block_duration, o)
                }
            }
        }
    }
}

fn run_rules_backfill(
    args: RulesBackfillArgs,
    max_block_duration: i64,
    o: &mut Output<'_>,
) -> std::io::Result<u8> {
    if let Some(code) = require_existing(&args.files, o)? {
        return Ok(code);
    }
    let http = match http_config_flag(args.http_config_file.as_deref(), o)? {
        Ok(cfg) => cfg,
        Err(code) => return Ok(code),
    };
    // The importer reports its progress as log lines on stderr, as upstream's does.
    let _ = pm_common::log::init(&pm_common::log::LogFlags::default());
    let opts = RulesBackfillOptions {
        url: args.url,
        http,
        start: args.start,
        end: args.end,
        output_dir: args.output_dir,
        eval_interval: args.eval_interval,
        max_block_duration,
        files: args.files,
    };
    tsdb::create_from_rules(o, &opts)
}
