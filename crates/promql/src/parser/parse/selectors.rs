//! Vector selectors and the postfix modifiers: ranges, subqueries, `offset`, `@`, `anchored`,
//! `smoothed`.

use pm_common::model::{METRIC_NAME_LABEL, MatchType, Matcher};

use super::{ErrorContext, PResult, Parser};
use crate::parser::ast::*;
use crate::parser::lexer::{Item, Kind};

const LABEL_MATCHING: &str = "label matching";

/// Largest |seconds| representable as nanoseconds in an i64.
const MAX_DURATION_SECONDS: f64 = 9_223_372_036.854_775;

/// NaN is in range, as upstream's comparisons are false for it.
pub(super) fn duration_out_of_range(seconds: f64) -> bool {
    seconds.abs() > MAX_DURATION_SECONDS
}

pub(super) fn seconds_to_nanos(seconds: f64) -> i64 {
    (seconds * 1e9).round() as i64
}

/// A literal or a duration expression in range, step or offset position.
pub(super) enum DurationValue {
    Literal(f64),
    Expr(Box<DurationExpr>),
}

impl DurationValue {
    pub(super) fn from_expr(e: Expr) -> Self {
        match e {
            Expr::NumberLiteral(n) => DurationValue::Literal(n.val),
            Expr::Duration(d) => DurationValue::Expr(Box::new(d)),
            other => unreachable!("duration parser produced {other:?}"),
        }
    }
}

fn match_type(kind: Kind) -> Option<MatchType> {
    Some(match kind {
        Kind::Eql => MatchType::Equal,
        Kind::Neq => MatchType::NotEqual,
        Kind::EqlRegex => MatchType::Regexp,
        Kind::NeqRegex => MatchType::NotRegexp,
        _ => return None,
    })
}

