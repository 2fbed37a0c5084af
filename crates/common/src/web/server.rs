//! Serving a daemon's router on every `--web.listen-address`, in plain HTTP or TLS as the web
//! config says, with graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;

use super::auth::{self, Guard};
use super::error::ServeError;
use super::flags::{DefaultListenAddress, WebFlags};
use super::listen;
use super::source::ConfigSource;

/// How long in-flight requests may run on after shutdown was asked for, unless changed with
/// [`Server::shutdown_grace`].
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serves `router` on every listen address until `shutdown` resolves, then stops accepting and
/// lets in-flight requests finish (for at most [`DEFAULT_SHUTDOWN_GRACE`]).
///
/// Start-up fails, as upstream's, when an address cannot be bound or the web config file is
/// invalid. Later changes to the web config file (users, headers, certificates) apply to new
/// requests and connections; whether TLS is on, and HTTP/2, are decided at start-up.
pub async fn serve<D: DefaultListenAddress + Send + Sync + 'static>(
    router: Router,
    flags: &WebFlags<D>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServeError> {
    Server::bind(flags).await?.run(router, shutdown).await;
    Ok(())
}

/// A bound server, for callers that need the addresses before serving (ephemeral ports).
#[derive(Debug)]
pub struct Server {
    listeners: Vec<TcpListener>,
    source: Option<Arc<ConfigSource>>,
    guard: Option<Arc<Guard>>,
    tls: bool,
    http2: bool,
    grace: Duration,
}

impl Server {
    /// Loads the web config and binds every listen address.
    pub async fn bind<D: DefaultListenAddress + Send + Sync + 'static>(
        flags: &WebFlags<D>,
    ) -> Result<Self, ServeError> {
        if flags.listen_addresses.is_empty() {
            return Err(ServeError::NoListeners);
        }
        let (mut source, mut guard, mut tls, mut http2) = (None, None, false, false);
        if let Some(path) = flags
            .config_file
            .as_ref()
            .filter(|p| !p.as_os_str().is_empty())
        {
            let (opened, loaded) = ConfigSource::open(path.clone())?;
            let opened = Arc::new(opened);
            let rate = &loaded.config.rate_limit;
            if !rate.interval.is_zero() {
                tracing::info!(burst = rate.burst, interval = ?rate.interval, "Rate Limiter is enabled.");
            }
            guard = Some(Arc::new(Guard::new(opened.clone(), rate)));
            tls = loaded.tls.is_some();
            http2 = tls && loaded.config.http_server_config.http2;
            source = Some(opened);
        }
        let mut listeners = Vec::with_capacity(flags.listen_addresses.len());
        for address in &flags.listen_addresses {
            listeners.push(listen::bind(address).await?);
        }
        Ok(Self {
            listeners,
            source,
            guard,
            tls,
            http2,
            grace: DEFAULT_SHUTDOWN_GRACE,
        })
    }

    /// The bound addresses, in flag order.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|l| l.local_addr().ok())
            .collect()
    }

    /// Changes how long in-flight requests may run on after shutdown.
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// Serves until `shutdown` resolves, then drains connections (bounded by the grace period).
    pub async fn run(self, router: Router, shutdown: impl Future<Output = ()>) {
        let router = match &self.guard {
            Some(guard) => router.layer(axum::middleware::from_fn_with_state(
                guard.clone(),
                auth::guard,
            )),
            None => router,
        };
        let tls_source = if self.tls { self.source.clone() } else { None };
        let mut http = auto::Builder::new(TokioExecutor::new());
        http.http1().timer(TokioTimer::new());
        http.http2().timer(TokioTimer::new());
        if self.tls && !self.http2 {
            http = http.http1_only();
        }
        let conn = Arc::new(Connections {
            router,
            http,
            tls_source,
        });

        let graceful = Arc::new(GracefulShutdown::new());
        let mut accepting = JoinSet::new();
        for listener in self.listeners {
            let address = listener
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_default();
            tracing::info!(address = %address, "Listening on");
            if self.tls {
                tracing::info!(http2 = self.http2, address = %address, "TLS is enabled.");
            } else {
                tracing::info!(http2 = false, address = %address, "TLS is disabled.");
            }
            accepting.spawn(accept_loop(listener, conn.clone(), graceful.clone()));
        }

        shutdown.await;
        // Dropping the accept loops closes the listeners and leaves the connections as the only
        // holders of shutdown watchers.
        accepting.shutdown().await;
        let Ok(graceful) = Arc::try_unwrap(graceful) else {
            unreachable!("accept loops are gone, nothing else holds the shutdown handle")
        };
        if tokio::time::timeout(self.grace, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(grace = ?self.grace, "Shutdown grace period over, closing remaining connections");
        }
    }
}

/// What every connection needs, shared by the accept loops.
struct Connections {
    router: Router,
    http: auto::Builder<TokioExecutor>,
    /// Set when serving TLS: the certificates come from the current config on each handshake.
    tls_source: Option<Arc<ConfigSource>>,
}

async fn accept_loop(
    listener: TcpListener,
    conn: Arc<Connections>,
    graceful: Arc<GracefulShutdown>,
) {
    // Like Go's http.Server: transient accept errors (fd exhaustion) back off, never stop.
    let mut backoff = Duration::from_millis(5);
    loop {
        match listener.accept().await {
            Ok((stream, remote)) => {
                backoff = Duration::from_millis(5);
                tokio::spawn(conn.clone().handle(stream, remote, graceful.watcher()));
            }
            Err(err) => {
                tracing::error!(err = %err, retry_in = ?backoff, "Accept error");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

impl Connections {
    async fn handle(self: Arc<Self>, stream: TcpStream, remote: SocketAddr, watcher: Watcher) {
        let _ = stream.set_nodelay(true);
        let Some(source) = &self.tls_source else {
            return self.serve_http(stream, remote, watcher).await;
        };
        let config = match source.current() {
            Ok(loaded) => loaded.tls.clone(),
            Err(err) => {
                tracing::error!(err = %err, remote = %remote, "Unable to load TLS configuration");
                return;
            }
        };
        let Some(config) = config else {
            tracing::error!(remote = %remote, "TLS config is not present");
            return;
        };
        match TlsAcceptor::from(config).accept(stream).await {
            Ok(tls) => self.serve_http(tls, remote, watcher).await,
            Err(err) => tracing::debug!(err = %err, remote = %remote, "TLS handshake error"),
        }
    }

    async fn serve_http<S>(&self, stream: S, remote: SocketAddr, watcher: Watcher)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let router = self.router.clone();
        let service = hyper::service::service_fn(move |mut req: http::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo(remote));
            router.clone().oneshot(req)
        });
        let connection = self
            .http
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        if let Err(err) = watcher.watch(connection).await {
            tracing::debug!(err = %err, remote = %remote, "Error serving connection");
        }
    }
}
