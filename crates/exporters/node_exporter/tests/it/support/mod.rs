//! Test support: the fixture tree, a ttar extractor, and running the binary on loopback.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `shared/testdata/node_exporter`, or a clear failure when the fixtures are missing.
pub fn fixtures() -> PathBuf {
    pm_testsupport::testdata("node_exporter")
}

/// Extracts a "ttar" archive (upstream's text archive of the sysfs and udev fixture trees)
/// under `dest`.
pub fn extract_ttar(archive: &Path, dest: &Path) {
    let text = std::fs::read_to_string(archive).expect("read ttar archive");
    let mut lines = text.split('\n');
    let mut path: Option<PathBuf> = None;
    while let Some(line) = lines.next() {
        if let Some(dir) = line.strip_prefix("Directory: ") {
            std::fs::create_dir_all(dest.join(dir)).unwrap();
        } else if let Some(p) = line.strip_prefix("Path: ") {
            path = Some(dest.join(p));
        } else if let Some(target) = line.strip_prefix("SymlinkTo: ") {
            let p = path.take().expect("SymlinkTo without Path");
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            let _ = std::fs::remove_file(&p);
            std::os::unix::fs::symlink(target, &p).unwrap();
        } else if let Some(n) = line.strip_prefix("Lines: ") {
            let n: usize = n.trim().parse().expect("Lines count");
            let mut content = String::new();
            for _ in 0..n {
                content.push_str(lines.next().expect("truncated ttar entry"));
                content.push('\n');
            }
            if content.ends_with("EOF\n") && !content.ends_with("\\EOF\n") {
                content.truncate(content.len() - 4);
            }
            let content = content
                .replace("\\NULLBYTE", "\u{1}NB")
                .replace("NULLBYTE", "\0")
                .replace("\u{1}NB", "NULLBYTE")
                .replace("\\EOF", "EOF");
            let p = path.take().expect("Lines without Path");
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, content).unwrap();
        }
    }
}

/// Mirrors the fake procfs with one symlink per entry, `self` re-created as the symlink to
/// `10` upstream's tree has (the shared copy may hold it as a file naming the PID).
fn link_proc(src: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        let link = dest.join(&name);
        if name == "self" && !entry.file_type().unwrap().is_symlink() {
            let pid = std::fs::read_to_string(entry.path()).unwrap();
            std::os::unix::fs::symlink(pid.trim(), link).unwrap();
        } else {
            std::os::unix::fs::symlink(entry.path(), link).unwrap();
        }
    }
}

/// A fixture tree laid out as upstream's end-to-end test sees it: `<root>/collector/fixtures`
/// with `proc`, the extracted `sys` and `udev`, and the other inputs.
pub struct FixtureTree {
    pub dir: tempfile::TempDir,
}

impl FixtureTree {
    pub fn new() -> Self {
        let src = fixtures();
        let dir = tempfile::tempdir().unwrap();
        let fx = dir.path().join("collector/fixtures");
        std::fs::create_dir_all(&fx).unwrap();
        for entry in std::fs::read_dir(&src).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name();
            if name.to_string_lossy().ends_with(".ttar") {
                continue;
            }
            if name == "proc" {
                link_proc(&entry.path(), &fx.join("proc"));
                continue;
            }
            std::os::unix::fs::symlink(entry.path(), fx.join(&name)).unwrap();
        }
        extract_ttar(&src.join("sys.ttar"), &fx);
        extract_ttar(&src.join("udev.ttar"), &fx);
        Self { dir }
    }

    /// The working directory to run the binary in (relative paths as upstream's test uses).
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
}

/// A running binary, killed on drop.
pub struct Daemon {
    child: Child,
    pub addr: SocketAddr,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port (bound then released; the daemon binds it right after).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `program` with `args` (it must listen on `port`) and waits until it accepts
/// connections.
pub fn start(program: &Path, cwd: &Path, args: &[String], port: u16) -> Daemon {
    start_with_env(program, cwd, args, port, &[])
}

/// [`start`] with extra environment variables.
pub fn start_with_env(
    program: &Path,
    cwd: &Path,
    args: &[String],
    port: u16,
    env: &[(&str, &str)],
) -> Daemon {
    let child = Command::new(program)
        .current_dir(cwd)
        .envs(env.iter().copied())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {}: {e}", program.display()));
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut daemon = Daemon { child, addr };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if TcpStream::connect(addr).is_ok() {
            return daemon;
        }
        if let Some(status) = daemon.child.try_wait().unwrap() {
            panic!("{} exited early: {status}", program.display());
        }
        assert!(
            Instant::now() < deadline,
            "{} did not start",
            program.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A plain HTTP/1.0 GET; returns the status code and the body.
pub fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("HTTP response");
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, body.to_owned())
}

/// One metric family of a text exposition: help, type and sample lines.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Family {
    pub help: Option<String>,
    pub kind: Option<String>,
    pub samples: Vec<String>,
}

/// Splits a text exposition into families by name (samples go to the family of the last
/// `# HELP`/`# TYPE`, or to their own name).
pub fn families(text: &str) -> std::collections::BTreeMap<String, Family> {
    let mut out: std::collections::BTreeMap<String, Family> = Default::default();
    let mut current = String::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            current = name.to_owned();
            out.entry(current.clone()).or_default().help = Some(help.to_owned());
        } else if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, ""));
            current = name.to_owned();
            out.entry(current.clone()).or_default().kind = Some(kind.to_owned());
        } else if !line.starts_with('#') {
            let name = line.split(['{', ' ']).next().unwrap_or_default();
            let key = if name.starts_with(current.as_str()) && !current.is_empty() {
                current.clone()
            } else {
                name.to_owned()
            };
            out.entry(key).or_default().samples.push(line.to_owned());
        }
    }
    out
}
