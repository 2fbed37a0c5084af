//! The groups listing's walk over the dispatcher: each shard walked under its lock, its
//! shown groups then encoded (or copied from their kept encodings) right away, on several
//! threads when there is much to encode, and the parts sorted into upstream's order.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Bytes;
use jiff::Timestamp;

use super::plan::{Planning, RoutePlan};
use super::{AlertFilter, GroupsAnswer, Reuse};
use crate::alert::{Alert, Fingerprint};
use crate::api::encode::{self, GroupEncoder, Listed, ListedGroup};
use crate::clock::earliest;
use crate::daemon::Muting;
use crate::dispatch::{Fragment, GroupAlerts, GroupId, TimeSlots};

/// A shown group as the walk found it, with its key in the answer's order.
struct WalkedGroup {
    key: Arc<[u8]>,
    route: usize,
    walked: Walked,
}

/// A shown group's alerts, or a kept encoding of them.
enum Walked {
    Alerts {
        id: Arc<GroupId>,
        version: u64,
        alerts: Vec<Arc<Alert>>,
        tail: Arc<[u8]>,
        /// The encoding this listing replaces, to patch or as a buffer for the new one.
        replaced: Option<Stale>,
    },
    Kept {
        body: Bytes,
        until: Option<Timestamp>,
    },
}

/// What a listing takes over from a group's replaced encoding: its buffer, and where the
/// alerts' times are in it if this listing may patch them (it was computed under the same
/// query and silences, and the group was not inhibitable: its statuses depend on nothing
/// else).
struct Stale {
    body: Bytes,
    times: Option<TimeSlots>,
}

impl Stale {
    fn of(old: Fragment, reuse: &Reuse) -> Self {
        let patchable =
            *old.query == *reuse.query && old.silences == reuse.silences && old.alerts.is_none();
        Stale {
            body: old.body,
            times: old.times.filter(|_| patchable),
        }
    }
}

/// A shown group between the walk and the writing.
enum Shown<'a> {
    Listed {
        group: ListedGroup<'a>,
        key: Arc<[u8]>,
        version: u64,
        /// The earliest end of its shown alerts.
        first_end: Option<Timestamp>,
        /// Inhibition could mute one of its alerts (so any stored alert may change it).
        inhibitable: bool,
        replaced: Option<Stale>,
    },
    Kept {
        key: Arc<[u8]>,
        route: usize,
        receiver: &'a str,
        body: Bytes,
        until: Option<Timestamp>,
    },
}

#[cfg(test)]
impl<'a> Shown<'a> {
    /// Its place in the answer: by labels, then receiver (then route, so that groups equal
    /// in both come in the same order whichever thread encoded them).
    fn order(&self) -> (&[u8], &'a str, usize) {
        match self {
            Shown::Listed { group, key, .. } => (key, group.receiver, group.id.route),
            Shown::Kept {
                key,
                receiver,
                route,
                ..
            } => (key, receiver, *route),
        }
    }
}

/// Reads the fields of each alert the listing will need ahead of the pass that needs them.
/// These loads do not depend on each other, so the CPU overlaps their cache misses; the pass
/// itself clones each alert's `Arc`, whose atomic increment waits for every earlier load, so
/// there each miss was paid in turn. Alerts are a few hundred bytes each, scattered over
/// hundreds of MB: after a re-send nearly every one misses.
fn warm<'x>(alerts: impl Iterator<Item = &'x Arc<Alert>>) {
    for a in alerts {
        std::hint::black_box((
            a.labels.len(),
            a.ends_at,
            a.fingerprint,
            a.generator_url.len(),
        ));
    }
}

/// One shown group's part of the answer (empty when the status flags hid all its alerts),
/// with its place in the order.
struct Piece<'a> {
    key: Arc<[u8]>,
    receiver: &'a str,
    route: usize,
    part: Bytes,
}

