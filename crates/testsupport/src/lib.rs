//! What the workspace's end-to-end tests share: a free loopback port, a daemon that is killed
//! when the test ends however it ends, and one rule for tests that compare with an upstream
//! binary or need an outside tool.
//!
//! The rule: when the tool is missing, a test prints a `SKIP:` line and passes — unless
//! `PM_REQUIRE_UPSTREAM` is set (CI sets it through `scripts/test.sh`), in which case it fails.
//! A compatibility test that silently skips in CI would prove nothing.

mod socks5;

pub use socks5::Socks5Proxy;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The environment variable that turns a missing upstream binary or tool into a failure.
pub const REQUIRE_UPSTREAM: &str = "PM_REQUIRE_UPSTREAM";

/// A loopback port that was free a moment ago (for TCP and UDP), for a daemon to bind.
///
/// Ports come from below the kernel's ephemeral range: a port the kernel handed out for
/// port 0 is also what it hands out as the source port of outgoing connections, and with
/// many tests connecting in parallel one of them would take it before the daemon binds it.
/// Each process starts at its own pseudo-random offset and walks on, so parallel test
/// binaries rarely try the same port, and a port that is taken is skipped.
pub fn free_port() -> u16 {
    use std::hash::{BuildHasher, RandomState};
    use std::net::UdpSocket;
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicU32, Ordering};

    static NEXT: OnceLock<AtomicU32> = OnceLock::new();
    let (low, high) = (10_000u32, ephemeral_low().max(10_001));
    let span = high - low;
    let next = NEXT.get_or_init(|| {
        let seed = RandomState::new().hash_one(std::process::id());
        AtomicU32::new((seed % u64::from(span)) as u32)
    });
    for _ in 0..span {
        let port = (low + next.fetch_add(1, Ordering::Relaxed) % span) as u16;
        let free = TcpListener::bind(("127.0.0.1", port)).is_ok()
            && UdpSocket::bind(("127.0.0.1", port)).is_ok();
        if free {
            return port;
        }
    }
    panic!("no free loopback port in {low}..{high}");
}

/// The first port of the kernel's ephemeral range (Linux's default when unreadable).
fn ephemeral_low() -> u32 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768)
}

/// Whether an outside tool the test needs is there; `what` names it in the skip line or the
/// failure. Fails the test when it is missing and [`REQUIRE_UPSTREAM`] is set.
pub fn available(what: &str, present: bool) -> bool {
    if present {
        return true;
    }
    assert!(
        std::env::var_os(REQUIRE_UPSTREAM).is_none(),
        "{what} is missing and {REQUIRE_UPSTREAM} is set"
    );
    println!("SKIP: {what} is not installed");
    false
}

/// [`available`] for a binary at a fixed path, e.g. Debian's `/usr/bin/prometheus-pushgateway`.
pub fn upstream_binary(path: &str) -> bool {
    available(path, Path::new(path).exists())
}

/// A path inside the shared conformance data (`shared/testdata/`, which sits beside the
/// repository: `../shared` from its root), e.g. `testdata("promql")`. Fails the test with
/// the path when it is missing, since a conformance test over no fixtures would prove nothing.
pub fn testdata(relative: &str) -> PathBuf {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata"
    ))
    .join(relative);
    assert!(
        path.exists(),
        "fixture missing: {} (the shared testdata must sit beside the repository; see its README.md)",
        path.display()
    );
    path
}

/// What a finished command left: its exit code and its output as text.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `bin` with `args` in `dir` and waits for it. Panics if it cannot start or is killed by
/// a signal: a test comparing outcomes wants an exit code.
pub fn run(bin: &str, args: &[&str], dir: &Path) -> Run {
    run_with_stdin(bin, args, dir, b"")
}

