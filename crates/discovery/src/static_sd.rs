//! `static_configs`: the groups are published once, each with its index as source.

use crate::TargetGroup;
use crate::provider::Updates;

pub(crate) async fn run(groups: Vec<TargetGroup>, updates: Updates) {
    let groups = groups
        .into_iter()
        .enumerate()
        .map(|(i, group)| TargetGroup {
            source: i.to_string(),
            ..group
        })
        .collect();
    updates.send(groups);
}
