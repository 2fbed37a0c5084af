//! Deciding where alerts go and when: the routing tree, and the dispatcher that groups the
//! routed alerts and times their notifications.

mod dispatcher;
mod group;
mod route;
#[cfg(test)]
mod tests;

pub use dispatcher::{Dispatcher, GroupAlerts, IngestBatch};
pub use group::{Flush, Fragment, GroupId, TimeSlots, group_key};
pub(crate) use route::combined_matchers;
pub use route::{Route, RouteOpts, RouteTree};
