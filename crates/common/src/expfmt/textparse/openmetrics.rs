//! The OpenMetrics 1.0 scrape parser (upstream `textparse.OpenMetricsParser`).
//!
//! Stricter than the Prometheus text format: exactly one space between tokens, no blank lines
//! or comments, timestamps are float seconds, `# EOF` must end the input, and samples may carry
//! an exemplar (`# {labels} value [timestamp]`). What the grammar alone cannot check (grouping,
//! histogram structure, …) is left to [`super::validate_openmetrics`], as upstream leaves it to
//! the scrape loop.

use std::borrow::Cow;

use super::error::ParseErrorKind;
use super::lexer::{
    LabelSpan, Span, error_at, fill_labels, is_label_char, is_label_start, is_metric_char,
    is_metric_start, normal_nan, parse_float, sample_type, scan_quoted, scan_while, text, unescape,
    unexpected,
};
use super::{Entry, ParseError, Parser};
use crate::model::{BUCKET_LABEL, Exemplar, MetricType, QUANTILE_LABEL, ScratchBuilder};

/// Behaviour switches, as upstream's parser options.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenMetricsOptions {
    /// Hide `_created` samples of counters, histograms and summaries and report them through
    /// [`Parser::created_timestamp`] instead (Prometheus' `created-timestamp-zero-ingestion`).
    pub skip_created_series: bool,
}

/// Streaming parser of OpenMetrics text; see the [module docs](super).
pub struct OpenMetricsParser<'a> {
    buf: &'a [u8],
    pos: usize,
    start: usize,
    done: bool,
    options: OpenMetricsOptions,
    name: Span,
    labels: Vec<LabelSpan>,
    series_end: usize,
    text: Span,
    value: f64,
    ts: Option<i64>,
    entry_type: MetricType,
    family: Span,
    family_type: MetricType,
    exemplar_labels: Vec<LabelSpan>,
    /// Present while the current sample has an exemplar that was not yet taken.
    exemplar: Option<(f64, Option<i64>)>,
    /// Whether the current sample's label set (or exemplar's) ended in `,}`: upstream accepts
    /// it, the specification does not.
    trailing_comma: bool,
    /// Created timestamp found for a series key, so that every sample of a histogram or
    /// summary does not search again.
    ct_cache: Option<(Vec<u8>, i64)>,
    /// No `_created` line stands between the current position and this offset: a look-ahead
    /// found none up to the end of the family, so later series of the family need not look again
    /// (without this, a large family with no `_created` lines costs quadratic time).
    ct_absent_until: usize,
}

