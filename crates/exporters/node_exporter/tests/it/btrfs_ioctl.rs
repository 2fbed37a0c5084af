//! The btrfs collector's ioctl families on a real, loop-mounted Btrfs image: per-device
//! sizes and error counters labelled with the device's UUID, and the same series as Debian's
//! upstream `prometheus-node-exporter` reports for it.
//!
//! Needs `mkfs.btrfs` (btrfs-progs) and permission to loop-mount (root); without either it
//! prints why and passes, since neither is an upstream binary to compare with.

use crate::support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use support::{free_port, get, start};

const UPSTREAM: &str = "/usr/bin/prometheus-node-exporter";
const FS_UUID: &str = "5e0f7c3a-9d1b-4c7e-8a2f-1b3c5d7e9f01";
const IMAGE_BYTES: u64 = 128 << 20;

/// A mounted image; unmounted (and its loop device released) on drop.
struct Mounted {
    dir: tempfile::TempDir,
}

impl Mounted {
    fn mount_point(&self) -> PathBuf {
        self.dir.path().join("mnt")
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.mount_point()).status();
    }
}

/// Makes and mounts the image, or says why it cannot here.
fn mount_image() -> Result<Mounted, String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let image = dir.path().join("btrfs.img");
    std::fs::File::create(&image)
        .and_then(|f| f.set_len(IMAGE_BYTES))
        .map_err(|e| e.to_string())?;
    let mkfs = Command::new("mkfs.btrfs")
        .args(["-q", "-U", FS_UUID, "-L", "pmtest"])
        .arg(&image)
        .output()
        .map_err(|e| format!("mkfs.btrfs not runnable ({e}); apt-get install btrfs-progs"))?;
    if !mkfs.status.success() {
        return Err(format!(
            "mkfs.btrfs failed: {}",
            String::from_utf8_lossy(&mkfs.stderr)
        ));
    }
    let mnt = dir.path().join("mnt");
    std::fs::create_dir(&mnt).map_err(|e| e.to_string())?;
    let mount = Command::new("mount")
        .args(["-o", "loop"])
        .arg(&image)
        .arg(&mnt)
        .output()
        .map_err(|e| e.to_string())?;
    if !mount.status.success() {
        return Err(format!(
            "loop mount not permitted: {}",
            String::from_utf8_lossy(&mount.stderr).trim()
        ));
    }
    Ok(Mounted { dir })
}

/// The btrfs sample lines of our filesystem, without their values.
fn series(program: &Path) -> BTreeSet<String> {
    let port = free_port();
    let args = [
        format!("--web.listen-address=127.0.0.1:{port}"),
        "--collector.disable-defaults".into(),
        "--collector.btrfs".into(),
    ];
    let daemon = start(program, &std::env::temp_dir(), &args, port);
    let (status, body) = get(daemon.addr, "/metrics");
    assert_eq!(status, 200, "{}: {body}", program.display());
    body.lines()
        .filter(|l| l.starts_with("node_btrfs_") && l.contains(FS_UUID))
        .map(|l| l.rsplit_once(' ').map_or(l, |(s, _)| s).to_owned())
        .collect()
}

#[test]
fn ioctl_device_families_on_a_mounted_image() {
    let mounted = match mount_image() {
        Ok(m) => m,
        Err(reason) => {
            eprintln!("SKIP ioctl_device_families_on_a_mounted_image: {reason}");
            return;
        }
    };
    let ours = series(Path::new(env!("CARGO_BIN_EXE_node_exporter")));
    let errors: Vec<_> = ours
        .iter()
        .filter(|s| s.starts_with("node_btrfs_device_errors_total{"))
        .collect();
    assert_eq!(errors.len(), 5, "{ours:#?}");
    for kind in ["write", "read", "flush", "corruption", "generation"] {
        assert!(
            errors
                .iter()
                .any(|s| s.contains(&format!("type=\"{kind}\""))
                    && s.contains("btrfs_dev_uuid=\"")
                    && s.contains("device=\"loop")),
            "{kind}: {errors:#?}"
        );
    }
    for family in [
        "node_btrfs_device_size_bytes{",
        "node_btrfs_device_unused_bytes{",
    ] {
        assert!(
            ours.iter()
                .any(|s| s.starts_with(family) && s.contains("btrfs_dev_uuid=\"")),
            "{family}: {ours:#?}"
        );
    }
    assert!(
        ours.contains(&format!(
            "node_btrfs_info{{label=\"pmtest\",uuid=\"{FS_UUID}\"}}"
        )),
        "{ours:#?}"
    );

    if !Path::new(UPSTREAM).exists() {
        assert!(
            std::env::var_os("PM_REQUIRE_UPSTREAM").is_none(),
            "{UPSTREAM} missing and PM_REQUIRE_UPSTREAM is set"
        );
        eprintln!("SKIP upstream comparison: {UPSTREAM} not installed");
        return;
    }
    // Debian's 1.5 predates the commit statistics families (`node_btrfs_commit*`); everything
    // else, the ioctl series included, must be the same.
    let without_commits = |s: &BTreeSet<String>| -> BTreeSet<String> {
        s.iter()
            .filter(|l| !l.contains("_commit"))
            .cloned()
            .collect()
    };
    assert_eq!(
        without_commits(&ours),
        without_commits(&series(Path::new(UPSTREAM)))
    );
    drop(mounted);
}
