use super::*;

fn parse(text: &str) -> Result<Config, String> {
    load_str(text, "test.yml").map_err(|err| err.to_string())
}

#[test]
fn empty_and_null_blocks_are_defaults() {
    let cfg = parse("").unwrap();
    assert_eq!(cfg, Config::default());
    assert_eq!(cfg.global.scrape_interval.to_string(), "1m");
    assert_eq!(cfg.global.scrape_timeout.to_string(), "10s");
    assert_eq!(cfg.global.evaluation_interval.to_string(), "1m");
    assert_eq!(cfg.global.metric_name_escaping_scheme, "allow-utf-8");
    let cfg = parse("global:\nstorage:\notlp:\n").unwrap();
    assert_eq!(cfg, Config::default());
}

#[test]
fn jobs_inherit_from_global() {
    let cfg = parse(
        "global:\n  scrape_interval: 5s\n  sample_limit: 7\n  scrape_native_histograms: true\n\
         scrape_configs:\n  - job_name: a\n  - job_name: b\n    scrape_interval: 1m\n    scrape_timeout: 30s\n",
    )
    .unwrap();
    let a = &cfg.scrape_configs[0];
    assert_eq!(a.settings.scrape_interval.to_string(), "5s");
    // The global timeout (default 10s) is capped by the shorter interval.
    assert_eq!(a.settings.scrape_timeout.to_string(), "5s");
    assert_eq!(a.settings.sample_limit, 7);
    assert!(a.scrape_native_histograms_enabled());
    let protocols: Vec<&str> = a.scrape_protocols().iter().map(|p| p.0.as_str()).collect();
    assert_eq!(protocols, DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS);
    let b = &cfg.scrape_configs[1];
    assert_eq!(b.settings.scrape_timeout.to_string(), "30s");
    assert_eq!(
        b.scrape_protocols()[0].header(),
        Some(
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"
        )
    );
}

#[test]
fn global_timeout_above_interval_is_refused() {
    let err = parse("global:\n  scrape_interval: 5s\n  scrape_timeout: 6s\n").unwrap_err();
    assert!(
        err.contains("global scrape timeout greater than scrape interval"),
        "{err}"
    );
    let err = parse("global:\n  scrape_protocols: []\n").unwrap_err();
    assert!(
        err.contains("scrape_protocols cannot be empty for global config"),
        "{err}"
    );
}

#[test]
fn go_lenient_scalars_are_accepted() {
    // Unquoted numbers where upstream expects text, and null values.
    let cfg = parse(
        "scrape_configs:\n  - job_name: a\n    metrics_path:\n    bearer_token: 1234\n    relabel_configs:\n      - source_labels: [x]\n        regex: 1\n        target_label: y\n",
    )
    .unwrap();
    let job = &cfg.scrape_configs[0];
    assert_eq!(job.settings.metrics_path, "/metrics");
    let auth = job.http_client.authorization.as_ref().unwrap();
    assert_eq!(auth.credentials.expose(), "1234");
    assert_eq!(job.settings.relabel_configs[0].regex.as_str(), "1");
}

#[test]
fn remote_write_auth_is_exclusive() {
    let err = parse(
        "remote_write:\n  - url: http://x/\n    basic_auth: {username: u}\n    sigv4: {region: r}\n",
    )
    .unwrap_err();
    assert!(
        err.contains("Currently configured: [basic_auth sigv4]"),
        "{err}"
    );
    let err = parse("remote_write:\n  - url: http://x/\n    sigv4: {access_key: a}\n").unwrap_err();
    assert!(
        err.contains("must provide a AWS SigV4 Access key and Secret Key"),
        "{err}"
    );
    let err = parse(
        "alerting:\n  alertmanagers:\n    - basic_auth: {username: u}\n      sigv4: {region: r}\n",
    )
    .unwrap_err();
    assert!(
        err.contains(
            "at most one of basic_auth, authorization, oauth2, & sigv4 must be configured"
        ),
        "{err}"
    );
}

#[test]
fn remote_url_password_is_hidden_when_printed() {
    let cfg = parse("remote_write:\n  - url: http://user:pw@host:9/write\n").unwrap();
    let text = cfg.to_yaml().unwrap();
    assert!(
        text.contains("url: http://user:xxxxx@host:9/write"),
        "{text}"
    );
    assert_eq!(
        cfg.remote_write[0].settings.url.as_ref().unwrap().0,
        "http://user:pw@host:9/write"
    );
}

#[test]
fn relabel_rules_use_the_global_name_validation() {
    let rules = "    relabel_configs:\n      - source_labels: [a]\n        target_label: \"a.b\"\n";
    let utf8 = format!("scrape_configs:\n  - job_name: a\n{rules}");
    parse(&utf8).unwrap();
    let legacy = format!("global:\n  metric_name_validation_scheme: legacy\n{utf8}");
    let err = parse(&legacy).unwrap_err();
    assert!(
        err.contains("\"a.b\" is invalid 'target_label' for replace action"),
        "{err}"
    );
}

#[test]
fn paths_resolve_against_the_config_directory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prometheus.yml");
    std::fs::write(
        &path,
        "rule_files: [rules/*.yml, /abs.yml]\nscrape_configs:\n  - job_name: a\n    file_sd_configs:\n      - files: [targets.json]\n",
    )
    .unwrap();
    let cfg = load_file(&path, false).unwrap();
    let rel = |p: &str| dir.path().join(p).display().to_string();
    assert_eq!(cfg.rule_files, [rel("rules/*.yml"), "/abs.yml".to_owned()]);
    let files = &cfg.scrape_configs[0].service_discovery.file_sd_configs[0].files;
    assert_eq!(files, &[rel("targets.json")]);
}

#[test]
fn included_file_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("jobs")).unwrap();
    let job = "scrape_configs:\n  - job_name: x\n    bogus: 1\n";
    std::fs::write(dir.path().join("jobs/a.yml"), job).unwrap();
    let main = dir.path().join("prometheus.yml");
    std::fs::write(&main, "scrape_config_files: ['jobs/*.yml']\n").unwrap();
    let err = load_file(&main, false).unwrap_err();
    assert!(matches!(err, ConfigError::ScrapeConfigFile { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("jobs/a.yml\": ") && msg.contains("unknown field `bogus`"),
        "{msg}"
    );
}

#[test]
fn unknown_otlp_strategy_and_tracing_defaults() {
    let err = parse("otlp:\n  translation_strategy: Nope\n").unwrap_err();
    assert!(
        err.contains("unsupported OTLP translation strategy \"Nope\""),
        "{err}"
    );
    let cfg = parse("tracing:\n  endpoint: localhost:4317\n").unwrap();
    assert_eq!(cfg.tracing.unwrap().client_type, "grpc");
    let err = parse("tracing:\n  endpoint: x\n  client_type: udp\n").unwrap_err();
    assert!(
        err.contains("expected tracing client type to be to be http or grpc, but got udp"),
        "{err}"
    );
}
