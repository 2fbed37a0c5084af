//! The built-in templates against upstream's `default.tmpl` (a fixture): every name renders
//! the same text for the same data; and the loading and rendering rules.

use std::sync::Arc;

use pm_gotmpl::Template;

use super::*;
use crate::alert::{Alert, Arrival, LabelSet, PostedAlert};
use crate::notify::data::Data;

fn labels(pairs: &[(&str, &str)]) -> LabelSet {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn alert(l: &[(&str, &str)], a: &[(&str, &str)], resolved: bool) -> Arc<Alert> {
    let posted = PostedAlert {
        labels: labels(l),
        annotations: labels(a),
        starts_at: Some("2026-01-01T00:00:00Z".parse().unwrap()),
        ends_at: resolved.then(|| "2026-01-01T00:01:00Z".parse().unwrap()),
        generator_url: "http://prom:9090/graph?g0.expr=up".into(),
    };
    let now = "2026-01-01T00:00:30Z".parse().unwrap();
    Arc::new(
        posted
            .into_alert(&Arrival::new(now, jiff::SignedDuration::from_mins(5)))
            .unwrap(),
    )
}

/// Groups covering firing only, resolved only, mixed, and extra common labels.
pub(crate) fn sample_data() -> Vec<Data> {
    let at = "2026-01-01T00:02:00Z".parse().unwrap();
    let a1 = alert(
        &[
            ("alertname", "HighLatency"),
            ("job", "api"),
            ("severity", "critical"),
            ("instance", "a:9090"),
        ],
        &[("summary", "latency > 1s"), ("runbook", "http://rb/<x>&y")],
        false,
    );
    let a2 = alert(
        &[
            ("alertname", "HighLatency"),
            ("job", "api"),
            ("severity", "warning"),
            ("instance", "b:9090"),
        ],
        &[("summary", "latency > 1s")],
        true,
    );
    let a3 = alert(
        &[
            ("alertname", "HighLatency"),
            ("job", "api"),
            ("severity", "info"),
            ("instance", "c:9090"),
        ],
        &[],
        false,
    );
    let group = labels(&[("alertname", "HighLatency")]);
    let sets: [&[Arc<Alert>]; 4] = [
        &[a1.clone(), a3.clone()],
        std::slice::from_ref(&a2),
        &[a1, a2.clone(), a3],
        &[],
    ];
    sets.iter()
        .map(|alerts| Data::new("team.x (ops)", &group, alerts, at, "http://am:9093"))
        .collect()
}

/// `.Alerts` of the data, as a plain list.
fn alert_list(data: &pm_gotmpl::Value) -> pm_gotmpl::Value {
    let pm_gotmpl::Value::Object(o) = data else {
        panic!("data is an object")
    };
    let Some(pm_gotmpl::Value::Object(alerts)) = o.field("Alerts") else {
        panic!("Alerts is an object")
    };
    alerts.base().expect("Alerts is a list")
}

#[test]
fn builtin_templates_render_like_upstreams_default_tmpl() {
    let fixture = pm_testsupport::testdata("alertmanager/template/default.tmpl");
    let upstream_src = std::fs::read_to_string(&fixture)
        .unwrap_or_else(|e| panic!("reading {}: {e}", fixture.display()));
    let mut upstream = Template::new("");
    *upstream.funcs_mut() = functions();
    upstream.missing_key(MissingKey::Zero);
    upstream.parse_named("default.tmpl", &upstream_src).unwrap();
    let ours = Templates::builtin();
    let names: Vec<String> = upstream
        .template_names()
        .into_iter()
        .filter(|n| !n.is_empty() && *n != "default.tmpl")
        .map(str::to_owned)
        .collect();
    assert!(names.len() > 60, "{names:?}");
    for data in sample_data() {
        let value = data_value(&data);
        for name in &names {
            // Some templates (the alert lists) take a list of alerts as dot.
            let (dot, want) = match upstream.execute(name, &value) {
                Ok(want) => (value.clone(), want),
                Err(_) => {
                    let list = alert_list(&value);
                    let want = upstream.execute(name, &list).unwrap();
                    (list, want)
                }
            };
            let got = ours.text.execute(name, &dot).unwrap();
            assert_eq!(
                got,
                want,
                "template {name} for {} alerts",
                data.alerts.len()
            );
        }
    }
}

#[test]
fn subject_and_lists_render_expected_text() {
    let t = Templates::builtin();
    let data = &sample_data()[2];
    let v = data_value(data);
    assert_eq!(
        t.text(r#"{{ template "__subject" . }}"#, &v).unwrap(),
        "[FIRING:2] HighLatency (api)"
    );
    assert_eq!(
        t.text(r#"{{ template "slack.default.titlelink" . }}"#, &v)
            .unwrap(),
        r"http://am:9093/#/alerts?receiver=team%5C.x+%5C%28ops%5C%29"
    );
    let list = t
        .text(r#"{{ template "__text_alert_list" .Alerts.Resolved }}"#, &v)
        .unwrap();
    assert_eq!(
        list,
        "Labels:\n - alertname = HighLatency\n - instance = b:9090\n - job = api\n - severity = warning\nAnnotations:\n - summary = latency > 1s\nSource: http://prom:9090/graph?g0.expr=up\n"
    );
}

#[test]
fn functions_and_data_model_behave_as_upstream() {
    let t = Templates::builtin();
    let v = data_value(&sample_data()[2]);
    let cases = [
        ("{{ .CommonLabels }}", "alertname=HighLatency, job=api"),
        ("{{ .CommonLabels.Names }}", "[alertname job]"),
        (
            "{{ (index .Alerts 0).StartsAt }}",
            "2026-01-01 00:00:00 +0000 UTC",
        ),
        (
            "{{ (index .Alerts 0).EndsAt }}",
            "0001-01-01 00:00:00 +0000 UTC",
        ),
        ("{{ (index .Alerts 1).EndsAt.Format \"15:04\" }}", "00:01"),
        (
            "{{ date \"2006-01-02\" (index .Alerts 0).StartsAt }}",
            "2026-01-01",
        ),
        (
            "{{ (index .Alerts 0).StartsAt | tz \"Asia/Tokyo\" | date \"15:04 MST\" }}",
            "09:00 JST",
        ),
        (
            "{{ .Status | toUpper }} {{ title \"hELLO wORLD\" }}",
            "FIRING Hello World",
        ),
        ("{{ stringSlice \"a\" \"b\" | join \",\" }}", "a,b"),
        ("{{ trimSpace \"  x \" }}", "x"),
        ("{{ urlUnescape \"a%2Fb+c\" }}", "a/b c"),
        ("{{ match \"^High\" .CommonLabels.alertname }}", "true"),
        ("{{ reReplaceAll \"(a+)\" \"<$1>\" \"baab\" }}", "b<aa>b"),
        ("{{ .CommonLabels.missing }}|", "|"),
        ("{{ 90 | humanizeDuration }}", "1m 30s"),
        ("{{ len .Alerts.Firing }}/{{ len .Alerts }}", "2/3"),
    ];
    for (src, want) in cases {
        assert_eq!(t.text(src, &v).unwrap(), want, "{src}");
    }
    let json = t.text("{{ .Alerts.Resolved | toJson }}", &v).unwrap();
    assert_eq!(
        json,
        r#"[{"status":"resolved","labels":{"alertname":"HighLatency","instance":"b:9090","job":"api","severity":"warning"},"annotations":{"summary":"latency \u003e 1s"},"startsAt":"2026-01-01T00:00:00Z","endsAt":"2026-01-01T00:01:00Z","generatorURL":"http://prom:9090/graph?g0.expr=up","fingerprint":""#
            .to_owned()
            + &sample_data()[2].alerts[1].fingerprint
            + r#""}]"#
    );
    let since = t
        .text("{{ since (index .Alerts 0).StartsAt }}", &v)
        .unwrap();
    assert!(since.ends_with('s') && since.contains('h'), "{since}");
}

#[test]
fn html_set_escapes_values_and_errors_fail_the_render() {
    let t = Templates::builtin();
    let v = data_value(&sample_data()[0]);
    let html = t
        .html(r#"<p>{{ (index .Alerts 0).Annotations.runbook }}</p>"#, &v)
        .unwrap();
    assert_eq!(html, "<p>http://rb/&lt;x&gt;&amp;y</p>");
    let body = t
        .html(r#"{{ template "email.default.html" . }}"#, &v)
        .unwrap();
    assert!(
        body.contains("<title>[FIRING:2] HighLatency (api)</title>"),
        "{body}"
    );
    assert!(body.contains("http://rb/&lt;x&gt;&amp;y"), "{body}");
    assert_eq!(t.text("plain", &v).unwrap(), "plain");
    assert_eq!(t.text("", &v).unwrap(), "");
    assert!(matches!(
        t.text("{{ .Nope.X }}", &v),
        Err(TemplateError::Exec(_))
    ));
    assert!(matches!(
        t.text("{{ nope }}", &v),
        Err(TemplateError::Parse(_))
    ));
    let mut e = Expander::new(&t, v);
    assert_eq!(e.text("{{ .Status }}"), "firing");
    assert_eq!(e.text("{{ template \"missing\" . }}"), "");
    assert_eq!(
        e.text("{{ .Status }}"),
        "",
        "later fields render empty after an error"
    );
    assert!(e.finish().is_err());
}

#[test]
fn user_templates_load_from_globs_and_override_defaults() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.tmpl"),
        r#"{{ define "slack.default.title" }}custom {{ .Status }}{{ end }}{{ define "mine" }}m{{ end }}"#,
    )
    .unwrap();
    let t = Templates::load(&[format!("{}/*.tmpl", dir.path().display())]).unwrap();
    let v = data_value(&sample_data()[1]);
    assert_eq!(
        t.text(
            r#"{{ template "slack.default.title" . }} {{ template "mine" }}"#,
            &v
        )
        .unwrap(),
        "custom resolved m"
    );
    std::fs::write(dir.path().join("b.tmpl"), "{{ define \"x\" }}{{ end").unwrap();
    let err = Templates::load(&[format!("{}/*.tmpl", dir.path().display())]).unwrap_err();
    assert!(err.to_string().contains("b.tmpl"), "{err}");
    let err = Templates::load(&["/tmp/[".to_owned()]).unwrap_err();
    assert!(err.to_string().contains("syntax error in pattern"), "{err}");
}
