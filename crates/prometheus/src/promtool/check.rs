//! `check config`, `check rules` and `check web-config`: load each file the way the server
//! would and report per file, in upstream's words.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use pm_common::config::Duration;
use pm_common::config::http::TlsConfig;
use pm_promql::ParserOptions;

use super::{FAILURE, LINT_PROBLEMS, Output, SUCCESS, go_quoted};
use crate::config::discovery::TargetGroup;
use crate::config::{self, Config, ConfigError, ScrapeConfig};
use crate::rules::rulefmt::{self, ParseOptions, RuleFileError, RuleGroups};
use pm_common::glob::glob;

/// Which rule-file lints run, and whether their findings fail the run.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RulesLint {
    pub duplicate_rules: bool,
    /// Lint findings exit with [`LINT_PROBLEMS`] instead of success.
    pub fatal: bool,
    pub ignore_unknown_fields: bool,
}

impl RulesLint {
    /// Reads a `--lint` list (`all`, `duplicate-rules`, `none`); unknown options are
    /// reported on stdout and skipped, as upstream does.
    pub fn parse(
        options: &str,
        fatal: bool,
        ignore_unknown_fields: bool,
        o: &mut Output<'_>,
    ) -> io::Result<Self> {
        let mut lint = RulesLint {
            duplicate_rules: false,
            fatal,
            ignore_unknown_fields,
        };
        for option in options.split(',').filter(|o| !o.is_empty()) {
            match option {
                "all" | "duplicate-rules" => lint.duplicate_rules = true,
                "none" => {}
                other => writeln!(o.out, "WARNING: unknown lint option: {}", go_quoted(other))?,
            }
        }
        Ok(lint)
    }
}

/// `check config` lints: the rule-file ones, plus scrape intervals at least as long as the
/// lookback delta (their series would go stale between scrapes).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConfigLint {
    pub rules: RulesLint,
    pub lookback_delta: Option<Duration>,
}

impl ConfigLint {
    /// Reads a `check config --lint` list, which adds `too-long-scrape-interval` to the rule
    /// options; `none` anywhere disables everything.
    pub fn parse(
        options: &str,
        fatal: bool,
        ignore_unknown_fields: bool,
        lookback_delta: Duration,
        o: &mut Output<'_>,
    ) -> io::Result<Self> {
        let mut rule_options = Vec::new();
        let mut interval = false;
        let mut none = false;
        for option in options.split(',') {
            match option {
                "all" => {
                    interval = true;
                    rule_options.push(option);
                }
                "too-long-scrape-interval" => interval = true,
                "none" => none = true,
                other => rule_options.push(other),
            }
        }
        if none {
            rule_options.clear();
            interval = false;
        }
        let rules = RulesLint::parse(&rule_options.join(","), fatal, ignore_unknown_fields, o)?;
        let lookback_delta = (interval && !lookback_delta.is_zero()).then_some(lookback_delta);
        Ok(ConfigLint {
            rules,
            lookback_delta,
        })
    }
}

/// What a set of checks found: `failed` includes lint findings, `errors` only real problems.
#[derive(Clone, Copy, Debug, Default)]
struct Verdict {
    failed: bool,
    errors: bool,
}

impl Verdict {
    fn merge(&mut self, other: Verdict) {
        self.failed |= other.failed;
        self.errors |= other.errors;
    }

    fn exit_code(self, fatal: bool) -> u8 {
        match self {
            Verdict { errors: true, .. } => FAILURE,
            Verdict { failed: true, .. } if fatal => LINT_PROBLEMS,
            _ => SUCCESS,
        }
    }
}

/// `promtool check config`.
pub fn check_config(
    o: &mut Output<'_>,
    agent_mode: bool,
    syntax_only: bool,
    lint: &ConfigLint,
    parser: ParserOptions,
    files: &[PathBuf],
) -> io::Result<u8> {
    let mut verdict = Verdict::default();
    for file in files {
        writeln!(o.out, "Checking {}", file.display())?;
        let checked = check_config_file(o, file, agent_mode, syntax_only)?;
        let (rule_files, scrape_configs) = match checked {
            Ok(found) => {
                if !found.0.is_empty() {
                    writeln!(o.out, "  SUCCESS: {} rule files found", found.0.len())?;
                }
                writeln!(
                    o.out,
                    " SUCCESS: {} is valid prometheus config file syntax",
                    file.display()
                )?;
                found
            }
            Err(message) => {
                writeln!(o.err, "  FAILED: {message}")?;
                verdict.merge(Verdict {
                    failed: true,
                    errors: true,
                });
                (Vec::new(), Vec::new())
            }
        };
        writeln!(o.out)?;
        if !syntax_only {
            if lint_scrape_intervals(o, &scrape_configs, lint.lookback_delta)? {
                verdict.failed = true;
            }
            verdict.merge(check_rule_files(o, &rule_files, &lint.rules, parser)?);
        }
    }
    Ok(verdict.exit_code(lint.rules.fatal))
}

