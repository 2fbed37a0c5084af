//! Duration expressions in range, step and offset positions: literals, `+ - * / % ^`,
//! parentheses, `step()`, `range()`, `min_of(a, b)`, `max_of(a, b)`.

use super::selectors::duration_out_of_range;
use super::{PResult, Parser};
use crate::parser::ast::*;
use crate::parser::lexer::{Item, Kind};

fn duration_op(kind: Kind) -> Option<(DurationOp, u8)> {
    Some(match kind {
        Kind::Add => (DurationOp::Add, 4),
        Kind::Sub => (DurationOp::Sub, 4),
        Kind::Mul => (DurationOp::Mul, 5),
        Kind::Div => (DurationOp::Div, 5),
        Kind::Mod => (DurationOp::Mod, 5),
        Kind::Pow => (DurationOp::Pow, 6),
        _ => return None,
    })
}

/// Marks an expression as parenthesized, wrapping a bare literal in a unary `+` node so the
/// printer can keep the parentheses.
fn wrap_paren(expr: Expr, start: usize, end: usize) -> DurationExpr {
    match expr {
        Expr::Duration(mut d) => {
            d.wrapped = true;
            d
        }
        other => DurationExpr {
            op: DurationOp::Add,
            lhs: None,
            rhs: Some(Box::new(other)),
            wrapped: true,
            start,
            end,
        },
    }
}

