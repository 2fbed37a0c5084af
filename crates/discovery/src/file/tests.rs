use std::path::Path;
use std::sync::Arc;

use super::*;
use crate::testutil::{Recorder, addresses, context, sample};

/// Replaces `name` in `dir` at once, so that the watcher never sees a half-written file.
fn write(dir: &Path, name: &str, text: &str) {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, dir.join(name)).unwrap();
}

#[tokio::test]
async fn reads_json_and_yaml_and_follows_changes_through_the_watcher() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().to_str().unwrap().to_owned();
    write(
        dir.path(),
        "a.json",
        r#"[{"targets":["a1:9100","a2:9100"],"labels":{"env":"prod"}},{"targets":["a3:9100"]}]"#,
    );
    write(
        dir.path(),
        "b.yml",
        "- targets: [b1:80]\n  labels: {team: x}\n",
    );
    let config = FileSdConfig {
        files: vec![format!("{base}/*.json"), format!("{base}/b.yml")],
        // Long enough that only the watcher can explain a re-read during the test.
        refresh_interval: pm_common::config::Duration::from_secs(3600),
    };
    let (ctx, registry) = context("job");
    let recorder = Arc::new(Recorder::default());
    let task = tokio::spawn(Discovery::new(&config, ctx).run(recorder.updates()));

    let a = format!("{base}/a.json");
    let b = format!("{base}/b.yml");
    let state = recorder.wait_for("the first read", |s| s.len() == 3).await;
    let first = &state[&format!("{a}:0")];
    assert_eq!(addresses(first), ["a1:9100", "a2:9100"]);
    assert_eq!(first.labels.get("env"), Some("prod"));
    assert_eq!(first.labels.get(FILEPATH_LABEL), Some(a.as_str()));
    assert_eq!(addresses(&state[&format!("{a}:1")]), ["a3:9100"]);
    let yaml = &state[&format!("{b}:0")];
    assert_eq!(
        (yaml.labels.get("team"), yaml.labels.get(FILEPATH_LABEL)),
        (Some("x"), Some(b.as_str()))
    );

    // A shrunk file withdraws the group that went away.
    write(dir.path(), "a.json", r#"[{"targets":["a9:1"]}]"#);
    recorder
        .wait_for("the second group withdrawn", |s| {
            s[&format!("{a}:1")].targets.is_empty() && addresses(&s[&format!("{a}:0")]) == ["a9:1"]
        })
        .await;

    // A broken file keeps its last good groups and counts a read error.
    write(dir.path(), "b.yml", "- targets: [unclosed\n");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while sample(&registry, "prometheus_sd_file_read_errors_total") == Some(0.0) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no read error counted"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(addresses(&recorder.merged()[&format!("{b}:0")]), ["b1:80"]);

    // A new file matching the glob is picked up; a deleted one is withdrawn.
    write(dir.path(), "c.json", r#"[{"targets":["c1:1"]}]"#);
    std::fs::remove_file(dir.path().join("b.yml")).unwrap();
    let c = format!("{base}/c.json");
    recorder
        .wait_for("c.json read and b.yml withdrawn", |s| {
            s.get(&format!("{c}:0"))
                .is_some_and(|g| addresses(g) == ["c1:1"])
                && s[&format!("{b}:0")].targets.is_empty()
        })
        .await;
    task.abort();
}

#[tokio::test]
async fn refresh_interval_rereads_without_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.json");
    std::fs::write(&path, r#"[{"targets":["x:1"]}]"#).unwrap();
    let config = FileSdConfig {
        files: vec![path.to_str().unwrap().to_owned()],
        refresh_interval: pm_common::config::Duration::from_millis(50),
    };
    let (ctx, registry) = context("job");
    let recorder = Arc::new(Recorder::default());
    let task = tokio::spawn(Discovery::new(&config, ctx).run(recorder.updates()));
    // Every refresh reports the file again, so updates keep coming with nothing changed.
    recorder.wait_for("a read", |s| s.len() == 1).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while recorder.count() < 3 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no periodic re-read"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let mtime = format!(
        "prometheus_sd_file_mtime_seconds{{filename=\"{}\"}}",
        path.display()
    );
    assert!(sample(&registry, &mtime).is_some_and(|v| v > 0.0));
    task.abort();
}
