//! graphite_exporter: accepts Graphite plaintext samples over TCP and UDP, maps their paths
//! with the statsd_exporter mapping engine (`pm-mapper`) and exposes them as gauges, as
//! upstream's graphite_exporter does.

pub mod app;
pub mod cli;
pub mod collector;