type Found = (Vec<PathBuf>, Vec<ScrapeConfig>);

/// Loads one config and checks the files it refers to; the error is the line upstream prints
/// after `FAILED:`. Warnings (missing `file_sd` files) go to stdout as they are found.
fn check_config_file(
    o: &mut Output<'_>,
    file: &Path,
    agent_mode: bool,
    syntax_only: bool,
) -> io::Result<Result<Found, String>> {
    let cfg = match config::load_file(file, agent_mode) {
        Ok(cfg) => cfg,
        Err(
            err @ (ConfigError::ScrapeConfigGlob { .. } | ConfigError::ScrapeConfigFile { .. }),
        ) if !syntax_only => return Ok(Err(format!("error loading scrape configs: {err}"))),
        Err(err) => return Ok(Err(err.to_string())),
    };
    let rule_files = if syntax_only {
        Vec::new()
    } else {
        match resolve_rule_files(&cfg) {
            Ok(files) => files,
            Err(message) => return Ok(Err(message)),
        }
    };
    let scrape_configs: Vec<ScrapeConfig> = if syntax_only {
        cfg.scrape_configs.clone()
    } else {
        cfg.all_scrape_configs().cloned().collect()
    };
    for job in &scrape_configs {
        if let Err(message) = check_scrape_config(o, job, syntax_only)? {
            return Ok(Err(message));
        }
    }
    if !syntax_only {
        for am in &cfg.alerting.alertmanagers {
            for sd in &am.service_discovery.file_sd_configs {
                for pattern in &sd.files {
                    if let Err(message) = check_sd_files(o, pattern, "alertmanager config")? {
                        return Ok(Err(message));
                    }
                }
            }
        }
    }
    Ok(Ok((rule_files, scrape_configs)))
}

/// The rule files `cfg` names; a name without `*` must exist.
fn resolve_rule_files(cfg: &Config) -> Result<Vec<PathBuf>, String> {
    let mut files = Vec::new();
    for pattern in &cfg.rule_files {
        let matched: Vec<PathBuf> = glob(pattern)
            .map_err(|e| e.to_string())?
            .into_iter()
            .map(PathBuf::from)
            .collect();
        if !pattern.contains('*') {
            let Some(first) = matched.first() else {
                return Err(format!(
                    "{} does not point to an existing file",
                    go_quoted(pattern)
                ));
            };
            if let Err(err) = std::fs::metadata(first) {
                return Err(format!(
                    "error checking rule file {}: {}",
                    go_quoted(&first.display().to_string()),
                    go_io_error(first, &err)
                ));
            }
        }
        files.extend(matched);
    }
    Ok(files)
}

/// The files a job's HTTP client and `file_sd_configs` refer to.
fn check_scrape_config(
    o: &mut Output<'_>,
    job: &ScrapeConfig,
    syntax_only: bool,
) -> io::Result<Result<(), String>> {
    let http = &job.http_client;
    if !syntax_only
        && let Some(auth) = &http.authorization
        && let Err(err) = file_exists(&auth.credentials_file)
    {
        return Ok(Err(format!(
            "error checking authorization credentials or bearer token file {}: {err}",
            go_quoted(&auth.credentials_file)
        )));
    }
    if let Err(message) = check_tls(&http.tls_config, syntax_only) {
        return Ok(Err(message));
    }
    if syntax_only {
        return Ok(Ok(()));
    }
    let context = format!("scrape job {}", go_quoted(&job.settings.job_name));
    for sd in &job.service_discovery.file_sd_configs {
        for pattern in &sd.files {
            if let Err(message) = check_sd_files(o, pattern, &context)? {
                return Ok(Err(message));
            }
        }
    }
    Ok(Ok(()))
}

