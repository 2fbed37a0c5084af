//! Promethium's `node_exporter`: the host's metrics from `/proc` and `/sys` with upstream's
//! metric names, labels and help texts, so the node-mixin and the usual dashboards work as is.
//!
//! * [`cli`]: upstream's flags (`--path.*`, `--[no-]collector.<name>`, per-collector options);
//! * [`collector`]: the collectors, each behind the [`collector::Collector`] trait;
//! * [`scrape`]: one scrape, collectors run concurrently and timed, failures isolated;
//! * [`server`]: `/metrics` with `collect[]`/`exclude[]` and `--web.max-requests`;
//! * [`coalesce`], [`exposition`]: concurrent scrapes share collections and their encodings.

// `deny`, not `forbid`: the system calls without a safe wrapper (adjtimex(2) in
// `collector::timex`, the ethtool and btrfs ioctls, wifi's netlink socket) are allowed in their
// own small modules.
#![deny(unsafe_code)]

pub mod cli;
pub mod coalesce;
pub mod collector;
pub mod error;
pub mod exposition;
pub mod malloc;
pub mod metric;
pub mod paths;
pub mod scrape;
pub mod server;

pub use cli::{Settings, parse_from};
pub use error::{CollectorError, ConfigError};
pub use paths::Paths;
pub use scrape::NodeCollector;
pub use server::{Exporter, router};
