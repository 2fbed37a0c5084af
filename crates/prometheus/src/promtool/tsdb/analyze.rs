//! `tsdb analyze`: which label pairs churn, which labels and metric names have the most
//! values or series, and (`--extended`) how full the block's chunks are, for finding what
//! makes a TSDB large.

use std::collections::{BTreeSet, HashMap};
use std::io::{self, Write};
use std::path::Path;

use jiff::SignedDuration;
use pm_common::model::Matcher;
use pm_common::template::time::duration_string;
use pm_promql::parser::parse_metric_selector;
use pm_tsdb::block::Block;
use pm_tsdb::chunkenc::{ChunkEncoding, decode_float_histograms, decode_histograms};
use pm_tsdb::chunks::ChunkRef;
use pm_tsdb::index::{ChunkIndexMeta, IndexReader};
use pm_tsdb::querier::postings_for_matchers;

use crate::promtool::{FAILURE, Output, SUCCESS};

/// What `tsdb analyze` was asked for.
#[derive(Clone, Debug)]
pub struct AnalyzeOptions {
    /// The block's ULID; the most recently created block when unset.
    pub block_id: Option<String>,
    /// `--limit`: rows per list.
    pub limit: usize,
    /// `--extended`: also the chunk statistics.
    pub extended: bool,
    /// `--match`: one series selector restricting the analysis.
    pub matcher: Option<String>,
}

/// Analyzes one block of the data directory `dir`.
pub fn analyze(o: &mut Output<'_>, dir: &Path, opts: &AnalyzeOptions) -> io::Result<u8> {
    match run(o.out, dir, opts) {
        Ok(Ok(())) => Ok(SUCCESS),
        Ok(Err(err)) => {
            writeln!(o.err, "{err}")?;
            Ok(FAILURE)
        }
        Err(err) => Err(err),
    }
}

/// Output errors outside, analysis errors (printed as upstream prints them) inside.
fn run(out: &mut dyn Write, dir: &Path, opts: &AnalyzeOptions) -> io::Result<Result<(), String>> {
    let selectors = match opts.matcher.as_deref().map(parse_metric_selector) {
        Some(Ok(m)) => Some(m),
        Some(Err(err)) => return Ok(Err(err.to_string())),
        None => None,
    };
    let block = match open_block(dir, opts.block_id.as_deref()) {
        Ok(block) => block,
        Err(err) => return Ok(Err(err)),
    };
    let analysis = match Analysis::new(&block, selectors.as_deref()) {
        Ok(a) => a,
        Err(err) => return Ok(Err(err)),
    };
    analysis.print(out, opts)?;
    if opts.extended {
        let stats = match ChunkStats::collect(&block, &analysis.refs) {
            Ok(stats) => stats,
            Err(err) => return Ok(Err(err)),
        };
        stats.print(out)?;
    }
    Ok(Ok(()))
}

/// The named block, or the one whose ULID was made last (upstream 3.x's choice, which is
/// the newest block rather than the one with the latest samples).
fn open_block(dir: &Path, id: Option<&str>) -> Result<Block, String> {
    let id = match id {
        Some(id) => id.to_owned(),
        None => last_block_id(dir)?,
    };
    let path = dir.join(&id);
    if !path.exists() {
        return Err(format!("invalid block ID {id}"));
    }
    Block::open(&path).map_err(|e| e.to_string())
}

fn last_block_id(dir: &Path) -> Result<String, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("open {}: {e}", dir.display()))?;
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    // Ties on the ULID's time go to the first name in directory order, as Go's ReadDir sorts.
    names.sort();
    let mut last: Option<(u64, String)> = None;
    for name in names {
        let Ok(ulid) = ulid::Ulid::from_string(&name) else {
            continue;
        };
        let t = ulid.timestamp_ms();
        if t > last.as_ref().map_or(0, |(lt, _)| *lt) {
            last = Some((t, name));
        }
    }
    last.map(|(_, name)| name)
        .ok_or_else(|| "no blocks found".to_owned())
}

/// A list entry: a label pair, name or metric name and its figure.
type Row = (String, u64);

/// Everything the lists are made of, gathered in one pass over the selected series.
struct Analysis {
    ulid: String,
    range: i64,
    num_series: u64,
    /// The selected series, in index order.
    refs: Vec<u64>,
    label_names: Vec<String>,
    /// `name=value` to the summed uncovered milliseconds of its series.
    pairs_uncovered: HashMap<String, u64>,
    names_uncovered: HashMap<String, u64>,
    pairs_count: HashMap<String, u64>,
    entries: u64,
    /// Per label name its (selected) values: cumulative length and count.
    value_stats: Vec<(String, u64, u64)>,
    /// Series per metric name.
    metric_series: Vec<Row>,
}

