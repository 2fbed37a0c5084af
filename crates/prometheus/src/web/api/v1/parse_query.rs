//! `/api/v1/parse_query`: the syntax tree of a query as JSON, the shape upstream's UI draws as
//! its tree view. Objects are `serde_json` maps, whose keys come out sorted as Go's encoder
//! writes map keys; ranges and offsets are milliseconds, numbers Go's shortest `'f'` text.

use std::sync::Arc;

use axum::extract::State;
use pm_common::model::Matcher;
use pm_promql::parse_expr;
use pm_promql::parser::ast::{
    AggregateExpr, AtModifier, BinaryExpr, Call, DurationExpr, Expr, SubqueryExpr, VectorSelector,
};
use serde_json::{Value, json};

use super::ApiState;
use super::response::{ApiError, ApiResponse};

pub async fn parse_query(
    State(state): State<Arc<ApiState>>,
    params: super::params::Params,
) -> ApiResponse {
    let expr = match parse_expr(params.get("query"), &state.engine.options().parser) {
        Ok(expr) => expr,
        Err(e) => return ApiError::invalid_param("query", e).into(),
    };
    ApiResponse::data(translate(&expr).to_string())
}

/// The JSON tree of `expr`.
pub fn translate(expr: &Expr) -> Value {
    match expr {
        Expr::Aggregate(a) => aggregate(a),
        Expr::Binary(b) => binary(b),
        Expr::Call(c) => call(c),
        Expr::MatrixSelector(m) => {
            let mut node = selector(&m.vector_selector, "matrixSelector");
            node["range"] = json!(nanos_to_millis(m.range));
            node["rangeExpr"] = duration_opt(m.range_expr.as_deref());
            node
        }
        Expr::Subquery(s) => subquery(s),
        Expr::NumberLiteral(n) => json!({"type": "numberLiteral", "val": go_float(n.val)}),
        Expr::Paren(p) => json!({"type": "parenExpr", "expr": translate(&p.expr)}),
        Expr::StringLiteral(s) => json!({
            "type": "stringLiteral",
            "val": String::from_utf8_lossy(&s.val),
        }),
        Expr::Unary(u) => json!({
            "type": "unaryExpr",
            "op": u.op.as_str(),
            "expr": translate(&u.expr),
        }),
        Expr::VectorSelector(v) => selector(v, "vectorSelector"),
        Expr::Duration(d) => duration(d),
    }
}

/// A duration expression (range, step or offset arithmetic). Number literals inside one say
/// whether they were written as durations.
fn duration(d: &DurationExpr) -> Value {
    let operand = |e: &Option<Box<Expr>>| match e.as_deref() {
        None => Value::Null,
        Some(Expr::Duration(d)) => duration(d),
        Some(Expr::NumberLiteral(n)) => json!({
            "type": "numberLiteral",
            "val": go_float(n.val),
            "duration": n.duration,
        }),
        Some(other) => translate(other),
    };
    json!({
        "type": "durationExpr",
        "op": d.op.as_str(),
        "lhs": operand(&d.lhs),
        "rhs": operand(&d.rhs),
        "wrapped": d.wrapped,
    })
}

fn duration_opt(d: Option<&DurationExpr>) -> Value {
    d.map_or(Value::Null, duration)
}

fn aggregate(a: &AggregateExpr) -> Value {
    json!({
        "type": "aggregation",
        "op": a.op.as_str(),
        "expr": translate(&a.expr),
        "param": a.param.as_deref().map(translate),
        "grouping": a.grouping,
        "without": a.without,
    })
}

fn binary(b: &BinaryExpr) -> Value {
    let matching = b.matching.as_ref().map(|m| {
        json!({
            "card": m.card.as_str(),
            "labels": m.matching_labels,
            "on": m.on,
            "include": m.include,
            "fillValues": {"lhs": m.fill_lhs.map(go_json_float), "rhs": m.fill_rhs.map(go_json_float)},
        })
    });
    json!({
        "type": "binaryExpr",
        "op": b.op.as_str(),
        "lhs": translate(&b.lhs),
        "rhs": translate(&b.rhs),
        "matching": matching,
        "bool": b.return_bool,
    })
}

fn call(c: &Call) -> Value {
    let args: Vec<Value> = c.args.iter().map(translate).collect();
    let arg_types: Vec<&str> = c.func.arg_types.iter().map(|t| t.as_str()).collect();
    json!({
        "type": "call",
        "func": {
            "name": c.func.name,
            "argTypes": arg_types,
            "variadic": c.func.variadic,
            "returnType": c.func.return_type.as_str(),
        },
        "args": args,
    })
}

fn subquery(s: &SubqueryExpr) -> Value {
    let (timestamp, start_or_end) = at(s.at);
    json!({
        "type": "subquery",
        "expr": translate(&s.expr),
        "range": nanos_to_millis(s.range),
        "rangeExpr": duration_opt(s.range_expr.as_deref()),
        "offset": nanos_to_millis(s.original_offset),
        "offsetExpr": duration_opt(s.offset_expr.as_deref()),
        "step": nanos_to_millis(s.step),
        "stepExpr": duration_opt(s.step_expr.as_deref()),
        "timestamp": timestamp,
        "startOrEnd": start_or_end,
    })
}

fn selector(v: &VectorSelector, kind: &str) -> Value {
    let (timestamp, start_or_end) = at(v.at);
    json!({
        "type": kind,
        "name": v.name,
        "offset": nanos_to_millis(v.original_offset),
        "offsetExpr": duration_opt(v.offset_expr.as_deref()),
        "matchers": v.matchers.iter().map(matcher).collect::<Vec<_>>(),
        "timestamp": timestamp,
        "startOrEnd": start_or_end,
        "anchored": v.anchored,
        "smoothed": v.smoothed,
    })
}

fn matcher(m: &Matcher) -> Value {
    json!({"name": m.name(), "value": m.value(), "type": m.match_type().as_str()})
}

/// The `@` modifier as upstream's `timestamp` (milliseconds) and `startOrEnd` fields.
fn at(at: AtModifier) -> (Option<i64>, Option<&'static str>) {
    match at {
        AtModifier::None => (None, None),
        AtModifier::Timestamp(ms) => (Some(ms), None),
        AtModifier::Start => (None, Some("start")),
        AtModifier::End => (None, Some("end")),
    }
}

/// Go's `Duration.Milliseconds`: truncation toward zero.
fn nanos_to_millis(ns: i64) -> i64 {
    ns / 1_000_000
}

/// A float as Go's JSON encoder writes it: integral values without a fraction (`0`, not
/// `0.0`).
fn go_json_float(v: f64) -> Value {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        json!(v as i64)
    } else {
        json!(v)
    }
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`: shortest digits, never an exponent.
fn go_float(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        v.to_string()
    }
}

#[cfg(test)]
#[path = "parse_query_tests.rs"]
mod tests;
