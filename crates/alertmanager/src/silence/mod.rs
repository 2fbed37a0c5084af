//! Silences: create, update, expire and query them with upstream's rules, so that an update
//! which would rewrite history (other matchers, a moved start of an active silence) expires the
//! old silence and creates a new one instead.

pub mod snapshot;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use jiff::{SignedDuration, Timestamp};

use crate::alert::LabelSet;
use crate::clock::Clock;
use crate::generation::Generation;
use crate::labels::{MatchType, Matcher};

/// Where a silence stands at a given time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SilenceState {
    Active,
    Pending,
    Expired,
}

impl SilenceState {
    pub fn as_str(self) -> &'static str {
        match self {
            SilenceState::Active => "active",
            SilenceState::Pending => "pending",
            SilenceState::Expired => "expired",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Silence {
    /// Empty when creating.
    pub id: String,
    pub matchers: Vec<Matcher>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub updated_at: Timestamp,
    pub created_by: String,
    pub comment: String,
}

impl Silence {
    pub fn state_at(&self, now: Timestamp) -> SilenceState {
        if now < self.starts_at {
            SilenceState::Pending
        } else if now > self.ends_at {
            SilenceState::Expired
        } else {
            SilenceState::Active
        }
    }

    /// Whether every matcher accepts the labels (an absent label reads as `""`).
    pub fn matches(&self, labels: &LabelSet) -> bool {
        self.matchers
            .iter()
            .all(|m| m.matches(labels.get(m.name()).map_or("", String::as_str)))
    }

    fn same_matchers(&self, other: &Silence) -> bool {
        self.matchers.len() == other.matchers.len()
            && self.matchers.iter().zip(&other.matchers).all(|(a, b)| {
                a.name() == b.name() && a.value() == b.value() && a.match_type() == b.match_type()
            })
    }

    fn validate(&self) -> Result<(), String> {
        if self.matchers.is_empty() {
            return Err("at least one matcher required".into());
        }
        if self.ends_at < self.starts_at {
            return Err("end time must not be before start time".into());
        }
        Ok(())
    }
}

/// Builds one silence matcher as the API describes it, with upstream's validation texts.
pub fn silence_matcher(
    index: usize,
    name: &str,
    value: &str,
    is_regex: bool,
    is_equal: bool,
) -> Result<Matcher, SilenceError> {
    let invalid = |e: String| SilenceError::Invalid(format!("invalid label matcher {index}: {e}"));
    if !crate::labels::is_legacy_label_name(name) {
        return Err(invalid(format!("invalid label name {name:?}")));
    }
    let match_type = match (is_regex, is_equal) {
        (false, true) => MatchType::Equal,
        (false, false) => MatchType::NotEqual,
        (true, true) => MatchType::Regexp,
        (true, false) => MatchType::NotRegexp,
    };
    Matcher::new(match_type, name, value)
        .map_err(|e| invalid(format!("invalid regular expression {value:?}: {e}")))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SilenceError {
    #[error("silence not found")]
    NotFound,
    #[error("silence invalid: {0}")]
    Invalid(String),
}

/// Every silence, by ID, until it has been expired for longer than the retention.
#[derive(Debug)]
pub struct Silences {
    by_id: RwLock<HashMap<String, Arc<Silence>>>,
    generation: Generation,
    clock: Arc<dyn Clock>,
    retention: SignedDuration,
}

impl Silences {
    pub fn new(clock: Arc<dyn Clock>, retention: SignedDuration) -> Self {
        Silences {
            by_id: RwLock::default(),
            generation: Generation::default(),
            clock,
            retention,
        }
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Creates a silence (empty ID) or updates one; returns the ID it is stored under, which
    /// is new when the update could not be applied in place.
    pub fn set(&self, sil: Silence) -> Result<String, SilenceError> {
        let now = self.clock.now();
        let mut by_id = self.by_id.write().unwrap_or_else(PoisonError::into_inner);
        let stored = set_locked(&mut by_id, sil, now);
        drop(by_id);
        // Also after a refused update: an expiry may have happened before the refusal.
        self.generation.bump();
        stored
    }

    /// Ends a silence now (a pending one never starts). Expiring an expired silence changes
    /// nothing and is no error, as upstream's API answers it.
    pub fn expire(&self, id: &str) -> Result<(), SilenceError> {
        let now = self.clock.now();
        let mut by_id = self.by_id.write().unwrap_or_else(PoisonError::into_inner);
        let expired = expire_locked(&mut by_id, id, now);
        drop(by_id);
        self.generation.bump();
        expired
    }

    /// Counts every change to the silences (see [`Generation`]); changes of state by the
    /// clock alone are not counted: see [`Self::next_change`].
    pub fn generation(&self) -> u64 {
        self.generation.get()
    }

    /// The earliest instant after `now` at which some silence starts or ends by the clock
    /// alone: until then, the silences active at `now` stay the active ones.
    pub fn next_change(&self, now: Timestamp) -> Option<Timestamp> {
        self.by_id
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .filter_map(|s| match s.state_at(now) {
                SilenceState::Pending => Some(s.starts_at),
                // Active up to and including `ends_at`.
                SilenceState::Active => s.ends_at.checked_add(SignedDuration::from_nanos(1)).ok(),
                SilenceState::Expired => None,
            })
            .min()
    }

    pub fn get(&self, id: &str) -> Option<Arc<Silence>> {
        self.by_id
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned()
    }

    pub fn list(&self) -> Vec<Arc<Silence>> {
        self.by_id
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect()
    }

    /// The silences active at `now`, to test many alerts against one consistent set.
    pub fn active_at(&self, now: Timestamp) -> Vec<Arc<Silence>> {
        let mut active: Vec<_> = self
            .by_id
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .filter(|s| s.state_at(now) == SilenceState::Active)
            .cloned()
            .collect();
        active.sort_by(|a, b| a.id.cmp(&b.id));
        active
    }

    /// Forgets silences that ended more than the retention ago; returns how many.
    pub fn gc(&self) -> usize {
        let now = self.clock.now();
        let mut by_id = self.by_id.write().unwrap_or_else(PoisonError::into_inner);
        let before = by_id.len();
        by_id.retain(|_, s| {
            s.ends_at
                .saturating_add(self.retention)
                .is_ok_and(|t| t >= now)
        });
        let removed = before - by_id.len();
        drop(by_id);
        if removed > 0 {
            self.generation.bump();
        }
        removed
    }
}

impl Silences {
    /// Writes every silence to `path` in upstream's snapshot format; returns the size.
    pub fn save(&self, path: &std::path::Path) -> Result<usize, snapshot::SnapshotError> {
        let bytes = snapshot::encode(&self.list(), self.retention);
        snapshot::write(path, &bytes)?;
        Ok(bytes.len())
    }

    /// Adds the silences of a snapshot (those not yet past their retention).
    pub fn load(&self, path: &std::path::Path) -> Result<usize, snapshot::SnapshotError> {
        let loaded = snapshot::read(path, self.clock.now())?;
        let count = loaded.len();
        let mut by_id = self.by_id.write().unwrap_or_else(PoisonError::into_inner);
        for s in loaded {
            by_id.insert(s.id.clone(), Arc::new(s));
        }
        drop(by_id);
        self.generation.bump();
        Ok(count)
    }
}

/// The IDs (sorted) of the silences in `active` that match `labels`.
pub fn silenced_by(active: &[Arc<Silence>], labels: &LabelSet) -> Vec<String> {
    active
        .iter()
        .filter(|s| s.matches(labels))
        .map(|s| s.id.clone())
        .collect()
}

/// [`Silences::set`] under the write lock.
fn set_locked(
    by_id: &mut HashMap<String, Arc<Silence>>,
    mut sil: Silence,
    now: Timestamp,
) -> Result<String, SilenceError> {
    let prev = if sil.id.is_empty() {
        None
    } else {
        Some(by_id.get(&sil.id).cloned().ok_or(SilenceError::NotFound)?)
    };
    if let Some(prev) = prev {
        if can_update(&prev, &sil, now) {
            return store(by_id, sil, now);
        }
        if prev.state_at(now) != SilenceState::Expired {
            expire_locked(by_id, &prev.id, now)?;
        }
    }
    sil.id = new_uuid();
    if sil.starts_at < now {
        sil.starts_at = now;
    }
    store(by_id, sil, now)
}

fn store(
    by_id: &mut HashMap<String, Arc<Silence>>,
    mut sil: Silence,
    now: Timestamp,
) -> Result<String, SilenceError> {
    sil.updated_at = now;
    sil.validate().map_err(SilenceError::Invalid)?;
    let id = sil.id.clone();
    by_id.insert(id.clone(), Arc::new(sil));
    Ok(id)
}

fn expire_locked(
    by_id: &mut HashMap<String, Arc<Silence>>,
    id: &str,
    now: Timestamp,
) -> Result<(), SilenceError> {
    let mut sil = Silence::clone(by_id.get(id).ok_or(SilenceError::NotFound)?);
    match sil.state_at(now) {
        SilenceState::Expired => return Ok(()),
        SilenceState::Active => sil.ends_at = now,
        SilenceState::Pending => {
            sil.starts_at = now;
            sil.ends_at = now;
        }
    }
    store(by_id, sil, now).map(drop)
}

/// Whether `new` may overwrite `old` in place: same matchers, and only the changes the old
/// silence's state allows (an active silence keeps its start and may not end in the past).
fn can_update(old: &Silence, new: &Silence, now: Timestamp) -> bool {
    if !old.same_matchers(new) {
        return false;
    }
    match old.state_at(now) {
        // Whole seconds, as upstream: clients echo the start back at the API's millisecond
        // precision.
        SilenceState::Active => {
            new.starts_at.as_second() == old.starts_at.as_second() && new.ends_at >= now
        }
        SilenceState::Pending => new.starts_at >= now,
        SilenceState::Expired => false,
    }
}

/// A random (version 4) UUID in its usual text form, as upstream's silence IDs.
fn new_uuid() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the OS random source is available");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Whether `s` is a UUID in the form the API accepts for silence IDs.
pub fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}
