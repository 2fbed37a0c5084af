//! What the notifier tests share: a notifier fed with the static Alertmanagers of a config,
//! and a local HTTP receiver that records what it is posted.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use jiff::Timestamp;
use pm_common::metrics::Registry;
use pm_common::model::Labels;
use pm_discovery::{SdConfig, TargetSets};
use pm_prometheus::config::load_str;
use pm_prometheus::notifier::{Alert, Annotations, Notifier, NotifierOptions};
use pm_testsupport::{Daemon, free_port};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// One POST as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Post {
    pub path: String,
    pub content_type: String,
    pub user_agent: String,
    pub body: serde_json::Value,
}

#[derive(Default)]
struct Recorded {
    posts: Mutex<Vec<Post>>,
    status: Mutex<u16>,
}

/// An Alertmanager stand-in on 127.0.0.1; stops when dropped.
pub struct Receiver {
    pub addr: SocketAddr,
    recorded: Arc<Recorded>,
    task: JoinHandle<()>,
}

impl Receiver {
    /// Answers every POST with `status`.
    pub async fn start(status: u16) -> Receiver {
        let recorded = Arc::new(Recorded {
            posts: Mutex::default(),
            status: Mutex::new(status),
        });
        let app = Router::new().fallback(record).with_state(recorded.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Receiver {
            addr,
            recorded,
            task,
        }
    }

    pub fn posts(&self) -> Vec<Post> {
        self.recorded.posts.lock().unwrap().clone()
    }

    /// Waits (bounded) until `n` POSTs arrived.
    pub async fn wait_posts(&self, n: usize) -> Vec<Post> {
        wait_until(&format!("{n} POSTs to {}", self.addr), || {
            self.posts().len() >= n
        })
        .await;
        self.posts()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn record(
    State(recorded): State<Arc<Recorded>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    recorded.posts.lock().unwrap().push(Post {
        path: uri.path().to_owned(),
        content_type: header("content-type"),
        user_agent: header("user-agent"),
        body: serde_json::from_slice(&body).expect("a JSON body"),
    });
    StatusCode::from_u16(*recorded.status.lock().unwrap()).unwrap()
}

/// Polls `done` every 10 ms for at most 10 s.
pub async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Gives reqwest's rustls a crypto provider, as the daemon's `main` does.
pub fn install_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A running notifier given the config `yaml`, its static Alertmanagers already synced.
pub struct Running {
    pub notifier: Notifier,
    pub registry: Registry,
    pub run: JoinHandle<()>,
    _targets: watch::Sender<Arc<TargetSets>>,
}

impl Running {
    pub async fn start(yaml: &str, options: NotifierOptions) -> Running {
        install_crypto();
        let config = load_str(yaml, "notifier-test.yml").unwrap();
        let registry = Registry::new();
        let notifier = Notifier::new(options, &registry).unwrap();
        notifier.apply_config(&config).unwrap();
        let mut sets = TargetSets::new();
        let mut expected = 0;
        for (i, am) in config.alerting.alertmanagers.iter().enumerate() {
            let groups: Vec<_> = am
                .service_discovery
                .sd_configs()
                .into_iter()
                .flat_map(|sd| match sd {
                    SdConfig::Static(groups) => groups,
                    other => panic!("only static configs here, not {}", other.mechanism()),
                })
                .collect();
            expected += groups.iter().map(|g| g.targets.len()).sum::<usize>();
            sets.insert(format!("config-{i}"), groups);
        }
        let (tx, rx) = watch::channel(Arc::new(TargetSets::new()));
        let run = notifier.run(rx);
        tx.send_replace(Arc::new(sets));
        let n = notifier.clone();
        wait_until("Alertmanagers to be synced", move || {
            n.alertmanagers().len() + n.dropped_alertmanagers().len() >= expected
        })
        .await;
        Running {
            notifier,
            registry,
            run,
            _targets: tx,
        }
    }

    /// The registry in the text format.
    pub fn metrics(&self) -> String {
        let (_, body) = pm_common::metrics::render(&self.registry.gather(), None);
        String::from_utf8(body).unwrap()
    }

    /// Stops the notifier and waits (bounded) for its task.
    pub async fn stop(self) -> Notifier {
        self.notifier.stop();
        tokio::time::timeout(Duration::from_secs(30), self.run)
            .await
            .expect("notifier stops")
            .unwrap();
        self.notifier
    }
}

/// A firing alert with fixed times.
pub fn firing(name: &str) -> Alert {
    Alert {
        labels: Labels::from_pairs([("alertname", name), ("severity", "page")]),
        annotations: Annotations::from_pairs([("summary", format!("{name} is on fire"))]),
        starts_at: Timestamp::from_millisecond(1_764_000_000_250).unwrap(),
        ends_at: Some(Timestamp::from_millisecond(1_764_000_240_250).unwrap()),
        generator_url: format!("http://prometheus:9090/graph?g0.expr={name}"),
    }
}

/// An Alertmanager (`binary`: ours or upstream's) with `config` on a loopback port,
/// clustering off, its state in `dir`; returns once `/-/ready` answers.
pub async fn start_alertmanager(binary: &Path, dir: &Path, config: &str) -> Daemon {
    let config_file = dir.join("alertmanager.yml");
    std::fs::write(&config_file, config).unwrap();
    let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let daemon = Daemon::spawn(
        Command::new(binary)
            .arg(format!("--config.file={}", config_file.display()))
            .arg(format!("--storage.path={}", dir.join("am-data").display()))
            .arg(format!("--web.listen-address={addr}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
        addr,
        Duration::from_secs(30),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = reqwest::get(format!("http://{addr}/-/ready")).await;
        if ready.is_ok_and(|r| r.status().is_success()) {
            return daemon;
        }
        assert!(Instant::now() < deadline, "alertmanager never became ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