/// What encoding some of the shown groups produced.
#[derive(Default)]
struct Encoded<'a> {
    pieces: Vec<Piece<'a>>,
    /// Encodings to keep with their groups (group, version the alerts had, encoding).
    kept: Vec<(Arc<GroupId>, u64, Fragment)>,
    reused: usize,
    /// Groups encoded (not copied).
    encoded: usize,
    /// Of those, the ones whose stale encoding only had their times rewritten.
    patched: usize,
    /// The earliest instant a part may change by the clock (the silences' own schedule is
    /// the caller's to add; so is inhibition's, known once every status was computed).
    valid_until: Option<Timestamp>,
}

impl Encoded<'_> {
    fn until(&mut self, t: Option<Timestamp>) {
        self.valid_until = earliest([self.valid_until, t]);
    }

    fn merge(&mut self, other: Self) {
        self.pieces.extend(other.pieces);
        self.kept.extend(other.kept);
        self.reused += other.reused;
        self.encoded += other.encoded;
        self.patched += other.patched;
        self.until(other.valid_until);
    }
}

/// Groups the request's thread encodes on its own before it starts others for the remaining
/// shards. After one change nearly every group is copied, and the whole listing takes about
/// a millisecond: another thread then costs more than it saves, and on a loaded machine
/// waiting for one that was preempted mid-shard cost several.
const SPAWN_AFTER_ENCODED: usize = 64;
/// Threads a listing uses at most (the request's and the spawned ones).
const MAX_THREADS: usize = 4;

/// What one groups listing reads and computes with, shared by its threads.
struct Lister<'a> {
    muting: &'a Muting<'a>,
    f: &'a AlertFilter,
    planning: Planning,
    reuse: Option<&'a Reuse>,
    /// Per route: its receiver, as the one-element list of an alert only that route holds.
    route_receivers: &'a [[&'a str; 1]],
    plans: &'a [RoutePlan<'a>],
}

impl<'a> Lister<'a> {
    /// Picks, under the group's shard lock, what the listing needs of a shown group.
    fn visit(&self, id: &Arc<GroupId>, mut alerts: GroupAlerts<'_>, out: &mut Vec<WalkedGroup>) {
        // The group's copy of its route: the id is not read unless the filter needs its labels.
        let route = alerts.route();
        let plan = &self.plans[route];
        let now = self.muting.now;
        if !plan.group_shown(id) || !plan.may_show(&mut alerts) {
            return;
        }
        if let Some(reuse) = self.reuse
            && let Some(kept) = alerts.fragment(now)
            && reuse.admits(kept, now)
        {
            let walked = Walked::Kept {
                body: kept.body.clone(),
                until: kept.until,
            };
            out.push(WalkedGroup {
                key: Arc::clone(alerts.order_key()),
                route,
                walked,
            });
            return;
        }
        warm(alerts.iter());
        let pick = |a: &&Arc<Alert>| !a.resolved_at(now) && plan.alert_shown(a);
        let picked: Vec<Arc<Alert>> = match self.planning {
            Planning::ByGroup => alerts.sorted().filter(pick).cloned().collect(),
            #[cfg(test)]
            Planning::PerAlert => alerts.iter().filter(pick).cloned().collect(),
        };
        if picked.is_empty() {
            return;
        }
        // Only a listing that keeps its encodings replaces the kept ones.
        let replaced = self
            .reuse
            .and_then(|reuse| Some(Stale::of(alerts.take_replaced()?, reuse)));
        let receiver = self.route_receivers[route][0];
        let tail = Arc::clone(alerts.tail(|id| encode::group_tail(id, receiver)));
        out.push(WalkedGroup {
            key: Arc::clone(alerts.order_key()),
            route,
            walked: Walked::Alerts {
                id: Arc::clone(id),
                version: alerts.version(),
                alerts: picked,
                tail,
                replaced,
            },
        });
    }

