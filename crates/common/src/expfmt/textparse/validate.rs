//! Whole-exposition checks of the OpenMetrics 1.0 specification on top of the streaming
//! parser: family grouping and name clashes, metadata placement, per-type sample rules,
//! exemplar placement, timestamp order within a group and histogram structure.
//!
//! The rules follow the reference parser of the OpenMetrics project, which is what the
//! conformance suite (`../shared/testdata/openmetrics/`) encodes.

use std::collections::HashSet;

use super::error::{ParseErrorKind, SpecRule};
use super::lexer::{family_suffixes, parse_float};
use super::{Entry, OpenMetricsParser, ParseError, Parser};
use crate::model::{BUCKET_LABEL, MetricType, QUANTILE_LABEL};

type Violation = (SpecRule, String);
type Group = Vec<(String, String)>;

/// Parses `input` as OpenMetrics and checks every rule of the specification that needs the
/// whole exposition. Returns the number of samples.
pub fn validate_openmetrics(input: &[u8]) -> Result<usize, ParseError> {
    let mut parser = OpenMetricsParser::new(input);
    let mut v = Validator::default();
    let mut line = 1;
    while let Some(entry) = parser.next()? {
        line = parser.line();
        let spec = |(rule, detail): Violation| ParseError {
            line,
            kind: ParseErrorKind::Spec { rule, detail },
        };
        match entry {
            Entry::Series => v.sample(&parser).map_err(spec)?,
            Entry::Help | Entry::Type | Entry::Unit => v.metadata(&parser, entry).map_err(spec)?,
            Entry::Comment => {}
        }
    }
    v.finish_family().map_err(|(rule, detail)| ParseError {
        line: line + 1,
        kind: ParseErrorKind::Spec { rule, detail },
    })?;
    Ok(v.samples)
}

#[derive(Default)]
struct Validator {
    /// Sample names reserved by finished families.
    seen_names: HashSet<String>,
    family: Option<Family>,
    samples: usize,
}

struct Family {
    name: String,
    typ: MetricType,
    unit: String,
    has_help: bool,
    has_type: bool,
    has_unit: bool,
    has_samples: bool,
    groups: HashSet<Group>,
    group: Option<(Group, Option<i64>)>,
    histogram: Option<HistogramGroup>,
}

impl Family {
    fn new(name: String) -> Self {
        Family {
            name,
            typ: MetricType::Unknown,
            unit: String::new(),
            has_help: false,
            has_type: false,
            has_unit: false,
            has_samples: false,
            groups: HashSet::new(),
            group: None,
            histogram: None,
        }
    }
}

/// One histogram (labels and timestamp) being checked: its buckets must be ordered and
/// cumulative, end in `+Inf`, and agree with `_count`/`_sum`.
struct HistogramGroup {
    key: Group,
    ts: Option<i64>,
    last_bound: Option<f64>,
    last_count: f64,
    count: Option<f64>,
    has_sum: bool,
    has_gsum: bool,
    negative_buckets: bool,
    negative_gsum: bool,
}

impl HistogramGroup {
    fn new(key: Group, ts: Option<i64>) -> Self {
        HistogramGroup {
            key,
            ts,
            last_bound: None,
            last_count: 0.0,
            count: None,
            has_sum: false,
            has_gsum: false,
            negative_buckets: false,
            negative_gsum: false,
        }
    }

    fn check(&self, name: &str) -> Result<(), Violation> {
        let fail = |what: &str| Err((SpecRule::Histogram, format!("{what}: {name}")));
        if self.last_bound != Some(f64::INFINITY) {
            return fail("+Inf bucket missing");
        }
        if self.count.is_some_and(|c| c != self.last_count) {
            return fail("count does not match +Inf bucket");
        }
        if self.has_sum && self.count.is_none() {
            return fail("_count must be present if _sum is present");
        }
        if self.has_gsum && self.count.is_none() {
            return fail("_gcount must be present if _gsum is present");
        }
        if !(self.has_sum || self.has_gsum) && self.count.is_some() {
            return fail("_sum must be present if _count is present");
        }
        if self.negative_buckets && self.has_sum {
            return fail("cannot have _sum with negative buckets");
        }
        if !self.negative_buckets && self.negative_gsum {
            return fail("cannot have negative _gsum with non-negative buckets");
        }
        Ok(())
    }
}

/// A bucket bound or quantile: a valid number, and infinities spelled canonically.
fn label_float(value: &str) -> Option<f64> {
    let f = parse_float(value.as_bytes()).ok()?;
    if f.is_nan() || (f.is_infinite() && value != "+Inf" && value != "-Inf") {
        return None;
    }
    Some(f)
}

