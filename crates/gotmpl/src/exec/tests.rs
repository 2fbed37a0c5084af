//! Go `text/template` semantics, checked against behaviour documented for Go.

use serde_json::json;

use crate::{FuncError, MissingKey, Object, Template, Value};

fn data() -> Value {
    Value::from(json!({
        "Name": "world",
        "Count": 3,
        "Ratio": 0.25,
        "Empty": "",
        "List": ["a", "b", "c"],
        "Map": {"z": 26, "a": 1, "m": 13},
        "Nested": {"Inner": {"Leaf": "deep"}},
        "True": true,
        "Zero": 0,
    }))
}

fn render_with(t: &mut Template, src: &str, data: &Value) -> Result<String, String> {
    t.parse(src).map_err(|e| e.to_string())?;
    t.execute("t", data).map_err(|e| e.to_string())
}

fn render(src: &str) -> String {
    render_with(&mut Template::new("t"), src, &data()).unwrap_or_else(|e| panic!("{src}: {e}"))
}

fn fail(src: &str) -> String {
    match render_with(&mut Template::new("t"), src, &data()) {
        Ok(out) => panic!("{src}: expected an error, got {out:?}"),
        Err(e) => e,
    }
}

#[test]
fn text_and_fields() {
    assert_eq!(render("Hello, {{.Name}}!"), "Hello, world!");
    assert_eq!(render("{{.Nested.Inner.Leaf}}"), "deep");
    assert_eq!(
        render("{{.Missing}}|{{.Missing.Deeper}}"),
        "<no value>|<no value>"
    );
    assert_eq!(
        render("{{.}}"),
        "map[Count:3 Empty: List:[a b c] Map:map[a:1 m:13 z:26] Name:world Nested:map[Inner:map[Leaf:deep]] Ratio:0.25 True:true Zero:0]"
    );
}

#[test]
fn trim_markers() {
    assert_eq!(render("a  \n {{- .Name -}} \n  b"), "aworldb");
    assert_eq!(render("a {{- .Name }} b"), "aworld b");
    assert_eq!(render("{{ 3 }} {{- /* gone */ -}} {{ 4 }}"), "34");
    assert_eq!(render("{{-3}}"), "-3");
}