impl Parser<'_> {
    /// `name`, `name{…}` or `{…}`; `name` has already been consumed.
    pub(super) fn parse_vector_selector(&mut self, name: Option<Item>) -> PResult<VectorSelector> {
        let start = name.map_or(self.peek().pos, |n| n.pos);
        let mut end = name.map_or(start, |n| n.end);
        let mut matchers = Vec::new();
        if self.peek_kind() == Kind::LeftBrace {
            (matchers, end) = self.parse_label_matchers()?;
        }
        let name = name.map(|n| self.text(n).to_owned()).unwrap_or_default();
        if !name.is_empty() {
            matchers.push(
                Matcher::new(MatchType::Equal, METRIC_NAME_LABEL, name.as_str())
                    .expect("equality matchers always compile"),
            );
        }
        Ok(VectorSelector {
            name,
            matchers,
            original_offset: 0,
            offset_expr: None,
            at: AtModifier::None,
            anchored: false,
            smoothed: false,
            bypass_empty_matcher_check: false,
            pos: PosRange::new(start, end),
        })
    }

    /// `{ matcher, … }`; returns the matchers and the end of the closing brace.
    fn parse_label_matchers(&mut self) -> PResult<(Vec<Matcher>, usize)> {
        self.advance();
        let mut matchers = Vec::new();
        if self.peek_kind() == Kind::RightBrace {
            return Ok((matchers, self.advance().end));
        }
        loop {
            matchers.push(self.parse_label_matcher()?);
            match self.peek_kind() {
                Kind::Comma => {
                    self.advance();
                    if self.peek_kind() == Kind::RightBrace {
                        return Ok((matchers, self.advance().end));
                    }
                }
                Kind::RightBrace => return Ok((matchers, self.advance().end)),
                _ => return Err(self.unexpected_in(LABEL_MATCHING, "\",\" or \"}\"")),
            }
        }
    }

    /// `name op "value"`, `"name" op "value"` or a bare `"metric name"`.
    fn parse_label_matcher(&mut self) -> PResult<Matcher> {
        let name_item = self.peek();
        let name = match name_item.kind {
            Kind::Identifier => self.text(name_item).to_owned(),
            Kind::String => self.unquote(name_item)?,
            _ => return Err(self.unexpected_in(LABEL_MATCHING, "identifier or \"}\"")),
        };
        self.advance();
        let Some(match_type) = match_type(self.peek_kind()) else {
            if name_item.kind == Kind::String {
                return Matcher::new(MatchType::Equal, METRIC_NAME_LABEL, name)
                    .map_err(|e| self.error(Self::item_range(name_item), e.to_string()));
            }
            return Err(self.unexpected_in(LABEL_MATCHING, "label matching operator"));
        };
        self.advance();
        let value_item = self.peek();
        if value_item.kind != Kind::String {
            return Err(self.unexpected_in(LABEL_MATCHING, "string"));
        }
        self.advance();
        let value = self.unquote(value_item)?;
        Matcher::new(match_type, name, value)
            .map_err(|e| self.error(PosRange::new(name_item.pos, value_item.end), e.to_string()))
    }

    /// Applies the modifiers that follow a primary expression.
    pub(super) fn parse_postfix(&mut self, mut expr: Expr) -> PResult<Expr> {
        loop {
            expr = match self.peek_kind() {
                Kind::LeftBracket => self.parse_range_or_subquery(expr)?,
                Kind::Offset => self.parse_offset(expr)?,
                Kind::At => self.parse_at(expr)?,
                Kind::Anchored | Kind::Smoothed => self.parse_extended_range(expr)?,
                _ => return Ok(expr),
            };
        }
    }

    fn parse_range_or_subquery(&mut self, expr: Expr) -> PResult<Expr> {
        let open = self.advance();
        let ctx = ErrorContext {
            context: "subquery or range selector",
            expected: "number, duration, step(), or range()",
        };
        self.within(ctx, |p| {
            let range = DurationValue::from_expr(p.parse_positive_duration()?);
            p.set_context("subquery or range", "\":\" or \"]\"");
            match p.peek_kind() {
                Kind::RightBracket => {
                    let close = p.advance();
                    p.matrix_selector(expr, range, PosRange::new(open.pos, close.end))
                }
                Kind::Colon => {
                    p.advance();
                    p.set_context(
                        "subquery selector",
                        "number, duration, step(), range(), or \"]\"",
                    );
                    let step = if p.peek_kind() == Kind::RightBracket {
                        DurationValue::Literal(0.0)
                    } else {
                        let step = DurationValue::from_expr(p.parse_positive_duration()?);
                        p.set_context("subquery selector", "\"]\"");
                        step
                    };
                    let close = p.expect(Kind::RightBracket)?;
                    let (range, range_expr) = split_duration(range);
                    let (step, step_expr) = split_duration(step);
                    Ok(Expr::Subquery(SubqueryExpr {
                        expr: Box::new(expr),
                        range,
                        range_expr,
                        step,
                        step_expr,
                        original_offset: 0,
                        offset_expr: None,
                        at: AtModifier::None,
                        end: close.end,
                    }))
                }
                _ => Err(p.unexpected()),
            }
        })
    }

    fn matrix_selector(
        &self,
        expr: Expr,
        range: DurationValue,
        brackets: PosRange,
    ) -> PResult<Expr> {
        let vs = match expr {
            Expr::VectorSelector(vs) => vs,
            _ => return Err(self.error(brackets, "ranges only allowed for vector selectors")),
        };
        if vs.original_offset != 0 || vs.offset_expr.is_some() {
            return Err(self.error(brackets, "no offset modifiers allowed before range"));
        }
        if vs.at != AtModifier::None {
            return Err(self.error(brackets, "no @ modifiers allowed before range"));
        }
        let (range, range_expr) = split_duration(range);
        Ok(Expr::MatrixSelector(MatrixSelector {
            vector_selector: vs,
            range,
            range_expr,
            end: brackets.end,
        }))
    }

    fn parse_offset(&mut self, mut expr: Expr) -> PResult<Expr> {
        self.advance();
        let ctx = ErrorContext {
            context: "offset",
            expected: "number, duration, step(), or range()",
        };
        let value = self.within(ctx, |p| p.parse_offset_duration())?;
        let (nanos, offset_expr) = split_duration(DurationValue::from_expr(value));
        let last = self.last_closing;
        let pos = expr.pos_range();
        let (offset, offset_slot, end) = match &mut expr {
            Expr::VectorSelector(vs) => (
                &mut vs.original_offset,
                &mut vs.offset_expr,
                &mut vs.pos.end,
            ),
            Expr::MatrixSelector(ms) => (
                &mut ms.vector_selector.original_offset,
                &mut ms.vector_selector.offset_expr,
                &mut ms.end,
            ),
            Expr::Subquery(sq) => (&mut sq.original_offset, &mut sq.offset_expr, &mut sq.end),
            _ => {
                return Err(self.error(
                    pos,
                    "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
                ));
            }
        };
        if *offset != 0 || offset_slot.is_some() {
            return Err(self.error(pos, "offset may not be set multiple times"));
        }
        *offset = nanos;
        *offset_slot = offset_expr;
        *end = last;
        Ok(expr)
    }

    fn parse_at(&mut self, mut expr: Expr) -> PResult<Expr> {
        self.advance();
        let ctx = ErrorContext {
            context: "@",
            expected: "timestamp",
        };
        let at = self.within(ctx, |p| {
            let signed = matches!(p.peek_kind(), Kind::Add | Kind::Sub);
            let sign = if signed && p.advance().kind == Kind::Sub {
                -1.0
            } else {
                1.0
            };
            match p.peek_kind() {
                Kind::Number | Kind::Duration => {
                    let seconds = sign * p.parse_number_literal()?.val;
                    Ok((Some(seconds), AtModifier::None))
                }
                Kind::Start | Kind::End if !signed => {
                    let which = p.advance().kind;
                    p.expect(Kind::LeftParen)?;
                    p.expect(Kind::RightParen)?;
                    let at = if which == Kind::Start {
                        AtModifier::Start
                    } else {
                        AtModifier::End
                    };
                    Ok((None, at))
                }
                _ => Err(p.unexpected()),
            }
        })?;
        let pos = expr.pos_range();
        let at = match at {
            (Some(seconds), _) => {
                if !seconds.is_finite() || seconds >= i64::MAX as f64 || seconds <= i64::MIN as f64
                {
                    return Err(self.error(
                        pos,
                        format!(
                            "timestamp out of bounds for @ modifier: {}",
                            go_fixed6(seconds)
                        ),
                    ));
                }
                AtModifier::Timestamp((seconds * 1000.0).round() as i64)
            }
            (None, at) => at,
        };
        let last = self.last_closing;
        let (slot, end) = match &mut expr {
            Expr::VectorSelector(vs) => (&mut vs.at, &mut vs.pos.end),
            Expr::MatrixSelector(ms) => (&mut ms.vector_selector.at, &mut ms.end),
            Expr::Subquery(sq) => (&mut sq.at, &mut sq.end),
            _ => {
                return Err(self.error(
                    pos,
                    "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery",
                ));
            }
        };
        if *slot != AtModifier::None {
            return Err(self.error(pos, "@ <timestamp> may not be set multiple times"));
        }
        *slot = at;
        *end = last;
        Ok(expr)
    }

    /// `anchored` / `smoothed` (extended range selectors).
    fn parse_extended_range(&mut self, mut expr: Expr) -> PResult<Expr> {
        let anchored = self.advance().kind == Kind::Anchored;
        let name = if anchored { "anchored" } else { "smoothed" };
        let pos = expr.pos_range();
        if !self.opts.enable_extended_range_selectors {
            return Err(self.error(
                pos,
                format!("{name} modifier is experimental and not enabled"),
            ));
        }
        let vs = match &mut expr {
            Expr::VectorSelector(vs) => vs,
            Expr::MatrixSelector(ms) => &mut ms.vector_selector,
            Expr::Subquery(_) => {
                return Err(self.error(
                    pos,
                    format!("{name} modifier is not supported for subqueries"),
                ));
            }
            _ => return Err(self.error(pos, format!("{name} modifier not implemented"))),
        };
        if anchored {
            vs.anchored = true;
        } else {
            vs.smoothed = true;
        }
        if vs.anchored && vs.smoothed {
            return Err(self.error(
                pos,
                "anchored and smoothed modifiers cannot be used together",
            ));
        }
        Ok(expr)
    }
}

/// Go's `%f`: six decimals, `+Inf`, `-Inf`, `NaN`.
fn go_fixed6(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        format!("{v:.6}")
    }
}

/// Splits a range/step/offset into its literal nanoseconds and its expression form.
fn split_duration(v: DurationValue) -> (i64, Option<Box<DurationExpr>>) {
    match v {
        DurationValue::Literal(seconds) => (seconds_to_nanos(seconds), None),
        DurationValue::Expr(e) => (0, Some(e)),
    }
}
