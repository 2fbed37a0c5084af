//! Turning one scrape body into one appender transaction: parsing, the per-target cache,
//! target labels and `metric_relabel_configs`, the limits, staleness markers and the
//! synthetic `up`/`scrape_*` series (upstream's `scrapeLoop.append` and `report`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pm_common::expfmt::negotiate::ScrapeProtocol;
use pm_common::expfmt::textparse::Entry;
use pm_common::model::{
    Exemplar, Label, Labels, LabelsBuilder, METRIC_NAME_LABEL, NameValidation, ScratchBuilder,
    stale_nan, write_go_quoted,
};
use pm_common::relabel::{self, RelabelConfig};
use pm_storage::{AppendOptions, Appender, SeriesRef, StorageError};

use super::ScrapeError;
use super::cache::{CacheEntry, ScrapeCache};
use super::histogram_limit::{BucketLimitExceeded, HistogramLimits};
use super::metrics::ScrapeMetrics;
use super::parse::Source;
use super::proto::{NativeHistogram, ProtoOptions};
use super::target::Target;
use crate::config::ScrapeConfig;

/// Samples stamped further than this into the future are rejected as out of bounds.
const MAX_AHEAD: Duration = Duration::from_secs(600);

/// The scrape settings the append path needs, resolved from the job's config.
#[derive(Debug, Clone)]
pub(crate) struct AppendSettings {
    pub honor_labels: bool,
    pub honor_timestamps: bool,
    pub track_timestamps_staleness: bool,
    pub metric_relabel_configs: Vec<RelabelConfig>,
    pub sample_limit: usize,
    pub label_limit: usize,
    pub label_name_length_limit: usize,
    pub label_value_length_limit: usize,
    pub validation: NameValidation,
    pub fallback: Option<ScrapeProtocol>,
    pub proto: ProtoOptions,
    pub histogram_limits: HistogramLimits,
    pub extra_metrics: bool,
}

impl AppendSettings {
    pub fn from_config(cfg: &ScrapeConfig) -> AppendSettings {
        let s = &cfg.settings;
        let usize_of = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        AppendSettings {
            honor_labels: s.honor_labels,
            honor_timestamps: s.honor_timestamps,
            track_timestamps_staleness: s.track_timestamps_staleness,
            metric_relabel_configs: s.metric_relabel_configs.clone(),
            sample_limit: usize_of(s.sample_limit),
            label_limit: usize_of(s.label_limit),
            label_name_length_limit: usize_of(s.label_name_length_limit),
            label_value_length_limit: usize_of(s.label_value_length_limit),
            validation: s
                .metric_name_validation_scheme
                .unwrap_or(NameValidation::Utf8),
            fallback: s
                .fallback_scrape_protocol
                .as_ref()
                .and_then(|p| p.0.parse().ok()),
            proto: ProtoOptions {
                native_histograms: cfg.scrape_native_histograms_enabled(),
                always_classic: cfg.always_scrape_classic_histograms_enabled(),
            },
            histogram_limits: HistogramLimits::new(
                s.native_histogram_bucket_limit,
                s.native_histogram_min_bucket_factor,
            ),
            extra_metrics: cfg.extra_scrape_metrics_enabled(),
        }
    }
}

/// Counts of one scrape, as the synthetic series report them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AppendStats {
    /// `scrape_samples_scraped`.
    pub total: usize,
    /// `scrape_samples_post_metric_relabeling`.
    pub added: usize,
    /// `scrape_series_added`.
    pub series_added: usize,
}

/// A failed append: the error, and what was counted before it (upstream reports these
/// partial counts in `scrape_samples_scraped` and friends).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{error}")]
pub struct AppendError {
    pub stats: AppendStats,
    pub error: ScrapeError,
}

/// What the synthetic series of one scrape carry.
pub(crate) struct Report {
    pub start_ms: i64,
    pub duration: Duration,
    pub stats: AppendStats,
    /// Body bytes; -1 when the body size limit cut the scrape.
    pub bytes: i64,
    pub healthy: bool,
    pub timeout: Duration,
}

/// Per-scrape error tallies, logged once at the end of the scrape.
#[derive(Default)]
struct AppendErrors {
    out_of_order: usize,
    duplicates: usize,
    out_of_bounds: usize,
}

/// One target's append state: its cache and the settings; owned by the target's loop.
pub struct TargetAppender {
    target: Arc<Target>,
    settings: AppendSettings,
    pub(crate) cache: ScrapeCache,
    /// The synthetic series' refs and labels.
    report_cache: HashMap<&'static str, (SeriesRef, Labels)>,
    metrics: Arc<ScrapeMetrics>,
    scratch: ScratchBuilder,
}