impl Analysis {
    fn new(block: &Block, selectors: Option<&[Matcher]>) -> Result<Self, String> {
        let meta = block.meta();
        let ix = block.index();
        let err = |e: pm_tsdb::index::IndexError| e.to_string();
        let refs = match selectors {
            Some(m) => postings_for_matchers(ix, m).map_err(err)?,
            None => ix.all_postings().map_err(err)?,
        };
        let range = meta.max_time - meta.min_time;
        let mut a = Analysis {
            ulid: meta.ulid.to_string(),
            range,
            num_series: meta.stats.num_series,
            refs,
            label_names: Vec::new(),
            pairs_uncovered: HashMap::new(),
            names_uncovered: HashMap::new(),
            pairs_count: HashMap::new(),
            entries: 0,
            value_stats: Vec::new(),
            metric_series: Vec::new(),
        };
        // Label values of the selected series only, when there is a selection.
        let mut selected_values: Option<HashMap<String, BTreeSet<String>>> =
            selectors.map(|_| HashMap::new());
        let mut chunks: Vec<ChunkIndexMeta> = Vec::new();
        for &r in &a.refs {
            let labels = ix.series(r, &mut chunks).map_err(err)?;
            let (Some(first), Some(last)) = (chunks.first(), chunks.last()) else {
                continue;
            };
            // Go computes this in uint64, wrapping for series reaching beyond the block.
            let uncovered =
                (range as u64).wrapping_sub(last.max_time.wrapping_sub(first.min_time) as u64);
            for l in labels.iter() {
                let key = format!("{}={}", l.name, l.value);
                *a.names_uncovered.entry(l.name.to_owned()).or_default() += uncovered;
                *a.pairs_uncovered.entry(key.clone()).or_default() += uncovered;
                *a.pairs_count.entry(key).or_default() += 1;
                a.entries += 1;
                if let Some(values) = selected_values.as_mut() {
                    values
                        .entry(l.name.to_owned())
                        .or_default()
                        .insert(l.value.to_owned());
                }
            }
        }
        match selected_values {
            Some(values) => {
                let mut names: Vec<&String> = values.keys().collect();
                names.sort();
                a.label_names = names.into_iter().cloned().collect();
                for name in &a.label_names {
                    let vals = &values[name];
                    let len = vals.iter().map(|v| v.len() as u64).sum();
                    a.value_stats.push((name.clone(), len, vals.len() as u64));
                }
                if let Some(metrics) = values.get("__name__") {
                    for name in metrics {
                        let postings = ix.postings("__name__", name).map_err(err)?;
                        let n = pm_tsdb::index::intersect(vec![postings, a.refs.clone()]).len();
                        a.metric_series.push((name.clone(), n as u64));
                    }
                }
            }
            None => {
                a.label_names = ix.label_names().map(str::to_owned).collect();
                for name in &a.label_names {
                    let vals = ix.values(name);
                    let len = vals.iter().map(|(v, _)| v.len() as u64).sum();
                    a.value_stats.push((name.clone(), len, vals.len() as u64));
                }
                for (name, offset) in ix.values("__name__") {
                    let n = ix.read_postings(*offset).map_err(err)?.len();
                    a.metric_series.push((name.to_string(), n as u64));
                }
            }
        }
        Ok(a)
    }

    fn print(&self, out: &mut dyn Write, opts: &AnalyzeOptions) -> io::Result<()> {
        writeln!(out, "Block ID: {}", self.ulid)?;
        writeln!(
            out,
            "Duration: {}",
            duration_string(SignedDuration::from_millis(self.range))
        )?;
        writeln!(out, "Total Series: {}", self.num_series)?;
        if let Some(m) = &opts.matcher {
            writeln!(out, "Matcher: {m}")?;
        }
        writeln!(out, "Label names: {}", self.label_names.len())?;
        if opts.matcher.is_some() {
            writeln!(out, "Matched series: {}", self.refs.len())?;
        }
        writeln!(
            out,
            "Postings (unique label pairs): {}",
            self.pairs_uncovered.len()
        )?;
        writeln!(
            out,
            "Postings entries (total label pairs): {}",
            self.entries
        )?;
        let churn = |m: &HashMap<String, u64>| -> Vec<Row> {
            m.iter()
                .map(|(k, v)| (k.clone(), (*v as f64 / self.range as f64) as u64))
                .collect()
        };
        let lists: [(&str, Vec<Row>); 6] = [
            (
                "Label pairs most involved in churning",
                churn(&self.pairs_uncovered),
            ),
            (
                "Label names most involved in churning",
                churn(&self.names_uncovered),
            ),
            (
                "Most common label pairs",
                self.pairs_count
                    .iter()
                    .map(|(k, v)| (k.clone(), *v))
                    .collect(),
            ),
            (
                "Label names with highest cumulative label value length",
                self.value_stats
                    .iter()
                    .map(|(n, len, _)| (n.clone(), *len))
                    .collect(),
            ),
            (
                "Highest cardinality labels",
                self.value_stats
                    .iter()
                    .map(|(n, _, count)| (n.clone(), *count))
                    .collect(),
            ),
            (
                "Highest cardinality metric names",
                self.metric_series.clone(),
            ),
        ];
        for (title, rows) in lists {
            writeln!(out, "\n{title}:")?;
            print_top(out, rows, opts.limit)?;
        }
        Ok(())
    }
}

