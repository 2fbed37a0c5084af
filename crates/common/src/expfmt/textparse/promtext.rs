//! The Prometheus text format 0.0.4 scrape parser (upstream `textparse.PromParser`).
//!
//! Whitespace (spaces and tabs) may separate any two tokens, blank lines are skipped, label
//! values may contain escaped (and even raw) newlines, timestamps are integer milliseconds.
//! Prometheus 3 UTF-8 names are accepted quoted, inside the braces (`{"my.metric", a="b"}`) or
//! before them (`"my.metric"{a="b"}`).

use std::borrow::Cow;

use super::error::ParseErrorKind;
use super::lexer::{
    LabelSpan, Span, error_at, fill_labels, is_label_char, is_label_start, is_metric_char,
    is_metric_start, line_end, normal_nan, parse_float, sample_type, scan_quoted, scan_while,
    skip_blank, text, unescape, unexpected,
};
use super::{Entry, ParseError, Parser};
use crate::model::{Exemplar, MetricType, ScratchBuilder};

/// Streaming parser of the Prometheus text format; see the [module docs](super).
pub struct PromParser<'a> {
    buf: &'a [u8],
    pos: usize,
    /// Start of the current entry.
    start: usize,
    /// Metric name of the current sample or metadata line (without quotes).
    name: Span,
    labels: Vec<LabelSpan>,
    series_end: usize,
    /// Help or comment text, or the type word.
    text: Span,
    value: f64,
    ts: Option<i64>,
    /// Type of the current `# TYPE` entry.
    entry_type: MetricType,
    /// Name and type from the last `# TYPE` line, to tell which samples belong to it.
    family: Span,
    family_type: MetricType,
}

