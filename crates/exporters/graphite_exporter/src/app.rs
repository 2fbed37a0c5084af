//! Wiring: mapper, collector, the TCP and UDP listeners, and the HTTP server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use pm_common::metrics::Registry;
use pm_common::process::{BuildInfo, ProcessCollector};
use pm_common::web::{LandingConfig, LandingLink, landing_page, scraped_exposition};
use pm_mapper::{CacheMetrics, CachedMapper, MapperError, MetricMapper};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::{TcpListener, UdpSocket};

use crate::cli::Flags;
use crate::collector::{Collector, CollectorMetrics};
use pm_common::web::go_listen_address;

/// Why the exporter could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("Error loading metric mapping config: {0}")]
    Mapping(#[from] MapperError),
    #[error("Error binding to {what} socket {addr}: {source}")]
    Bind {
        what: &'static str,
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("registering metrics: {0}")]
    Metrics(#[from] pm_common::metrics::MetricsError),
    #[error(transparent)]
    Serve(#[from] pm_common::web::ServeError),
}

/// Loads the mapping config named by the flags (an empty config without one).
pub fn load_mapper(flags: &Flags) -> Result<MetricMapper, MapperError> {
    match flags.mapping_config() {
        Some(path) => MetricMapper::load_file(path),
        None => Ok(MetricMapper::default()),
    }
}

#[derive(Debug)]
struct App {
    collector: Arc<Collector>,
    own: Registry,
}

/// A started exporter: where it listens.
#[derive(Debug)]
pub struct Running {
    pub http: Vec<SocketAddr>,
    pub graphite: SocketAddr,
}

/// Binds the Graphite listeners and the HTTP server and starts serving.
pub async fn start(flags: &Flags) -> Result<Running, StartError> {
    let own = Registry::new();
    let metrics = CollectorMetrics::register(&own, flags.sample_expiry)?;
    let cache_metrics = CacheMetrics::register(&own)?;
    own.register(Arc::new(ProcessCollector::new()));
    own.register(Arc::new(BuildInfo::new(
        "graphite_exporter",
        env!("CARGO_PKG_VERSION"),
    )));
    let mapper = Arc::new(CachedMapper::new(
        load_mapper(flags)?,
        flags.cache_size,
        flags.cache_type,
        Some(cache_metrics),
    ));
    let collector = Arc::new(Collector::new(
        mapper,
        flags.strict_match,
        flags.sample_expiry,
        metrics,
    ));

    let addr = go_listen_address(&flags.listen_address);
    let bind_err = |what| {
        let addr = addr.clone();
        move |source| StartError::Bind { what, addr, source }
    };
    let tcp = TcpListener::bind(&addr).await.map_err(bind_err("TCP"))?;
    let graphite = tcp.local_addr().map_err(bind_err("TCP"))?;
    // The UDP socket shares the TCP port, as upstream's single address does.
    let udp = UdpSocket::bind(graphite).await.map_err(bind_err("UDP"))?;
    tokio::spawn(serve_tcp(tcp, Arc::clone(&collector)));
    tokio::spawn(serve_udp(udp, Arc::clone(&collector)));
    let sweeper = Arc::clone(&collector);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            sweeper.remove_expired();
        }
    });

    let app = Arc::new(App { collector, own });
    let server = pm_common::web::Server::bind(&flags.web).await?;
    let http = server.local_addrs();
    let routes = router(app, &flags.telemetry_path, &flags.listen_address);
    tokio::spawn(server.run(routes, std::future::pending()));
    Ok(Running { http, graphite })
}

async fn serve_tcp(listener: TcpListener, collector: Arc<Collector>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let collector = Arc::clone(&collector);
                tokio::spawn(async move {
                    let mut lines = BufReader::new(stream).lines();
                    while let Ok(Some(line)) = lines.next_line().await {
                        collector.process_line(&line);
                    }
                });
            }
            Err(err) => tracing::error!(%err, "Error accepting TCP connection"),
        }
    }
}

async fn serve_udp(socket: UdpSocket, collector: Arc<Collector>) {
    let mut buf = vec![0u8; 65536];
    loop {
        match socket.recv(&mut buf).await {
            Ok(n) => collector.process_text(&String::from_utf8_lossy(&buf[..n])),
            Err(err) => tracing::error!(%err, "Error reading UDP packet"),
        }
    }
}

fn router(app: Arc<App>, telemetry_path: &str, graphite_address: &str) -> Router {
    let mut router = Router::new()
        .route(telemetry_path, get(metrics))
        .with_state(app);
    if telemetry_path != "/" {
        router = router.route(
            "/",
            landing_page(LandingConfig {
                name: "Graphite Exporter".into(),
                description: "Prometheus Graphite Exporter".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                extra_html: format!(
                    "<p>Accepting plaintext Graphite samples over TCP and UDP on {graphite_address}</p>"
                ),
                links: vec![LandingLink::new("Metrics", telemetry_path)],
                ..Default::default()
            }),
        );
    }
    router
}

async fn metrics(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    app.collector
        .with_families(|families| scraped_exposition(&app.own, families, &headers))
}
