use super::*;

fn strings(ms: &[Matcher]) -> Vec<String> {
    ms.iter().map(ToString::to_string).collect()
}

#[test]
fn both_syntaxes_accept_quoted_lists() {
    let ms = parse_matchers(r#"{foo="bar", baz=~"x.*", a!="b", c!~"d|e"}"#).unwrap();
    assert_eq!(
        strings(&ms),
        [r#"foo="bar""#, r#"baz=~"x.*""#, r#"a!="b""#, r#"c!~"d|e""#]
    );
    assert_eq!(ms[1].match_type(), MatchType::Regexp);
    assert!(ms[1].matches("xyz") && !ms[1].matches("yx"));
}

#[test]
fn classic_syntax_allows_unquoted_values_with_spaces() {
    let ms = parse_matchers("foo=bar baz, qux=~^(a|b)$").unwrap();
    assert_eq!(ms[0].value(), "bar baz");
    assert!(ms[1].matches("a") && !ms[1].matches("c"));
}

#[test]
fn utf8_syntax_accepts_quoted_names() {
    let ms = parse_matchers(r#"{"ünïcode name"="välue", ok=fine}"#).unwrap();
    assert_eq!(ms[0].name(), "ünïcode name");
    assert_eq!(ms[0].to_string(), r#""ünïcode name"="välue""#);
    assert_eq!(ms[1].value(), "fine");
    let err = parse_matchers_utf8(r#"{foo="bar""#)
        .unwrap_err()
        .to_string();
    assert_eq!(err, "0:10: end of input: expected close brace");
    let err = parse_matchers_utf8("foo=bar}").unwrap_err().to_string();
    assert_eq!(err, "0:8: }: expected opening brace");
    let err = parse_matchers_utf8("{foo}").unwrap_err().to_string();
    assert_eq!(
        err,
        "4:5: unexpected }: expected an operator such as '=', '!=', '=~' or '!~'"
    );
    let err = parse_matchers_utf8(r#"foo="bar"#).unwrap_err().to_string();
    assert_eq!(err, r#"4:8: "bar: missing end ": expected label value"#);
}

#[test]
fn neither_syntax_gives_classic_error() {
    let err = parse_matchers("{foo}").unwrap_err().to_string();
    assert_eq!(err, "bad matcher format: foo");
    let err = parse_matcher("{foo=bar}").unwrap_err().to_string();
    assert_eq!(err, "unexpected open or close brace: {foo=bar}");
    let err = parse_matcher(r#"foo="b"ar""#).unwrap_err().to_string();
    assert_eq!(
        err,
        r#"matcher value contains unescaped double quote: "b"ar""#
    );
}

#[test]
fn regexes_are_anchored_without_dotall() {
    let m = parse_matcher("a=~b.c").unwrap();
    assert!(m.matches("bxc"));
    assert!(!m.matches("b\nc"), "dot must not match a newline");
    assert!(!m.matches("abxc"));
    assert!(parse_matcher("a=~(").is_err());
}

#[test]
fn escapes_and_printing() {
    let m = parse_matcher(r#"a="x\"y\\z\nw""#).unwrap();
    assert_eq!(m.value(), "x\"y\\z\nw");
    assert_eq!(m.to_string(), r#"a="x\"y\\z\nw""#);
    assert_eq!(
        go_unquote(r#""\u00e9\x41\101\t""#).as_deref(),
        Some("éAA\t")
    );
    assert_eq!(go_unquote(r#""\q""#), None);
    // Escaped bytes are bytes, as in Go: two make one code point, a stray one no text.
    assert_eq!(go_unquote(r#""\xc3\xa9""#).as_deref(), Some("é"));
    assert_eq!(go_unquote(r#""\xff""#), None);
}

#[test]
fn sorting_is_name_value_type() {
    let mut ms = parse_matchers(r#"b="1", a!="2", a="2", a="1""#).unwrap();
    ms.sort();
    assert_eq!(
        strings(&ms),
        [r#"a="1""#, r#"a="2""#, r#"a!="2""#, r#"b="1""#]
    );
    assert_eq!(Matchers(ms).to_string(), r#"{a="1",a="2",a!="2",b="1"}"#);
}

#[test]
fn empty_input_has_no_matchers() {
    assert!(parse_matchers("").unwrap().is_empty());
    assert!(parse_matchers("{}").unwrap().is_empty());
}
