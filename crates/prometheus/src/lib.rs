//! The Prometheus server's subsystems, shared by the `prometheus` and `promtool` binaries.
//!
//! So far this holds the configuration file (`prometheus.yml`, [`config`]) and the rule-file
//! format ([`rules::rulefmt`]): both loaded and validated exactly as upstream does, since the
//! server, its reload path and `promtool check config|rules` all need them. The server itself
//! (scraping, rule evaluation, web API) is not built yet.

#![forbid(unsafe_code)]

pub mod config;
pub mod rules;
pub mod scrape;
pub mod daemon;
pub mod web;
