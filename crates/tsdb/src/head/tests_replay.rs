//! The sharded replay against a sequential model of the log: whatever the shard count, the
//! head must hold exactly what applying the records one by one gives.

use std::collections::BTreeMap;

use pm_common::model::{Labels, Metadata, MetricType};
use pm_storage::Appender;

use super::tests::dump;
use super::*;
use crate::record::{self, RefExemplar, RefMetadata, RefSample, RefSeries, Stone};
use crate::wal::{PAGE_SIZE, Wal, WalOptions};

/// A deterministic xorshift generator.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

type Dump = Vec<(Labels, Vec<(i64, f64)>)>;

/// What applying the log's records in order gives: per label set, the samples kept (in-order
/// ones only, as the head has no out-of-order window here), the deleted intervals and the
/// last metadata.
#[derive(Default)]
struct Model {
    refs: BTreeMap<u64, Labels>,
    samples: BTreeMap<Labels, Vec<(i64, f64)>>,
    deleted: BTreeMap<Labels, Vec<(i64, i64)>>,
    metadata: BTreeMap<Labels, Metadata>,
    replayed: u64,
    unknown: u64,
}

impl Model {
    fn series(&mut self, r: u64, labels: &Labels) {
        self.refs.insert(r, labels.clone());
        self.samples.entry(labels.clone()).or_default();
    }

    fn sample(&mut self, r: u64, t: i64, v: f64) {
        let Some(l) = self.refs.get(&r) else {
            self.unknown += 1;
            return;
        };
        let s = self.samples.get_mut(l).unwrap();
        // Replay counts every sample of a known series, kept or not.
        self.replayed += 1;
        if s.last().is_none_or(|&(last, _)| t > last) {
            s.push((t, v));
        }
    }

    fn dump(&self) -> Dump {
        self.samples
            .iter()
            .map(|(l, s)| {
                let deleted = self.deleted.get(l).map_or(&[][..], Vec::as_slice);
                let kept = s
                    .iter()
                    .copied()
                    .filter(|&(t, _)| !deleted.iter().any(|&(a, b)| a <= t && t <= b))
                    .collect();
                (l.clone(), kept)
            })
            .filter(|(_, s): &(Labels, Vec<_>)| !s.is_empty())
            .collect()
    }
}

/// Writes a log of interleaved series, samples, tombstone and metadata records to `dir/wal`
/// and returns the model of it: series created along the way, some with references far from
/// the others, some label sets coming back under a second reference, samples for unknown
/// references, duplicate and older timestamps, deletes.
fn write_log(dir: &Path) -> Model {
    let opts = WalOptions {
        segment_size: PAGE_SIZE * 4,
        ..WalOptions::default()
    };
    let mut wal = Wal::open(dir.join("wal"), opts).unwrap();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut model = Model::default();
    let mut live: Vec<u64> = Vec::new();
    let mut next = 1u64;
    for round in 0..300i64 {
        let mut recs = Vec::new();
        let mut series = Vec::new();
        for _ in 0..rng.below(6) {
            let i = next;
            next += 1;
            // Every seventh series has a reference far away, as after much churn.
            let r = if i.is_multiple_of(7) {
                (1 << 40) + i
            } else {
                i
            };
            let labels = Labels::from_pairs([
                ("__name__", format!("m{}", i % 5)),
                ("series", i.to_string()),
            ]);
            series.push(RefSeries { r, labels });
        }
        if round % 40 == 39 && !live.is_empty() {
            // A label set already known comes back under a new reference.
            let old = live[rng.below(live.len() as u64) as usize];
            let labels = model.refs[&old].clone();
            let r = 500_000 + round as u64;
            series.push(RefSeries { r, labels });
        }
        for s in &series {
            model.series(s.r, &s.labels);
            live.push(s.r);
        }
        if !series.is_empty() {
            let mut b = Vec::new();
            record::encode_series(&series, &mut b);
            recs.push(b);
        }
        // Samples for a random subset of the series in a random order, sometimes split over
        // two records.
        let mut samples = Vec::new();
        for &r in &live {
            if rng.below(4) == 0 {
                continue;
            }
            let t = match rng.below(20) {
                0 => round * 1000 - 500,
                1 => (round - 1).max(0) * 1000,
                _ => round * 1000,
            };
            let v = (rng.below(1000) as f64) / 8.0;
            let at = rng.below(samples.len() as u64 + 1) as usize;
            samples.insert(at, RefSample { r, t, v });
        }
        if rng.below(10) == 0 {
            samples.push(RefSample {
                r: 900_000_000,
                t: round * 1000,
                v: 1.0,
            });
        }
        let split = rng.below(samples.len() as u64 + 1) as usize;
        for part in [&samples[..split], &samples[split..]] {
            if part.is_empty() {
                continue;
            }
            for s in part {
                model.sample(s.r, s.t, s.v);
            }
            let mut b = Vec::new();
            record::encode_samples(part, &mut b);
            recs.push(b);
        }
        if round % 17 == 5 && !live.is_empty() {
            let r = live[rng.below(live.len() as u64) as usize];
            let mint = rng.below(round as u64 * 1000 + 1) as i64;
            let maxt = mint + rng.below(20_000) as i64;
            model
                .deleted
                .entry(model.refs[&r].clone())
                .or_default()
                .push((mint, maxt));
            let mut b = Vec::new();
            record::encode_tombstones(&[Stone { r, mint, maxt }], &mut b);
            recs.push(b);
        }
        if round % 23 == 7 && !live.is_empty() {
            let r = live[rng.below(live.len() as u64) as usize];
            let m = Metadata {
                metric_type: MetricType::Counter,
                help: format!("help {round}"),
                unit: "seconds".into(),
            };
            model.metadata.insert(model.refs[&r].clone(), m.clone());
            let mut b = Vec::new();
            let rm = RefMetadata {
                r,
                metric_type: m.metric_type,
                unit: m.unit,
                help: m.help,
            };
            record::encode_metadata(&[rm], &mut b);
            recs.push(b);
        }
        wal.log(&recs).unwrap();
    }
    wal.sync().unwrap();
    model
}

