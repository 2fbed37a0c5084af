use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use super::*;
use crate::clock::{Clock as _, ManualClock};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn setup() -> (Arc<ManualClock>, Silences) {
    let clock = Arc::new(ManualClock::new(ts("2026-01-01T00:00:00Z")));
    let silences = Silences::new(clock.clone(), SignedDuration::from_hours(1));
    (clock, silences)
}

fn silence(value: &str, starts: &str, ends: &str) -> Silence {
    Silence {
        id: String::new(),
        matchers: vec![silence_matcher(0, "team", value, false, true).unwrap()],
        starts_at: ts(starts),
        ends_at: ts(ends),
        updated_at: Timestamp::UNIX_EPOCH,
        created_by: "me".into(),
        comment: "c".into(),
    }
}

#[test]
fn create_clamps_start_and_updates_in_place_when_allowed() {
    let (clock, silences) = setup();
    let id = silences
        .set(silence("a", "2025-12-31T00:00:00Z", "2026-01-02T00:00:00Z"))
        .unwrap();
    assert!(is_uuid(&id), "{id}");
    let stored = silences.get(&id).unwrap();
    assert_eq!(stored.starts_at, clock.now());
    assert_eq!(stored.state_at(clock.now()), SilenceState::Active);

    // Same matchers, same start, later end: updated in place.
    let mut update = Silence::clone(&stored);
    update.ends_at = ts("2026-01-03T00:00:00Z");
    assert_eq!(silences.set(update).unwrap(), id);
    assert_eq!(
        silences.get(&id).unwrap().ends_at,
        ts("2026-01-03T00:00:00Z")
    );

    // Other matchers: the old one expires, a new one takes over.
    clock.advance(SignedDuration::from_mins(1));
    let mut other = Silence::clone(&silences.get(&id).unwrap());
    other.matchers = vec![silence_matcher(0, "team", "b", false, true).unwrap()];
    let new_id = silences.set(other).unwrap();
    assert_ne!(new_id, id);
    assert_eq!(
        silences
            .get(&id)
            .unwrap()
            .state_at(clock.now() + SignedDuration::from_secs(1)),
        SilenceState::Expired
    );
}

#[test]
fn expire_and_gc() {
    let (clock, silences) = setup();
    let pending = silences
        .set(silence("a", "2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z"))
        .unwrap();
    assert_eq!(
        silences.get(&pending).unwrap().state_at(clock.now()),
        SilenceState::Pending
    );
    silences.expire(&pending).unwrap();
    let s = silences.get(&pending).unwrap();
    assert_eq!((s.starts_at, s.ends_at), (clock.now(), clock.now()));
    clock.advance(SignedDuration::from_secs(1));
    // Expiring again changes nothing.
    silences.expire(&pending).unwrap();
    let again = silences.get(&pending).unwrap();
    assert_eq!(again.ends_at, s.ends_at);
    assert_eq!(again.updated_at, s.updated_at);
    assert_eq!(silences.expire("nope"), Err(SilenceError::NotFound));
    let mut unknown = silence("a", "2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z");
    unknown.id = "41062fcc-5551-455e-9c6e-2e79bf926d02".into();
    assert_eq!(silences.set(unknown), Err(SilenceError::NotFound));

    assert_eq!(silences.gc(), 0);
    clock.advance(SignedDuration::from_hours(2));
    assert_eq!(silences.gc(), 1);
    assert!(silences.get(&pending).is_none());
}

#[test]
fn validation_texts() {
    assert_eq!(
        silence_matcher(0, "a b", "x", false, true)
            .unwrap_err()
            .to_string(),
        "silence invalid: invalid label matcher 0: invalid label name \"a b\""
    );
    assert_eq!(
        silence_matcher(2, "a", "(", true, true)
            .unwrap_err()
            .to_string(),
        "silence invalid: invalid label matcher 2: invalid regular expression \"(\": \
         error parsing regexp: missing closing ): `(`"
    );
    let (_, silences) = setup();
    let mut empty = silence("a", "2026-01-01T01:00:00Z", "2026-01-01T02:00:00Z");
    empty.matchers.clear();
    assert_eq!(
        silences.set(empty).unwrap_err().to_string(),
        "silence invalid: at least one matcher required"
    );
}

#[test]
fn muting() {
    let (clock, silences) = setup();
    let id = silences
        .set(silence("a", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"))
        .unwrap();
    silences
        .set(silence("a", "2026-01-01T05:00:00Z", "2026-01-02T00:00:00Z"))
        .unwrap();
    let active = silences.active_at(clock.now());
    let labels = |v: &str| LabelSet::from([("team".to_owned(), v.to_owned())]);
    assert_eq!(silenced_by(&active, &labels("a")), vec![id]);
    assert!(silenced_by(&active, &labels("b")).is_empty());
}

#[test]
fn snapshot_round_trip_in_upstream_format() {
    let (clock, silences) = setup();
    let id = silences
        .set(silence("a", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"))
        .unwrap();
    let mut regex = silence("x", "2026-01-01T00:00:00Z", "2026-01-01T00:30:00Z");
    regex.matchers = vec![silence_matcher(0, "job", "a.*", true, false).unwrap()];
    let short = silences.set(regex).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("silences");
    silences.save(&path).unwrap();

    // Upstream's encoding of one silence: id (1), matcher (2: name 2, pattern 3), times as
    // google.protobuf.Timestamp, created_by (8), comment (9), then expires_at (2).
    let bytes = std::fs::read(&path).unwrap();
    let one = snapshot::encode(&[silences.get(&id).unwrap()], SignedDuration::from_hours(1));
    assert!(bytes.windows(one.len()).any(|w| w == one));
    let contains = |needle: &[u8]| one.windows(needle.len()).any(|w| w == needle);
    assert!(contains(b"\x12\x04team\x1a\x01a"));
    assert!(contains(b"\x42\x02me"));
    assert!(contains(b"\x4a\x01c"));

    // A restart later: the short silence is past its retention and is not loaded.
    clock.advance(SignedDuration::from_mins(90) + SignedDuration::from_secs(1));
    let restarted = Silences::new(clock.clone(), SignedDuration::from_hours(1));
    assert_eq!(restarted.load(&path).unwrap(), 1);
    let loaded = restarted.get(&id).unwrap();
    let original = silences.get(&id).unwrap();
    assert_eq!(
        (loaded.starts_at, loaded.ends_at, loaded.updated_at),
        (original.starts_at, original.ends_at, original.updated_at)
    );
    assert_eq!(loaded.matchers, original.matchers);
    assert!(restarted.get(&short).is_none());
    // A missing file loads nothing; a corrupt one is an error naming the file.
    assert_eq!(restarted.load(&dir.path().join("none")).unwrap(), 0);
    std::fs::write(&path, [0x05, 0xff]).unwrap();
    assert!(
        restarted
            .load(&path)
            .unwrap_err()
            .to_string()
            .contains("silences")
    );
}
