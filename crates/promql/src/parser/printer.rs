//! Canonical PromQL text of an expression, identical to upstream's `String()` (what
//! `/api/v1/format_query` returns without prettifying).

use std::fmt::{self, Display, Formatter, Write};

use pm_common::model::{METRIC_NAME_LABEL, MatchType, is_valid_legacy_label_name, write_go_quoted};

use super::ast::*;
use super::duration::format_duration_nanos;
use super::strings::write_go_quoted_bytes;

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`.
fn write_float(f: &mut impl Write, v: f64) -> fmt::Result {
    if v.is_nan() {
        f.write_str("NaN")
    } else if v.is_infinite() {
        f.write_str(if v > 0.0 { "+Inf" } else { "-Inf" })
    } else {
        write!(f, "{v}")
    }
}

/// Go's `%v` for a float: shortest representation, exponent form below 1e-4 and from 1e21.
fn write_float_v(f: &mut impl Write, v: f64) -> fmt::Result {
    let abs = v.abs();
    if v.is_finite() && v != 0.0 && !(1e-4..1e21).contains(&abs) {
        let s = format!("{v:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let (sign, digits) = match exp.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exp),
        };
        write!(f, "{mantissa}e{sign}{digits:0>2}")
    } else {
        write_float(f, v)
    }
}

fn write_labels(f: &mut impl Write, labels: &[String]) -> fmt::Result {
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        if is_valid_legacy_label_name(l) {
            f.write_str(l)?;
        } else {
            write_go_quoted(f, l)?;
        }
    }
    Ok(())
}

fn write_at(f: &mut impl Write, at: AtModifier) -> fmt::Result {
    match at {
        AtModifier::None => Ok(()),
        AtModifier::Timestamp(ms) => write!(f, " @ {:.3}", ms as f64 / 1000.0),
        AtModifier::Start => f.write_str(" @ start()"),
        AtModifier::End => f.write_str(" @ end()"),
    }
}

fn write_offset(f: &mut impl Write, nanos: i64, expr: Option<&DurationExpr>) -> fmt::Result {
    match expr {
        Some(e) => write!(f, " offset {e}"),
        None if nanos != 0 => {
            write!(f, " offset {}", format_duration_nanos(nanos))
        }
        None => Ok(()),
    }
}

fn write_range(f: &mut impl Write, nanos: i64, expr: Option<&DurationExpr>) -> fmt::Result {
    match expr {
        Some(e) => write!(f, "{e}"),
        None => f.write_str(&format_duration_nanos(nanos)),
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Aggregate(a) => a.fmt(f),
            Expr::Binary(b) => b.fmt(f),
            Expr::Call(c) => {
                write!(f, "{}(", c.func.name)?;
                for (i, arg) in c.args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    arg.fmt(f)?;
                }
                f.write_char(')')
            }
            Expr::Duration(d) => d.fmt(f),
            Expr::MatrixSelector(m) => m.fmt(f),
            Expr::NumberLiteral(n) => n.fmt(f),
            Expr::Paren(p) => write!(f, "({})", p.expr),
            Expr::StringLiteral(s) => write_go_quoted_bytes(f, &s.val),
            Expr::Subquery(s) => s.fmt(f),
            Expr::Unary(u) => write!(f, "{}{}", u.op.as_str(), u.expr),
            Expr::VectorSelector(vs) => vs.fmt(f),
        }
    }
}

/// The operator and grouping of an aggregation, e.g. `sum by (job) ` (upstream's
/// `ShortString`, also the head of the prettified form).
pub(super) fn write_aggregate_head(f: &mut impl Write, a: &AggregateExpr) -> fmt::Result {
    f.write_str(a.op.as_str())?;
    if a.without || !a.grouping.is_empty() {
        f.write_str(if a.without { " without (" } else { " by (" })?;
        write_labels(f, &a.grouping)?;
        f.write_str(") ")?;
    }
    Ok(())
}

impl Display for AggregateExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_aggregate_head(f, self)?;
        f.write_char('(')?;
        if let Some(p) = &self.param {
            write!(f, "{p}, ")?;
        }
        write!(f, "{})", self.expr)
    }
}

/// The operator with its `bool`, matching and fill modifiers, e.g. `/ on (a) group_left ()`.
pub(super) fn write_operator(f: &mut impl Write, b: &BinaryExpr) -> fmt::Result {
    f.write_str(b.op.as_str())?;
    if b.return_bool {
        f.write_str(" bool")?;
    }
    let Some(m) = &b.matching else {
        return Ok(());
    };
    let grouped = matches!(m.card, Cardinality::ManyToOne | Cardinality::OneToMany);
    if !m.matching_labels.is_empty() || m.on || grouped {
        f.write_str(if m.on { " on (" } else { " ignoring (" })?;
        write_labels(f, &m.matching_labels)?;
        f.write_char(')')?;
    }
    if grouped {
        f.write_str(if m.card == Cardinality::ManyToOne {
            " group_left ("
        } else {
            " group_right ("
        })?;
        write_labels(f, &m.include)?;
        f.write_char(')')?;
    }
    let mut fill = |name: &str, v: f64| -> fmt::Result {
        write!(f, " {name} (")?;
        write_float_v(f, v)?;
        f.write_char(')')
    };
    match (m.fill_lhs, m.fill_rhs) {
        // As upstream, NaN fills print separately (NaN != NaN).
        (Some(l), Some(r)) if l == r => fill("fill", l),
        (l, r) => {
            if let Some(l) = l {
                fill("fill_left", l)?;
            }
            if let Some(r) = r {
                fill("fill_right", r)?;
            }
            Ok(())
        }
    }
}

impl Display for BinaryExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.lhs)?;
        write_operator(f, self)?;
        write!(f, " {}", self.rhs)
    }
}

impl Display for DurationExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.wrapped {
            f.write_char('(')?;
        }
        match (self.op, &self.lhs, &self.rhs) {
            (DurationOp::Step, ..) => f.write_str("step()")?,
            (DurationOp::Range, ..) => f.write_str("range()")?,
            (DurationOp::MinOf | DurationOp::MaxOf, Some(l), Some(r)) => {
                write!(f, "{}({l}, {r})", self.op.as_str())?
            }
            (DurationOp::Sub, None, Some(r)) => write!(f, "-{r}")?,
            (_, None, Some(r)) => r.fmt(f)?,
            (op, Some(l), Some(r)) => write!(f, "{l} {} {r}", op.as_str())?,
            // The parser builds no other shape; print whatever operand there is.
            (_, Some(side), None) => side.fmt(f)?,
            (_, None, None) => {}
        }
        if self.wrapped {
            f.write_char(')')?;
        }
        Ok(())
    }
}

impl Display for MatrixSelector {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let vs = &self.vector_selector;
        write_selector_base(f, vs)?;
        f.write_char('[')?;
        write_range(f, self.range, self.range_expr.as_deref())?;
        f.write_char(']')?;
        if vs.anchored {
            f.write_str(" anchored")?;
        } else if vs.smoothed {
            f.write_str(" smoothed")?;
        }
        write_at(f, vs.at)?;
        write_offset(f, vs.original_offset, vs.offset_expr.as_deref())
    }
}

/// `[range:step]` and the `@`/`offset` modifiers of a subquery.
pub(super) fn write_subquery_suffix(f: &mut impl Write, s: &SubqueryExpr) -> fmt::Result {
    f.write_char('[')?;
    write_range(f, s.range, s.range_expr.as_deref())?;
    f.write_char(':')?;
    if s.step != 0 {
        f.write_str(&format_duration_nanos(s.step))?;
    } else if let Some(e) = &s.step_expr {
        write!(f, "{e}")?;
    }
    f.write_char(']')?;
    write_at(f, s.at)?;
    write_offset(f, s.original_offset, s.offset_expr.as_deref())
}

impl Display for SubqueryExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.expr)?;
        write_subquery_suffix(f, self)
    }
}

impl Display for NumberLiteral {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        if self.duration {
            f.write_str(&format_duration_nanos((self.val * 1e9) as i64))
        } else {
            write_float(f, self.val)
        }
    }
}

/// Name and sorted matchers, leaving out the matcher implied by the name.
fn write_selector_base(f: &mut impl Write, vs: &VectorSelector) -> fmt::Result {
    let mut matchers: Vec<String> = vs
        .matchers
        .iter()
        .filter(|m| {
            !(m.name() == METRIC_NAME_LABEL
                && m.match_type() == MatchType::Equal
                && m.value() == vs.name
                && !m.value().is_empty())
        })
        .map(ToString::to_string)
        .collect();
    f.write_str(&vs.name)?;
    if !matchers.is_empty() {
        matchers.sort();
        write!(f, "{{{}}}", matchers.join(","))?;
    }
    Ok(())
}

impl Display for VectorSelector {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_selector_base(f, self)?;
        write_at(f, self.at)?;
        if self.anchored {
            f.write_str(" anchored")?;
        } else if self.smoothed {
            f.write_str(" smoothed")?;
        }
        write_offset(f, self.original_offset, self.offset_expr.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_like_go() {
        let v = |x: f64| {
            let mut s = String::new();
            write_float_v(&mut s, x).unwrap();
            s
        };
        assert_eq!(v(1.5), "1.5");
        assert_eq!(v(1e21), "1e+21");
        assert_eq!(v(0.00001), "1e-05");
        assert_eq!(v(f64::NAN), "NaN");
        assert_eq!(v(f64::NEG_INFINITY), "-Inf");
        let mut s = String::new();
        write_float(&mut s, 1e21).unwrap();
        assert_eq!(s, "1000000000000000000000");
    }
}
