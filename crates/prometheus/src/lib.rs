//! The Prometheus server's subsystems, shared by the `prometheus` and `promtool` binaries.
//!
//! - [`config`]: `prometheus.yml`, loaded and validated exactly as upstream does;
//! - [`rules`]: the rule-file format ([`rules::rulefmt`]) and rule evaluation: groups, alert
//!   state, `for` restore and the rule manager;
//! - [`scrape`]: the scrape manager, its pools and one loop per target;
//! - [`template`]: Go templates in alert labels and annotations;
//! - [`notifier`]: alerts sent to Alertmanagers;
//! - [`promtool`]: the `promtool` binary's commands (check, query);
//! - [`web`]: the HTTP API v1, federation and the lifecycle endpoints;
//! - [`remote`]: remote write (receiver and WAL-tailing sender) and remote read;
//! - [`daemon`]: flags and the server's lifecycle, with the seams subsystems plug into.
//!

#![forbid(unsafe_code)]

pub mod config;
pub mod daemon;
pub mod notifier;
pub mod promtool;
pub mod remote;
pub mod rules;
pub mod scrape;
pub mod template;
pub mod web;
