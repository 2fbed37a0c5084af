//! Every upstream config fixture gets upstream's verdict (see shared/testdata/README.md).

use std::path::{Path, PathBuf};

use pm_alertmanager::config::Config;

const GOOD: [&str; 20] = [
    "conf.good.yml",
    "conf.empty-fields.yml",
    "conf.group-by-all.yml",
    "conf.http-config.good.yml",
    "conf.mattermost-default-webhook-url.yml",
    "conf.mattermost-default-webhook-url-file.yml",
    "conf.opsgenie-default-apikey.yml",
    "conf.opsgenie-default-apikey-file.yml",
    "conf.rocketchat-default-token.yml",
    "conf.rocketchat-default-token-file.yml",
    "conf.slack-default-api-url-file.yml",
    "conf.slack-default-app-token.yml",
    "conf.smtp-no-username-or-password.yml",
    "conf.smtp-password-global-and-local.yml",
    "conf.sns-topic-arn.yml",
    "conf.telegram-default-bot-token.yml",
    "conf.telegram-default-bot-token-file.yml",
    "conf.victorops-default-apikey.yml",
    "conf.victorops-default-apikey-file.yml",
    "conf.wechat-default-api-secret-file.yml",
];

fn fixture_dir(sub: &str) -> PathBuf {
    let dir = pm_testsupport::testdata("alertmanager").join(sub);
    assert!(
        dir.is_dir(),
        "fixtures missing: {} (the shared testdata tree must sit beside the repository)",
        dir.display()
    );
    dir
}

fn yml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    files
}

#[test]
fn config_fixtures_get_upstreams_verdict() {
    let files = yml_files(&fixture_dir("config"));
    assert_eq!(files.len(), 46, "expected upstream's 46 config fixtures");
    let mut wrong = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_str().unwrap();
        let result = Config::load_file(path);
        match (GOOD.contains(&name), &result) {
            (true, Err(err)) => wrong.push(format!("{name}: refused: {err}")),
            (false, Ok(_)) => wrong.push(format!("{name}: accepted but upstream refuses it")),
            _ => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn nil_regex_errors_name_the_label() {
    let dir = fixture_dir("config");
    for (file, label) in [
        ("conf.nil-match_re-route.yml", "invalid_label"),
        (
            "conf.nil-source_match_re-inhibition.yml",
            "invalid_source_label",
        ),
        (
            "conf.nil-target_match_re-inhibition.yml",
            "invalid_target_label",
        ),
    ] {
        let err = Config::load_file(dir.join(file)).unwrap_err().to_string();
        assert!(err.contains(label), "{file}: {err}");
        assert!(err.contains(file), "error should name the file: {err}");
    }
}

#[test]
fn examples_and_amtool_configs_load() {
    for path in yml_files(&fixture_dir("examples")) {
        Config::load_file(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    let dir = fixture_dir("amtool/conf");
    for name in [
        "conf.good.yml",
        "conf.routing.yml",
        "conf.routing-reverted.yml",
    ] {
        Config::load_file(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    assert!(Config::load_file(dir.join("conf.bad.yml")).is_err());
}

#[test]
fn secrets_are_hidden_in_the_dump() {
    let cfg = Config::load_file(fixture_dir("config").join("conf.good.yml")).unwrap();
    let dump = cfg.to_redacted_yaml();
    assert!(!dump.contains("mysecret"), "{dump}");
    assert!(dump.contains("<secret>"), "{dump}");
    assert!(dump.contains("team-X+alerts@example.org"), "{dump}");
}
