//! `tsdb create-blocks-from openmetrics`: backfilling blocks from an OpenMetrics file whose
//! samples all carry timestamps, one block per aligned block range that has samples.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::Path;

use pm_common::expfmt::textparse::{Entry, OpenMetricsParser, Parser};
use pm_common::model::{Labels, LabelsBuilder, ScratchBuilder};
use pm_tsdb::block::{Block, VecChunkSeriesSet, write_block};

use super::list::{block_rows, write_table};
use crate::promtool::{FAILURE, Output, SUCCESS};

/// Upstream's default block range: two hours, in milliseconds.
const DEFAULT_BLOCK_DURATION: i64 = 2 * 3600 * 1000;

/// Options of `tsdb create-blocks-from`.
#[derive(Clone, Debug, Default)]
pub struct CreateOptions {
    pub human_readable: bool,
    /// Do not print the created blocks.
    pub quiet: bool,
    /// `--max-block-duration` in milliseconds; below two hours it has no effect.
    pub max_block_duration: i64,
    /// `--label name=value`, set on every imported series.
    pub labels: Vec<(String, String)>,
}

/// Samples grouped by series, each series' samples sorted by time.
type SeriesSamples = HashMap<Labels, Vec<(i64, f64)>>;

/// Imports the OpenMetrics file `input` into blocks under `output_dir`.
pub fn create_from_openmetrics(
    o: &mut Output<'_>,
    input: &Path,
    output_dir: &Path,
    opts: &CreateOptions,
) -> io::Result<u8> {
    let result = std::fs::read(input)
        .map_err(|e| format!("open {}: {e}", input.display()))
        .and_then(|buf| {
            std::fs::create_dir_all(output_dir).map_err(|e| format!("create output dir: {e}"))?;
            backfill(&buf, output_dir, opts, o)
        });
    match result {
        Ok(()) => Ok(SUCCESS),
        Err(err) => {
            writeln!(o.err, "{err}")?;
            Ok(FAILURE)
        }
    }
}

/// One series' labels and its `(timestamp, value)` samples.
type RangeSeries = (Labels, Vec<(i64, f64)>);

fn backfill(
    buf: &[u8],
    output_dir: &Path,
    opts: &CreateOptions,
    o: &mut Output<'_>,
) -> Result<(), String> {
    let series = read_samples(buf, &opts.labels)?;
    let duration = block_duration(opts.max_block_duration);
    // Every sample goes to the aligned range holding it; ranges without samples get no block.
    let mut ranges: BTreeMap<i64, Vec<RangeSeries>> = BTreeMap::new();
    for (labels, samples) in series {
        for chunk in samples.chunk_by(|a, b| a.0.div_euclid(duration) == b.0.div_euclid(duration)) {
            let start = chunk[0].0.div_euclid(duration) * duration;
            ranges
                .entry(start)
                .or_default()
                .push((labels.clone(), chunk.to_vec()));
        }
    }
    let mut wrote_header = false;
    for series in ranges.into_values() {
        let mint = series.iter().map(|(_, s)| s[0].0).min().unwrap_or(0);
        let maxt = series
            .iter()
            .map(|(_, s)| s[s.len() - 1].0)
            .max()
            .unwrap_or(0);
        let mut set = VecChunkSeriesSet::new(series)
            .map_err(|e| format!("block creation: process blocks: add sample: {e}"))?;
        let ulid = write_block(output_dir, mint, maxt + 1, &mut set)
            .map_err(|e| format!("block creation: process blocks: flush: {e}"))?;
        if opts.quiet {
            continue;
        }
        let block = Block::open(output_dir.join(ulid.to_string()))
            .map_err(|e| format!("block creation: process blocks: get blocks: {e}"))?;
        let rows = block_rows(&[block], !wrote_header, opts.human_readable);
        wrote_header = true;
        write_table(o.out, &rows).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Every sample of the input with `labels` set on its series; samples of one series are
/// sorted by time, and of several with one timestamp the first is kept.
fn read_samples(buf: &[u8], labels: &[(String, String)]) -> Result<SeriesSamples, String> {
    let mut parser = OpenMetricsParser::new(buf);
    let mut scratch = ScratchBuilder::new();
    let mut series: SeriesSamples = HashMap::new();
    loop {
        match parser.next() {
            Ok(None) => break,
            Ok(Some(Entry::Series)) => {}
            Ok(Some(_)) => continue,
            Err(e) => return Err(format!("getting min and max timestamp: next: {e}")),
        }
        let (_, ts, v) = parser.series();
        parser.labels(&mut scratch);
        let Some(ts) = ts else {
            return Err(format!(
                "getting min and max timestamp: expected timestamp for series {}, got none",
                scratch.labels()
            ));
        };
        let mut builder = LabelsBuilder::new(scratch.labels());
        for (name, value) in labels {
            builder.set(name, value);
        }
        series.entry(builder.labels()).or_default().push((ts, v));
    }
    for samples in series.values_mut() {
        samples.sort_by_key(|s| s.0);
        samples.dedup_by_key(|s| s.0);
    }
    Ok(series)
}

/// The block range to cut at: two hours, or the largest of upstream's exponential ranges
/// (2h, 6h, 18h, … ten steps) not above `max`.
pub(super) fn block_duration(max: i64) -> i64 {
    if max <= DEFAULT_BLOCK_DURATION {
        return DEFAULT_BLOCK_DURATION;
    }
    let ranges: Vec<i64> = (0..10)
        .map(|i| DEFAULT_BLOCK_DURATION * 3_i64.pow(i))
        .collect();
    ranges
        .iter()
        .rev()
        .find(|&&r| r <= max)
        .copied()
        .unwrap_or(DEFAULT_BLOCK_DURATION)
}
