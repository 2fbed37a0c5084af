//! Deciding where alerts go and when: the routing tree, and the dispatcher that groups the
//! routed alerts and times their notifications.

mod dispatcher;
mod fragment;
mod group;
mod route;
#[cfg(test)]
mod tests;

pub use dispatcher::{Dispatcher, GroupAlerts, IngestBatch};
pub use fragment::{Fragment, SlotsBuilder, TimeSlots};
pub use group::{Flush, GroupId, group_key};
pub(crate) use route::combined_matchers;
pub use route::{Route, RouteOpts, RouteTree};