impl Validator {
    fn metadata(&mut self, p: &OpenMetricsParser<'_>, entry: Entry) -> Result<(), Violation> {
        let name = p.name_text();
        if self.family.as_ref().is_none_or(|f| f.name != name) {
            self.finish_family()?;
            self.family = Some(Family::new(name.into_owned()));
        }
        let Some(f) = self.family.as_mut() else {
            return Ok(());
        };
        if f.has_samples {
            return Err((SpecRule::MetadataAfterSamples, f.name.clone()));
        }
        let seen = match entry {
            Entry::Help => std::mem::replace(&mut f.has_help, true),
            Entry::Type => std::mem::replace(&mut f.has_type, true),
            _ => std::mem::replace(&mut f.has_unit, true),
        };
        if seen {
            return Err((SpecRule::DuplicateMetadata, f.name.clone()));
        }
        match entry {
            Entry::Type => f.typ = p.type_().1,
            Entry::Unit => f.unit = p.unit().1.to_owned(),
            _ => {}
        }
        if !f.unit.is_empty() && matches!(f.typ, MetricType::Info | MetricType::StateSet) {
            return Err((SpecRule::UnitNotAllowed, f.name.clone()));
        }
        Ok(())
    }

    /// Ends the current family and reserves every sample name it could use.
    fn finish_family(&mut self) -> Result<(), Violation> {
        let Some(f) = self.family.take() else {
            return Ok(());
        };
        if let Some(h) = &f.histogram {
            h.check(&f.name)?;
        }
        let suffixes = family_suffixes(f.typ);
        let bare = (!suffixes.contains(&"")).then_some("");
        for suffix in suffixes.iter().copied().chain(bare) {
            let name = format!("{}{suffix}", f.name);
            if !self.seen_names.insert(name.clone()) {
                return Err((SpecRule::ClashingName, name));
            }
        }
        Ok(())
    }

    fn sample(&mut self, p: &OpenMetricsParser<'_>) -> Result<(), Violation> {
        self.samples += 1;
        let name = p.name_text();
        let belongs = self.family.as_ref().is_some_and(|f| {
            name.strip_prefix(f.name.as_str())
                .is_some_and(|rest| allowed_suffixes(f.typ).contains(&rest))
        });
        if !belongs {
            self.finish_family()?;
            self.family = Some(Family::new(name.clone().into_owned()));
        }
        let Some(f) = self.family.as_mut() else {
            return Ok(());
        };
        f.has_samples = true;
        if p.had_trailing_comma() {
            return Err((SpecRule::TrailingComma, name.into_owned()));
        }
        let labels: Group = p
            .label_pairs()
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect();
        let mut names: Vec<&str> = labels.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err((SpecRule::DuplicateLabel, w[0].to_owned()));
        }
        let suffix = &name[f.name.len()..];
        let (_, ts, value) = p.series();
        check_value(f, suffix, value, &labels)?;

        if let Some(runes) = p.exemplar_runes() {
            let allowed = matches!(
                (f.typ, suffix),
                (MetricType::Counter, "_total")
                    | (
                        MetricType::Histogram | MetricType::GaugeHistogram,
                        "_bucket"
                    )
            );
            if !allowed {
                return Err((SpecRule::ExemplarNotAllowed, name.into_owned()));
            }
            if runes > 128 {
                return Err((SpecRule::ExemplarTooLong, name.into_owned()));
            }
        }

        let group = group_of(f, suffix, &labels);
        check_group(f, group, ts)?;

        if matches!(f.typ, MetricType::Histogram | MetricType::GaugeHistogram) {
            track_histogram(f, suffix, &labels, ts, value)?;
        }
        Ok(())
    }
}

/// The suffixes a sample may have to belong to a family of type `t`.
fn allowed_suffixes(t: MetricType) -> &'static [&'static str] {
    match t {
        MetricType::Counter => &["_total", "_created"],
        other => family_suffixes(other),
    }
}

