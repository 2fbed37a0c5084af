//! The crate's integration tests, in one binary: each test file is a module, so the
//! workspace links one test executable per crate instead of one per file.

mod fixtures;
mod real_haproxy;
mod support;
