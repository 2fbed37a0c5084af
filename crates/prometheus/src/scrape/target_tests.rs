//! The target label table of upstream's `TestPopulateLabels`, plus URL, hash and offset.

use std::time::Duration as StdDuration;

use pm_common::model::Labels;
use pm_discovery::TargetGroup;

use super::*;
use crate::config::{ScrapeConfig, load_str};

fn job(extra: &str) -> ScrapeConfig {
    let yaml = format!(
        "scrape_configs:\n- job_name: job\n  scrape_interval: 1s\n  scrape_timeout: 1s\n{extra}"
    );
    let cfg = load_str(&yaml, "test.yml").expect("test config loads");
    cfg.scrape_configs[0].clone()
}

fn l(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

fn populate(cfg: &ScrapeConfig, input: &[(&str, &str)]) -> Result<Option<Labels>, TargetError> {
    populate_labels(cfg, &discovered_labels(cfg, &l(input), &Labels::empty()))
}

#[test]
fn regular_population_adds_job_defaults_and_instance() {
    let cfg = job("");
    let got = populate(
        &cfg,
        &[("__address__", "1.2.3.4:1000"), ("custom", "value")],
    );
    let want = l(&[
        ("__address__", "1.2.3.4:1000"),
        ("instance", "1.2.3.4:1000"),
        ("__scheme__", "http"),
        ("__metrics_path__", "/metrics"),
        ("__scrape_interval__", "1s"),
        ("__scrape_timeout__", "1s"),
        ("job", "job"),
        ("custom", "value"),
    ]);
    assert_eq!(got, Ok(Some(want)));
}

#[test]
fn predefined_labels_win_over_job_defaults_and_no_port_is_added() {
    let cfg = job("");
    let input = [
        ("__address__", "1.2.3.4"),
        ("__scheme__", "https"),
        ("__metrics_path__", "/custom"),
        ("job", "custom-job"),
        ("__scrape_interval__", "2s"),
        ("__scrape_timeout__", "2s"),
    ];
    let mut want: Vec<(&str, &str)> = input.to_vec();
    want.push(("instance", "1.2.3.4"));
    assert_eq!(populate(&cfg, &input), Ok(Some(l(&want))));
}

#[test]
fn given_instance_label_is_kept() {
    let cfg = job("");
    let got = populate(
        &cfg,
        &[
            ("__address__", "1.2.3.4:80"),
            ("instance", "custom-instance"),
        ],
    )
    .unwrap()
    .unwrap();
    assert_eq!(got.get("instance"), Some("custom-instance"));
}

#[test]
fn meta_labels_are_removed_other_reserved_labels_stay() {
    let cfg = job("");
    let got = populate(
        &cfg,
        &[("__address__", "a:1"), ("__meta_x", "y"), ("__tmp", "z")],
    )
    .unwrap()
    .unwrap();
    assert!(!got.has("__meta_x"));
    assert_eq!(got.get("__tmp"), Some("z"));
}

#[test]
fn missing_address_fails_unless_relabeling_adds_one() {
    let cfg = job("");
    assert_eq!(
        populate(&cfg, &[("custom", "value")]),
        Err(TargetError::NoAddress)
    );
    let cfg = job(
        "  relabel_configs:\n  - action: replace\n    source_labels: [custom]\n    target_label: __address__\n",
    );
    let got = populate(&cfg, &[("custom", "host:1234")]).unwrap().unwrap();
    assert_eq!(got.get("instance"), Some("host:1234"));
}

#[test]
fn address_with_slash_is_not_a_hostname() {
    let cfg = job("");
    let err = populate(&cfg, &[("__address__", "http://a/b")]).unwrap_err();
    assert_eq!(err.to_string(), r#""http://a/b" is not a valid hostname"#);
}

#[test]
fn invalid_intervals_and_timeouts() {
    let cfg = job("");
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[
                ("__address__", "a:1"),
                ("__scrape_interval__", "2notseconds"),
            ],
            r#"error parsing scrape interval: unknown unit "notseconds" in duration "2notseconds""#,
        ),
        (
            &[
                ("__address__", "a:1"),
                ("__scrape_timeout__", "2notseconds"),
            ],
            r#"error parsing scrape timeout: unknown unit "notseconds" in duration "2notseconds""#,
        ),
        (
            &[("__address__", "a:1"), ("__scrape_interval__", "0s")],
            "scrape interval cannot be 0",
        ),
        (
            &[("__address__", "a:1"), ("__scrape_timeout__", "0s")],
            "scrape timeout cannot be 0",
        ),
        (
            &[
                ("__address__", "a:1"),
                ("__scrape_interval__", "1s"),
                ("__scrape_timeout__", "2s"),
            ],
            r#"scrape timeout cannot be greater than scrape interval ("2s" > "1s")"#,
        ),
    ];
    for (input, want) in cases {
        let err = populate(&cfg, input).unwrap_err();
        assert_eq!(err.to_string(), want, "{input:?}");
    }
}