impl TargetAppender {
    /// An appender for `target` with `cfg`'s settings and a fresh cache.
    pub fn new(target: Arc<Target>, cfg: &ScrapeConfig, metrics: Arc<ScrapeMetrics>) -> Self {
        let cache = ScrapeCache::new(target.metadata.clone());
        Self::with_cache(target, AppendSettings::from_config(cfg), cache, metrics)
    }

    pub(crate) fn with_cache(
        target: Arc<Target>,
        settings: AppendSettings,
        cache: ScrapeCache,
        metrics: Arc<ScrapeMetrics>,
    ) -> Self {
        TargetAppender {
            target,
            settings,
            cache,
            report_cache: HashMap::new(),
            metrics,
            scratch: ScratchBuilder::new(),
        }
    }

    /// Appends a scrape body received at `ts` (milliseconds) to `app`. An empty body (a
    /// failed scrape) only writes staleness markers for the previous scrape's series. On an
    /// error the caller rolls back and appends an empty body in a new transaction, as
    /// upstream, so that the series go stale.
    pub fn append(
        &mut self,
        app: &mut dyn Appender,
        body: &[u8],
        content_type: &str,
        ts: i64,
    ) -> Result<AppendStats, AppendError> {
        let mut stats = AppendStats::default();
        let fail = |stats: AppendStats| move |error| AppendError { stats, error };
        if body.is_empty() {
            let res = self.update_stale_markers(app, ts);
            self.iter_done(false);
            return res.map(|()| stats).map_err(fail(stats));
        }
        let mut src = Source::new(
            body,
            content_type,
            self.settings.fallback,
            self.settings.proto,
        )
        .map_err(fail(stats))?;
        let res = self.append_entries(app, &mut src, ts, &mut stats);
        if res.is_ok() {
            self.iter_done(true);
        }
        res.map(|()| stats).map_err(fail(stats))
    }

    fn iter_done(&mut self, flush: bool) {
        if self.cache.iter_done(flush) {
            self.metrics.cache_flush_forced.inc();
        }
    }

