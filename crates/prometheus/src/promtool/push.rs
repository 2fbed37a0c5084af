//! `promtool push metrics`: sends text-format metrics to a remote-write endpoint, for testing
//! a receiver by hand.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::PathBuf;
use std::time::Duration;

use pm_common::config::http::HttpClientConfig;
use pm_common::expfmt::dto::{self, MetricType as DtoType};
use pm_common::expfmt::encode::float::format_g;
use pm_common::expfmt::textparse::decode_text_families;
use pm_common::model::Labels;

use super::{FAILURE, Output, SUCCESS};
use crate::remote::client::RemoteClient;
use crate::remote::codec::{self, WriteMessage};
use crate::remote::prompb::{self, MetricType};
use crate::remote::writev2::{self, SymbolTable};

/// What `push metrics` was asked to do.
#[derive(Debug)]
pub struct PushOptions {
    /// The server's base URL; `api_path` is appended.
    pub url: String,
    /// `--remote-write.path`.
    pub api_path: String,
    /// `--label`: set on every series (default `job=promtool`); a metric's own `job` label
    /// becomes `exported_job`.
    pub labels: BTreeMap<String, String>,
    pub headers: BTreeMap<String, String>,
    pub timeout: Duration,
    /// `--protobuf_message`.
    pub message: String,
    pub http: Option<HttpClientConfig>,
    /// Metric files; standard input without any.
    pub files: Vec<PathBuf>,
}

/// Pushes each file (or standard input) in its own request; 1 if any failed.
pub fn push_metrics(o: &mut Output<'_>, opts: &PushOptions) -> io::Result<u8> {
    let Some(message) = WriteMessage::parse(&opts.message) else {
        writeln!(
            o.err,
            "  FAILED: invalid protobuf message {}, must be prometheus.WriteRequest or io.prometheus.write.v2.Request",
            super::go_quoted(&opts.message)
        )?;
        return Ok(FAILURE);
    };
    let client = match client(opts) {
        Ok(c) => c,
        Err(err) => {
            writeln!(o.err, "{err}")?;
            return Ok(FAILURE);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let push = |data: &[u8], o: &mut Output<'_>| -> io::Result<bool> {
        let body = match encode(data, &opts.labels, message) {
            Ok(body) => body,
            Err(err) => {
                writeln!(o.err, "  FAILED: {err}")?;
                return Ok(false);
            }
        };
        match runtime.block_on(client.store(message, codec::compress(&body), true)) {
            Ok(()) => Ok(true),
            Err(err) => {
                writeln!(o.err, "  FAILED: {err}")?;
                Ok(false)
            }
        }
    };
    if opts.files.is_empty() {
        let mut data = Vec::new();
        if let Err(err) = io::stdin().read_to_end(&mut data) {
            writeln!(o.err, "  FAILED: {err}")?;
            return Ok(FAILURE);
        }
        writeln!(o.out, "Parsing standard input")?;
        if !push(&data, o)? {
            return Ok(FAILURE);
        }
        writeln!(o.out, "  SUCCESS: metrics pushed to remote write.")?;
        return Ok(SUCCESS);
    }
    let mut failed = false;
    for file in &opts.files {
        let data = match std::fs::read(file) {
            Ok(data) => data,
            Err(err) => {
                writeln!(o.err, "  FAILED: open {}: {err}", file.display())?;
                failed = true;
                continue;
            }
        };
        writeln!(o.out, "Parsing metrics file {}", file.display())?;
        if push(&data, o)? {
            writeln!(
                o.out,
                "  SUCCESS: metrics file {} pushed to remote write.",
                file.display()
            )?;
        } else {
            failed = true;
        }
    }
    Ok(if failed { FAILURE } else { SUCCESS })
}

fn client(opts: &PushOptions) -> Result<RemoteClient, String> {
    let mut url = url::Url::parse(&opts.url).map_err(|e| e.to_string())?;
    let path = pm_common::glob::clean(&format!("{}/{}", url.path(), opts.api_path));
    url.set_path(&path);
    RemoteClient::new(
        "promtool",
        url.as_str(),
        &opts.http.clone().unwrap_or_default(),
        None,
        opts.timeout,
        &opts.headers,
    )
}

/// One series of the request: labels and its single sample.
struct Point {
    labels: Labels,
    t: i64,
    v: f64,
}

/// One metric family as it is sent: its metadata and its series.
struct Family {
    kind: MetricType,
    name: String,
    help: String,
    points: Vec<Point>,
}

/// The families of a text exposition in name order, as upstream converts them.
fn convert(data: &[u8], extra: &BTreeMap<String, String>) -> Result<Vec<Family>, String> {
    let mut families = decode_text_families(data).map_err(|e| e.to_string())?;
    families.sort_by(|a, b| a.name().cmp(b.name()));
    let now = jiff::Timestamp::now().as_millisecond();
    let mut out = Vec::with_capacity(families.len());
    for mf in &families {
        let mut points = Vec::new();
        for m in &mf.metric {
            let t = match m.timestamp_ms() {
                0 => now,
                t => t,
            };
            let mut labels: BTreeMap<String, String> = extra.clone();
            labels.insert("__name__".into(), mf.name().to_owned());
            for l in &m.label {
                let name = if l.name() == "job" {
                    "exported_job"
                } else {
                    l.name()
                };
                labels.insert(name.to_owned(), l.value().to_owned());
            }
            metric_points(mf.name(), &labels, m, t, &mut points)?;
        }
        out.push(Family {
            kind: metadata_type(mf),
            name: mf.name().to_owned(),
            help: mf.help().to_owned(),
            points,
        });
    }
    Ok(out)
}

/// The samples of one metric: histograms and summaries expand into their classic series.
fn metric_points(
    name: &str,
    labels: &BTreeMap<String, String>,
    m: &dto::Metric,
    t: i64,
    out: &mut Vec<Point>,
) -> Result<(), String> {
    let mut push = |suffix: &str, extra: Option<(&str, String)>, v: f64| {
        let mut l = labels.clone();
        l.insert("__name__".into(), format!("{name}{suffix}"));
        if let Some((k, val)) = extra {
            l.insert(k.to_owned(), val);
        }
        out.push(Point {
            labels: Labels::from_pairs(l),
            t,
            v,
        });
    };
    if let Some(g) = &m.gauge {
        push("", None, g.value());
    } else if let Some(c) = &m.counter {
        push("", None, c.value());
    } else if let Some(s) = &m.summary {
        for q in &s.quantile {
            push("", Some(("quantile", format_g(q.quantile()))), q.value());
        }
        push("_sum", None, s.sample_sum());
        push("_count", None, s.sample_count() as f64);
    } else if let Some(h) = &m.histogram {
        let mut has_inf = false;
        for b in &h.bucket {
            has_inf |= b.upper_bound() == f64::INFINITY;
            push(
                "_bucket",
                Some(("le", format_g(b.upper_bound()))),
                b.cumulative_count() as f64,
            );
        }
        if !has_inf {
            push(
                "_bucket",
                Some(("le", "+Inf".into())),
                h.sample_count() as f64,
            );
        }
        push("_sum", None, h.sample_sum());
        push("_count", None, h.sample_count() as f64);
    } else if let Some(u) = &m.untyped {
        push("", None, u.value());
    } else {
        return Err("unsupported metric type".into());
    }
    Ok(())
}

/// Upstream maps the family type by name, so untyped and gauge histograms end up unknown.
fn metadata_type(mf: &dto::MetricFamily) -> MetricType {
    match mf.r#type() {
        DtoType::Counter => MetricType::Counter,
        DtoType::Gauge => MetricType::Gauge,
        DtoType::Histogram => MetricType::Histogram,
        DtoType::Summary => MetricType::Summary,
        DtoType::Untyped | DtoType::GaugeHistogram => MetricType::Unknown,
    }
}