impl Parser<'_> {
    fn require_duration_exprs(&self, expr: &Expr) -> PResult<()> {
        if self.opts.experimental_duration_expr {
            Ok(())
        } else {
            Err(self.error(
                expr.pos_range(),
                "experimental duration expression is not enabled",
            ))
        }
    }

    /// A duration inside `[…]`: literals must be positive.
    pub(super) fn parse_positive_duration(&mut self) -> PResult<Expr> {
        let expr = self.parse_duration_expr(0)?;
        if let Expr::NumberLiteral(n) = &expr
            && n.val <= 0.0
        {
            return Err(self.error(n.pos, "duration must be greater than 0"));
        }
        Ok(expr)
    }

    /// The value after `offset`. Unlike in brackets, a literal, a signed literal, `step()`,
    /// `range()`, `min_of(…)`/`max_of(…)` or a signed parenthesized expression ends the offset,
    /// so `x offset 1m + 2` adds 2 to the offset selector. Only a leading parenthesis continues
    /// as a full duration expression.
    pub(super) fn parse_offset_duration(&mut self) -> PResult<Expr> {
        match self.peek_kind() {
            Kind::Number
            | Kind::Duration
            | Kind::Step
            | Kind::Range
            | Kind::MaxOf
            | Kind::MinOf => self.parse_duration_primary(),
            Kind::Add | Kind::Sub => match self.peek_kind_at(1) {
                Kind::Number | Kind::Duration => {
                    let op = self.advance();
                    let lit = self.parse_duration_primary()?;
                    self.apply_unary(op, lit)
                }
                Kind::Step | Kind::Range | Kind::MaxOf | Kind::MinOf => {
                    // A unary plus is dropped: it changes neither the value nor the printed form.
                    let op = self.advance();
                    let inner = self.parse_duration_primary()?;
                    self.apply_unary(op, inner)
                }
                Kind::LeftParen => {
                    let op = self.advance();
                    let open = self.advance();
                    let inner = self.parse_duration_expr(0)?;
                    let close = self.expect(Kind::RightParen)?;
                    let wrapped = Expr::Duration(wrap_paren(inner, open.pos, close.end));
                    self.apply_unary(op, wrapped)
                }
                _ => self.parse_duration_expr(0),
            },
            Kind::LeftParen => self.parse_duration_expr(0),
            _ => Err(self.unexpected()),
        }
    }

    pub(super) fn parse_duration_expr(&mut self, min_precedence: u8) -> PResult<Expr> {
        let mut lhs = match self.peek_kind() {
            Kind::Add | Kind::Sub => {
                let op = self.advance();
                let operand = self.parse_duration_expr(6)?;
                self.apply_unary(op, operand)?
            }
            _ => self.parse_duration_primary()?,
        };
        while let Some((op, precedence)) = duration_op(self.peek_kind()) {
            if precedence < min_precedence {
                break;
            }
            let op_item = self.advance();
            let next = if op == DurationOp::Pow {
                precedence
            } else {
                precedence + 1
            };
            let rhs = self.parse_duration_expr(next)?;
            self.require_duration_exprs(&lhs)?;
            if let Expr::NumberLiteral(n) = &rhs
                && n.val == 0.0
            {
                match op {
                    DurationOp::Div => {
                        return Err(self.error(Self::item_range(op_item), "division by zero"));
                    }
                    DurationOp::Mod => {
                        return Err(self.error(Self::item_range(op_item), "modulo by zero"));
                    }
                    _ => {}
                }
            }
            lhs = Expr::Duration(DurationExpr {
                op,
                lhs: Some(Box::new(lhs)),
                rhs: Some(Box::new(rhs)),
                wrapped: false,
                start: 0,
                end: 0,
            });
        }
        Ok(lhs)
    }

    fn parse_duration_primary(&mut self) -> PResult<Expr> {
        let item = self.peek();
        match item.kind {
            Kind::Number | Kind::Duration => {
                let lit = self.parse_number_literal()?;
                if duration_out_of_range(lit.val) {
                    return Err(self.error(lit.pos, "duration out of range"));
                }
                Ok(Expr::NumberLiteral(lit))
            }
            Kind::Step | Kind::Range => {
                self.advance();
                self.expect(Kind::LeftParen)?;
                let close = self.expect(Kind::RightParen)?;
                let expr = Expr::Duration(DurationExpr {
                    op: if item.kind == Kind::Step {
                        DurationOp::Step
                    } else {
                        DurationOp::Range
                    },
                    lhs: None,
                    rhs: None,
                    wrapped: false,
                    start: item.pos,
                    end: close.end,
                });
                self.require_duration_exprs(&expr)?;
                Ok(expr)
            }
            Kind::MaxOf | Kind::MinOf => {
                self.advance();
                self.expect(Kind::LeftParen)?;
                let a = self.parse_duration_expr(0)?;
                self.expect(Kind::Comma)?;
                let b = self.parse_duration_expr(0)?;
                let close = self.expect(Kind::RightParen)?;
                let expr = Expr::Duration(DurationExpr {
                    op: if item.kind == Kind::MaxOf {
                        DurationOp::MaxOf
                    } else {
                        DurationOp::MinOf
                    },
                    lhs: Some(Box::new(a)),
                    rhs: Some(Box::new(b)),
                    wrapped: false,
                    start: item.pos,
                    end: close.end,
                });
                self.require_duration_exprs(&expr)?;
                Ok(expr)
            }
            Kind::LeftParen => {
                self.advance();
                let inner = self.parse_duration_expr(0)?;
                let close = self.expect(Kind::RightParen)?;
                self.require_duration_exprs(&inner)?;
                Ok(Expr::Duration(wrap_paren(inner, item.pos, close.end)))
            }
            _ => Err(self.unexpected()),
        }
    }

    /// Unary `+`/`-` on a duration: folded into literals, a `-` node around expressions.
    fn apply_unary(&self, op: Item, expr: Expr) -> PResult<Expr> {
        let negative = op.kind == Kind::Sub;
        match expr {
            Expr::Duration(d) if negative => Ok(Expr::Duration(DurationExpr {
                op: DurationOp::Sub,
                lhs: None,
                rhs: Some(Box::new(Expr::Duration(d))),
                wrapped: false,
                start: op.pos,
                end: 0,
            })),
            Expr::Duration(d) => Ok(Expr::Duration(d)),
            Expr::NumberLiteral(mut n) => {
                if negative {
                    n.val = -n.val;
                }
                if duration_out_of_range(n.val) {
                    return Err(self.error(Self::item_range(op), "duration out of range"));
                }
                n.pos.start = op.pos;
                Ok(Expr::NumberLiteral(n))
            }
            _ => Err(self.error(
                Self::item_range(op),
                "expected number literal or duration expression",
            )),
        }
    }
}
