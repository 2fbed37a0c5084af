//! `promtool test rules`: upstream's rule unit-test files, evaluated with the server's own rule
//! groups and PromQL engine so a passing test means the server would behave the same.
//!
//! Output follows upstream 3.x: `  SUCCESS` or `  FAILED:` plus one message per failure for
//! each file, exit code 1 when any file failed.

mod group;
mod report;
mod spec;
#[cfg(test)]
mod tests;

use std::io;
use std::path::Path;

use pm_common::model::GoRegex;
use pm_promql::ParserOptions;

use super::{FAILURE, Output, SUCCESS};
use spec::UnitTestFile;

/// What the command line sets for every test file.
#[derive(Clone, Debug, Default)]
pub struct UnitTestOptions {
    /// `--run`: only test groups whose names match one of these (Go) regular expressions.
    pub run: Vec<String>,
    /// `--debug`: timings and a dump of all series after each test group, on stderr.
    pub debug: bool,
    /// `--ignore-unknown-fields`: for the rule files the tests load.
    pub ignore_unknown_fields: bool,
    /// `--enable-feature=promql-delayed-name-removal`.
    pub delayed_name_removal: bool,
    pub parser: ParserOptions,
}

/// Runs every unit-test file; 0 when all passed, 1 otherwise.
pub fn test_rules(
    o: &mut Output<'_>,
    opts: &UnitTestOptions,
    files: &[impl AsRef<Path>],
) -> io::Result<u8> {
    let run = match run_filter(&opts.run) {
        Ok(run) => run,
        Err(err) => {
            writeln!(o.err, "promtool: error: {err}")?;
            return Ok(FAILURE);
        }
    };
    let mut failed = false;
    for file in files {
        let errs = test_file(file.as_ref(), opts, run.as_ref(), o)?;
        if errs.is_empty() {
            writeln!(o.out, "  SUCCESS")?;
        } else {
            writeln!(o.err, "  FAILED:")?;
            for e in errs {
                writeln!(o.err, "{e}")?;
                writeln!(o.out)?;
            }
            failed = true;
        }
        writeln!(o.out)?;
    }
    Ok(if failed { FAILURE } else { SUCCESS })
}

/// `--run` patterns joined as upstream joins them, matched anywhere in a group's name.
fn run_filter(patterns: &[String]) -> Result<Option<GoRegex>, String> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let joined = patterns.join("|");
    GoRegex::new(&format!(".*(?:{joined}).*"))
        .map(Some)
        .map_err(|e| e.to_string())
}

/// The failures of one file (empty: it passed).
fn test_file(
    path: &Path,
    opts: &UnitTestOptions,
    run: Option<&GoRegex>,
    o: &mut Output<'_>,
) -> io::Result<Vec<String>> {
    let mut file: UnitTestFile = match pm_common::config::yaml::load_file(path) {
        Ok(file) => file,
        Err(err) => return Ok(vec![err.to_string()]),
    };
    let base = path.parent().unwrap_or(Path::new(""));
    file.rule_files = match resolve_rule_files(base, &file.rule_files, o)? {
        Ok(files) => files,
        Err(err) => return Ok(vec![err]),
    };
    let mut order = std::collections::HashMap::new();
    for (i, name) in file.group_eval_order.iter().enumerate() {
        if order.insert(name.clone(), i).is_some() {
            return Ok(vec![format!(
                "group name repeated in evaluation order: {name}"
            )]);
        }
    }
    let eval_interval = file
        .evaluation_interval
        .map(|d| d.as_std())
        .filter(|d| !d.is_zero())
        .unwrap_or(std::time::Duration::from_secs(60));
    let mut errs = Vec::new();
    for (i, tg) in file.tests.iter().enumerate() {
        if run.is_some_and(|re| !re.is_match(&tg.name)) {
            continue;
        }
        let name = if tg.name.is_empty() {
            format!("unnamed#{i}")
        } else {
            tg.name.clone()
        };
        let setup = group::Setup {
            name: &name,
            eval_interval,
            order: &order,
            rule_files: &file.rule_files,
            fuzzy_compare: file.fuzzy_compare,
            opts,
        };
        errs.extend(group::run(tg, &setup, o)?);
    }
    Ok(errs)
}

/// Rule file patterns relative to the test file's directory, expanded as globs; a pattern
/// matching nothing is a warning, as upstream.
fn resolve_rule_files(
    base: &Path,
    patterns: &[String],
    o: &mut Output<'_>,
) -> io::Result<Result<Vec<String>, String>> {
    let mut files = Vec::new();
    for pattern in patterns {
        let full = if pattern.is_empty() || Path::new(pattern).is_absolute() {
            pattern.clone()
        } else {
            pm_common::glob::clean(&base.join(pattern).to_string_lossy())
        };
        let matches = match pm_common::glob::glob(&full) {
            Ok(m) => m,
            Err(err) => return Ok(Err(err.to_string())),
        };
        if matches.is_empty() {
            writeln!(o.err, "  WARNING: no file match pattern {full}")?;
        }
        files.extend(matches);
    }
    Ok(Ok(files))
}
