//! The D-Bus side of the systemd collector: the manager's properties, `ListUnits`, and the
//! per-unit properties each family needs, the unit groups asked concurrently as upstream does.

use pm_common::expfmt::dto::MetricFamily;
use zbus::Connection;
use zbus::zvariant::{ObjectPath, OwnedObjectPath, OwnedValue};

use super::{
    MIN_VERSION_SYSTEM_STATE, SystemdCollector, UNIT_STATES, Unit, filter, parse_version,
    summarize, unit_path,
};
use crate::collector::dbus::{system_bus, typed_property};
use crate::error::CollectorError;
use crate::metric::{Out, counter_family, gauge_family};

const DESTINATION: &str = "org.freedesktop.systemd1";
const MANAGER_PATH: ObjectPath<'static> =
    ObjectPath::from_static_str_unchecked("/org/freedesktop/systemd1");
const MANAGER: &str = "org.freedesktop.systemd1.Manager";

/// `ListUnits`' row: name, description, load, active and sub state, followed unit, object
/// path, job id, job type, job path.
type UnitRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    OwnedObjectPath,
    u32,
    String,
    OwnedObjectPath,
);

pub async fn collect(c: &SystemdCollector, out: &mut Out) -> Result<(), CollectorError> {
    let conn = system_bus().await?;
    let (version, version_full) = match manager_string(&conn, "Version").await {
        Ok(v) => parse_version(&v),
        Err(e) => {
            tracing::debug!(err = %e, "unable to get the systemd version, defaulting to 0");
            (0.0, String::new())
        }
    };
    out.push(
        gauge_family("node_systemd_version", "Detected systemd version")
            .with(&[("version", &version_full)], version)
            .into_family(),
    );
    let virtualization = match manager_string(&conn, "Virtualization").await {
        Ok(v) if v.is_empty() => "none".to_owned(),
        Ok(v) => v,
        Err(e) => {
            tracing::debug!(err = %e, "could not get the Virtualization property");
            "unknown".to_owned()
        }
    };
    out.push(
        gauge_family(
            "node_systemd_virtualization_info",
            "Detected virtualization technology",
        )
        .with(&[("virtualization_type", &virtualization)], 1.0)
        .into_family(),
    );

    let units = list_units(&conn).await?;
    let mut summary = gauge_family("node_systemd_units", "Summary of systemd unit states");
    for (state, count) in summarize(&units) {
        summary.push(&[("state", state)], count);
    }
    out.push(summary.into_family());

    let chosen = filter(&units, &c.include, &c.exclude);
    let has_system_state = version >= MIN_VERSION_SYSTEM_STATE;
    let (states, start_times, tasks, timers, sockets) = tokio::join!(
        unit_states(&conn, &chosen, c.extras.restarts),
        async {
            if c.extras.start_time {
                start_times(&conn, &chosen).await
            } else {
                Vec::new()
            }
        },
        async {
            if c.extras.tasks {
                tasks(&conn, &chosen).await
            } else {
                Vec::new()
            }
        },
        async {
            if has_system_state {
                timers(&conn, &chosen).await
            } else {
                Vec::new()
            }
        },
        sockets(&conn, &chosen),
    );
    out.extend(
        states
            .into_iter()
            .chain(start_times)
            .chain(tasks)
            .chain(timers)
            .chain(sockets),
    );

    if has_system_state {
        let state = manager_string(&conn, "SystemState")
            .await
            .map_err(|e| CollectorError::dbus("get the system state", e))?;
        out.push(
            gauge_family(
                "node_systemd_system_running",
                "Whether the system is operational (see 'systemctl is-system-running')",
            )
            .with(&[], if state == "running" { 1.0 } else { 0.0 })
            .into_family(),
        );
    }
    Ok(())
}

async fn manager_string(conn: &Connection, name: &str) -> zbus::Result<String> {
    typed_property(conn, DESTINATION, &MANAGER_PATH, MANAGER, name).await
}

async fn list_units(conn: &Connection) -> Result<Vec<Unit>, CollectorError> {
    let rows: Vec<UnitRow> = async {
        let reply = conn
            .call_method(
                Some(DESTINATION),
                &MANAGER_PATH,
                Some(MANAGER),
                "ListUnits",
                &(),
            )
            .await?;
        reply.body().deserialize::<Vec<UnitRow>>()
    }
    .await
    .map_err(|e| CollectorError::dbus("couldn't get units", e))?;
    Ok(rows
        .into_iter()
        .map(|(name, _, load_state, active_state, ..)| Unit {
            name,
            load_state,
            active_state,
        })
        .collect())
}

