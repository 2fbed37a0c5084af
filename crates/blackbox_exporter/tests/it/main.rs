//! The crate's integration tests, in one binary: each test file is a module, so the
//! workspace links one test executable per crate instead of one per file.

mod client_config;
mod common;
mod probes;
mod upstream;