impl<'a> OpenMetricsParser<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self::with_options(buf, OpenMetricsOptions::default())
    }

    pub fn with_options(buf: &'a [u8], options: OpenMetricsOptions) -> Self {
        OpenMetricsParser {
            buf,
            pos: 0,
            start: 0,
            done: false,
            options,
            name: (0, 0),
            labels: Vec::with_capacity(16),
            series_end: 0,
            text: (0, 0),
            value: 0.0,
            ts: None,
            entry_type: MetricType::Unknown,
            family: (0, 0),
            family_type: MetricType::Unknown,
            exemplar_labels: Vec::new(),
            exemplar: None,
            trailing_comma: false,
            ct_cache: None,
            ct_absent_until: 0,
        }
    }

    /// 1-based line of the current entry.
    pub(super) fn line(&self) -> usize {
        super::lexer::line_of(self.buf, self.start)
    }

    /// Unescaped metric name of the current sample or metadata line.
    pub(super) fn name_text(&self) -> Cow<'a, str> {
        owned_unescape(&self.buf[self.name.0..self.name.1])
    }

    /// Unescaped label pairs of the current sample, in exposition order.
    pub(super) fn label_pairs(&self) -> impl Iterator<Item = (Cow<'a, str>, Cow<'a, str>)> + '_ {
        pairs(self.buf, &self.labels)
    }

    /// Total code points of the exemplar's label names and values, if there is an exemplar.
    pub(super) fn exemplar_runes(&self) -> Option<usize> {
        self.exemplar.map(|_| {
            pairs(self.buf, &self.exemplar_labels)
                .map(|(n, v)| n.chars().count() + v.chars().count())
                .sum()
        })
    }

    pub(super) fn had_trailing_comma(&self) -> bool {
        self.trailing_comma
    }

    fn unexpected(&self, pos: usize, expected: &'static str) -> ParseError {
        unexpected(self.buf, self.start, pos, expected)
    }

    fn context(&self, pos: usize) -> String {
        String::from_utf8_lossy(&self.buf[self.start..pos.min(self.buf.len())]).into_owned()
    }

    fn metadata(&mut self) -> Result<Option<Entry>, ParseError> {
        let buf = self.buf;
        let kw = &buf[(self.start + 2).min(buf.len())..(self.start + 7).min(buf.len())];
        if buf.get(self.start + 1) != Some(&b' ') {
            return Err(self.unexpected(self.start, "expected a valid start token"));
        }
        let (entry, expectation, text_expectation) = match kw {
            b"HELP " => (
                Entry::Help,
                "expected metric name after HELP",
                "expected text in HELP",
            ),
            b"TYPE " => (
                Entry::Type,
                "expected metric name after TYPE",
                "expected text in TYPE",
            ),
            b"UNIT " => (
                Entry::Unit,
                "expected metric name after UNIT",
                "expected text in UNIT",
            ),
            _ if kw.starts_with(b"EOF") => {
                let mut end = self.start + 5;
                if buf.get(end) == Some(&b'\n') {
                    end += 1;
                }
                if end != buf.len() {
                    return Err(error_at(buf, end, ParseErrorKind::DataAfterEof));
                }
                self.done = true;
                self.pos = end;
                return Ok(None);
            }
            _ => return Err(self.unexpected(self.start + 2, "expected a valid start token")),
        };
        let mut pos = self.start + 7;
        self.name = match buf.get(pos) {
            Some(b'"') => {
                let end = scan_quoted(buf, pos, false)
                    .ok_or_else(|| self.unexpected(pos, expectation))?;
                let span = (pos + 1, end - 1);
                pos = end;
                span
            }
            Some(&b) if is_metric_start(b) => {
                let end = scan_while(buf, pos, is_metric_char);
                let span = (pos, end);
                pos = end;
                span
            }
            _ => return Err(self.unexpected(pos, expectation)),
        };
        let eol = super::lexer::line_end(buf, pos);
        if buf.get(pos) != Some(&b' ') || eol == buf.len() {
            return Err(self.unexpected(pos, text_expectation));
        }
        self.text = (pos + 1, eol);
        self.pos = eol + 1;
        let word = &buf[pos + 1..eol];
        let name = &buf[self.name.0..self.name.1];
        if name != &buf[self.family.0..self.family.1] {
            self.family = self.name;
            self.family_type = MetricType::Unknown;
        }
        match entry {
            Entry::Type => {
                self.entry_type = match word {
                    b"counter" => MetricType::Counter,
                    b"gauge" => MetricType::Gauge,
                    b"histogram" => MetricType::Histogram,
                    b"gaugehistogram" => MetricType::GaugeHistogram,
                    b"summary" => MetricType::Summary,
                    b"info" => MetricType::Info,
                    b"stateset" => MetricType::StateSet,
                    b"unknown" => MetricType::Unknown,
                    _ => {
                        return Err(error_at(
                            buf,
                            pos,
                            ParseErrorKind::InvalidType(text(word).into_owned()),
                        ));
                    }
                };
                self.family_type = self.entry_type;
            }
            Entry::Help if std::str::from_utf8(word).is_err() => {
                return Err(error_at(
                    buf,
                    pos,
                    ParseErrorKind::InvalidHelpUtf8(text(word).into_owned()),
                ));
            }
            Entry::Unit if !word.is_empty() => {
                let is_suffix = name.len() > word.len()
                    && name.ends_with(word)
                    && name[name.len() - word.len() - 1] == b'_';
                if !is_suffix || std::str::from_utf8(word).is_err() {
                    return Err(error_at(
                        buf,
                        pos,
                        ParseErrorKind::UnitNotSuffix {
                            unit: text(word).into_owned(),
                            metric: text(name).into_owned(),
                        },
                    ));
                }
            }
            _ => {}
        }
        Ok(Some(entry))
    }

    /// A label block (`pos` after `{`) into `self.labels` or `self.exemplar_labels`; returns the
    /// position after `}`.
    fn label_block(
        &mut self,
        mut pos: usize,
        exemplar: bool,
        name_set: &mut bool,
    ) -> Result<usize, ParseError> {
        let buf = self.buf;
        let mut after_comma = false;
        loop {
            let (name, quoted) = match buf.get(pos) {
                Some(b'}') => {
                    self.trailing_comma |= after_comma;
                    return Ok(pos + 1);
                }
                Some(&b) if is_label_start(b) => {
                    let end = scan_while(buf, pos, is_label_char);
                    let span = (pos, end);
                    pos = end;
                    (span, false)
                }
                Some(b'"') => {
                    let end = scan_quoted(buf, pos, false)
                        .ok_or_else(|| self.unexpected(pos, "expected label name"))?;
                    self.check_utf8(pos + 1, end - 1)?;
                    let span = (pos + 1, end - 1);
                    pos = end;
                    (span, true)
                }
                _ => return Err(self.unexpected(pos, "expected label name")),
            };
            if quoted && matches!(buf.get(pos), Some(b',' | b'}')) {
                if exemplar {
                    return Err(self.unexpected(pos, "expected label name"));
                }
                if *name_set {
                    return Err(error_at(
                        buf,
                        pos,
                        ParseErrorKind::DuplicateMetricName(self.context(pos + 1)),
                    ));
                }
                *name_set = true;
                self.name = name;
            } else {
                if buf.get(pos) != Some(&b'=') {
                    return Err(self.unexpected(pos, "expected equal"));
                }
                pos += 1;
                let end = match buf.get(pos) {
                    Some(b'"') => scan_quoted(buf, pos, false),
                    _ => None,
                }
                .ok_or_else(|| self.unexpected(pos, "expected label value"))?;
                self.check_utf8(pos + 1, end - 1)?;
                let span = LabelSpan {
                    name,
                    value: (pos + 1, end - 1),
                };
                if exemplar {
                    self.exemplar_labels.push(span);
                } else {
                    self.labels.push(span);
                }
                pos = end;
            }
            match buf.get(pos) {
                Some(b',') => {
                    pos += 1;
                    after_comma = true;
                }
                Some(b'}') => after_comma = false,
                _ => return Err(self.unexpected(pos, "expected comma or brace close")),
            }
        }
    }

    fn check_utf8(&self, start: usize, end: usize) -> Result<(), ParseError> {
        let raw = &self.buf[start..end];
        if !raw.is_ascii() && std::str::from_utf8(raw).is_err() {
            return Err(error_at(
                self.buf,
                start,
                ParseErrorKind::InvalidLabelUtf8(text(raw).into_owned()),
            ));
        }
        Ok(())
    }

    /// ` value` after a space at `pos`; returns the value and the end of its token.
    fn float_token(&self, pos: usize, after: &'static str) -> Result<(f64, usize), ParseError> {
        let buf = self.buf;
        let start = pos + 1;
        let end = scan_while(buf, start.min(buf.len()), |b| b != b' ' && b != b'\n');
        if buf.get(pos) != Some(&b' ') || end == start {
            return Err(self.unexpected(pos, after));
        }
        let v = parse_float(&buf[start..end]).map_err(|reason| {
            error_at(
                buf,
                start,
                ParseErrorKind::InvalidNumber {
                    reason,
                    context: self.context(end),
                },
            )
        })?;
        Ok((normal_nan(v), end))
    }

    /// A timestamp token in float seconds, converted to milliseconds as upstream (truncating).
    fn timestamp_token(&self, pos: usize, exemplar: bool) -> Result<(i64, usize), ParseError> {
        let (ts, end) = self.float_token(pos, "expected timestamp")?;
        if !ts.is_finite() {
            let kind = if exemplar {
                ParseErrorKind::InvalidExemplarTimestamp(ts)
            } else {
                ParseErrorKind::InvalidTimestamp(ts)
            };
            return Err(error_at(self.buf, pos, kind));
        }
        Ok(((ts * 1000.0) as i64, end))
    }

    fn is_exemplar_start(&self, pos: usize) -> bool {
        self.buf[pos..].starts_with(b" # {")
    }

    fn sample(&mut self) -> Result<Entry, ParseError> {
        let buf = self.buf;
        let mut pos = self.start;
        let mut name_set = false;
        self.trailing_comma = false;
        self.exemplar = None;
        self.exemplar_labels.clear();
        if buf[pos] != b'{' {
            let end = scan_while(buf, pos, is_metric_char);
            self.name = (pos, end);
            name_set = true;
            pos = end;
        }
        if buf.get(pos) == Some(&b'{') {
            pos = self.label_block(pos + 1, false, &mut name_set)?;
        }
        if !name_set {
            return Err(error_at(
                buf,
                pos,
                ParseErrorKind::MissingMetricName(self.context(pos)),
            ));
        }
        self.series_end = pos;
        let (value, mut pos) = self.float_token(pos, "expected value after metric")?;
        self.value = value;
        self.ts = None;
        if pos < buf.len() && buf[pos] == b' ' && !self.is_exemplar_start(pos) {
            let (ts, end) = self.timestamp_token(pos, false)?;
            self.ts = Some(ts);
            pos = end;
        }
        if pos < buf.len() && self.is_exemplar_start(pos) {
            pos = self.exemplar_suffix(pos + 4)?;
        }
        match buf.get(pos) {
            Some(b'\n') => {
                self.pos = pos + 1;
                Ok(Entry::Series)
            }
            None => Err(error_at(buf, pos, ParseErrorKind::MissingEof)),
            Some(_) => Err(self.unexpected(pos, "expected next entry after timestamp")),
        }
    }

    /// `{labels} value [ts]` of an exemplar; `pos` is after `{`.
    fn exemplar_suffix(&mut self, pos: usize) -> Result<usize, ParseError> {
        let mut unused = true;
        let pos = self.label_block(pos, true, &mut unused)?;
        let (value, mut pos) = self.float_token(pos, "expected value after exemplar labels")?;
        let mut ts = None;
        if self.buf.get(pos) == Some(&b' ') {
            let (t, end) = self.timestamp_token(pos, true)?;
            ts = Some(t);
            pos = end;
        }
        self.exemplar = Some((value, ts));
        Ok(pos)
    }

    /// Whether the current sample is a `_created` series that created-timestamp handling hides.
    fn is_created_series(&self) -> bool {
        type_has_created(self.family_type)
            && self.buf[self.name.0..self.name.1].ends_with(b"_created")
            && self.metric_type() == self.family_type
    }

    /// Identity of the current sample's series for matching a `_created` line: the family part
    /// of the name plus all labels but `le` and `quantile`.
    fn ct_key(&self, name: &[u8], out: &mut Vec<u8>) {
        out.clear();
        out.extend_from_slice(name);
        for l in &self.labels {
            let n = &self.buf[l.name.0..l.name.1];
            if n == BUCKET_LABEL.as_bytes() || n == QUANTILE_LABEL.as_bytes() {
                continue;
            }
            out.push(0xff);
            out.extend_from_slice(n);
            out.push(0xff);
            out.extend_from_slice(&self.buf[l.value.0..l.value.1]);
        }
    }

    fn family_base(&self) -> &'a [u8] {
        let name = &self.buf[self.name.0..self.name.1];
        ["_total", "_bucket", "_count", "_sum"]
            .iter()
            .find_map(|s| name.strip_suffix(s.as_bytes()))
            .unwrap_or(name)
    }
}

