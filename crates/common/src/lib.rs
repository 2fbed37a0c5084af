//! The shared foundation of every Promethium daemon.
//!
//! What upstream keeps in prometheus/common, prometheus/exporter-toolkit and parts of
//! prometheus/prometheus (`model/labels`, `model/relabel`, `model/textparse`) lives here once:
//!
//! * [`model`]: label sets, names, samples, histograms, metadata;
//! * [`expfmt`]: the exposition formats (text, OpenMetrics, protobuf) and content negotiation;
//! * [`config`]: durations, secrets, YAML loading and the shared HTTP client configuration;
//! * [`relabel`]: relabeling rules and their application;
//! * [`metrics`]: the own-metrics registry every daemon serves on `/metrics`;
//! * [`template`]: the Go-template functions the server and Alertmanager share;
//! * [`web`], [`log`], [`process`]: the exporter toolkit (HTTP serving with TLS and basic auth,
//!   promslog-compatible logging, process and build-info metrics).
#![forbid(unsafe_code)]

pub mod config;
pub mod expfmt;
pub mod glob;
pub mod log;
pub mod metrics;
pub mod model;
pub mod process;
pub mod relabel;
pub mod template;
pub mod web;
