//! The crate's integration tests, in one binary: each test file is a module, so the
//! workspace links one test executable per crate instead of one per file.

mod crash_db;
mod crash_head;
mod db_proptest;
mod head_proptest;
mod histograms;
mod kill_rounds;
mod promql_histograms;
mod promtool_compat;
mod upstream_chunks_head;
mod upstream_golden;
mod upstream_histograms;
mod wal_upstream;