/// A unit's property of `interface` (`Service`, `Socket`… under `org.freedesktop.systemd1.`),
/// logged at debug level and skipped when it cannot be read, as upstream does.
async fn unit_property<T>(conn: &Connection, unit: &str, interface: &str, name: &str) -> Option<T>
where
    T: TryFrom<OwnedValue>,
    T::Error: Into<zbus::Error>,
{
    let path = ObjectPath::from_string_unchecked(unit_path(unit));
    let interface = format!("org.freedesktop.systemd1.{interface}");
    match typed_property(conn, DESTINATION, &path, &interface, name).await {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::debug!(unit, property = name, err = %e, "couldn't get unit property");
            None
        }
    }
}

async fn unit_states(conn: &Connection, units: &[&Unit], restarts: bool) -> Vec<MetricFamily> {
    let mut states = gauge_family("node_systemd_unit_state", "Systemd unit");
    let mut restart_counts = counter_family(
        "node_systemd_service_restart_total",
        "Service unit count of Restart triggers",
    );
    for unit in units {
        let name = unit.name.as_str();
        let type_interface = if name.ends_with(".service") {
            Some("Service")
        } else if name.ends_with(".mount") {
            Some("Mount")
        } else {
            None
        };
        let unit_type = match type_interface {
            Some(interface) => unit_property::<String>(conn, name, interface, "Type")
                .await
                .unwrap_or_default(),
            None => String::new(),
        };
        for state in UNIT_STATES {
            let value = if state == unit.active_state { 1.0 } else { 0.0 };
            states.push(
                &[("name", name), ("state", state), ("type", &unit_type)],
                value,
            );
        }
        if restarts
            && name.ends_with(".service")
            && let Some(n) = unit_property::<u32>(conn, name, "Service", "NRestarts").await
        {
            restart_counts.push(&[("name", name)], f64::from(n));
        }
    }
    vec![states.into_family(), restart_counts.into_family()]
}

async fn sockets(conn: &Connection, units: &[&Unit]) -> Vec<MetricFamily> {
    let mut accepted = counter_family(
        "node_systemd_socket_accepted_connections_total",
        "Total number of accepted socket connections",
    );
    let mut current = gauge_family(
        "node_systemd_socket_current_connections",
        "Current number of socket connections",
    );
    // Upstream reports this total as a gauge.
    let mut refused = gauge_family(
        "node_systemd_socket_refused_connections_total",
        "Total number of refused socket connections",
    );
    for unit in units.iter().filter(|u| u.name.ends_with(".socket")) {
        let name = unit.name.as_str();
        let Some(n) = unit_property::<u32>(conn, name, "Socket", "NAccepted").await else {
            continue;
        };
        accepted.push(&[("name", name)], f64::from(n));
        let Some(n) = unit_property::<u32>(conn, name, "Socket", "NConnections").await else {
            continue;
        };
        current.push(&[("name", name)], f64::from(n));
        if let Some(n) = unit_property::<u32>(conn, name, "Socket", "NRefused").await {
            refused.push(&[("name", name)], f64::from(n));
        }
    }
    vec![
        accepted.into_family(),
        current.into_family(),
        refused.into_family(),
    ]
}

async fn start_times(conn: &Connection, units: &[&Unit]) -> Vec<MetricFamily> {
    let mut family = gauge_family(
        "node_systemd_unit_start_time_seconds",
        "Start time of the unit since unix epoch in seconds.",
    );
    for unit in units {
        let usec = if unit.active_state == "active" {
            match unit_property::<u64>(conn, &unit.name, "Unit", "ActiveEnterTimestamp").await {
                Some(v) => v,
                None => continue,
            }
        } else {
            0
        };
        family.push(&[("name", &unit.name)], usec as f64 / 1e6);
    }
    vec![family.into_family()]
}

async fn tasks(conn: &Connection, units: &[&Unit]) -> Vec<MetricFamily> {
    let mut current = gauge_family(
        "node_systemd_unit_tasks_current",
        "Current number of tasks per Systemd unit",
    );
    let mut max = gauge_family(
        "node_systemd_unit_tasks_max",
        "Maximum number of tasks per Systemd unit",
    );
    for unit in units.iter().filter(|u| u.name.ends_with(".service")) {
        let name = unit.name.as_str();
        // u64::MAX means "no value" (no accounting, or no limit).
        for (family, property) in [(&mut current, "TasksCurrent"), (&mut max, "TasksMax")] {
            if let Some(v) = unit_property::<u64>(conn, name, "Service", property).await
                && v != u64::MAX
            {
                family.push(&[("name", name)], v as f64);
            }
        }
    }
    vec![current.into_family(), max.into_family()]
}

async fn timers(conn: &Connection, units: &[&Unit]) -> Vec<MetricFamily> {
    let mut family = gauge_family(
        "node_systemd_timer_last_trigger_seconds",
        "Seconds since epoch of last trigger.",
    );
    for unit in units.iter().filter(|u| u.name.ends_with(".timer")) {
        if let Some(usec) = unit_property::<u64>(conn, &unit.name, "Timer", "LastTriggerUSec").await
        {
            family.push(&[("name", &unit.name)], usec as f64 / 1e6);
        }
    }
    vec![family.into_family()]
}
