//! Parses and loads every upstream PromQL test script under `shared/testdata/promql/`.
//!
//! There is no evaluation engine yet, so this test does NOT evaluate any query: it checks that
//! every script parses into the command counts of the README's keyword table, that every
//! expected-result line parses, and that every `load` block loads into a `MemStorage`. The
//! engine task adds evaluation through `pm_promql::promqltest::run_commands`.

use std::path::PathBuf;

use pm_promql::promqltest::{Command, EvalKind, ExpectedResult, apply_load, parse_script};
use pm_storage::MemStorage;

fn scripts() -> Vec<(String, String)> {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata/promql"
    ));
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "PromQL test scripts missing at {}: {e} (shared/testdata must sit beside the repo)",
            dir.display()
        )
    });
    let mut files: Vec<_> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

/// Evals per script, from the README.
const EVALS_PER_FILE: [(&str, usize); 21] = [
    ("aggregators", 160),
    ("at_modifier", 78),
    ("collision", 2),
    ("duration_expression", 59),
    ("extended_vectors", 169),
    ("fill-modifier", 46),
    ("functions", 431),
    ("histograms", 185),
    ("info", 53),
    ("limit", 37),
    ("literals", 25),
    ("name_label_dropping", 30),
    ("native_histograms", 522),
    ("operators", 214),
    ("range_queries", 18),
    ("selectors", 31),
    ("staleness", 17),
    ("start_timestamps", 26),
    ("subquery", 34),
    ("trig_functions", 19),
    ("type_and_unit", 58),
];

#[test]
fn every_script_parses_and_loads() {
    let files = scripts();
    assert_eq!(files.len(), 21, "expected the 21 upstream scripts");
    let (mut instant, mut range, mut eval_fail, mut load, mut nhcb, mut clear) = (0, 0, 0, 0, 0, 0);
    let (mut range_vector, mut strings, mut ordered) = (0, 0, 0);
    let mut failures = Vec::new();
    let mut per_file = Vec::new();
    for (name, text) in &files {
        let commands = match parse_script(text) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let evals = commands
            .iter()
            .filter(|c| matches!(c, Command::Eval(_)))
            .count();
        per_file.push((name.trim_end_matches(".test"), evals));
        let mut storage = MemStorage::new();
        for command in &commands {
            match command {
                Command::Clear { .. } => {
                    clear += 1;
                    storage = MemStorage::new();
                }
                Command::Load(cmd) => {
                    if cmd.with_nhcb {
                        nhcb += 1
                    } else {
                        load += 1
                    }
                    if let Err(e) = apply_load(&storage, cmd) {
                        failures.push(format!("{name}: {e}"));
                    }
                }
                Command::Eval(eval) => {
                    match eval.kind {
                        EvalKind::Instant { .. } => instant += 1,
                        EvalKind::Range { .. } => range += 1,
                    }
                    let header = text.lines().nth(eval.line - 1).unwrap().trim_start();
                    if header.starts_with("eval_fail") {
                        eval_fail += 1;
                    }
                    match eval.expected {
                        ExpectedResult::RangeVector { .. } => range_vector += 1,
                        ExpectedResult::String(_) => strings += 1,
                        _ => {}
                    }
                    if eval.ordered {
                        ordered += 1;
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(per_file, EVALS_PER_FILE);
    // `eval_fail instant` counts among the instant evals here; the README lists it apart.
    assert_eq!((instant, range, eval_fail), (1882 + 3, 329, 3));
    assert_eq!(instant + range, 2214);
    assert_eq!((load, nhcb, clear), (277, 33, 231));
    assert_eq!((range_vector, strings, ordered), (5, 5, 24));
}
