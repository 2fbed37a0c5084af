//! One entry stream over the three scrape formats, picked from the response `Content-Type`.

use std::borrow::Cow;

use pm_common::expfmt::negotiate::{ParserKind, ScrapeProtocol, select_parser};
use pm_common::expfmt::textparse::{Entry, OpenMetricsParser, Parser, PromParser};
use pm_common::model::{Exemplar, MetricType, ScratchBuilder};

use super::ScrapeError;
use super::proto::{self, NativeHistogram, ProtoEntry, ProtoOptions};

pub(crate) enum Source<'a> {
    Text(Box<dyn Parser<'a> + 'a>),
    Proto {
        entries: Vec<ProtoEntry>,
        /// One past the current entry; 0 before the first `next`.
        pos: usize,
        exemplar_taken: bool,
    },
}

impl<'a> Source<'a> {
    /// A source for `body` as `content_type` says, or as `fallback` says when the type is
    /// missing or unusable (the reason is then logged).
    pub fn new(
        body: &'a [u8],
        content_type: &str,
        fallback: Option<ScrapeProtocol>,
        opts: ProtoOptions,
    ) -> Result<Source<'a>, ScrapeError> {
        let selection = select_parser(content_type, fallback)?;
        if let Some(reason) = &selection.fallback_reason {
            tracing::debug!(err = %reason, "Invalid content type on scrape, using fallback setting.");
        }
        Ok(match selection.kind {
            ParserKind::PromText => Source::Text(Box::new(PromParser::new(body))),
            ParserKind::OpenMetrics => Source::Text(Box::new(OpenMetricsParser::new(body))),
            ParserKind::Protobuf => Source::Proto {
                entries: proto::flatten(body, opts)?,
                pos: 0,
                exemplar_taken: false,
            },
        })
    }

    pub fn next(&mut self) -> Result<Option<Entry>, ScrapeError> {
        match self {
            Source::Text(p) => Ok(p.next()?),
            Source::Proto {
                entries,
                pos,
                exemplar_taken,
            } => {
                let Some(entry) = entries.get(*pos) else {
                    return Ok(None);
                };
                *pos += 1;
                *exemplar_taken = false;
                Ok(Some(match entry {
                    ProtoEntry::Help { .. } => Entry::Help,
                    ProtoEntry::Unit { .. } => Entry::Unit,
                    ProtoEntry::Type { .. } => Entry::Type,
                    ProtoEntry::Series(_) => Entry::Series,
                }))
            }
        }
    }

    fn current(&self) -> Option<&ProtoEntry> {
        match self {
            Source::Proto { entries, pos, .. } => pos.checked_sub(1).and_then(|i| entries.get(i)),
            Source::Text(_) => None,
        }
    }

    /// The series key, its own timestamp if any and its value (0 for native histograms).
    pub fn series(&self) -> (&[u8], Option<i64>, f64) {
        match (self, self.current()) {
            (Source::Text(p), _) => p.series(),
            (_, Some(ProtoEntry::Series(s))) => (&s.key, s.ts, s.value),
            _ => (&[], None, 0.0),
        }
    }

    pub fn histogram(&self) -> Option<&NativeHistogram> {
        match self.current() {
            Some(ProtoEntry::Series(s)) => s.histogram.as_ref(),
            _ => None,
        }
    }

    pub fn labels(&self, b: &mut ScratchBuilder) {
        match (self, self.current()) {
            (Source::Text(p), _) => p.labels(b),
            (_, Some(ProtoEntry::Series(s))) => proto::fill_labels(s, b),
            _ => b.reset(),
        }
    }

    pub fn exemplar(&mut self) -> Option<Exemplar> {
        if let Source::Text(p) = self {
            return p.exemplar();
        }
        let found = match self.current() {
            Some(ProtoEntry::Series(s)) => s.exemplar.clone(),
            _ => None,
        };
        if let Source::Proto { exemplar_taken, .. } = self {
            if *exemplar_taken {
                return None;
            }
            *exemplar_taken = true;
        }
        found
    }

    pub fn help(&self) -> (&[u8], Cow<'_, str>) {
        match (self, self.current()) {
            (Source::Text(p), _) => p.help(),
            (_, Some(ProtoEntry::Help { name, help })) => (name.as_bytes(), Cow::Borrowed(help)),
            _ => (&[], Cow::Borrowed("")),
        }
    }

    pub fn type_(&self) -> (&[u8], MetricType) {
        match (self, self.current()) {
            (Source::Text(p), _) => p.type_(),
            (_, Some(ProtoEntry::Type { name, t })) => (name.as_bytes(), *t),
            _ => (&[], MetricType::Unknown),
        }
    }

    pub fn unit(&self) -> (&[u8], &str) {
        match (self, self.current()) {
            (Source::Text(p), _) => p.unit(),
            (_, Some(ProtoEntry::Unit { name, unit })) => (name.as_bytes(), unit),
            _ => (&[], ""),
        }
    }
}
