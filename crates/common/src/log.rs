//! Logging set-up shared by every daemon: the `--log.level` / `--log.format` flags and
//! formatters that write what upstream's `promslog` (Go's `log/slog`) writes, so that log
//! pipelines parsing the Go daemons' output keep working:
//!
//! ```text
//! time=2026-11-25T20:16:34.512+01:00 level=INFO source=server.rs:97 msg="Listening on" address=[::]:9100
//! {"time":"2026-11-25T20:16:34.512734+01:00","level":"INFO","source":"server.rs:97","msg":"Listening on","address":"[::]:9100"}
//! ```
//!
//! Span fields play the part of slog's `logger.With(...)` attributes: they follow `msg`,
//! outermost span first, before the event's own fields.

mod fields;
mod format;

use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

pub use format::{PromFields, PromFormat};

/// `--log.level` and `--log.format`, to be `#[command(flatten)]`ed into a daemon's CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct LogFlags {
    /// Only log messages with the given severity or above. One of: [debug, info, warn, error]
    #[arg(long = "log.level", value_enum, default_value_t = LogLevel::Info, ignore_case = true)]
    pub level: LogLevel,

    /// Output format of log messages. One of: [logfmt, json]
    #[arg(long = "log.format", value_enum, default_value_t = LogFormat::Logfmt)]
    pub format: LogFormat,
}

impl Default for LogFlags {
    fn default() -> Self {
        Self {
            level: LogLevel::Info,
            format: LogFormat::Logfmt,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogLevel {
    Debug,
    Info,
    Warn,
    Error,
}

impl From<LogLevel> for LevelFilter {
    fn from(level: LogLevel) -> Self {
        match level {
            LogLevel::Debug => LevelFilter::DEBUG,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Warn => LevelFilter::WARN,
            LogLevel::Error => LevelFilter::ERROR,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Logfmt,
    Json,
}

/// Failure to install the global subscriber.
#[derive(Debug, thiserror::Error)]
#[error("installing the global logger: {0}")]
pub struct InitError(#[from] tracing::subscriber::SetGlobalDefaultError);

/// Installs the process-wide logger, writing to stderr as upstream does.
pub fn init(flags: &LogFlags) -> Result<(), InitError> {
    tracing::subscriber::set_global_default(subscriber(flags, std::io::stderr))?;
    Ok(())
}

/// The subscriber [`init`] installs, writing to `writer`; for tests and for embedding.
pub fn subscriber<W>(flags: &LogFlags, writer: W) -> impl tracing::Subscriber + Send + Sync + use<W>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let level = LevelFilter::from(flags.level);
    // The HTTP and TLS libraries narrate every frame at debug level; upstream's debug output
    // has nothing like it, so they stay at info at most.
    let quiet = level.min(LevelFilter::INFO);
    let filter = Targets::new().with_default(level).with_targets(
        [
            "h2",
            "hyper",
            "hyper_util",
            "rustls",
            "tokio_rustls",
            "tower",
            "axum",
        ]
        .map(|t| (t, quiet)),
    );
    let layer = tracing_subscriber::fmt::layer()
        .fmt_fields(PromFields::new(flags.format))
        .event_format(PromFormat::new(flags.format))
        .with_writer(writer);
    tracing_subscriber::registry().with(layer.with_filter(filter))
}

#[cfg(test)]
mod tests;
