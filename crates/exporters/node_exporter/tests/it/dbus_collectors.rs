//! The systemd and logind collectors end to end: a private `dbus-daemon`, mock
//! org.freedesktop.systemd1 and org.freedesktop.login1 services on it (served by this test),
//! and our binary pointed at that bus through `DBUS_SYSTEM_BUS_ADDRESS`; then Debian's upstream
//! on the same bus, whose systemd/logind families must equal ours.

use crate::support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use support::{families, free_port, get, start_with_env};
use zbus::connection::Builder;
use zbus::interface;
use zbus::zvariant::OwnedObjectPath;

const DBUS_DAEMON: &str = "/usr/bin/dbus-daemon";
const UPSTREAM: &str = "/usr/bin/prometheus-node-exporter";

/// A bus daemon on a socket in a temporary directory, killed on drop.
struct BusDaemon {
    child: Child,
    address: String,
}

impl Drop for BusDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl BusDaemon {
    /// Starts the daemon; it is ready once it prints its address.
    fn start(dir: &Path) -> Self {
        let config = dir.join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <listen>unix:path={}/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
</busconfig>
"#,
                dir.display()
            ),
        )
        .unwrap();
        let mut child = Command::new(DBUS_DAEMON)
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start dbus-daemon");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line.trim().to_owned();
        assert!(address.starts_with("unix:"), "dbus-daemon printed {line:?}");
        Self { child, address }
    }
}

type UnitRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    OwnedObjectPath,
    u32,
    String,
    OwnedObjectPath,
);

fn path(p: &str) -> OwnedObjectPath {
    OwnedObjectPath::try_from(p).unwrap()
}

fn unit_row(name: &str, escaped: &str, load: &str, active: &str) -> UnitRow {
    (
        name.into(),
        String::new(),
        load.into(),
        active.into(),
        "running".into(),
        String::new(),
        path(&format!("/org/freedesktop/systemd1/unit/{escaped}")),
        0,
        String::new(),
        path("/"),
    )
}

struct Manager;

#[interface(name = "org.freedesktop.systemd1.Manager")]
impl Manager {
    fn list_units(&self) -> Vec<UnitRow> {
        vec![
            unit_row("ssh.service", "ssh_2eservice", "loaded", "active"),
            unit_row("cron.service", "cron_2eservice", "loaded", "failed"),
            unit_row("gone.service", "gone_2eservice", "not-found", "inactive"),
            unit_row("home.mount", "home_2emount", "loaded", "active"),
            unit_row("sshd.socket", "sshd_2esocket", "loaded", "active"),
            unit_row("apt.timer", "apt_2etimer", "loaded", "active"),
        ]
    }
    #[zbus(property)]
    fn version(&self) -> String {
        "252.19-1~deb12u1".into()
    }
    #[zbus(property)]
    fn virtualization(&self) -> String {
        "kvm".into()
    }
    #[zbus(property)]
    fn system_state(&self) -> String {
        "degraded".into()
    }
}

struct Service {
    kind: &'static str,
    restarts: u32,
    tasks_current: u64,
    tasks_max: u64,
}

#[interface(name = "org.freedesktop.systemd1.Service")]
impl Service {
    #[zbus(property, name = "Type")]
    fn kind(&self) -> String {
        self.kind.into()
    }
    #[zbus(property, name = "NRestarts")]
    fn restarts(&self) -> u32 {
        self.restarts
    }
    #[zbus(property, name = "TasksCurrent")]
    fn tasks_current(&self) -> u64 {
        self.tasks_current
    }
    #[zbus(property, name = "TasksMax")]
    fn tasks_max(&self) -> u64 {
        self.tasks_max
    }
}

struct UnitIface;

#[interface(name = "org.freedesktop.systemd1.Unit")]
impl UnitIface {
    #[zbus(property)]
    fn active_enter_timestamp(&self) -> u64 {
        1_700_000_000_500_000
    }
}

struct Socket;

#[interface(name = "org.freedesktop.systemd1.Socket")]
impl Socket {
    #[zbus(property, name = "NAccepted")]
    fn accepted(&self) -> u32 {
        10
    }
    #[zbus(property, name = "NConnections")]
    fn connections(&self) -> u32 {
        2
    }
    #[zbus(property, name = "NRefused")]
    fn refused(&self) -> u32 {
        1
    }
}

struct Timer;

#[interface(name = "org.freedesktop.systemd1.Timer")]
impl Timer {
    #[zbus(property, name = "LastTriggerUSec")]
    fn last_trigger(&self) -> u64 {
        1_600_000_000_000_000
    }
}

struct Login;

