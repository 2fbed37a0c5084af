use super::*;

fn parse_err(src: &str) -> String {
    let known = |name: &str| matches!(name, "printf" | "len" | "index");
    match parse("t", src, &known) {
        Ok(_) => panic!("{src}: expected a parse error"),
        Err(e) => e.to_string(),
    }
}

fn names(src: &str) -> Vec<String> {
    parse("t", src, &|_| true)
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect()
}

#[test]
fn errors_read_like_go() {
    let cases = [
        ("{{end}}", "template: t:1: unexpected {{end}}"),
        ("a\n\n{{else}}", "template: t:3: unexpected {{else}}"),
        ("{{if .X}}", "template: t:1: unexpected EOF"),
        (
            "{{range .X}}{{else}}{{else}}{{end}}",
            "template: t:1: expected end; found {{else}}",
        ),
        ("{{$x}}", "template: t:1: undefined variable \"$x\""),
        ("{{break}}", "template: t:1: {{break}} outside {{range}}"),
        (
            "{{range .}}{{else}}{{continue}}{{end}}",
            "template: t:1: {{continue}} outside {{range}}",
        ),
        (
            "{{template .X}}",
            "template: t:1: unexpected \".X\" in template clause",
        ),
        (
            "{{.X | 3}}",
            "template: t:1: non executable command in pipeline stage 2",
        ),
        ("{{if}}{{end}}", "template: t:1: missing value for if"),
        ("{{}}", "template: t:1: missing value for command"),
        ("{{(3}}", "template: t:1: unclosed left paren"),
        (
            "{{\"a\".X}}",
            "template: t:1: unexpected . after term \"\\\"a\\\"\"",
        ),
        ("{{foo 1}}", "template: t:1: function \"foo\" not defined"),
        (
            "{{define \"x\"}}a{{end}}{{define \"x\"}}b{{end}}",
            "template: t:1: template: multiple definition of template \"x\"",
        ),
        (
            "{{range $a, $b, $c := .}}{{end}}",
            "template: t:1: too many declarations in range",
        ),
        (
            "{{with $a, $b := .}}{{end}}",
            "template: t:1: too many declarations in with",
        ),
        ("{{.X }x}}", "template: t:1: unexpected \"}\" in operand"),
        ("x\n{{.X", "template: t:2: unclosed action"),
        (
            "{{if .}}{{define \"x\"}}{{end}}{{end}}",
            "template: t:1: unexpected <define> in command",
        ),
        (
            "{{.X | | .Y}}",
            "template: t:1: unexpected \"|\" in command",
        ),
        ("{{.X\n\n", "template: t:3: unclosed action started at t:1"),
        (
            "{{.X\n\"a}}",
            "template: t:2: unterminated quoted string in action started at t:1",
        ),
        (
            "{{ 'ab' }}",
            "template: t:1: malformed character constant: 'ab'",
        ),
        ("{{ \"\\q\" }}", "template: t:1: invalid syntax"),
        (
            "{{ if 1 }}{{ else }}{{ end }}{{ define \"y\" }}{{ else }}{{ end }}",
            "template: t:1: unexpected {{else}} in define clause",
        ),
    ];
    for (src, want) in cases {
        assert_eq!(parse_err(src), want, "{src}");
    }
}

#[test]
fn deep_parentheses_are_refused() {
    let deep = format!("{{{{{}1{}}}}}", "(".repeat(150), ")".repeat(150));
    assert_eq!(
        parse_err(&deep),
        "template: t:1: max expression depth exceeded"
    );
    let fine = format!("{{{{{}1{}}}}}", "(".repeat(50), ")".repeat(50));
    assert!(parse("t", &fine, &|_| true).is_ok());
}

#[test]
fn defines_and_blocks_become_trees() {
    assert_eq!(
        names(r#"a{{define "x"}}X{{end}}{{block "y" .}}Y{{end}}"#),
        ["t", "x", "y"]
    );
    // An empty redefinition within one parse keeps the first.
    let trees = parse(
        "t",
        r#"{{define "x"}}X{{end}}{{define "x"}} {{end}}"#,
        &|_| true,
    )
    .unwrap();
    assert!(!trees[1].is_empty());
}

#[test]
fn numbers() {
    assert!(matches!(parse_go_int("0x_1F"), Some(31)));
    assert!(matches!(parse_go_int("-0b101"), Some(-5)));
    assert!(matches!(parse_go_int("0777"), Some(511)));
    assert!(parse_go_int("99999999999999999999").is_none());
}

#[test]
fn renders_nodes_for_error_context() {
    let trees = parse(
        "t",
        r#"{{$x := .A.B | printf "%d" (len $x.C) | index . 1}}"#,
        &|_| true,
    )
    .unwrap();
    let Node::Action(pipe) = &trees[0].root[0] else {
        panic!("not an action")
    };
    assert_eq!(
        pipe.to_string(),
        r#"$x := .A.B | printf "%d" (len $x.C) | index . 1"#
    );
}