    /// Computes the statuses of a walked group's alerts (no lock held).
    fn shown(&self, g: WalkedGroup) -> Shown<'a> {
        let receivers = &self.route_receivers[g.route];
        let (id, version, alerts, tail, replaced) = match g.walked {
            Walked::Kept { body, until } => {
                return Shown::Kept {
                    key: g.key,
                    route: g.route,
                    receiver: receivers[0],
                    body,
                    until,
                };
            }
            Walked::Alerts {
                id,
                version,
                alerts,
                tail,
                replaced,
            } => (id, version, alerts, tail, replaced),
        };
        let inhibitor = &self.muting.runtime.inhibitor;
        let first_end = alerts.iter().map(|a| a.ends_at).min();
        let inhibitable =
            self.reuse.is_some() && alerts.iter().any(|a| inhibitor.may_mute(&a.labels));
        let alerts: Vec<Listed<'a>> = alerts
            .into_iter()
            .filter_map(|alert| {
                let muted = self.muting.status(&alert);
                self.f.status_shown(&muted).then_some(Listed {
                    alert,
                    muted,
                    receivers,
                })
            })
            .collect();
        Shown::Listed {
            group: ListedGroup {
                receiver: receivers[0],
                id,
                alerts,
                tail,
            },
            key: g.key,
            version,
            first_end,
            inhibitable,
            replaced,
        }
    }

    /// Writes a shown group's part (or copies its kept one) into `out`.
    fn encode(&self, s: Shown<'a>, enc: &mut GroupEncoder<'a>, out: &mut Encoded<'a>) {
        match s {
            Shown::Kept {
                key,
                route,
                receiver,
                body,
                until,
            } => {
                out.until(until);
                out.reused += 1;
                out.pieces.push(Piece {
                    key,
                    receiver,
                    route,
                    part: body,
                });
            }
            Shown::Listed {
                group,
                key,
                version,
                first_end,
                inhibitable,
                replaced,
            } => {
                // A group all of whose alerts the status flags hid is not shown, but kept
                // (empty) all the same: what hid them holds as long as what would show them.
                out.encoded += 1;
                let (part, times) = if group.alerts.is_empty() {
                    (Bytes::new(), None)
                } else {
                    match Self::patch(&group, replaced, enc) {
                        Ok(patched) => {
                            out.patched += 1;
                            patched
                        }
                        // The replaced encoding's buffer, unless an answer still being sent
                        // (or cached for another query) shares it.
                        Err(buffer) => enc.group(self.muting, &group, buffer, self.reuse.is_some()),
                    }
                };
                out.until(first_end);
                if let Some(reuse) = self.reuse {
                    // An inhibitable group's statuses were computed, so the inhibition
                    // index (and when it changes next) is known.
                    let inhibition_until =
                        self.muting.inhibition_next_change().filter(|_| inhibitable);
                    let bound = earliest([reuse.silences_until, inhibition_until]);
                    let fragment = Fragment {
                        query: Arc::clone(&reuse.query),
                        silences: reuse.silences,
                        alerts: inhibitable.then_some(reuse.alerts),
                        at: self.muting.now,
                        until: earliest([first_end, bound]),
                        bound,
                        body: part.clone(),
                        times,
                    };
                    out.kept.push((Arc::clone(&group.id), version, fragment));
                }
                out.pieces.push(Piece {
                    key,
                    receiver: group.receiver,
                    route: group.id.route,
                    part,
                });
            }
        }
    }

    /// The group's part from its replaced encoding with only the alerts' times rewritten,
    /// if this listing may patch it ([`Stale`]) and [`GroupEncoder::patch`] finds its alerts
    /// unchanged but for their times. Otherwise the replaced encoding's buffer, if no answer
    /// shares it.
    fn patch(
        group: &ListedGroup<'a>,
        replaced: Option<Stale>,
        enc: &mut GroupEncoder<'a>,
    ) -> Result<(Bytes, Option<TimeSlots>), Option<Vec<u8>>> {
        let Some(old) = replaced else {
            return Err(None);
        };
        match old.times {
            Some(mut times) => {
                let part = enc.patch(group, old.body, &mut times)?;
                Ok((part, Some(times)))
            }
            None => Err(encode::reusable(old.body)),
        }
    }

    /// Walks, then right away (while its alerts are still in the CPU's caches) encodes,
    /// one dispatcher shard's shown groups, and keeps their encodings.
    fn shard(&self, shard: usize, enc: &mut GroupEncoder<'a>, out: &mut Encoded<'a>) {
        let dispatcher = &self.muting.runtime.dispatcher;
        let mut walked = Vec::new();
        dispatcher.for_each_group_in(shard, |id, alerts| self.visit(id, alerts, &mut walked));
        let mut shown = walked.into_iter().map(|g| self.shown(g)).peekable();
        // Patching the times reads no alert's encoding, but writes into the stale part.
        let warm = |s: Option<&Shown<'a>>| {
            if let Some(Shown::Listed {
                group, replaced, ..
            }) = s
            {
                match replaced {
                    Some(old) if old.times.is_some() => encode::warm_part(&old.body),
                    _ => encode::warm(group),
                }
            }
        };
        warm(shown.peek());
        while let Some(s) = shown.next() {
            // The next group's encodings are read while this one is written.
            warm(shown.peek());
            self.encode(s, enc, out);
        }
        if !out.kept.is_empty() {
            dispatcher.keep_fragments_in(shard, out.kept.drain(..));
        }
    }

    /// Every shard, spread over up to `threads` threads (the calling one included) once
    /// [`SPAWN_AFTER_ENCODED`] groups needed encoding; each thread takes the next shard
    /// nobody took yet.
    fn shards(&self, threads: usize) -> Encoded<'a> {
        let count = self.muting.runtime.dispatcher.shard_count();
        let next = AtomicUsize::new(0);
        // Until all shards are taken, or (`alone`) until enough groups were encoded.
        let work = |enc: &mut GroupEncoder<'a>, out: &mut Encoded<'a>, alone: bool| loop {
            if alone && out.encoded >= SPAWN_AFTER_ENCODED {
                return;
            }
            let shard = next.fetch_add(1, Ordering::Relaxed);
            if shard >= count {
                return;
            }
            self.shard(shard, enc, out);
        };
        let mut enc = GroupEncoder::new();
        let mut all = Encoded::default();
        work(&mut enc, &mut all, threads > 1);
        if next.load(Ordering::Relaxed) >= count {
            return all;
        }
        std::thread::scope(|scope| {
            let others: Vec<_> = (1..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut enc = GroupEncoder::new();
                        let mut out = Encoded::default();
                        work(&mut enc, &mut out, false);
                        out
                    })
                })
                .collect();
            work(&mut enc, &mut all, false);
            for other in others {
                match other.join() {
                    Ok(encoded) => all.merge(encoded),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            }
        });
        all
    }
}