impl<'a> PromParser<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        PromParser {
            buf,
            pos: 0,
            start: 0,
            name: (0, 0),
            labels: Vec::with_capacity(16),
            series_end: 0,
            text: (0, 0),
            value: 0.0,
            ts: None,
            entry_type: MetricType::Unknown,
            family: (0, 0),
            family_type: MetricType::Unknown,
        }
    }

    fn unexpected(&self, pos: usize, expected: &'static str) -> ParseError {
        unexpected(self.buf, self.start, pos, expected)
    }

    fn context(&self, pos: usize) -> String {
        String::from_utf8_lossy(&self.buf[self.start..pos.min(self.buf.len())]).into_owned()
    }

    /// A `#` line: HELP, TYPE, or a free comment.
    fn comment_or_meta(&mut self) -> Result<Entry, ParseError> {
        let buf = self.buf;
        let after_hash = self.start + 1;
        let keyword_at = skip_blank(buf, after_hash);
        let keyword = &buf[keyword_at..buf.len().min(keyword_at + 4)];
        let is_meta = keyword_at > after_hash
            && (keyword == b"HELP" || keyword == b"TYPE")
            && matches!(buf.get(keyword_at + 4), Some(b' ' | b'\t'));
        if !is_meta {
            let end = line_end(buf, self.start);
            self.text = (self.start, end);
            self.pos = (end + 1).min(buf.len());
            return Ok(Entry::Comment);
        }
        let is_help = keyword == b"HELP";
        let mut pos = skip_blank(buf, keyword_at + 4);
        self.name = match buf.get(pos) {
            Some(b'"') => {
                let end = scan_quoted(buf, pos, false)
                    .ok_or_else(|| self.unexpected(pos, metadata_name_expectation(is_help)))?;
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
            _ => return Err(self.unexpected(pos, metadata_name_expectation(is_help))),
        };
        let end = line_end(buf, pos);
        // The separator after the name belongs to the text token upstream; drop one byte.
        self.text = if end - pos > 1 {
            (pos + 1, end)
        } else {
            (end, end)
        };
        self.pos = (end + 1).min(buf.len());
        let word = &buf[self.text.0..self.text.1];
        if is_help {
            if std::str::from_utf8(word).is_err() {
                return Err(error_at(
                    buf,
                    pos,
                    ParseErrorKind::InvalidHelpUtf8(text(word).into_owned()),
                ));
            }
            return Ok(Entry::Help);
        }
        self.entry_type = match word {
            b"counter" => MetricType::Counter,
            b"gauge" => MetricType::Gauge,
            b"histogram" => MetricType::Histogram,
            b"summary" => MetricType::Summary,
            b"untyped" => MetricType::Unknown,
            _ => {
                return Err(error_at(
                    buf,
                    pos,
                    ParseErrorKind::InvalidType(text(word).into_owned()),
                ));
            }
        };
        self.family = self.name;
        self.family_type = self.entry_type;
        Ok(Entry::Type)
    }

    /// The label block; `pos` is just after `{`. Returns the position after `}`.
    fn label_block(&mut self, mut pos: usize, name_set: &mut bool) -> Result<usize, ParseError> {
        let buf = self.buf;
        loop {
            pos = skip_blank(buf, pos);
            let (name, quoted) = match buf.get(pos) {
                Some(b'}') => return Ok(pos + 1),
                Some(&b) if is_label_start(b) => {
                    let end = scan_while(buf, pos, is_label_char);
                    let span = (pos, end);
                    pos = end;
                    (span, false)
                }
                Some(b'"') => {
                    let end = scan_quoted(buf, pos, true)
                        .ok_or_else(|| self.unexpected(pos, "expected label name"))?;
                    self.check_utf8(pos + 1, end - 1)?;
                    let span = (pos + 1, end - 1);
                    pos = end;
                    (span, true)
                }
                _ => return Err(self.unexpected(pos, "expected label name")),
            };
            pos = skip_blank(buf, pos);
            if quoted && matches!(buf.get(pos), Some(b',' | b'}')) {
                if *name_set {
                    return Err(error_at(
                        buf,
                        pos,
                        ParseErrorKind::DuplicateMetricName(self.context(pos + 1)),
                    ));
                }
                *name_set = true;
                self.name = name;
                if buf[pos] == b'}' {
                    return Ok(pos + 1);
                }
                pos += 1;
                continue;
            }
            if buf.get(pos) != Some(&b'=') {
                return Err(self.unexpected(pos, "expected equal"));
            }
            pos = skip_blank(buf, pos + 1);
            let end = match buf.get(pos) {
                Some(b'"') => scan_quoted(buf, pos, true),
                _ => None,
            }
            .ok_or_else(|| self.unexpected(pos, "expected label value"))?;
            self.check_utf8(pos + 1, end - 1)?;
            self.labels.push(LabelSpan {
                name,
                value: (pos + 1, end - 1),
            });
            pos = skip_blank(buf, end);
            if buf.get(pos) == Some(&b',') {
                pos += 1;
            }
        }
    }

    fn check_utf8(&self, start: usize, end: usize) -> Result<(), ParseError> {
        let raw = &self.buf[start..end];
        // Nearly every name and value is ASCII, which the word-at-a-time check settles.
        if !raw.is_ascii() && std::str::from_utf8(raw).is_err() {
            return Err(error_at(
                self.buf,
                start,
                ParseErrorKind::InvalidLabelUtf8(text(raw).into_owned()),
            ));
        }
        Ok(())
    }

    /// A sample line from its first byte.
    fn sample(&mut self) -> Result<Entry, ParseError> {
        let buf = self.buf;
        let mut pos = self.start;
        let mut name_set = false;
        match buf[pos] {
            b'"' => {
                let end = scan_quoted(buf, pos, false)
                    .ok_or_else(|| self.unexpected(pos, "expected a valid start token"))?;
                self.check_utf8(pos + 1, end - 1)?;
                self.name = (pos + 1, end - 1);
                name_set = true;
                pos = end;
            }
            b if is_metric_start(b) => {
                let end = scan_while(buf, pos, is_metric_char);
                self.name = (pos, end);
                name_set = true;
                pos = end;
            }
            _ => {}
        }
        let after_name = skip_blank(buf, pos);
        if buf.get(after_name) == Some(&b'{') {
            pos = self.label_block(after_name + 1, &mut name_set)?;
        }
        if !name_set {
            return Err(error_at(
                buf,
                pos,
                ParseErrorKind::MissingMetricName(self.context(pos)),
            ));
        }
        self.series_end = pos;
        pos = skip_blank(buf, pos);
        let value_end = scan_while(buf, pos, |b| !matches!(b, b' ' | b'\t' | b'\n' | b'{'));
        if value_end == pos {
            return Err(self.unexpected(pos, "expected value after metric"));
        }
        self.value = normal_nan(parse_float(&buf[pos..value_end]).map_err(|reason| {
            error_at(
                buf,
                pos,
                ParseErrorKind::InvalidNumber {
                    reason,
                    context: self.context(value_end),
                },
            )
        })?);
        pos = skip_blank(buf, value_end);
        self.ts = None;
        if pos < buf.len() && buf[pos] != b'\n' {
            let ts_end = scan_while(buf, pos, |b| b.is_ascii_digit());
            if ts_end == pos {
                return Err(self.unexpected(pos, "expected timestamp or new record"));
            }
            let ts = std::str::from_utf8(&buf[pos..ts_end])
                .ok()
                .and_then(|s| s.parse::<i64>().ok())
                .ok_or_else(|| {
                    error_at(
                        buf,
                        pos,
                        ParseErrorKind::InvalidNumber {
                            reason: "value out of range",
                            context: self.context(ts_end),
                        },
                    )
                })?;
            self.ts = Some(ts);
            pos = skip_blank(buf, ts_end);
            if pos < buf.len() && buf[pos] != b'\n' {
                return Err(self.unexpected(pos, "expected next entry after timestamp"));
            }
        }
        self.pos = (pos + 1).min(buf.len());
        Ok(Entry::Series)
    }
}

