//! One target's scrape loop: offset, ticker, scrape, one appender transaction per scrape, and
//! staleness markers two intervals after the loop is stopped for good.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pm_storage::{Appendable, Appender};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

use super::ScrapeError;
use super::append::{AppendStats, Report, TargetAppender, wall_millis};
use super::cache::ScrapeCache;
use super::metrics::ScrapeMetrics;
use super::scraper::Scraper;
use super::target::Target;

/// Scrape times within this much after the ideal tick are moved onto it, so that timestamps
/// stay evenly spaced and compress well (upstream's `ScrapeTimestampTolerance`, capped at 1%
/// of the interval).
const TIMESTAMP_TOLERANCE: Duration = Duration::from_millis(2);

/// How a loop is asked to end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    Run,
    /// Gone for good: write staleness markers for everything it wrote.
    Stop,
    /// Replaced by a loop that takes over the cache: no staleness markers.
    Handover,
}

/// An error every scrape of the loop reports instead of scraping (a pool over its
/// `target_limit`).
pub(crate) type ForcedError = Arc<Mutex<Option<ScrapeError>>>;

pub(crate) struct LoopHandle {
    signal: watch::Sender<Signal>,
    task: JoinHandle<Option<ScrapeCache>>,
    forced: ForcedError,
}

impl LoopHandle {
    pub fn set_forced_error(&self, err: Option<ScrapeError>) {
        *self.forced.lock().unwrap_or_else(PoisonError::into_inner) = err;
    }

    /// Stops the loop; its staleness markers follow in the background (unless the server
    /// shuts down).
    pub async fn stop(self) {
        let _ = self.signal.send(Signal::Stop);
        let _ = self.task.await;
    }

    /// Stops the loop without staleness markers and returns its cache for the successor.
    pub async fn hand_over(self) -> Option<ScrapeCache> {
        let _ = self.signal.send(Signal::Handover);
        self.task.await.ok().flatten()
    }
}

pub(crate) struct LoopParams {
    pub target: Arc<Target>,
    pub scraper: Scraper,
    pub appendable: Arc<dyn Appendable>,
    pub appender: TargetAppender,
    pub interval: Duration,
    pub timeout: Duration,
    pub offset_seed: u64,
    pub metrics: Arc<ScrapeMetrics>,
    /// Flips to true when the server shuts down: loops end without staleness markers, as the
    /// server will resume where it stopped.
    pub shutdown: watch::Receiver<bool>,
    pub forced: Option<ScrapeError>,
}

/// Starts a loop on the current Tokio runtime.
pub(crate) fn spawn(params: LoopParams) -> LoopHandle {
    let (signal, rx) = watch::channel(Signal::Run);
    let forced: ForcedError = Arc::new(Mutex::new(params.forced.clone()));
    let task = tokio::spawn(run(params, rx, forced.clone()));
    LoopHandle {
        signal,
        task,
        forced,
    }
}

struct Loop {
    p: LoopParams,
    forced: ForcedError,
    buf: Vec<u8>,
    interval_label: String,
}

async fn run(
    params: LoopParams,
    mut signal: watch::Receiver<Signal>,
    forced: ForcedError,
) -> Option<ScrapeCache> {
    let mut shutdown = params.shutdown.clone();
    let interval = params.interval;
    let now_nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as i128);
    let offset = params
        .target
        .offset(interval, params.offset_seed, now_nanos);
    let mut lp = Loop {
        interval_label: pm_common::config::Duration::from_std(interval).to_string(),
        p: params,
        forced,
        buf: Vec::new(),
    };
    tokio::select! {
        _ = tokio::time::sleep(offset) => {}
        _ = signal.changed() => {
            let sig = *signal.borrow();
            return lp.finish(sig, None, None).await;
        }
        _ = shutdown.changed() => return None,
    }
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let mut last: Option<Instant> = None;
    let mut last_scrape_time: Option<SystemTime> = None;
    let mut aligned = SystemTime::now();
    let tolerance = TIMESTAMP_TOLERANCE.min(interval / 100);
    loop {
        if *shutdown.borrow() {
            return None;
        }
        if *signal.borrow() != Signal::Run {
            break;
        }
        let mut scrape_time = SystemTime::now();
        while scrape_time
            .duration_since(aligned)
            .is_ok_and(|d| d >= interval)
        {
            aligned += interval;
        }
        if scrape_time
            .duration_since(aligned)
            .is_ok_and(|d| d <= tolerance)
        {
            scrape_time = aligned;
        }
        last = Some(lp.scrape_and_report(last, scrape_time).await);
        last_scrape_time = Some(scrape_time);
        tokio::select! {
            _ = ticker.tick() => {}
            _ = signal.changed() => {}
            _ = shutdown.changed() => return None,
        }
    }
    let sig = *signal.borrow();
    lp.finish(sig, last_scrape_time, Some(ticker)).await
}