/// The request body (uncompressed) in the asked message.
fn encode(
    data: &[u8],
    extra: &BTreeMap<String, String>,
    message: WriteMessage,
) -> Result<Vec<u8>, String> {
    let families = convert(data, extra)?;
    Ok(match message {
        WriteMessage::V1 => {
            let mut req = prompb::WriteRequest::default();
            for f in families {
                req.metadata.push(prompb::MetricMetadata {
                    r#type: f.kind as i32,
                    metric_family_name: f.name,
                    help: f.help,
                    unit: String::new(),
                });
                req.timeseries
                    .extend(f.points.into_iter().map(|p| prompb::TimeSeries {
                        labels: codec::labels_to_proto(&p.labels),
                        samples: vec![prompb::Sample {
                            value: p.v,
                            timestamp: p.t,
                        }],
                        ..prompb::TimeSeries::default()
                    }));
            }
            prost::Message::encode_to_vec(&req)
        }
        WriteMessage::V2 => {
            let mut table = SymbolTable::default();
            let mut timeseries = Vec::new();
            for f in families {
                let help_ref = table.symbolize(&f.help);
                for p in f.points {
                    let mut labels_refs = Vec::new();
                    table.symbolize_labels(&p.labels, &mut labels_refs);
                    timeseries.push(writev2::TimeSeries {
                        labels_refs,
                        samples: vec![writev2::Sample {
                            value: p.v,
                            timestamp: p.t,
                        }],
                        metadata: Some(writev2::Metadata {
                            r#type: f.kind as i32,
                            help_ref,
                            unit_ref: 0,
                        }),
                        ..writev2::TimeSeries::default()
                    });
                }
            }
            prost::Message::encode_to_vec(&writev2::Request {
                symbols: table.take(),
                timeseries,
            })
        }
    })
}
