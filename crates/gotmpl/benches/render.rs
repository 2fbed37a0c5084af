//! Parse and render costs for the templates Promethium runs most: Alertmanager's defaults
//! (text and HTML email) and a Prometheus-style alert annotation.

#[path = "../tests/alertmanager/model.rs"]
mod model;

use criterion::{Criterion, criterion_group, criterion_main};
use model::{AlertSpec, DataSpec, alert, data};
use pm_gotmpl::{Map, MissingKey, Template, Value};

fn read(name: &str) -> String {
    let path = pm_testsupport::testdata("alertmanager/template").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn alertmanager_set(html: bool, default: &str, email: &str) -> Template {
    let mut t = if html {
        Template::new_html("default")
    } else {
        Template::new("default")
    };
    model::register(&mut t);
    t.parse_named("default.tmpl", default).unwrap();
    t.parse_named("email.tmpl", email).unwrap();
    t
}

fn sample() -> Value {
    let labels: Vec<Vec<(String, String)>> = (0..10)
        .map(|i| {
            vec![
                ("alertname".to_owned(), "HighLatency".to_owned()),
                ("instance".to_owned(), format!("host-{i}:9090")),
                ("job".to_owned(), "api".to_owned()),
                (
                    "severity".to_owned(),
                    if i % 2 == 0 { "critical" } else { "warning" }.to_owned(),
                ),
            ]
        })
        .collect();
    let borrowed: Vec<Vec<(&str, &str)>> = labels
        .iter()
        .map(|l| l.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect())
        .collect();
    let alerts = borrowed
        .iter()
        .enumerate()
        .map(|(i, l)| {
            alert(&AlertSpec {
                firing: i < 7,
                labels: l,
                annotations: &[
                    ("summary", "Latency is high"),
                    ("description", "p99 > 1s & rising"),
                ],
                generator_url: "http://prom:9090/graph?g0.expr=up&g0.tab=1",
            })
        })
        .collect();
    data(DataSpec {
        receiver: "team X",
        alerts,
        group_labels: &[("alertname", "HighLatency")],
        common_labels: &[("alertname", "HighLatency"), ("job", "api")],
        common_annotations: &[("summary", "Latency is high")],
        external_url: "http://am.example.com",
    })
}

fn bench(c: &mut Criterion) {
    let (default, email) = (read("default.tmpl"), read("email.tmpl"));
    c.bench_function("parse alertmanager default+email", |b| {
        b.iter(|| alertmanager_set(false, &default, &email))
    });
    let text = alertmanager_set(false, &default, &email);
    let html = alertmanager_set(true, &default, &email);
    let d = sample();
    c.bench_function("render slack.default.title", |b| {
        b.iter(|| text.execute("slack.default.title", &d).unwrap())
    });
    c.bench_function("render opsgenie.default.description (10 alerts)", |b| {
        b.iter(|| text.execute("opsgenie.default.description", &d).unwrap())
    });
    c.bench_function("render email.default.html (10 alerts, HTML mode)", |b| {
        b.iter(|| html.execute("email.default.html", &d).unwrap())
    });

    let annotation = r#"{{$labels := .Labels}}{{$value := .Value}}{{ $labels.instance }} of job {{ $labels.job }} has latency {{ printf "%.2f" $value }}s ({{ $value }})"#;
    let mut prom = Template::new("annotation");
    prom.missing_key(MissingKey::Zero);
    let prom_data = Value::map([
        (
            "Labels",
            Value::from(Map::of_strings([
                ("instance", "host-1:9090"),
                ("job", "api"),
            ])),
        ),
        ("Value", Value::Float(1.23456)),
    ]);
    c.bench_function("parse+render prometheus annotation", |b| {
        b.iter(|| {
            let mut t = prom.clone();
            t.parse(annotation).unwrap();
            t.execute("annotation", &prom_data).unwrap()
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
