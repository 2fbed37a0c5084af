use super::*;

fn err(yaml: &str) -> String {
    Config::load(yaml, "am.yml").unwrap_err().to_string()
}

const RECEIVERS: &str = "receivers: [{name: a}, {name: b}]\n";

#[test]
fn document_level_checks_use_upstream_messages() {
    let cases = [
        ("receivers: [{name: a}]\n", "no route provided in config"),
        (
            "route: {receiver: a, continue: true}\nreceivers: [{name: a}]\n",
            "cannot have continue in root route",
        ),
        (
            "route: {}\nreceivers: [{name: a}]\n",
            "root route must specify a default receiver",
        ),
        (
            "route: {receiver: a, matchers: ['x=y']}\nreceivers: [{name: a}]\n",
            "root route must not have any matchers",
        ),
        (
            "route: {receiver: a, routes: [{receiver: c}]}\nreceivers: [{name: a}]\n",
            "undefined receiver \"c\" used in route",
        ),
        (
            "route: {receiver: a}\nreceivers: [{name: a}, {name: a}]\n",
            "notification config name \"a\" is not unique",
        ),
        (
            "route: {receiver: a, routes: [{receiver: b, mute_time_intervals: [x]}]}\n",
            "undefined time interval \"x\" used in route",
        ),
        (
            "route: {receiver: a, group_by: ['...', x]}\n",
            "cannot have wildcard group_by (`...`) and other labels at the same time",
        ),
        (
            "route: {receiver: a, group_interval: 0s}\n",
            "group_interval cannot be zero",
        ),
        (
            "route: {receiver: a}\nreceivers: [{name: a, email_configs: [{to: x@y}]}]\n",
            "no global SMTP smarthost set",
        ),
        (
            "global: {opsgenie_api_key: k, opsgenie_api_key_file: f}\nroute: {receiver: a}\n",
            "at most one of opsgenie_api_key & opsgenie_api_key_file must be configured",
        ),
    ];
    for (yaml, want) in cases {
        let yaml = if yaml.contains("receivers:") {
            yaml.to_owned()
        } else {
            format!("{yaml}{RECEIVERS}")
        };
        let got = err(&yaml);
        assert!(got.contains(want), "{yaml}\nwant {want}\ngot {got}");
    }
}

#[test]
fn unknown_fields_name_line_and_path() {
    let got = err("route:\n  receiver: a\n  recevier: b\nreceivers: [{name: a}]\n");
    assert!(got.contains("line 3"), "{got}");
    assert!(got.contains("route: unknown field `recevier`"), "{got}");
}

#[test]
fn receivers_inherit_globals() {
    let cfg = Config::load(
        "global:\n  smtp_smarthost: 'mail:25'\n  smtp_from: am@x\n  opsgenie_api_key: k\n  \
         opsgenie_api_url: https://og.example/api\nroute: {receiver: a}\nreceivers:\n\
         - name: a\n  email_configs: [{to: t@x}]\n  opsgenie_configs: [{}]\n",
        "am.yml",
    )
    .unwrap();
    assert_eq!(cfg.global.resolve_timeout.to_string(), "5m");
    let r = &cfg.receivers[0];
    assert_eq!(r.labels.get("name").map(String::as_str), Some("a"));
    let email = &r.email_configs[0];
    assert_eq!(email.smarthost.to_string(), "mail:25");
    assert_eq!(
        (email.from.as_str(), email.hello.as_str()),
        ("am@x", "localhost")
    );
    assert_eq!(email.require_tls, Some(true));
    let og = &r.opsgenie_configs[0];
    assert_eq!(og.api_key.expose(), "k");
    assert_eq!(
        og.api_url.as_ref().unwrap().to_string(),
        "https://og.example/api/"
    );
    assert!(og.send_resolved);
    assert_eq!(og.message, "{{ template \"opsgenie.default.message\" . }}");
}
