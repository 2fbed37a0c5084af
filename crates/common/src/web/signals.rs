//! Process signals the way every daemon uses them: SIGTERM/SIGINT stop, SIGHUP reloads.

use tokio::signal::unix::{SignalKind, signal};

/// Resolves on the first SIGTERM or SIGINT, logging which, as upstream daemons do. Pass it as
/// the `shutdown` future of [`super::serve`].
///
/// # Panics
/// If the signal handlers cannot be installed (no Tokio runtime with signal support).
pub async fn shutdown_signal() {
    let mut term = signal(SignalKind::terminate()).expect("installing the SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("installing the SIGINT handler");
    let name = tokio::select! {
        _ = term.recv() => "terminated",
        _ = int.recv() => "interrupt",
    };
    tracing::warn!(
        signal = name,
        "Received an OS signal, exiting gracefully..."
    );
}

/// SIGHUP deliveries, one `recv` per reload request.
#[derive(Debug)]
pub struct ReloadSignals(tokio::signal::unix::Signal);

impl ReloadSignals {
    /// Installs the SIGHUP handler; from then on SIGHUP no longer terminates the process.
    pub fn new() -> std::io::Result<Self> {
        signal(SignalKind::hangup()).map(Self)
    }

    /// Waits for the next SIGHUP. Several signals arriving before a call count as one, which is
    /// what a reload wants.
    pub async fn recv(&mut self) -> Option<()> {
        self.0.recv().await
    }
}
