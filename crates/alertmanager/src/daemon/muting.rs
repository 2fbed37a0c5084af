//! An alert's status at one instant: which active silences match it and which firing alert
//! inhibits it. A request takes one [`Muting`] and asks it only about the alerts it answers
//! with; the inhibition index over the stored alerts is built on first need (and never when
//! no rule targets the alerts asked about), walking the store one shard at a time.

use std::sync::Arc;
use std::sync::OnceLock;

use jiff::Timestamp;

use super::Runtime;
use crate::alert::{Alert, AlertStore, Fingerprint};
use crate::inhibit::InhibitIndex;
use crate::silence::Silence;

/// What mutes one alert, as of a [`Muting`]'s instant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Muted {
    /// Positions in the [`Muting`]'s active silences, which are in id order.
    silences: Vec<usize>,
    pub inhibited_by: Option<Fingerprint>,
}

impl Muted {
    pub fn is_silenced(&self) -> bool {
        !self.silences.is_empty()
    }

    pub fn is_inhibited(&self) -> bool {
        self.inhibited_by.is_some()
    }

    /// Neither silenced nor inhibited (upstream's state `active`; else `suppressed`).
    pub fn is_active(&self) -> bool {
        !self.is_silenced() && !self.is_inhibited()
    }
}

/// The time, the config and the silences active at that time, for one request or pass.
#[derive(Debug)]
pub struct Muting<'a> {
    pub now: Timestamp,
    pub runtime: Arc<Runtime>,
    silences: Vec<Arc<Silence>>,
    store: &'a AlertStore,
    /// A `OnceLock`: the groups listing's threads share one index, built by the first that
    /// needs it.
    inhibition: OnceLock<InhibitIndex>,
}

impl<'a> Muting<'a> {
    pub(super) fn new(
        now: Timestamp,
        runtime: Arc<Runtime>,
        silences: Vec<Arc<Silence>>,
        store: &'a AlertStore,
    ) -> Self {
        Muting {
            now,
            runtime,
            silences,
            store,
            inhibition: OnceLock::new(),
        }
    }

    /// What mutes an alert. Must not be called while holding a lock of the alert store (the
    /// first call that needs the inhibition index reads every shard).
    pub fn status(&self, alert: &Alert) -> Muted {
        let silences = self
            .silences
            .iter()
            .enumerate()
            .filter(|(_, s)| s.matches(&alert.labels))
            .map(|(i, _)| i)
            .collect();
        let inhibitor = &self.runtime.inhibitor;
        let inhibited_by = if inhibitor.may_mute(&alert.labels) {
            self.inhibition
                .get_or_init(|| {
                    let mut index = inhibitor.empty_index(self.now);
                    self.store.for_each(|a| index.add(a));
                    index
                })
                .inhibited_by(&alert.labels)
        } else {
            None
        };
        Muted {
            silences,
            inhibited_by,
        }
    }

    /// When inhibition may first answer differently by the clock alone, if it was consulted
    /// at all (otherwise no status asked about so far depends on it).
    pub fn inhibition_next_change(&self) -> Option<Timestamp> {
        self.inhibition.get().and_then(InhibitIndex::next_change)
    }

    /// The ids of the silences muting an alert, in id order.
    pub fn silence_ids<'m>(&'m self, muted: &'m Muted) -> impl Iterator<Item = &'m str> {
        muted.silences.iter().map(|&i| self.silences[i].id.as_str())
    }
}