    fn append_entries(
        &mut self,
        app: &mut dyn Appender,
        src: &mut Source<'_>,
        default_ts: i64,
        stats: &mut AppendStats,
    ) -> Result<(), ScrapeError> {
        let TargetAppender {
            target,
            settings,
            cache,
            metrics,
            scratch,
            ..
        } = self;
        let serial = cache.serial();
        let mut errs = AppendErrors::default();
        let mut sample_limit_hit = false;
        let mut bucket_limit_hit = false;
        let mut appended = 0usize;
        let max_time = wall_millis(SystemTime::now() + MAX_AHEAD);
        let mut exemplars: Vec<Exemplar> = Vec::new();
        let mut result = Ok(());
        while let Some(entry) = src.next()? {
            match entry {
                Entry::Type => {
                    let (name, t) = src.type_();
                    cache.set_type(name, t);
                    continue;
                }
                Entry::Help => {
                    let (name, help) = src.help();
                    cache.set_help(name, &help);
                    continue;
                }
                Entry::Unit => {
                    let (name, unit) = src.unit();
                    cache.set_unit(name, unit);
                    continue;
                }
                Entry::Comment => continue,
                Entry::Series => {}
            }
            stats.total += 1;
            let (met, parsed_ts, value) = src.series();
            let parsed_ts = parsed_ts.filter(|_| settings.honor_timestamps);
            let t = parsed_ts.unwrap_or(default_ts);
            // The steady state: a cache hit borrows the entry's labels and ref, no label work.
            let (slot, already_scraped) = match cache.get(met) {
                Some((entry, already_scraped)) => (Slot::Cached(entry), already_scraped),
                None => {
                    // Text is never both cached and dropped, so the dropped set is only
                    // probed on a miss.
                    if cache.is_dropped(met) {
                        continue;
                    }
                    src.labels(scratch);
                    scratch.sort();
                    let duplicate = scratch.duplicate_name().is_some();
                    let exposed = scratch.labels();
                    let Some(labels) = settings.mutate(target, &exposed) else {
                        cache.add_dropped(met);
                        continue;
                    };
                    if labels.metric_name().is_none() {
                        result = Err(ScrapeError::NameLabelMandatory);
                        break;
                    }
                    if duplicate || !valid_names(&labels, settings.validation) {
                        result = Err(ScrapeError::InvalidLabels(labels));
                        break;
                    }
                    if let Err(err) = settings.verify_label_limits(&labels) {
                        metrics.exceeded_label_limits.inc();
                        result = Err(err);
                        break;
                    }
                    (Slot::New(labels), false)
                }
            };
            let labels = slot.labels();
            let mut series_ref = slot.series_ref();
            let histogram = src.histogram().map(|h| settings.histogram_limits.fit(h));
            let outcome = if let Some(Err(_)) = histogram {
                // Upstream checks the buckets before the sample limit counts the sample.
                bucket_limit_hit = true;
                Ok(None)
            } else if already_scraped && parsed_ts.is_none() {
                Err(StorageError::DuplicateSample(
                    pm_storage::DuplicateSample::bare(),
                ))
            } else if settings.sample_limit > 0 && appended >= settings.sample_limit {
                sample_limit_hit = true;
                Ok(None)
            } else if t > max_time {
                appended += 1;
                Err(StorageError::OutOfBounds)
            } else {
                appended += 1;
                match histogram.as_ref().and_then(|h| h.as_deref().ok()) {
                    Some(NativeHistogram::Int(h)) => {
                        app.append_histogram(series_ref, labels, t, Some(h), None)
                    }
                    Some(NativeHistogram::Float(fh)) => {
                        app.append_histogram(series_ref, labels, t, None, Some(fh))
                    }
                    None => app.append(series_ref, labels, t, value),
                }
                .map(Some)
            };
            let sample_added = match outcome {
                Ok(Some(r)) => {
                    series_ref = r;
                    true
                }
                Ok(None) => false,
                Err(err) => match count_append_error(metrics, &err, &mut errs) {
                    true => false,
                    false => {
                        result = Err(err.into());
                        break;
                    }
                },
            };
            stats.added += 1;
            if !sample_added {
                continue;
            }
            let track = parsed_ts.is_none() || settings.track_timestamps_staleness;
            let labels = match slot {
                Slot::Cached(entry) => {
                    // The storage may have moved the series (garbage-collected and
                    // recreated from the labels): later scrapes use the new ref.
                    entry.series_ref = series_ref;
                    if track {
                        entry.tracked = serial;
                    }
                    &entry.labels
                }
                // A new series enters the cache only once stored: one that was not needs no
                // staleness marker when it disappears.
                Slot::New(labels) => {
                    if !sample_limit_hit {
                        stats.series_added += 1;
                    }
                    match cache.add_ref(met, series_ref, labels, track) {
                        Some(entry) => &entry.labels,
                        // Only for an unknown ref, which has no exemplars either.
                        None => continue,
                    }
                }
            };
            if !series_ref.is_unknown() {
                append_exemplars(metrics, app, src, &mut exemplars, series_ref, labels, t);
            }
        }
        if sample_limit_hit {
            metrics.exceeded_sample_limit.inc();
            if result.is_ok() {
                result = Err(ScrapeError::SampleLimit);
            }
        }
        if bucket_limit_hit {
            metrics.exceeded_bucket_limit.inc();
            if result.is_ok() {
                result = Err(ScrapeError::BucketLimit(BucketLimitExceeded));
            }
        }
        log_append_errors(&errs);
        result?;
        self.update_stale_markers(app, default_ts)
    }

    /// Writes a staleness marker for every series of the previous scrape missing from this
    /// one. Out-of-order and duplicate rejections are expected (the target came back under
    /// a new loop) and ignored.
    fn update_stale_markers(&self, app: &mut dyn Appender, ts: i64) -> Result<(), ScrapeError> {
        let mut result = Ok(());
        app.set_options(AppendOptions {
            discard_out_of_order: true,
        });
        self.cache.for_each_stale(|series_ref, labels| {
            match app.append(series_ref, labels, ts, stale_nan()) {
                Ok(_) | Err(StorageError::OutOfOrderSample | StorageError::DuplicateSample(_)) => {
                    true
                }
                Err(err) => {
                    result = Err(err.into());
                    false
                }
            }
        });
        app.set_options(AppendOptions::default());
        result
    }

