use super::*;
use pm_common::expfmt::encode::write_text;

fn exporter(server_fields: &str, exclude: &str) -> Exporter {
    Exporter::new(&Options {
        scrape_uri: "http://127.0.0.1:1/;csv".into(),
        ssl_verify: true,
        proxy_from_env: false,
        server_metric_fields: server_fields.into(),
        server_exclude_states: exclude.into(),
        timeout: Duration::from_secs(1),
    })
    .unwrap()
}

fn text(families: &[MetricFamily]) -> String {
    let mut s = String::new();
    for f in families.iter().filter(|f| !f.metric.is_empty()) {
        write_text(&mut s, f).unwrap();
    }
    s
}

/// A 62-column server row of backend `be`.
fn server_row(name: &str, status: &str, check_ms: &str, qtime_ms: &str) -> String {
    let mut row = vec![""; 62];
    row[0] = "be";
    row[1] = name;
    row[8] = "1024";
    row[17] = status;
    row[32] = "2";
    row[38] = check_ms;
    row[58] = qtime_ms;
    row.join(",") + "\n"
}

#[test]
fn server_fields_filter() {
    assert!(filter_server_metrics("").unwrap().is_empty());
    let chosen = filter_server_metrics("8,1,8,17").unwrap();
    assert_eq!(
        chosen.iter().map(|f| f.index).collect::<Vec<_>>(),
        [8, 17],
        "unknown columns are ignored, duplicates collapse"
    );
    assert_eq!(
        filter_server_metrics("8,x").unwrap_err().to_string(),
        "invalid server metric field number: x"
    );
    assert_eq!(
        filter_server_metrics(&all_server_fields()).unwrap().len(),
        fields::SERVER.len()
    );
}

#[test]
fn status_values() {
    for (s, want) in [
        ("UP", 1.0),
        ("UP 1/3", 1.0),
        ("UP 2/3", 1.0),
        ("OPEN", 1.0),
        ("no check", 1.0),
        ("DRAIN", 1.0),
        ("DOWN", 0.0),
        ("DOWN 1/2", 0.0),
        ("NOLB", 0.0),
        ("MAINT", 0.0),
        ("unknown", 0.0),
    ] {
        assert_eq!(status_value(s), want, "{s}");
    }
}

#[test]
fn show_info() {
    let info = Info::parse(
        b"Name: HAProxy\r\nVersion: 2.6.12\nRelease_date: 2023/03/28\nIdle_pct: 97\nnoise\n",
    );
    assert_eq!(
        info,
        Info {
            release_date: "2023/03/28".into(),
            version: "2.6.12".into(),
            idle_pct: Some(97.0)
        }
    );
    assert_eq!(Info::parse(b"Idle_pct: 101\n").idle_pct, None);
}

#[test]
fn server_rows_become_labelled_series_in_seconds() {
    let e = exporter("8,17,38,58", "");
    let csv = server_row("s1", "UP", "2", "1500") + &server_row("s2", "DOWN", "", "");
    let mut out = Vec::new();
    e.parse_csv(csv.as_bytes(), &mut out);
    let got = text(&out);
    assert!(got.contains("haproxy_server_bytes_in_total{backend=\"be\",server=\"s1\"} 1024\n"));
    assert!(got.contains("haproxy_server_up{backend=\"be\",server=\"s2\"} 0\n"));
    assert!(
        got.contains("haproxy_server_check_duration_seconds{backend=\"be\",server=\"s1\"} 0.002\n")
    );
    assert!(got.contains(
        "haproxy_server_http_queue_time_average_seconds{backend=\"be\",server=\"s1\"} 1.5\n"
    ));
    // Empty cells give no sample.
    assert!(!got.contains("haproxy_server_check_duration_seconds{backend=\"be\",server=\"s2\"}"));
    assert_eq!(e.csv_failures.load(Ordering::Relaxed), 0);
}

#[test]
fn excluded_states_and_the_empty_state() {
    let csv = server_row("s1", "MAINT", "", "")
        + &server_row("s2", "", "", "")
        + &server_row("s3", "UP", "", "");
    let mut out = Vec::new();
    exporter("8,17", "MAINT").parse_csv(csv.as_bytes(), &mut out);
    let got = text(&out);
    assert!(!got.contains("s1"));
    assert!(got.contains("server=\"s2\""));
    assert!(got.contains("server=\"s3\""));
    // With the default (empty) flag, rows with an empty status are the ones left out.
    let mut out = Vec::new();
    exporter("8,17", "").parse_csv(csv.as_bytes(), &mut out);
    let got = text(&out);
    assert!(got.contains("server=\"s1\""));
    assert!(!got.contains("s2"));
}

#[test]
fn bad_values_and_short_rows_are_counted() {
    let e = exporter("8", "");
    let csv = server_row("s1", "UP", "", "").replace(",1024,", ",12x,") + "a,b,c\n";
    let mut out = Vec::new();
    e.parse_csv(csv.as_bytes(), &mut out);
    // The bad value, and the short row which also breaks the field count.
    assert_eq!(e.csv_failures.load(Ordering::Relaxed), 2);
    assert!(!text(&out).contains("bytes_in"));
}

#[test]
fn frontend_responses_carry_the_code_label() {
    let mut row = vec!["0"; 80];
    row[0] = "fe";
    row[1] = "FRONTEND";
    row[17] = "OPEN";
    row[32] = "0";
    row[40] = "7";
    let mut out = Vec::new();
    exporter("", "").parse_csv((row.join(",") + "\n").as_bytes(), &mut out);
    let got = text(&out);
    assert!(
        got.contains("haproxy_frontend_http_responses_total{code=\"2xx\",frontend=\"fe\"} 7\n")
    );
    assert!(got.contains("haproxy_frontend_connections_total{frontend=\"fe\"} 0\n"));
    assert!(!got.contains("haproxy_server_"));
}
