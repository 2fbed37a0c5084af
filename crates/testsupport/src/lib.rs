//! What the workspace's end-to-end tests share: a free loopback port, a daemon that is killed
//! when the test ends however it ends, and one rule for tests that compare with an upstream
//! binary or need an outside tool.
//!
//! The rule: when the tool is missing, a test prints a `SKIP:` line and passes — unless
//! `PM_REQUIRE_UPSTREAM` is set (CI sets it through `scripts/test.sh`), in which case it fails.
//! A compatibility test that silently skips in CI would prove nothing.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable that turns a missing upstream binary or tool into a failure.
pub const REQUIRE_UPSTREAM: &str = "PM_REQUIRE_UPSTREAM";

/// A loopback port that was free a moment ago: bound, then released for the daemon to bind.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("binding an ephemeral loopback port")
        .port()
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

    /// The process id, for signals.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The child, e.g. to wait for its exit after a SIGTERM.
    pub fn child_mut(&mut self) -> &mut Child {
        &mut self.child
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
        assert_ne!(port, 0);
        TcpListener::bind(("127.0.0.1", port)).expect("port is free");
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
        let pid = daemon.pid();
        assert_eq!(daemon.addr, addr);
        drop(daemon);
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "child {pid} still exists after drop"
        );
    }

    #[test]
    #[should_panic(expected = "exited before listening")]
    fn daemon_that_exits_early_fails() {
        let addr: SocketAddr = ([127, 0, 0, 1], free_port()).into();
        Daemon::spawn(&mut Command::new("true"), addr, Duration::from_secs(10));
    }
}
