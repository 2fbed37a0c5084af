//! Helpers for prometheus.yml's value types that pm-common does not need.

/// `skip_serializing_if` for durations, which upstream omits when zero.
pub(crate) fn is_zero_duration(d: &pm_common::config::Duration) -> bool {
    d.is_zero()
}