/// [`run`], feeding the command `stdin`.
pub fn run_with_stdin(bin: &str, args: &[&str], dir: &Path, stdin: &[u8]) -> Run {
    use std::io::Write;

    let mut child = Command::new(bin)
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("starting {bin}: {err}"));
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(stdin)
        .unwrap_or_else(|err| panic!("writing to {bin}: {err}"));
    let out = child.wait_with_output().expect("waiting for the command");
    Run {
        code: out.status.code().expect("exited by signal"),
        stdout: String::from_utf8(out.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("UTF-8 stderr"),
    }
}

/// [`run`] that must succeed; returns its standard output.
pub fn run_ok(bin: &str, args: &[&str], dir: &Path) -> String {
    let out = run(bin, args, dir);
    assert_eq!(out.code, 0, "{bin} {args:?}: {}", out.stderr);
    out.stdout
}

/// A child process killed (and reaped) on drop, so a failing assertion never leaks a daemon.
#[derive(Debug)]
pub struct Daemon {
    child: Child,
    /// Where the daemon listens.
    pub addr: SocketAddr,
}

impl Daemon {
    /// Spawns `cmd` (with stdout and stderr discarded unless the caller set them) and waits,
    /// at most `timeout`, until `addr` accepts TCP connections. Panics if the process exits
    /// first or the deadline passes.
    pub fn spawn(cmd: &mut Command, addr: SocketAddr, timeout: Duration) -> Daemon {
        let program = format!("{:?}", cmd.get_program());
        let child = cmd
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {program}: {e}"));
        let mut daemon = Daemon { child, addr };
        let deadline = Instant::now() + timeout;
        loop {
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return daemon;
            }
            if let Some(status) = daemon.child.try_wait().expect("polling the child") {
                panic!("{program} exited before listening on {addr}: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "{program} did not listen on {addr} within {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `signal` (`TERM`, `HUP`, …) to the process. Panics if it cannot be sent.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status();
        assert!(
            sent.as_ref().is_ok_and(ExitStatus::success),
            "kill -{signal} {pid}: {sent:?}"
        );
    }

    /// Waits at most `timeout` for the process to exit. Panics at the deadline.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("polling the child") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "process {} did not exit within {timeout:?}",
                self.child.id()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM (what an init system sends, so the daemon flushes what it must), then
    /// [`wait_exit`](Self::wait_exit).
    pub fn terminate(&mut self, timeout: Duration) -> ExitStatus {
        self.signal("TERM");
        self.wait_exit(timeout)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_are_bindable() {
        let port = free_port();
        assert!(
            u32::from(port) < ephemeral_low(),
            "{port} is an ephemeral port"
        );
        TcpListener::bind(("127.0.0.1", port)).expect("port is free");
        assert_ne!(free_port(), port, "the same port twice in a row");
    }

    #[test]
    fn present_tool_is_available() {
        assert!(available("a tool", true));
    }

    #[test]
    fn daemon_waits_for_the_listener_and_is_killed_on_drop() {
        let port = free_port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let script = format!(
            "import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',{port}))\ns.listen()\ntime.sleep(30)"
        );
        let daemon = Daemon::spawn(
            Command::new("python3").args(["-c", &script]),
            addr,
            Duration::from_secs(10),
        );
        let pid = daemon.child.id();
        assert_eq!(daemon.addr, addr);
        drop(daemon);
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "child {pid} still exists after drop"
        );
    }

    #[test]
    fn terminate_delivers_sigterm_and_reports_the_exit() {
        let port = free_port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let script = format!(
            "import signal,socket,sys,time\nsignal.signal(signal.SIGTERM, lambda *_: sys.exit(3))\ns=socket.socket()\ns.bind(('127.0.0.1',{port}))\ns.listen()\ntime.sleep(30)"
        );
        let mut daemon = Daemon::spawn(
            Command::new("python3").args(["-c", &script]),
            addr,
            Duration::from_secs(10),
        );
        assert_eq!(daemon.terminate(Duration::from_secs(10)).code(), Some(3));
    }

    #[test]
    #[should_panic(expected = "exited before listening")]
    fn daemon_that_exits_early_fails() {
        let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        Daemon::spawn(&mut Command::new("true"), addr, Duration::from_secs(10));
    }
}
