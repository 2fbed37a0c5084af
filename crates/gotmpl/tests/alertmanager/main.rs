//! Conformance: Alertmanager's embedded default templates parse and render as upstream.
//! Expected outputs are derived by hand from the template sources and Go's semantics.

mod model;
mod time;

use model::{AlertSpec, DataSpec, alert, data};
use pm_gotmpl::{Template, Value};

fn fixture(name: &str) -> String {
    let path = pm_testsupport::testdata("alertmanager/template").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Both files in one set, as Alertmanager loads them.
fn templates(html: bool) -> Template {
    let mut t = if html {
        Template::new_html("default")
    } else {
        Template::new("default")
    };
    model::register(&mut t);
    time::register(&mut t);
    t.parse_named("default.tmpl", &fixture("default.tmpl"))
        .unwrap();
    t.parse_named("email.tmpl", &fixture("email.tmpl")).unwrap();
    t
}

const A1_LABELS: &[(&str, &str)] = &[
    ("alertname", "HighLatency"),
    ("instance", "a:9090"),
    ("job", "api"),
    ("severity", "critical"),
];
const A2_LABELS: &[(&str, &str)] = &[
    ("alertname", "HighLatency"),
    ("instance", "b:9090"),
    ("job", "api"),
    ("severity", "warning"),
];
const A3_LABELS: &[(&str, &str)] = &[
    ("alertname", "HighLatency"),
    ("instance", "c:9090"),
    ("job", "api"),
    ("severity", "info"),
];

fn sample(firing: &[bool]) -> Value {
    let specs = [
        AlertSpec {
            firing: firing[0],
            labels: A1_LABELS,
            annotations: &[
                ("description", "p99 > 1s & <rising>"),
                ("summary", "Latency is high"),
            ],
            generator_url: "http://prom:9090/graph?g0.expr=up&g0.tab=1",
        },
        AlertSpec {
            firing: firing[1],
            labels: A2_LABELS,
            annotations: &[("summary", "Latency is high")],
            generator_url: "http://prom:9090/graph?g0.expr=x",
        },
        AlertSpec {
            firing: firing[2],
            labels: A3_LABELS,
            annotations: &[],
            generator_url: "",
        },
    ];
    data(DataSpec {
        receiver: "team X/ops",
        alerts: specs.iter().map(alert).collect(),
        group_labels: &[("alertname", "HighLatency")],
        common_labels: &[("alertname", "HighLatency"), ("job", "api")],
        common_annotations: &[("summary", "Latency is high")],
        external_url: "http://am.example.com",
    })
}

const A1_TEXT: &str = "Labels:\n - alertname = HighLatency\n - instance = a:9090\n - job = api\n - severity = critical\nAnnotations:\n - description = p99 > 1s & <rising>\n - summary = Latency is high\nSource: http://prom:9090/graph?g0.expr=up&g0.tab=1\n";
const A2_TEXT: &str = "Labels:\n - alertname = HighLatency\n - instance = b:9090\n - job = api\n - severity = warning\nAnnotations:\n - summary = Latency is high\nSource: http://prom:9090/graph?g0.expr=x\n";
const A3_TEXT: &str = "Labels:\n - alertname = HighLatency\n - instance = c:9090\n - job = api\n - severity = info\nAnnotations:\nSource: \n";

#[test]
fn every_definition_parses() {
    let t = templates(false);
    for name in [
        "__subject",
        "slack.default.title",
        "email.default.html",
        "jira.default.priority",
        "msteamsv2.default.text",
    ] {
        assert!(t.lookup(name).is_some(), "{name} missing");
    }
    // 64 definitions plus the two (empty) file-level templates.
    assert_eq!(t.template_names().len(), 66);
    templates(true);
}

#[test]
fn subjects_and_titles() {
    let t = templates(false);
    let d = sample(&[true, true, false]);
    let subject = "[FIRING:2] HighLatency (api)";
    for name in [
        "__subject",
        "slack.default.title",
        "email.default.subject",
        "pagerduty.default.description",
        "opsgenie.default.message",
    ] {
        assert_eq!(t.execute(name, &d).unwrap(), subject, "{name}");
    }
    let url = "http://am.example.com/#/alerts?receiver=team+X%2Fops";
    assert_eq!(t.execute("slack.default.titlelink", &d).unwrap(), url);
    assert_eq!(
        t.execute("slack.default.fallback", &d).unwrap(),
        format!("{subject} | {url}")
    );
    assert_eq!(t.execute("slack.default.color", &d).unwrap(), "danger");
    assert_eq!(
        t.execute("slack.default.username", &d).unwrap(),
        "Alertmanager"
    );
    assert_eq!(t.execute("slack.default.text", &d).unwrap(), "");

    let resolved = sample(&[false, false, false]);
    assert_eq!(
        t.execute("__subject", &resolved).unwrap(),
        "[RESOLVED] HighLatency (api)"
    );
    assert_eq!(
        t.execute("mattermost.default.color", &resolved).unwrap(),
        "good"
    );
}

#[test]
fn alert_lists() {
    let t = templates(false);
    let d = sample(&[true, true, false]);
    let want =
        format!("Latency is high\nAlerts Firing:\n{A1_TEXT}{A2_TEXT}\nAlerts Resolved:\n{A3_TEXT}");
    assert_eq!(t.execute("opsgenie.default.description", &d).unwrap(), want);
    assert_eq!(
        t.execute("victorops.default.state_message", &d).unwrap(),
        want
    );
    assert_eq!(
        t.execute("__text_alert_list", &Value::from(vec![]))
            .unwrap(),
        ""
    );
    // Upstream passes the whole data here, which is not a list: Go fails the same way.
    let err = t
        .execute("pagerduty.default.instances", &d)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("template: default.tmpl:7:41: executing \"__text_alert_list\" at <.>: range can't iterate over"), "{err}");
    let pushover = format!(
        "Latency is high\n\nAlerts Firing:\n{A1_TEXT}{A2_TEXT}\n\n\nAlerts Resolved:\n{A3_TEXT}\n\n"
    );
    assert_eq!(t.execute("pushover.default.message", &d).unwrap(), pushover);
}

