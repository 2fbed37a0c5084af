//! The link layout behind the binary's small resident memory (see build.rs): the hot-code
//! section patterns still match the binary's functions.

use std::path::Path;

/// The defined function symbols of `binary` (by binutils' `nm`), and whether it has a section
/// named `section` (by `readelf`).
fn functions_and_section(binary: &Path, section: &str) -> (Vec<String>, bool) {
    let dir = binary.parent().expect("the binary's directory");
    let path = binary.to_str().expect("a UTF-8 path");
    let symbols = pm_testsupport::run_ok("nm", &["--defined-only", "--format=posix", path], dir);
    let functions = symbols
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let name = fields.next()?;
            matches!(fields.next()?, "T" | "t").then(|| name.to_owned())
        })
        .collect();
    let sections = pm_testsupport::run_ok("readelf", &["--section-headers", "--wide", path], dir);
    let has_section = sections.split_whitespace().any(|word| word == section);
    (functions, has_section)
}

/// `*`-only glob match, the only wildcard the generated patterns use.
fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    for (i, part) in parts.iter().enumerate() {
        if i + 1 == parts.len() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// `link/hot-text.ld` gathers the functions startup and scrapes execute before the rest of the
/// code, by names with the per-build hashes wildcarded, so dependency changes do not scatter
/// them again; renamed or removed functions do, and then this fails: regenerate with
/// `scripts/node_exporter_hot_functions.sh` (see build.rs). The binary under test is a debug
/// build, which keeps nearly every function the release build executes as a symbol.
#[test]
fn hot_text_patterns_match_the_binary() {
    let script = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/link/hot-text.ld"))
        .expect("read link/hot-text.ld");
    // Each name has a pattern for `.text.<name>`, others for `.text.unlikely.<name>` and, for v0
    // names, ThinLTO's `.llvm.<n>` suffix.
    let patterns: Vec<&str> = script
        .lines()
        .filter_map(|l| l.trim().strip_prefix(".text."))
        .filter(|p| !p.contains(' ') && !p.starts_with("unlikely.") && !p.ends_with(".llvm.*"))
        .collect();
    assert!(patterns.len() > 500, "only {} patterns", patterns.len());
    let (mut functions, has_hot) =
        functions_and_section(Path::new(env!("CARGO_BIN_EXE_node_exporter")), ".text.hot");
    if cfg!(all(
        target_arch = "x86_64",
        target_os = "linux",
        target_env = "gnu"
    )) {
        assert!(
            has_hot,
            "the binary has no .text.hot: build.rs did not apply the script"
        );
    }
    functions.sort_unstable();
    let unmatched: Vec<&str> = patterns
        .iter()
        .copied()
        .filter(|pattern| {
            let literal = pattern.split('*').next().unwrap_or_default();
            let from = functions.partition_point(|f| f.as_str() < literal);
            !functions[from..]
                .iter()
                .take_while(|f| f.starts_with(literal))
                .any(|f| glob(pattern, f))
        })
        .collect();
    let matched = patterns.len() - unmatched.len();
    assert!(
        matched * 100 >= patterns.len() * 90,
        "only {matched} of {} hot-text patterns match a function of the binary; regenerate \
         link/ with scripts/node_exporter_hot_functions.sh. First unmatched: {:?}",
        patterns.len(),
        &unmatched[..unmatched.len().min(20)]
    );
}
