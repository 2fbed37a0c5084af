//! The crate's integration tests, in one binary: each test file is a module, so the
//! workspace links one test executable per crate instead of one per file.

mod expfmt_fixtures;
mod http_client;
mod openmetrics_conformance;
mod relabel;
mod text_fixtures;
mod web_toolkit;
