use pm_gotmpl::{Template, Value};

use super::*;

fn run(rest: TitleRest, text: &str, data: Value) -> Result<String, String> {
    let mut t = Template::new("test");
    register_shared(t.funcs_mut());
    register_title(t.funcs_mut(), rest);
    t.parse(text).map_err(|e| e.to_string())?;
    t.execute("test", &data).map_err(|e| e.to_string())
}

fn ok(text: &str) -> String {
    run(TitleRest::Keep, text, Value::Nil).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn floats(xs: &[f64]) -> Value {
    Value::list(xs.iter().map(|&x| Value::Float(x)))
}

fn strings(xs: &[&str]) -> Value {
    Value::list(xs.iter().map(|&x| Value::from(x)))
}

#[test]
fn case_functions() {
    assert_eq!(ok(r#"{{ "aa bb CC" | title }}"#), "Aa Bb CC");
    assert_eq!(ok(r#"{{ "aa bb CC" | toUpper }}"#), "AA BB CC");
    assert_eq!(ok(r#"{{ "aA bB CC" | toLower }}"#), "aa bb cc");
    assert_eq!(
        run(TitleRest::Lower, r#"{{ "aa bb CC" | title }}"#, Value::Nil).unwrap(),
        "Aa Bb Cc"
    );
}

#[test]
fn title_finds_words_as_go_does() {
    for (input, keep, lower) in [
        (
            "hello-world foo_bar",
            "Hello-World Foo_bar",
            "Hello-World Foo_bar",
        ),
        ("foo.example.com", "Foo.example.com", "Foo.example.com"),
        ("a..b", "A..B", "A..B"),
        ("o'neil", "O'neil", "O'neil"),
        ("3rd place", "3Rd Place", "3Rd Place"),
        ("ßx ǆemal", "Ssx ǅemal", "Ssx ǅemal"),
        ("HELLO wORLD", "HELLO WORLD", "Hello World"),
        ("", "", ""),
    ] {
        assert_eq!(title(input, TitleRest::Keep), keep, "{input}");
        assert_eq!(title(input, TitleRest::Lower), lower, "{input}");
    }
}

#[test]
fn regex_functions_are_unanchored_go_regexps() {
    assert_eq!(
        ok(r#"{{ match "a+" "aa" }} {{ match "a+" "b" }}"#),
        "true false"
    );
    assert_eq!(ok(r#"{{ match "a+" "baab" }}"#), "true");
    assert_eq!(ok(r#"{{ reReplaceAll "(a)b" "x$1" "ab" }}"#), "xa");
    assert_eq!(
        ok(r#"{{ reReplaceAll "(?P<host>[^:]+):(\\d+)" "${host}" "web-1:9100" }}"#),
        "web-1"
    );
    assert_eq!(ok(r#"{{ reReplaceAll "a*" "-" "baaac" }}"#), "-b-c-");
    assert_eq!(ok(r#"{{ reReplaceAll "x*" "-" "abc" }}"#), "-a-b-c-");
    assert_eq!(ok(r#"{{ reReplaceAll "\\." "$$" "a.b.c" }}"#), "a$b$c");
    assert_eq!(ok(r#"{{ reReplaceAll "é" "e" "été" }}"#), "ete");
}

#[test]
fn bad_patterns_fail_the_call() {
    let err = run(
        TitleRest::Keep,
        r#"{{ reReplaceAll "(" "" "a" }}"#,
        Value::Nil,
    )
    .unwrap_err();
    assert!(
        err.starts_with(
            "template: test:1:3: executing \"test\" at <reReplaceAll \"(\" \"\" \"a\">: \
             error calling reReplaceAll: regexp: Compile(`(`): "
        ),
        "{err}"
    );
    let err = run(TitleRest::Keep, r#"{{ match "(" "a" }}"#, Value::Nil).unwrap_err();
    assert!(
        err.contains("error calling match: error parsing regexp"),
        "{err}"
    );
}

#[test]
fn safe_html_marks_trusted_html() {
    let mut t = Template::new_html("test");
    register_shared(t.funcs_mut());
    t.parse(r#"{{ "<b>" }}{{ "<b>" | safeHtml }}"#).unwrap();
    assert_eq!(t.execute("test", &Value::Nil).unwrap(), "&lt;b&gt;<b>");
    let err = run(TitleRest::Keep, "{{ safeHtml 1 }}", Value::Nil).unwrap_err();
    assert!(
        err.ends_with("wrong type for value; expected string; got int"),
        "{err}"
    );
}

#[test]
fn humanize_duration_matches_upstream() {
    let range = "{{ range . }}{{ humanizeDuration . }}:{{ end }}";
    let cases: [(Value, &str); 6] = [
        (
            floats(&[
                0.0,
                1.0,
                60.0,
                3600.0,
                86400.0,
                86400.0 + 3600.0,
                -(86400.0 * 2.0 + 3600.0 * 3.0 + 60.0 * 4.0 + 5.0),
                899.99,
            ]),
            "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:",
        ),
        (
            strings(&["0", "1", "60", "3600", "86400"]),
            "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:",
        ),
        (
            floats(&[0.1, 0.0001, 0.12345, 60.1, 60.5, 1.2345, 12.345]),
            "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:",
        ),
        (
            strings(&[".1", ".0001", ".12345", "60.1", "60.5", "1.2345", "12.345"]),
            "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:",
        ),
        (
            Value::list([0, -1, 1, 1_234_567].map(Value::Int)),
            "0s:-1s:1s:14d 6h 56m 7s:",
        ),
        (
            floats(&[f64::INFINITY, f64::NEG_INFINITY, f64::NAN]),
            "+Inf:-Inf:NaN:",
        ),
    ];
    for (input, want) in cases {
        assert_eq!(run(TitleRest::Keep, range, input).unwrap(), want);
    }
    assert_eq!(
        run(TitleRest::Keep, range, strings(&["+Inf", "-Inf", "NaN"])).unwrap(),
        "+Inf:-Inf:NaN:"
    );
    let err = run(
        TitleRest::Keep,
        r#"{{ humanizeDuration "one" }}"#,
        Value::Nil,
    )
    .unwrap_err();
    assert_eq!(
        err,
        r#"template: test:1:3: executing "test" at <humanizeDuration "one">: error calling humanizeDuration: strconv.ParseFloat: parsing "one": invalid syntax"#
    );
}

#[test]
fn float_conversion_follows_go() {
    assert_eq!(to_float(&Value::Int(-3)).unwrap(), -3.0);
    assert_eq!(to_float(&Value::from("1e3")).unwrap(), 1000.0);
    assert!(to_float(&Value::from("-infinity")).unwrap().is_infinite());
    assert_eq!(
        to_float(&Value::from("1e400")).unwrap_err().to_string(),
        r#"strconv.ParseFloat: parsing "1e400": value out of range"#
    );
    assert_eq!(
        to_float(&Value::from("+nan")).unwrap_err().to_string(),
        r#"strconv.ParseFloat: parsing "+nan": invalid syntax"#
    );
    assert_eq!(
        to_float(&Value::Bool(true)).unwrap_err().to_string(),
        "can't convert bool to float"
    );
    assert_eq!(
        to_float(&Value::html("1")).unwrap_err().to_string(),
        "can't convert template.HTML to float"
    );
}
