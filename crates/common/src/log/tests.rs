use std::io;
use std::sync::{Arc, Mutex};

use super::format::{slog_json_time, slog_text_time};
use super::*;

/// A writer collecting everything logged, for assertions.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn capture(flags: LogFlags, log: impl FnOnce()) -> String {
    let out = Captured::default();
    tracing::subscriber::with_default(subscriber(&flags, out.clone()), log);
    String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
}

/// Drops the leading `time=…` field, whose value changes every run.
fn after_time(line: &str) -> &str {
    let rest = line.strip_prefix("time=").expect("line starts with time");
    &rest[rest.find(' ').unwrap() + 1..]
}

#[test]
fn logfmt_line_matches_slog_text_handler() {
    let out = capture(LogFlags::default(), || {
        tracing::info!(address = "[::]:9100", http2 = false, "Listening on");
    });
    let line = out.lines().next().unwrap();
    let rest = after_time(line);
    let source_end = rest.find(" msg=").unwrap();
    assert!(
        rest[..source_end].starts_with("level=INFO source=tests.rs:"),
        "{line}"
    );
    assert_eq!(
        &rest[source_end..],
        " msg=\"Listening on\" address=[::]:9100 http2=false"
    );
}

#[test]
fn logfmt_quotes_values_and_renames_reserved_keys() {
    let out = capture(LogFlags::default(), || {
        let err = io::Error::other("permission denied: /etc/x");
        tracing::error!(err = %err, level = 3, count = 2u64, ratio = 0.5, empty = "", "Failed");
    });
    assert!(
        out.trim_end().ends_with(
            " msg=Failed err=\"permission denied: /etc/x\" logged_level=3 count=2 ratio=0.5 empty=\"\""
        ),
        "{out}"
    );
    assert!(after_time(&out).starts_with("level=ERROR "));
}

#[test]
fn level_flag_filters() {
    let flags = LogFlags {
        level: LogLevel::Warn,
        ..LogFlags::default()
    };
    let out = capture(flags, || {
        tracing::info!("hidden");
        tracing::debug!("hidden too");
        tracing::warn!("shown");
    });
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("level=WARN"));
    assert!(out.contains("msg=shown"));
}

#[test]
fn span_fields_follow_msg_like_slog_with() {
    let out = capture(LogFlags::default(), || {
        let span = tracing::info_span!("tsdb", component = "tsdb");
        let _enter = span.enter();
        tracing::info!(blocks = 3, "Replaying WAL");
    });
    assert!(
        out.trim_end()
            .ends_with("msg=\"Replaying WAL\" component=tsdb blocks=3"),
        "{out}"
    );
}

#[test]
fn json_line_matches_slog_json_handler() {
    let flags = LogFlags {
        format: LogFormat::Json,
        ..LogFlags::default()
    };
    let out = capture(flags, || {
        let span = tracing::info_span!("web", component = "web");
        let _enter = span.enter();
        tracing::warn!(
            address = "[::]:9100",
            http2 = true,
            n = 7,
            ratio = 2.0,
            "Listening on"
        );
    });
    let value: serde_json::Value = serde_json::from_str(out.trim_end()).expect("one JSON object");
    let keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    // serde_json sorts keys; check presence here and order on the raw text below.
    assert_eq!(keys.len(), 9, "{out}");
    assert_eq!(value["level"], "WARN");
    assert_eq!(value["msg"], "Listening on");
    assert_eq!(value["address"], "[::]:9100");
    assert_eq!(value["http2"], true);
    assert_eq!(value["n"], 7);
    assert_eq!(value["component"], "web");
    assert!(value["source"].as_str().unwrap().starts_with("tests.rs:"));
    assert!(out.starts_with("{\"time\":\""));
    assert!(
        out.contains(",\"ratio\":2}"),
        "integral floats have no fraction: {out}"
    );
    let order = [
        "\"time\"",
        "\"level\"",
        "\"source\"",
        "\"msg\"",
        "\"component\"",
        "\"address\"",
    ];
    let positions: Vec<usize> = order.iter().map(|k| out.find(k).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{out}");
}

#[test]
fn time_layouts_match_go() {
    let utc = jiff::Timestamp::from_second(1_700_000_000)
        .unwrap()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC);
    assert_eq!(slog_text_time(&utc), "2023-11-14T22:13:20.000Z");
    assert_eq!(slog_json_time(&utc), "2023-11-14T22:13:20Z");
    let plus = jiff::Timestamp::new(1_700_000_000, 120_000_000)
        .unwrap()
        .to_zoned_datetime(jiff::tz::TimeZone::fixed(jiff::tz::offset(2)));
    assert_eq!(slog_text_time(&plus), "2023-11-15T00:13:20.120+02:00");
    assert_eq!(slog_json_time(&plus), "2023-11-15T00:13:20.12+02:00");
}

#[test]
fn flags_parse_with_upstream_names() {
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        log: LogFlags,
    }
    let cli =
        <Cli as clap::Parser>::try_parse_from(["x", "--log.level=DEBUG", "--log.format", "json"])
            .unwrap();
    assert_eq!(
        cli.log,
        LogFlags {
            level: LogLevel::Debug,
            format: LogFormat::Json
        }
    );
    let cli = <Cli as clap::Parser>::try_parse_from(["x"]).unwrap();
    assert_eq!(cli.log, LogFlags::default());
    assert!(<Cli as clap::Parser>::try_parse_from(["x", "--log.level=trace"]).is_err());
}