/// The pieces' parts in the answer's order: by key, receiver, then route. The keys of most
/// answers share a long prefix (the label count and the grouping label's name), so each
/// piece is first compared by the 16 bytes after the prefix all keys share, as an integer,
/// and only pieces equal there by the rest: with 10,000 groups, comparing whole keys (two
/// pointer chases and a `memcmp` in each of ~140,000 comparisons) took half the time the
/// listing needed after one alert was added. The parts are then taken out in that order
/// (moving the pieces themselves into it had cost as much as the sort).
fn sorted_parts(mut pieces: Vec<Piece<'_>>) -> Vec<Bytes> {
    let Some(first) = pieces.first() else {
        return Vec::new();
    };
    let first = Arc::clone(&first.key);
    let shared = pieces.iter().fold(first.len(), |n, p| {
        n.min(
            first
                .iter()
                .zip(p.key.iter())
                .take_while(|(a, b)| a == b)
                .count(),
        )
    });
    // A key's next 16 bytes, zero-padded: if two keys' prefixes differ, their keys differ
    // the same way (a key ending early pads with zeros, and is the smaller one).
    let prefix = |key: &[u8]| {
        let mut bytes = [0u8; 16];
        let rest = &key[shared..];
        let n = rest.len().min(16);
        bytes[..n].copy_from_slice(&rest[..n]);
        u128::from_be_bytes(bytes)
    };
    let mut order: Vec<(u128, usize)> = pieces
        .iter()
        .enumerate()
        .map(|(i, p)| (prefix(&p.key), i))
        .collect();
    order.sort_unstable_by(|(pa, a), (pb, b)| {
        pa.cmp(pb).then_with(|| {
            let (a, b) = (&pieces[*a], &pieces[*b]);
            (&*a.key, a.receiver, a.route).cmp(&(&*b.key, b.receiver, b.route))
        })
    });
    order
        .into_iter()
        .map(|(_, i)| std::mem::take(&mut pieces[i].part))
        .collect()
}

