//! One scrape of one server: connect, find the version, run the enabled collectors, and
//! account for it in the exporter's own metrics (`mysql_up`, `mysql_exporter_*`).

use std::sync::LazyLock;
use std::time::Instant;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Opts, Row};
use pm_common::expfmt::dto::MetricFamily;
use pm_common::metrics::{ConstKind, Counter, CounterVec, Gauge, Opts as MetricOpts, Registry};
use regex::Regex;

use crate::collectors::{Collector, Settings, Sink, cell};
use crate::error::ScrapeError;

const DURATION: &str = "mysql_exporter_collector_duration_seconds";
const DURATION_HELP: &str = "Collector time duration.";
const SUCCESS: &str = "mysql_exporter_collector_success";
const SUCCESS_HELP: &str = "mysqld_exporter: Whether a collector succeeded.";

/// The state upstream keeps across scrapes of one target: `/metrics` keeps one for the
/// process, each `/probe` request has its own.
#[derive(Debug, Clone)]
pub struct ScrapeMetrics {
    scrapes: Counter,
    errors: CounterVec,
    last_error: Gauge,
    up: Gauge,
}

impl ScrapeMetrics {
    pub fn register(registry: &Registry) -> Self {
        let defined = "a valid metric definition";
        Self {
            scrapes: registry
                .counter(MetricOpts::new(
                    "mysql_exporter_scrapes_total",
                    "Total number of times MySQL was scraped for metrics.",
                ))
                .expect(defined),
            errors: registry
                .counter_vec(
                    MetricOpts::new(
                        "mysql_exporter_scrape_errors_total",
                        "Total number of times an error occurred scraping a MySQL.",
                    ),
                    &["collector"],
                )
                .expect(defined),
            last_error: registry
                .gauge(MetricOpts::new(
                    "mysql_exporter_last_scrape_error",
                    "Whether the last scrape of metrics from MySQL resulted in an error (1 for error, 0 for success).",
                ))
                .expect(defined),
            up: registry
                .gauge(MetricOpts::new("mysql_up", "Whether the MySQL server is up."))
                .expect(defined),
        }
    }

    /// A scrape that could not even start (no usable client configuration).
    pub fn failed(&self) {
        self.scrapes.inc();
        self.up.set(0.0);
        self.last_error.set(1.0);
    }
}

/// Scrapes the server `opts` points at with `collectors`, giving up on whatever is still
/// running at `deadline`. A server that cannot be reached gives `mysql_up 0` and no families.
pub async fn scrape(
    opts: Opts,
    collectors: &[Collector],
    settings: &Settings,
    deadline: Option<Instant>,
    metrics: &ScrapeMetrics,
) -> Vec<MetricFamily> {
    metrics.scrapes.inc();
    let start = Instant::now();
    let mut conn = match within(deadline, Conn::new(opts)).await {
        Ok(conn) => conn,
        Err(err) => {
            tracing::error!(%err, "Error pinging mysqld");
            metrics.up.set(0.0);
            metrics.last_error.set(1.0);
            return Vec::new();
        }
    };
    metrics.up.set(1.0);
    metrics.last_error.set(0.0);
    let mut sink = Sink::default();
    sink.push(
        DURATION,
        DURATION_HELP,
        ConstKind::Gauge,
        &[("collector", "connection")],
        start.elapsed().as_secs_f64(),
    );
    let version = match within(deadline, server_version(&mut conn)).await {
        Ok(v) => v,
        Err(err) => {
            tracing::debug!(%err, "Error querying version");
            999.0
        }
    };
    let mut healthy = true;
    for &collector in collectors {
        let spec = collector.spec();
        if version < spec.min_version {
            continue;
        }
        let start = Instant::now();
        let result = if healthy {
            within(deadline, collector.scrape(&mut conn, &mut sink, settings)).await
        } else {
            Err(ScrapeError::Timeout)
        };
        let success = match result {
            Ok(()) => 1.0,
            Err(err) => {
                // A collector cut off mid-query leaves the connection unusable.
                healthy &= !matches!(err, ScrapeError::Timeout);
                tracing::error!(scraper = spec.name, %err, "Error from scraper");
                metrics.errors.with_label_values(&[spec.flag]).inc();
                metrics.last_error.set(1.0);
                0.0
            }
        };
        let label = [("collector", spec.flag)];
        sink.push(SUCCESS, SUCCESS_HELP, ConstKind::Gauge, &label, success);
        let elapsed = start.elapsed().as_secs_f64();
        sink.push(DURATION, DURATION_HELP, ConstKind::Gauge, &label, elapsed);
    }
    if healthy {
        // The goodbye is a courtesy to the server; the scrape is already complete.
        let _ = within(deadline, conn.disconnect()).await;
    }
    sink.into_families()
}

/// Runs `f`, failing with [`ScrapeError::Timeout`] if `deadline` passes first.
async fn within<T, E: Into<ScrapeError>>(
    deadline: Option<Instant>,
    f: impl Future<Output = Result<T, E>>,
) -> Result<T, ScrapeError> {
    match deadline {
        None => f.await.map_err(Into::into),
        Some(at) => match tokio::time::timeout_at(at.into(), f).await {
            Ok(result) => result.map_err(Into::into),
            Err(_) => Err(ScrapeError::Timeout),
        },
    }
}

/// `major.minor` of `@@version` as a number (`10.11`), 999 when it cannot be read, so that
/// every collector runs.
async fn server_version(conn: &mut Conn) -> Result<f64, ScrapeError> {
    let row: Option<Row> = conn.query_first("SELECT @@version").await?;
    Ok(row
        .and_then(|row| parse_version(&String::from_utf8_lossy(cell(&row, 0))))
        .unwrap_or(999.0))
}

fn parse_version(text: &str) -> Option<f64> {
    static VERSION: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^\d+\.\d+").expect("a valid regex"));
    VERSION
        .find(text)?
        .as_str()
        .parse()
        .ok()
        .filter(|v| *v != 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert_eq!(parse_version("10.11.19-MariaDB-0+deb12u1"), Some(10.11));
        assert_eq!(parse_version("8.0.36"), Some(8.0));
        assert_eq!(parse_version("5.5"), Some(5.5));
        assert_eq!(parse_version("unknown"), None);
    }

    #[tokio::test]
    async fn unreachable_server_is_down() {
        let registry = Registry::new();
        let metrics = ScrapeMetrics::register(&registry);
        // A closed loopback port: bound, then released.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let opts = mysql_async::OptsBuilder::default()
            .ip_or_hostname("127.0.0.1")
            .tcp_port(port)
            .user(Some("nobody"));
        let families = scrape(
            opts.into(),
            &[Collector::GlobalStatus],
            &Settings::default(),
            None,
            &metrics,
        )
        .await;
        assert!(families.is_empty());
        let gathered = registry.gather();
        let value = |name: &str| {
            gathered
                .iter()
                .find(|f| f.name() == name)
                .and_then(|f| f.metric.first())
                .map(|m| {
                    m.gauge
                        .as_ref()
                        .and_then(|g| g.value)
                        .or(m.counter.as_ref().and_then(|c| c.value))
                })
        };
        assert_eq!(value("mysql_up"), Some(Some(0.0)));
        assert_eq!(value("mysql_exporter_last_scrape_error"), Some(Some(1.0)));
        assert_eq!(value("mysql_exporter_scrapes_total"), Some(Some(1.0)));
    }
}
