//! Deciding where alerts go: the routing tree (grouping and notification timing build on it).

mod route;

pub(crate) use route::combined_matchers;
pub use route::{Route, RouteOpts, RouteTree};