fn metadata_name_expectation(is_help: bool) -> &'static str {
    if is_help {
        "expected metric name after HELP"
    } else {
        "expected metric name after TYPE"
    }
}

impl<'a> Parser<'a> for PromParser<'a> {
    fn next(&mut self) -> Result<Option<Entry>, ParseError> {
        loop {
            let pos = skip_blank(self.buf, self.pos);
            self.start = pos;
            self.labels.clear();
            let Some(&b) = self.buf.get(pos) else {
                self.pos = pos;
                return Ok(None);
            };
            match b {
                b'\n' => self.pos = pos + 1,
                // Upstream's lexer reads a NUL at the start of a line as the end of input.
                0 => {
                    self.pos = self.buf.len();
                    return Ok(None);
                }
                b'#' => return self.comment_or_meta().map(Some),
                b'{' | b'"' => return self.sample().map(Some),
                b if is_metric_start(b) => return self.sample().map(Some),
                _ => return Err(self.unexpected(pos, "expected a valid start token")),
            }
        }
    }

    fn series(&self) -> (&'a [u8], Option<i64>, f64) {
        (&self.buf[self.start..self.series_end], self.ts, self.value)
    }

    fn help(&self) -> (&'a [u8], Cow<'a, str>) {
        let raw = &self.buf[self.text.0..self.text.1];
        let help = match text(raw) {
            Cow::Borrowed(s) => unescape(s, false),
            Cow::Owned(s) => Cow::Owned(unescape(&s, false).into_owned()),
        };
        (&self.buf[self.name.0..self.name.1], help)
    }

    fn type_(&self) -> (&'a [u8], MetricType) {
        (&self.buf[self.name.0..self.name.1], self.entry_type)
    }

    fn unit(&self) -> (&'a [u8], &'a str) {
        (&self.buf[self.name.0..self.name.1], "")
    }

    fn comment(&self) -> &'a [u8] {
        &self.buf[self.text.0..self.text.1]
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
        None
    }

    fn created_timestamp(&mut self) -> Option<i64> {
        None
    }

    fn metric_type(&self) -> MetricType {
        sample_type(self.buf, self.family, self.family_type, self.name)
    }
}

#[cfg(test)]
#[path = "promtext_tests.rs"]
mod tests;