#[interface(name = "org.freedesktop.login1.Manager")]
impl Login {
    fn list_seats(&self) -> Vec<(String, OwnedObjectPath)> {
        vec![("seat0".into(), path("/org/freedesktop/login1/seat/seat0"))]
    }
    fn list_sessions(&self) -> Vec<(String, u32, String, String, OwnedObjectPath)> {
        (1..=4)
            .map(|i| {
                let seat = if i == 1 { "seat0" } else { "" };
                (
                    i.to_string(),
                    1000,
                    "user".to_owned(),
                    seat.to_owned(),
                    path(&format!("/org/freedesktop/login1/session/_3{i}")),
                )
            })
            .collect()
    }
}

struct Session {
    remote: bool,
    kind: &'static str,
    class: &'static str,
}

#[interface(name = "org.freedesktop.login1.Session")]
impl Session {
    #[zbus(property)]
    fn remote(&self) -> bool {
        self.remote
    }
    #[zbus(property, name = "Type")]
    fn kind(&self) -> String {
        self.kind.into()
    }
    #[zbus(property)]
    fn class(&self) -> String {
        self.class.into()
    }
}

/// Serves both mock services; the connections serve as long as they are kept.
async fn serve(address: &str) -> zbus::Result<Vec<zbus::Connection>> {
    let unit = |name: &str| format!("/org/freedesktop/systemd1/unit/{name}");
    let systemd = Builder::address(address)?
        .name("org.freedesktop.systemd1")?
        .serve_at("/org/freedesktop/systemd1", Manager)?
        .serve_at(
            unit("ssh_2eservice"),
            Service {
                kind: "notify",
                restarts: 3,
                tasks_current: 5,
                tasks_max: u64::MAX,
            },
        )?
        .serve_at(unit("ssh_2eservice"), UnitIface)?
        .serve_at(
            unit("cron_2eservice"),
            Service {
                kind: "simple",
                restarts: 0,
                tasks_current: u64::MAX,
                tasks_max: 100,
            },
        )?
        .serve_at(unit("sshd_2esocket"), Socket)?
        .serve_at(unit("apt_2etimer"), Timer)?
        .build()
        .await?;
    let sessions = [
        (false, "x11", "user"),
        (true, "tty", "user"),
        (true, "tty", "user"),
        (true, "weird", "manager"),
    ];
    let mut login = Builder::address(address)?
        .name("org.freedesktop.login1")?
        .serve_at("/org/freedesktop/login1", Login)?;
    for (i, (remote, kind, class)) in sessions.into_iter().enumerate() {
        login = login.serve_at(
            format!("/org/freedesktop/login1/session/_3{}", i + 1),
            Session {
                remote,
                kind,
                class,
            },
        )?;
    }
    Ok(vec![systemd, login.build().await?])
}

fn samples(text: &str, family: &str) -> Vec<String> {
    let mut s = families(text)
        .get(family)
        .unwrap_or_else(|| panic!("family {family} missing from:\n{text}"))
        .samples
        .clone();
    s.sort();
    s
}

/// Both D-Bus collectors with every option on, one scrape of `program` on `bus`.
fn scrape(program: &Path, dir: &Path, bus: &str) -> String {
    let port = free_port();
    let args: Vec<String> = [
        "--collector.disable-defaults",
        "--collector.systemd",
        "--collector.logind",
        "--collector.systemd.enable-task-metrics",
        "--collector.systemd.enable-restarts-metrics",
        "--collector.systemd.enable-start-time-metrics",
        "--web.disable-exporter-metrics",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("--web.listen-address=127.0.0.1:{port}")])
    .collect();
    let daemon = start_with_env(
        program,
        dir,
        &args,
        port,
        &[("DBUS_SYSTEM_BUS_ADDRESS", bus)],
    );
    let (status, text) = get(daemon.addr, "/metrics");
    assert_eq!(status, 200, "{}: {text}", program.display());
    text
}

