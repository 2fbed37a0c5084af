//! `amtool`: the command-line client, with upstream's commands, flags and output.

mod check;
mod routes;
mod tree;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::dispatch::RouteTree;

pub use check::check_files;

#[derive(Debug, Parser)]
#[command(
    name = "amtool",
    about = "View and modify the current Alertmanager state."
)]
pub struct Cli {
    /// Alertmanager to talk to.
    #[arg(long = "alertmanager.url", global = true)]
    pub alertmanager_url: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate alertmanager config files.
    #[command(name = "check-config")]
    CheckConfig {
        /// Files to be validated.
        files: Vec<String>,
    },
    /// View the configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
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
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: String,
    /// `amtool: error: ...` line content, when the command failed.
    pub error: Option<String>,
    pub exit_code: i32,
}

impl Outcome {
    fn ok(stdout: String) -> Outcome {
        Outcome {
            stdout,
            error: None,
            exit_code: 0,
        }
    }

    fn fail(stdout: String, error: String) -> Outcome {
        Outcome {
            stdout,
            error: Some(error),
            exit_code: 1,
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Outcome {
    match cli.command {
        Command::CheckConfig { files } => {
            let (out, failed) = check_files(&files);
            if failed > 0 {
                Outcome::fail(out, format!("failed to validate {failed} file(s)"))
            } else {
                Outcome::ok(out)
            }
        }
        Command::Config {
            command:
                ConfigCommand::Routes {
                    config_file,
                    command,
                },
        } => {
            let Some(path) = config_file else {
                return Outcome::fail(
                    String::new(),
                    "fetching the configuration from a running Alertmanager is not supported yet; pass --config.file".into(),
                );
            };
            let cfg = match Config::load_file(&path) {
                Ok(cfg) => cfg,
                Err(err) => return Outcome::fail(String::new(), err.to_string()),
            };
            let tree = RouteTree::new(cfg.root_route());
            match command.unwrap_or(RoutesCommand::Show) {
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
                            out.push_str(
                                "WARNING: Expected receivers did not match resolved receivers.\n",
                            );
                            Outcome {
                                stdout: out,
                                error: None,
                                exit_code: 1,
                            }
                        }
                        _ => Outcome::ok(out),
                    }
                }
            }
        }
    }
}
