//! The D-Bus client the systemd and logind collectors share.
//!
//! Upstream opens a fresh system-bus connection on every scrape (so a restarted bus or
//! systemd is picked up without a reload) and closes it afterwards; so do we. The collectors
//! are synchronous, so each owns a small current-thread runtime that drives zbus's tokio
//! transport for the length of one scrape.

use std::future::Future;

use zbus::Connection;
use zbus::connection::Builder;
use zbus::zvariant::{ObjectPath, OwnedValue};

use crate::error::{CollectorError, ConfigError};

/// Runs one scrape's worth of D-Bus calls.
pub struct Bus {
    runtime: tokio::runtime::Runtime,
}

impl Bus {
    pub fn new(collector: &'static str) -> Result<Self, ConfigError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ConfigError::Invalid {
                flag: collector,
                reason: format!("cannot start the D-Bus runtime: {e}"),
            })?;
        Ok(Self { runtime })
    }

    /// Drives `work` to completion; everything it opens (the connection, its reader task)
    /// ends with it.
    pub fn run<T>(
        &self,
        work: impl Future<Output = Result<T, CollectorError>>,
    ) -> Result<T, CollectorError> {
        self.runtime.block_on(work)
    }
}

/// Connects to the system bus at `DBUS_SYSTEM_BUS_ADDRESS`, else the well-known socket, as
/// godbus does.
pub async fn system_bus() -> Result<Connection, CollectorError> {
    let built = match Builder::system() {
        Ok(b) => b.build().await,
        Err(e) => Err(e),
    };
    built.map_err(|source| CollectorError::dbus("connect to the system bus", source))
}

/// One object's property, read with `org.freedesktop.DBus.Properties.Get`: a single round
/// trip, without the signal subscriptions and caching a zbus proxy would set up.
pub async fn property(
    conn: &Connection,
    destination: &str,
    path: &ObjectPath<'_>,
    interface: &str,
    name: &str,
) -> zbus::Result<OwnedValue> {
    let reply = conn
        .call_method(
            Some(destination),
            path,
            Some("org.freedesktop.DBus.Properties"),
            "Get",
            &(interface, name),
        )
        .await?;
    reply.body().deserialize::<OwnedValue>()
}

/// A property converted to `T` (a `String`, `u32`, `u64`, `bool`…); a reply of another type
/// is an error, as a failed type assertion is upstream.
pub async fn typed_property<T>(
    conn: &Connection,
    destination: &str,
    path: &ObjectPath<'_>,
    interface: &str,
    name: &str,
) -> zbus::Result<T>
where
    T: TryFrom<OwnedValue>,
    T::Error: Into<zbus::Error>,
{
    let value = property(conn, destination, path, interface, name).await?;
    T::try_from(value).map_err(Into::into)
}