#[test]
fn sharded_replay_matches_a_sequential_model() {
    let dir = tempfile::tempdir().unwrap();
    let model = write_log(dir.path());
    let want = model.dump();
    assert!(want.len() > 500, "{} series", want.len());
    let mut first_stats = None;
    for shards in [1, 3, 8] {
        let progress = WalReplayProgress::default();
        let (h, stats) =
            Head::open_sharded(dir.path(), HeadOptions::default(), &progress, shards).unwrap();
        assert_eq!(stats.samples, model.replayed, "{shards} shards");
        assert_eq!(stats.unknown_refs, model.unknown, "{shards} shards");
        assert_eq!(stats.repaired, None);
        assert_eq!(dump(&h), want, "{shards} shards");
        for (labels, m) in &model.metadata {
            let s = h
                .inner
                .series
                .by_labels(labels.hash_value(), labels)
                .unwrap();
            assert_eq!(s.lock().metadata.as_ref(), Some(m), "{shards} shards");
        }
        // Later appends continue the replayed series (and the references the log used).
        let (l, samples) = &want[want.len() / 2];
        let s = h.inner.series.by_labels(l.hash_value(), l).unwrap();
        let mut app = h.appender();
        let last = samples.last().unwrap().0;
        assert!(
            app.append(pm_storage::SeriesRef(s.r), l, last, 0.3)
                .is_err_and(|e| e.to_string().contains("out of order")
                    || e.to_string().contains("duplicate")),
        );
        drop(app);
        match &first_stats {
            None => first_stats = Some(stats),
            Some(f) => assert_eq!(&stats, f, "{shards} shards"),
        }
        drop(h);
    }
}

/// An exemplar logged under the second reference of a label set (as after a checkpoint) is
/// found by the label set: the head keeps the series under its first reference.
#[test]
fn exemplars_follow_a_label_set_under_its_new_reference() {
    use pm_common::model::{MatchType, Matcher};
    use pm_storage::ExemplarQueryable;

    let dir = tempfile::tempdir().unwrap();
    let labels = Labels::from_pairs([("__name__", "x"), ("job", "a")]);
    let trace = Labels::from_pairs([("trace_id", "t1")]);
    let mut wal = Wal::open(dir.path().join("wal"), WalOptions::default()).unwrap();
    let mut recs = Vec::new();
    for r in [1, 7] {
        let mut b = Vec::new();
        record::encode_series(
            &[RefSeries {
                r,
                labels: labels.clone(),
            }],
            &mut b,
        );
        recs.push(b);
    }
    let mut b = Vec::new();
    record::encode_samples(
        &[RefSample {
            r: 7,
            t: 10,
            v: 1.0,
        }],
        &mut b,
    );
    recs.push(b);
    let mut b = Vec::new();
    let exemplar = RefExemplar {
        r: 7,
        t: 10,
        v: 1.0,
        labels: trace.clone(),
    };
    record::encode_exemplars(&[exemplar], &mut b);
    recs.push(b);
    wal.log(&recs).unwrap();
    wal.sync().unwrap();
    drop(wal);

    let opts = HeadOptions {
        max_exemplars: 10,
        ..HeadOptions::default()
    };
    let (h, stats) =
        Head::open_sharded(dir.path(), opts, &WalReplayProgress::default(), 2).unwrap();
    assert_eq!(stats.exemplars, 1);
    let job = Matcher::new(MatchType::Equal, "job", "a").unwrap();
    let got = h
        .exemplar_querier()
        .unwrap()
        .select(0, 100, &[vec![job]])
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].series_labels, labels);
    assert_eq!(got[0].exemplars.len(), 1);
    assert_eq!(got[0].exemplars[0].labels, trace);
}
