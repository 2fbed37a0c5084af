//! The log of one probe: kept in memory for `debug=true` and the history page, and forwarded
//! to the daemon's log at the `--log.prober` level, as upstream's scrape logger does.

use std::fmt::Write as _;
use std::sync::Mutex;

/// Severity of one probe log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }
}

/// Lines in promslog's logfmt: `time=… level=… msg="…" module=… target=… key=value…`.
#[derive(Debug)]
pub struct ProbeLog {
    module: String,
    target: String,
    forward: Option<Level>,
    buffer: Mutex<String>,
}

impl ProbeLog {
    /// `forward`: the `--log.prober` level at and above which lines also go to the daemon log.
    pub fn new(module: &str, target: &str, forward: Option<Level>) -> Self {
        ProbeLog {
            module: module.to_owned(),
            target: target.to_owned(),
            forward,
            buffer: Mutex::new(String::new()),
        }
    }

    pub fn debug(&self, msg: &str, pairs: &[(&str, &dyn std::fmt::Display)]) {
        self.log(Level::Debug, msg, pairs);
    }

    pub fn info(&self, msg: &str, pairs: &[(&str, &dyn std::fmt::Display)]) {
        self.log(Level::Info, msg, pairs);
    }

    pub fn error(&self, msg: &str, pairs: &[(&str, &dyn std::fmt::Display)]) {
        self.log(Level::Error, msg, pairs);
    }

    pub fn log(&self, level: Level, msg: &str, pairs: &[(&str, &dyn std::fmt::Display)]) {
        let mut line = format!("time={} level={} msg=", slog_time(), level.as_str());
        write_value(&mut line, msg);
        let mut fields = String::new();
        let own: [(&str, &dyn std::fmt::Display); 2] =
            [("module", &self.module), ("target", &self.target)];
        for (key, value) in own.iter().chain(pairs) {
            let _ = write!(fields, " {key}=");
            write_value(&mut fields, &value.to_string());
        }
        line.push_str(&fields);
        line.push('\n');
        if self.forward.is_some_and(|min| level >= min) {
            match level {
                Level::Debug => tracing::debug!("{msg}{fields}"),
                Level::Info => tracing::info!("{msg}{fields}"),
                Level::Warn => tracing::warn!("{msg}{fields}"),
                Level::Error => tracing::error!("{msg}{fields}"),
            }
        }
        self.buffer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push_str(&line);
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        self.buffer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// Local time as slog's text handler writes it: milliseconds, `Z` or `±hh:mm`.
fn slog_time() -> String {
    let now = jiff::ZonedDateTime::now();
    let mut s = now.strftime("%Y-%m-%dT%H:%M:%S%.3f").to_string();
    let secs = now.offset().seconds();
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
    s
}

/// logfmt quoting: bare when safe, else a Go-quoted string.
fn write_value(out: &mut String, value: &str) {
    let bare = !value.is_empty()
        && value
            .chars()
            .all(|c| c > ' ' && c != '"' && c != '=' && c != '\u{7f}');
    if bare {
        out.push_str(value);
    } else {
        let _ = write!(out, "{value:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logfmt_lines_carry_module_and_target() {
        let log = ProbeLog::new("http_2xx", "http://x", None);
        log.info(
            "Resolving target address",
            &[("ip_protocol", &"ip6"), ("err", &"a b")],
        );
        let text = log.text();
        assert!(text.contains(
            "level=INFO msg=\"Resolving target address\" module=http_2xx target=http://x ip_protocol=ip6 err=\"a b\"\n"
        ), "{text}");
    }
}
