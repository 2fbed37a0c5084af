//! Kingpin's boolean flags, built at run time from tables: `--x`, `--x=false` and the
//! hidden `--no-x`, the last one given winning. Every `--collect.<name>` is one, so they
//! cannot be derive fields.

use std::collections::HashMap;

use clap::builder::BoolishValueParser;
use clap::{Arg, ArgAction, ArgMatches, Args, Command, FromArgMatches};

use crate::collectors::SPECS;

/// One boolean flag.
#[derive(Debug, Clone, Copy)]
pub struct Switch {
    pub flag: &'static str,
    pub negated: &'static str,
    pub help: &'static str,
    pub default: bool,
}

/// `--exporter.enable_lock_wait_timeout`.
pub const ENABLE_LOCK_WAIT_TIMEOUT: Switch = Switch {
    flag: "exporter.enable_lock_wait_timeout",
    negated: "no-exporter.enable_lock_wait_timeout",
    help: "Enable the lock_wait_timeout MySQL connection parameter.",
    default: true,
};

/// `--exporter.log_slow_filter`.
pub const LOG_SLOW_FILTER: Switch = Switch {
    flag: "exporter.log_slow_filter",
    negated: "no-exporter.log_slow_filter",
    help: "Add a log_slow_filter to avoid slow query logging of scrapes. NOTE: Not supported by Oracle MySQL.",
    default: false,
};

/// `--tls.insecure-skip-verify`.
pub const TLS_INSECURE_SKIP_VERIFY: Switch = Switch {
    flag: "tls.insecure-skip-verify",
    negated: "no-tls.insecure-skip-verify",
    help: "Ignore certificate and server verification when using a tls connection.",
    default: false,
};

/// `--collect.info_schema.processlist.processes_by_user`.
pub const PROCESSES_BY_USER: Switch = Switch {
    flag: "collect.info_schema.processlist.processes_by_user",
    negated: "no-collect.info_schema.processlist.processes_by_user",
    help: "Enable collecting the number of processes by user",
    default: true,
};

/// `--collect.info_schema.processlist.processes_by_host`.
pub const PROCESSES_BY_HOST: Switch = Switch {
    flag: "collect.info_schema.processlist.processes_by_host",
    negated: "no-collect.info_schema.processlist.processes_by_host",
    help: "Enable collecting the number of processes by host",
    default: true,
};

const EXPORTER: [Switch; 5] = [
    ENABLE_LOCK_WAIT_TIMEOUT,
    LOG_SLOW_FILTER,
    TLS_INSECURE_SKIP_VERIFY,
    PROCESSES_BY_USER,
    PROCESSES_BY_HOST,
];

fn all() -> impl Iterator<Item = Switch> {
    EXPORTER.into_iter().chain(SPECS.iter().map(|s| Switch {
        flag: s.flag,
        negated: s.negated,
        help: s.help,
        default: s.default,
    }))
}

/// The values of every switch, by flag name.
#[derive(Debug, Clone, Default)]
pub struct Switches(HashMap<&'static str, bool>);

impl Switches {
    /// The value of `flag` (a name from the tables), else its default.
    pub fn get(&self, switch: Switch) -> bool {
        self.0.get(switch.flag).copied().unwrap_or(switch.default)
    }

    /// `--collect.<name>` by flag name.
    pub fn flag(&self, flag: &str) -> bool {
        self.0.get(flag).copied().unwrap_or(false)
    }
}

impl FromArgMatches for Switches {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut s = Self::default();
        s.update_from_arg_matches(matches)?;
        Ok(s)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        for switch in all() {
            let value = if matches.get_flag(switch.negated) {
                false
            } else {
                matches
                    .get_one::<bool>(switch.flag)
                    .copied()
                    .unwrap_or(switch.default)
            };
            self.0.insert(switch.flag, value);
        }
        Ok(())
    }
}

impl Args for Switches {
    fn augment_args(mut cmd: Command) -> Command {
        for switch in all() {
            cmd = cmd
                .arg(
                    Arg::new(switch.flag)
                        .long(switch.flag)
                        .help(switch.help)
                        .num_args(0..=1)
                        .require_equals(true)
                        .value_name("BOOL")
                        .default_missing_value("true")
                        .value_parser(BoolishValueParser::new())
                        .action(ArgAction::Set)
                        .overrides_with_all([switch.flag, switch.negated]),
                )
                .arg(
                    Arg::new(switch.negated)
                        .long(switch.negated)
                        .action(ArgAction::SetTrue)
                        .hide(true)
                        .overrides_with_all([switch.negated, switch.flag]),
                );
        }
        cmd
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}
