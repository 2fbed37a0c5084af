//! One scrape of HAProxy: fetch `show info` (socket only) and `show stat`, turn each CSV row
//! into the frontend, backend or server families, and report `haproxy_up`.
//!
//! A failed fetch is never a failed scrape: it gives `haproxy_up 0`. A malformed row or value
//! is logged, counted in `haproxy_exporter_csv_parse_failures_total` and skipped.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use pm_common::expfmt::dto::MetricFamily;
use pm_common::metrics::{ConstFamily, ConstKind};

use crate::csv;
use crate::error::ConfigError;
use crate::fields::{self, Field};
use crate::source::{SHOW_INFO, SHOW_STAT, Source};

/// Rows shorter than this are not `show stat` output (HAProxy 1.4 already had 33 columns).
const MINIMUM_FIELDS: usize = 33;
const PXNAME: usize = 0;
const SVNAME: usize = 1;
const TYPE: usize = 32;

/// The exporter's settings, as the flags give them.
#[derive(Debug, Clone)]
pub struct Options {
    pub scrape_uri: String,
    pub ssl_verify: bool,
    pub proxy_from_env: bool,
    /// Comma-separated CSV column numbers of the server metrics to export.
    pub server_metric_fields: String,
    /// Comma-separated server states whose rows are skipped.
    pub server_exclude_states: String,
    pub timeout: Duration,
}

/// The server columns named by `--haproxy.server-metric-fields`; numbers that are not server
/// metrics are ignored, anything that is not a number is an error.
pub fn filter_server_metrics(filter: &str) -> Result<Vec<Field>, ConfigError> {
    if filter.is_empty() {
        return Ok(Vec::new());
    }
    let mut chosen = Vec::new();
    for f in filter.split(',') {
        let index: i64 = f
            .parse()
            .map_err(|_| ConfigError::ServerField(f.to_owned()))?;
        if let Some(field) = fields::SERVER.iter().find(|m| m.index as i64 == index)
            && !chosen.contains(field)
        {
            chosen.push(*field);
        }
    }
    chosen.sort_by_key(|f| f.index);
    Ok(chosen)
}

/// The default of `--haproxy.server-metric-fields`: every server column.
pub fn all_server_fields() -> String {
    let numbers: Vec<String> = fields::SERVER.iter().map(|f| f.index.to_string()).collect();
    numbers.join(",")
}

/// The families one row type exports, with full names worked out once.
#[derive(Debug)]
struct Table {
    /// Each exported column and the index of its family in `families`.
    columns: Vec<(Field, usize)>,
    families: Vec<(String, &'static str, ConstKind)>,
}

impl Table {
    fn new(row_type: &str, fields: &[Field]) -> Self {
        let mut families: Vec<(String, &'static str, ConstKind)> = Vec::new();
        let columns = fields
            .iter()
            .map(|f| {
                let name = format!("haproxy_{row_type}_{}", f.name);
                let i = families
                    .iter()
                    .position(|(n, ..)| *n == name)
                    .unwrap_or_else(|| {
                        families.push((name, f.help, f.kind));
                        families.len() - 1
                    });
                (*f, i)
            })
            .collect();
        Self { columns, families }
    }

    fn start(&self) -> Vec<ConstFamily> {
        self.families
            .iter()
            .map(|(name, help, kind)| ConstFamily::new(name.clone(), *help, *kind))
            .collect()
    }
}

/// Collects HAProxy's statistics on demand; one scrape runs at a time, as upstream.
#[derive(Debug)]
pub struct Exporter {
    source: Source,
    timeout: Duration,
    frontend: Table,
    backend: Table,
    server: Table,
    excluded_states: HashSet<String>,
    scrapes: AtomicU64,
    csv_failures: AtomicU64,
    lock: tokio::sync::Mutex<()>,
}

impl Exporter {
    pub fn new(options: &Options) -> Result<Self, ConfigError> {
        let server_fields = filter_server_metrics(&options.server_metric_fields)?;
        let source = Source::new(
            &options.scrape_uri,
            options.ssl_verify,
            options.proxy_from_env,
        )?;
        Ok(Self {
            source,
            timeout: options.timeout,
            frontend: Table::new("frontend", fields::FRONTEND),
            backend: Table::new("backend", fields::BACKEND),
            server: Table::new("server", &server_fields),
            // An empty flag still excludes the empty state, as upstream's split does.
            excluded_states: options
                .server_exclude_states
                .split(',')
                .map(str::to_owned)
                .collect(),
            scrapes: AtomicU64::new(0),
            csv_failures: AtomicU64::new(0),
            lock: tokio::sync::Mutex::new(()),
        })
    }

    /// Scrapes HAProxy and returns every haproxy_* family (unsorted).
    pub async fn collect(&self) -> Vec<MetricFamily> {
        let _one_at_a_time = self.lock.lock().await;
        self.scrapes.fetch_add(1, Ordering::Relaxed);
        let mut out = Vec::new();
        let up = self.scrape(&mut out).await;
        out.push(gauge(
            "haproxy_up",
            "Was the last scrape of HAProxy successful.",
            &[],
            if up { 1.0 } else { 0.0 },
        ));
        out.push(counter(
            "haproxy_exporter_scrapes_total",
            "Current total HAProxy scrapes.",
            self.scrapes.load(Ordering::Relaxed) as f64,
        ));
        out.push(counter(
            "haproxy_exporter_csv_parse_failures_total",
            "Number of errors while parsing CSV.",
            self.csv_failures.load(Ordering::Relaxed) as f64,
        ));
        out
    }

