//! Upstream's expansion scenarios (its template tests' inputs and expected outputs), and the
//! alert data model.

use super::*;

const TIMESTAMP_MS: i64 = 1_353_755_652_000;

fn env_with(results: Vec<QuerySample>) -> Env {
    let query: QueryFn = Arc::new(move |_, _| Ok(results.clone()));
    Env {
        external_url: "http://testhost:9090/path/prefix".into(),
        query: Some(query),
    }
}

fn text(template: &str, data: Value) -> Result<String, String> {
    expand("test", template, &data, TIMESTAMP_MS, &env_with(Vec::new())).map_err(|e| e.to_string())
}

fn ok(template: &str) -> String {
    text(template, Value::Nil).unwrap_or_else(|e| panic!("{template}: {e}"))
}

fn html(template: &str) -> String {
    expand_html(
        "test",
        template,
        &Value::Nil,
        TIMESTAMP_MS,
        &env_with(Vec::new()),
    )
    .unwrap_or_else(|e| panic!("{template}: {e}"))
}

fn with_query(template: &str, results: Vec<QuerySample>) -> Result<String, String> {
    expand(
        "test",
        template,
        &Value::Nil,
        TIMESTAMP_MS,
        &env_with(results),
    )
    .map_err(|e| e.to_string())
}

fn sample(pairs: &[(&str, &str)], value: f64) -> QuerySample {
    QuerySample {
        labels: Labels::from_pairs(pairs.iter().copied()),
        value,
    }
}

fn floats(xs: &[f64]) -> Value {
    Value::list(xs.iter().map(|&x| Value::Float(x)))
}

fn ints(xs: &[i64]) -> Value {
    Value::list(xs.iter().map(|&x| Value::Int(x)))
}

fn strings(xs: &[&str]) -> Value {
    Value::list(xs.iter().map(|&x| Value::from(x)))
}

