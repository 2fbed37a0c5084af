//! What the server end-to-end tests share: starting our binary (or upstream's) on a data
//! directory, HTTP calls and promtool runs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pm_testsupport::{Daemon, free_port};

pub const OURS: &str = env!("CARGO_BIN_EXE_prometheus");
pub const UPSTREAM: &str = "/usr/bin/prometheus";
pub const PROMTOOL: &str = "/usr/bin/promtool";

/// A running server and its config file.
pub struct Server {
    pub daemon: Daemon,
    pub base: String,
    pub config: PathBuf,
}

/// Starts `binary` with `config` written into `dir` and its TSDB in `data`, then waits until
/// `/-/ready` answers 200.
pub async fn start(binary: &str, dir: &Path, data: &Path, config: &str, extra: &[&str]) -> Server {
    let server = spawn(binary, dir, data, config, extra);
    server.wait_ready().await;
    server
}

/// Starts `binary` and waits only until it listens.
pub fn spawn(binary: &str, dir: &Path, data: &Path, config: &str, extra: &[&str]) -> Server {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let config_path = dir.join(format!("prometheus-{}.yml", free_port()));
    std::fs::write(&config_path, config).unwrap();
    let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let mut cmd = Command::new(binary);
    cmd.arg(format!("--config.file={}", config_path.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!("--web.listen-address={addr}"))
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let daemon = Daemon::spawn(&mut cmd, addr, Duration::from_secs(30));
    Server {
        daemon,
        base: format!("http://{addr}"),
        config: config_path,
    }
}

impl Server {
    pub async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok((200, _)) = try_get(&format!("{}/-/ready", self.base)).await {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} never became ready",
                self.base
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        try_get(&format!("{}{path}", self.base)).await.unwrap()
    }

    /// A raw GET with extra headers, returning the content type and body bytes.
    pub async fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> (String, Vec<u8>) {
        let mut req = reqwest::Client::new().get(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req.send().await.unwrap();
        let ct = resp
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (ct, resp.bytes().await.unwrap().to_vec())
    }

    pub async fn post(&self, path: &str, body: Option<&str>) -> (u16, String) {
        let mut req = reqwest::Client::new().post(format!("{}{path}", self.base));
        if let Some(body) = body {
            req = req
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.to_owned());
        }
        let resp = req.send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    /// Sends `signal` (`TERM`, `HUP`) to the process.
    pub fn signal(&self, signal: &str) {
        self.daemon.signal(signal);
    }

    /// Waits (bounded) for the process to exit; its exit code.
    pub fn wait_exit(&mut self) -> Option<i32> {
        self.daemon.wait_exit(Duration::from_secs(30)).code()
    }
}

async fn try_get(url: &str) -> reqwest::Result<(u16, String)> {
    let resp = reqwest::get(url).await?;
    Ok((resp.status().as_u16(), resp.text().await?))
}

/// Runs promtool with `args`; stdout, with the exit code and stderr appended on failure.
pub fn promtool(args: &[&str]) -> String {
    let out = Command::new(PROMTOOL).args(args).output().unwrap();
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        text.push_str(&format!(
            "\nexit {:?}: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    text
}

/// Copies a data directory, for a second server on the same data.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}
