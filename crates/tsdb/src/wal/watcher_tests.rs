use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pm_common::model::Labels;

use super::*;
use crate::record::{encode_samples, encode_series};
use crate::wal::checkpoint::{Retain, checkpoint};
use crate::wal::{Compression, Wal, WalOptions};

#[derive(Default)]
struct Seen {
    series: Vec<(u64, u32)>,
    samples: Vec<RefSample>,
    resets: Vec<u32>,
}

#[derive(Clone, Default)]
struct Collect(Arc<Mutex<Seen>>);

impl WatcherSink for Collect {
    fn store_series(&mut self, series: Vec<RefSeries>, segment: u32) {
        let mut seen = self.0.lock().unwrap();
        seen.series.extend(series.iter().map(|s| (s.r, segment)));
    }
    fn store_metadata(&mut self, _: Vec<RefMetadata>) {}
    fn append(&mut self, data: Watched) -> bool {
        if let Watched::Samples(s) = data {
            self.0.lock().unwrap().samples.extend(s);
        }
        true
    }
    fn series_reset(&mut self, segment: u32) {
        self.0.lock().unwrap().resets.push(segment);
    }
}

fn series(r: u64) -> Vec<u8> {
    let mut buf = Vec::new();
    encode_series(
        &[RefSeries {
            r,
            labels: Labels::from_pairs([("__name__", format!("m{r}"))]),
        }],
        &mut buf,
    );
    buf
}

fn samples(r: u64, ts: std::ops::Range<i64>) -> Vec<u8> {
    let mut buf = Vec::new();
    let s: Vec<RefSample> = ts.map(|t| RefSample { r, t, v: t as f64 }).collect();
    encode_samples(&s, &mut buf);
    buf
}

/// Polls `cond` for up to 10 s.
fn wait_for(seen: &Collect, cond: impl Fn(&Seen) -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if cond(&seen.0.lock().unwrap()) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

struct Running {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn start(dir: &Path, sink: &Collect) -> Running {
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = Watcher::new(
        dir,
        WatcherOptions {
            poll_interval: Duration::from_millis(5),
            checkpoint_period: Duration::from_millis(20),
            ..WatcherOptions::default()
        },
    );
    let mut sink = sink.clone();
    let flag = stop.clone();
    let thread = std::thread::spawn(move || watcher.run(&mut sink, &flag));
    Running {
        stop,
        thread: Some(thread),
    }
}

#[test]
fn tails_growing_segments_and_skips_samples_from_before_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let opts = WalOptions {
        segment_size: 2 * PAGE_SIZE,
        compression: Compression::None,
    };
    let mut wal = Wal::open(dir.path(), opts).unwrap();
    // Written before the watcher starts: series are learnt, old samples are not sent.
    wal.log(&[series(1), samples(1, 0..10)]).unwrap();
    wal.next_segment().unwrap();
    wal.log(&[series(2)]).unwrap();
    let seen = Collect::default();
    let _running = start(dir.path(), &seen);
    assert!(wait_for(&seen, |s| s.series.len() == 2));
    assert_eq!(seen.0.lock().unwrap().series, [(1, 0), (2, 1)]);
    let now = now_millis();
    // Enough records to cross pages and several segments, some split into fragments.
    let mut want = 0;
    for i in 0..40 {
        let from = now + 1000 + i * 500;
        wal.log(&[samples(2, from..from + 500)]).unwrap();
        want += 500;
    }
    assert!(wal.current_segment() >= 3, "the test should span segments");
    assert!(
        wait_for(&seen, |s| s.samples.len() == want),
        "got {} samples of {want}",
        seen.0.lock().unwrap().samples.len()
    );
    let seen = seen.0.lock().unwrap();
    assert!(seen.samples.iter().all(|s| s.r == 2 && s.t > now));
    assert!(seen.samples.windows(2).all(|w| w[0].t < w[1].t));
}

#[test]
fn reads_series_from_the_checkpoint_and_reports_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    let opts = WalOptions {
        compression: Compression::Snappy,
        ..WalOptions::default()
    };
    let mut wal = Wal::open(dir.path(), opts).unwrap();
    wal.log(&[series(1), series(2)]).unwrap();
    wal.next_segment().unwrap();
    let keep_all = |_| true;
    checkpoint(
        dir.path(),
        0,
        &Retain {
            series: &keep_all,
            mint: 0,
        },
    )
    .unwrap();
    wal.truncate(1).unwrap();
    let seen = Collect::default();
    let _running = start(dir.path(), &seen);
    assert!(wait_for(&seen, |s| s.series == [(1, 0), (2, 0)]));
    // A later checkpoint while tailing: its series are stored again, then the reset.
    wal.log(&[series(3)]).unwrap();
    wal.next_segment().unwrap();
    checkpoint(
        dir.path(),
        1,
        &Retain {
            series: &keep_all,
            mint: 0,
        },
    )
    .unwrap();
    assert!(wait_for(&seen, |s| s.resets == [1]));
    let seen = seen.0.lock().unwrap();
    assert!(seen.series.contains(&(3, 1)));
}
