//! Parses every expression of upstream's PromQL test scripts (`shared/testdata/promql/*.test`)
//! with all features enabled, checks expected parse errors verbatim, and checks that printing an
//! expression (on one line, and prettified over several) and parsing it again yields the same
//! tree.

use std::fs;
use std::path::{Path, PathBuf};

use pm_promql::parser::{DurationExpr, Expr, ParserOptions, PosRange, parse_expr};

/// One `eval` command of a script.
struct Eval {
    location: String,
    query: String,
    /// `Some(None)`: failure expected without a message; `Some(Some(msg))`: with this message.
    expect_fail: Option<Option<String>>,
}

fn script_files() -> Vec<PathBuf> {
    let dir = pm_testsupport::testdata("promql");
    let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no .test files in {}", dir.display());
    files
}

/// The text after the first `n` whitespace-separated words of `line`.
fn after_words(line: &str, n: usize) -> Option<&str> {
    let mut rest = line.trim_start();
    for _ in 0..n {
        let end = rest.find(char::is_whitespace)?;
        rest = rest[end..].trim_start();
    }
    Some(rest.trim_end())
}

fn extract_evals(path: &Path) -> Vec<Eval> {
    let text = fs::read_to_string(path).expect("readable script");
    let lines: Vec<&str> = text.lines().collect();
    let mut evals = Vec::new();
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim();
        let mut words = line.split_whitespace();
        let Some(cmd) = words.next().filter(|c| c.starts_with("eval")) else {
            continue;
        };
        let query = match words.next() {
            Some("instant") => after_words(line, 4),
            Some("range") => after_words(line, 8),
            other => panic!("{}:{}: unknown eval form {other:?}", path.display(), i + 1),
        }
        .unwrap_or_else(|| panic!("{}:{}: eval without a query", path.display(), i + 1));
        let mut expect_fail = (cmd == "eval_fail").then_some(None);
        for body in lines[i + 1..].iter().map(|l| l.trim()) {
            if body.is_empty() || body.starts_with('#') {
                break;
            }
            if let Some(rest) = body.strip_prefix("expect fail") {
                let msg = rest
                    .trim()
                    .strip_prefix("msg:")
                    .map(|m| m.trim().to_owned());
                expect_fail = Some(msg);
            }
        }
        evals.push(Eval {
            location: format!("{}:{}", path.file_name().unwrap().to_string_lossy(), i + 1),
            query: query.to_owned(),
            expect_fail,
        });
    }
    evals
}

fn clear_duration(d: &mut DurationExpr) {
    d.start = 0;
    d.end = 0;
    for side in [&mut d.lhs, &mut d.rhs].into_iter().flatten() {
        normalize(side);
    }
}

/// Drops positions and orders matchers, which printing legitimately changes.
fn normalize(e: &mut Expr) {
    let zero = PosRange::default();
    match e {
        Expr::Aggregate(a) => a.pos = zero,
        Expr::Call(c) => c.pos = zero,
        Expr::Duration(d) => clear_duration(d),
        Expr::MatrixSelector(m) => {
            m.end = 0;
            m.vector_selector.pos = zero;
            m.vector_selector.matchers.sort_by_key(|m| m.to_string());
            if let Some(d) = &mut m.vector_selector.offset_expr {
                clear_duration(d);
            }
            if let Some(d) = &mut m.range_expr {
                clear_duration(d);
            }
        }
        Expr::NumberLiteral(n) => n.pos = zero,
        Expr::Paren(p) => p.pos = zero,
        Expr::StringLiteral(s) => s.pos = zero,
        Expr::Subquery(s) => {
            s.end = 0;
            for d in [&mut s.range_expr, &mut s.step_expr, &mut s.offset_expr]
                .into_iter()
                .flatten()
            {
                clear_duration(d);
            }
        }
        Expr::Unary(u) => u.start = 0,
        Expr::VectorSelector(vs) => {
            vs.pos = zero;
            vs.matchers.sort_by_key(|m| m.to_string());
            if let Some(d) = &mut vs.offset_expr {
                clear_duration(d);
            }
        }
        Expr::Binary(_) => {}
    }
    if !matches!(e, Expr::Duration(_)) {
        for child in e.children_mut() {
            normalize(child);
        }
    }
}

#[test]
fn upstream_script_expressions() {
    let opts = ParserOptions::all();
    let (mut parsed, mut expected_errors, mut eval_failures) = (0, 0, 0);
    let mut problems = Vec::new();
    for file in script_files() {
        for eval in extract_evals(&file) {
            let result = parse_expr(&eval.query, &opts);
            match (&eval.expect_fail, result) {
                (Some(Some(msg)), result) if msg.contains("parse error") => {
                    expected_errors += 1;
                    match result {
                        Err(e) if e.to_string() == *msg => {}
                        other => problems.push(format!(
                            "{}: {:?}: expected error {msg:?}, got {:?}",
                            eval.location,
                            eval.query,
                            other.map(|e| e.to_string()).map_err(|e| e.to_string())
                        )),
                    }
                }
                (_, Err(e)) => problems.push(format!(
                    "{}: {:?}: unexpected parse error: {e}",
                    eval.location, eval.query
                )),
                (fail, Ok(expr)) => {
                    if fail.is_some() {
                        eval_failures += 1;
                    }
                    parsed += 1;
                    let printed = expr.to_string();
                    match parse_expr(&printed, &opts) {
                        Err(e) => problems.push(format!(
                            "{}: {:?} printed as {printed:?}, which fails to parse: {e}",
                            eval.location, eval.query
                        )),
                        Ok(again) => {
                            let (mut a, mut b) = (expr, again);
                            let reprinted = b.to_string();
                            normalize(&mut a);
                            normalize(&mut b);
                            if reprinted != printed || format!("{a:?}") != format!("{b:?}") {
                                problems.push(format!(
                                    "{}: {:?}: round trip through {printed:?} changed the tree (reprinted {reprinted:?})",
                                    eval.location, eval.query
                                ));
                            }
                            // The multi-line form, forced by a narrow width, must mean the same.
                            let pretty = a.pretty_with_width(20);
                            match parse_expr(&pretty, &opts) {
                                Ok(mut c) => {
                                    normalize(&mut c);
                                    if format!("{a:?}") != format!("{c:?}") {
                                        problems.push(format!(
                                            "{}: {:?}: pretty form {pretty:?} changed the tree",
                                            eval.location, eval.query
                                        ));
                                    }
                                }
                                Err(e) => problems.push(format!(
                                    "{}: {:?}: pretty form {pretty:?} fails to parse: {e}",
                                    eval.location, eval.query
                                )),
                            }
                        }
                    }
                }
            }
        }
    }
    println!(
        "parsed and round-tripped: {parsed} (of which {eval_failures} expected to fail at evaluation); expected parse errors: {expected_errors}; problems: {}",
        problems.len()
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(parsed > 2000, "only {parsed} expressions parsed");
}
