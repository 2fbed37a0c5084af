use crate::{Template, Value};

fn render(src: &str, data: Value) -> String {
    let mut t = Template::new_html("t");
    t.func("safeHtml", |args| Ok(Value::html(crate::arg_str(args, 0)?)));
    t.parse(src).unwrap();
    t.execute("t", &data).unwrap()
}

fn x(s: &str) -> Value {
    Value::map([("X", Value::from(s))])
}

#[test]
fn text_context_escapes_unless_trusted() {
    assert_eq!(
        render("<p>{{.X}}</p>", x("<b>a&b</b> 1+1 \"q\" 'q'")),
        "<p>&lt;b&gt;a&amp;b&lt;/b&gt; 1&#43;1 &#34;q&#34; &#39;q&#39;</p>"
    );
    assert_eq!(
        render("<p>{{.X | safeHtml}}</p>", x("<b>ok</b>")),
        "<p><b>ok</b></p>"
    );
    assert_eq!(render("<p>{{.X | html}}</p>", x("<i>")), "<p>&lt;i&gt;</p>");
    assert_eq!(
        render("<p>{{.X | html \"a\"}}</p>", x("<i>")),
        "<p>a&lt;i&gt;</p>"
    );
    assert_eq!(render("[{{.Missing}}]", x("")), "[]");
}

#[test]
fn attributes() {
    assert_eq!(
        render(r#"<a title="{{.X}}">"#, x(r#"a"b'c<d>"#)),
        r#"<a title="a&#34;b&#39;c&lt;d&gt;">"#
    );
    assert_eq!(
        render(r#"<a title='{{.X}}'>"#, x("it's")),
        "<a title='it&#39;s'>"
    );
    assert_eq!(
        render("<a title={{.X}}>", x("a b=c")),
        "<a title=a&#32;b&#61;c>"
    );
    assert_eq!(
        render(r#"<a title="{{.X | safeHtml}}">"#, x("<b>x</b> &amp;")),
        r#"<a title="x &amp;">"#
    );
    assert_eq!(render("<a {{.X}}>", x("checked")), "<a checked>");
    assert_eq!(render("<a {{.X}}>", x("onclick")), "<a ZgotmplZ>");
}

#[test]
fn url_attributes() {
    assert_eq!(
        render(r#"<a href="{{.X}}">"#, x("javascript:alert(1)")),
        r##"<a href="#ZgotmplZ">"##
    );
    assert_eq!(
        render(r#"<a href="{{.X}}">"#, x("http://h/a b?x=1&y='2'")),
        r#"<a href="http://h/a%20b?x=1&amp;y=%272%27">"#
    );
    assert_eq!(
        render(r#"<a href="/s?q={{.X}}">"#, x("a b&c")),
        r#"<a href="/s?q=a%20b%26c">"#
    );
    assert_eq!(
        render(r#"<a href="/s?q={{.X | urlquery}}">"#, x("a b&c")),
        r#"<a href="/s?q=a&#43;b%26c">"#
    );
    assert_eq!(render(r#"<img src={{.X}}>"#, x("/p q")), "<img src=/p%20q>");
}

#[test]
fn comments_are_stripped_from_template_text() {
    assert_eq!(render("a<!-- secret {{.X}} -->b", x("v")), "ab");
    assert_eq!(
        render("{{.X | safeHtml}}", x("<!-- kept -->")),
        "<!-- kept -->"
    );
}

#[test]
fn special_elements() {
    assert_eq!(
        render("<title>{{.X}}</title><p>{{.X}}", x("<&>")),
        "<title>&lt;&amp;&gt;</title><p>&lt;&amp;&gt;"
    );
    assert_eq!(
        render("<style>a > b {}</style>{{.X}}", x("<")),
        "<style>a > b {}</style>&lt;"
    );
    assert_eq!(
        render("<!DOCTYPE html><p class=\"c\">{{.X}}</p>", x("'")),
        "<!DOCTYPE html><p class=\"c\">&#39;</p>"
    );
}

#[test]
fn nested_templates_inherit_context() {
    let src = r#"{{define "u"}}{{.}}/x?r={{. | urlquery}}{{end}}<a href="{{template "u" .X}}">{{template "u" .X}}</a>"#;
    assert_eq!(
        render(src, x("h t")),
        r#"<a href="h%20t/x?r=h&#43;t">h t/x?r=h&#43;t</a>"#
    );
}
