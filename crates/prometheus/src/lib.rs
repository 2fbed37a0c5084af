//! The Prometheus server's subsystems, shared by the `prometheus` and `promtool` binaries.
//!
//! This holds the configuration file (`prometheus.yml`, [`config`]) and the rule-file format
//! ([`rules::rulefmt`]), loaded and validated exactly as upstream does; the server daemon
//! ([`daemon`]: flags, start-up, reloads, shutdown) and its HTTP surface ([`web`]: the query
//! API, federation, own metrics). Scraping and rule evaluation are not built yet.

#![forbid(unsafe_code)]

pub mod config;
pub mod daemon;
pub mod rules;
pub mod web;
