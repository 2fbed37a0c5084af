//! Wiring: the mapper, the exporter, the listeners and the HTTP server, started together and
//! stopped by a signal or `/-/quit`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use pm_common::metrics::Registry;
use pm_common::process::{BuildInfo, ProcessCollector};
use pm_common::web::{LandingConfig, LandingLink, landing_page, scraped_exposition};
use pm_mapper::{CacheMetrics, CachedMapper, MapperError, MetricMapper};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::Notify;

use crate::cli::Flags;
use crate::exporter::Exporter;
use crate::line::Parser;
use crate::listener::{Pipeline, UnixgramSocket, serve_tcp, serve_udp, serve_unixgram};
use crate::metrics::ExporterMetrics;
use crate::queue::EventQueue;
use crate::relay::Relay;
use pm_common::web::go_listen_address;

/// Why the exporter could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("error loading config: {0}")]
    Mapping(#[from] MapperError),
    #[error("At least one of UDP/TCP/Unixgram listeners must be specified.")]
    NoListener,
    #[error("failed to start {what} listener on {addr}: {source}")]
    Bind {
        what: &'static str,
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("Unable to create relay: {0}")]
    Relay(std::io::Error),
    #[error("registering metrics: {0}")]
    Metrics(#[from] pm_common::metrics::MetricsError),
}

/// State shared by the HTTP handlers.
#[derive(Debug)]
struct App {
    exporter: Arc<Exporter>,
    own: Registry,
    metrics: ExporterMetrics,
    mapping_config: Option<PathBuf>,
    quit: Arc<Notify>,
}

impl App {
    /// Reloads the mapping config, keeping the old one if the new one is bad.
    fn reload(&self) {
        let Some(path) = &self.mapping_config else {
            tracing::warn!("Received reload request but no mapping config to reload");
            return;
        };
        match MetricMapper::load_file(path) {
            Ok(mapper) => {
                self.metrics.loaded_mappings.set(mapper.len() as f64);
                self.exporter.mapper().replace(mapper);
                self.metrics
                    .config_reloads
                    .with_label_values(&["success"])
                    .inc();
                tracing::info!("Config reloaded successfully");
            }
            Err(err) => {
                self.metrics
                    .config_reloads
                    .with_label_values(&["failure"])
                    .inc();
                tracing::info!(%err, "Error reloading config");
            }
        }
    }
}

/// Loads the mapping config named by the flags (an empty config without one).
pub fn load_mapper(flags: &Flags) -> Result<MetricMapper, MapperError> {
    match &flags.mapping_config {
        Some(path) => MetricMapper::load_file(path),
        None => Ok(MetricMapper::default()),
    }
}

/// A started exporter.
#[derive(Debug)]
pub struct Running {
    pub http: Vec<SocketAddr>,
    pub udp: Option<SocketAddr>,
    pub tcp: Option<SocketAddr>,
    quit: Arc<Notify>,
    _unixgram: Option<Arc<UnixgramSocket>>,
}

impl Running {
    /// Resolves on `/-/quit`.
    pub async fn quit_requested(&self) {
        self.quit.notified().await;
    }
}

/// Binds every listener and starts serving.
pub async fn start(flags: &Flags) -> Result<Running, StartError> {
    let own = Registry::new();
    let metrics = ExporterMetrics::register(&own)?;
    let cache_metrics = CacheMetrics::register(&own)?;
    own.register(Arc::new(ProcessCollector::new()));
    own.register(Arc::new(BuildInfo::new(
        "statsd_exporter",
        env!("CARGO_PKG_VERSION"),
    )));

    let mapper = load_mapper(flags)?;
    metrics.loaded_mappings.set(mapper.len() as f64);
    let mapper = Arc::new(CachedMapper::new(
        mapper,
        flags.cache_size,
        flags.cache_type,
        Some(cache_metrics),
    ));
    let exporter = Arc::new(Exporter::new(mapper, flags.max_series, metrics.clone()));

    if flags.listen_udp.is_empty()
        && flags.listen_tcp.is_empty()
        && flags.listen_unixgram.is_empty()
    {
        return Err(StartError::NoListener);
    }
    let relay = match &flags.relay_address {
        Some(addr) if !addr.is_empty() => Some(
            Relay::start(addr, flags.relay_packet_length, &metrics)
                .await
                .map_err(StartError::Relay)?,
        ),
        _ => None,
    };
    let (queue, mut batches) = EventQueue::new(
        flags.event_flush_threshold,
        flags.event_queue_size,
        metrics.events_flushed.clone(),
    );
    let queue = Arc::new(queue);
    let pipeline = Arc::new(Pipeline {
        parser: Parser::new(flags.dialects(), metrics.parse.clone()),
        queue: Arc::clone(&queue),
        relay,
        metrics: metrics.clone(),
    });

    let consumer = Arc::clone(&exporter);
    tokio::spawn(async move {
        while let Some(batch) = batches.recv().await {
            consumer.handle(&batch);
        }
    });
    let flush_every = flags
        .event_flush_interval
        .max(std::time::Duration::from_millis(1));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(flush_every);
        loop {
            tick.tick().await;
            queue.flush().await;
        }
    });
    let sweeper = Arc::clone(&exporter);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            tick.tick().await;
            sweeper.remove_stale();
        }
    });

    let bind_err = |what, addr: &str| {
        let addr = addr.to_owned();
        move |source| StartError::Bind { what, addr, source }
    };
    let mut udp = None;
    if !flags.listen_udp.is_empty() {
        let addr = go_listen_address(&flags.listen_udp);
        let socket = UdpSocket::bind(&addr)
            .await
            .map_err(bind_err("UDP", &addr))?;
        if flags.read_buffer > 0 {
            set_recv_buffer(&socket, flags.read_buffer).map_err(bind_err("UDP", &addr))?;
        }
        udp = Some(socket.local_addr().map_err(bind_err("UDP", &addr))?);
        tokio::spawn(serve_udp(
            socket,
            Arc::clone(&pipeline),
            flags.udp_packet_queue_size,
        ));
    }
    let mut tcp = None;
    if !flags.listen_tcp.is_empty() {
        let addr = go_listen_address(&flags.listen_tcp);
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(bind_err("TCP", &addr))?;
        tcp = Some(listener.local_addr().map_err(bind_err("TCP", &addr))?);
        tokio::spawn(serve_tcp(listener, Arc::clone(&pipeline)));
    }
    let mut unixgram = None;
    if !flags.listen_unixgram.is_empty() {
        let path = &flags.listen_unixgram;
        let socket = Arc::new(
            UnixgramSocket::bind(path.as_ref(), &flags.unixsocket_mode)
                .map_err(bind_err("Unixgram", path))?,
        );
        tokio::spawn(serve_unixgram(Arc::clone(&socket), Arc::clone(&pipeline)));
        unixgram = Some(socket);
    }

    let quit = Arc::new(Notify::new());
    let app = Arc::new(App {
        exporter,
        own,
        metrics,
        mapping_config: flags.mapping_config.clone(),
        quit: Arc::clone(&quit),
    });
    let web = pm_common::web::WebFlags::<StatsdPort>::new(vec![flags.listen_address.clone()], None);
    let server = pm_common::web::Server::bind(&web)
        .await
        .map_err(|e| StartError::Bind {
            what: "HTTP",
            addr: flags.listen_address.clone(),
            source: std::io::Error::other(e.to_string()),
        })?;
    let http = server.local_addrs();
    let routes = router(
        Arc::clone(&app),
        &flags.telemetry_path,
        flags.enable_lifecycle,
    );
    tokio::spawn(server.run(routes, std::future::pending()));

    // SIGHUP reloads, as upstream.
    let hup_app = Arc::clone(&app);
    if let Ok(mut signals) = pm_common::web::ReloadSignals::new() {
        tokio::spawn(async move {
            while signals.recv().await.is_some() {
                hup_app.reload();
            }
        });
    }
    Ok(Running {
        http,
        udp,
        tcp,
        quit,
        _unixgram: unixgram,
    })
}

