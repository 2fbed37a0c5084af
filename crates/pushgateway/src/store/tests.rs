use pm_common::expfmt::textparse::decode_text_families;

use super::*;
use crate::grouping::GroupingLabels;

fn labels(pairs: &[(&str, &str)]) -> GroupingLabels {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

fn push(
    store: &Store,
    group: &[(&str, &str)],
    body: &str,
    replace: bool,
) -> Result<(), CheckError> {
    store.push(Push {
        labels: labels(group),
        families: decode_text_families(body.as_bytes()).unwrap(),
        replace,
        time: Timestamp::from_second(1_700_000_000).unwrap(),
    })
}

/// The text exposition of the pushed families without the push-time gauges.
fn text(store: &Store) -> String {
    store
        .rendered_text()
        .into_iter()
        .filter(|(n, _)| n != PUSH_TIME_METRIC && n != PUSH_FAILURE_METRIC)
        .map(|(_, t)| t.to_string())
        .collect()
}

#[test]
fn put_replaces_group_post_replaces_families() {
    let store = Store::default();
    push(&store, &[("job", "j")], "a 1\nb 2\n", true).unwrap();
    assert_eq!(
        text(&store),
        "# TYPE a untyped\na{instance=\"\",job=\"j\"} 1\n# TYPE b untyped\nb{instance=\"\",job=\"j\"} 2\n"
    );
    push(&store, &[("job", "j")], "a 3\n", false).unwrap();
    assert_eq!(
        text(&store),
        "# TYPE a untyped\na{instance=\"\",job=\"j\"} 3\n# TYPE b untyped\nb{instance=\"\",job=\"j\"} 2\n"
    );
    push(&store, &[("job", "j")], "c 4\n", true).unwrap();
    assert_eq!(
        text(&store),
        "# TYPE c untyped\nc{instance=\"\",job=\"j\"} 4\n"
    );
    // An empty PUT leaves only the push-time gauges.
    push(&store, &[("job", "j")], "", true).unwrap();
    assert_eq!(text(&store), "");
    assert_eq!(store.len(), 1);
}

#[test]
fn grouping_labels_override_body_and_metrics_merge_sorted() {
    let store = Store::default();
    push(
        &store,
        &[("job", "j"), ("instance", "i2")],
        "m{job=\"x\"} 1\n",
        true,
    )
    .unwrap();
    push(&store, &[("job", "j"), ("instance", "i1")], "m 2\n", true).unwrap();
    push(&store, &[("job", "a")], "m{extra=\"e\"} 3\n", true).unwrap();
    assert_eq!(
        text(&store),
        "# TYPE m untyped\nm{instance=\"i1\",job=\"j\"} 2\nm{instance=\"i2\",job=\"j\"} 1\nm{extra=\"e\",instance=\"\",job=\"a\"} 3\n"
    );
}

#[test]
fn refused_pushes_change_only_the_failure_time() {
    let store = Store::default();
    push(&store, &[("job", "a")], "# TYPE m counter\nm 1\n", true).unwrap();
    let before = text(&store);

    let err = push(&store, &[("job", "b")], "m 1\n", true).unwrap_err();
    assert!(
        matches!(
            err,
            CheckError::WrongType {
                want: "COUNTER",
                ..
            }
        ),
        "{err}"
    );
    let err = push(&store, &[("job", "a"), ("instance", "")], "n 1\n", true);
    assert!(
        err.is_ok(),
        "an empty instance in the URL is a different group"
    );
    let err = push(&store, &[("job", "c")], "t 1 1000\n", true).unwrap_err();
    assert_eq!(err, CheckError::Timestamps);
    let err = push(
        &store,
        &[("job", "d")],
        "# TYPE s summary\ns_sum 1\ns_count 1\n",
        true,
    );
    assert!(err.is_ok());
    let err = push(&store, &[("job", "e")], "s_count 1\n", true).unwrap_err();
    assert!(matches!(err, CheckError::SuffixCollision { .. }), "{err}");
    let err = push(
        &store,
        &[("job", "e")],
        "# TYPE m_sum gauge\nm_sum 1\n# TYPE m_x histogram\nm_x_bucket{le=\"+Inf\"} 1\nm_x_sum 1\nm_x_count 1\n",
        true,
    );
    assert!(err.is_ok(), "{err:?}");

    assert!(text(&store).starts_with(&before));
    let groups = store.groups();
    let b = groups.iter().find(|g| g.labels["job"] == "b").unwrap();
    assert!(!b.last_push_successful());
    assert_eq!(b.families.len(), 2, "only the push-time gauges");
}

#[test]
fn duplicate_series_across_groups_are_refused() {
    let store = Store::default();
    push(&store, &[("job", "j")], "b{instance=\"x\"} 1\n", true).unwrap();
    let err = push(&store, &[("job", "j"), ("instance", "x")], "b 1\n", true).unwrap_err();
    assert!(matches!(err, CheckError::Duplicate { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "collected metric \"b\" { label:<name:\"instance\" value:\"x\" > label:<name:\"job\" value:\"j\" > untyped:<value:1 > } was collected before with the same name and label values"
    );
    // Two body series that the grouping labels make identical.
    let err = push(
        &store,
        &[("job", "k"), ("a", "3")],
        "y{a=\"1\"} 1\ny{a=\"2\"} 2\n",
        true,
    );
    assert!(matches!(err, Err(CheckError::Duplicate { .. })));
    // Re-pushing the same group is no duplicate of itself, by PUT or POST.
    push(&store, &[("job", "j")], "b{instance=\"x\"} 2\n", true).unwrap();
    push(&store, &[("job", "j")], "b{instance=\"x\"} 3\n", false).unwrap();
    // Once the group is gone, the series is free.
    store.delete(&labels(&[("job", "j")]));
    push(&store, &[("job", "j"), ("instance", "x")], "b 1\n", true).unwrap();
}

#[test]
fn unchecked_store_accepts_conflicts() {
    let store = Store::new(OwnFamilies::default(), false);
    push(&store, &[("job", "a")], "# TYPE m counter\nm 1\n", true).unwrap();
    push(&store, &[("job", "b")], "m 1\n", true).unwrap();
    assert_eq!(
        push(&store, &[("job", "c")], "t 1 1\n", true),
        Err(CheckError::Timestamps)
    );
}

#[test]
fn own_families_fix_the_type() {
    let own = OwnFamilies::from_families(&[dto::MetricFamily {
        name: Some("pushgateway_x".into()),
        help: Some("h".into()),
        r#type: Some(dto::MetricType::Counter as i32),
        ..Default::default()
    }]);
    let store = Store::new(own, true);
    let err = push(&store, &[("job", "a")], "pushgateway_x 1\n", true).unwrap_err();
    assert_eq!(
        err.to_string(),
        "gathered metric family pushgateway_x has type UNTYPED but should have COUNTER"
    );
}

#[test]
fn delete_and_wipe_invalidate_the_cache() {
    let store = Store::default();
    for i in 0..50 {
        push(
            &store,
            &[("job", "j"), ("instance", &i.to_string())],
            "m 1\n",
            true,
        )
        .unwrap();
    }
    assert_eq!(text(&store).lines().count(), 51);
    store.delete(&labels(&[("job", "j"), ("instance", "7")]));
    assert_eq!(text(&store).lines().count(), 50);
    assert!(!text(&store).contains("instance=\"7\""));
    store.wipe();
    assert!(store.is_empty());
    assert!(store.rendered_text().is_empty());
    push(&store, &[("job", "j")], "m 1\n", true).unwrap();
    assert_eq!(
        text(&store),
        "# TYPE m untyped\nm{instance=\"\",job=\"j\"} 1\n"
    );
}

#[test]
fn persistence_round_trip_and_corrupt_file_kept_aside() {
    let store = Store::default();
    push(
        &store,
        &[("job", "j"), ("a", "b")],
        "# HELP m help\n# TYPE m gauge\nm 1\n",
        true,
    )
    .unwrap();
    let _ = push(&store, &[("job", "f")], "x 1 1\n", true);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state");
    persist::write_atomically(&path, &persist::encode(&store.groups())).unwrap();

    let loaded = persist::load(&path).unwrap();
    assert_eq!(loaded, store.groups());
    let restored = Store::default();
    restored.restore(loaded);
    assert_eq!(text(&restored), text(&store));
    // The restored indexes still refuse conflicts.
    assert!(push(&restored, &[("job", "k")], "# TYPE m counter\nm 1\n", true).is_err());

    std::fs::write(&path, b"PMPUSHGW\x01\x00\x00\x00\xff\xff").unwrap();
    let err = persist::load(&path).unwrap_err();
    let persist::LoadError::Corrupt { aside, .. } = &err else {
        panic!("{err}")
    };
    assert!(!path.exists());
    assert_eq!(
        std::fs::read(aside).unwrap(),
        b"PMPUSHGW\x01\x00\x00\x00\xff\xff"
    );
    assert!(
        err.to_string().contains("corrupt group record at byte 12"),
        "{err}"
    );
    assert!(
        persist::load(&path).unwrap().is_empty(),
        "no file is an empty store"
    );
}
