//! Promethium's Alertmanager: the `alertmanager` daemon and `amtool`, drop-in replacements for
//! upstream's.
//!
//! This crate loads and validates alertmanager.yml exactly as upstream does ([`config`]),
//! parses label matchers in both of upstream's syntaxes ([`labels`]) and builds the routing
//! tree that decides which receiver an alert goes to ([`dispatch`]).

pub mod cli;
pub mod config;
pub mod dispatch;
pub mod labels;