    /// Appends the synthetic series of one scrape.
    pub(crate) fn report(&mut self, app: &mut dyn Appender, r: &Report) -> Result<(), ScrapeError> {
        let health = if r.healthy { 1.0 } else { 0.0 };
        let ts = r.start_ms;
        self.report_sample(app, "up", ts, health)?;
        self.report_sample(app, "scrape_duration_seconds", ts, r.duration.as_secs_f64())?;
        self.report_sample(app, "scrape_samples_scraped", ts, r.stats.total as f64)?;
        self.report_sample(
            app,
            "scrape_samples_post_metric_relabeling",
            ts,
            r.stats.added as f64,
        )?;
        self.report_sample(app, "scrape_series_added", ts, r.stats.series_added as f64)?;
        if self.settings.extra_metrics {
            self.report_sample(app, "scrape_timeout_seconds", ts, r.timeout.as_secs_f64())?;
            self.report_sample(
                app,
                "scrape_sample_limit",
                ts,
                self.settings.sample_limit as f64,
            )?;
            self.report_sample(app, "scrape_body_size_bytes", ts, r.bytes as f64)?;
        }
        Ok(())
    }

    /// Staleness markers for all of a target's series, when its loop ended for good.
    pub(crate) fn end_of_run(
        &mut self,
        app: &mut dyn Appender,
        ts: i64,
    ) -> Result<(), ScrapeError> {
        self.append(app, &[], "", ts).map_err(|e| e.error)?;
        let mut names: Vec<&'static str> = REPORT_SERIES.to_vec();
        if self.settings.extra_metrics {
            names.extend(EXTRA_REPORT_SERIES);
        }
        app.set_options(AppendOptions {
            discard_out_of_order: true,
        });
        let res = names
            .into_iter()
            .try_for_each(|name| self.report_sample(app, name, ts, stale_nan()));
        app.set_options(AppendOptions::default());
        res
    }

    fn report_sample(
        &mut self,
        app: &mut dyn Appender,
        name: &'static str,
        ts: i64,
        v: f64,
    ) -> Result<(), ScrapeError> {
        let target = &self.target;
        let (series_ref, labels) = self.report_cache.entry(name).or_insert_with(|| {
            let mut lb = LabelsBuilder::new(Labels::from_pairs([(METRIC_NAME_LABEL, name)]));
            for l in target.public_labels() {
                lb.set(l.name, l.value);
            }
            (SeriesRef::UNKNOWN, lb.labels())
        });
        match app.append(*series_ref, labels, ts, v) {
            Ok(r) => {
                *series_ref = r;
                Ok(())
            }
            Err(StorageError::OutOfOrderSample | StorageError::DuplicateSample(_)) => Ok(()),
            Err(err) => Err(err.into()),
        }
    }
}

/// Where a scraped sample's series comes from: the cache (borrowed, nothing cloned) or labels
/// built for it by this scrape.
enum Slot<'c> {
    Cached(&'c mut CacheEntry),
    New(Labels),
}

impl Slot<'_> {
    fn labels(&self) -> &Labels {
        match self {
            Slot::Cached(e) => &e.labels,
            Slot::New(labels) => labels,
        }
    }

    fn series_ref(&self) -> SeriesRef {
        match self {
            Slot::Cached(e) => e.series_ref,
            Slot::New(_) => SeriesRef::UNKNOWN,
        }
    }
}

impl AppendSettings {
    /// Adds the target's labels (`exported_`-prefixing exposed ones that clash, unless
    /// `honor_labels`) and applies `metric_relabel_configs`; `None` when relabeling drops it.
    fn mutate(&self, target: &Target, exposed: &Labels) -> Option<Labels> {
        let mut lb = LabelsBuilder::new(exposed.clone());
        if self.honor_labels {
            for l in target.public_labels() {
                if !exposed.has(l.name) {
                    lb.set(l.name, l.value);
                }
            }
        } else {
            let mut conflicts: Vec<Label<'_>> = Vec::new();
            for l in target.public_labels() {
                if let Some(v) = exposed.get(l.name).filter(|v| !v.is_empty()) {
                    conflicts.push(Label {
                        name: l.name,
                        value: v,
                    });
                }
                lb.set(l.name, l.value);
            }
            // Shorter names first, so `exported_x` is claimed before `exported_exported_x`.
            conflicts.sort_by_key(|l| l.name.len());
            for l in conflicts {
                let mut name = l.name.to_owned();
                loop {
                    name.insert_str(0, "exported_");
                    if lb.get(&name).unwrap_or("").is_empty() {
                        lb.set(&name, l.value);
                        break;
                    }
                }
            }
        }
        if self.metric_relabel_configs.is_empty() {
            return Some(lb.labels());
        }
        relabel::process_builder(&mut lb, &self.metric_relabel_configs)
            .then(|| lb.labels())
            .filter(|l| !l.is_empty())
    }

