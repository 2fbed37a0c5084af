//! Recording and alerting rules: rule files ([`rulefmt`]), their evaluation in groups on the
//! groups' intervals ([`Manager`], [`Group`]), alert state with `for` and `keep_firing_for`,
//! restoring that state after a restart, and sending alerts to an
//! [`AlertSink`](crate::notifier::AlertSink) — as upstream's `rules` package behaves.

mod alerting;
mod error;
mod group;
mod loader;
mod manager;
mod metrics;
mod recording;
mod restore;
mod rule;
pub mod rulefmt;
#[cfg(test)]
mod tests;

pub use alerting::{ActiveAlert, AlertState, AlertingRule, AlertingRuleSpec};
pub use error::RuleError;
pub use group::{EvalContext, Group, GroupSpec, group_key, table_link};
pub use loader::{LoadOptions, build_groups, load_groups};
pub(crate) use manager::template_query;
pub use manager::{Manager, ManagerOptions, UpdateError};
pub use metrics::RuleMetrics;
pub use recording::RecordingRule;
pub use rule::{Health, Rule, RuleStatus};