/// `--web.listen-address`'s default port (the flag itself is declared in [`Flags`]).
#[derive(Debug, Clone, Copy)]
pub struct StatsdPort;

impl pm_common::web::DefaultListenAddress for StatsdPort {
    const ADDRESS: &'static str = ":9102";
}

fn set_recv_buffer(socket: &UdpSocket, size: usize) -> std::io::Result<()> {
    socket2::SockRef::from(socket).set_recv_buffer_size(size)
}

fn router(app: Arc<App>, telemetry_path: &str, lifecycle: bool) -> Router {
    let mut router = Router::new()
        .route(telemetry_path, get(metrics))
        .route(
            "/-/healthy",
            get(|| async { "Statsd Exporter is Healthy.\n" }),
        )
        .route("/-/ready", get(|| async { "Statsd Exporter is Ready.\n" }));
    if lifecycle {
        router = router
            .route("/-/reload", any(reload))
            .route("/-/quit", any(quit));
    }
    let mut router = router.with_state(app);
    if telemetry_path != "/" && !telemetry_path.is_empty() {
        router = router.route(
            "/",
            landing_page(LandingConfig {
                name: "StatsD Exporter".into(),
                description: "Prometheus Exporter for converting StatsD to Prometheus metrics"
                    .into(),
                version: env!("CARGO_PKG_VERSION").into(),
                links: vec![LandingLink::new("Metrics", telemetry_path)],
                ..Default::default()
            }),
        );
    }
    router
}

async fn metrics(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    app.exporter
        .with_families(|families| scraped_exposition(&app.own, families, &headers))
}

async fn reload(State(app): State<Arc<App>>, method: Method) -> Response {
    if method != Method::PUT && method != Method::POST {
        return ().into_response();
    }
    app.reload();
    "Requesting reload".into_response()
}

async fn quit(State(app): State<Arc<App>>, method: Method) -> Response {
    if method != Method::PUT && method != Method::POST {
        return ().into_response();
    }
    app.quit.notify_one();
    "Requesting termination... Goodbye!".into_response()
}
