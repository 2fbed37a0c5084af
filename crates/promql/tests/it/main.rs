//! The crate's integration tests, in one binary: each test file is a module, so the
//! workspace links one test executable per crate instead of one per file.

mod parse_upstream_scripts;
mod promqltest_scripts;
mod query_stats;