/// The dispatcher's groups with their shown alerts, ordered by group labels then receiver,
/// each group's alerts in upstream's order (kept by the group while its alerts keep their
/// labels); each alert lists the receivers of every shown group it is in, sorted.
///
/// With `reuse`, a group whose alerts did not change since an earlier answer computed under
/// the same [`Reuse`] is copied from that answer, and every group encoded is kept for later
/// ones; unless `continue` routes make an alert's receivers depend on other groups.
///
/// Without `continue` routes each shard's groups are encoded as soon as the shard was
/// walked, on several threads once many needed encoding: every alert is then read once
/// while in the CPU's caches (they are scattered over hundreds of MB, and each pass over
/// 100,000 of them cost ~10 ms of memory stalls). With them every group must be walked
/// before any can be encoded.
pub(in crate::api) fn list_groups(
    muting: &Muting<'_>,
    f: &AlertFilter,
    planning: Planning,
    reuse: Option<&Reuse>,
) -> GroupsAnswer {
    let runtime = Arc::clone(&muting.runtime);
    let tree = &runtime.tree;
    let reuse = reuse.filter(|_| !tree.fans_out());
    let route_receivers: Vec<[&str; 1]> = (0..tree.len())
        .map(|id| [tree.node(id).opts.receiver.as_str()])
        .collect();
    let plans: Vec<RoutePlan<'_>> = route_receivers
        .iter()
        .enumerate()
        .map(|(route, [r])| {
            let opts = &tree.node(route).opts;
            RoutePlan::new(route, opts, f, f.receiver_matches(r), planning)
        })
        .collect();
    let mut gathered: HashMap<Fingerprint, Vec<&str>> = HashMap::new();
    let lister = Lister {
        muting,
        f,
        planning,
        reuse,
        route_receivers: &route_receivers,
        plans: &plans,
    };
    let dispatcher = &runtime.dispatcher;
    let only_named = plans.iter().all(|p| !p.shown || p.only.is_some());
    let mut encoded = if !tree.fans_out() && planning == Planning::ByGroup && !only_named {
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(MAX_THREADS);
        lister.shards(threads)
    } else {
        let mut walked = Vec::new();
        if only_named {
            for id in plans
                .iter()
                .filter(|p| p.shown)
                .filter_map(|p| p.only.as_ref())
            {
                dispatcher.with_group(id, |id, alerts| lister.visit(id, alerts, &mut walked));
            }
        } else {
            dispatcher.for_each_group(|id, alerts| lister.visit(id, alerts, &mut walked));
        }
        // No lock is held from here on.
        let mut shown: Vec<Shown<'_>> = walked.into_iter().map(|g| lister.shown(g)).collect();
        // Without `continue` routes every alert is in one group only, and its receivers are
        // that group's; otherwise gather them over the shown groups.
        if tree.fans_out() {
            for s in &shown {
                if let Shown::Listed { group, .. } = s {
                    for l in &group.alerts {
                        gathered
                            .entry(l.alert.fingerprint)
                            .or_default()
                            .push(group.receiver);
                    }
                }
            }
            for r in gathered.values_mut() {
                r.sort_unstable();
            }
            for s in &mut shown {
                if let Shown::Listed { group, .. } = s {
                    for l in &mut group.alerts {
                        l.receivers = &gathered[&l.alert.fingerprint];
                    }
                }
            }
        }
        #[cfg(test)]
        if planning == Planning::PerAlert {
            return plain(muting, shown);
        }
        let mut enc = GroupEncoder::new();
        let mut out = Encoded::default();
        for s in shown {
            lister.encode(s, &mut enc, &mut out);
        }
        out
    };
    for (id, version, fragment) in encoded.kept.drain(..) {
        dispatcher.keep_fragment(&id, version, fragment);
    }
    let parts = sorted_parts(std::mem::take(&mut encoded.pieces));
    // Statuses were all computed by now, so the inhibition index (if needed) is built.
    encoded.until(muting.inhibition_next_change());
    GroupsAnswer {
        body: encode::groups_answer(parts.into_iter()),
        valid_until: encoded.valid_until,
        reused: encoded.reused,
        patched: encoded.patched,
    }
}

