use jiff::{SignedDuration, Timestamp};

use super::*;

fn labels(pairs: &[(&str, &str)]) -> LabelSet {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

const TIMEOUT: SignedDuration = SignedDuration::from_secs(300);

#[test]
fn fingerprint_matches_upstream() {
    // Values taken from upstream 0.25's API for the same label sets.
    let fp = Fingerprint::of(&labels(&[("alertname", "A"), ("severity", "critical")]));
    assert_eq!(fp.to_string(), "b807e636403824b5");
    let fp = Fingerprint::of(&labels(&[
        ("alertname", "A"),
        ("severity", "warning"),
        ("team", "a"),
    ]));
    assert_eq!(fp.to_string(), "9096a31b56518752");
}

#[test]
fn defaults_and_validation() {
    let now = ts("2026-01-01T00:00:00Z");
    let a = PostedAlert {
        labels: labels(&[("a", "b"), ("empty", "")]),
        ..Default::default()
    }
    .into_alert(&Arrival::new(now, TIMEOUT))
    .unwrap();
    assert_eq!(a.starts_at, now);
    assert_eq!(a.ends_at, ts("2026-01-01T00:05:00Z"));
    assert!(a.timeout);
    assert_eq!(a.labels, labels(&[("a", "b")]));

    let end = ts("2025-12-31T23:00:00Z");
    let a = PostedAlert {
        labels: labels(&[("a", "b")]),
        ends_at: Some(end),
        ..Default::default()
    }
    .into_alert(&Arrival::new(now, TIMEOUT))
    .unwrap();
    assert_eq!((a.starts_at, a.ends_at, a.timeout), (end, end, false));

    let err = |p: PostedAlert| {
        p.into_alert(&Arrival::new(now, TIMEOUT))
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err(PostedAlert {
            labels: labels(&[("a", "")]),
            ..Default::default()
        }),
        "at least one label pair required"
    );
    assert_eq!(
        err(PostedAlert {
            labels: labels(&[("a b", "x")]),
            ..Default::default()
        }),
        "invalid label set: invalid name \"a b\""
    );
    assert_eq!(
        err(PostedAlert {
            labels: labels(&[("a", "x")]),
            annotations: labels(&[("", "x")]),
            ..Default::default()
        }),
        "invalid annotations: invalid name \"\""
    );
    assert_eq!(
        err(PostedAlert {
            labels: labels(&[("a", "x")]),
            starts_at: Some(ts("2026-01-01T03:00:00Z")),
            ends_at: Some(ts("2026-01-01T01:00:00Z")),
            ..Default::default()
        }),
        "start time must be before end time"
    );
}

#[test]
fn store_merges_overlapping_updates_and_gcs_resolved() {
    let store = AlertStore::default();
    let t0 = ts("2026-01-01T00:00:00Z");
    let post = |starts: Option<Timestamp>, ends: Option<Timestamp>, now: Timestamp| {
        PostedAlert {
            labels: labels(&[("a", "b")]),
            starts_at: starts,
            ends_at: ends,
            ..Default::default()
        }
        .into_alert(&Arrival::new(now, TIMEOUT))
        .unwrap()
    };
    store.put(post(None, None, t0), t0);
    let t1 = ts("2026-01-01T00:01:00Z");
    store.put(post(None, None, t1), t1);
    let fp = Fingerprint::of(&labels(&[("a", "b")]));
    let stored = store.get(fp).unwrap();
    // The earliest start stays, the timeout end moves on.
    assert_eq!(stored.starts_at, t0);
    assert_eq!(stored.ends_at, ts("2026-01-01T00:06:00Z"));
    assert_eq!(stored.updated_at, t1);

    // An explicit resolve inside the range ends the alert.
    let t2 = ts("2026-01-01T00:02:00Z");
    store.put(post(None, Some(t2), t2), t2);
    assert_eq!(store.get(fp).unwrap().ends_at, t2);
    assert_eq!(store.get(fp).unwrap().starts_at, t0);

    assert_eq!(store.gc(t1), 0);
    assert_eq!(store.gc(t2), 1);
    assert!(store.is_empty());
}

#[test]
fn non_overlapping_update_replaces() {
    let store = AlertStore::default();
    let t0 = ts("2026-01-01T00:00:00Z");
    let first = PostedAlert {
        labels: labels(&[("a", "b")]),
        starts_at: Some(t0),
        ends_at: Some(ts("2026-01-01T00:01:00Z")),
        ..Default::default()
    }
    .into_alert(&Arrival::new(t0, TIMEOUT))
    .unwrap();
    store.put(first, t0);
    let later = ts("2026-01-01T01:00:00Z");
    let second = PostedAlert {
        labels: labels(&[("a", "b")]),
        starts_at: Some(later),
        ..Default::default()
    }
    .into_alert(&Arrival::new(later, TIMEOUT))
    .unwrap();
    store.put(second.clone(), later);
    assert_eq!(*store.get(second.fingerprint).unwrap(), second);
}

#[test]
fn store_hands_the_encoding_on_only_while_its_fields_stay() {
    let store = AlertStore::default();
    let t0 = ts("2026-01-01T00:00:00Z");
    let post = |summary: &str, url: &str, now: Timestamp| {
        PostedAlert {
            labels: labels(&[("a", "b")]),
            annotations: labels(&[("summary", summary)]),
            generator_url: url.to_owned(),
            ..Default::default()
        }
        .into_alert(&Arrival::new(now, TIMEOUT))
        .unwrap()
    };
    let encoded = |a: &Alert| a.json.0.get().map(|j| Arc::clone(&j.bytes));
    store.put(post("s", "u", t0), t0);
    // Not listed yet: nothing to hand on.
    let second = store.put(post("s", "u", t0), t0);
    assert!(encoded(&second).is_none());
    let json = second.json.get_or_init(|| StaticJson::of(&second));
    assert_eq!(json.head(), br#"{"annotations":{"summary":"s"}"#);
    assert_eq!(json.tail(), br#","generatorURL":"u","labels":{"a":"b"}}"#);
    assert!(json.matches(&second));

    // A re-send with new times shares it; a new annotation or URL does not.
    let t1 = ts("2026-01-01T00:01:00Z");
    let resent = store.put(post("s", "u", t1), t1);
    assert!(Arc::ptr_eq(
        &encoded(&resent).unwrap(),
        &encoded(&second).unwrap()
    ));
    assert!(resent.same_labels(&second));
    for (summary, url) in [("other", "u"), ("s", "other")] {
        let changed = store.put(post(summary, url, t1), t1);
        assert!(encoded(&changed).is_none(), "{summary} {url}");
        assert!(changed.same_labels(&resent));
        assert!(!resent.json.0.get().unwrap().matches(&changed));
        changed.json.get_or_init(|| StaticJson::of(&changed));
    }
}

#[test]
fn an_encoding_matches_only_its_own_fields() {
    let t0 = ts("2026-01-01T00:00:00Z");
    let alert = |pairs: &[(&str, &str)], summary: &str| {
        PostedAlert {
            labels: labels(pairs),
            annotations: labels(&[("summary", summary)]),
            ..Default::default()
        }
        .into_alert(&Arrival::new(t0, TIMEOUT))
        .unwrap()
    };
    let long = "a summary longer than one small piece of output, ending in X";
    let base = alert(&[("a", "b")], long);
    let json = StaticJson::of(&base);
    assert!(json.matches(&alert(&[("a", "b")], long)));
    // A long string that differs in its last byte, a short one, an extra label (the
    // encoding is a prefix of the new one) and a missing one (the new one is a prefix).
    assert!(!json.matches(&alert(&[("a", "b")], &long.replace('X', "Y"))));
    assert!(!json.matches(&alert(&[("a", "c")], long)));
    assert!(!json.matches(&alert(&[("a", "b"), ("c", "d")], long)));
    assert!(!StaticJson::of(&alert(&[("a", "b"), ("c", "d")], long)).matches(&base));
}