#[test]
fn plain_values_and_escaping() {
    assert_eq!(ok("plain text"), "plain text");
    assert_eq!(ok("{{ 1 }}"), "1");
    assert_eq!(ok(r#"{{ "<b>" }}"#), "<b>");
    assert_eq!(html(r#"{{ "<b>" }}"#), "&lt;b&gt;");
    assert_eq!(html(r#"{{ "<b>" | safeHtml }}"#), "<b>");
    assert_eq!(
        ok(r#"{{define "x"}}{{.arg0}} {{.arg1}}{{end}}{{template "x" (args 1 "2")}}"#),
        "1 2"
    );
    assert_eq!(
        html(r#"{{ define "a" }}x{{ end }}{{ $name := "a"}}{{ tmpl $name . }}"#),
        "x"
    );
}

#[test]
fn parse_and_missing_key_behaviour() {
    assert_eq!(
        ok("{{ .Foo }}"),
        "<no value>",
        "nil data prints <no value> even with missingkey=zero"
    );
    assert_eq!(html("{{ .Foo }}"), "");
    assert_eq!(
        text("{{", Value::Nil).unwrap_err(),
        "error parsing template test: template: test:1: unclosed action"
    );
    // Go prints only `U+00A0` (the character is not printable for Go); the engine adds it.
    assert!(text("{{\u{a0}}}", Value::Nil).unwrap_err().starts_with(
        "error parsing template test: template: test:1: unrecognized character in action: U+00A0"
    ));
    let data = Value::map([("m", Value::map([("a", Value::Int(1))]))]);
    assert_eq!(text("[{{ .m.missing }}]", data).unwrap(), "[<no value>]");
}

#[test]
fn query_results() {
    let one = |v| vec![sample(&[("__name__", "metric"), ("instance", "a")], v)];
    assert_eq!(
        with_query(
            r#"{{ query "1.5" | first | value }}"#,
            vec![sample(&[], 1.5)]
        )
        .unwrap(),
        "1.5"
    );
    assert_eq!(
        with_query(
            r#"{{ query "metric{instance='a'}" | first | value }}"#,
            one(11.0)
        )
        .unwrap(),
        "11"
    );
    assert_eq!(
        with_query(
            r#"{{ query "metric" | first | label "instance" }}"#,
            one(11.0)
        )
        .unwrap(),
        "a"
    );
    assert_eq!(
        with_query(r#"{{ query "metric" | first | label "foo" }}"#, one(11.0)).unwrap(),
        ""
    );
    assert_eq!(
        with_query(
            r#"{{ $x := query "metric" | first }}{{ $x.Labels.foo }}"#,
            one(11.0)
        )
        .unwrap(),
        ""
    );
    assert_eq!(
        with_query(
            r#"{{ query "metric" | first | strvalue }}"#,
            vec![sample(&[("__name__", "metric"), ("__value__", "a")], 11.0)]
        )
        .unwrap(),
        "a"
    );
    let unsorted = vec![
        sample(&[("__name__", "metric"), ("instance", "b")], 21.0),
        sample(&[("__name__", "metric"), ("instance", "a")], 11.0),
    ];
    assert_eq!(
        with_query(
            r#"{{ range query "metric" | sortByLabel "instance" }}{{.Labels.instance}}:{{.Value}}: {{end}}"#,
            unsorted
        )
        .unwrap(),
        "a:11: b:21: "
    );
    assert_eq!(
        with_query(
            r#"{{ len (query "m") }} {{ (index (query "m") 0).Value }}"#,
            one(2.5)
        )
        .unwrap(),
        "1 2.5"
    );
}

#[test]
fn query_errors_as_upstream() {
    assert_eq!(
        with_query(r#"{{ query "missing" | first }}"#, Vec::new()).unwrap_err(),
        r#"error executing template test: template: test:1:21: executing "test" at <first>: error calling first: first() called on vector with no elements"#
    );
    // Upstream: `test:1:10: executing "test" at <"missing">: can't evaluate field banana in
    // type template.queryResult`; the engine names the chain and the list type instead.
    let err = with_query(r#"{{ (query "missing").banana }}"#, Vec::new()).unwrap_err();
    assert!(
        err.starts_with(r#"error executing template test: template: test:1:"#)
            && err.contains("can't evaluate field banana in type"),
        "{err}"
    );
    let failing: QueryFn = Arc::new(|q, ts| Err(format!("bad query {q} at {ts}")));
    let env = Env {
        external_url: String::new(),
        query: Some(failing),
    };
    let err = expand("test", r#"{{ query "up" }}"#, &Value::Nil, 7, &env).unwrap_err();
    assert!(
        err.to_string()
            .ends_with("error calling query: bad query up at 7"),
        "{err}"
    );
}

#[test]
fn host_functions() {
    for (input, port, domain) in [
        ("foo.example.com", "foo.example.com", "foo"),
        ("foo.example.com:12345", "foo.example.com", "foo:12345"),
        ("192.0.2.1", "192.0.2.1", "192.0.2.1"),
        ("192.0.2.1:12345", "192.0.2.1", "192.0.2.1:12345"),
        ("2001:0DB8::1", "2001:0DB8::1", "2001:0DB8::1"),
        (
            "[2001:0DB8::1]:12345",
            "2001:0DB8::1",
            "[2001:0DB8::1]:12345",
        ),
        (
            "[2001:0DB8::1]::12345",
            "[2001:0DB8::1]::12345",
            "[2001:0DB8::1]::12345",
        ),
    ] {
        assert_eq!(ok(&format!("{{{{ {input:?} | stripPort }}}}")), port);
        assert_eq!(ok(&format!("{{{{ {input:?} | stripDomain }}}}")), domain);
    }
}

#[test]
fn links_and_urls() {
    assert_eq!(ok(r#"{{ graphLink "up" }}"#), "/graph?g0.expr=up&g0.tab=0");
    assert_eq!(ok(r#"{{ tableLink "up" }}"#), "/graph?g0.expr=up&g0.tab=1");
    assert_eq!(
        ok(r#"{{ graphLink "rate(x{a=\"b c\"}[5m])" }}"#),
        "/graph?g0.expr=rate%28x%7Ba%3D%22b+c%22%7D%5B5m%5D%29&g0.tab=0"
    );
    assert_eq!(ok("{{ pathPrefix }}"), "/path/prefix");
    assert_eq!(ok("{{ externalURL }}"), "http://testhost:9090/path/prefix");
    assert_eq!(ok(r#"{{ urlQueryEscape "a b&c" }}"#), "a+b%26c");
}

#[test]
fn strings_and_regexes() {
    assert_eq!(ok(r#"{{ reReplaceAll "(a)b" "x$1" "ab" }}"#), "xa");
    assert_eq!(ok(r#"{{ "aa bb CC" | title }}"#), "Aa Bb CC");
    assert_eq!(ok(r#"{{ "aa bb CC" | toUpper }}"#), "AA BB CC");
    assert_eq!(ok(r#"{{ "aA bB CC" | toLower }}"#), "aa bb cc");
    assert_eq!(
        ok(r#"{{ match "a+" "aa" }} {{ match "a+" "b" }}"#),
        "true false"
    );
}

#[test]
fn humanize_family() {
    let range = |f: &str| format!("{{{{ range . }}}}{{{{ {f} . }}}}:{{{{ end }}}}");
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "humanize",
            floats(&[0.0, 1.0, 1_234_567.0, 0.12]),
            "0:1:1.235M:120m:",
        ),
        (
            "humanize",
            strings(&["0.0", "1.0", "1234567.0", ".12"]),
            "0:1:1.235M:120m:",
        ),
        (
            "humanize",
            ints(&[0, -1, 1, 1_234_567, i64::MAX]),
            "0:-1:1:1.235M:9.223E:",
        ),
        (
            "humanize1024",
            floats(&[0.0, 1.0, 1_048_576.0, 0.12]),
            "0:1:1Mi:0.12:",
        ),
        (
            "humanize1024",
            strings(&["0.0", "1.0", "1048576.0", ".12"]),
            "0:1:1Mi:0.12:",
        ),
        (
            "humanize1024",
            ints(&[0, -1, 1, 1_234_567, i64::MAX]),
            "0:-1:1:1.177Mi:8Ei:",
        ),
        (
            "humanizePercentage",
            ints(&[0, -1, 1, 1_234_567, i64::MAX]),
            "0%:-100%:100%:1.235e+08%:9.223e+20%:",
        ),
        (
            "humanizeTimestamp",
            ints(&[0, -1, 1, 1_234_567, 9_223_372_036]),
            "1970-01-01 00:00:00 +0000 UTC:1969-12-31 23:59:59 +0000 UTC:\
             1970-01-01 00:00:01 +0000 UTC:1970-01-15 06:56:07 +0000 UTC:\
             2262-04-11 23:47:16 +0000 UTC:",
        ),
        (
            "humanizeDuration",
            ints(&[0, -1, 1, 1_234_567]),
            "0s:-1s:1s:14d 6h 56m 7s:",
        ),
    ];
    for (f, input, want) in cases {
        assert_eq!(text(&range(f), input).unwrap(), want, "{f}");
    }
    let all = "{{ range . }}{{ humanize . }}:{{ humanize1024 . }}:{{ humanizeDuration . }}:{{humanizeTimestamp .}}:{{ end }}";
    let want = "+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:";
    assert_eq!(
        text(all, floats(&[f64::INFINITY, f64::NEG_INFINITY, f64::NAN])).unwrap(),
        want
    );
    assert_eq!(text(all, strings(&["+Inf", "-Inf", "NaN"])).unwrap(), want);
    assert_eq!(
        ok(
            "{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:{{ 0.1234567 | humanizePercentage }}:{{ 1.23456 | humanizePercentage }}"
        ),
        "-22.22%:0%:12.35%:123.5%"
    );
    assert_eq!(
        ok(
            r#"{{ "-0.22222" | humanizePercentage }}:{{ "0.0" | humanizePercentage }}:{{ "0.1234567" | humanizePercentage }}:{{ "1.23456" | humanizePercentage }}"#
        ),
        "-22.22%:0%:12.35%:123.5%"
    );
    assert_eq!(
        ok("{{ 1435065584.128 | humanizeTimestamp }}"),
        "2015-06-23 13:19:44.128 +0000 UTC"
    );
    assert_eq!(
        ok(r#"{{ "1435065584.128" | humanizeTimestamp }}"#),
        "2015-06-23 13:19:44.128 +0000 UTC"
    );
}

#[test]
fn humanize_errors_as_upstream() {
    for f in ["humanize", "humanize1024", "humanizeDuration"] {
        assert_eq!(
            text(&format!(r#"{{{{ {f} "one" }}}}"#), Value::Nil).unwrap_err(),
            format!(
                r#"error executing template test: template: test:1:3: executing "test" at <{f} "one">: error calling {f}: strconv.ParseFloat: parsing "one": invalid syntax"#
            )
        );
    }
    assert_eq!(
        text(r#"{{ "one" | humanizePercentage }}"#, Value::Nil).unwrap_err(),
        r#"error executing template test: template: test:1:11: executing "test" at <humanizePercentage>: error calling humanizePercentage: strconv.ParseFloat: parsing "one": invalid syntax"#
    );
    assert_eq!(
        text(
            "{{ range . }}{{ humanizeTimestamp . }}:{{ end }}",
            ints(&[i64::MIN, i64::MAX])
        )
        .unwrap_err(),
        r#"error executing template test: template: test:1:16: executing "test" at <humanizeTimestamp .>: error calling humanizeTimestamp: -9.223372036854776e+18 cannot be represented as a nanoseconds timestamp since it overflows int64"#
    );
}

#[test]
fn time_and_duration_functions() {
    assert_eq!(
        ok(r#"{{ (1435065584.128 | toTime).Format "2006" }}"#),
        "2015"
    );
    assert_eq!(
        ok(r#"{{ ("1435065584.128" | toTime).Format "2006" }}"#),
        "2015"
    );
    assert_eq!(ok("{{ (1800 | toDuration).String }}"), "30m0s");
    assert_eq!(ok(r#"{{ ("1800" | toDuration).String }}"#), "30m0s");
    assert_eq!(ok("{{ 90 | toDuration }}"), "1m30s");
    assert_eq!(ok("{{ now }}"), "1.353755652e+09");
    assert_eq!(
        ok(r#"{{ (now | toTime).Format "Mon Jan 2 15:04:05 2006" }}"#),
        "Sat Nov 24 11:14:12 2012"
    );
    assert_eq!(
        ok(r#"{{ ("-30m" | parseDuration | toDuration | (now | toTime).Add).UnixMilli }}"#),
        "1353753852000"
    );
    assert_eq!(
        ok(r#"{{ printf "%0.2f" (parseDuration "1h2m10ms") }}"#),
        "3720.01"
    );
    assert_eq!(
        ok(r#"{{ printf "%0.2f" (parseDuration "-1h2m10ms") }}"#),
        "-3720.01"
    );
    assert_eq!(
        text(r#"{{ parseDuration "1x" }}"#, Value::Nil).unwrap_err(),
        r#"error executing template test: template: test:1:3: executing "test" at <parseDuration "1x">: error calling parseDuration: unknown unit "x" in duration "1x""#
    );
    assert_eq!(ok("{{ 0 | toTime }}"), "1970-01-01 00:00:00 +0000 UTC");
}

fn alert(text: &str, labels: &Labels, value: f64) -> String {
    let external = Labels::from_pairs([("dc", "eu")]);
    let data = AlertData {
        labels,
        external_labels: &external,
        external_url: "http://prom.example:9090",
        value,
    };
    let env = Env {
        external_url: "http://prom.example:9090".into(),
        query: None,
    };
    expand_alert("HighLoad", text, &data, TIMESTAMP_MS, &env)
}

#[test]
fn alert_variables_expand() {
    let labels = Labels::from_pairs([("instance", "a:1"), ("job", "j")]);
    assert_eq!(
        alert(
            "{{ $labels.instance }} in {{ $externalLabels.dc }} is {{ $value }} ({{ $externalURL }})",
            &labels,
            0.5
        ),
        "a:1 in eu is 0.5 (http://prom.example:9090)"
    );
    assert_eq!(
        alert(
            "[{{ $labels.missing }}][{{ .Labels.missing }}]",
            &labels,
            0.0
        ),
        "[][]",
        "labels are a map[string]string under missingkey=zero"
    );
}

#[test]
fn rule_annotation_with_several_functions() {
    let labels = Labels::from_pairs([("instance", "db-1.example.com:9100"), ("job", "node")]);
    let text = r#"{{ $labels.instance | stripPort | stripDomain | toUpper }} ({{ $labels.job | title }}): disk {{ $value | humanizePercentage }} full, {{ 1073741824 | humanize1024 }}B free, up {{ 93784 | humanizeDuration }}; see {{ externalURL }}{{ graphLink "node_filesystem_avail_bytes" }}{{ if match "^db-" $labels.instance }} [database]{{ end }}"#;
    assert_eq!(
        alert(text, &labels, 0.934_56),
        "DB-1 (Node): disk 93.46% full, 1GiB free, up 1d 2h 3m 4s; see \
         http://prom.example:9090/graph?g0.expr=node_filesystem_avail_bytes&g0.tab=0 [database]"
    );
}

#[test]
fn errors_show_in_place() {
    let labels = Labels::default();
    assert_eq!(
        alert("{{ .Missing.Field.x", &labels, 0.0),
        "<error expanding template: error parsing template __alert_HighLoad: template: __alert_HighLoad:1: unclosed action>"
    );
    assert_eq!(
        alert("{{ humanize \"x\" }}", &labels, 0.0),
        "<error expanding template: error executing template __alert_HighLoad: template: __alert_HighLoad:1:115: executing \"__alert_HighLoad\" at <humanize \"x\">: error calling humanize: strconv.ParseFloat: parsing \"x\": invalid syntax>"
    );
}

#[test]
fn function_names_known_to_rule_validation() {
    for name in [
        "query",
        "first",
        "label",
        "value",
        "strvalue",
        "args",
        "reReplaceAll",
        "safeHtml",
        "match",
        "title",
        "toUpper",
        "toLower",
        "graphLink",
        "tableLink",
        "sortByLabel",
        "humanize",
        "humanize1024",
        "humanizeDuration",
        "humanizePercentage",
        "humanizeTimestamp",
        "toTime",
        "toDuration",
        "now",
        "pathPrefix",
        "externalURL",
        "parseDuration",
        "stripPort",
        "stripDomain",
        "urlQueryEscape",
        "printf",
    ] {
        assert!(is_function(name), "{name}");
    }
    assert!(!is_function("humanise"));
    assert!(!is_function("tmpl"), "tmpl exists only in HTML expansion");
}