/// One alert as `__text_alert_list_markdown` renders it.
fn markdown_item(labels: &[(&str, &str)], annotations: &[(&str, &str)], url: &str) -> String {
    let lines = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| format!("  - {k} = {v}\n"))
            .collect::<String>()
    };
    format!(
        "\nLabels:\n{}\nAnnotations:\n{}\nSource: {url}\n",
        lines(labels),
        lines(annotations)
    )
}

#[test]
fn markdown_alert_list() {
    let t = templates(false);
    let d = sample(&[false, false, true]);
    let a1 = markdown_item(
        A1_LABELS,
        &[
            ("description", "p99 > 1s & <rising>"),
            ("summary", "Latency is high"),
        ],
        "http://prom:9090/graph?g0.expr=up&g0.tab=1",
    );
    let a2 = markdown_item(
        A2_LABELS,
        &[("summary", "Latency is high")],
        "http://prom:9090/graph?g0.expr=x",
    );
    let a3 = markdown_item(A3_LABELS, &[], "");
    let want = format!("\n\n# Alerts Firing:\n{a3}\n\n\n\n# Alerts Resolved:\n{a1}{a2}\n\n\n");
    assert_eq!(t.execute("msteams.default.text", &d).unwrap(), want);
    assert_eq!(t.execute("jira.default.description", &d).unwrap(), want);
}

#[test]
fn jira_priority_walks_severities() {
    let t = templates(false);
    assert_eq!(
        t.execute("jira.default.priority", &sample(&[true, true, false]))
            .unwrap(),
        "High"
    );
    assert_eq!(
        t.execute("jira.default.priority", &sample(&[false, true, true]))
            .unwrap(),
        "Medium"
    );
    assert_eq!(
        t.execute("jira.default.priority", &sample(&[false, false, true]))
            .unwrap(),
        "Low"
    );
    // Nothing firing: the resolved alerts decide.
    assert_eq!(
        t.execute("jira.default.priority", &sample(&[false, false, false]))
            .unwrap(),
        "High"
    );
}

