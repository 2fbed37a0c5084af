//! Our `amtool`'s remote commands (`alert`, `silence`, `config show`) against Debian's
//! upstream `amtool` 0.25: both talk to the same Alertmanager (ours, and Debian's when
//! installed), so what they print must be the same, byte for byte, once silence IDs are
//! masked. Errors are compared by their `amtool: error:` line (the version warning differs,
//! since each tool compares the server with its own version).

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use pm_testsupport::Daemon;
use regex::Regex;

const UPSTREAM_AMTOOL: &str = "/usr/bin/amtool";
const UPSTREAM_AM: &str = "/usr/bin/prometheus-alertmanager";
const OURS: &str = env!("CARGO_BIN_EXE_amtool");

const CONFIG: &str = r#"
route:
  receiver: default
  group_by: [alertname]
  routes:
    - receiver: team
      matchers: [team="a"]
receivers:
  - name: default
  - name: team
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [alertname]
"#;

fn start(binary: &str, dir: &Path) -> (Daemon, String) {
    std::fs::write(dir.join("alertmanager.yml"), CONFIG).unwrap();
    let port = pm_testsupport::free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut cmd = Command::new(binary);
    cmd.arg(format!("--web.listen-address={addr}"))
        .arg(format!(
            "--config.file={}",
            dir.join("alertmanager.yml").display()
        ))
        .arg(format!("--storage.path={}", dir.join("data").display()))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let daemon = Daemon::spawn(&mut cmd, addr, Duration::from_secs(20));
    // Listening is not yet serving the API: wait until amtool gets an answer.
    for _ in 0..200 {
        if amtool(OURS, &format!("http://{addr}"), &["config", "show"])
            .status
            .success()
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    (daemon, format!("http://{addr}"))
}

fn amtool(bin: &str, url: &str, args: &[&str]) -> Output {
    Command::new(bin)
        .arg(format!("--alertmanager.url={url}"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {bin}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The `amtool: error:` line, without the warnings printed before it.
fn error_line(out: &Output) -> String {
    text(&out.stderr)
        .lines()
        .filter(|l| !l.starts_with("Warning: "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs both tools with the same arguments and requires the same output and exit code.
fn same(url: &str, args: &[&str]) -> String {
    let (ours, theirs) = (amtool(OURS, url, args), amtool(UPSTREAM_AMTOOL, url, args));
    assert_eq!(
        text(&ours.stdout),
        text(&theirs.stdout),
        "stdout differs for {args:?}"
    );
    assert_eq!(
        error_line(&ours),
        error_line(&theirs),
        "stderr for {args:?}"
    );
    assert_eq!(
        ours.status.code(),
        theirs.status.code(),
        "exit for {args:?}"
    );
    text(&ours.stdout)
}

/// As `same`, for tables whose rows may tie on the sort key: upstream's server lists tied
/// silences in no fixed order, so rows are compared as a set below the same header.
fn same_rows(url: &str, args: &[&str]) {
    let rows = |bin: &str| {
        let out = ok(amtool(bin, url, args));
        let mut lines: Vec<String> = out.lines().map(str::to_owned).collect();
        lines[1..].sort();
        lines
    };
    assert_eq!(
        rows(OURS),
        rows(UPSTREAM_AMTOOL),
        "rows differ for {args:?}"
    );
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "failed: {}", text(&out.stderr));
    text(&out.stdout)
}

/// `upstream_server`: the daemon is Debian's 0.25. Ours reports its running config in the
/// current upstream schema (fields 0.25 does not know, such as `smtp_tls_config` and
/// receiver `labels`), which 0.25's amtool refuses to parse for `config routes`; that pair
/// is compared only against its own server, and ours is checked for the tree it prints.
fn session(server: &str, upstream_server: bool) {
    let dir = tempfile::tempdir().unwrap();
    let (_daemon, url) = start(server, dir.path());
    let url = url.as_str();

    // Alerts added by either tool look the same to both.
    ok(amtool(
        OURS,
        url,
        &[
            "alert",
            "add",
            "HighCPU",
            "team=a",
            "severity=warning",
            "--annotation=summary=CPU <hot> & busy",
            "--generator-url=http://gen/x",
        ],
    ));
    ok(amtool(
        UPSTREAM_AMTOOL,
        url,
        &[
            "alert",
            "add",
            "alertname=HighCPU",
            "team=a",
            "severity=critical",
        ],
    ));
    ok(amtool(
        OURS,
        url,
        &[
            "alert",
            "add",
            "DiskFull",
            "--start=2026-01-02T03:04:05Z",
            "--end=2099-01-01T00:00:00+02:00",
        ],
    ));
    for args in [
        &["alert"][..],
        &["alert", "query"],
        &["alert", "query", "-o", "extended"],
        &["alert", "query", "-o", "json"],
        &["alert", "query", "HighCPU"],
        &["alert", "query", "severity=~warn.*"],
        &["alert", "query", "-i"],
        &["alert", "query", "--inhibited", "--active"],
        &["alert", "query", "--receiver=team"],
        &["alert", "query", "--date.format=2006/01/02"],
        &["alert", "query", "foo=~("],
    ] {
        same(url, args);
    }
    // The warning is inhibited by the critical alert of the same name: only `-i` lists it.
    let listed = same(url, &["alert", "query", "-o", "extended", "-i", "-a"]);
    assert!(listed.contains("summary=\"CPU <hot> & busy\""), "{listed}");
    assert!(listed.contains("2026-01-02 03:04:05 UTC"), "{listed}");

    // Silences: added by either, listed alike.
    let ours_id = ok(amtool(
        OURS,
        url,
        &[
            "silence",
            "add",
            "HighCPU",
            "-c",
            "maintenance",
            "-a",
            "ops",
            "-d",
            "2h",
        ],
    ));
    let theirs_id = ok(amtool(
        UPSTREAM_AMTOOL,
        url,
        &[
            "silence",
            "add",
            "instance=~web.*",
            "-c",
            "deploy",
            "--author=dev",
            "--end=2099-01-01T00:00:00Z",
        ],
    ));
    let (ours_id, theirs_id) = (ours_id.trim(), theirs_id.trim());
    assert!(
        Regex::new("^[0-9a-f-]{36}$").unwrap().is_match(ours_id),
        "{ours_id}"
    );
    for args in [
        &["silence"][..],
        &["silence", "query"],
        &["silence", "query", "-q"],
        &["silence", "query", "-o", "extended"],
        &["silence", "query", "-o", "json"],
        &["silence", "query", "HighCPU"],
        &["silence", "query", "--within", "3h"],
        &["silence", "query", "--created-by", "dev"],
        &["alert", "query", "-s"],
        &["silence", "add", "x=y"],
        &[
            "silence",
            "add",
            "-c",
            "c",
            "--start=2099-01-01T00:00:00Z",
            "--end=2098-01-01T00:00:00Z",
            "x=y",
        ],
        &["silence", "add", "-c", "c", "-d", "0s", "x=y"],
        &["silence", "add", "-c", "c"],
        &["silence", "expire"],
        &["silence", "expire", "00000000-0000-0000-0000-000000000000"],
        &[
            "silence",
            "update",
            "00000000-0000-0000-0000-000000000000",
            "-c",
            "x",
        ],
        &["config", "show"],
        &["config", "show", "-o", "json"],
    ] {
        same(url, args);
    }
    if upstream_server {
        same(url, &["config", "routes"]);
        same(url, &["config", "routes", "test", "team=a"]);
    } else {
        assert_eq!(
            ok(amtool(OURS, url, &["config", "routes"])),
            "Routing tree:\n.\n└── default-route  receiver: default\n    └── {team=\"a\"}  receiver: team\n\n"
        );
        assert_eq!(
            ok(amtool(OURS, url, &["config", "routes", "test", "team=a"])),
            "team\n"
        );
    }

    // Update keeps the ID of an active silence whose matchers stay.
    let updated = ok(amtool(
        OURS,
        url,
        &["silence", "update", ours_id, "-c", "longer", "-d", "3h"],
    ));
    assert!(
        updated.contains(ours_id) && updated.contains("longer"),
        "{updated}"
    );
    same(url, &["silence", "query", "-o", "extended"]);
    // Exported while active, so that importing them later creates new silences.
    let exported = same(url, &["silence", "query", "-o", "json"]);

    // Expire both, one with each tool; then the expired view.
    ok(amtool(OURS, url, &["silence", "expire", theirs_id]));
    ok(amtool(
        UPSTREAM_AMTOOL,
        url,
        &["silence", "expire", ours_id],
    ));
    same(url, &["silence", "query"]);
    same(url, &["silence", "query", "--expired"]);
    same(
        url,
        &[
            "silence",
            "query",
            "--expired",
            "--within",
            "1h",
            "-o",
            "json",
        ],
    );

    // Import what `query -o json` wrote: --force makes new silences of the expired ones.
    let file = dir.path().join("silences.json");
    std::fs::write(&file, &exported).unwrap();
    let imported = ok(amtool(
        OURS,
        url,
        &[
            "silence",
            "import",
            "--force",
            "-w",
            "1",
            file.to_str().unwrap(),
        ],
    ));
    assert_eq!(imported.lines().count(), 2, "{imported}");
    let theirs = ok(amtool(
        UPSTREAM_AMTOOL,
        url,
        &["silence", "import", "--force", file.to_str().unwrap()],
    ));
    assert_eq!(theirs.lines().count(), 2, "{theirs}");
    same_rows(url, &["silence", "query", "-o", "extended"]);
    // Silences whose end has passed are refused one by one, then counted.
    let expired = same(url, &["silence", "query", "--expired", "-o", "json"]);
    std::fs::write(&file, &expired).unwrap();
    let args = ["silence", "import", "--force", file.to_str().unwrap()];
    let (ours, theirs) = (
        amtool(OURS, url, &args),
        amtool(UPSTREAM_AMTOOL, url, &args),
    );
    assert_eq!(ours.status.code(), Some(1));
    assert_eq!(text(&ours.stdout), text(&theirs.stdout));
    // Upstream counts the failures in a goroutine it does not wait for, so its final line
    // (and exit code) may undercount; the per-silence lines are what must agree.
    let refusals = |out: &Output| -> Vec<String> {
        error_line(out)
            .lines()
            .filter(|l| l.starts_with("Error adding silence"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(refusals(&ours), refusals(&theirs));
    assert_eq!(refusals(&ours).len(), 2, "{}", error_line(&ours));
    assert!(
        error_line(&ours)
            .trim_end()
            .ends_with("amtool: error: couldn't import 2 out of 2 silences"),
        "{}",
        error_line(&ours)
    );
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "not json").unwrap();
    let out = amtool(OURS, url, &["silence", "import", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        error_line(&out).starts_with("amtool: error: couldn't unmarshal input data, is it JSON?"),
        "{}",
        error_line(&out)
    );
}

#[test]
fn remote_commands_match_upstream_against_our_alertmanager() {
    if !pm_testsupport::upstream_binary(UPSTREAM_AMTOOL) {
        return;
    }
    session(env!("CARGO_BIN_EXE_alertmanager"), false);
}

#[test]
fn remote_commands_match_upstream_against_upstream_alertmanager() {
    if !pm_testsupport::upstream_binary(UPSTREAM_AMTOOL)
        || !pm_testsupport::upstream_binary(UPSTREAM_AM)
    {
        return;
    }
    session(UPSTREAM_AM, true);
}

#[test]
fn without_url_remote_commands_fail_as_upstream() {
    let out = Command::new(OURS)
        .args(["silence", "query"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stderr),
        "amtool: error: required flag --alertmanager.url not provided\n\n"
    );
}
