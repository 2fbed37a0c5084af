//! The crate's integration tests, in one binary: each test file is a module, so the
//! workspace links one test executable per crate instead of one per file.

mod amtool_compat;
mod amtool_remote;
mod config_fixtures;
mod daemon_e2e;
mod receivers_email;
mod receivers_http;
mod ui;