impl Loop {
    async fn finish(
        self,
        signal: Signal,
        last: Option<SystemTime>,
        ticker: Option<tokio::time::Interval>,
    ) -> Option<ScrapeCache> {
        match signal {
            Signal::Handover => Some(self.p.appender.cache),
            Signal::Stop | Signal::Run => {
                if let (Some(_), Some(ticker)) = (last, ticker) {
                    tokio::spawn(end_of_run_staleness(self.p, ticker));
                }
                None
            }
        }
    }

    /// One scrape and its transaction; returns when it started, for the interval metric.
    async fn scrape_and_report(
        &mut self,
        last: Option<Instant>,
        scrape_time: SystemTime,
    ) -> Instant {
        let start = Instant::now();
        let start_wall = SystemTime::now();
        if let Some(last) = last {
            self.p
                .metrics
                .interval_length
                .with_label_values(&[&self.interval_label])
                .observe(start.duration_since(last).as_secs_f64());
        }
        let ts = wall_millis(scrape_time);
        let forced = self
            .forced
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut app = self.p.appendable.appender();
        let mut bytes: i64 = 0;
        let mut stats = AppendStats::default();
        let scrape_err = match forced {
            Some(err) => Some(err),
            None => match self.p.scraper.scrape(&mut self.buf).await {
                Ok(content_type) => {
                    bytes = self.buf.len() as i64;
                    match self
                        .p
                        .appender
                        .append(&mut *app, &self.buf, &content_type, ts)
                    {
                        Ok(s) => {
                            stats = s;
                            None
                        }
                        Err(err) => {
                            tracing::debug!(err = %err.error, "Append failed");
                            let _ = app.rollback();
                            app = self.p.appendable.appender();
                            stats = err.stats;
                            Some(err.error)
                        }
                    }
                }
                Err(err) => {
                    tracing::debug!(%err, target = %self.p.target.url(), "Scrape failed");
                    if matches!(err, ScrapeError::BodySizeLimit) {
                        self.p.metrics.exceeded_body_size_limit.inc();
                        bytes = -1;
                    }
                    Some(err)
                }
            },
        };
        if scrape_err.is_some() {
            // A failed scrape counts as an empty one: its series go stale.
            if let Err(err) = self.p.appender.append(&mut *app, &[], "", ts) {
                tracing::warn!(err = %err.error, "Append failed");
                let _ = app.rollback();
                app = self.p.appendable.appender();
            }
        }
        let duration = start.elapsed();
        self.p.target.report(
            start_wall,
            duration,
            scrape_err.as_ref().map(|e| e as &dyn std::fmt::Display),
        );
        let report = Report {
            start_ms: ts,
            duration,
            stats,
            bytes,
            healthy: scrape_err.is_none(),
            timeout: self.p.timeout,
        };
        let res = self.p.appender.report(&mut *app, &report);
        commit(app, res);
        start
    }
}

fn commit(app: Box<dyn Appender>, res: Result<(), ScrapeError>) {
    match res {
        Ok(()) => {
            if let Err(err) = app.commit() {
                tracing::warn!(%err, "Scrape commit failed");
            }
        }
        Err(err) => {
            tracing::warn!(%err, "Appending scrape report failed");
            let _ = app.rollback();
        }
    }
}

/// Waits until two more scrapes would have happened (plus 10% of the interval) and then
/// marks all of the target's series stale; if a new loop for the same target has written
/// since, the markers are out of order and ignored by the storage.
async fn end_of_run_staleness(mut p: LoopParams, mut ticker: tokio::time::Interval) {
    let mut shutdown = p.shutdown.clone();
    let stale_time = tokio::select! {
        _ = ticker.tick() => SystemTime::now(),
        _ = shutdown.changed() => return,
    };
    tokio::select! {
        _ = ticker.tick() => {}
        _ = shutdown.changed() => return,
    }
    tokio::select! {
        _ = tokio::time::sleep(p.interval / 10) => {}
        _ = shutdown.changed() => return,
    }
    let mut app = p.appendable.appender();
    let res = p.appender.end_of_run(&mut *app, wall_millis(stale_time));
    commit(app, res);
}
