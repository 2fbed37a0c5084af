use std::sync::Arc;

use super::*;
use crate::expfmt::dto;
use crate::expfmt::proto::decode_delimited;

const PROTO_ACCEPT: &str =
    "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited";

/// A collector computing its value at gather time, like the process collector.
struct Fixed(&'static str, f64);

impl Collector for Fixed {
    fn collect(&self, out: &mut Vec<dto::MetricFamily>) {
        out.push(dto::MetricFamily {
            name: Some(self.0.into()),
            help: Some("fixed".into()),
            r#type: Some(dto::MetricType::Gauge as i32),
            metric: vec![dto::Metric {
                gauge: Some(dto::Gauge {
                    value: Some(self.1),
                }),
                ..Default::default()
            }],
            unit: None,
        });
    }
}

fn body(families: &[dto::MetricFamily], accept: Option<&str>) -> String {
    String::from_utf8(render(families, accept).1).unwrap()
}

#[test]
fn gather_sorts_merges_and_drops_empty_families() {
    let r = Registry::new();
    let requests = r
        .counter_vec(
            Opts::new("requests_total", "Requests."),
            &["code", "method"],
        )
        .unwrap();
    requests.with_label_values(&["500", "GET"]).inc();
    requests.with_label_values(&["200", "POST"]).inc_by(2.0);
    requests.with_label_values(&["200", "GET"]).inc();
    r.gauge_vec(Opts::new("unused", "Never touched."), &["x"])
        .unwrap();
    r.gauge(Opts::new("build_info", "Build.").const_label("version", "1.2.3"))
        .unwrap()
        .set(1.0);
    r.register(Arc::new(Fixed("zeta", 1.0)));
    r.register(Arc::new(Fixed("alpha", 2.0)));
    r.register(Arc::new(Fixed("alpha", 3.0)));

    let families = r.gather();
    let names: Vec<_> = families.iter().map(|f| f.name()).collect();
    assert_eq!(names, ["alpha", "build_info", "requests_total", "zeta"]);
    assert_eq!(families[0].metric.len(), 2);
    assert_eq!(
        body(&families[1..3], None),
        "# HELP build_info Build.\n# TYPE build_info gauge\nbuild_info{version=\"1.2.3\"} 1\n\
         # HELP requests_total Requests.\n# TYPE requests_total counter\n\
         requests_total{code=\"200\",method=\"GET\"} 1\n\
         requests_total{code=\"200\",method=\"POST\"} 2\n\
         requests_total{code=\"500\",method=\"GET\"} 1\n"
    );
}

#[test]
fn label_pairs_are_sorted_by_name_with_const_labels() {
    let v = GaugeVec::new(Opts::new("g", "h").const_label("m", "const"), &["z", "a"]).unwrap();
    v.with_label_values(&["zv", "av"]).set(4.0);
    let mut out = Vec::new();
    v.collect(&mut out);
    let names: Vec<_> = out[0].metric[0]
        .label
        .iter()
        .map(|l| (l.name(), l.value()))
        .collect();
    assert_eq!(names, [("a", "av"), ("m", "const"), ("z", "zv")]);
}

#[test]
fn definition_errors() {
    let r = Registry::new();
    r.counter(Opts::new("x_total", "")).unwrap();
    assert_eq!(
        r.counter(Opts::new("x_total", "")).unwrap_err(),
        MetricsError::AlreadyRegistered("x_total".into())
    );
    assert!(matches!(
        CounterVec::new(Opts::new("", ""), &[]),
        Err(MetricsError::InvalidName(_))
    ));
    assert!(matches!(
        CounterVec::new(Opts::new("c", ""), &["__reserved"]),
        Err(MetricsError::InvalidLabel { .. })
    ));
    assert!(matches!(
        CounterVec::new(Opts::new("c", "").const_label("a", "1"), &["a"]),
        Err(MetricsError::DuplicateLabel { .. })
    ));
    assert!(matches!(
        HistogramVec::new(Opts::new("h", ""), &DEFAULT_BUCKETS, &["le"]),
        Err(MetricsError::ReservedLabel { .. })
    ));
    let v = CounterVec::new(Opts::new("c", ""), &["a", "b"]).unwrap();
    assert_eq!(
        v.get_metric_with_label_values(&["1"]).unwrap_err(),
        MetricsError::Cardinality {
            metric: "c".into(),
            want: 2,
            got: 1
        }
    );
}

#[test]
fn children_are_shared_removable_and_resettable() {
    let v = CounterVec::new(Opts::new("c_total", ""), &["a"]).unwrap();
    v.with_label_values(&["x"]).inc();
    v.with_label_values(&["x"]).inc();
    assert_eq!(v.with_label_values(&["x"]).get(), 2.0);
    // Values that concatenate alike are still different children.
    let ab = CounterVec::new(Opts::new("d_total", ""), &["a", "b"]).unwrap();
    ab.with_label_values(&["ab", ""]).inc();
    assert_eq!(ab.with_label_values(&["a", "b"]).get(), 0.0);
    assert_eq!(v.remove_label_values(&["x"]), Ok(true));
    assert_eq!(v.remove_label_values(&["x"]), Ok(false));
    assert_eq!(v.with_label_values(&["x"]).get(), 0.0);
    v.reset();
    let mut out = Vec::new();
    v.collect(&mut out);
    assert!(out[0].metric.is_empty());
}

#[test]
fn concurrent_increments_are_counted() {
    let v = CounterVec::new(Opts::new("c_total", ""), &["t"]).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let v = v.clone();
            std::thread::spawn(move || {
                let shared = v.with_label_values(&["shared"]);
                let own = v.with_label_values(&[&i.to_string()]);
                for _ in 0..10_000 {
                    shared.inc();
                    own.inc();
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
    assert_eq!(v.with_label_values(&["shared"]).get(), 40_000.0);
    assert_eq!(v.with_label_values(&["3"]).get(), 10_000.0);
}

#[test]
fn histogram_renders_classic_buckets() {
    let r = Registry::new();
    let h = r
        .histogram(Opts::new("latency_seconds", "Latency."), &[0.1, 1.0])
        .unwrap();
    h.observe(0.05);
    h.observe(0.5);
    h.observe(3.0);
    assert_eq!(
        body(&r.gather(), None),
        "# HELP latency_seconds Latency.\n# TYPE latency_seconds histogram\n\
         latency_seconds_bucket{le=\"0.1\"} 1\nlatency_seconds_bucket{le=\"1\"} 2\n\
         latency_seconds_bucket{le=\"+Inf\"} 3\nlatency_seconds_sum 3.55\nlatency_seconds_count 3\n"
    );
}

#[test]
fn render_negotiates_protobuf_and_openmetrics() {
    let r = Registry::new();
    r.counter(Opts::new("hits_total", "Hits.")).unwrap().inc();
    let families = r.gather();

    let (ct, raw) = render(&families, Some(PROTO_ACCEPT));
    assert_eq!(
        ct,
        "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=underscores"
    );
    assert_eq!(decode_delimited(&raw).unwrap(), families);

    // Without OpenMetrics enabled an OpenMetrics-only client gets text, as with promhttp.
    let (ct, _) = render(
        &families,
        Some("application/openmetrics-text;version=1.0.0"),
    );
    assert!(ct.starts_with("text/plain; version=0.0.4"));

    let options = RenderOptions {
        openmetrics: true,
        created_lines: false,
    };
    let (ct, raw) = render_with(
        &families,
        Some("application/openmetrics-text;version=1.0.0"),
        options,
    );
    assert_eq!(
        ct,
        "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores"
    );
    assert_eq!(
        String::from_utf8(raw).unwrap(),
        "# HELP hits Hits.\n# TYPE hits counter\nhits_total 1.0\n# EOF\n"
    );
    let options = RenderOptions {
        openmetrics: true,
        created_lines: true,
    };
    let (_, raw) = render_with(&families, Some("application/openmetrics-text"), options);
    assert!(String::from_utf8(raw).unwrap().contains("\nhits_created "));
}

#[test]
fn render_escapes_utf8_names_unless_allowed() {
    let r = Registry::new();
    r.gauge(Opts::new("my.gauge", "UTF-8 name."))
        .unwrap()
        .set(2.0);
    let families = r.gather();
    assert_eq!(
        body(&families, None),
        "# HELP my_gauge UTF-8 name.\n# TYPE my_gauge gauge\nmy_gauge 2\n"
    );
    assert_eq!(
        body(
            &families,
            Some("text/plain;version=0.0.4;escaping=allow-utf-8")
        ),
        "# HELP \"my.gauge\" UTF-8 name.\n# TYPE \"my.gauge\" gauge\n{\"my.gauge\"} 2\n"
    );
    assert!(body(&families, Some("text/plain;escaping=values")).contains("U__my_2e_gauge 2\n"));
}

#[test]
fn render_stops_at_a_family_it_cannot_encode() {
    let good = |name: &str| dto::MetricFamily {
        name: Some(name.into()),
        r#type: Some(dto::MetricType::Gauge as i32),
        metric: vec![dto::Metric {
            gauge: Some(dto::Gauge { value: Some(1.0) }),
            ..Default::default()
        }],
        ..Default::default()
    };
    let bad = dto::MetricFamily {
        metric: vec![],
        ..good("b")
    };
    assert_eq!(
        body(&[good("a"), bad, good("c")], None),
        "# TYPE a gauge\na 1\n"
    );
}