fn type_has_created(t: MetricType) -> bool {
    matches!(
        t,
        MetricType::Counter | MetricType::Histogram | MetricType::Summary
    )
}

fn owned_unescape(raw: &[u8]) -> Cow<'_, str> {
    match text(raw) {
        Cow::Borrowed(s) => unescape(s, true),
        Cow::Owned(s) => Cow::Owned(unescape(&s, true).into_owned()),
    }
}

fn pairs<'a>(
    buf: &'a [u8],
    spans: &[LabelSpan],
) -> impl Iterator<Item = (Cow<'a, str>, Cow<'a, str>)> {
    spans.iter().map(move |l| {
        (
            owned_unescape(&buf[l.name.0..l.name.1]),
            owned_unescape(&buf[l.value.0..l.value.1]),
        )
    })
}

impl<'a> Parser<'a> for OpenMetricsParser<'a> {
    fn next(&mut self) -> Result<Option<Entry>, ParseError> {
        loop {
            if self.done {
                return Ok(None);
            }
            self.start = self.pos;
            self.labels.clear();
            let entry = match self.buf.get(self.pos) {
                None => return Err(error_at(self.buf, self.pos, ParseErrorKind::MissingEof)),
                Some(b'#') => return self.metadata(),
                Some(&b) if b == b'{' || is_metric_start(b) => self.sample()?,
                Some(_) => return Err(self.unexpected(self.pos, "expected a valid start token")),
            };
            if self.options.skip_created_series && self.is_created_series() {
                continue;
            }
            return Ok(Some(entry));
        }
    }

    fn series(&self) -> (&'a [u8], Option<i64>, f64) {
        (&self.buf[self.start..self.series_end], self.ts, self.value)
    }

    fn help(&self) -> (&'a [u8], Cow<'a, str>) {
        (
            &self.buf[self.name.0..self.name.1],
            owned_unescape(&self.buf[self.text.0..self.text.1]),
        )
    }

    fn type_(&self) -> (&'a [u8], MetricType) {
        (&self.buf[self.name.0..self.name.1], self.entry_type)
    }

    fn unit(&self) -> (&'a [u8], &'a str) {
        let unit = std::str::from_utf8(&self.buf[self.text.0..self.text.1]).unwrap_or_default();
        (&self.buf[self.name.0..self.name.1], unit)
    }

    fn comment(&self) -> &'a [u8] {
        &[]
    }

    fn labels(&self, builder: &mut ScratchBuilder) {
        fill_labels(
            self.buf,
            self.name,
            &self.labels,
            self.metric_type(),
            builder,
        );
    }

    fn exemplar(&mut self) -> Option<Exemplar> {
        let (value, ts) = self.exemplar.take()?;
        let mut b = ScratchBuilder::new();
        for (n, v) in pairs(self.buf, &self.exemplar_labels) {
            b.push(&n, &v);
        }
        b.sort();
        Some(Exemplar {
            labels: b.labels(),
            value,
            ts,
        })
    }

    /// Looks ahead for the `_created` sample of the current series within its family, as
    /// upstream 3.x does (OpenMetrics 1.0 puts it on a separate line, after or before).
    fn created_timestamp(&mut self) -> Option<i64> {
        if !type_has_created(self.metric_type()) || self.pos < self.ct_absent_until {
            return None;
        }
        let mut key = Vec::new();
        self.ct_key(self.family_base(), &mut key);
        if let Some((k, ct)) = &self.ct_cache
            && *k == key
        {
            return Some(*ct);
        }
        let mut peek = OpenMetricsParser::new(self.buf);
        peek.pos = self.pos;
        peek.family = self.family;
        peek.family_type = self.family_type;
        let mut peek_key = Vec::new();
        while let Ok(Some(Entry::Series)) = peek.next() {
            let name = &peek.buf[peek.name.0..peek.name.1];
            let Some(base) = name.strip_suffix(b"_created") else {
                continue;
            };
            peek.ct_key(base, &mut peek_key);
            if peek_key != key {
                return None;
            }
            let ct = (peek.value * 1000.0) as i64;
            self.ct_cache = Some((key, ct));
            return Some(ct);
        }
        self.ct_absent_until = peek.pos;
        None
    }

    fn metric_type(&self) -> MetricType {
        sample_type(self.buf, self.family, self.family_type, self.name)
    }
}

#[cfg(test)]
#[path = "openmetrics_tests.rs"]
mod tests;
