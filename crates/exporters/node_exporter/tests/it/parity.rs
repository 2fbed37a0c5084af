//! Ours and Debian's upstream `prometheus-node-exporter` on this machine's real /proc and
//! /sys, default collectors: every family upstream exposes must be exposed by ours with the
//! same label names, apart from the exceptions below. And the link layout behind our
//! resident-memory ratio: the hot-code section patterns still match the binary's functions.

use crate::support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use support::{free_port, get, start};

const UPSTREAM: &str = "/usr/bin/prometheus-node-exporter";

/// Families we do not expose, by name prefix, with the reason.
const EXCEPTIONS: &[(&str, &str)] = &[("go_", "Go runtime metrics: there is no Go runtime")];

/// Families (by name prefix) where ours may carry more labels than Debian's older upstream,
/// with the reason.
const LABEL_SUPERSETS: &[(&str, &str)] = &[
    (
        "node_exporter_build_info",
        "Debian's 1.5 predates the `tags` label current upstream adds",
    ),
    (
        "node_disk_info",
        "current upstream adds `rotational` (the fixture output has it)",
    ),
    (
        "node_filesystem_",
        "current upstream adds `device_error` to every filesystem family",
    ),
    (
        "node_network_info",
        "current upstream adds `adminstate` (the fixture output has it)",
    ),
];

/// Label names per family.
fn label_names(text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, family) in support::families(text) {
        let set = out.entry(name).or_default();
        for s in &family.samples {
            if let Some((_, rest)) = s.split_once('{') {
                let labels = rest.rsplit_once('}').map_or(rest, |(l, _)| l);
                for pair in labels.split("\",").filter(|p| !p.is_empty()) {
                    if let Some((k, _)) = pair.split_once('=') {
                        set.insert(k.trim_start_matches(',').to_owned());
                    }
                }
            }
        }
    }
    out
}

#[test]
fn every_upstream_family_is_exposed_with_the_same_labels() {
    if !Path::new(UPSTREAM).exists() {
        assert!(
            std::env::var_os("PM_REQUIRE_UPSTREAM").is_none(),
            "{UPSTREAM} missing and PM_REQUIRE_UPSTREAM is set"
        );
        eprintln!("SKIP: {UPSTREAM} not installed (apt-get install prometheus-node-exporter)");
        return;
    }
    let cwd = std::env::temp_dir();
    let scrape = |program: &Path| {
        let port = free_port();
        let daemon = start(
            program,
            &cwd,
            &[format!("--web.listen-address=127.0.0.1:{port}")],
            port,
        );
        let (status, body) = get(daemon.addr, "/metrics");
        assert_eq!(status, 200, "{}: {body}", program.display());
        label_names(&body)
    };
    let upstream = scrape(Path::new(UPSTREAM));
    let ours = scrape(Path::new(env!("CARGO_BIN_EXE_node_exporter")));
    let mut problems = Vec::new();
    for (name, labels) in &upstream {
        let excepted = EXCEPTIONS.iter().any(|(p, _)| name.starts_with(p));
        match ours.get(name) {
            Some(have)
                if have != labels
                    && !(LABEL_SUPERSETS.iter().any(|(p, _)| name.starts_with(p))
                        && have.is_superset(labels)) =>
            {
                problems.push(format!(
                    "{name}: labels differ: upstream {labels:?}, ours {have:?}"
                ))
            }
            None if !excepted => problems.push(format!("{name}: missing")),
            _ => {}
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Whether Debian's upstream is installed; when it is not, fails under
/// `PM_REQUIRE_UPSTREAM` and otherwise prints a skip line.
fn upstream_installed(test: &str) -> bool {
    if Path::new(UPSTREAM).exists() {
        return true;
    }
    assert!(
        std::env::var_os("PM_REQUIRE_UPSTREAM").is_none(),
        "{UPSTREAM} missing and PM_REQUIRE_UPSTREAM is set"
    );
    eprintln!("SKIP {test}: {UPSTREAM} not installed (apt-get install prometheus-node-exporter)");
    false
}

/// Label names per family of one scrape of `program` started with `args`.
fn scrape_label_names(program: &Path, args: &[&str]) -> BTreeMap<String, BTreeSet<String>> {
    let port = free_port();
    let mut argv = vec![format!("--web.listen-address=127.0.0.1:{port}")];
    argv.extend(args.iter().map(|a| a.to_string()));
    let daemon = start(program, &std::env::temp_dir(), &argv, port);
    let (status, body) = get(daemon.addr, "/metrics");
    assert_eq!(status, 200, "{}: {body}", program.display());
    label_names(&body)
}

/// The ethtool collector alone, over this machine's interfaces (a virtio_net `eth0` and
/// `lo` here): the same families with the same label names as upstream, both ways.
#[test]
fn ethtool_families_and_labels_match_upstream() {
    if !upstream_installed("ethtool_families_and_labels_match_upstream") {
        return;
    }
    let args = ["--collector.disable-defaults", "--collector.ethtool"];
    let ethtool = |program: &Path| {
        let mut families = scrape_label_names(program, &args);
        families.retain(|name, _| {
            name.starts_with("node_ethtool_") || name.starts_with("node_network_")
        });
        families
    };
    let upstream = ethtool(Path::new(UPSTREAM));
    let ours = ethtool(Path::new(env!("CARGO_BIN_EXE_node_exporter")));
    assert!(
        upstream.contains_key("node_ethtool_info"),
        "upstream reports no ethtool data here: {upstream:?}"
    );
    assert_eq!(ours, upstream);
}

/// The function symbols of an ELF64 little-endian file, and whether it has a section `section`.
fn elf_functions(path: &Path, section: &str) -> (Vec<String>, bool) {
    let elf = std::fs::read(path).expect("read the binary");
    assert!(
        elf.starts_with(b"\x7fELF") && elf[4] == 2 && elf[5] == 1,
        "not ELF64 LE"
    );
    let at = |offset: usize, len: usize| {
        let mut bytes = [0u8; 8];
        bytes[..len].copy_from_slice(&elf[offset..offset + len]);
        u64::from_le_bytes(bytes) as usize
    };
    let c_str = |offset: usize| {
        let end = elf[offset..].iter().position(|&b| b == 0).expect("NUL") + offset;
        String::from_utf8_lossy(&elf[offset..end]).into_owned()
    };
    let (sh_off, sh_size, sh_count, sh_names) =
        (at(0x28, 8), at(0x3a, 2), at(0x3c, 2), at(0x3e, 2));
    // (name offset, type, file offset, size, link) of section `i`.
    let header = |i: usize| {
        let h = sh_off + i * sh_size;
        (
            at(h, 4),
            at(h + 4, 4),
            at(h + 0x18, 8),
            at(h + 0x20, 8),
            at(h + 0x28, 4),
        )
    };
    let names_offset = header(sh_names).2;
    let has_section = (0..sh_count).any(|i| c_str(names_offset + header(i).0) == section);
    const SYMTAB: usize = 2;
    const FUNC: u8 = 2;
    let (_, _, offset, size, link) = (0..sh_count)
        .map(header)
        .find(|h| h.1 == SYMTAB)
        .expect("the binary has a symbol table");
    let strings = header(link).2;
    let functions = (offset..offset + size)
        .step_by(24)
        .filter(|&sym| elf[sym + 4] & 0xf == FUNC)
        .map(|sym| c_str(strings + at(sym, 4)))
        .collect();
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
        elf_functions(Path::new(env!("CARGO_BIN_EXE_node_exporter")), ".text.hot");
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
