//! `logind`: sessions per seat, remoteness, type and class, asked of systemd-logind over
//! D-Bus (off by default, as upstream).

use std::collections::HashMap;

use zbus::Connection;
use zbus::zvariant::{ObjectPath, OwnedObjectPath};

use crate::cli::Settings;
use crate::collector::Collector;
use crate::collector::dbus::{Bus, system_bus, typed_property};
use crate::error::{CollectorError, ConfigError};
use crate::metric::{Out, gauge_family};

const DESTINATION: &str = "org.freedesktop.login1";
const MANAGER_PATH: ObjectPath<'static> =
    ObjectPath::from_static_str_unchecked("/org/freedesktop/login1");
const MANAGER: &str = "org.freedesktop.login1.Manager";
const SESSION: &str = "org.freedesktop.login1.Session";

const REMOTE_VALUES: [&str; 2] = ["true", "false"];
/// The values logind knew of in systemd 229; anything newer is counted as "other".
const TYPE_VALUES: [&str; 7] = [
    "other",
    "unspecified",
    "tty",
    "x11",
    "wayland",
    "mir",
    "web",
];
const CLASS_VALUES: [&str; 5] = ["other", "user", "greeter", "lock-screen", "background"];

struct LogindCollector {
    bus: Bus,
}

pub fn build(_: &Settings) -> Result<Box<dyn Collector>, ConfigError> {
    Ok(Box::new(LogindCollector {
        bus: Bus::new("collector.logind")?,
    }))
}

impl Collector for LogindCollector {
    fn update(&self, out: &mut Out) -> Result<(), CollectorError> {
        let (seats, sessions) = self.bus.run(async {
            let conn = system_bus().await?;
            let seats = list_seats(&conn).await?;
            let sessions = sessions(&conn).await?;
            Ok((seats, sessions))
        })?;
        out.push(sessions_family(&seats, &sessions));
        Ok(())
    }
}

/// A session's labels.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Session {
    seat: String,
    remote: &'static str,
    session_type: String,
    class: String,
}

/// Every seat logind lists, then the empty seat remote sessions (SSH…) have.
async fn list_seats(conn: &Connection) -> Result<Vec<String>, CollectorError> {
    let rows: Vec<(String, OwnedObjectPath)> = manager_call(conn, "ListSeats")
        .await
        .map_err(|e| CollectorError::dbus("unable to get seats", e))?;
    let mut seats: Vec<String> = rows.into_iter().map(|(id, _)| id).collect();
    seats.push(String::new());
    Ok(seats)
}

/// The sessions whose properties could all be read, counted by their labels.
async fn sessions(conn: &Connection) -> Result<HashMap<Session, f64>, CollectorError> {
    // Session id, user id, user name, seat id, object path.
    let rows: Vec<(String, u32, String, String, OwnedObjectPath)> =
        manager_call(conn, "ListSessions")
            .await
            .map_err(|e| CollectorError::dbus("unable to get sessions", e))?;
    let mut counts = HashMap::new();
    for (_, _, _, seat, path) in rows {
        if let Some(session) = session(conn, seat, &path).await {
            *counts.entry(session).or_insert(0.0) += 1.0;
        }
    }
    Ok(counts)
}

async fn manager_call<T>(conn: &Connection, method: &str) -> zbus::Result<T>
where
    T: for<'d> zbus::zvariant::DynamicDeserialize<'d>,
{
    let reply = conn
        .call_method(Some(DESTINATION), &MANAGER_PATH, Some(MANAGER), method, &())
        .await?;
    reply.body().deserialize::<T>()
}

async fn session(conn: &Connection, seat: String, path: &ObjectPath<'_>) -> Option<Session> {
    let remote: bool = typed_property(conn, DESTINATION, path, SESSION, "Remote")
        .await
        .ok()?;
    let session_type: String = typed_property(conn, DESTINATION, path, SESSION, "Type")
        .await
        .ok()?;
    let class: String = typed_property(conn, DESTINATION, path, SESSION, "Class")
        .await
        .ok()?;
    Some(Session {
        seat,
        remote: if remote { "true" } else { "false" },
        session_type: known_or_other(session_type, &TYPE_VALUES),
        class: known_or_other(class, &CLASS_VALUES),
    })
}

fn known_or_other(value: String, known: &[&str]) -> String {
    if known.contains(&value.as_str()) {
        value
    } else {
        "other".to_owned()
    }
}

/// One sample per seat and label combination, zero where no session has it; sessions on a
/// seat logind did not list are counted nowhere, as upstream.
fn sessions_family(
    seats: &[String],
    sessions: &HashMap<Session, f64>,
) -> pm_common::expfmt::dto::MetricFamily {
    let mut family = gauge_family(
        "node_logind_sessions",
        "Number of sessions registered in logind.",
    );
    for remote in REMOTE_VALUES {
        for session_type in TYPE_VALUES {
            for class in CLASS_VALUES {
                for seat in seats {
                    let key = Session {
                        seat: seat.clone(),
                        remote,
                        session_type: session_type.to_owned(),
                        class: class.to_owned(),
                    };
                    let count = sessions.get(&key).copied().unwrap_or(0.0);
                    family.push(
                        &[
                            ("seat", seat),
                            ("remote", remote),
                            ("type", session_type),
                            ("class", class),
                        ],
                        count,
                    );
                }
            }
        }
    }
    family.into_family()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_become_other_and_every_combination_is_reported() {
        assert_eq!(known_or_other("tty".into(), &TYPE_VALUES), "tty");
        assert_eq!(known_or_other("unknown-new".into(), &TYPE_VALUES), "other");
        let seats = vec!["seat0".to_owned(), String::new()];
        let mut sessions = HashMap::new();
        sessions.insert(
            Session {
                seat: String::new(),
                remote: "true",
                session_type: "tty".into(),
                class: "user".into(),
            },
            2.0,
        );
        let f = sessions_family(&seats, &sessions);
        assert_eq!(f.metric.len(), 2 * 7 * 5 * 2);
        let hits: Vec<_> = f
            .metric
            .iter()
            .filter(|m| m.gauge.as_ref().and_then(|g| g.value) == Some(2.0))
            .collect();
        assert_eq!(hits.len(), 1);
        let labels: Vec<_> = hits[0].label.iter().map(|l| l.value()).collect();
        assert_eq!(labels, ["user", "true", "", "tty"]);
    }
}