fn check_value(f: &Family, suffix: &str, value: f64, labels: &Group) -> Result<(), Violation> {
    let label = |n: &str| labels.iter().find(|(k, _)| k == n).map(|(_, v)| v.as_str());
    let bad = |what: &str| {
        Err((
            SpecRule::InvalidValue,
            format!("{what}: {}{suffix}", f.name),
        ))
    };
    let missing = |what: &str| Err((SpecRule::TypeLabel, format!("{what}: {}{suffix}", f.name)));
    let negative_or_nan = value.is_nan() || value < 0.0;
    match (f.typ, suffix) {
        (MetricType::Counter, "_total") if negative_or_nan => bad("counter must be >= 0"),
        (MetricType::Histogram | MetricType::GaugeHistogram, "_bucket") => {
            if label(BUCKET_LABEL).and_then(label_float).is_none() {
                return missing("bucket needs a valid le label");
            }
            if negative_or_nan {
                return bad("bucket count must be >= 0");
            }
            Ok(())
        }
        (MetricType::Histogram | MetricType::Summary, "_count" | "_sum")
        | (MetricType::GaugeHistogram, "_gcount")
            if negative_or_nan =>
        {
            bad("count and sum must be >= 0")
        }
        (MetricType::GaugeHistogram, "_gsum") if value.is_nan() => bad("_gsum must not be NaN"),
        (MetricType::Summary, "") => {
            let q = label(QUANTILE_LABEL).and_then(label_float);
            if !q.is_some_and(|q| (0.0..=1.0).contains(&q)) {
                return missing("quantile needs a quantile label in [0, 1]");
            }
            if value < 0.0 {
                return bad("quantile value must be >= 0");
            }
            Ok(())
        }
        (MetricType::Info, _) if value != 1.0 => bad("info value must be 1"),
        (MetricType::StateSet, _) => {
            if label(&f.name).is_none() {
                return missing("stateset needs a label named after the family");
            }
            if value != 0.0 && value != 1.0 {
                return bad("stateset value must be 0 or 1");
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The labels that identify the group a sample belongs to (one histogram, one summary, one
/// state set); all info samples form a single group.
fn group_of(f: &Family, suffix: &str, labels: &Group) -> Group {
    let drop: Option<&str> = match (f.typ, suffix) {
        (MetricType::Info, _) => return Vec::new(),
        (MetricType::Summary, "") => Some(QUANTILE_LABEL),
        (MetricType::StateSet, _) => Some(f.name.as_str()),
        (MetricType::Histogram | MetricType::GaugeHistogram, "_bucket") => Some(BUCKET_LABEL),
        _ => None,
    };
    labels
        .iter()
        .filter(|(n, _)| Some(n.as_str()) != drop)
        .cloned()
        .collect()
}

fn check_group(f: &mut Family, group: Group, ts: Option<i64>) -> Result<(), Violation> {
    match &f.group {
        Some((current, current_ts)) if *current == group => {
            if current_ts.is_some() != ts.is_some() {
                return Err((SpecRule::MixedTimestamps, f.name.clone()));
            }
            if let (Some(a), Some(b)) = (current_ts, ts)
                && *a > b
                && f.typ != MetricType::Info
            {
                return Err((SpecRule::TimestampBackwards, f.name.clone()));
            }
        }
        Some(_) if f.groups.contains(&group) => {
            return Err((SpecRule::Grouping, f.name.clone()));
        }
        _ => {}
    }
    f.groups.insert(group.clone());
    f.group = Some((group, ts));
    Ok(())
}

fn track_histogram(
    f: &mut Family,
    suffix: &str,
    labels: &Group,
    ts: Option<i64>,
    value: f64,
) -> Result<(), Violation> {
    let key: Group = labels
        .iter()
        .filter(|(n, _)| !(suffix == "_bucket" && n == BUCKET_LABEL))
        .cloned()
        .collect();
    if f.histogram
        .as_ref()
        .is_none_or(|h| h.key != key || h.ts != ts)
    {
        if let Some(h) = &f.histogram {
            h.check(&f.name)?;
        }
        f.histogram = Some(HistogramGroup::new(key, ts));
    }
    let Some(h) = f.histogram.as_mut() else {
        return Ok(());
    };
    let out_of_order = |what: &str| Err((SpecRule::Histogram, format!("{what}: {}", f.name)));
    match suffix {
        "_bucket" => {
            let bound = labels
                .iter()
                .find(|(n, _)| n == BUCKET_LABEL)
                .and_then(|(_, v)| label_float(v))
                .unwrap_or(f64::NAN);
            if bound < 0.0 {
                h.negative_buckets = true;
            }
            if h.last_bound.is_some_and(|last| bound <= last) {
                return out_of_order("buckets out of order");
            }
            if value < h.last_count {
                return out_of_order("bucket counts decrease");
            }
            h.last_bound = Some(bound);
            h.last_count = value;
        }
        "_count" | "_gcount" => h.count = Some(value),
        "_sum" => h.has_sum = true,
        "_gsum" => {
            h.has_gsum = true;
            h.negative_gsum |= value < 0.0;
        }
        _ => {}
    }
    Ok(())
}
