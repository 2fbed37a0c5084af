use crate::parser::*;

fn parse(q: &str) -> Expr {
    parse_expr(q, &ParserOptions::all()).unwrap_or_else(|e| panic!("{q:?}: {e}"))
}

/// The canonical text, which shows the tree shape through the parentheses we add.
fn shape(e: &Expr) -> String {
    match e {
        Expr::Binary(b) => format!("({} {} {})", shape(&b.lhs), b.op, shape(&b.rhs)),
        Expr::Unary(u) => format!("({}{})", u.op.as_str(), shape(&u.expr)),
        other => other.to_string(),
    }
}

fn err(q: &str) -> String {
    err_with(q, &ParserOptions::all())
}

fn err_with(q: &str, opts: &ParserOptions) -> String {
    match parse_expr(q, opts) {
        Ok(e) => panic!("{q:?} parsed as {e}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn precedence_levels() {
    assert_eq!(shape(&parse("a or b and c")), "(a or (b and c))");
    assert_eq!(shape(&parse("a unless b or c")), "((a unless b) or c)");
    assert_eq!(shape(&parse("a and b > c")), "(a and (b > c))");
    assert_eq!(shape(&parse("a > b + c")), "(a > (b + c))");
    assert_eq!(shape(&parse("a + b * c")), "(a + (b * c))");
    assert_eq!(shape(&parse("a * b ^ c")), "(a * (b ^ c))");
    assert_eq!(shape(&parse("a atan2 b + c")), "((a atan2 b) + c)");
    assert_eq!(shape(&parse("a % b / c")), "((a % b) / c)");
}

#[test]
fn associativity() {
    assert_eq!(shape(&parse("a - b - c")), "((a - b) - c)");
    assert_eq!(shape(&parse("a / b * c")), "((a / b) * c)");
    assert_eq!(shape(&parse("a ^ b ^ c")), "(a ^ (b ^ c))");
}

#[test]
fn unary_operators() {
    // Unary minus binds like multiplication: looser than `^`, tighter than `+`.
    assert_eq!(shape(&parse("-a ^ b")), "(-(a ^ b))");
    assert_eq!(shape(&parse("-a * b")), "((-a) * b)");
    assert_eq!(shape(&parse("-a + b")), "((-a) + b)");
    assert_eq!(shape(&parse("2 ^ -1")), "(2 ^ -1)");
    // Signs fold into number literals, and the literal's range starts at the sign.
    match parse(" -5") {
        Expr::NumberLiteral(n) => {
            assert_eq!(n.val, -5.0);
            assert_eq!(n.pos, PosRange::new(1, 3));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(parse("--5").to_string(), "5");
    assert_eq!(parse("-(1)").to_string(), "-(1)");
}

#[test]
fn number_literals() {
    let val = |q: &str| match parse(q) {
        Expr::NumberLiteral(n) => n.val,
        other => panic!("{other:?}"),
    };
    assert_eq!(val("0x1F"), 31.0);
    assert_eq!(val("1e3"), 1000.0);
    assert_eq!(val(".5"), 0.5);
    assert_eq!(val("1_000"), 1000.0);
    assert!(val("NaN").is_nan());
    assert_eq!(val("-inF"), f64::NEG_INFINITY);
    assert_eq!(parse("5m").to_string(), "5m");
    assert_eq!(parse("-90s").to_string(), "-1m30s");
    assert_eq!(parse("1e21").to_string(), "1000000000000000000000");
    assert_eq!(parse("+Inf").to_string(), "+Inf");
}

#[test]
fn binary_modifiers() {
    let b = match parse("a / on(x, y) group_left(z) b") {
        Expr::Binary(b) => b,
        other => panic!("{other:?}"),
    };
    let m = b.matching.expect("vector matching");
    assert_eq!(m.card, Cardinality::ManyToOne);
    assert!(m.on);
    assert_eq!(m.matching_labels, ["x", "y"]);
    assert_eq!(m.include, ["z"]);
    assert_eq!(
        parse("a  >  bool  ignoring (x) group_right b").to_string(),
        "a > bool ignoring (x) group_right () b"
    );
    assert_eq!(parse("a + fill(0) b").to_string(), "a + fill (0) b");
    assert_eq!(
        parse("a + fill_right(-1) fill_left(2) b").to_string(),
        "a + fill_left (2) fill_right (-1) b"
    );
    // Set operators are always many-to-many; scalar operands drop vector matching.
    match parse("a and b") {
        Expr::Binary(b) => assert_eq!(b.matching.unwrap().card, Cardinality::ManyToMany),
        other => panic!("{other:?}"),
    }
    match parse("a + 1") {
        Expr::Binary(b) => assert!(b.matching.is_none()),
        other => panic!("{other:?}"),
    }
    // `fill` without a parenthesis is an ordinary metric name.
    assert_eq!(parse("fill + fill_left").to_string(), "fill + fill_left");
}

#[test]
fn selectors_and_modifiers() {
    assert_eq!(
        parse(r#"foo{b="1", a=~"x.*"}"#).to_string(),
        r#"foo{a=~"x.*",b="1"}"#
    );
    assert_eq!(
        parse(r#"{"my.metric", "a.b"="x"}"#).to_string(),
        r#"{"a.b"="x",__name__="my.metric"}"#
    );
    assert_eq!(
        parse("foo offset -5m @ 100").to_string(),
        "foo @ 100.000 offset -5m"
    );
    assert_eq!(
        parse("foo[5m] @ start() offset 1h").to_string(),
        "foo[5m] @ start() offset 1h"
    );
    assert_eq!(
        parse("rate(foo[90s])[1h:] @ end()").to_string(),
        "rate(foo[1m30s])[1h:] @ end()"
    );
    assert_eq!(parse("foo[300]").to_string(), "foo[5m]");
    assert_eq!(parse("foo[5m] anchored").to_string(), "foo[5m] anchored");
    assert_eq!(parse("foo smoothed").to_string(), "foo smoothed");
    assert_eq!(parse("SUM BY (a) (foo)").to_string(), "sum by (a) (foo)");
    assert_eq!(
        parse("topk(3, foo) without (b)").to_string(),
        "topk without (b) (3, foo)"
    );
    assert_eq!(
        parse("sum by (\"a.b\", on) (x)").to_string(),
        "sum by (\"a.b\", on) (x)"
    );
    // Aggregation names and keywords are valid metric names where no aggregation can start.
    assert_eq!(parse("sum + by").to_string(), "sum + by");
    match parse("foo[5m] offset 1m") {
        Expr::MatrixSelector(m) => {
            assert_eq!(m.range, 300_000_000_000);
            assert_eq!(m.vector_selector.original_offset, 60_000_000_000);
            assert_eq!(m.vector_selector.matchers.len(), 1);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn duration_expressions() {
    assert_eq!(
        parse("foo[5m+step()*2]").to_string(),
        "foo[5m + step() * 2]"
    );
    assert_eq!(parse("foo[(1h) : 1m]").to_string(), "foo[(1h):1m]");
    assert_eq!(
        parse("foo[min_of(range(), 1h):max_of(step(), 10s)]").to_string(),
        "foo[min_of(range(), 1h):max_of(step(), 10s)]"
    );
    // After `offset`, a literal ends the offset; the rest is an ordinary binary operation.
    assert_eq!(shape(&parse("foo offset 1m * 2")), "(foo offset 1m * 2)");
    assert_eq!(
        parse("foo offset -(1m + 1s)").to_string(),
        "foo offset -(1m + 1s)"
    );
    assert_eq!(parse("foo offset step()").to_string(), "foo offset step()");
    let off = ParserOptions {
        experimental_duration_expr: false,
        ..ParserOptions::all()
    };
    assert_eq!(
        err_with("foo[1m+1m]", &off),
        "1:5: parse error: experimental duration expression is not enabled"
    );
    assert_eq!(err("foo[1m/0]"), "1:7: parse error: division by zero");
    assert_eq!(
        err("foo[0]"),
        "1:5: parse error: duration must be greater than 0"
    );
}

#[test]
fn syntax_errors() {
    assert_eq!(
        err(""),
        "unknown position: parse error: no expression found in input"
    );
    assert_eq!(
        err(" # nothing"),
        "1:1: parse error: no expression found in input"
    );
    assert_eq!(err("foo +"), "1:6: parse error: unexpected end of input");
    assert_eq!(
        err("foo bar"),
        r#"1:5: parse error: unexpected identifier "bar""#
    );
    assert_eq!(err("* foo"), "1:1: parse error: unexpected <op:*>");
    assert_eq!(
        err("sum(foo bar)"),
        r#"1:9: parse error: unexpected identifier "bar" in aggregation"#
    );
    assert_eq!(
        err("sum by x (foo)"),
        r#"1:8: parse error: unexpected identifier "x" in grouping opts, expected "(""#
    );
    assert_eq!(
        err("sum by (a b) (foo)"),
        r#"1:11: parse error: unexpected identifier "b" in grouping opts, expected "," or ")""#
    );
    assert_eq!(
        err("foo{a}"),
        r#"1:6: parse error: unexpected "}" in label matching, expected label matching operator"#
    );
    assert_eq!(
        err("foo{a=b}"),
        r#"1:7: parse error: unexpected identifier "b" in label matching, expected string"#
    );
    assert_eq!(
        err("foo offset bar"),
        r#"1:12: parse error: unexpected identifier "bar" in offset, expected number, duration, step(), or range()"#
    );
    assert_eq!(
        err("foo @ bar"),
        r#"1:7: parse error: unexpected identifier "bar" in @, expected timestamp"#
    );
    assert_eq!(err("foo[5m:1m"), "1:10: parse error: unclosed left bracket");
    assert_eq!(
        err("foo[5m 1m]"),
        r#"1:8: parse error: unexpected duration "1m" in subquery or range, expected ":" or "]""#
    );
    assert_eq!(
        err("rate(foo,)"),
        "1:9: parse error: trailing commas not allowed in function call args"
    );
    assert_eq!(err("(foo"), "1:5: parse error: unclosed left parenthesis");
    assert_eq!(
        err("foo)"),
        "1:5: parse error: unexpected right parenthesis ')'"
    );
    assert_eq!(err("foo\n  + + *"), "2:7: parse error: unexpected <op:*>");
    assert_eq!(
        err("foo[5m1h]"),
        r#"1:5: parse error: not a valid duration string: "5m1h""#
    );
    assert_eq!(
        err(r#""\q""#),
        "1:1: parse error: unknown escape sequence U+0071 'q'"
    );
}

#[test]
fn semantic_errors() {
    assert_eq!(
        err("rate(foo)"),
        r#"1:6: parse error: expected type range vector in call to function "rate", got instant vector"#
    );
    assert_eq!(
        err("time(1)"),
        r#"1:1: parse error: expected 0 argument(s) in call to "time", got 1"#
    );
    assert_eq!(
        err("round()"),
        r#"1:1: parse error: expected at least 1 argument(s) in call to "round", got 0"#
    );
    assert_eq!(
        err("nope(1)"),
        r#"1:1: parse error: unknown function with name "nope""#
    );
    assert_eq!(
        err("1 > 2"),
        "1:3: parse error: comparisons between scalars must use BOOL modifier"
    );
    assert_eq!(
        err("a + bool b"),
        "1:3: parse error: bool modifier can only be used on comparison operators"
    );
    assert_eq!(
        err("1 or foo"),
        r#"1:1: parse error: set operator "or" not allowed in binary scalar expression"#
    );
    assert_eq!(
        err("a and on(x) group_left b"),
        r#"1:1: parse error: no grouping allowed for "and" operation"#
    );
    assert_eq!(
        err("foo[1m] + 1"),
        "1:1: parse error: binary expression must contain only scalar and instant vector types"
    );
    assert_eq!(
        err(r#"{a=""}"#),
        "1:1: parse error: vector selector must contain at least one non-empty matcher"
    );
    assert_eq!(
        err(r#"foo{__name__="bar"}"#),
        r#"1:1: parse error: metric name must not be set twice: "foo" or "bar""#
    );
    assert_eq!(
        err("sum(1, foo)"),
        "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 1, got 2"
    );
    assert_eq!(
        err("-foo[5m]"),
        r#"1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got "range vector""#
    );
    assert_eq!(
        err("(foo + bar)[5m]"),
        "1:12: parse error: ranges only allowed for vector selectors"
    );
    assert_eq!(
        err("foo offset 1m offset 2m"),
        "1:1: parse error: offset may not be set multiple times"
    );
    assert_eq!(
        err("foo @ 1 [5m]"),
        "1:9: parse error: no @ modifiers allowed before range"
    );
    assert_eq!(
        err("foo[5m:] anchored"),
        "1:1: parse error: anchored modifier is not supported for subqueries"
    );
    assert_eq!(
        err("foo anchored smoothed"),
        "1:1: parse error: anchored and smoothed modifiers cannot be used together"
    );
    // The error list holds every type error; Display shows the first.
    let errs = parse_expr("rate(a) + rate(b)", &ParserOptions::all()).unwrap_err();
    assert_eq!(errs.0.len(), 2);
    assert_eq!(errs.0[1].pos, PosRange::new(15, 16));
}

#[test]
fn feature_gates() {
    let none = ParserOptions::default();
    assert_eq!(
        err_with("sort_by_label(foo, \"a\")", &none),
        r#"1:1: parse error: function "sort_by_label" is not enabled"#
    );
    assert_eq!(
        err_with("limitk(1, foo)", &none),
        "1:1: parse error: limitk() is experimental and must be enabled with --enable-feature=promql-experimental-functions"
    );
    assert_eq!(
        err_with("foo[5m] anchored", &none),
        "1:1: parse error: anchored modifier is experimental and not enabled"
    );
    assert_eq!(
        err_with("a + fill(1) b", &none),
        "1:1: parse error: binop fill modifiers are experimental and not enabled"
    );
    assert!(parse_expr("rate(foo[5m])", &none).is_ok());
}

#[test]
fn info_label_selector_argument() {
    match parse(r#"info(foo, {k=~".*"})"#) {
        Expr::Call(c) => match &c.args[1] {
            Expr::VectorSelector(vs) => assert!(vs.bypass_empty_matcher_check),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err("info(foo, bar)"),
        "1:11: parse error: expected label selectors only, got vector selector instead"
    );
}

#[test]
fn string_literals_keep_bytes() {
    match parse(r#""a\xffb""#) {
        Expr::StringLiteral(s) => {
            assert_eq!(s.val, b"a\xffb");
            assert!(s.as_str().is_err());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(parse(r#""a\xffb""#).to_string(), r#""a\xffb""#);
    assert_eq!(parse("`x\\n`").to_string(), r#""x\\n""#);
    assert_eq!(parse("'it\\'s'").to_string(), r#""it's""#);
}

#[test]
fn metric_selectors() {
    let m = parse_metric_selector(r#"up{job="a", "x.y"!~"b"}"#).unwrap();
    let text: Vec<String> = m.iter().map(ToString::to_string).collect();
    assert_eq!(text, [r#"job="a""#, r#""x.y"!~"b""#, r#"__name__="up""#]);
    assert!(parse_metric_selector("{}").unwrap().is_empty());
    assert_eq!(
        parse_metric_selector("up + 1").unwrap_err().to_string(),
        "1:4: parse error: unexpected <op:+>"
    );
    assert_eq!(
        parse_metric_selector("rate(x)").unwrap_err().to_string(),
        r#"1:5: parse error: unexpected "(""#
    );
}

#[test]
fn nan_fill_prints_both_sides() {
    assert_eq!(
        parse("a + fill(NaN) b").to_string(),
        "a + fill_left (NaN) fill_right (NaN) b"
    );
}

#[test]
fn trailing_comma_reported_before_later_syntax_errors() {
    assert_eq!(
        err("f(a, , b)"),
        "1:4: parse error: trailing commas not allowed in function call args"
    );
    assert_eq!(
        err("foo offset (NaN, 1)"),
        r#"1:16: parse error: unexpected "," in offset, expected number, duration, step(), or range()"#
    );
}

#[test]
fn group_modifier_and_at_errors() {
    assert_eq!(
        err("a + on(b) group_left ^ c"),
        r#"1:22: parse error: unexpected <op:^> in grouping opts, expected "(""#
    );
    assert_eq!(
        err("a @ + on"),
        "1:7: parse error: unexpected <on> in @, expected timestamp"
    );
    assert_eq!(
        parse("a + on(b) group_left c").to_string(),
        "a + on (b) group_left () c"
    );
}