fn check_tls(tls: &TlsConfig, syntax_only: bool) -> Result<(), String> {
    if !tls.cert_file.is_empty() && tls.key_file.is_empty() {
        return Err(format!(
            "client cert file {} specified without client key file",
            go_quoted(&tls.cert_file)
        ));
    }
    if !tls.key_file.is_empty() && tls.cert_file.is_empty() {
        return Err(format!(
            "client key file {} specified without client cert file",
            go_quoted(&tls.key_file)
        ));
    }
    if syntax_only {
        return Ok(());
    }
    for (what, path) in [("cert", &tls.cert_file), ("key", &tls.key_file)] {
        if let Err(err) = file_exists(path) {
            return Err(format!(
                "error checking client {what} file {}: {err}",
                go_quoted(path)
            ));
        }
    }
    Ok(())
}

/// Reads every file `pattern` matches as target groups; a pattern matching nothing is only a
/// warning, since file SD picks the files up when they appear.
fn check_sd_files(
    o: &mut Output<'_>,
    pattern: &str,
    context: &str,
) -> io::Result<Result<(), String>> {
    let files = match glob(pattern) {
        Ok(files) => files,
        Err(e) => return Ok(Err(e.to_string())),
    };
    if files.is_empty() {
        writeln!(
            o.out,
            "  WARNING: file {} for file_sd in {context} does not exist",
            go_quoted(pattern)
        )?;
        return Ok(Ok(()));
    }
    for file in files {
        if let Err(reason) = read_target_groups(Path::new(&file)) {
            return Ok(Err(format!(
                "checking SD file {}: {reason}",
                go_quoted(pattern)
            )));
        }
    }
    Ok(Ok(()))
}

fn read_target_groups(file: &Path) -> Result<Vec<TargetGroup>, String> {
    let content = std::fs::read(file).map_err(|err| go_io_error(file, &err))?;
    let ext = file
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .unwrap_or_default();
    let groups: Vec<Option<TargetGroup>> = match ext.to_lowercase().as_str() {
        ".json" => serde_json::from_slice(&content).map_err(|err| err.to_string())?,
        ".yml" | ".yaml" => {
            serde_norway::from_slice(&content).map_err(|err| format!("yaml: {err}"))?
        }
        _ => return Err(format!("invalid file extension: {}", go_quoted(&ext))),
    };
    groups
        .into_iter()
        .enumerate()
        .map(|(i, group)| group.ok_or_else(|| format!("nil target group item found (index {i})")))
        .collect()
}

/// `os.Stat` on a non-empty path, with Go's error text.
fn file_exists(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Ok(());
    }
    std::fs::metadata(path)
        .map(drop)
        .map_err(|err| go_io_error(Path::new(path), &err))
}

/// An I/O error as Go's `*PathError` prints it (`stat x: no such file or directory`).
fn go_io_error(path: &Path, err: &io::Error) -> String {
    let reason = match err.kind() {
        io::ErrorKind::NotFound => "no such file or directory".to_owned(),
        io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => {
            let text = err.to_string();
            text.split(" (os error")
                .next()
                .unwrap_or(&text)
                .to_lowercase()
        }
    };
    format!("stat {}: {reason}", path.display())
}

/// Prints the first job whose interval is at least the lookback delta; true when one is found.
fn lint_scrape_intervals(
    o: &mut Output<'_>,
    jobs: &[ScrapeConfig],
    lookback_delta: Option<Duration>,
) -> io::Result<bool> {
    let Some(delta) = lookback_delta else {
        return Ok(false);
    };
    if let Some(job) = jobs.iter().find(|j| j.settings.scrape_interval >= delta) {
        writeln!(
            o.err,
            "  FAILED: too long scrape interval found, data point will be marked as stale - job: {}, interval: {}",
            job.settings.job_name, job.settings.scrape_interval
        )?;
        return Ok(true);
    }
    Ok(false)
}

