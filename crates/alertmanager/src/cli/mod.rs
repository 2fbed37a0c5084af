//! `amtool`: the command-line client, with upstream's commands, flags and output.

mod alert;
mod check;
mod client;
mod format;
mod routes;
mod silence;
mod tree;
mod wire;

use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use url::Url;

use crate::config::Config;
use crate::dispatch::RouteTree;

pub use check::check_files;
pub use client::{Client, ClientError};
pub use format::{DEFAULT_DATE_FORMAT, Formatter, Output};

#[derive(Debug, Parser)]
#[command(
    name = "amtool",
    about = "View and modify the current Alertmanager state.",
    version
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalFlags,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes, as upstream's.
#[derive(Debug, Args)]
pub struct GlobalFlags {
    /// Alertmanager to talk to.
    #[arg(long = "alertmanager.url", global = true)]
    pub alertmanager_url: Option<Url>,
    /// Output formatter (simple, extended, json).
    #[arg(short, long, global = true, value_enum, default_value = "simple")]
    pub output: Output,
    /// Timeout for the executed command.
    #[arg(long, global = true, default_value = "30s", value_parser = go_duration)]
    pub timeout: Duration,
    /// HTTP client configuration file for amtool to connect to Alertmanager.
    #[arg(long = "http.config.file", global = true, value_name = "filename")]
    pub http_config_file: Option<String>,
    /// Check the Alertmanager's version (use --no-version-check to disable).
    #[arg(
        long = "version-check",
        global = true,
        overrides_with = "no_version_check"
    )]
    pub version_check: bool,
    #[arg(long = "no-version-check", global = true, hide = true)]
    pub no_version_check: bool,
    /// Format of date output.
    #[arg(long = "date.format", global = true, default_value = DEFAULT_DATE_FORMAT)]
    pub date_format: String,
    /// Verbose running information.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

