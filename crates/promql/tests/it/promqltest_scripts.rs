//! Parses and loads every upstream PromQL test script under `shared/testdata/promql/`.
//!
//! There is no evaluation engine yet, so this test does NOT evaluate any query: it checks that
//! every script parses into the command counts of the README's keyword table, that every
//! expected-result line parses, and that every `load` block loads into a `MemStorage`. The
//! engine task adds evaluation through `pm_promql::promqltest::run_commands`.

use std::collections::BTreeMap;

use pm_common::model::is_stale_nan;
use pm_promql::promqltest::{
    Command, EvalKind, ExpectedResult, LoadLine, MessageMatch, SequenceValue, apply_load,
    parse_script,
};
use pm_storage::{MemStorage, SampleValue as SeriesSampleValue};

fn scripts() -> Vec<(String, String)> {
    let dir = pm_testsupport::testdata("promql");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
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

/// Keyword counts of the README's table, as this parser represents them. `eval_fail` blocks
/// count among the instant evals and as an `expect fail` without message.
const KEYWORD_COUNTS: [(&str, usize); 22] = [
    ("eval instant", 1882 + 3),
    ("eval range", 329),
    ("eval_fail", 3),
    ("load", 277),
    ("load_with_nhcb", 33),
    ("clear", 231),
    ("expect no_warn", 265),
    ("expect no_info", 149),
    ("expect info", 113),
    ("expect info msg", 17),
    ("expect info regex", 2),
    ("expect warn", 27),
    ("expect warn msg", 60),
    ("expect warn regex", 3),
    ("expect fail", 17 + 3),
    ("expect fail msg", 14),
    ("expect fail regex", 1),
    ("expect ordered", 24),
    ("expect string", 5),
    ("expect range vector", 5),
    ("@st lines", 37),
    // The README's 13 counts the word `stale` everywhere, comments included; 7 of those are
    // staleness markers in series lines.
    ("stale", 7),
];

fn count_stale(values: &[SequenceValue]) -> usize {
    values
        .iter()
        .filter(|v| matches!(v, SequenceValue::Float(f) if is_stale_nan(*f)))
        .count()
}

fn tally_messages(
    counts: &mut BTreeMap<&'static str, usize>,
    keys: [&'static str; 3],
    m: &[MessageMatch],
) {
    for m in m {
        let key = match m {
            MessageMatch::Any => keys[0],
            MessageMatch::Exact(_) => keys[1],
            MessageMatch::Regex(re) => {
                regex::Regex::new(re).unwrap_or_else(|e| panic!("expected regex {re:?}: {e}"));
                keys[2]
            }
        };
        *counts.entry(key).or_default() += 1;
    }
}

/// Whether `storage` holds a native histogram with custom buckets.
fn has_nhcb(storage: &MemStorage) -> bool {
    storage.series_labels().iter().any(|l| {
        storage.samples(l).iter().any(
            |s| matches!(&s.value, SeriesSampleValue::FloatHistogram(h) if h.uses_custom_buckets()),
        )
    })
}

#[test]
fn every_script_parses_and_loads() {
    let files = scripts();
    assert_eq!(files.len(), 21, "expected the 21 upstream scripts");
    let mut counts: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut per_file = Vec::new();
    let mut nhcb_loaded = 0;
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
            let mut count = |key| *counts.entry(key).or_default() += 1;
            match command {
                Command::Clear { .. } => {
                    count("clear");
                    storage = MemStorage::new();
                }
                Command::Load(cmd) => {
                    count(if cmd.with_nhcb {
                        "load_with_nhcb"
                    } else {
                        "load"
                    });
                    for line in &cmd.lines {
                        match line {
                            LoadLine::Series(s) => {
                                *counts.entry("stale").or_default() += count_stale(&s.values)
                            }
                            LoadLine::StartTimestamps(_) => {
                                *counts.entry("@st lines").or_default() += 1
                            }
                        }
                    }
                    if let Err(e) = apply_load(&storage, cmd) {
                        failures.push(format!("{name}: {e}"));
                    }
                    if cmd.with_nhcb && has_nhcb(&storage) {
                        nhcb_loaded += 1;
                    }
                }
                Command::Eval(eval) => {
                    count(match eval.kind {
                        EvalKind::Instant { .. } => "eval instant",
                        EvalKind::Range { .. } => "eval range",
                    });
                    let header = text.lines().nth(eval.line - 1).unwrap().trim_start();
                    if header.starts_with("eval_fail") {
                        count("eval_fail");
                    }
                    if eval.no_warn {
                        count("expect no_warn");
                    }
                    if eval.no_info {
                        count("expect no_info");
                    }
                    if eval.ordered {
                        count("expect ordered");
                    }
                    let series = match &eval.expected {
                        ExpectedResult::RangeVector { series, .. } => {
                            count("expect range vector");
                            series.as_slice()
                        }
                        ExpectedResult::String(_) => {
                            count("expect string");
                            &[]
                        }
                        ExpectedResult::Series(series) => series.as_slice(),
                        ExpectedResult::Scalar(_) | ExpectedResult::Empty => &[],
                    };
                    let stale: usize = series.iter().map(|s| count_stale(&s.values)).sum();
                    *counts.entry("stale").or_default() += stale;
                    let fail: Vec<_> = eval.fail.iter().cloned().collect();
                    tally_messages(
                        &mut counts,
                        ["expect fail", "expect fail msg", "expect fail regex"],
                        &fail,
                    );
                    tally_messages(
                        &mut counts,
                        ["expect warn", "expect warn msg", "expect warn regex"],
                        &eval.warn,
                    );
                    tally_messages(
                        &mut counts,
                        ["expect info", "expect info msg", "expect info regex"],
                        &eval.info,
                    );
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(per_file, EVALS_PER_FILE);
    let expected: BTreeMap<&str, usize> = KEYWORD_COUNTS.into_iter().collect();
    assert_eq!(counts, expected);
    assert_eq!(counts["eval instant"] + counts["eval range"], 2214);
    assert!(
        nhcb_loaded > 0,
        "no load_with_nhcb block produced a custom-buckets histogram"
    );
}

/// Known failures: `file.test:line reason`, one per line; `#` starts a comment.
const KNOWN_FAILURES: &str = include_str!("promqltest_known_failures.txt");

/// Evaluates every eval command of every script with the engine and checks it as upstream's
/// runner does. Prints `promqltest: N passed, M failed, K skipped` and each failure. Fails on
/// any failure not in `promqltest_known_failures.txt` and on any listed one that passes; set
/// `PROMQLTEST_WRITE_KNOWN_FAILURES=1` to rewrite that file from the current failures.
#[test]
fn every_eval_matches_upstream() {
    let known: BTreeMap<&str, &str> = KNOWN_FAILURES
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_once(' ').unwrap_or((l, "")))
        .collect();
    let engine = pm_promql::promqltest::test_engine();
    let (mut passed, mut failed) = (0usize, 0usize);
    let mut failures: Vec<(String, String)> = Vec::new();
    for (name, text) in scripts() {
        let commands = parse_script(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let outcomes = pm_promql::promqltest::run_each(&commands, &engine)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for o in outcomes {
            match o.result {
                Ok(()) => passed += 1,
                Err(reason) => {
                    failed += 1;
                    let first_line = reason.lines().next().unwrap_or_default();
                    let short: String = first_line.chars().take(300).collect();
                    failures.push((
                        format!("{name}:{}", o.line),
                        format!("{:?}: {short}", o.expr),
                    ));
                }
            }
        }
    }
    // Every eval is run: nothing is skipped.
    let skipped = 0;
    for (at, why) in &failures {
        println!("FAIL {at} {why}");
    }
    println!("promqltest: {passed} passed, {failed} failed, {skipped} skipped");
    assert_eq!(passed + failed + skipped, 2214);
    if std::env::var_os("PROMQLTEST_WRITE_KNOWN_FAILURES").is_some() {
        let mut out = String::from(
            "# Evals of shared/testdata/promql known to fail: `file.test:line reason`.\n",
        );
        for (at, why) in &failures {
            let reason: String = why.chars().take(160).collect();
            out.push_str(&format!("{at} {reason}\n"));
        }
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/it/promqltest_known_failures.txt"
        );
        std::fs::write(path, out).unwrap();
        return;
    }
    let fixed: Vec<&&str> = known
        .keys()
        .filter(|k| !failures.iter().any(|(at, _)| at == **k))
        .collect();
    assert!(
        fixed.is_empty(),
        "known failures that now pass (regenerate the list): {fixed:?}"
    );
    let new: Vec<&(String, String)> = failures
        .iter()
        .filter(|(at, _)| !known.contains_key(at.as_str()))
        .collect();
    assert!(
        new.is_empty(),
        "evals failing that are not known failures:\n{new:#?}"
    );
}
