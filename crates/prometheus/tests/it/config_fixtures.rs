//! prometheus.yml loading against upstream's own fixtures (`config/testdata` of
//! prometheus/prometheus 3.14.0, in ../shared/testdata/prometheus-config): every good file
//! loads, every bad file is refused with upstream's reason.

use std::path::{Path, PathBuf};

use pm_common::model::NameValidation;
use pm_prometheus::config::{self, Config, ConfigError};

fn fixtures() -> PathBuf {
    pm_testsupport::testdata("prometheus-config")
}

fn load(name: &str) -> Result<Config, ConfigError> {
    config::load_file(&fixtures().join(name), false)
}

fn names(dir: &Path, suffix: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(suffix))
        .collect();
    names.sort();
    names
}

/// Each bad file and the part of upstream's message (config_test.go `expectedErrors`, or the
/// dedicated tests for files not in that table) our error must contain. Where our wording
/// differs from upstream's, the comment says why.
#[rustfmt::skip]
const BAD: &[(&str, &str)] = &[
    ("jobname.bad.yml", "job_name is empty"),
    ("jobname_dup.bad.yml", r#"found multiple scrape configs with job name "prometheus""#),
    ("scrape_interval.bad.yml", "scrape timeout greater than scrape interval"),
    ("labelname.bad.yml", r#""\xff" is not a valid label name"#),
    ("labelvalue.bad.yml", r#""\xff" is not a valid label value"#),
    ("regex.bad.yml", "error parsing regexp"),
    ("modulus_missing.bad.yml", "relabel configuration for hashmod requires non-zero modulus"),
    ("labelkeep.bad.yml", "labelkeep action requires only 'regex', and no other fields"),
    ("labelkeep2.bad.yml", "labelkeep action requires only 'regex', and no other fields"),
    ("labelkeep3.bad.yml", "labelkeep action requires only 'regex', and no other fields"),
    ("labelkeep4.bad.yml", "labelkeep action requires only 'regex', and no other fields"),
    ("labelkeep5.bad.yml", "labelkeep action requires only 'regex', and no other fields"),
    ("labeldrop.bad.yml", "labeldrop action requires only 'regex', and no other fields"),
    ("labeldrop2.bad.yml", "labeldrop action requires only 'regex', and no other fields"),
    ("labeldrop3.bad.yml", "labeldrop action requires only 'regex', and no other fields"),
    ("labeldrop4.bad.yml", "labeldrop action requires only 'regex', and no other fields"),
    ("labeldrop5.bad.yml", "labeldrop action requires only 'regex', and no other fields"),
    ("dropequal.bad.yml", "relabel configuration for dropequal action requires 'target_label' value"),
    ("dropequal1.bad.yml", "dropequal action requires only 'source_labels' and `target_label`, and no other fields"),
    ("keepequal.bad.yml", "relabel configuration for keepequal action requires 'target_label' value"),
    ("keepequal1.bad.yml", "keepequal action requires only 'source_labels' and `target_label`, and no other fields"),
    ("labelmap.bad.yml", "!!binary value contains invalid base64 data"),
    ("lowercase.bad.yml", "relabel configuration for lowercase action requires 'target_label' value"),
    ("lowercase3.bad.yml", "'replacement' can not be set for lowercase action"),
    ("uppercase.bad.yml", "relabel configuration for uppercase action requires 'target_label' value"),
    ("uppercase3.bad.yml", "'replacement' can not be set for uppercase action"),
    ("rules.bad.yml", "invalid rule file path"),
    // Upstream: "field consult_sd_configs not found in type config.plain" (Go YAML wording).
    ("unknown_attr.bad.yml", "unknown field `consult_sd_configs`"),
    ("bearertoken.bad.yml", "at most one of bearer_token & bearer_token_file must be configured"),
    ("bearertoken_basicauth.bad.yml", "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured"),
    ("kubernetes_http_config_without_api_server.bad.yml", "to use custom HTTP client configuration please provide the 'api_server' URL explicitly"),
    ("kubernetes_kubeconfig_with_own_namespace.bad.yml", "cannot use 'kubeconfig_file' and 'namespaces.own_namespace' simultaneously"),
    ("kubernetes_api_server_with_own_namespace.bad.yml", "cannot use 'api_server' and 'namespaces.own_namespace' simultaneously"),
    ("kubernetes_kubeconfig_with_apiserver.bad.yml", "cannot use 'kubeconfig_file' and 'api_server' simultaneously"),
    ("kubernetes_kubeconfig_with_http_config.bad.yml", "cannot use a custom HTTP client configuration together with 'kubeconfig_file'"),
    ("kubernetes_bearertoken.bad.yml", "at most one of bearer_token & bearer_token_file must be configured"),
    ("kubernetes_role.bad.yml", "role"),
    ("kubernetes_selectors_endpoints.bad.yml", "endpoints role supports only pod, service, endpoints selectors"),
    ("kubernetes_selectors_ingress.bad.yml", "ingress role supports only ingress selectors"),
    ("kubernetes_selectors_node.bad.yml", "node role supports only node selectors"),
    ("kubernetes_selectors_pod.bad.yml", "pod role supports only pod, node selectors"),
    ("kubernetes_selectors_service.bad.yml", "service role supports only service selectors"),
    ("kubernetes_namespace_discovery.bad.yml", "field foo not found in type kubernetes.plain"),
    ("kubernetes_selectors_duplicated_role.bad.yml", "duplicated selector role: pod"),
    ("kubernetes_selectors_incorrect_selector.bad.yml", "invalid selector: 'metadata.status-Running'; can't understand 'metadata.status-Running'"),
    ("kubernetes_bearertoken_basicauth.bad.yml", "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured"),
    ("kubernetes_authorization_basicauth.bad.yml", "at most one of basic_auth, oauth2 & authorization must be configured"),
    ("marathon_no_servers.bad.yml", "marathon_sd: must contain at least one Marathon server"),
    ("marathon_authtoken_authtokenfile.bad.yml", "marathon_sd: at most one of auth_token & auth_token_file must be configured"),
    ("marathon_authtoken_basicauth.bad.yml", "marathon_sd: at most one of basic_auth, auth_token & auth_token_file must be configured"),
    ("marathon_authtoken_bearertoken.bad.yml", "marathon_sd: at most one of bearer_token, bearer_token_file, auth_token & auth_token_file must be configured"),
    ("marathon_authtoken_authorization.bad.yml", "marathon_sd: at most one of auth_token, auth_token_file & authorization must be configured"),
    ("openstack_role.bad.yml", "unknown OpenStack SD role"),
    ("openstack_availability.bad.yml", "unknown availability invalid, must be one of admin, internal or public"),
    ("url_in_targetgroup.bad.yml", r#""http://bad" is not a valid hostname"#),
    ("target_label_missing.bad.yml", "relabel configuration for replace action requires 'target_label' value"),
    ("target_label_hashmod_missing.bad.yml", "relabel configuration for hashmod action requires 'target_label' value"),
    // Upstream: "field nonexistent_field not found in type config.plain".
    ("unknown_global_attr.bad.yml", "unknown field `nonexistent_field`"),
    ("remote_read_url_missing.bad.yml", "url for remote_read is empty"),
    ("remote_write_header.bad.yml", "x-prometheus-remote-write-version is a reserved header. It must not be changed"),
    ("remote_read_header.bad.yml", "x-prometheus-remote-write-version is a reserved header. It must not be changed"),
    ("remote_write_authorization_header.bad.yml", "authorization header must be changed via the basic_auth, authorization, oauth2, sigv4, azuread or google_iam parameter"),
    ("remote_write_wrong_msg.bad.yml", "invalid protobuf_message value: unknown type for remote write protobuf message io.prometheus.writet.v2.Request, supported: prometheus.WriteRequest, io.prometheus.write.v2.Request"),
    ("remote_write_url_missing.bad.yml", "url for remote_write is empty"),
    ("remote_write_dup.bad.yml", r#"found multiple remote write configs with job name "queue1""#),
    ("remote_write_queue_max_samples_per_send_zero.bad.yml", "remote write queue max_samples_per_send must be positive"),
    ("remote_write_queue_max_shards_zero.bad.yml", "remote write queue max_shards must be positive"),
    ("remote_write_queue_min_shards_zero.bad.yml", "remote write queue min_shards must be positive"),
    ("remote_write_queue_capacity_zero.bad.yml", "remote write queue capacity must be positive"),
    ("remote_write_queue_min_shards_greater_than_max.bad.yml", "remote write queue min_shards must not be greater than max_shards"),
    ("remote_write_queue_max_backoff_less_than_min.bad.yml", "remote write queue max_backoff must not be less than min_backoff"),
    ("remote_read_dup.bad.yml", r#"found multiple remote read configs with job name "queue1""#),
    ("ec2_filters_empty_values.bad.yml", "EC2 SD configuration filter values cannot be empty"),
    ("ec2_token_file.bad.yml", "at most one of bearer_token & bearer_token_file must be configured"),
    ("lightsail_token_file.bad.yml", "at most one of bearer_token & bearer_token_file must be configured"),
    // Upstream: "field scrape_configs already set in type config.plain".
    ("section_key_dup.bad.yml", r#"duplicate entry with key "scrape_configs""#),
    ("azure_client_id_missing.bad.yml", "azure SD configuration requires a client_id"),
    ("azure_client_secret_missing.bad.yml", "azure SD configuration requires a client_secret"),
    ("azure_subscription_id_missing.bad.yml", "azure SD configuration requires a subscription_id"),
    ("azure_tenant_id_missing.bad.yml", "azure SD configuration requires a tenant_id"),
    ("azure_authentication_method.bad.yml", r#"unknown authentication_type "invalid". Supported types are "OAuth", "ManagedIdentity", "SDK" or "WorkloadIdentity""#),
    ("oci_authentication_method.bad.yml", r#"oci_sd: unknown auth method "invalid", expected "api_key" or "instance_principal""#),
    ("azure_bearertoken_basicauth.bad.yml", "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured"),
    ("empty_scrape_config.bad.yml", "empty or null scrape config section"),
    ("empty_rw_config.bad.yml", "empty or null remote write config section"),
    ("empty_rr_config.bad.yml", "empty or null remote read config section"),
    ("empty_target_relabel_config.bad.yml", "empty or null target relabeling rule"),
    ("empty_metric_relabel_config.bad.yml", "empty or null metric relabeling rule"),
    ("empty_alert_relabel_config.bad.yml", "empty or null alert relabeling rule"),
    ("empty_alertmanager_relabel_config.bad.yml", "empty or null Alertmanager target relabeling rule"),
    ("empty_rw_relabel_config.bad.yml", "empty or null relabeling rule in remote write config"),
    ("empty_static_config.bad.yml", "empty or null section in static_configs"),
    ("puppetdb_no_query.bad.yml", "query missing"),
    ("puppetdb_no_url.bad.yml", "URL is missing"),
    ("puppetdb_bad_url.bad.yml", "host is missing in URL"),
    ("puppetdb_no_scheme.bad.yml", "URL scheme must be 'http' or 'https'"),
    ("puppetdb_token_file.bad.yml", "at most one of bearer_token & bearer_token_file must be configured"),
    ("hetzner_role.bad.yml", "unknown role"),
    ("eureka_no_server.bad.yml", "empty or null eureka server"),
    ("eureka_invalid_server.bad.yml", "invalid eureka server URL"),
    ("scaleway_role.bad.yml", r#"unknown role "invalid""#),
    ("scaleway_no_secret.bad.yml", "one of secret_key & secret_key_file must be configured"),
    ("scaleway_two_secrets.bad.yml", "at most one of secret_key & secret_key_file must be configured"),
    ("outscale_no_region.bad.yml", "outscale SD configuration requires a region"),
    ("outscale_no_secret.bad.yml", "one of secret_key & secret_key_file must be configured"),
    ("outscale_two_secrets.bad.yml", "at most one of secret_key & secret_key_file must be configured"),
    ("scrape_body_size_limit.bad.yml", "units: unknown unit  in 100"),
    ("http_url_no_scheme.bad.yml", "URL scheme must be 'http' or 'https'"),
    ("http_url_no_host.bad.yml", "host is missing in URL"),
    ("http_token_file.bad.yml", "at most one of bearer_token & bearer_token_file must be configured"),
    ("http_url_bad_scheme.bad.yml", "URL scheme must be 'http' or 'https'"),
    ("empty_scrape_config_action.bad.yml", "relabel action cannot be empty"),
    ("tracing_missing_endpoint.bad.yml", "tracing endpoint must be set"),
    ("tracing_invalid_header.bad.yml", "x-prometheus-remote-write-version is a reserved header. It must not be changed"),
    ("tracing_invalid_authorization_header.bad.yml", "authorization header configuration is not yet supported"),
    ("tracing_invalid_compression.bad.yml", "invalid compression type foo provided, valid options: gzip"),
    ("uyuni_no_server.bad.yml", "Uyuni SD configuration requires server host"),
    ("uyuni_token_file.bad.yml", "at most one of bearer_token & bearer_token_file must be configured"),
    ("ionos_datacenter.bad.yml", "datacenter id can't be empty"),
    ("ovhcloud_no_secret.bad.yml", "application secret can not be empty"),
    ("ovhcloud_bad_service.bad.yml", "unknown service: fakeservice"),
    ("scrape_config_files_glob.bad.yml", r#"invalid scrape config file path "scrape_configs/*/*""#),
    ("scrape_config_files_scrape_protocols.bad.yml", r#"scrape_protocols: unknown scrape protocol prometheusproto, supported: [OpenMetricsText0.0.1 OpenMetricsText1.0.0 PrometheusProto PrometheusText0.0.4 PrometheusText1.0.0] for scrape config with job name "node""#),
    ("scrape_config_files_scrape_protocols2.bad.yml", r#"duplicated protocol in scrape_protocols, got [OpenMetricsText1.0.0 PrometheusProto OpenMetricsText1.0.0] for scrape config with job name "node""#),
    ("scrape_config_files_fallback_scrape_protocol1.bad.yml", r#"invalid fallback_scrape_protocol for scrape config with job name "node": unknown scrape protocol prometheusproto, supported: [OpenMetricsText0.0.1 OpenMetricsText1.0.0 PrometheusProto PrometheusText0.0.4 PrometheusText1.0.0]"#),
    // Upstream: "unmarshal errors" (Go YAML wording for a list where a string belongs).
    ("scrape_config_files_fallback_scrape_protocol2.bad.yml", "invalid type: sequence, expected a string"),
    ("scrape_config_utf8_conflicting.bad.yml", "utf8 metric names requested but validation scheme is not set to UTF8"),
    ("stackit_endpoint.bad.yml", "invalid endpoint"),
    ("tsdb_retention_time.bad.yml", r#"not a valid duration string: "-1h""#),
    ("tsdb_retention_size.bad.yml", "'storage.tsdb.retention.size' must be greater than or equal to 0"),
    ("tsdb_retention_percentage.bad.yml", "'storage.tsdb.retention.percentage' must be in the range [0, 100]"),
    ("tsdb_retention_percentage_negative.bad.yml", "'storage.tsdb.retention.percentage' must be in the range [0, 100]"),
    ("tsdb_chunk_encoding_floats.bad.yml", r#"'storage.tsdb.chunk_encoding.floats' must be 'xor' or 'xor2', or the field must be omitted entirely, got "xor3""#),
    ("tsdb_chunk_encoding_floats_wrong_case.bad.yml", r#"'storage.tsdb.chunk_encoding.floats' must be 'xor' or 'xor2', or the field must be omitted entirely, got "XOR""#),
    ("tsdb_chunk_encoding_floats_wrong_case_xor2.bad.yml", r#"'storage.tsdb.chunk_encoding.floats' must be 'xor' or 'xor2', or the field must be omitted entirely, got "XOR2""#),
    ("metric_name_validation_scheme.bad.yml", r#"unrecognized ValidationScheme: "invalid_scheme""#),
    // Files upstream checks in dedicated tests.
    ("otlp_allow_utf8.bad.yml", r#"unsupported OTLP translation strategy "Invalid""#),
    ("otlp_ignore_resource_attributes_without_promote_all.bad.yml", "'ignore_resource_attributes' cannot be configured unless 'promote_all_resource_attributes' is true"),
    ("otlp_promote_all_resource_attributes.bad.yml", "'promote_all_resource_attributes' and 'promote_resource_attributes' cannot be configured simultaneously"),
    ("otlp_sanitize_ignore_resource_attributes.bad.yml", r#"duplicated ignored OTel resource attribute "k8s.job.name""#),
    ("otlp_sanitize_promote_resource_attributes.bad.yml", r#"duplicated promoted OTel resource attribute "k8s.job.name""#),
    ("scrape_config_files.bad.yml", r#"scrape timeout greater than scrape interval for scrape config with job name "prometheus""#),
    ("scrape_config_files_double_import.bad.yml", r#"found multiple scrape configs with job name "prometheus""#),
    ("scrape_config_files_duplicate.bad.yml", r#"found multiple scrape configs with job name "prometheus""#),
    ("scrape_config_files_global.bad.yml", r#"scrape timeout greater than scrape interval for scrape config with job name "prometheus""#),
    ("scrape_config_files_global_duplicate.bad.yml", r#"found multiple scrape configs with job name "prometheus""#),
    // A target-group file, not a config: upstream decodes it as one group.
    ("static_config.bad.yml", r#""\xff" is not a valid label name"#),
];

#[test]
fn every_good_file_loads() {
    let dir = fixtures();
    let mut count = 0;
    for sub in [dir.clone(), dir.join("scrape_configs")] {
        for name in names(&sub, ".good.yml") {
            if let Err(err) = config::load_file(&sub.join(&name), false) {
                panic!("{name} must load: {err}");
            }
            count += 1;
        }
    }
    // The README says 54; the tree holds 56 (54 at the top, 2 in scrape_configs/).
    assert_eq!(count, 56);
}

#[test]
fn every_bad_file_is_refused_with_upstream_reason() {
    let dir = fixtures();
    let bad = names(&dir, ".bad.yml");
    assert_eq!(bad.len(), 147, "the README counts 147 bad files");
    for name in &bad {
        let Some((_, phrase)) = BAD.iter().find(|(file, _)| file == name) else {
            panic!("{name} has no expected message in the table");
        };
        match load(name) {
            Ok(_) => panic!("{name} must be refused"),
            Err(err) => {
                let msg = err.to_string();
                assert!(msg.contains(phrase), "{name}: {msg:?} lacks {phrase:?}");
            }
        }
    }
    for (file, _) in BAD {
        assert!(
            bad.iter().any(|b| b == file),
            "table names missing file {file}"
        );
    }
}

#[test]
fn errors_name_file_line_and_field() {
    let msg = load("unknown_global_attr.bad.yml").unwrap_err().to_string();
    assert!(msg.starts_with("parsing YAML file "), "{msg}");
    assert!(msg.contains("unknown_global_attr.bad.yml: line 2 column 3: global: unknown field `nonexistent_field`"), "{msg}");
    // Cross-block checks point at the node they are about.
    let msg = load("jobname_dup.bad.yml").unwrap_err().to_string();
    assert!(
        msg.contains(r#"jobname_dup.bad.yml: line 7 column 5: scrape_configs[2]: found multiple scrape configs with job name "prometheus""#),
        "{msg}"
    );
    let msg = load("http_url_no_host.bad.yml").unwrap_err().to_string();
    assert!(
        msg.contains("scrape_configs: http_sd_configs[0]: host is missing in URL"),
        "{msg}"
    );
}

#[test]
fn agent_mode_refuses_server_only_blocks() {
    let dir = fixtures();
    for (name, field) in [
        ("agent_mode.with_alert_manager.yml", "alerting"),
        ("agent_mode.with_alert_relabels.yml", "alerting"),
        ("agent_mode.with_rule_files.yml", "rule_files"),
        ("agent_mode.with_remote_reads.yml", "remote_read"),
    ] {
        let err = config::load_file(&dir.join(name), true).unwrap_err();
        assert!(
            err.to_string()
                .ends_with(&format!("field {field} is not allowed in agent mode")),
            "{name}: {err}"
        );
        // The same files are fine for the server.
        config::load_file(&dir.join(name), false).unwrap();
    }
    let cfg = config::load_file(&dir.join("agent_mode.without_remote_writes.yml"), true).unwrap();
    assert!(cfg.remote_write.is_empty());
    let cfg = config::load_file(&dir.join("agent_mode.good.yml"), true).unwrap();
    assert_eq!(cfg.remote_write.len(), 1);
    let url = cfg.remote_write[0].settings.url.as_ref().unwrap();
    assert_eq!(url.0, "http://remote1/push");
}

#[test]
fn files_checked_by_dedicated_upstream_tests() {
    let err = load("config_with_deprecated_am_api_config.yml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("expected Alertmanager api version to be one of [v2] but got v1"),
        "{err}"
    );
    for (name, strategy) in [
        (
            "otlp_allow_utf8.incompatible.yml",
            "NoUTF8EscapingWithSuffixes",
        ),
        ("otlp_no_translation.incompatible.yml", "NoTranslation"),
    ] {
        let err = load(name).unwrap_err().to_string();
        let want = format!(
            "OTLP translation strategy \"{strategy}\" is not allowed when UTF8 is disabled"
        );
        assert!(err.contains(&want), "{name}: {err}");
    }
    let cfg = load("otlp_empty.yml").unwrap();
    assert_eq!(
        cfg.otlp.translation_strategy,
        "UnderscoreEscapingWithSuffixes"
    );
    assert!(cfg.otlp.label_name_underscore_sanitization);
    assert!(cfg.otlp.label_name_preserve_multiple_underscores);
    let cfg = load("otlp_label_underscore_sanitization_disabled.good.yml").unwrap();
    assert!(!cfg.otlp.label_name_underscore_sanitization);
    assert!(!cfg.otlp.label_name_preserve_multiple_underscores);
}

#[test]
fn name_validation_and_escaping_follow_upstream_inheritance() {
    use NameValidation::{Legacy, Utf8};
    for (name, scheme, escaping) in [
        (
            "scrape_config_default_validation_mode.yml",
            Utf8,
            "allow-utf-8",
        ),
        ("scrape_config_global_validation_mode.yml", Legacy, "dots"),
        ("scrape_config_local_validation_mode.yml", Legacy, "values"),
        (
            "scrape_config_local_global_validation_mode.yml",
            Utf8,
            "dots",
        ),
        (
            "scrape_config_local_infer_escaping.yml",
            Legacy,
            "underscores",
        ),
    ] {
        let cfg = load(name).unwrap();
        let job = &cfg.scrape_configs[0].settings;
        assert_eq!(job.metric_name_validation_scheme, Some(scheme), "{name}");
        assert_eq!(job.metric_name_escaping_scheme, escaping, "{name}");
        // The printed config loads back to the same values.
        let again = config::load_str(&cfg.to_yaml().unwrap(), name).unwrap();
        assert_eq!(again.scrape_configs[0].settings, *job, "{name}");
    }
}

#[test]
fn roundtrip_keeps_the_config() {
    let want = load("roundtrip.good.yml").unwrap();
    let text = want.to_yaml().unwrap();
    let got = config::load_str(&text, "roundtrip").unwrap();
    assert_eq!(got, want, "{text}");
}

#[test]
fn printing_hides_every_secret() {
    let cfg = load("conf.good.yml").unwrap();
    let text = cfg.to_yaml().unwrap();
    assert_eq!(text.matches("<secret>").count(), 29, "{text}");
    assert!(!text.contains("mysecret"), "{text}");
    // The printed form is itself a valid config.
    config::load_str(&text, "printed").unwrap();
}

#[test]
fn reference_config_values() {
    let dir = fixtures();
    let cfg = load("conf.good.yml").unwrap();
    let g = &cfg.global;
    assert_eq!(g.scrape_interval.to_string(), "15s");
    assert_eq!(g.scrape_timeout.to_string(), "10s");
    assert_eq!(g.evaluation_interval.to_string(), "30s");
    assert_eq!(
        g.external_labels.get("monitor").map(String::as_str),
        Some("codelab")
    );
    assert_eq!(
        g.query_log_file,
        dir.join("query.log").display().to_string()
    );
    assert_eq!(g.body_size_limit.0, 15 << 20);
    assert_eq!(cfg.runtime.gogc, 42);
    assert_eq!(
        cfg.rule_files[0],
        dir.join("first.rules").display().to_string()
    );

    let job = &cfg.scrape_configs[0];
    let s = &job.settings;
    assert_eq!(s.job_name, "prometheus");
    assert!(s.honor_labels && s.honor_timestamps);
    assert_eq!(
        s.scrape_interval, g.scrape_interval,
        "inherited from global"
    );
    assert_eq!(s.sample_limit, 1500, "inherited from global");
    assert_eq!(s.metrics_path, "/metrics");
    assert_eq!(s.scheme, "http");
    assert_eq!(
        job.scrape_protocols()
            .iter()
            .map(|p| p.0.as_str())
            .collect::<Vec<_>>(),
        config::DEFAULT_SCRAPE_PROTOCOLS
    );
    assert_eq!(
        s.fallback_scrape_protocol.as_ref().unwrap().0,
        "PrometheusText0.0.4"
    );
    let auth = job.http_client.authorization.as_ref().unwrap();
    assert_eq!(
        auth.kind, "Bearer",
        "bearer_token_file becomes authorization"
    );
    assert_eq!(
        auth.credentials_file,
        dir.join("valid_token_file").display().to_string()
    );
    assert_eq!(job.service_discovery.file_sd_configs.len(), 2);
    assert_eq!(
        job.service_discovery.static_configs[0].targets,
        ["localhost:9090", "localhost:9191"]
    );
    assert_eq!(s.relabel_configs.len(), 6);

    let second = &cfg.scrape_configs[1].settings;
    assert_eq!(second.scrape_interval.to_string(), "50s");
    assert_eq!(second.sample_limit, 1000);
    assert_eq!(second.scheme, "https");

    let rw = &cfg.remote_write[0];
    assert_eq!(rw.settings.remote_timeout.to_string(), "30s");
    assert_eq!(rw.settings.queue_config.max_shards, 50);
    assert!(
        !rw.http_client.enable_http2,
        "remote write turns HTTP/2 off by default"
    );
    let rr = &cfg.remote_read[0];
    assert!(rr.settings.filter_external_labels);
    assert_eq!(rr.settings.chunked_read_limit, 50_000_000);
    assert!(!cfg.alerting.alertmanagers.is_empty());
    let unsupported: Vec<&str> = cfg
        .scrape_configs
        .iter()
        .flat_map(|job| job.service_discovery.unsupported.iter().map(|sd| sd.key()))
        .collect();
    assert!(
        unsupported.contains(&"kubernetes_sd_configs"),
        "{unsupported:?}"
    );
}

#[test]
fn scrape_config_files_are_merged() {
    let cfg = load("scrape_config_files_only.good.yml").unwrap();
    assert!(cfg.scrape_configs.is_empty());
    let jobs: Vec<_> = cfg.all_scrape_configs().collect();
    assert_eq!(jobs.len(), 1);
    let job = &jobs[0].settings;
    assert_eq!(job.job_name, "prometheus");
    assert_eq!(
        job.scrape_interval.to_string(),
        "1m",
        "inherited from the main file's global"
    );
    assert_eq!(job.scrape_timeout.to_string(), "10s");

    let cfg = load("scrape_config_files_combined.good.yml").unwrap();
    let names: Vec<&str> = cfg
        .all_scrape_configs()
        .map(|j| j.settings.job_name.as_str())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert_eq!(names[0], "node", "the main file's jobs come first");
    assert!(
        !cfg.to_yaml().unwrap().contains("job_name: prometheus"),
        "only the main file is printed"
    );

    // Paths of included jobs resolve against their own file's directory.
    let cfg = load("scrape_config_files_glob.good.yml").unwrap();
    let included: Vec<_> = cfg.included_scrape_configs.iter().collect();
    assert_eq!(included.len(), 2);
    // Glob results are cleaned as Go's filepath.Join cleans them.
    let sub = std::path::PathBuf::from(pm_common::glob::clean(
        &fixtures().join("scrape_configs").display().to_string(),
    ));
    let node = included
        .iter()
        .find(|j| j.settings.job_name == "node")
        .unwrap();
    assert_eq!(
        node.http_client.tls_config.cert_file,
        sub.join("../valid_cert_file").display().to_string()
    );
    assert_eq!(node.settings.scrape_interval.to_string(), "15s");
}

#[test]
fn timeouts_and_storage_values() {
    let cfg = load("scrape_interval_larger.good.yml").unwrap();
    for job in &cfg.scrape_configs {
        assert!(job.settings.scrape_interval >= job.settings.scrape_timeout);
    }
    let cfg = load("tsdb_retention_percentage_float.good.yml").unwrap();
    assert_eq!(cfg.storage.tsdb.retention.percentage, 0.5);
    for (name, floats) in [
        ("tsdb_chunk_encoding_floats_xor.good.yml", "xor"),
        ("tsdb_chunk_encoding_floats_xor2.good.yml", "xor2"),
    ] {
        assert_eq!(
            load(name).unwrap().storage.tsdb.chunk_encoding.floats,
            floats
        );
    }
    let empty = config::load_str("", "empty").unwrap();
    assert_eq!(empty, Config::default());
    assert_eq!(
        empty.storage.exemplars.as_ref().unwrap().max_exemplars,
        100_000
    );
}

/// Upstream's `TestGetScrapeConfigs` cases for the histogram and extra-metrics flags: what a
/// job ends up with from global and local settings.
#[test]
fn histogram_flags_inherit_as_upstream() {
    const PROTO_FIRST: &[&str] = &config::DEFAULT_PROTO_FIRST_SCRAPE_PROTOCOLS;
    const DEFAULT: &[&str] = &config::DEFAULT_SCRAPE_PROTOCOLS;
    const TEXT: &[&str] = &["PrometheusText0.0.4"];
    /// File, then native, always classic, convert to NHCB, extra metrics, protocols.
    type Case<'a> = (&'a str, bool, bool, bool, bool, &'a [&'a str]);
    let cases: [Case; 17] = [
        (
            "global_convert_classic_hist_to_nhcb",
            false,
            false,
            true,
            false,
            DEFAULT,
        ),
        (
            "local_disable_convert_classic_hist_to_nhcb",
            false,
            false,
            false,
            false,
            DEFAULT,
        ),
        (
            "local_convert_classic_hist_to_nhcb",
            false,
            false,
            true,
            false,
            DEFAULT,
        ),
        (
            "global_enable_always_scrape_classic_hist",
            false,
            true,
            false,
            false,
            DEFAULT,
        ),
        (
            "global_disable_always_scrape_classic_hist",
            false,
            false,
            false,
            false,
            DEFAULT,
        ),
        (
            "local_enable_always_scrape_classic_hist",
            false,
            true,
            false,
            false,
            DEFAULT,
        ),
        (
            "local_disable_always_scrape_classic_hist",
            false,
            false,
            false,
            false,
            DEFAULT,
        ),
        (
            "global_enable_scrape_native_hist",
            true,
            false,
            false,
            false,
            PROTO_FIRST,
        ),
        (
            "global_enable_scrape_native_hist_and_scrape_protocols",
            true,
            false,
            false,
            false,
            TEXT,
        ),
        (
            "local_enable_scrape_native_hist",
            true,
            false,
            false,
            false,
            PROTO_FIRST,
        ),
        (
            "local_enable_scrape_native_hist_and_scrape_protocols",
            true,
            false,
            false,
            false,
            TEXT,
        ),
        (
            "local_disable_scrape_native_hist",
            false,
            false,
            false,
            false,
            DEFAULT,
        ),
        (
            "global_scrape_protocols_and_local_disable_scrape_native_hist",
            false,
            false,
            false,
            false,
            TEXT,
        ),
        (
            "global_enable_extra_scrape_metrics",
            false,
            false,
            false,
            true,
            DEFAULT,
        ),
        (
            "global_disable_extra_scrape_metrics",
            false,
            false,
            false,
            false,
            DEFAULT,
        ),
        (
            "local_enable_extra_scrape_metrics",
            false,
            false,
            false,
            true,
            DEFAULT,
        ),
        (
            "local_disable_extra_scrape_metrics",
            false,
            false,
            false,
            false,
            DEFAULT,
        ),
    ];
    for (file, native, always, nhcb, extra, protocols) in cases {
        let cfg = load(&format!("{file}.good.yml")).unwrap();
        let jobs: Vec<_> = cfg.all_scrape_configs().collect();
        assert_eq!(jobs.len(), 1, "{file}");
        let job = jobs[0];
        assert_eq!(job.scrape_native_histograms_enabled(), native, "{file}");
        assert_eq!(
            job.always_scrape_classic_histograms_enabled(),
            always,
            "{file}"
        );
        assert_eq!(
            job.convert_classic_histograms_to_nhcb_enabled(),
            nhcb,
            "{file}"
        );
        assert_eq!(job.extra_scrape_metrics_enabled(), extra, "{file}");
        let got: Vec<&str> = job
            .scrape_protocols()
            .iter()
            .map(|p| p.0.as_str())
            .collect();
        assert_eq!(got, protocols, "{file}");
        assert_eq!(job.settings.scrape_interval.to_string(), "1m", "{file}");
        assert_eq!(job.settings.scrape_timeout.to_string(), "10s", "{file}");
    }
}
