use pm_promql::{ParserOptions, parse_expr};
use serde_json::{Value, json};

use super::translate;

fn tree(query: &str) -> Value {
    translate(&parse_expr(query, &ParserOptions::all()).unwrap())
}

fn vector(name: &str, matchers: Value) -> Value {
    json!({
        "type": "vectorSelector", "name": name, "offset": 0, "offsetExpr": null,
        "matchers": matchers, "timestamp": null, "startOrEnd": null,
        "anchored": false, "smoothed": false,
    })
}

fn name_matcher(name: &str) -> Value {
    json!({"name": "__name__", "type": "=", "value": name})
}

#[test]
fn selectors_keep_written_matchers_then_the_name() {
    assert_eq!(
        tree(r#"up{job="a",env!~"d.*"}"#),
        vector(
            "up",
            json!([
                {"name": "job", "type": "=", "value": "a"},
                {"name": "env", "type": "!~", "value": "d.*"},
                name_matcher("up"),
            ])
        )
    );
    assert_eq!(
        tree(r#"{__name__=~"x|y"}"#),
        vector(
            "",
            json!([{"name": "__name__", "type": "=~", "value": "x|y"}])
        )
    );
}

#[test]
fn matrix_selector_with_offset_and_at() {
    let mut want = vector("x", json!([name_matcher("x")]));
    want["type"] = json!("matrixSelector");
    want["range"] = json!(300_000);
    want["rangeExpr"] = Value::Null;
    want["offset"] = json!(-60_000);
    want["timestamp"] = json!(1_500);
    assert_eq!(tree("x[5m] offset -1m @ 1.5"), want);

    want["offset"] = json!(0);
    want["timestamp"] = Value::Null;
    want["startOrEnd"] = json!("end");
    assert_eq!(tree("x[5m] @ end()"), want);
}

#[test]
fn aggregation_with_param_and_grouping() {
    let v = tree("topk by (job) (3, rate(x[1m]))");
    assert_eq!(v["type"], "aggregation");
    assert_eq!(v["op"], "topk");
    assert_eq!(v["grouping"], json!(["job"]));
    assert_eq!(v["without"], false);
    assert_eq!(v["param"], json!({"type": "numberLiteral", "val": "3"}));
    let call = &v["expr"];
    assert_eq!(call["type"], "call");
    assert_eq!(
        call["func"],
        json!({"name": "rate", "argTypes": ["matrix"], "variadic": 0, "returnType": "vector"})
    );
    assert_eq!(call["args"][0]["range"], 60_000);

    let v = tree("sum(x)");
    assert_eq!(v["param"], Value::Null);
    assert_eq!(v["grouping"], json!([]));
    assert_eq!(tree("sum without (a) (x)")["without"], true);
}

#[test]
fn binary_expressions_and_matching() {
    assert_eq!(
        tree("1 + 2"),
        json!({
            "type": "binaryExpr", "op": "+", "bool": false, "matching": null,
            "lhs": {"type": "numberLiteral", "val": "1"},
            "rhs": {"type": "numberLiteral", "val": "2"},
        })
    );
    let v = tree("a > bool on (x) group_left (y) b");
    assert_eq!(v["op"], ">");
    assert_eq!(v["bool"], true);
    assert_eq!(
        v["matching"],
        json!({
            "card": "many-to-one", "labels": ["x"], "on": true, "include": ["y"],
            "fillValues": {"lhs": null, "rhs": null},
        })
    );
    let v = tree("a and b");
    assert_eq!(v["op"], "and");
    assert_eq!(v["matching"]["card"], "many-to-many");
    assert_eq!(v["matching"]["on"], false);
    let v = tree("a + fill_right(0) b");
    assert_eq!(v["matching"]["fillValues"], json!({"lhs": null, "rhs": 0}));
    let v = tree("a + fill(0.5) b");
    assert_eq!(v["matching"]["fillValues"], json!({"lhs": 0.5, "rhs": 0.5}));
}

#[test]
fn literals_unary_paren_and_calls() {
    assert_eq!(
        tree("-(1e10)"),
        json!({"type": "unaryExpr", "op": "-", "expr": {
            "type": "parenExpr", "expr": {"type": "numberLiteral", "val": "10000000000"}
        }})
    );
    assert_eq!(tree("Inf")["val"], "+Inf");
    // A sign folds into a number literal, as upstream's parser does.
    assert_eq!(
        tree("-Inf"),
        json!({"type": "numberLiteral", "val": "-Inf"})
    );
    assert_eq!(tree("-x")["type"], "unaryExpr");
    assert_eq!(tree("NaN")["val"], "NaN");
    assert_eq!(tree("0.000001")["val"], "0.000001");
    assert_eq!(tree("5m")["val"], "300");
    assert_eq!(
        tree(r#""a\nb""#),
        json!({"type": "stringLiteral", "val": "a\nb"})
    );
    let v = tree(r#"label_replace(x, "a", "$1", "b", "(.*)")"#);
    assert_eq!(
        v["func"]["argTypes"],
        json!(["vector", "string", "string", "string", "string"])
    );
    assert_eq!(v["args"].as_array().unwrap().len(), 5);
    let v = tree("time()");
    assert_eq!(v["func"]["argTypes"], json!([]));
    assert_eq!(v["args"], json!([]));
    assert_eq!(v["func"]["returnType"], "scalar");
    assert_eq!(tree("round(x)")["func"]["variadic"], 1);
}

#[test]
fn subqueries() {
    let v = tree("max_over_time(rate(x[1m])[10m:30s] offset 1h)");
    let sq = &v["args"][0];
    assert_eq!(sq["type"], "subquery");
    assert_eq!(sq["range"], 600_000);
    assert_eq!(sq["step"], 30_000);
    assert_eq!(sq["offset"], 3_600_000);
    assert_eq!(sq["rangeExpr"], Value::Null);
    assert_eq!(sq["stepExpr"], Value::Null);
    assert_eq!(sq["offsetExpr"], Value::Null);
    assert_eq!(sq["startOrEnd"], Value::Null);
    assert_eq!(sq["expr"]["func"]["name"], "rate");
    assert_eq!(tree("x[5m:] @ start()")["step"], 0);
    assert_eq!(tree("x[5m:] @ start()")["startOrEnd"], "start");
}

#[test]
fn duration_expressions_are_left_to_the_engine() {
    let v = tree("x[5m + step()]");
    assert_eq!(v["range"], 0);
    assert_eq!(
        v["rangeExpr"],
        json!({
            "type": "durationExpr", "op": "+", "wrapped": false,
            "lhs": {"type": "numberLiteral", "val": "300", "duration": true},
            "rhs": {"type": "durationExpr", "op": "step", "lhs": null, "rhs": null, "wrapped": false},
        })
    );
    let v = tree("x offset (2 * 30s)");
    assert_eq!(v["offset"], 0);
    assert_eq!(v["offsetExpr"]["op"], "*");
    assert_eq!(v["offsetExpr"]["wrapped"], true);
    assert_eq!(v["offsetExpr"]["lhs"]["duration"], false);
}

#[test]
fn anchored_and_smoothed_selectors() {
    assert_eq!(tree("x[5m] anchored")["anchored"], true);
    assert_eq!(tree("x smoothed")["smoothed"], true);
}

#[test]
fn keys_are_sorted_like_go_maps() {
    let text = tree("sum(x)").to_string();
    assert!(
        text.starts_with(r#"{"expr":{"anchored":false,"matchers":"#),
        "{text}"
    );
}
