//! The Prometheus server's subsystems, shared by the `prometheus` and `promtool` binaries.
//!
//! So far this holds the rule-file format ([`rules::rulefmt`]): loading and validating rule
//! files exactly as upstream does, which both the server's rule manager and `promtool check
//! rules` need. The server itself (scraping, rule evaluation, web API) is not built yet.

#![forbid(unsafe_code)]

pub mod config;
pub mod rules;