#[test]
fn systemd_and_logind_over_a_private_bus() {
    if !Path::new(DBUS_DAEMON).exists() {
        assert!(
            std::env::var_os("PM_REQUIRE_UPSTREAM").is_none(),
            "{DBUS_DAEMON} missing (apt-get install dbus-daemon)"
        );
        println!("skipping: {DBUS_DAEMON} is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bus = BusDaemon::start(dir.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _services = runtime
        .block_on(serve(&bus.address))
        .expect("mock services");

    let text = scrape(
        Path::new(env!("CARGO_BIN_EXE_node_exporter")),
        dir.path(),
        &bus.address,
    );
    assert_eq!(
        samples(&text, "node_scrape_collector_success"),
        [
            r#"node_scrape_collector_success{collector="logind"} 1"#,
            r#"node_scrape_collector_success{collector="systemd"} 1"#,
        ]
    );
    assert_eq!(
        samples(&text, "node_systemd_version"),
        [r#"node_systemd_version{version="252.19-1~deb12u1"} 252.19"#]
    );
    assert_eq!(
        samples(&text, "node_systemd_virtualization_info"),
        [r#"node_systemd_virtualization_info{virtualization_type="kvm"} 1"#]
    );
    assert_eq!(
        samples(&text, "node_systemd_system_running"),
        ["node_systemd_system_running 0"]
    );
    assert_eq!(
        samples(&text, "node_systemd_units"),
        [
            r#"node_systemd_units{state="activating"} 0"#,
            r#"node_systemd_units{state="active"} 4"#,
            r#"node_systemd_units{state="deactivating"} 0"#,
            r#"node_systemd_units{state="failed"} 1"#,
            r#"node_systemd_units{state="inactive"} 1"#,
        ]
    );
    // The mount is excluded by default and the unit that is not loaded is skipped.
    let states = samples(&text, "node_systemd_unit_state");
    assert_eq!(states.len(), 4 * 5, "{states:#?}");
    for line in [
        r#"node_systemd_unit_state{name="ssh.service",state="active",type="notify"} 1"#,
        r#"node_systemd_unit_state{name="cron.service",state="failed",type="simple"} 1"#,
        r#"node_systemd_unit_state{name="cron.service",state="active",type="simple"} 0"#,
        r#"node_systemd_unit_state{name="sshd.socket",state="active",type=""} 1"#,
        r#"node_systemd_unit_state{name="apt.timer",state="active",type=""} 1"#,
    ] {
        assert!(
            states.iter().any(|s| s == line),
            "{line} not in {states:#?}"
        );
    }
    assert_eq!(
        samples(&text, "node_systemd_service_restart_total"),
        [
            r#"node_systemd_service_restart_total{name="cron.service"} 0"#,
            r#"node_systemd_service_restart_total{name="ssh.service"} 3"#,
        ]
    );
    assert_eq!(
        samples(&text, "node_systemd_unit_tasks_current"),
        [r#"node_systemd_unit_tasks_current{name="ssh.service"} 5"#]
    );
    assert_eq!(
        samples(&text, "node_systemd_unit_tasks_max"),
        [r#"node_systemd_unit_tasks_max{name="cron.service"} 100"#]
    );
    // Active units without a readable timestamp are skipped; inactive ones report 0.
    assert_eq!(
        samples(&text, "node_systemd_unit_start_time_seconds"),
        [
            r#"node_systemd_unit_start_time_seconds{name="cron.service"} 0"#,
            r#"node_systemd_unit_start_time_seconds{name="ssh.service"} 1.7000000005e+09"#,
        ]
    );
    assert_eq!(
        samples(&text, "node_systemd_timer_last_trigger_seconds"),
        [r#"node_systemd_timer_last_trigger_seconds{name="apt.timer"} 1.6e+09"#]
    );
    assert_eq!(
        samples(&text, "node_systemd_socket_accepted_connections_total"),
        [r#"node_systemd_socket_accepted_connections_total{name="sshd.socket"} 10"#]
    );
    assert_eq!(
        samples(&text, "node_systemd_socket_current_connections"),
        [r#"node_systemd_socket_current_connections{name="sshd.socket"} 2"#]
    );
    assert_eq!(
        samples(&text, "node_systemd_socket_refused_connections_total"),
        [r#"node_systemd_socket_refused_connections_total{name="sshd.socket"} 1"#]
    );
    assert!(text.contains("# TYPE node_systemd_socket_refused_connections_total gauge"));

    let sessions = samples(&text, "node_logind_sessions");
    assert_eq!(sessions.len(), 2 * 7 * 5 * 2);
    let nonzero: Vec<_> = sessions.iter().filter(|s| !s.ends_with(" 0")).collect();
    assert_eq!(
        nonzero,
        [
            r#"node_logind_sessions{class="other",remote="true",seat="",type="other"} 1"#,
            r#"node_logind_sessions{class="user",remote="false",seat="seat0",type="x11"} 1"#,
            r#"node_logind_sessions{class="user",remote="true",seat="",type="tty"} 2"#,
        ]
    );

    // Debian's upstream on the same bus: every systemd/logind family it exposes, sample for
    // sample, is ours.
    if !Path::new(UPSTREAM).exists() {
        assert!(
            std::env::var_os("PM_REQUIRE_UPSTREAM").is_none(),
            "{UPSTREAM} missing"
        );
        println!("skipping the upstream comparison: {UPSTREAM} is not installed");
        return;
    }
    let upstream = scrape(Path::new(UPSTREAM), dir.path(), &bus.address);
    let ours = families(&text);
    let mut compared = 0;
    for (name, family) in families(&upstream) {
        if !name.starts_with("node_systemd_") && !name.starts_with("node_logind_") {
            continue;
        }
        let mine = ours
            .get(&name)
            .unwrap_or_else(|| panic!("upstream exposes {name}, we do not"));
        let (mut a, mut b) = (mine.samples.clone(), family.samples.clone());
        a.sort();
        b.sort();
        assert_eq!(a, b, "{name}");
        assert_eq!(mine.kind, family.kind, "{name}");
        assert_eq!(mine.help, family.help, "{name}");
        compared += 1;
    }
    assert!(
        compared >= 10,
        "only {compared} families compared:\n{upstream}"
    );
}