#[test]
fn email_html_is_escaped_by_context() {
    let t = templates(true);
    let d = sample(&[true, true, false]);
    let html = t.execute("email.default.html", &d).unwrap();
    assert!(
        html.starts_with("\n\n<!DOCTYPE html PUBLIC"),
        "license comment must be stripped: {:?}",
        &html[..80]
    );
    assert!(!html.contains("<!--"));
    assert!(html.contains("<title>[FIRING:2] HighLatency (api)</title>"));
    assert!(html.contains(
        r#"<a href="http://am.example.com/#/alerts?receiver=team&#43;X%2Fops" class="btn-primary""#
    ));
    assert!(html.contains("description = p99 &gt; 1s &amp; &lt;rising&gt;<br"));
    assert!(html.contains(r#"<a href="http://prom:9090/graph?g0.expr=up&amp;g0.tab=1" style="#));
    assert!(html.contains(r#"<a href="http://am.example.com" style="#));
    assert!(html.contains("[2] Firing</strong>"));
    assert!(html.contains("[1] Resolved</strong>"));
    assert!(html.contains(">View in Alertmanager</a>"));
    assert!(html.contains("3 alerts for \n                alertname=HighLatency\n"));
    assert!(html.trim_end().ends_with("</html>"));

    // The same template in text mode leaves values alone.
    let text = templates(false).execute("email.default.html", &d).unwrap();
    assert!(text.contains("description = p99 > 1s & <rising><br"));
    assert!(text.contains("<!--"));
}

#[test]
fn alertmanager_functions() {
    let mut t = Template::new("f");
    model::register(&mut t);
    let src = r#"{{ "hello wORLD" | title }}|{{ toLower "ABC" }}|{{ stringSlice "a" "b" | join "," }}|{{ reReplaceAll "(a+)" "<$1>" "baaad" }}|{{ match "^a.c$" "abc" }}|{{ "  x " | trimSpace }}|{{ .CommonLabels | toJson }}"#;
    t.parse(src).unwrap();
    let out = t.execute("f", &sample(&[true, true, true])).unwrap();
    assert_eq!(
        out,
        r#"Hello World|abc|a,b|b<aaa>d|true|x|{"alertname":"HighLatency","job":"api"}"#
    );
}

#[test]
fn time_values_and_functions() {
    let mut t = Template::new("f");
    time::register(&mut t);
    let src = r#"{{ .StartsAt }}|{{ .StartsAt | date "2006-01-02T15:04:05Z07:00" }}|{{ date "Jan 02, 15:04 MST" .StartsAt }}|{{ printf "%s" .StartsAt }}|{{ .StartsAt.Unix }}"#;
    t.parse(src).unwrap();
    let data = Value::map([("StartsAt", Value::object(time::Time(1_700_000_000)))]);
    assert_eq!(
        t.execute("f", &data).unwrap(),
        "2023-11-14 22:13:20 +0000 UTC|2023-11-14T22:13:20Z|Nov 14, 22:13 UTC|2023-11-14 22:13:20 +0000 UTC|1700000000"
    );
    let cases = [
        ("90061", "1d 1h 1m 1s"),
        ("3600", "1h 0m 0s"),
        ("61.5", "1m 1s"),
        ("1.5", "1.5s"),
        ("0.0012", "1.2ms"),
        ("0", "0s"),
        ("-2.25", "-2.25s"),
    ];
    for (input, want) in cases {
        let mut t = Template::new("h");
        time::register(&mut t);
        t.parse(&format!("{{{{ humanizeDuration {input} }}}}"))
            .unwrap();
        assert_eq!(t.execute("h", &Value::Nil).unwrap(), want, "{input}");
    }
}
