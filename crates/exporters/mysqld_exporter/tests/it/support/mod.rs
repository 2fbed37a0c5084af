//! A real MariaDB (Debian's) in a temporary datadir on loopback, our exporter started
//! against it, and HTTP and exposition helpers.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use pm_common::expfmt::dto::MetricFamily;
use pm_common::expfmt::textparse::decode_text_families;
use pm_testsupport::{Daemon, available, free_port};

const MARIADBD: &str = "/usr/sbin/mariadbd";
const INSTALL_DB: &str = "/usr/bin/mariadb-install-db";
const CLIENT: &str = "/usr/bin/mariadb";

/// The exporter's account, with the privileges upstream's README asks for (and MariaDB's
/// `SLAVE MONITOR`, which `SHOW SLAVE STATUS` needs since 10.5).
pub const USER: &str = "exporter";
pub const PASSWORD: &str = "s3cret pw";

/// A MariaDB server killed on drop, with its datadir removed.
pub struct MariaDb {
    _daemon: Daemon,
    dir: tempfile::TempDir,
    pub port: u16,
    pub socket: PathBuf,
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().next().map(|u| u == "0"))
        })
        .unwrap_or(false)
}

impl MariaDb {
    /// Initialises a datadir and starts the server; `None` (after the skip line) when
    /// MariaDB is not installed and `PM_REQUIRE_UPSTREAM` is unset.
    pub fn start() -> Option<Self> {
        let present = [MARIADBD, INSTALL_DB, CLIENT]
            .iter()
            .all(|p| Path::new(p).exists());
        if !available("mariadb-server and mariadb-client", present) {
            return None;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        // Each server's own temporary directory: two bootstraps sharing /tmp (tests of this
        // executable run concurrently) trip over each other's temporary tables.
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp).expect("temp dir for MariaDB");
        let mut install = Command::new(INSTALL_DB);
        install.args([
            "--no-defaults",
            &format!("--datadir={}", data.display()),
            &format!("--tmpdir={}", tmp.display()),
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ]);
        let mut server = Command::new(MARIADBD);
        if is_root() {
            install.arg("--user=root");
        }
        let out = install.output().expect("running mariadb-install-db");
        assert!(
            out.status.success(),
            "mariadb-install-db failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let socket = dir.path().join("mysqld.sock");
        server.args([
            "--no-defaults".to_owned(),
            format!("--datadir={}", data.display()),
            format!("--tmpdir={}", tmp.display()),
            format!("--port={port}"),
            "--bind-address=127.0.0.1".to_owned(),
            format!("--socket={}", socket.display()),
            format!("--pid-file={}", dir.path().join("mysqld.pid").display()),
            format!("--log-error={}", dir.path().join("error.log").display()),
            "--innodb-buffer-pool-size=16M".to_owned(),
            "--skip-name-resolve".to_owned(),
            "--plugin-load-add=query_response_time".to_owned(),
            "--query-response-time-stats=ON".to_owned(),
            "--log-bin=mysql-bin".to_owned(),
            "--server-id=1".to_owned(),
            "--performance-schema=ON".to_owned(),
            "--userstat=1".to_owned(),
        ]);
        if is_root() {
            server.arg("--user=root");
        }
        server.stdout(Stdio::null()).stderr(Stdio::null());
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let daemon = Daemon::spawn(&mut server, addr, Duration::from_secs(60));
        let db = MariaDb {
            _daemon: daemon,
            dir,
            port,
            socket,
        };
        db.wait_ready();
        db.root_sql(&format!(
            "CREATE USER '{USER}'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}';
             CREATE USER '{USER}'@'localhost' IDENTIFIED BY '{PASSWORD}';
             GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR, SELECT ON *.* TO '{USER}'@'127.0.0.1';
             GRANT PROCESS, REPLICATION CLIENT, SLAVE MONITOR, SELECT ON *.* TO '{USER}'@'localhost';"
        ));
        Some(db)
    }

    /// The listener is up before the server takes queries: poll with a trivial one.
    fn wait_ready(&self) {
        for _ in 0..300 {
            if self.try_root_sql("SELECT 1").is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("MariaDB on port {} never answered queries", self.port);
    }

    fn try_root_sql(&self, sql: &str) -> Result<String, String> {
        let out = Command::new(CLIENT)
            .args([
                "--no-defaults",
                "-uroot",
                &format!("--socket={}", self.socket.display()),
                "--batch",
                "-e",
                sql,
            ])
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Starts `sql` as root in the background (e.g. a long `SELECT SLEEP(…)`), killed on drop.
    pub fn background_sql(&self, sql: &str) -> Daemon {
        let mut cmd = Command::new(CLIENT);
        cmd.args([
            "--no-defaults",
            "-uroot",
            &format!("--socket={}", self.socket.display()),
            "-e",
            sql,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        // The client has no port of its own: wait on the server's, which is already up.
        Daemon::spawn(
            &mut cmd,
            ([127, 0, 0, 1], self.port).into(),
            Duration::from_secs(5),
        )
    }

    /// Runs statements as root over the socket; panics on failure.
    pub fn root_sql(&self, sql: &str) -> String {
        self.try_root_sql(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A `my.cnf` for the exporter account, plus `extra` sections.
    pub fn write_my_cnf(&self, extra: &str) -> PathBuf {
        let path = self.dir.path().join("exporter.cnf");
        std::fs::write(
            &path,
            format!(
                "[client]\nuser = {USER}\npassword = \"{PASSWORD}\"\nhost = 127.0.0.1\nport = {}\n{extra}",
                self.port
            ),
        )
        .expect("writing my.cnf");
        path
    }
}

/// Our exporter with `args`, once it listens.
pub fn exporter(args: &[String]) -> Daemon {
    exporter_with_env(args, &[])
}

/// [`exporter`] with environment variables.
pub fn exporter_with_env(args: &[String], env: &[(&str, &str)]) -> Daemon {
    let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mysqld_exporter"));
    cmd.arg(format!("--web.listen-address={addr}"))
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    Daemon::spawn(&mut cmd, addr, Duration::from_secs(30))
}

/// `GET path` (or another method) with optional extra headers: status and body.
pub fn http(method: &str, addr: SocketAddr, path: &str, headers: &str) -> (u16, String) {
    let mut conn = TcpStream::connect(addr).expect("connecting");
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        conn,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: 0\r\n{headers}\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).expect("reading the reply");
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = raw.split_once("\r\n\r\n").expect("a full reply");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    (status, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).expect("a chunk size");
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = &rest[n + 2..];
    }
    out
}

pub fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    http("GET", addr, path, "")
}

/// The families of a scrape that must succeed.
pub fn scrape(addr: SocketAddr, path: &str) -> Vec<MetricFamily> {
    let (status, body) = get(addr, path);
    assert_eq!(status, 200, "{path}: {body}");
    decode_text_families(body.as_bytes()).expect("exposition parses")
}

/// The value of the sample of `name` whose labels include `labels`.
pub fn value(families: &[MetricFamily], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let family = families.iter().find(|f| f.name() == name)?;
    family
        .metric
        .iter()
        .find(|m| {
            labels
                .iter()
                .all(|(k, v)| m.label.iter().any(|l| l.name() == *k && l.value() == *v))
        })
        .and_then(|m| {
            m.gauge
                .as_ref()
                .and_then(|g| g.value)
                .or(m.counter.as_ref().and_then(|c| c.value))
                .or(m.untyped.as_ref().and_then(|u| u.value))
                .or(m
                    .histogram
                    .as_ref()
                    .and_then(|h| h.sample_count.map(|c| c as f64)))
        })
}

/// Every family name with each distinct label-name set it has.
pub fn shapes(families: &[MetricFamily]) -> BTreeMap<String, BTreeSet<Vec<String>>> {
    let mut out: BTreeMap<String, BTreeSet<Vec<String>>> = BTreeMap::new();
    for f in families {
        let sets = out.entry(f.name().to_owned()).or_default();
        for m in &f.metric {
            let mut names: Vec<String> = m.label.iter().map(|l| l.name().to_owned()).collect();
            names.sort();
            sets.insert(names);
        }
    }
    out
}
