//! Promethium's Alertmanager: the `alertmanager` daemon and `amtool`, drop-in replacements for
//! upstream's.
//!
//! * [`config`]: alertmanager.yml, loaded and validated exactly as upstream does;
//! * [`labels`]: label matchers in both of upstream's syntaxes;
//! * [`dispatch`]: the routing tree and the dispatcher that groups alerts and times their
//!   notifications; [`notify`]: the notification pipeline, log and integrations;
//!   [`template`]: notification templates and their functions;
//! * [`alert`], [`silence`], [`inhibit`]: the alert store, silences and inhibition rules;
//! * [`api`]: the HTTP API v2; [`daemon`]: flags and wiring of the `alertmanager` binary;
//! * [`cli`]: `amtool`'s commands; [`ui`]: the web UI the daemon serves.

pub mod alert;
pub mod api;
pub mod cli;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod dispatch;
pub mod generation;
pub mod inhibit;
pub mod labels;
pub mod notify;
pub mod silence;
pub mod template;
pub mod ui;
