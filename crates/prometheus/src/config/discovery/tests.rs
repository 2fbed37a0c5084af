use crate::config::load_str;

fn job(sd: &str) -> Result<crate::config::ScrapeConfig, String> {
    let text = format!("scrape_configs:\n  - job_name: a\n{sd}");
    load_str(&text, "t.yml")
        .map(|mut cfg| cfg.scrape_configs.remove(0))
        .map_err(|err| err.to_string())
}

#[test]
fn dns_needs_a_port_except_for_srv() {
    let err = job("    dns_sd_configs:\n      - names: [x]\n        type: A\n").unwrap_err();
    assert!(
        err.contains("a port is required in DNS-SD configs for all record types except SRV"),
        "{err}"
    );
    let err = job("    dns_sd_configs:\n      - names: [x]\n        type: TXT\n").unwrap_err();
    assert!(err.contains("invalid DNS-SD records type TXT"), "{err}");
    let cfg = job("    dns_sd_configs:\n      - names: [x]\n").unwrap();
    let dns = &cfg.service_discovery.dns_sd_configs[0];
    assert_eq!(
        (dns.record_type.as_str(), dns.refresh_interval.to_string()),
        ("SRV", "30s".to_owned())
    );
}

#[test]
fn file_sd_paths_are_checked() {
    let err = job("    file_sd_configs:\n      - files: [targets.txt]\n").unwrap_err();
    assert!(
        err.contains("path name \"targets.txt\" is not valid for file discovery"),
        "{err}"
    );
    let err = job("    file_sd_configs:\n      - files: ['*/x.json']\n").unwrap_err();
    assert!(err.contains("is not valid for file discovery"), "{err}");
    let err = job("    file_sd_configs:\n      - refresh_interval: 1m\n").unwrap_err();
    assert!(
        err.contains("file service discovery config must contain at least one path name"),
        "{err}"
    );
    job("    file_sd_configs:\n      - files: [dir/*.json, a.YAML]\n").unwrap();
}

#[test]
fn consul_legacy_credentials_become_basic_auth() {
    let cfg = job("    consul_sd_configs:\n      - username: u\n        password: p\n").unwrap();
    let consul = &cfg.service_discovery.consul_sd_configs[0];
    assert_eq!(consul.settings.server, "localhost:8500");
    assert!(consul.settings.allow_stale);
    let basic = consul.http_client.basic_auth.as_ref().unwrap();
    assert_eq!(
        (basic.username.as_str(), basic.password.expose()),
        ("u", "p")
    );
    let err =
        job("    consul_sd_configs:\n      - username: u\n        basic_auth: {username: v}\n")
            .unwrap_err();
    assert!(err.contains("at most one of consul SD configuration username and password and basic auth can be configured"), "{err}");
    let err =
        job("    consul_sd_configs:\n      - token: t\n        authorization: {credentials: c}\n")
            .unwrap_err();
    assert!(
        err.contains("at most one of consul SD token, authorization, or oauth2 can be configured"),
        "{err}"
    );
}

#[test]
fn http_sd_defaults_and_url_checks() {
    let cfg = job("    http_sd_configs:\n      - url: http://sd.example/targets\n").unwrap();
    let http = &cfg.service_discovery.http_sd_configs[0];
    assert_eq!(http.refresh_interval.to_string(), "1m");
    let err = job("    http_sd_configs:\n      - url: ftp://x/\n").unwrap_err();
    assert!(
        err.contains("URL scheme must be 'http' or 'https'"),
        "{err}"
    );
}

#[test]
fn unsupported_mechanisms_are_checked_and_printed_without_secrets() {
    let err = job("    gce_sd_configs:\n      - project: p\n        zones: [z]\n").unwrap_err();
    assert!(
        err.contains("field zones not found in type gce.plain"),
        "{err}"
    );
    let err = job("    nerve_sd_configs:\n      - servers: [zk]\n        paths: [relative]\n")
        .unwrap_err();
    assert!(
        err.contains("nerve SD config paths must begin with '/': relative"),
        "{err}"
    );
    let err = job("    triton_sd_configs:\n      - account: a\n        dns_suffix: d\n        endpoint: e\n        refresh_interval: 1x\n").unwrap_err();
    assert!(
        err.contains("refresh_interval: ") && err.contains("1x"),
        "{err}"
    );
    let err = job("    vultr_sd_configs:\n      - port: http\n").unwrap_err();
    assert!(err.contains("port: expected an integer"), "{err}");
    let cfg = load_str(
        "scrape_configs:\n  - job_name: a\n    ec2_sd_configs:\n      - region: r\n        secret_key: hunter2\n",
        "t.yml",
    )
    .unwrap();
    let sd = &cfg.scrape_configs[0].service_discovery.unsupported[0];
    assert_eq!(sd.key(), "ec2_sd_configs");
    let text = cfg.to_yaml().unwrap();
    assert!(
        text.contains("secret_key: <secret>") && !text.contains("hunter2"),
        "{text}"
    );
}

#[test]
fn unsupported_paths_resolve_against_the_config_directory() {
    let mut cfg =
        job("    kubernetes_sd_configs:\n      - role: pod\n        kubeconfig_file: kube.yml\n")
            .unwrap();
    cfg.set_directory(std::path::Path::new("/etc/prometheus"));
    let sd = &cfg.service_discovery.unsupported[0];
    assert_eq!(
        sd.fields.get("kubeconfig_file").and_then(|v| v.as_str()),
        Some("/etc/prometheus/kube.yml")
    );
}

#[test]
fn static_targets_with_a_path_need_relabeling() {
    let err = job("    static_configs:\n      - targets: [host/metrics]\n").unwrap_err();
    assert!(
        err.contains("\"host/metrics\" is not a valid hostname"),
        "{err}"
    );
    job("    relabel_configs:\n      - target_label: __address__\n        replacement: h:1\n    static_configs:\n      - targets: [host/metrics]\n").unwrap();
    let err =
        job("    static_configs:\n      - targets: [x]\n        labels: {'': v}\n").unwrap_err();
    assert!(err.contains("\"\" is not a valid label name"), "{err}");
}

#[test]
fn sd_configs_lists_what_discovery_runs() {
    let cfg = job("    static_configs:\n      - targets: [a:1, b:2]\n        labels: {env: prod}\n      - targets: [c:3]\n    file_sd_configs:\n      - files: [t.json]\n    http_sd_configs:\n      - url: http://sd.example/targets\n").unwrap();
    let configs = cfg.service_discovery.sd_configs();
    let mechanisms: Vec<_> = configs.iter().map(|c| c.mechanism()).collect();
    assert_eq!(mechanisms, ["static", "file", "http"]);
    let super::SdConfig::Static(groups) = &configs[0] else {
        panic!("static first: {configs:?}");
    };
    let addresses: Vec<_> = groups[0]
        .targets
        .iter()
        .map(|t| t.get("__address__").unwrap())
        .collect();
    assert_eq!(addresses, ["a:1", "b:2"]);
    assert_eq!(groups[0].labels.get("env"), Some("prod"));
    assert_eq!(groups[1].targets.len(), 1);
}