fn go_duration(s: &str) -> Result<Duration, String> {
    pm_common::config::parse_go_duration(s).map_err(|e| e.to_string())
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate alertmanager config files.
    #[command(name = "check-config")]
    CheckConfig {
        /// Files to be validated (standard input when none).
        files: Vec<String>,
    },
    /// Add or query alerts.
    Alert(alert::AlertArgs),
    /// Add, expire or view silences.
    Silence(silence::SilenceArgs),
    /// View the configuration.
    Config(ConfigArgs),
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ConfigArgs {
    #[command(subcommand)]
    command: Option<ConfigCommand>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the running config (the default).
    Show,
    /// Print or test the routing tree.
    Routes {
        /// Config file to be tested.
        #[arg(long = "config.file", global = true)]
        config_file: Option<String>,
        #[command(subcommand)]
        command: Option<RoutesCommand>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RoutesCommand {
    /// Print the routing tree (the default).
    Show,
    /// Print the receivers an alert with the given labels is routed to.
    Test {
        /// Fail unless the labels route to exactly these receivers (comma-separated).
        #[arg(long = "verify.receivers")]
        verify_receivers: Option<String>,
        /// Print the matching routes as a tree.
        #[arg(long)]
        tree: bool,
        /// Labels as name=value.
        labels: Vec<String>,
    },
}

/// What a command printed and how it ended.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: String,
    /// Warnings, printed before any error.
    pub stderr: String,
    /// `amtool: error: ...` line content, when the command failed.
    pub error: Option<String>,
    pub exit_code: i32,
}

impl Outcome {
    fn ok(stdout: String) -> Outcome {
        Outcome {
            stdout,
            ..Outcome::default()
        }
    }

    fn fail(stdout: String, error: String) -> Outcome {
        Outcome {
            stdout,
            error: Some(error),
            exit_code: 1,
            ..Outcome::default()
        }
    }
}

/// State shared by the commands that talk to an Alertmanager: where output goes and how
/// it is formatted.
pub(crate) struct Session {
    pub client: Client,
    pub format: Formatter,
    pub out: String,
    pub err: String,
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Outcome {
    let Cli { global, command } = cli;
    match command {
        Command::CheckConfig { files } => check_config(files),
        Command::Config(ConfigArgs {
            command:
                Some(ConfigCommand::Routes {
                    config_file,
                    command,
                }),
        }) => routes_command(&global, config_file, command),
        Command::Config(ConfigArgs { command: None })
        | Command::Config(ConfigArgs {
            command: Some(ConfigCommand::Show),
        }) => remote(&global, |s| Box::pin(config_show(s))),
        Command::Alert(args) => remote(&global, |s| Box::pin(alert::run(s, args))),
        Command::Silence(args) => remote(&global, |s| Box::pin(silence::run(s, args))),
    }
}

type CommandFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + 'a>>;

/// Runs a command against `--alertmanager.url`, warning first (as upstream) when the
/// server's major.minor version differs from ours.
fn remote(
    global: &GlobalFlags,
    command: impl for<'a> FnOnce(&'a mut Session) -> CommandFuture<'a>,
) -> Outcome {
    let Some(url) = &global.alertmanager_url else {
        return Outcome::fail(
            String::new(),
            "required flag --alertmanager.url not provided".into(),
        );
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return Outcome::fail(String::new(), e.to_string()),
    };
    runtime.block_on(async {
        let client = match Client::new(url, global.http_config_file.as_deref(), global.timeout) {
            Ok(c) => c,
            Err(e) => return Outcome::fail(String::new(), e.to_string()),
        };
        let mut session = Session {
            client,
            format: Formatter {
                output: global.output,
                date_format: global.date_format.clone(),
            },
            out: String::new(),
            err: String::new(),
        };
        if !global.no_version_check {
            session
                .err
                .push_str(&version_warning(&session.client).await);
        }
        let result = command(&mut session).await;
        Outcome {
            exit_code: i32::from(result.is_err()),
            error: result.err(),
            stdout: session.out,
            stderr: session.err,
        }
    })
}

/// Upstream compares `major.minor`; when the server does not answer, nothing is said.
async fn version_warning(client: &Client) -> String {
    let Ok(status) = client.status().await else {
        return String::new();
    };
    let ours = env!("CARGO_PKG_VERSION");
    let theirs = &status.version_info.version;
    if major_minor(theirs) != major_minor(ours) {
        format!(
            "Warning: amtool version ({ours}) and alertmanager version ({theirs}) are different.\n"
        )
    } else {
        String::new()
    }
}

/// `1.2` of `1.2.3-rc.0`; `None` for what is not a version.
fn major_minor(v: &str) -> Option<(u64, u64)> {
    let mut parts = v.split(['.', '-', '+']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

async fn config_show(session: &mut Session) -> Result<(), String> {
    let status = session.client.status().await.map_err(|e| e.to_string())?;
    session.out.push_str(&session.format.config(&status));
    Ok(())
}

fn check_config(mut files: Vec<String>) -> Outcome {
    if files.is_empty() {
        use std::io::IsTerminal as _;
        if std::io::stdin().is_terminal() {
            return Outcome::fail(String::new(), "Failed to read from standard input".into());
        }
        files.push("/dev/stdin".into());
    }
    let (out, failed) = check_files(&files);
    if failed > 0 {
        Outcome::fail(out, format!("failed to validate {failed} file(s)"))
    } else {
        Outcome::ok(out)
    }
}

/// The config `config routes` works on: the file when given, else the running one.
fn routes_config(
    global: &GlobalFlags,
    config_file: Option<String>,
) -> Result<(Config, String), String> {
    let mut warning = String::new();
    if let Some(path) = config_file {
        if global.alertmanager_url.is_some() {
            warning.push_str("Warning: --config.file flag overrides the --alertmanager.url.\n");
        }
        return Config::load_file(&path)
            .map(|c| (c, warning))
            .map_err(|e| e.to_string());
    }
    if global.alertmanager_url.is_none() {
        return Err("You have to specify one of --config.file or --alertmanager.url flags.".into());
    }
    // The running config's text is the command's whole output.
    let outcome = remote(global, |s| {
        Box::pin(async move {
            let status = s.client.status().await.map_err(|e| e.to_string())?;
            s.out = status.config.original;
            Ok(())
        })
    });
    match outcome.error {
        Some(err) => Err(err),
        None => Config::load(&outcome.stdout, "")
            .map(|c| (c, warning + &outcome.stderr))
            .map_err(|e| e.to_string()),
    }
}

fn routes_command(
    global: &GlobalFlags,
    config_file: Option<String>,
    command: Option<RoutesCommand>,
) -> Outcome {
    let (cfg, warning) = match routes_config(global, config_file) {
        Ok(pair) => pair,
        Err(err) => return Outcome::fail(String::new(), err),
    };
    let tree = RouteTree::new(cfg.root_route());
    let mut outcome = match command.unwrap_or(RoutesCommand::Show) {
        RoutesCommand::Show => Outcome::ok(routes::show(&tree)),
        RoutesCommand::Test {
            verify_receivers,
            tree: with_tree,
            labels,
        } => {
            let labels = match routes::parse_label_args(&labels) {
                Ok(l) => l,
                Err(err) => return Outcome::fail(String::new(), err),
            };
            let (mut out, slug) = routes::test(&tree, &labels, with_tree);
            match verify_receivers {
                Some(expected) if !expected.is_empty() && expected != slug => {
                    out.push_str("WARNING: Expected receivers did not match resolved receivers.\n");
                    Outcome {
                        stdout: out,
                        exit_code: 1,
                        ..Outcome::default()
                    }
                }
                _ => Outcome::ok(out),
            }
        }
    };
    outcome.stderr.insert_str(0, &warning);
    outcome
}

/// `name=value` arguments whose first may be a bare alert name, as upstream reads the
/// matcher and label lists of `alert` and `silence` commands.
fn alertname_first(mut args: Vec<String>, accepted: impl Fn(&str) -> bool) -> Vec<String> {
    if let Some(first) = args.first_mut()
        && !accepted(first)
    {
        *first = format!("alertname={first}");
    }
    args
}

/// Go's `time.Parse(time.RFC3339, ..)`, rendered as the API wants it.
fn parse_rfc3339(s: &str) -> Result<jiff::Timestamp, String> {
    s.parse::<jiff::Timestamp>()
        .map_err(|e| format!("parsing time {s:?} as \"2006-01-02T15:04:05Z07:00\": {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_minor_ignores_patch_and_suffixes() {
        assert_eq!(major_minor("0.25.1"), Some((0, 25)));
        assert_eq!(major_minor("0.25.0-rc.1"), Some((0, 25)));
        assert_eq!(major_minor("unknown"), None);
    }

    #[test]
    fn a_bare_first_argument_is_the_alert_name() {
        let accept = |s: &str| crate::labels::parse_matcher(s).is_ok();
        assert_eq!(
            alertname_first(vec!["Foo".into(), "a=b".into()], accept),
            ["alertname=Foo", "a=b"]
        );
        assert_eq!(alertname_first(vec!["a=~b".into()], accept), ["a=~b"]);
    }
}
