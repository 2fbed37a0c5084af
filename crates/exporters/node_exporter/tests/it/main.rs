//! The crate's integration tests, in one binary: each test file is a module, so the
//! workspace links one test executable per crate instead of one per file.

mod btrfs_ioctl;
mod dbus_collectors;
mod e2e_fixtures;
mod ipvs;
mod link_layout;
mod parity;
mod support;
mod textfile;