/// The `limit` largest rows, largest first; ties (whose order upstream leaves to Go's map
/// iteration) by name.
fn print_top(out: &mut dyn Write, mut rows: Vec<Row>, limit: usize) -> io::Result<()> {
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for (key, value) in rows.into_iter().take(limit) {
        writeln!(out, "{value} {key}")?;
    }
    Ok(())
}

/// Per chunk kind, the figures of `--extended`'s histograms.
#[derive(Default)]
struct ChunkStats {
    total: usize,
    float_samples: Vec<usize>,
    float_bytes: Vec<usize>,
    histogram_samples: Vec<usize>,
    histogram_bytes: Vec<usize>,
    histogram_buckets: Vec<usize>,
}

impl ChunkStats {
    fn collect(block: &Block, refs: &[u64]) -> Result<Self, String> {
        let mut stats = ChunkStats::default();
        let ix: &IndexReader = block.index();
        let mut metas = Vec::new();
        for &r in refs {
            ix.series(r, &mut metas).map_err(|e| e.to_string())?;
            for meta in &metas {
                let chunk = block
                    .chunks()
                    .chunk(ChunkRef(meta.chunk_ref))
                    .map_err(|e| e.to_string())?;
                // Every encoding starts with its sample count, a big-endian u16.
                let samples = chunk
                    .data
                    .get(..2)
                    .map_or(0, |b| usize::from(u16::from_be_bytes([b[0], b[1]])));
                match chunk.encoding {
                    ChunkEncoding::Xor => {
                        stats.float_samples.push(samples);
                        stats.float_bytes.push(chunk.data.len());
                    }
                    ChunkEncoding::Histogram => {
                        let buckets = decode_histograms(chunk.data)
                            .map_err(|e| e.to_string())?
                            .iter()
                            .map(|(_, h)| h.positive_deltas.len() + h.negative_deltas.len())
                            .sum();
                        stats.push_histogram(samples, chunk.data.len(), buckets);
                    }
                    ChunkEncoding::FloatHistogram => {
                        let buckets = decode_float_histograms(chunk.data)
                            .map_err(|e| e.to_string())?
                            .iter()
                            .map(|(_, h)| h.positive_buckets.len() + h.negative_buckets.len())
                            .sum();
                        stats.push_histogram(samples, chunk.data.len(), buckets);
                    }
                }
                stats.total += 1;
            }
        }
        Ok(stats)
    }

    fn push_histogram(&mut self, samples: usize, bytes: usize, buckets: usize) {
        self.histogram_samples.push(samples);
        self.histogram_bytes.push(bytes);
        self.histogram_buckets.push(buckets);
    }

    fn print(self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(out, "\nCompaction analysis:\n")?;
        let total = self.total;
        for (kind, data) in [
            ("samples per float chunk", self.float_samples),
            ("bytes per float chunk", self.float_bytes),
            ("samples per histogram chunk", self.histogram_samples),
            ("bytes per histogram chunk", self.histogram_bytes),
            ("buckets per histogram chunk", self.histogram_buckets),
        ] {
            write_histogram(out, kind, data, total)?;
        }
        Ok(())
    }
}

/// One figure's distribution: min/avg/max, then a row per bucket of ten (or a power of ten
/// wide enough for about ten rows) with its count and a bar of one `#` per percent of all
/// chunks.
pub(super) fn write_histogram(
    out: &mut dyn Write,
    kind: &str,
    mut data: Vec<usize>,
    total: usize,
) -> io::Result<()> {
    let (Some(&min), Some(&max)) = (data.iter().min(), data.iter().max()) else {
        return writeln!(out, "{kind}: N/A\n");
    };
    data.sort_unstable();
    let (start, end, step) = bucket_bounds(min, max);
    let mut buckets = vec![0usize; (end - start) / step + 1];
    for &v in &data {
        buckets[(v - start) / step] += 1;
    }
    let max_count = buckets.iter().copied().max().unwrap_or(0);
    let avg = data.iter().sum::<usize>() / data.len();
    writeln!(out, "{kind} (min/avg/max): {min}/{avg}/{max}")?;
    let left = end.to_string().len();
    let right = (end + step).to_string().len();
    let count_width = max_count.to_string().len();
    for (i, count) in buckets.into_iter().enumerate() {
        let percent = 100 * count / total.max(1);
        writeln!(
            out,
            "[{:>left$}, {:>right$}]: {count:>count_width$} {}",
            i * step + start + 1,
            (i + 1) * step + start,
            "#".repeat(percent)
        )?;
    }
    writeln!(out)
}

/// Bucket start, end and width: width 10, times ten while below a tenth of the spread (up
/// to 100,000); start and end aligned to the width.
fn bucket_bounds(min: usize, max: usize) -> (usize, usize, usize) {
    let spread = (max - min) / 10;
    let mut step = 10;
    while step < spread && step <= 10_000 {
        step *= 10;
    }
    (min - min % step, max - max % step + step, step)
}
