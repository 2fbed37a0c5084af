//! `tsdb create-blocks-from rules`: backfilling new recording rules. Each rule's expression is
//! run as range queries against a server over HTTP, one per block range from `--start` to
//! `--end`, stepping by the group's interval from the group's own evaluation slots, and the
//! results become blocks in the output directory, one per rule and range.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jiff::Timestamp;
use pm_common::config::http::HttpClientConfig;
use pm_common::model::{Labels, LabelsBuilder};
use pm_tsdb::block::{VecChunkSeriesSet, write_block};
use serde_json::Value;

use super::create::block_duration;
use crate::promtool::query::{Client, parse_time};
use crate::promtool::{FAILURE, Output, SUCCESS};
use crate::rules::{Group, LoadOptions, Rule, load_groups};

/// What `create-blocks-from rules` was asked to do.
#[derive(Debug)]
pub struct RulesBackfillOptions {
    /// The server whose `/api/v1/query_range` evaluates the rules.
    pub url: String,
    pub http: Option<HttpClientConfig>,
    /// RFC 3339 or Unix seconds.
    pub start: String,
    /// As `start`; three hours ago when unset.
    pub end: Option<String>,
    pub output_dir: PathBuf,
    /// For groups without their own `interval`.
    pub eval_interval: Duration,
    /// `--max-block-duration` in milliseconds; below two hours it has no effect.
    pub max_block_duration: i64,
    pub files: Vec<PathBuf>,
}

/// Backfills every rule of `opts.files`; 1 when anything failed (other rules still run).
pub fn create_from_rules(o: &mut Output<'_>, opts: &RulesBackfillOptions) -> io::Result<u8> {
    let (start, end) = match time_range(opts) {
        Ok(range) => range,
        Err(err) => {
            writeln!(o.err, "{err}")?;
            return Ok(FAILURE);
        }
    };
    let client = match Client::new(&opts.url, opts.http.as_ref(), Vec::new()) {
        Ok(client) => client,
        Err(err) => {
            writeln!(o.err, "new api client error: {err}")?;
            return Ok(FAILURE);
        }
    };
    tracing::info!(
        component = "backfiller",
        start = %rfc822(start),
        end = %rfc822(end),
        "new rule importer"
    );
    let files: Vec<String> = opts
        .files
        .iter()
        .map(|f| f.to_string_lossy().into_owned())
        .collect();
    let load = LoadOptions {
        interval: opts.eval_interval,
        external_labels: Labels::default(),
        external_url: String::new(),
        should_restore: false,
        parse: Default::default(),
    };
    let groups = match load_groups(&files, &load) {
        Ok(groups) => groups,
        Err(errs) => {
            let first = errs.into_iter().next().unwrap_or_default();
            writeln!(o.err, "rule importer parse error: {first}")?;
            return Ok(FAILURE);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let importer = Importer {
        client: &client,
        start,
        end,
        block_duration: block_duration(opts.max_block_duration),
        output_dir: &opts.output_dir,
    };
    let mut errs = Vec::new();
    for group in &groups {
        tracing::info!(
            component = "backfiller",
            name = group.key(),
            "processing group"
        );
        for (id, rule) in group.rules().iter().enumerate() {
            tracing::info!(
                component = "backfiller",
                id,
                name = rule.name(),
                "processing rule"
            );
            if let Err(err) = runtime.block_on(importer.import(rule, group)) {
                errs.push(err);
            }
        }
    }
    for err in &errs {
        writeln!(o.err, "rule importer error: {err}")?;
    }
    if errs.is_empty() {
        Ok(SUCCESS)
    } else {
        writeln!(o.err, "error importing rules")?;
        Ok(FAILURE)
    }
}

/// `--start` and `--end` in whole Unix seconds (upstream drops fractions), start first.
fn time_range(opts: &RulesBackfillOptions) -> Result<(i64, i64), String> {
    let end = match &opts.end {
        Some(end) => parse_time(end).map_err(|e| format!("error parsing end time: {e}"))?,
        None => SystemTime::now() - Duration::from_secs(3 * 3600),
    };
    let start = parse_time(&opts.start).map_err(|e| format!("error parsing start time: {e}"))?;
    if start >= end {
        return Err("start time is not before end time".into());
    }
    Ok((unix_seconds(start), unix_seconds(end)))
}

/// Go's `Time.Unix`: seconds, rounded down.
fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => {
            let before = e.duration();
            let secs = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            if before.subsec_nanos() > 0 {
                -secs - 1
            } else {
                -secs
            }
        }
    }
}

/// Go's `time.RFC822` layout (`02 Jan 06 15:04 MST`) in UTC, as upstream logs the range.
fn rfc822(secs: i64) -> String {
    Timestamp::from_second(secs)
        .map(|t| t.strftime("%d %b %y %H:%M UTC").to_string())
        .unwrap_or_else(|_| secs.to_string())
}

