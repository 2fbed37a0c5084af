//! `tsdb dump` and `tsdb dump-openmetrics`: every sample of the series matching selectors
//! within a time range, as upstream prints them.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::Path;

use pm_common::expfmt::encode::float::format_g;
use pm_common::model::{FloatHistogram, Labels, Matcher};
use pm_promql::parser::parse_metric_selector;
use pm_storage::{BoxSeries, MergeQuerier, Querier, ValueType};

use super::read_blocks;
use crate::promtool::{FAILURE, Output, SUCCESS, write_go_json};

/// How `tsdb dump` prints what it selects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DumpFormat {
    /// `{labels} value timestamp`, one line per sample.
    Prom,
    /// Each series' labels once, as a JSON object.
    Seriesjson,
    /// OpenMetrics text (`tsdb dump-openmetrics`): float samples only, then `# EOF`.
    #[value(skip)]
    OpenMetrics,
}

/// Dumps the samples in `[mint, maxt]` of the series matching any of `selectors`.
pub fn dump(
    o: &mut Output<'_>,
    dir: &Path,
    mint: i64,
    maxt: i64,
    selectors: &[String],
    format: DumpFormat,
) -> io::Result<u8> {
    let matcher_sets = match selectors
        .iter()
        .map(|s| parse_metric_selector(s))
        .collect::<Result<Vec<Vec<Matcher>>, _>>()
    {
        Ok(sets) => sets,
        Err(err) => {
            writeln!(o.err, "{err}")?;
            return Ok(FAILURE);
        }
    };
    let blocks = match read_blocks(dir) {
        Ok(blocks) => blocks,
        Err(err) => {
            writeln!(o.err, "{err}")?;
            return Ok(FAILURE);
        }
    };
    let queriers: Vec<Box<dyn Querier>> = blocks
        .iter()
        .filter(|b| b.overlaps(mint, maxt))
        .map(|b| Box::new(b.querier(mint, maxt)) as Box<dyn Querier>)
        .collect();
    let querier = MergeQuerier::new(queriers, Vec::new());
    // Series matched by several selectors are printed once, all in label order.
    let mut selected: BTreeMap<Labels, BoxSeries> = BTreeMap::new();
    for matchers in &matcher_sets {
        let mut set = querier.select(true, None, matchers);
        while let Some(series) = set.next() {
            selected.entry(series.labels().clone()).or_insert(series);
        }
        if let Some(err) = set.err() {
            writeln!(o.err, "{err}")?;
            return Ok(FAILURE);
        }
    }
    let series = selected.into_values();
    match format {
        DumpFormat::Prom => print_samples(o.out, series)?,
        DumpFormat::Seriesjson => print_series_json(o.out, series)?,
        DumpFormat::OpenMetrics => print_openmetrics(o.out, series)?,
    }
    Ok(SUCCESS)
}

fn print_samples(out: &mut dyn Write, set: impl Iterator<Item = BoxSeries>) -> io::Result<()> {
    let mut fh = FloatHistogram::default();
    for series in set {
        let labels = series.labels();
        let mut it = series.iter();
        loop {
            match it.next() {
                ValueType::None => break,
                ValueType::Float => {
                    let (t, v) = it.at();
                    writeln!(out, "{labels} {} {t}", format_g(v))?;
                }
                ValueType::Histogram | ValueType::FloatHistogram => {
                    let t = it.at_float_histogram(&mut fh);
                    writeln!(out, "{labels} {} {t}", fh)?;
                }
            }
        }
        if let Some(err) = it.err() {
            return Err(io::Error::other(err.to_string()));
        }
    }
    Ok(())
}

fn print_series_json(out: &mut dyn Write, set: impl Iterator<Item = BoxSeries>) -> io::Result<()> {
    for series in set {
        let object: serde_json::Map<String, serde_json::Value> = series
            .labels()
            .iter()
            .map(|l| (l.name.to_owned(), l.value.into()))
            .collect();
        write_go_json(out, &serde_json::Value::Object(object).to_string())?;
    }
    Ok(())
}

fn print_openmetrics(out: &mut dyn Write, set: impl Iterator<Item = BoxSeries>) -> io::Result<()> {
    for series in set {
        let (name, rest) = split_name(series.labels());
        let mut it = series.iter();
        while it.next() == ValueType::Float {
            let (t, v) = it.at();
            writeln!(out, "{name}{rest} {} {:.3}", format_g(v), t as f64 / 1000.0)?;
        }
        if let Some(err) = it.err() {
            return Err(io::Error::other(err.to_string()));
        }
    }
    writeln!(out, "# EOF")
}

/// The metric name and the other labels as upstream's `CondensedString`: `{a="b",c="d"}`
/// with Go-quoted values.
fn split_name(labels: &Labels) -> (String, String) {
    let mut name = String::new();
    let mut rest = String::from("{");
    for l in labels.iter() {
        if l.name == "__name__" {
            name = l.value.to_owned();
            continue;
        }
        if rest.len() > 1 {
            rest.push(',');
        }
        rest.push_str(l.name);
        rest.push('=');
        // Writing into a String cannot fail.
        let _ = pm_common::model::write_go_quoted(&mut rest, l.value);
    }
    rest.push('}');
    (name, rest)
}
