//! The textfile collector against upstream's fixture cases (`textfile/<case>/` inputs and
//! `textfile/<case>.out` expected output).

use crate::support;

use std::sync::Arc;

use pm_common::expfmt::dto::MetricFamily;
use pm_common::metrics::{Collector, Registry, render};
use pm_node_exporter::collector::TextfileCollector;

struct Textfile(TextfileCollector);

impl Collector for Textfile {
    fn collect(&self, out: &mut Vec<MetricFamily>) {
        self.0.collect(out);
    }
}

/// Cases whose expected output we do not reproduce yet, with the reason.
const NOT_YET: &[(&str, &str)] = &[(
    "glob_extra_dimension",
    "glob patterns in --collector.textfile.directory are not supported yet",
)];

/// The output with every mtime replaced by 1, as upstream's test fakes them.
fn normalise(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.starts_with("node_textfile_mtime_seconds{") {
                format!("{} 1", l.rsplit_once(' ').unwrap().0)
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn textfile_fixture_cases() {
    let fixtures = support::fixtures();
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(&fixtures, dir.path().join("fixtures")).unwrap();
    // The expected output names files relative to upstream's collector directory.
    std::env::set_current_dir(dir.path()).unwrap();
    let mut failures = Vec::new();
    let mut cases: Vec<String> = std::fs::read_dir(fixtures.join("textfile"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_suffix(".out")
                .map(String::from)
        })
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "textfile fixture cases missing");
    for case in &cases {
        let input = match case.as_str() {
            "nonexistent_path" => "fixtures/textfile/nonexistent_path".to_owned(),
            "glob_extra_dimension" => "fixtures/textfile/*_extra_dimension".to_owned(),
            c => format!("fixtures/textfile/{c}"),
        };
        let registry = Registry::new();
        registry.register(Arc::new(Textfile(TextfileCollector::new(vec![
            input.into(),
        ]))));
        let (_, body) = render(&registry.gather(), None);
        let got = normalise(&String::from_utf8(body).unwrap());
        let want = normalise(
            &std::fs::read_to_string(fixtures.join(format!("textfile/{case}.out"))).unwrap(),
        );
        let listed = NOT_YET.iter().any(|(c, _)| c == case);
        if got.trim_end() != want.trim_end() && !listed {
            failures.push(format!("case {case}:\n--- want\n{want}\n--- got\n{got}"));
        }
        if got.trim_end() == want.trim_end() && listed {
            failures.push(format!("case {case} passes now: remove it from NOT_YET"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
