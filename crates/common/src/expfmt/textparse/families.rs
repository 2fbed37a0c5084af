//! Whole-family decoding of the Prometheus text format, with the semantics and error messages
//! of prometheus/common's `expfmt.TextParser` (what pushgateway and node_exporter's textfile
//! collector use): samples are grouped into [`dto::MetricFamily`] values by name, summary and
//! histogram lines are folded into one metric per label set, and the first error stops
//! decoding with `text format parsing error in line N: …`.
//!
//! The decoder is a byte-at-a-time state machine mirroring upstream's, because its exact
//! leniencies (comments anywhere, free whitespace, `# HELP` without text) and strictnesses
//! (trailing newline required, escapes checked) are part of the pushgateway's API.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use super::error::TextParseError;
use super::lexer::parse_float;
use crate::expfmt::dto;
use crate::model::{BUCKET_LABEL, METRIC_NAME_LABEL, QUANTILE_LABEL, write_go_quoted};

/// Decodes a text-format exposition into metric families, sorted by name. Families that end
/// up without samples (e.g. only a `# HELP`) are dropped, as upstream does.
pub fn decode_text_families(input: &[u8]) -> Result<Vec<dto::MetricFamily>, TextParseError> {
    let mut d = Decoder::new(input);
    let mut state = State::StartOfLine;
    loop {
        state = match d.step(state) {
            Ok(State::Done) => break,
            Ok(next) => next,
            Err(Stop::Eof) => return Err(d.error("unexpected end of input stream".into())),
            Err(Stop::Error(e)) => return Err(e),
        };
    }
    let mut families: Vec<_> = d
        .families
        .into_iter()
        .filter(|f| !f.metric.is_empty())
        .collect();
    families.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(families)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    StartOfLine,
    StartComment,
    ReadingMetricName,
    ReadingLabels,
    StartLabelName,
    StartLabelValue,
    ReadingValue,
    StartTimestamp,
    ReadingHelp,
    ReadingType,
    Done,
}

enum Stop {
    /// The input ended in the middle of a line.
    Eof,
    Error(TextParseError),
}

type Step = Result<State, Stop>;

/// Labels (including `__name__`) identifying one summary or histogram.
type Signature = Vec<(String, String)>;

struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
    cur: u8,
    line: usize,
    token: Vec<u8>,
    families: Vec<dto::MetricFamily>,
    by_name: HashMap<String, usize>,
    mf: Option<usize>,
    is_count: bool,
    is_sum: bool,
    inside_braces: bool,
    name_in_braces: bool,
    /// The metric being read; moved into its family once its label set is complete.
    metric: dto::Metric,
    /// Index of the metric (in the current family) that the value and timestamp go to.
    slot: usize,
    label_pairs: Vec<dto::LabelPair>,
    /// The label whose value is being read, and whether it is kept in `label_pairs`.
    label_name: String,
    label_kept: bool,
    signature: BTreeMap<String, String>,
    quantile: f64,
    bucket: f64,
    summaries: HashMap<Signature, usize>,
    histograms: HashMap<Signature, usize>,
}

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

fn is_label_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'"'
}

fn is_label_name_continuation(b: u8, quoted: bool) -> bool {
    quoted || is_label_name_start(b) || b.is_ascii_digit()
}

fn quote(s: &[u8]) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_go_quoted(&mut out, &String::from_utf8_lossy(s));
    out
}

/// A byte as Go's `%q` prints it: a quoted character literal.
fn quote_byte(b: u8) -> String {
    match b {
        b'\'' => r"'\''".into(),
        b'\\' => r"'\\'".into(),
        b'\n' => r"'\n'".into(),
        b'\t' => r"'\t'".into(),
        b'\r' => r"'\r'".into(),
        0x07 => r"'\a'".into(),
        0x08 => r"'\b'".into(),
        0x0c => r"'\f'".into(),
        0x0b => r"'\v'".into(),
        b if b < 0x20 || b == 0x7f => format!(r"'\x{b:02x}'"),
        b if (0x80..0xa0).contains(&b) => format!(r"'\u{b:04x}'"),
        b => format!("'{}'", char::from(b)),
    }
}

