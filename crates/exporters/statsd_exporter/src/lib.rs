//! statsd_exporter: receives StatsD lines over UDP, TCP and Unix datagrams, maps them with
//! upstream's mapping config and exposes the result as Prometheus metrics, as upstream's
//! statsd_exporter does, with a cap on the number of series so memory stays bounded.

pub mod app;
pub mod cli;
pub mod event;
pub mod exporter;
pub mod line;
pub mod listener;
pub mod metrics;
pub mod queue;
pub mod relay;
pub mod store;
pub mod summary;
