//! `tracing-subscriber` formatters producing slog's text (logfmt) and JSON lines.

use std::fmt::{self, Write as _};

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

use super::LogFormat;
use super::fields::{
    Fields, Value, write_json_pairs, write_json_str, write_logfmt_pairs, write_logfmt_str,
};

/// Formats events as promslog does (`time`, `level`, `source`, `msg`, then fields).
#[derive(Debug, Clone, Copy)]
pub struct PromFormat {
    format: LogFormat,
}

impl PromFormat {
    pub fn new(format: LogFormat) -> Self {
        Self { format }
    }
}

/// Formats span fields so that [`PromFormat`] can append them to each event line verbatim
/// (pre-rendered once per span, like slog's `With` attributes).
#[derive(Debug, Clone, Copy)]
pub struct PromFields {
    format: LogFormat,
}

impl PromFields {
    pub fn new(format: LogFormat) -> Self {
        Self { format }
    }

    fn render(&self, out: &mut String, fields: Fields) {
        let mut pairs = fields.pairs;
        if let Some(message) = fields.message {
            pairs.insert(0, ("message".to_owned(), Value::Str(message)));
        }
        match self.format {
            LogFormat::Logfmt => write_logfmt_pairs(out, &pairs),
            LogFormat::Json => write_json_pairs(out, &pairs),
        }
    }
}

impl<'w> FormatFields<'w> for PromFields {
    fn format_fields<R: RecordFields>(&self, mut writer: Writer<'w>, fields: R) -> fmt::Result {
        let mut collected = Fields::default();
        fields.record(&mut collected);
        let mut out = String::new();
        self.render(&mut out, collected);
        writer.write_str(&out)
    }

    fn add_fields(
        &self,
        current: &'w mut FormattedFields<Self>,
        fields: &tracing::span::Record<'_>,
    ) -> fmt::Result {
        // Every rendered pair carries its own leading separator, so appending is enough.
        let mut collected = Fields::default();
        fields.record(&mut collected);
        self.render(&mut current.fields, collected);
        Ok(())
    }
}

impl<S> FormatEvent<S, PromFields> for PromFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, PromFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        let source = meta.file().map(|file| {
            let base = file.rsplit(['/', '\\']).next().unwrap_or(file);
            format!("{base}:{}", meta.line().unwrap_or(0))
        });
        let mut span_fields = String::new();
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                if let Some(f) = span.extensions().get::<FormattedFields<PromFields>>() {
                    span_fields.push_str(&f.fields);
                }
            }
        }
        let now = jiff::ZonedDateTime::now();
        let level = level_name(*meta.level());
        let message = fields.message.take().unwrap_or_default();

        let mut line = String::with_capacity(160 + message.len());
        match self.format {
            LogFormat::Logfmt => {
                line.push_str("time=");
                line.push_str(&slog_text_time(&now));
                line.push_str(" level=");
                line.push_str(level);
                if let Some(source) = &source {
                    line.push_str(" source=");
                    write_logfmt_str(&mut line, source);
                }
                line.push_str(" msg=");
                write_logfmt_str(&mut line, &message);
                line.push_str(&span_fields);
                write_logfmt_pairs(&mut line, &fields.pairs);
            }
            LogFormat::Json => {
                line.push_str("{\"time\":");
                write_json_str(&mut line, &slog_json_time(&now));
                line.push_str(",\"level\":\"");
                line.push_str(level);
                line.push('"');
                if let Some(source) = &source {
                    line.push_str(",\"source\":");
                    write_json_str(&mut line, source);
                }
                line.push_str(",\"msg\":");
                write_json_str(&mut line, &message);
                line.push_str(&span_fields);
                write_json_pairs(&mut line, &fields.pairs);
                line.push('}');
            }
        }
        line.push('\n');
        writer.write_str(&line)
    }
}

/// slog's level names; tracing's TRACE is below slog's DEBUG, which slog spells `DEBUG-4`.
fn level_name(level: Level) -> &'static str {
    match level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARN",
        Level::INFO => "INFO",
        Level::DEBUG => "DEBUG",
        Level::TRACE => "DEBUG-4",
    }
}

/// Local time with milliseconds, as slog's text handler writes it
/// (`2006-01-02T15:04:05.000Z07:00`).
pub(super) fn slog_text_time(now: &jiff::ZonedDateTime) -> String {
    let mut s = now.strftime("%Y-%m-%dT%H:%M:%S%.3f").to_string();
    push_offset(&mut s, now.offset());
    s
}

/// Local time with up to nanoseconds, trailing zeros dropped, as slog's JSON handler writes it
/// (Go's RFC 3339 "nano" layout).
pub(super) fn slog_json_time(now: &jiff::ZonedDateTime) -> String {
    let mut s = now.strftime("%Y-%m-%dT%H:%M:%S%.f").to_string();
    push_offset(&mut s, now.offset());
    s
}

fn push_offset(s: &mut String, offset: jiff::tz::Offset) {
    let secs = offset.seconds();
    if secs == 0 {
        s.push('Z');
    } else {
        let sign = if secs < 0 { '-' } else { '+' };
        let _ = write!(
            s,
            "{sign}{:02}:{:02}",
            secs.abs() / 3600,
            secs.abs() % 3600 / 60
        );
    }
}