impl<'a> Decoder<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Decoder {
            buf,
            pos: 0,
            cur: 0,
            line: 0,
            token: Vec::new(),
            families: Vec::new(),
            by_name: HashMap::new(),
            mf: None,
            is_count: false,
            is_sum: false,
            inside_braces: false,
            name_in_braces: false,
            metric: dto::Metric::default(),
            slot: 0,
            label_pairs: Vec::new(),
            label_name: String::new(),
            label_kept: false,
            signature: BTreeMap::new(),
            quantile: f64::NAN,
            bucket: f64::NAN,
            summaries: HashMap::new(),
            histograms: HashMap::new(),
        }
    }

    fn error(&self, msg: String) -> TextParseError {
        TextParseError {
            line: self.line,
            msg,
        }
    }

    fn fail(&self, msg: String) -> Step {
        Err(Stop::Error(self.error(msg)))
    }

    fn read(&mut self) -> Result<u8, Stop> {
        let b = *self.buf.get(self.pos).ok_or(Stop::Eof)?;
        self.pos += 1;
        self.cur = b;
        Ok(b)
    }

    fn skip_blank_tab(&mut self) -> Result<(), Stop> {
        while is_blank(self.read()?) {}
        Ok(())
    }

    fn skip_blank_tab_if_current(&mut self) -> Result<(), Stop> {
        if is_blank(self.cur) {
            self.skip_blank_tab()?;
        }
        Ok(())
    }

    fn mf_type(&self) -> dto::MetricType {
        self.mf
            .and_then(|i| self.families[i].r#type)
            .and_then(|t| dto::MetricType::try_from(t).ok())
            .unwrap_or(dto::MetricType::Counter)
    }

    fn mf_name(&self) -> &str {
        self.mf
            .and_then(|i| self.families[i].name.as_deref())
            .unwrap_or("")
    }

    fn step(&mut self, state: State) -> Step {
        match state {
            State::StartOfLine => self.start_of_line(),
            State::StartComment => self.start_comment(),
            State::ReadingMetricName => self.reading_metric_name(),
            State::ReadingLabels => Ok(self.reading_labels()),
            State::StartLabelName => self.start_label_name(),
            State::StartLabelValue => self.start_label_value(),
            State::ReadingValue => self.reading_value(),
            State::StartTimestamp => self.start_timestamp(),
            State::ReadingHelp => self.reading_help(),
            State::ReadingType => self.reading_type(),
            State::Done => Ok(State::Done),
        }
    }

    fn start_of_line(&mut self) -> Step {
        self.line += 1;
        self.inside_braces = false;
        self.name_in_braces = false;
        if self.skip_blank_tab().is_err() {
            // The only place where the end of input is the legitimate end.
            return Ok(State::Done);
        }
        Ok(match self.cur {
            b'#' => State::StartComment,
            b'\n' => State::StartOfLine,
            b'{' => {
                self.inside_braces = true;
                State::ReadingLabels
            }
            _ => State::ReadingMetricName,
        })
    }

    fn start_comment(&mut self) -> Step {
        self.skip_blank_tab()?;
        if self.cur == b'\n' {
            return Ok(State::StartOfLine);
        }
        self.read_token_until_whitespace()?;
        if self.cur == b'\n' {
            return Ok(State::StartOfLine);
        }
        let is_help = self.token == b"HELP";
        if !is_help && self.token != b"TYPE" {
            while self.cur != b'\n' {
                self.read()?;
            }
            return Ok(State::StartOfLine);
        }
        self.skip_blank_tab()?;
        self.read_token_as_name(true)?;
        if self.cur == b'\n' {
            return Ok(State::StartOfLine);
        }
        if !is_blank(self.cur) {
            return self.fail("invalid metric name in comment".into());
        }
        self.set_or_create_mf();
        self.skip_blank_tab()?;
        if self.cur == b'\n' {
            return Ok(State::StartOfLine);
        }
        Ok(if is_help {
            State::ReadingHelp
        } else {
            State::ReadingType
        })
    }

    fn reading_metric_name(&mut self) -> Step {
        self.read_token_as_name(true)?;
        if self.token.is_empty() {
            return self.fail("invalid metric name".into());
        }
        self.set_or_create_mf();
        self.new_metric();
        self.skip_blank_tab_if_current()?;
        Ok(State::ReadingLabels)
    }

    /// Starts a metric of the current family, typing the family as untyped if no TYPE came.
    fn new_metric(&mut self) {
        if let Some(i) = self.mf {
            let family = &mut self.families[i];
            family.r#type.get_or_insert(dto::MetricType::Untyped as i32);
        }
        self.metric = dto::Metric::default();
    }

    fn is_summary_or_histogram(&self) -> bool {
        matches!(
            self.mf_type(),
            dto::MetricType::Summary | dto::MetricType::Histogram
        )
    }

    fn reset_signature(&mut self) {
        if self.is_summary_or_histogram() {
            self.signature.clear();
            self.signature
                .insert(METRIC_NAME_LABEL.to_owned(), self.mf_name().to_owned());
            self.quantile = f64::NAN;
            self.bucket = f64::NAN;
        }
    }

    fn reading_labels(&mut self) -> State {
        self.reset_signature();
        if self.cur != b'{' {
            State::ReadingValue
        } else {
            State::StartLabelName
        }
    }

    /// Closes the label set: the collected pairs go to the metric, then the value follows.
    fn end_labels(&mut self) -> Step {
        if self.inside_braces && !self.name_in_braces {
            return self.fail("invalid metric name".into());
        }
        self.metric.label.append(&mut self.label_pairs);
        self.skip_blank_tab()?;
        Ok(State::ReadingValue)
    }

    fn start_label_name(&mut self) -> Step {
        self.skip_blank_tab()?;
        if self.cur == b'}' {
            return self.end_labels();
        }
        self.read_token_as_name(false)?;
        if self.token.is_empty() {
            return self.fail(format!(
                "invalid label name for metric {}",
                quote(self.mf_name().as_bytes())
            ));
        }
        self.skip_blank_tab_if_current()?;
        if self.cur != b'=' {
            if !self.inside_braces {
                self.label_pairs.clear();
                return self.fail(format!(
                    "expected '=' after label name, found {}",
                    quote_byte(self.cur)
                ));
            }
            if !matches!(self.cur, b',' | b'}') {
                return self.fail(format!(
                    "unexpected end of metric value {}",
                    quote_byte(self.cur)
                ));
            }
            // A quoted metric name inside the braces: `{"my.metric", a="b"}`.
            self.set_or_create_mf();
            self.new_metric();
            self.name_in_braces = true;
            self.reset_signature();
            if self.cur == b',' {
                return Ok(State::StartLabelName);
            }
            return self.end_labels();
        }
        let name = String::from_utf8_lossy(&self.token).into_owned();
        if name == METRIC_NAME_LABEL {
            return self.fail(format!("label name {} is reserved", quote(name.as_bytes())));
        }
        let t = self.mf_type();
        self.label_kept = !matches!(
            (t, name.as_str()),
            (dto::MetricType::Summary, QUANTILE_LABEL) | (dto::MetricType::Histogram, BUCKET_LABEL)
        );
        if self.label_kept {
            if self.label_pairs.iter().any(|l| l.name() == name) {
                self.label_pairs.clear();
                return self.fail(format!(
                    "duplicate label names for metric {}",
                    quote(self.mf_name().as_bytes())
                ));
            }
            self.label_pairs.push(dto::LabelPair {
                name: Some(name.clone()),
                value: None,
            });
        }
        self.label_name = name;
        Ok(State::StartLabelValue)
    }

    fn start_label_value(&mut self) -> Step {
        self.skip_blank_tab()?;
        if self.cur != b'"' {
            return self.fail(format!(
                "expected '\"' at start of label value, found {}",
                quote_byte(self.cur)
            ));
        }
        self.read_token_as_label_value()?;
        let Ok(value) = String::from_utf8(self.token.clone()) else {
            return self.fail(format!("invalid label value {}", quote(&self.token)));
        };
        if self.label_kept
            && let Some(last) = self.label_pairs.last_mut()
        {
            last.value = Some(value.clone());
        }
        match (self.mf_type(), self.label_name.as_str()) {
            (dto::MetricType::Summary, QUANTILE_LABEL) => match parse_float(value.as_bytes()) {
                Ok(q) => self.quantile = q,
                Err(_) => {
                    self.label_pairs.clear();
                    return self.fail(format!(
                        "expected float as value for 'quantile' label, got {}",
                        quote(value.as_bytes())
                    ));
                }
            },
            (dto::MetricType::Histogram, BUCKET_LABEL) => match parse_float(value.as_bytes()) {
                Ok(b) => self.bucket = b,
                Err(_) => {
                    return self.fail(format!(
                        "expected float as value for 'le' label, got {}",
                        quote(value.as_bytes())
                    ));
                }
            },
            (dto::MetricType::Summary | dto::MetricType::Histogram, _) => {
                self.signature
                    .insert(self.label_name.clone(), value.clone());
            }
            _ => {}
        }
        self.skip_blank_tab()?;
        match self.cur {
            b',' => Ok(State::StartLabelName),
            b'}' => {
                if self.mf.is_none() {
                    return self.fail("invalid metric name".into());
                }
                self.end_labels()
            }
            _ => {
                self.label_pairs.clear();
                self.fail(format!(
                    "unexpected end of label value {}",
                    quote(value.as_bytes())
                ))
            }
        }
    }

    /// Files the metric under its family (merging summary and histogram lines with equal
    /// labels into one metric), then reads the value.
    fn reading_value(&mut self) -> Step {
        let Some(fi) = self.mf else {
            return self.fail("invalid metric name".into());
        };
        let t = self.mf_type();
        let metric = std::mem::take(&mut self.metric);
        let family = &mut self.families[fi];
        let index = match t {
            dto::MetricType::Summary | dto::MetricType::Histogram => {
                let key: Signature = self
                    .signature
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let map = if t == dto::MetricType::Summary {
                    &mut self.summaries
                } else {
                    &mut self.histograms
                };
                *map.entry(key).or_insert_with(|| {
                    family.metric.push(metric);
                    family.metric.len() - 1
                })
            }
            _ => {
                family.metric.push(metric);
                family.metric.len() - 1
            }
        };
        self.slot = index;
        self.read_token_until_whitespace()?;
        let Ok(value) = parse_float(&self.token) else {
            return self.fail(format!(
                "expected float as value, got {}",
                quote(&self.token)
            ));
        };
        let (is_count, is_sum, quantile, bucket) =
            (self.is_count, self.is_sum, self.quantile, self.bucket);
        let m = &mut self.families[fi].metric[index];
        match t {
            dto::MetricType::Counter => {
                m.counter = Some(dto::Counter {
                    value: Some(value),
                    ..Default::default()
                })
            }
            dto::MetricType::Gauge => m.gauge = Some(dto::Gauge { value: Some(value) }),
            dto::MetricType::Untyped => m.untyped = Some(dto::Untyped { value: Some(value) }),
            dto::MetricType::Summary => {
                let s = m.summary.get_or_insert_with(Default::default);
                if is_count {
                    s.sample_count = Some(value as u64);
                } else if is_sum {
                    s.sample_sum = Some(value);
                } else if !quantile.is_nan() {
                    s.quantile.push(dto::Quantile {
                        quantile: Some(quantile),
                        value: Some(value),
                    });
                }
            }
            dto::MetricType::Histogram => {
                let h = m.histogram.get_or_insert_with(Default::default);
                if is_count {
                    h.sample_count = Some(value as u64);
                } else if is_sum {
                    h.sample_sum = Some(value);
                } else if !bucket.is_nan() {
                    h.bucket.push(dto::Bucket {
                        upper_bound: Some(bucket),
                        cumulative_count: Some(value as u64),
                        ..Default::default()
                    });
                }
            }
            dto::MetricType::GaugeHistogram => {
                return self.fail(format!(
                    "unexpected type for metric name {}",
                    quote(self.mf_name().as_bytes())
                ));
            }
        }
        if self.cur == b'\n' {
            Ok(State::StartOfLine)
        } else {
            Ok(State::StartTimestamp)
        }
    }

    fn start_timestamp(&mut self) -> Step {
        self.skip_blank_tab()?;
        self.read_token_until_whitespace()?;
        let ts = std::str::from_utf8(&self.token)
            .ok()
            .and_then(|s| s.parse::<i64>().ok());
        let Some(ts) = ts else {
            return self.fail(format!(
                "expected integer as timestamp, got {}",
                quote(&self.token)
            ));
        };
        if let Some(fi) = self.mf {
            self.families[fi].metric[self.slot].timestamp_ms = Some(ts);
        }
        self.read_token_until_newline(false)?;
        if !self.token.is_empty() {
            return self.fail(format!(
                "spurious string after timestamp: {}",
                quote(&self.token)
            ));
        }
        Ok(State::StartOfLine)
    }

    fn reading_help(&mut self) -> Step {
        let Some(fi) = self.mf else {
            return Ok(State::StartOfLine);
        };
        if self.families[fi].help.is_some() {
            return self.fail(format!(
                "second HELP line for metric name {}",
                quote(self.mf_name().as_bytes())
            ));
        }
        self.read_token_until_newline(true)?;
        self.families[fi].help = Some(String::from_utf8_lossy(&self.token).into_owned());
        Ok(State::StartOfLine)
    }

    fn reading_type(&mut self) -> Step {
        let Some(fi) = self.mf else {
            return Ok(State::StartOfLine);
        };
        if self.families[fi].r#type.is_some() {
            return self.fail(format!(
                "second TYPE line for metric name {}, or TYPE reported after samples",
                quote(self.mf_name().as_bytes())
            ));
        }
        self.read_token_until_newline(false)?;
        let word = String::from_utf8_lossy(&self.token).to_uppercase();
        let Some(t) = dto::MetricType::from_str_name(&word) else {
            return self.fail(format!("unknown metric type {}", quote(&self.token)));
        };
        self.families[fi].r#type = Some(t as i32);
        Ok(State::StartOfLine)
    }

    /// Finds the family a name belongs to: itself, or the summary/histogram whose `_sum`,
    /// `_count` (or `_bucket`) it is; otherwise creates a family of that name.
    fn set_or_create_mf(&mut self) {
        self.is_count = false;
        self.is_sum = false;
        let name = String::from_utf8_lossy(&self.token).into_owned();
        if let Some(&i) = self.by_name.get(&name) {
            self.mf = Some(i);
            return;
        }
        let is_count = name.len() > 6 && name.ends_with("_count");
        let is_sum = name.len() > 4 && name.ends_with("_sum");
        let is_bucket = name.len() > 7 && name.ends_with("_bucket");
        let base = |suffix: usize| &name[..name.len() - suffix];
        let summary_base = if is_count {
            Some(base(6))
        } else if is_sum {
            Some(base(4))
        } else {
            None
        };
        let histogram_base = summary_base.or(is_bucket.then(|| base(7)));
        for (candidate, wanted) in [
            (summary_base, dto::MetricType::Summary),
            (histogram_base, dto::MetricType::Histogram),
        ] {
            if let Some(&i) = candidate.and_then(|c| self.by_name.get(c))
                && self.families[i].r#type == Some(wanted as i32)
            {
                self.mf = Some(i);
                self.is_count = is_count;
                self.is_sum = is_sum;
                return;
            }
        }
        self.families.push(dto::MetricFamily {
            name: Some(name.clone()),
            ..Default::default()
        });
        self.by_name.insert(name, self.families.len() - 1);
        self.mf = Some(self.families.len() - 1);
    }

    fn read_token_until_whitespace(&mut self) -> Result<(), Stop> {
        self.token.clear();
        while !is_blank(self.cur) && self.cur != b'\n' {
            self.token.push(self.cur);
            self.read()?;
        }
        Ok(())
    }

    /// The rest of the line; with `escapes`, `\\`, `\n` and `\"` are decoded and any other
    /// escape is an error (HELP text).
    fn read_token_until_newline(&mut self, escapes: bool) -> Result<(), Stop> {
        self.token.clear();
        let mut escaped = false;
        loop {
            if escapes && escaped {
                match self.cur {
                    b'\\' => self.token.push(b'\\'),
                    b'n' => self.token.push(b'\n'),
                    b'"' => self.token.push(b'"'),
                    b => return Err(self.invalid_escape(b)),
                }
                escaped = false;
            } else {
                match self.cur {
                    b'\n' => return Ok(()),
                    b'\\' => escaped = true,
                    b => self.token.push(b),
                }
            }
            self.read()?;
        }
    }

    fn invalid_escape(&self, b: u8) -> Stop {
        let mut msg = String::from("invalid escape sequence '\\");
        msg.push(char::from(b));
        msg.push('\'');
        Stop::Error(self.error(msg))
    }

    /// A metric name (`metric`) or label name, bare or double-quoted (UTF-8 names).
    fn read_token_as_name(&mut self, metric: bool) -> Result<(), Stop> {
        self.token.clear();
        let valid_start = |b: u8| is_label_name_start(b) || (metric && b == b':');
        if !valid_start(self.cur) {
            return Ok(());
        }
        let (mut quoted, mut escaped) = (false, false);
        loop {
            if escaped {
                match self.cur {
                    b'\\' => self.token.push(b'\\'),
                    b'n' => self.token.push(b'\n'),
                    b'"' => self.token.extend_from_slice(b"\\\""),
                    b => return Err(self.invalid_escape(b)),
                }
                escaped = false;
            } else {
                match self.cur {
                    b'"' => {
                        quoted = !quoted;
                        if !quoted {
                            self.read()?;
                            return Ok(());
                        }
                    }
                    b'\n' => {
                        let what = if metric { "metric name" } else { "label name" };
                        return Err(Stop::Error(self.error(format!(
                            "{what} {} contains unescaped new-line",
                            quote(&self.token)
                        ))));
                    }
                    b'\\' => escaped = true,
                    b => self.token.push(b),
                }
            }
            self.read()?;
            let b = self.cur;
            let continues = is_label_name_continuation(b, quoted) || (metric && b == b':');
            if !continues || (!quoted && b == b' ') {
                return Ok(());
            }
        }
    }

    fn read_token_as_label_value(&mut self) -> Result<(), Stop> {
        self.token.clear();
        let mut escaped = false;
        loop {
            let b = self.read()?;
            if escaped {
                match b {
                    b'"' | b'\\' => self.token.push(b),
                    b'n' => self.token.push(b'\n'),
                    _ => {
                        self.label_pairs.clear();
                        return Err(self.invalid_escape(b));
                    }
                }
                escaped = false;
                continue;
            }
            match b {
                b'"' => return Ok(()),
                b'\n' => {
                    let mut msg = String::from("label value ");
                    let _ = write!(msg, "{}", quote(&self.token));
                    msg.push_str(" contains unescaped new-line");
                    return Err(Stop::Error(self.error(msg)));
                }
                b'\\' => escaped = true,
                b => self.token.push(b),
            }
        }
    }
}

#[cfg(test)]
#[path = "families_tests.rs"]
mod tests;