#[test]
fn literals() {
    assert_eq!(
        render(r#"{{"a\tb\u00e9\x41"}}|{{`raw\n`}}|{{'a'}}|{{0x1F}}|{{0o17}}|{{017}}|{{1_000}}"#),
        "a\tbéA|raw\\n|97|31|15|15|1000"
    );
    assert_eq!(
        render("{{1.5}}|{{1e3}}|{{.5}}|{{true}}|{{-7}}|{{1e6}}"),
        "1.5|1000|0.5|true|-7|1e+06"
    );
    assert_eq!(render("{{print nil}}"), "<nil>");
}

#[test]
fn pipelines_and_parens() {
    assert_eq!(
        render(r#"{{.Name | printf "%s!" | printf "%q"}}"#),
        r#""world!""#
    );
    assert_eq!(
        render(r#"{{printf "%d-%s" (len .List) (index .List 1)}}"#),
        "3-b"
    );
    assert_eq!(render("{{(.Nested.Inner).Leaf}}"), "deep");
    assert_eq!(render(r#"{{ "x" | printf "%s%s" "y" }}"#), "yx");
}

#[test]
fn if_else_chains() {
    let src = "{{if eq .Count 1}}one{{else if eq .Count 2}}two{{else if eq .Count 3}}three{{else}}many{{end}}";
    assert_eq!(render(src), "three");
    assert_eq!(
        render("{{if .Empty}}y{{else}}n{{end}}{{if .Zero}}y{{else}}n{{end}}{{if .List}}y{{end}}"),
        "nny"
    );
    assert_eq!(
        render("{{if and .True .Count}}a{{end}}{{if or .Zero .Empty}}b{{else}}c{{end}}"),
        "ac"
    );
    assert_eq!(
        render("{{and 1 0 2}}|{{or 0 \"\" 5}}|{{or 0 \"\"}}|{{not .True}}"),
        "0|5||false"
    );
}

#[test]
fn and_or_short_circuit() {
    // `index` would fail on the missing list element, but is never evaluated.
    assert_eq!(render("{{or .True (index .List 9)}}"), "true");
    assert_eq!(render("{{and .Zero (index .List 9)}}"), "0");
}

#[test]
fn with_and_else_with() {
    assert_eq!(render("{{with .Nested.Inner}}{{.Leaf}}{{end}}"), "deep");
    assert_eq!(
        render("{{with .Empty}}x{{else with .Name}}{{.}}{{else}}none{{end}}"),
        "world"
    );
    assert_eq!(
        render("{{with .Missing}}x{{else}}{{.Name}}{{end}}"),
        "world"
    );
}

#[test]
fn range_forms() {
    assert_eq!(render("{{range .List}}[{{.}}]{{end}}"), "[a][b][c]");
    assert_eq!(
        render("{{range $i, $v := .List}}{{$i}}={{$v}} {{end}}"),
        "0=a 1=b 2=c "
    );
    assert_eq!(render("{{range $v := .List}}{{$v}}{{end}}"), "abc");
    assert_eq!(
        render("{{range $k, $v := .Map}}{{$k}}:{{$v}} {{end}}"),
        "a:1 m:13 z:26 "
    );
    assert_eq!(render("{{range .Map}}{{.}},{{end}}"), "1,13,26,");
    assert_eq!(render("{{range .Nothing}}x{{else}}empty{{end}}"), "empty");
    assert_eq!(
        render("{{range 3}}{{.}}{{end}}|{{range $i := 2}}{{$i}}{{end}}"),
        "012|01"
    );
    assert_eq!(
        render("{{range .List}}{{if eq . \"b\"}}{{break}}{{end}}{{.}}{{end}}"),
        "a"
    );
    assert_eq!(
        render("{{range .List}}{{if eq . \"b\"}}{{continue}}{{end}}{{.}}{{end}}"),
        "ac"
    );
    assert_eq!(
        render("{{range .List}}{{$}}{{end}}").len(),
        render("{{.}}").len() * 3
    );
}

#[test]
fn variables_and_scoping() {
    assert_eq!(
        render("{{$x := 1}}{{if true}}{{$x = 2}}{{$y := 3}}{{end}}{{$x}}"),
        "2"
    );
    assert_eq!(
        render("{{$x := \"out\"}}{{with .Name}}{{$x := \"in\"}}{{$x}}{{end}} {{$x}}"),
        "in out"
    );
    let src = "{{$n := 0}}{{range .List}}{{$n = len .}}{{end}}{{$n}}";
    assert_eq!(render(src), "1");
    assert_eq!(render("{{$m := .Nested}}{{$m.Inner.Leaf}}"), "deep");
    assert!(fail("{{if true}}{{$y := 3}}{{end}}{{$y}}").contains("undefined variable \"$y\""));
}

#[test]
fn nested_templates_pass_dot() {
    let src = r#"{{define "item"}}<{{.}}>{{end}}{{define "list"}}{{range .}}{{template "item" .}}{{end}}{{end}}{{template "list" .List}}|{{template "item"}}"#;
    assert_eq!(render(src), "<a><b><c>|<<no value>>");
    assert_eq!(render(r#"{{block "b" .Name}}[{{.}}]{{end}}"#), "[world]");
    let mut t = Template::new("t");
    t.parse(r#"{{define "x"}}X{{.}}{{$}}{{end}}"#).unwrap();
    t.parse(r#"{{template "x" 1}}"#).unwrap();
    assert_eq!(t.execute("t", &Value::Nil).unwrap(), "X11");
    assert_eq!(t.execute("x", &Value::from("d")).unwrap(), "Xdd");
}

#[test]
fn builtin_functions() {
    assert_eq!(
        render(r#"{{len .Map}} {{len .Name}} {{index .Map "m"}} {{slice .Name 1 3}}"#),
        "3 5 13 or"
    );
    assert_eq!(
        render(r#"{{print 1 2 "a" "b" 3}}|{{println "x" 1}}"#),
        "1 2ab3|x 1\n"
    );
    assert_eq!(
        render(r#"{{printf "%.2f|%5s|%-3d|%x|%v" .Ratio "ab" 7 255 .List}}"#),
        "0.25|   ab|7  |ff|[a b c]"
    );
    assert_eq!(
        render(r#"{{html "<b>&"}} {{js "it's"}} {{urlquery "a b&c"}}"#),
        "&lt;b&gt;&amp; it\\'s a+b%26c"
    );
    assert_eq!(
        render(r#"{{eq .Name "x" "world"}} {{ne 1 2}} {{lt 1.5 2.5}} {{ge "b" "a"}}"#),
        "true true true true"
    );
}

#[test]
fn comparison_errors() {
    assert_eq!(
        fail("{{if gt .Ratio 1}}x{{end}}"),
        "template: t:1:5: executing \"t\" at <gt .Ratio 1>: error calling gt: incompatible types for comparison"
    );
    assert!(fail("{{lt true false}}").ends_with("error calling lt: invalid type for comparison"));
    assert!(fail("{{eq .List .List}}").contains("non-comparable type"));
}

#[test]
fn call_builtin() {
    let mut t = Template::new("t");
    let f = crate::Function::new(|args: &[Value]| Ok(Value::from(args.len())));
    let data = Value::map([("F", Value::Func(f))]);
    assert_eq!(render_with(&mut t, "{{call .F 1 2}}", &data).unwrap(), "2");
    let err = render_with(
        &mut Template::new("t"),
        "{{call .Name}}",
        &crate::Value::map([("Name", "x".into())]),
    )
    .unwrap_err();
    assert!(
        err.ends_with("error calling call: non-function .Name of type string"),
        "{err}"
    );
    let boom = crate::Function::new(|_| Err("boom".into()));
    let data = Value::map([("F", Value::Func(boom))]);
    let err = render_with(&mut Template::new("t"), "{{call .F 1}}", &data).unwrap_err();
    assert_eq!(
        err,
        "template: t:1:2: executing \"t\" at <call .F 1>: error calling call: boom"
    );
}

#[test]
fn custom_functions() {
    let mut t = Template::new("t");
    t.func("upper", |args| {
        FuncError::check_arity(args, 1)?;
        Ok(crate::arg_str(args, 0)?.to_uppercase().into())
    });
    t.func("boom", |_| Err("kaput".into()));
    assert_eq!(
        render_with(&mut t, "{{.Name | upper}}", &data()).unwrap(),
        "WORLD"
    );
    assert_eq!(
        render_with(&mut t, "{{boom 1}}", &data()).unwrap_err(),
        "template: t:1:2: executing \"t\" at <boom 1>: error calling boom: kaput"
    );
    assert_eq!(
        render_with(&mut t, "{{upper}}", &data()).unwrap_err(),
        "template: t:1:2: executing \"t\" at <upper>: wrong number of args for upper: want 1 got 0"
    );
    assert_eq!(
        render_with(&mut t, "{{upper 3}}", &data()).unwrap_err(),
        "template: t:1:2: executing \"t\" at <upper>: wrong type for value; expected string; got int"
    );
    assert_eq!(
        fail("{{nope 1}}"),
        "template: t:1: function \"nope\" not defined"
    );
}

#[test]
fn execution_errors_like_go() {
    assert_eq!(
        fail("line1\n  {{.Name.Foo}}"),
        "template: t:2:9: executing \"t\" at <.Name.Foo>: can't evaluate field Foo in type string"
    );
    assert_eq!(
        fail("{{len 3}}"),
        "template: t:1:2: executing \"t\" at <len 3>: error calling len: len of type int"
    );
    assert_eq!(
        fail("{{index .List 7}}"),
        "template: t:1:2: executing \"t\" at <index .List 7>: error calling index: index out of range: 7"
    );
    assert_eq!(
        fail(r#"{{template "nope"}}"#),
        "template: t:1:11: executing \"t\" at <{{template \"nope\"}}>: template \"nope\" not defined"
    );
    assert!(fail("{{nil}}").ends_with("nil is not a command"));
    assert!(fail("{{.Name 1}}").ends_with("Name is not a method but has arguments"));
    assert!(fail("{{range .Name}}{{end}}").ends_with("range can't iterate over world"));
    assert_eq!(
        fail("{{index .List 1 2 3 4 5 6}}"),
        "template: t:1:2: executing \"t\" at <index .List 1 2 3 4 5 6>: error calling index: index out of range: 2"
    );
}

#[test]
fn missing_key_option() {
    let mut t = Template::new("t");
    t.missing_key(MissingKey::Error);
    assert_eq!(
        render_with(&mut t, "{{.Nope}}", &data()).unwrap_err(),
        "template: t:1:2: executing \"t\" at <.Nope>: map has no entry for key \"Nope\""
    );
    let strings = Value::from(crate::Map::of_strings([("a", "1")]));
    let mut t = Template::new("t");
    t.missing_key(MissingKey::Zero);
    assert_eq!(render_with(&mut t, "[{{.b}}]", &strings).unwrap(), "[]");
    let mut t = Template::new("t");
    assert_eq!(
        render_with(&mut t, "[{{.b}}][{{index . \"b\"}}]", &strings).unwrap(),
        "[<no value>][]"
    );
}

#[test]
fn execute_unknown_or_empty() {
    let t = Template::new("t");
    assert_eq!(
        t.execute("t", &Value::Nil).unwrap_err().to_string(),
        "template: t: \"t\" is an incomplete or empty template"
    );
    assert_eq!(
        t.execute("x", &Value::Nil).unwrap_err().to_string(),
        "template: no template \"x\" associated with template \"t\""
    );
}

#[test]
fn empty_definitions_do_not_replace() {
    let mut t = Template::new("t");
    t.parse(r#"{{define "a"}}real{{end}}"#).unwrap();
    t.parse_named("other", r#"{{define "a"}}  {{end}}"#)
        .unwrap();
    assert_eq!(t.execute("a", &Value::Nil).unwrap(), "real");
    t.parse_named("other", r#"{{define "a"}}new{{end}}"#)
        .unwrap();
    assert_eq!(t.execute("a", &Value::Nil).unwrap(), "new");
}

/// A Go type with methods, like Alertmanager's `KV`.
struct Kv(Value);

impl Object for Kv {
    fn type_name(&self) -> &str {
        "template.KV"
    }
    fn base(&self) -> Option<Value> {
        Some(self.0.clone())
    }
    fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        match name {
            "Names" => Some(Ok(match &self.0 {
                Value::Map(m) => Value::list(m.iter().map(|(k, _)| Value::from(k.as_str()))),
                _ => Value::Nil,
            })),
            "Has" => Some(match args {
                [Value::String(k)] => Ok(Value::Bool(
                    matches!(&self.0, Value::Map(m) if m.get(k).is_some()),
                )),
                _ => Err("Has wants one string".to_owned()),
            }),
            _ => None,
        }
    }
}

#[test]
fn objects_with_methods() {
    let kv = Value::object(Kv(Value::from(crate::Map::of_strings([
        ("b", "2"),
        ("a", "1"),
    ]))));
    let data = Value::map([("KV", kv)]);
    let mut t = Template::new("t");
    let src = r#"{{.KV.Names}} {{len .KV}} {{.KV.a}} {{index .KV "b"}} {{.KV.Has "a"}} {{"b" | .KV.Has}} {{range .KV}}{{.}}{{end}} {{.KV}}"#;
    assert_eq!(
        render_with(&mut t, src, &data).unwrap(),
        "[a b] 2 1 2 true true 12 map[a:1 b:2]"
    );
    assert_eq!(
        render_with(&mut t, "{{.KV.Has 1}}", &data).unwrap_err(),
        "template: t:1:5: executing \"t\" at <.KV.Has>: error calling Has: Has wants one string"
    );
}

#[test]
fn runaway_recursion_is_an_error() {
    let err = fail(
        r#"{{define "r"}}{{if true}}{{with .}}{{template "r" .}}{{end}}{{end}}{{end}}{{template "r" .}}"#,
    );
    assert!(
        err.ends_with("exceeded maximum template depth (100)"),
        "{err}"
    );
    let mut t = Template::new("t");
    t.max_depth(3);
    let src = r#"{{define "r"}}{{if .}}<{{template "r" (slice . 1)}}>{{end}}{{end}}{{template "r" .List}}"#;
    assert_eq!(
        render_with(&mut t, src, &data())
            .unwrap_err()
            .rsplit(": ")
            .next(),
        Some("exceeded maximum template depth (3)")
    );
    t.max_depth(4);
    assert_eq!(t.execute("t", &data()).unwrap(), "<<<>>>");
}

/// Prometheus expands alert templates with `missingkey=zero`, a prelude binding `$labels` and
/// `$value`, and labels as `map[string]string`.
#[test]
fn prometheus_alert_annotation() {
    let prelude =
        "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$value := .Value}}";
    let text = "{{ $labels.instance }} is down ({{ $value }}, {{ printf \"%.1f\" $value }}){{ $labels.missing }}{{ if $externalLabels.dc }} in {{ $externalLabels.dc }}{{ end }}";
    let data = Value::map([
        (
            "Labels",
            Value::from(crate::Map::of_strings([("instance", "db:9100")])),
        ),
        (
            "ExternalLabels",
            Value::from(crate::Map::of_strings([("dc", "eu1")])),
        ),
        ("Value", Value::Float(1e6)),
    ]);
    let mut t = Template::new("__alert_InstanceDown");
    t.missing_key(MissingKey::Zero);
    t.parse(&format!("{prelude}{text}")).unwrap();
    assert_eq!(
        t.execute("__alert_InstanceDown", &data).unwrap(),
        "db:9100 is down (1e+06, 1000000.0) in eu1"
    );
}