    async fn scrape(&self, out: &mut Vec<MetricFamily>) -> bool {
        if self.source.has_info() {
            match self.source.fetch(SHOW_INFO, self.timeout).await {
                Err(e) => {
                    tracing::error!(err = %e, "Can't scrape HAProxy");
                    return false;
                }
                Ok(body) => match body.cut_short {
                    Some(e) => tracing::debug!(err = %e, "Failed parsing show info"),
                    None => export_info(&Info::parse(&body.bytes), out),
                },
            }
        }
        let body = match self.source.fetch(SHOW_STAT, self.timeout).await {
            Ok(body) => body,
            Err(e) => {
                tracing::error!(err = %e, "Can't scrape HAProxy");
                return false;
            }
        };
        // After a read error only the complete lines received are rows.
        let complete = match body.cut_short {
            None => &body.bytes[..],
            Some(_) => {
                let end = body
                    .bytes
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |i| i + 1);
                &body.bytes[..end]
            }
        };
        self.parse_csv(complete, out);
        if let Some(e) = body.cut_short {
            tracing::error!(err = %e, "Unexpected error while reading CSV");
            return false;
        }
        true
    }

    /// Turns `show stat` CSV into families, appended to `out`.
    pub fn parse_csv(&self, csv: &[u8], out: &mut Vec<MetricFamily>) {
        let mut frontend = self.frontend.start();
        let mut backend = self.backend.start();
        let mut server = self.server.start();
        for record in csv::Reader::new(csv) {
            let row = match record {
                Ok(row) => row,
                Err(e) => {
                    tracing::error!(err = %e, "Can't read CSV");
                    self.csv_failures.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            };
            if row.len() < MINIMUM_FIELDS {
                tracing::error!(
                    min = MINIMUM_FIELDS,
                    received = row.len(),
                    "Parser received unexpected number of CSV fields"
                );
                self.csv_failures.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let (pxname, svname) = (row[PXNAME].as_str(), row[SVNAME].as_str());
            match row[TYPE].as_str() {
                "0" => self.export(&self.frontend, &mut frontend, &row, &[("frontend", pxname)]),
                "1" => self.export(&self.backend, &mut backend, &row, &[("backend", pxname)]),
                "2" if !self.excluded_states.contains(&row[fields::STATUS]) => self.export(
                    &self.server,
                    &mut server,
                    &row,
                    &[("backend", pxname), ("server", svname)],
                ),
                _ => {}
            }
        }
        out.extend(
            [frontend, backend, server]
                .into_iter()
                .flatten()
                .map(ConstFamily::into_family),
        );
    }

    fn export(
        &self,
        table: &Table,
        families: &mut [ConstFamily],
        row: &[String],
        labels: &[(&str, &str)],
    ) {
        for (field, family) in &table.columns {
            let Some(text) = row.get(field.index).filter(|s| !s.is_empty()) else {
                continue;
            };
            let value = if field.index == fields::STATUS {
                Some(status_value(text))
            } else if fields::MILLISECONDS.contains(&field.index) {
                text.parse::<f64>().ok().map(|ms| ms / 1000.0)
            } else {
                text.parse::<i64>().ok().map(|v| v as f64)
            };
            let Some(value) = value else {
                tracing::error!(value = %text, "Can't parse CSV field value");
                self.csv_failures.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            match field.code {
                None => families[*family].push(labels, value),
                Some(code) => {
                    let mut with_code = labels.to_vec();
                    with_code.push(("code", code));
                    families[*family].push(&with_code, value);
                }
            }
        }
    }
}

/// 1 for the states in which HAProxy sends traffic to the server or accepts it.
pub fn status_value(status: &str) -> f64 {
    match status {
        "UP" | "UP 1/3" | "UP 2/3" | "OPEN" | "no check" | "DRAIN" => 1.0,
        _ => 0.0,
    }
}

/// What `show info` tells.
#[derive(Debug, Default, PartialEq)]
pub struct Info {
    pub release_date: String,
    pub version: String,
    /// `Idle_pct` when present and within 0..=100.
    pub idle_pct: Option<f64>,
}

impl Info {
    pub fn parse(text: &[u8]) -> Self {
        let mut info = Info::default();
        for line in String::from_utf8_lossy(text).lines() {
            let Some((key, value)) = line.split_once(": ") else {
                continue;
            };
            match key {
                "Release_date" => info.release_date = value.to_owned(),
                "Version" => info.version = value.to_owned(),
                "Idle_pct" => {
                    info.idle_pct = value
                        .parse::<f64>()
                        .ok()
                        .filter(|p| (0.0..=100.0).contains(p))
                }
                _ => {}
            }
        }
        info
    }
}

fn export_info(info: &Info, out: &mut Vec<MetricFamily>) {
    out.push(gauge(
        "haproxy_version_info",
        "HAProxy version info.",
        &[
            ("release_date", &info.release_date),
            ("version", &info.version),
        ],
        1.0,
    ));
    if let Some(idle) = info.idle_pct {
        out.push(gauge(
            "haproxy_process_idle_time_percent",
            "Time spent waiting for events instead of processing them.",
            &[],
            idle,
        ));
    }
}

fn gauge(name: &str, help: &str, labels: &[(&str, &str)], value: f64) -> MetricFamily {
    ConstFamily::new(name, help, ConstKind::Gauge)
        .with(labels, value)
        .into_family()
}

fn counter(name: &str, help: &str, value: f64) -> MetricFamily {
    ConstFamily::new(name, help, ConstKind::Counter)
        .with(&[], value)
        .into_family()
}

#[cfg(test)]
mod tests;