/// Shared by every rule of a run.
struct Importer<'a> {
    client: &'a Client,
    /// Unix seconds.
    start: i64,
    end: i64,
    /// Milliseconds.
    block_duration: i64,
    output_dir: &'a Path,
}

impl Importer<'_> {
    /// Queries and writes one block per block range of `[start, end]` for `rule`.
    async fn import(&self, rule: &Rule, group: &Group) -> Result<(), String> {
        let bd = self.block_duration;
        let interval = group.interval();
        let step = i64::try_from(interval.as_nanos())
            .unwrap_or(i64::MAX)
            .max(1);
        let (start_ms, end_ms) = (self.start * 1000, self.end * 1000);
        let mut block_start = bd * (start_ms / bd);
        while block_start <= end_ms {
            let block_end = block_start + bd - 1;
            let range_start = (block_start / 1000).max(self.start);
            let mut first = group
                .eval_timestamp(Timestamp::from_second(range_start).map_err(|e| e.to_string())?)
                .as_nanosecond();
            while first.div_euclid(1_000_000_000) < i128::from(range_start) {
                first += i128::from(step);
            }
            let last = (block_end / 1000).min(self.end);
            if i128::from(last) * 1_000_000_000 < first {
                break;
            }
            let data = self
                .client
                .query_range(
                    rule.query(),
                    system_time(first),
                    system_time(i128::from(last) * 1_000_000_000),
                    interval,
                )
                .await
                .map_err(|e| format!("query range: {e}"))?;
            let series = rule_series(&data, rule)?;
            self.write(series)?;
            block_start += bd;
        }
        Ok(())
    }

    /// Writes one block of the samples, none when there are none.
    fn write(&self, series: BTreeMap<Labels, Vec<(i64, f64)>>) -> Result<(), String> {
        let mut series: Vec<(Labels, Vec<(i64, f64)>)> = series
            .into_iter()
            .filter(|(_, samples)| !samples.is_empty())
            .collect();
        for (_, samples) in &mut series {
            samples.sort_by_key(|s| s.0);
            samples.dedup_by_key(|s| s.0);
        }
        let (Some(mint), Some(maxt)) = (
            series.iter().map(|(_, s)| s[0].0).min(),
            series.iter().map(|(_, s)| s[s.len() - 1].0).max(),
        ) else {
            return Ok(());
        };
        std::fs::create_dir_all(self.output_dir).map_err(|e| format!("new block writer: {e}"))?;
        let mut set = VecChunkSeriesSet::new(series).map_err(|e| format!("add: {e}"))?;
        write_block(self.output_dir, mint, maxt + 1, &mut set)
            .map_err(|e| format!("flush and commit: {e}"))?;
        Ok(())
    }
}

fn system_time(nanos: i128) -> SystemTime {
    let abs = Duration::from_nanos(u64::try_from(nanos.unsigned_abs()).unwrap_or(u64::MAX));
    if nanos >= 0 {
        UNIX_EPOCH + abs
    } else {
        UNIX_EPOCH - abs
    }
}

/// The float samples of a range query result under the rule's series labels: the result's
/// labels, then the rule's labels over them, then the rule's name as `__name__`.
fn rule_series(data: &Value, rule: &Rule) -> Result<BTreeMap<Labels, Vec<(i64, f64)>>, String> {
    let kind = data["resultType"].as_str().unwrap_or("");
    if kind != "matrix" {
        return Err(format!("rule result is wrong type {kind}"));
    }
    let mut out: BTreeMap<Labels, Vec<(i64, f64)>> = BTreeMap::new();
    for stream in data["result"].as_array().map_or(&[][..], Vec::as_slice) {
        let mut builder = LabelsBuilder::new(Labels::default());
        if let Some(metric) = stream["metric"].as_object() {
            for (name, value) in metric {
                builder.set(name, value.as_str().unwrap_or(""));
            }
        }
        for l in rule.labels().iter() {
            builder.set(l.name, l.value);
        }
        builder.set("__name__", rule.name());
        let samples = out.entry(builder.labels()).or_default();
        for point in stream["values"].as_array().map_or(&[][..], Vec::as_slice) {
            samples.push(parse_point(point)?);
        }
    }
    Ok(out)
}

/// `[<unix seconds>, "<value>"]` as milliseconds and a float.
fn parse_point(point: &Value) -> Result<(i64, f64), String> {
    let bad = || format!("unexpected sample {point}");
    let t = point[0].as_f64().ok_or_else(bad)?;
    let v = point[1].as_str().ok_or_else(bad)?;
    let v = match v {
        "+Inf" | "Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other.parse().map_err(|_| bad())?,
    };
    Ok(((t * 1000.0).round() as i64, v))
}
