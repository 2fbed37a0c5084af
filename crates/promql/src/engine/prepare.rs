//! Rewrites applied to a parsed query before evaluation: duration expressions are resolved
//! against the query's step and range, and `@ start()` / `@ end()` become timestamps.

use crate::parser::{AtModifier, DurationExpr, DurationOp, Expr};

use super::error::QueryError;

/// The query's time frame, in milliseconds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Frame {
    pub start: i64,
    pub end: i64,
    pub step: i64,
}

/// Resolves duration expressions and `@ start()`/`@ end()` in place.
pub(crate) fn prepare(expr: &mut Expr, frame: Frame) -> Result<(), QueryError> {
    let resolve_at = |at: &mut AtModifier| match at {
        AtModifier::Start => *at = AtModifier::Timestamp(frame.start),
        AtModifier::End => *at = AtModifier::Timestamp(frame.end),
        _ => {}
    };
    match expr {
        Expr::VectorSelector(vs) => {
            if let Some(e) = &vs.offset_expr {
                vs.original_offset = duration(e, frame, true)?;
            }
            resolve_at(&mut vs.at);
        }
        Expr::MatrixSelector(ms) => {
            if let Some(e) = &ms.range_expr {
                ms.range = duration(e, frame, false)?;
            }
            let vs = &mut ms.vector_selector;
            if let Some(e) = &vs.offset_expr {
                vs.original_offset = duration(e, frame, true)?;
            }
            resolve_at(&mut vs.at);
        }
        Expr::Subquery(sq) => {
            if let Some(e) = &sq.offset_expr {
                sq.original_offset = duration(e, frame, true)?;
            }
            if let Some(e) = &sq.step_expr {
                sq.step = duration(e, frame, false)?;
            }
            if let Some(e) = &sq.range_expr {
                sq.range = duration(e, frame, false)?;
            }
            resolve_at(&mut sq.at);
        }
        _ => {}
    }
    for child in expr.children_mut() {
        prepare(child, frame)?;
    }
    Ok(())
}

/// A duration expression's value in nanoseconds (rounded to milliseconds, as upstream).
fn duration(e: &DurationExpr, frame: Frame, allow_negative: bool) -> Result<i64, QueryError> {
    let pos = e.pos_range();
    let fail = |msg: &str| QueryError::BadRequest(format!("{}:{}: {msg}", pos.start, pos.end));
    let seconds = duration_value(e, frame)?;
    if !seconds.is_finite() {
        return Err(fail("duration is NaN or infinite"));
    }
    if seconds <= 0.0 && !allow_negative {
        return Err(fail("duration must be greater than 0"));
    }
    if seconds.abs() > i64::MAX as f64 / 1e9 {
        return Err(fail("duration is out of range"));
    }
    Ok((seconds * 1000.0) as i64 * 1_000_000)
}

fn expr_value(e: &Expr, frame: Frame) -> Result<f64, QueryError> {
    match e {
        Expr::NumberLiteral(n) => Ok(n.val),
        Expr::Duration(d) => duration_value(d, frame),
        Expr::Paren(p) => expr_value(&p.expr, frame),
        other => Err(QueryError::eval(format!(
            "unexpected duration expression {other}"
        ))),
    }
}

fn duration_value(e: &DurationExpr, frame: Frame) -> Result<f64, QueryError> {
    let pos = e.pos_range();
    let lhs = e.lhs.as_deref().map(|l| expr_value(l, frame)).transpose()?;
    let rhs = e.rhs.as_deref().map(|r| expr_value(r, frame)).transpose()?;
    let (l, r) = (lhs.unwrap_or(0.0), rhs.unwrap_or(0.0));
    let zero =
        |what: &str| QueryError::BadRequest(format!("{}:{}: {what} by zero", pos.start, pos.end));
    Ok(match e.op {
        DurationOp::Step => frame.step as f64 / 1000.0,
        DurationOp::Range => (frame.end - frame.start) as f64 / 1000.0,
        DurationOp::MinOf => l.min(r),
        DurationOp::MaxOf => l.max(r),
        DurationOp::Add => l + r,
        DurationOp::Sub => l - r,
        DurationOp::Mul => l * r,
        DurationOp::Div if r == 0.0 => return Err(zero("division")),
        DurationOp::Div => l / r,
        DurationOp::Mod if r == 0.0 => return Err(zero("modulo")),
        DurationOp::Mod => l % r,
        DurationOp::Pow => l.powf(r),
    })
}
