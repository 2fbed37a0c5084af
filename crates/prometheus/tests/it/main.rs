//! The crate's integration tests, in one binary: each test file is a module, so the
//! workspace links one test executable per crate instead of one per file.

mod config_fixtures;
mod notifier_daemon;
mod notifier_send;
mod notifier_support;
mod notifier_upstream;
mod promtool_backfill_rules;
mod promtool_check;
mod promtool_push;
mod promtool_query;
mod promtool_test_rules;
mod promtool_tsdb;
mod remote_write;
mod rulefmt_fixtures;
mod scrape_append;
mod scrape_manager;
mod server_alerting;
mod server_lifecycle;
mod server_parity;
mod server_query_log;
mod server_remote_read;
mod server_rules;
mod server_scrape;
mod server_support;
