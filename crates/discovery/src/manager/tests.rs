use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use pm_common::metrics::Registry;
use pm_common::model::Labels;

use super::*;
use crate::testutil::{addresses, sample};
use crate::{FileSdConfig, HttpSdConfig};

fn group(addresses: &[&str]) -> TargetGroup {
    TargetGroup {
        source: String::new(),
        targets: addresses
            .iter()
            .map(|a| Labels::from_pairs([("__address__", *a)]))
            .collect(),
        labels: Labels::from_pairs([("env", "test")]),
    }
}

fn manager() -> (Manager, Registry) {
    let registry = Registry::new();
    let metrics = Arc::new(Metrics::register(&registry).unwrap());
    (
        Manager::new("scrape", metrics, ManagerOptions::default()),
        registry,
    )
}

fn configs(sets: &[(&str, Vec<SdConfig>)]) -> HashMap<String, Vec<SdConfig>> {
    sets.iter()
        .map(|(name, configs)| ((*name).to_owned(), configs.clone()))
        .collect()
}

/// Waits for the next snapshot (the paused clock jumps over the throttle period).
async fn next(rx: &mut watch::Receiver<Arc<TargetSets>>) -> Arc<TargetSets> {
    tokio::time::timeout(Duration::from_secs(60), rx.changed())
        .await
        .expect("a snapshot within the throttle period")
        .unwrap();
    Arc::clone(&rx.borrow_and_update())
}

fn sources(groups: &[TargetGroup]) -> Vec<&str> {
    groups.iter().map(|g| g.source.as_str()).collect()
}