/// The answer the plain way, which the planned one must agree with.
#[cfg(test)]
fn plain(muting: &Muting<'_>, mut shown: Vec<Shown<'_>>) -> GroupsAnswer {
    shown.sort_by(|a, b| a.order().cmp(&b.order()));
    let mut ends = Vec::new();
    let mut groups: Vec<ListedGroup<'_>> = shown
        .into_iter()
        .filter_map(|s| match s {
            Shown::Listed {
                group, first_end, ..
            } => {
                ends.extend(first_end);
                (!group.alerts.is_empty()).then_some(group)
            }
            Shown::Kept { .. } => unreachable!("the plain walk keeps nothing"),
        })
        .collect();
    let body =
        crate::api::chunks::Chunks::new(vec![encode::groups_plain(muting, &mut groups).into()]);
    let valid_until = ends
        .into_iter()
        .chain(muting.inhibition_next_change())
        .min();
    GroupsAnswer {
        body,
        valid_until,
        reused: 0,
        patched: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_sort_by_key_receiver_then_route() {
        let keys: [&[u8]; 9] = [
            b"\0\0\0\x01group-1",
            b"\0\0\0\x01group-10",
            b"\0\0\0\x01group-1\0",
            b"\0\0\0\x01group-2",
            b"\0\0\0\x01group-10000000000000000000a",
            b"\0\0\0\x01group-10000000000000000000b",
            b"\0\0\0\x01group-1000000000000000000",
            b"\0\0\0\x01group",
            b"\0\0\0\x02a",
        ];
        let mut pieces: Vec<Piece<'_>> = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            for (receiver, route) in [("b", 1), ("a", 2), ("a", 1)] {
                pieces.push(Piece {
                    key: Arc::from(*key),
                    receiver,
                    route,
                    part: Bytes::from(format!("{i}{receiver}{route}")),
                });
            }
        }
        pieces.reverse();
        let mut expected: Vec<(Vec<u8>, &str, usize, Bytes)> = pieces
            .iter()
            .map(|p| (p.key.to_vec(), p.receiver, p.route, p.part.clone()))
            .collect();
        expected.sort();
        let expected: Vec<Bytes> = expected.into_iter().map(|(.., part)| part).collect();
        let one = vec![Piece {
            key: Arc::clone(&pieces[0].key),
            receiver: "r",
            route: 0,
            part: Bytes::from_static(b"one"),
        }];
        assert_eq!(sorted_parts(pieces), expected);
        // One piece, and none.
        assert_eq!(sorted_parts(one), [Bytes::from_static(b"one")]);
        assert!(sorted_parts(Vec::new()).is_empty());
    }
}