#[test]
fn relabel_drop_drops_the_target() {
    let cfg = job(
        "  relabel_configs:\n  - action: drop\n    source_labels: [custom]\n    regex: value\n",
    );
    assert_eq!(
        populate(&cfg, &[("__address__", "a:1"), ("custom", "value")]),
        Ok(None)
    );
}

#[test]
fn group_labels_fill_in_and_failures_are_reported() {
    let cfg = job("");
    let group = TargetGroup {
        source: "src".into(),
        targets: vec![
            l(&[("__address__", "a:1"), ("env", "own")]),
            l(&[("__address__", "b:1")]),
            l(&[("no", "address")]),
        ],
        labels: l(&[("env", "group")]),
    };
    let mut out = GroupTargets::default();
    targets_from_group(&cfg, &group, &mut out);
    let envs: Vec<_> = out
        .active
        .iter()
        .map(|t| t.labels().get("env").unwrap().to_owned())
        .collect();
    assert_eq!(envs, ["own", "group"]);
    assert!(out.dropped.is_empty());
    assert_eq!(out.failures, ["instance 2 in group src: no address"]);
}

#[test]
fn url_merges_params_and_param_labels() {
    let cfg = job("  params:\n    module: [a, b]\n    x: ['y z']\n");
    let labels = populate(&cfg, &[("__address__", "h:9"), ("__param_module", "c")])
        .unwrap()
        .unwrap();
    let t = Target::new(labels, Labels::empty(), cfg.settings.params.clone());
    assert_eq!(t.url(), "http://h:9/metrics?module=c&module=b&x=y+z");
}

#[test]
fn hash_depends_on_labels_and_offset_stays_within_interval() {
    let cfg = job("");
    let a = Target::new(
        populate(&cfg, &[("__address__", "a:1")]).unwrap().unwrap(),
        Labels::empty(),
        Default::default(),
    );
    let b = Target::new(
        populate(&cfg, &[("__address__", "b:1")]).unwrap().unwrap(),
        Labels::empty(),
        Default::default(),
    );
    assert_ne!(a.hash(), b.hash());
    let interval = StdDuration::from_secs(15);
    for now in [0i128, 1, 7_500_000_000, 14_999_999_999] {
        let off = a.offset(interval, 42, now);
        assert!(off <= interval, "{off:?}");
        // The phase is pinned to absolute time: the scrape lands at the same point of the
        // interval whenever the loop starts.
        let phase = (now + off.as_nanos() as i128) % interval.as_nanos() as i128;
        assert_eq!(
            phase,
            ((a.hash() ^ 42) % interval.as_nanos() as u64) as i128
        );
    }
}

#[test]
fn fnv_matches_reference_vectors() {
    let mut h = Fnv64::new();
    h.write(b"a");
    assert_eq!(h.0, 0xaf63_dc4c_8601_ec8c);
}