#[tokio::test(start_paused = true)]
async fn static_groups_merge_per_set_with_their_index_as_source() {
    let (manager, registry) = manager();
    let mut rx = manager.subscribe();
    manager.apply_config(configs(&[
        (
            "a",
            vec![SdConfig::Static(vec![
                group(&["a1:1", "a2:1"]),
                group(&["a3:1"]),
            ])],
        ),
        ("b", vec![SdConfig::Static(vec![group(&["b1:1"])])]),
    ]));
    let sets = next(&mut rx).await;
    assert_eq!(sources(&sets["a"]), ["0", "1"]);
    assert_eq!(addresses(&sets["a"][0]), ["a1:1", "a2:1"]);
    assert_eq!(sets["a"][0].labels.get("env"), Some("test"));
    assert_eq!(addresses(&sets["b"][0]), ["b1:1"]);
    let discovered = |set: &str| {
        sample(
            &registry,
            &format!("prometheus_sd_discovered_targets{{config=\"{set}\",name=\"scrape\"}}"),
        )
    };
    assert_eq!((discovered("a"), discovered("b")), (Some(3.0), Some(1.0)));
    assert_eq!(
        sample(&registry, "prometheus_sd_updates_total{name=\"scrape\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(&registry, "prometheus_sd_failed_configs{name=\"scrape\"}"),
        Some(0.0)
    );
}

#[tokio::test(start_paused = true)]
async fn identical_configs_keep_their_provider_across_reloads() {
    let (manager, _registry) = manager();
    let mut rx = manager.subscribe();
    let x = SdConfig::Static(vec![group(&["x:1"])]);
    let y = SdConfig::Static(vec![group(&["y:1"])]);
    // Two sets with the same config share one provider.
    manager.apply_config(configs(&[("a", vec![x.clone()]), ("b", vec![x.clone()])]));
    assert_eq!(manager.provider_names(), ["static/0"]);
    let sets = next(&mut rx).await;
    assert_eq!(
        (addresses(&sets["a"][0]), addresses(&sets["b"][0])),
        (vec!["x:1"], vec!["x:1"])
    );

    // The same config keeps its provider (and groups); a new set using it gets them at once.
    manager.apply_config(configs(&[
        ("a", vec![x.clone(), y.clone()]),
        ("c", vec![x.clone()]),
    ]));
    assert_eq!(manager.provider_names(), ["static/0", "static/1"]);
    let sets = next(&mut rx).await;
    assert_eq!(sets.len(), 2, "b is gone: {sets:?}");
    assert_eq!(addresses(&sets["c"][0]), ["x:1"]);
    let mut a: Vec<_> = sets["a"].iter().flat_map(addresses).collect();
    a.sort_unstable();
    assert_eq!(a, ["x:1", "y:1"]);

    // A provider no set uses any more is stopped and its groups dropped.
    manager.apply_config(configs(&[("a", vec![y.clone()])]));
    assert_eq!(manager.provider_names(), ["static/1"]);
    let sets = next(&mut rx).await;
    assert_eq!(sets.len(), 1);
    assert_eq!(
        sets["a"].iter().flat_map(addresses).collect::<Vec<_>>(),
        ["y:1"]
    );
}

#[tokio::test(start_paused = true)]
async fn a_set_without_working_configs_gets_one_empty_group() {
    let (manager, registry) = manager();
    let mut rx = manager.subscribe();
    let broken = SdConfig::Http(HttpSdConfig {
        url: "http://[::1".into(),
        refresh_interval: pm_common::config::Duration::from_secs(60),
        http_client: Default::default(),
    });
    manager.apply_config(configs(&[("empty", vec![]), ("broken", vec![broken])]));
    let sets = next(&mut rx).await;
    for set in ["empty", "broken"] {
        assert_eq!(
            sets[set],
            [TargetGroup {
                source: "0".into(),
                ..TargetGroup::default()
            }]
        );
    }
    assert_eq!(
        sample(&registry, "prometheus_sd_failed_configs{name=\"scrape\"}"),
        Some(1.0)
    );
}

#[tokio::test(start_paused = true)]
async fn updates_replace_groups_by_source_and_are_throttled() {
    let (manager, registry) = manager();
    let mut rx = manager.subscribe();
    manager.apply_config(configs(&[(
        "a",
        vec![SdConfig::Static(vec![group(&["s:1"])])],
    )]));
    let sets = next(&mut rx).await;
    assert_eq!(addresses(&sets["a"][0]), ["s:1"]);

    // Reports through the provider's sink: the same source replaces, a new one adds, an
    // empty group withdraws its targets.
    let sink = ProviderSink {
        shared: Arc::clone(&manager.shared),
        provider: "static/0".into(),
    };
    let with_source = |source: &str, addresses: &[&str]| TargetGroup {
        source: source.into(),
        ..group(addresses)
    };
    sink.update(vec![
        with_source("0", &["r:1"]),
        with_source("extra", &["e:1"]),
    ]);
    sink.update(vec![with_source("extra", &[])]);
    // Nothing is published before the throttle period ends…
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(!rx.has_changed().unwrap());
    // …then one snapshot carries both updates.
    let sets = next(&mut rx).await;
    assert_eq!(sources(&sets["a"]), ["0", "extra"]);
    assert_eq!(addresses(&sets["a"][0]), ["r:1"]);
    assert!(sets["a"][1].targets.is_empty());
    assert_eq!(
        sample(&registry, "prometheus_sd_updates_total{name=\"scrape\"}"),
        Some(2.0)
    );
    let received = sample(
        &registry,
        "prometheus_sd_received_updates_total{name=\"scrape\"}",
    );
    assert_eq!(received, Some(3.0));
    // An unknown (stopped) provider's late report changes nothing.
    ProviderSink {
        shared: Arc::clone(&manager.shared),
        provider: "gone/9".into(),
    }
    .update(vec![with_source("0", &["late:1"])]);
    assert_eq!(
        addresses(&all_groups(&manager.shared.lock(), &manager.shared)["a"][0]),
        ["r:1"]
    );
}

#[tokio::test]
async fn file_provider_end_to_end_through_the_manager() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("targets.yml");
    std::fs::write(&path, "- targets: [f1:9100]\n").unwrap();
    let registry = Registry::new();
    let metrics = Arc::new(Metrics::register(&registry).unwrap());
    let options = ManagerOptions {
        throttle: Duration::from_millis(20),
        ..ManagerOptions::default()
    };
    let manager = Manager::new("notify", metrics, options);
    let mut rx = manager.subscribe();
    let file = SdConfig::File(FileSdConfig {
        files: vec![path.to_str().unwrap().to_owned()],
        ..FileSdConfig::default()
    });
    manager.apply_config(configs(&[("am", vec![file])]));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let sets = next(&mut rx).await;
        if sets
            .get("am")
            .is_some_and(|g| g.iter().any(|g| !g.targets.is_empty()))
        {
            let group = &sets["am"][0];
            assert_eq!(group.source, format!("{}:0", path.display()));
            assert_eq!(addresses(group), ["f1:9100"]);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no file groups: {sets:?}"
        );
    }
}