/// `promtool check rules`: the files given, or standard input when none are.
pub fn check_rules(
    o: &mut Output<'_>,
    lint: &RulesLint,
    parser: ParserOptions,
    files: &[PathBuf],
) -> io::Result<u8> {
    let verdict = if files.is_empty() {
        writeln!(o.out, "Checking standard input")?;
        let mut text = String::new();
        if let Err(err) = io::stdin().read_to_string(&mut text) {
            writeln!(o.err, "  FAILED: {err}")?;
            return Ok(FAILURE);
        }
        let parsed = rulefmt::parse(&text, "", &parse_options(lint, parser));
        report_rule_file(o, parsed, lint)?
    } else {
        check_rule_files(o, files, lint, parser)?
    };
    Ok(verdict.exit_code(lint.fatal))
}

fn parse_options(lint: &RulesLint, parser: ParserOptions) -> ParseOptions {
    ParseOptions {
        ignore_unknown_fields: lint.ignore_unknown_fields,
        parser,
        ..ParseOptions::default()
    }
}

fn check_rule_files(
    o: &mut Output<'_>,
    files: &[PathBuf],
    lint: &RulesLint,
    parser: ParserOptions,
) -> io::Result<Verdict> {
    let options = parse_options(lint, parser);
    let mut verdict = Verdict::default();
    for file in files {
        writeln!(o.out, "Checking {}", file.display())?;
        verdict.merge(report_rule_file(
            o,
            rulefmt::parse_file(file, &options),
            lint,
        )?);
    }
    Ok(verdict)
}

/// Prints one rule file's verdict. A file that does not parse gets no trailing blank line,
/// as upstream skips straight to the next file.
fn report_rule_file(
    o: &mut Output<'_>,
    parsed: Result<RuleGroups, Vec<RuleFileError>>,
    lint: &RulesLint,
) -> io::Result<Verdict> {
    let groups = match parsed {
        Ok(groups) => groups,
        Err(errors) => {
            writeln!(o.err, "  FAILED:")?;
            for err in errors {
                writeln!(o.err, "{err}")?;
            }
            return Ok(Verdict {
                failed: true,
                errors: true,
            });
        }
    };
    let mut verdict = Verdict::default();
    let duplicates = if lint.duplicate_rules {
        duplicate_rules(&groups)
    } else {
        Vec::new()
    };
    if duplicates.is_empty() {
        let count: usize = groups.groups.iter().map(|g| g.rules.len()).sum();
        writeln!(o.out, "  SUCCESS: {count} rules found")?;
    } else {
        writeln!(o.err, "  FAILED:")?;
        writeln!(
            o.err,
            "lint error {} duplicate rule(s) found.",
            duplicates.len()
        )?;
        for (metric, labels) in &duplicates {
            writeln!(o.err, "Metric: {metric}\nLabel(s):")?;
            for (name, value) in labels {
                writeln!(o.err, "\t{name}: {value}")?;
            }
        }
        writeln!(
            o.err,
            "Might cause inconsistency while recording expressions"
        )?;
        verdict.failed = true;
    }
    writeln!(o.out)?;
    Ok(verdict)
}

type RuleKey = (String, Vec<(String, String)>);

/// Rules with the same name and labels (group labels under the rule's own), which would write
/// to the same series; each such key is reported once.
fn duplicate_rules(groups: &RuleGroups) -> Vec<RuleKey> {
    let mut keys: Vec<RuleKey> = groups
        .groups
        .iter()
        .flat_map(|group| {
            group.rules.iter().map(|rule| {
                let mut labels: BTreeMap<&str, &str> = group
                    .labels
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                labels.extend(rule.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())));
                let labels = labels
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect();
                (rule.name().to_owned(), labels)
            })
        })
        .collect();
    keys.sort();
    let mut duplicates: Vec<RuleKey> = Vec::new();
    for pair in keys.windows(2) {
        if pair[0] == pair[1] && duplicates.last() != Some(&pair[1]) {
            duplicates.push(pair[1].clone());
        }
    }
    duplicates
}

/// `promtool check web-config`: one verdict line per file, on stderr.
pub fn check_web_config(o: &mut Output<'_>, files: &[PathBuf]) -> io::Result<u8> {
    let mut failed = false;
    for file in files {
        match pm_common::web::check_web_config(file) {
            Ok(()) => writeln!(o.err, "{} SUCCESS", file.display())?,
            Err(err) => {
                writeln!(o.err, "{} FAILED: {err}", file.display())?;
                failed = true;
            }
        }
    }
    Ok(if failed { FAILURE } else { SUCCESS })
}

#[cfg(test)]
mod tests;
