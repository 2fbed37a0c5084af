//! The loop shared by the providers that poll (DNS, HTTP): refresh at start and then every
//! interval; a failed refresh is counted and leaves the last groups in place.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::TargetGroup;
use crate::provider::{Context, Updates};

/// One poll of a source of targets.
pub(crate) trait Refresh: Send {
    /// The current groups, or why they could not be fetched.
    fn refresh(&mut self) -> impl Future<Output = Result<Vec<TargetGroup>, String>> + Send;
}

pub(crate) async fn run(
    mut source: impl Refresh,
    mechanism: &'static str,
    interval: Duration,
    ctx: Context,
    updates: Updates,
) {
    let labels = [ctx.set_name.as_str(), mechanism];
    let failures = ctx.metrics.refresh_failures.with_label_values(&labels);
    let duration = ctx.metrics.refresh_duration.with_label_values(&labels);
    let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let start = Instant::now();
        let result = source.refresh().await;
        duration.observe(start.elapsed().as_secs_f64());
        match result {
            Ok(groups) => updates.send(groups),
            Err(err) => {
                failures.inc();
                tracing::error!(mechanism, config = %ctx.set_name, %err, "Unable to refresh target groups");
            }
        }
    }
}