    fn verify_label_limits(&self, labels: &Labels) -> Result<(), ScrapeError> {
        let s = self;
        let metric: String = labels
            .get_or_empty(METRIC_NAME_LABEL)
            .chars()
            .take(50)
            .collect();
        if s.label_limit > 0 && labels.len() > s.label_limit {
            return Err(ScrapeError::LabelLimit(format!(
                "label_limit exceeded (metric: {metric}, number of labels: {}, limit: {})",
                labels.len(),
                s.label_limit
            )));
        }
        for l in labels.iter() {
            let name: String = l.name.chars().take(50).collect();
            if s.label_name_length_limit > 0 && l.name.len() > s.label_name_length_limit {
                return Err(ScrapeError::LabelLimit(format!(
                    "label_name_length_limit exceeded (metric: {metric}, label name: {name}, length: {}, limit: {})",
                    l.name.len(),
                    s.label_name_length_limit
                )));
            }
            let chars = l.value.chars().count();
            if s.label_value_length_limit > 0 && chars > s.label_value_length_limit {
                let mut value = String::new();
                let short: String = l.value.chars().take(50).collect();
                let _ = write_go_quoted(&mut value, &short);
                return Err(ScrapeError::LabelLimit(format!(
                    "label_value_length_limit exceeded (metric: {metric}, label name: {name}, value: {value}, length: {chars}, limit: {})",
                    s.label_value_length_limit
                )));
            }
        }
        Ok(())
    }
}

/// Classifies a rejected sample; true when it is counted and the scrape goes on.
fn count_append_error(
    metrics: &ScrapeMetrics,
    err: &StorageError,
    errs: &mut AppendErrors,
) -> bool {
    match err {
        StorageError::OutOfOrderSample => {
            errs.out_of_order += 1;
            metrics.sample_out_of_order.inc();
        }
        StorageError::DuplicateSample(_) => {
            errs.duplicates += 1;
            metrics.sample_duplicate.inc();
        }
        StorageError::OutOfBounds => {
            errs.out_of_bounds += 1;
            metrics.sample_out_of_bounds.inc();
        }
        _ => return false,
    }
    true
}

fn append_exemplars(
    metrics: &ScrapeMetrics,
    app: &mut dyn Appender,
    src: &mut Source<'_>,
    buf: &mut Vec<Exemplar>,
    series_ref: SeriesRef,
    labels: &Labels,
    t: i64,
) {
    buf.clear();
    while let Some(mut e) = src.exemplar() {
        e.ts.get_or_insert(t);
        buf.push(e);
    }
    if buf.is_empty() {
        return;
    }
    buf.sort_by_key(|e| e.ts);
    let mut out_of_order = 0;
    for e in buf.iter() {
        match app.append_exemplar(series_ref, labels, e) {
            Ok(_) | Err(StorageError::DuplicateExemplar) => {}
            Err(StorageError::OutOfOrderExemplar) => out_of_order += 1,
            Err(err) => tracing::debug!(%err, "Error while adding exemplar in AppendExemplar"),
        }
    }
    // Only when all are out of order: otherwise this was a partial update of a known set.
    if out_of_order > 0 && out_of_order == buf.len() {
        metrics.exemplar_out_of_order.inc_by(out_of_order as f64);
    }
}

const REPORT_SERIES: [&str; 5] = [
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
];
const EXTRA_REPORT_SERIES: [&str; 3] = [
    "scrape_timeout_seconds",
    "scrape_sample_limit",
    "scrape_body_size_bytes",
];

fn valid_names(labels: &Labels, scheme: NameValidation) -> bool {
    labels.iter().all(|l| {
        if l.name == METRIC_NAME_LABEL {
            scheme.is_valid_metric_name(l.value)
        } else {
            scheme.is_valid_label_name(l.name)
        }
    })
}

fn log_append_errors(errs: &AppendErrors) {
    if errs.out_of_order > 0 {
        tracing::warn!(
            num_dropped = errs.out_of_order,
            "Error on ingesting out-of-order samples"
        );
    }
    if errs.duplicates > 0 {
        tracing::warn!(
            num_dropped = errs.duplicates,
            "Error on ingesting samples with different value but same timestamp"
        );
    }
    if errs.out_of_bounds > 0 {
        tracing::warn!(
            num_dropped = errs.out_of_bounds,
            "Error on ingesting samples that are too old or are too far into the future"
        );
    }
}

/// Milliseconds since the Unix epoch.
pub(crate) fn wall_millis(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_millis()).unwrap_or(i64::MAX),
    }
}

impl std::fmt::Debug for TargetAppender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TargetAppender")
            .field("target", &self.target.labels())
            .finish_non_exhaustive()
    }
}
