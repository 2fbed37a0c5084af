//! A recursive-descent (precedence-climbing) parser that accepts the language of upstream's
//! yacc grammar and reports the same errors.
//!
//! Upstream's grammar recovers from syntax errors through `error` productions; which message is
//! printed depends on the innermost parser state that can shift `error` (inside an aggregation,
//! after `offset`, after `[`…). [`Parser::contexts`] mirrors that stack: constructs push their
//! context while they are being parsed, and [`Parser::unexpected`] phrases the message with the
//! innermost one.

mod check;
mod durations;
mod selectors;

use pm_common::model::Matcher;

use super::ParserOptions;
use super::ast::*;
use super::error::{ParseErr, ParseErrors};
use super::functions::get_function;
use super::lexer::{Item, Kind, lex};
use super::strings::{GoQuoted, unquote, unquote_bytes};

type PResult<T> = Result<T, ParseErr>;

/// The phrase of an "unexpected …" error: `in <context>, expected <expected>`.
#[derive(Clone, Copy)]
struct ErrorContext {
    context: &'static str,
    expected: &'static str,
}

const AGGREGATION: ErrorContext = ErrorContext {
    context: "aggregation",
    expected: "",
};

/// Operand precedence of unary `+`/`-`: they bind like `*`, so only `^` binds tighter.
const UNARY_OPERAND_PRECEDENCE: u8 = 6;

pub(crate) struct Parser<'a> {
    input: &'a str,
    items: Vec<Item>,
    lex_error: Option<String>,
    idx: usize,
    opts: &'a ParserOptions,
    contexts: Vec<ErrorContext>,
    /// End of the last consumed closing token (`)`, `]`, `}`, number or duration); upstream
    /// ends the ranges of modified selectors there.
    last_closing: usize,
}

/// Parses a PromQL expression and type-checks it.
pub fn parse_expr(input: &str, opts: &ParserOptions) -> Result<Expr, ParseErrors> {
    let mut p = Parser::new(input, opts);
    let mut expr = p.parse_top().map_err(|e| ParseErrors(vec![e]))?;
    let errors = check::check(&mut expr, input);
    if errors.is_empty() {
        Ok(expr)
    } else {
        Err(ParseErrors(errors))
    }
}

/// Parses a series selector (`foo{a="b"}`, `{__name__=~"x.+"}`) as given in `match[]` API
/// parameters. Unlike [`parse_expr`], no type check runs, so `{}` is accepted.
pub fn parse_metric_selector(input: &str) -> Result<Vec<Matcher>, ParseErrors> {
    let opts = ParserOptions::default();
    let mut p = Parser::new(input, &opts);
    let item = p.peek();
    let selector = if item.kind == Kind::LeftBrace {
        p.parse_vector_selector(None)
    } else if item.kind.is_metric_identifier() {
        p.advance();
        p.parse_vector_selector(Some(item))
    } else {
        Err(p.unexpected())
    };
    let selector = selector.and_then(|s| {
        if p.peek_kind() == Kind::Eof {
            Ok(s)
        } else {
            Err(p.unexpected())
        }
    });
    selector
        .map(|vs| vs.matchers)
        .map_err(|e| ParseErrors(vec![e]))
}

/// Whether a token can begin an expression.
fn can_start_expr(kind: Kind) -> bool {
    kind.is_metric_identifier()
        || matches!(
            kind,
            Kind::Number
                | Kind::Duration
                | Kind::String
                | Kind::LeftParen
                | Kind::LeftBrace
                | Kind::Add
                | Kind::Sub
        )
}

fn binary_op(kind: Kind) -> Option<BinaryOp> {
    Some(match kind {
        Kind::Or => BinaryOp::Or,
        Kind::And => BinaryOp::And,
        Kind::Unless => BinaryOp::Unless,
        Kind::EqlC => BinaryOp::Eql,
        Kind::Neq => BinaryOp::Neq,
        Kind::Lss => BinaryOp::Lss,
        Kind::Lte => BinaryOp::Lte,
        Kind::Gtr => BinaryOp::Gtr,
        Kind::Gte => BinaryOp::Gte,
        Kind::TrimUpper => BinaryOp::TrimUpper,
        Kind::TrimLower => BinaryOp::TrimLower,
        Kind::Add => BinaryOp::Add,
        Kind::Sub => BinaryOp::Sub,
        Kind::Mul => BinaryOp::Mul,
        Kind::Div => BinaryOp::Div,
        Kind::Mod => BinaryOp::Mod,
        Kind::Atan2 => BinaryOp::Atan2,
        Kind::Pow => BinaryOp::Pow,
        _ => return None,
    })
}

/// A numeric literal as upstream reads it: an integer in Go syntax (`0x1f`, `017`, `1_000`)
/// when possible, a float otherwise.
fn parse_number(text: &str) -> Result<f64, String> {
    let clean = text.replace('_', "");
    let lower = clean.to_ascii_lowercase();
    let int = if let Some(hex) = lower.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()
    } else if let Some(oct) = lower.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()
    } else if let Some(bin) = lower.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()
    } else if lower.len() > 1 && lower.starts_with('0') {
        i64::from_str_radix(&lower[1..], 8).ok()
    } else {
        lower.parse::<i64>().ok()
    };
    if let Some(i) = int {
        return Ok(i as f64);
    }
    let reason = match lower.parse::<f64>() {
        Ok(f) if f.is_infinite() && !lower.contains("inf") => "value out of range",
        Ok(f) => return Ok(f),
        Err(_) => "invalid syntax",
    };
    Err(format!(
        "error parsing number: strconv.ParseFloat: parsing {text:?}: {reason}"
    ))
}

impl<'a> Parser<'a> {
    fn new(input: &'a str, opts: &'a ParserOptions) -> Self {
        let tokens = lex(input);
        Parser {
            input,
            items: tokens.items,
            lex_error: tokens.error,
            idx: 0,
            opts,
            contexts: Vec::new(),
            last_closing: 0,
        }
    }

    fn peek(&self) -> Item {
        self.items[self.idx]
    }

    fn peek_kind(&self) -> Kind {
        self.items[self.idx].kind
    }

    fn peek_kind_at(&self, ahead: usize) -> Kind {
        self.items[(self.idx + ahead).min(self.items.len() - 1)].kind
    }

    fn advance(&mut self) -> Item {
        let item = self.items[self.idx];
        if !matches!(item.kind, Kind::Eof | Kind::Error) {
            self.idx += 1;
        }
        if matches!(
            item.kind,
            Kind::RightParen
                | Kind::RightBracket
                | Kind::RightBrace
                | Kind::Number
                | Kind::Duration
        ) {
            self.last_closing = item.end;
        }
        item
    }

    fn text(&self, item: Item) -> &'a str {
        item.text(self.input)
    }

    fn error(&self, pos: PosRange, message: impl Into<String>) -> ParseErr {
        ParseErr::new(self.input, pos, message.into())
    }

    fn item_range(item: Item) -> PosRange {
        PosRange::new(item.pos, item.end)
    }

    /// The error for the current token in the innermost error context.
    fn unexpected(&self) -> ParseErr {
        let ctx = self.contexts.last().copied().unwrap_or(ErrorContext {
            context: "",
            expected: "",
        });
        self.unexpected_in(ctx.context, ctx.expected)
    }

    fn unexpected_in(&self, context: &str, expected: &str) -> ParseErr {
        let item = self.peek();
        if item.kind == Kind::Error {
            let message = self.lex_error.clone().unwrap_or_default();
            return self.error(PosRange::new(item.pos, self.input.len()), message);
        }
        let mut message = format!("unexpected {}", item.describe(self.input));
        if !context.is_empty() {
            message.push_str(" in ");
            message.push_str(context);
        }
        if !expected.is_empty() {
            message.push_str(", expected ");
            message.push_str(expected);
        }
        self.error(Self::item_range(item), message)
    }

    fn expect(&mut self, kind: Kind) -> PResult<Item> {
        if self.peek_kind() == kind {
            Ok(self.advance())
        } else {
            Err(self.unexpected())
        }
    }

    /// Runs `f` with `ctx` as the innermost error context.
    fn within<T>(
        &mut self,
        ctx: ErrorContext,
        f: impl FnOnce(&mut Self) -> PResult<T>,
    ) -> PResult<T> {
        self.contexts.push(ctx);
        let result = f(self);
        self.contexts.pop();
        result
    }

    fn set_context(&mut self, context: &'static str, expected: &'static str) {
        if let Some(top) = self.contexts.last_mut() {
            *top = ErrorContext { context, expected };
        }
    }

    fn parse_top(&mut self) -> PResult<Expr> {
        if self.peek_kind() == Kind::Eof {
            return Err(self.error(PosRange::default(), "no expression found in input"));
        }
        let expr = self.parse_binary(0)?;
        if self.peek_kind() != Kind::Eof {
            return Err(self.unexpected());
        }
        Ok(expr)
    }

    fn parse_binary(&mut self, min_precedence: u8) -> PResult<Expr> {
        let mut lhs = self.parse_unary()?;
        while let Some(op) = binary_op(self.peek_kind()) {
            if op.precedence() < min_precedence {
                break;
            }
            self.advance();
            let (matching, return_bool) = self.parse_bin_modifiers()?;
            let next = if op.is_right_associative() {
                op.precedence()
            } else {
                op.precedence() + 1
            };
            let rhs = self.parse_binary(next)?;
            let fill = matching.fill_lhs.is_some() || matching.fill_rhs.is_some();
            let expr = BinaryExpr {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
                matching: Some(matching),
                return_bool,
            };
            lhs = Expr::Binary(expr);
            if fill && !self.opts.enable_binop_fill_modifiers {
                return Err(self.error(
                    lhs.pos_range(),
                    "binop fill modifiers are experimental and not enabled",
                ));
            }
        }
        Ok(lhs)
    }

    fn parse_unary(&mut self) -> PResult<Expr> {
        let op = match self.peek_kind() {
            Kind::Add => UnaryOp::Plus,
            Kind::Sub => UnaryOp::Minus,
            _ => {
                let primary = self.parse_primary()?;
                return self.parse_postfix(primary);
            }
        };
        let op_item = self.advance();
        let operand = self.parse_binary(UNARY_OPERAND_PRECEDENCE)?;
        Ok(match operand {
            Expr::NumberLiteral(mut n) => {
                if op == UnaryOp::Minus {
                    n.val = -n.val;
                }
                n.pos.start = op_item.pos;
                Expr::NumberLiteral(n)
            }
            other => Expr::Unary(UnaryExpr {
                op,
                expr: Box::new(other),
                start: op_item.pos,
            }),
        })
    }

    fn parse_primary(&mut self) -> PResult<Expr> {
        let item = self.peek();
        match item.kind {
            Kind::Number | Kind::Duration => Ok(Expr::NumberLiteral(self.parse_number_literal()?)),
            Kind::String => {
                self.advance();
                let text = self.text(item);
                let val = unquote_bytes(text).map_err(|e| self.unquote_error(item, e))?;
                Ok(Expr::StringLiteral(StringLiteral {
                    val,
                    pos: Self::item_range(item),
                }))
            }
            Kind::LeftParen => {
                self.advance();
                let inner = self.parse_binary(0)?;
                let close = self.expect(Kind::RightParen)?;
                Ok(Expr::Paren(ParenExpr {
                    expr: Box::new(inner),
                    pos: PosRange::new(item.pos, close.end),
                }))
            }
            Kind::LeftBrace => Ok(Expr::VectorSelector(self.parse_vector_selector(None)?)),
            Kind::Aggregator(op)
                if matches!(
                    self.peek_kind_at(1),
                    Kind::LeftParen | Kind::By | Kind::Without
                ) =>
            {
                self.parse_aggregate(op)
            }
            Kind::Identifier
            | Kind::Start
            | Kind::End
            | Kind::Step
            | Kind::Range
            | Kind::MaxOf
            | Kind::MinOf
                if self.peek_kind_at(1) == Kind::LeftParen =>
            {
                self.parse_call()
            }
            k if k.is_metric_identifier() => {
                self.advance();
                Ok(Expr::VectorSelector(
                    self.parse_vector_selector(Some(item))?,
                ))
            }
            _ => Err(self.unexpected()),
        }
    }

    /// A NUMBER or DURATION token as a literal; durations are stored in seconds.
    fn parse_number_literal(&mut self) -> PResult<NumberLiteral> {
        let item = self.advance();
        let text = self.text(item);
        let pos = Self::item_range(item);
        if item.kind == Kind::Duration {
            let ms = super::duration::parse_duration(text)
                .map_err(|e| self.error(pos, e.to_string()))?;
            return Ok(NumberLiteral {
                val: ms as f64 / 1000.0,
                duration: true,
                pos,
            });
        }
        let val = parse_number(text).map_err(|m| self.error(pos, m))?;
        Ok(NumberLiteral {
            val,
            duration: false,
            pos,
        })
    }

    fn unquote(&self, item: Item) -> PResult<String> {
        unquote(self.text(item)).map_err(|e| self.unquote_error(item, e))
    }

    fn unquote_error(&self, item: Item, reason: &str) -> ParseErr {
        let text = self.text(item);
        self.error(
            Self::item_range(item),
            format!("error unquoting string {text:?}: {reason}"),
        )
    }

    fn parse_aggregate(&mut self, op: AggregateOp) -> PResult<Expr> {
        let op_item = self.advance();
        let (args, grouping, without, end) = self.within(AGGREGATION, |p| match p.peek_kind() {
            Kind::By | Kind::Without => {
                let without = p.advance().kind == Kind::Without;
                let (grouping, _) = p.parse_grouping_labels()?;
                let (args, end) = p.parse_call_body()?;
                Ok((args, grouping, without, end))
            }
            Kind::LeftParen => {
                let (args, mut end) = p.parse_call_body()?;
                let (mut grouping, mut without) = (Vec::new(), false);
                if matches!(p.peek_kind(), Kind::By | Kind::Without) {
                    without = p.advance().kind == Kind::Without;
                    (grouping, end) = p.parse_grouping_labels()?;
                }
                Ok((args, grouping, without, end))
            }
            _ => Err(p.unexpected()),
        })?;
        let pos = PosRange::new(op_item.pos, end);
        if args.is_empty() {
            return Err(self.error(pos, "no arguments for aggregate expression provided"));
        }
        let mut desired = 1;
        if op.has_param() {
            if op.is_experimental() && !self.opts.enable_experimental_functions {
                return Err(self.error(
                    pos,
                    format!(
                        "{op}() is experimental and must be enabled with --enable-feature=promql-experimental-functions"
                    ),
                ));
            }
            desired = 2;
        }
        if args.len() != desired {
            return Err(self.error(
                pos,
                format!(
                    "wrong number of arguments for aggregate expression provided, expected {desired}, got {}",
                    args.len()
                ),
            ));
        }
        let mut args = args.into_iter();
        let param = if desired == 2 {
            args.next().map(Box::new)
        } else {
            None
        };
        let expr = Box::new(args.next().expect("argument count checked above"));
        Ok(Expr::Aggregate(AggregateExpr {
            op,
            expr,
            param,
            grouping,
            without,
            pos,
        }))
    }

    fn parse_call(&mut self) -> PResult<Expr> {
        let name_item = self.advance();
        let (args, end) = self.parse_call_body()?;
        let name = self.text(name_item);
        let name_range = Self::item_range(name_item);
        let Some(func) = get_function(name) else {
            return Err(self.error(name_range, format!("unknown function with name {name:?}")));
        };
        if func.experimental && !self.opts.enable_experimental_functions {
            return Err(self.error(name_range, format!("function {name:?} is not enabled")));
        }
        Ok(Expr::Call(Call {
            func,
            args,
            pos: PosRange::new(name_item.pos, end),
        }))
    }

    /// `( expr, … )`; returns the arguments and the end of the closing parenthesis.
    fn parse_call_body(&mut self) -> PResult<(Vec<Expr>, usize)> {
        self.expect(Kind::LeftParen)?;
        let mut args = Vec::new();
        if self.peek_kind() == Kind::RightParen {
            return Ok((args, self.advance().end));
        }
        loop {
            args.push(self.parse_binary(0)?);
            match self.peek_kind() {
                Kind::Comma => {
                    let comma = self.advance();
                    // Upstream accepts the trailing comma (with this error) whenever no
                    // argument can follow, and reports the next token only afterwards.
                    let next = self.peek_kind();
                    if !can_start_expr(next) && next != Kind::Error {
                        return Err(self.error(
                            Self::item_range(comma),
                            "trailing commas not allowed in function call args",
                        ));
                    }
                }
                Kind::RightParen => return Ok((args, self.advance().end)),
                _ => return Err(self.unexpected()),
            }
        }
    }

    /// `( label, … )` after `by`, `without`, `on`, `ignoring`, `group_left`, `group_right`.
    fn parse_grouping_labels(&mut self) -> PResult<(Vec<String>, usize)> {
        const CONTEXT: &str = "grouping opts";
        if self.peek_kind() != Kind::LeftParen {
            return Err(self.unexpected_in(CONTEXT, "\"(\""));
        }
        self.advance();
        let mut labels = Vec::new();
        if self.peek_kind() == Kind::RightParen {
            return Ok((labels, self.advance().end));
        }
        loop {
            let item = self.peek();
            let label = if item.kind == Kind::String {
                self.unquote(item)?
            } else if item.kind.is_label() {
                self.text(item).to_owned()
            } else {
                return Err(self.unexpected_in(CONTEXT, "label"));
            };
            self.advance();
            if label.is_empty() {
                return Err(self.error(
                    Self::item_range(item),
                    format!("invalid label name for grouping: {}", GoQuoted(&label)),
                ));
            }
            labels.push(label);
            match self.peek_kind() {
                Kind::Comma => {
                    self.advance();
                    if self.peek_kind() == Kind::RightParen {
                        return Ok((labels, self.advance().end));
                    }
                }
                Kind::RightParen => return Ok((labels, self.advance().end)),
                _ => return Err(self.unexpected_in(CONTEXT, "\",\" or \")\"")),
            }
        }
    }

    /// `bool`, `on`/`ignoring (…)`, `group_left`/`group_right [(…)]`, `fill…(…)` after a binary
    /// operator.
    fn parse_bin_modifiers(&mut self) -> PResult<(VectorMatching, bool)> {
        let mut matching = VectorMatching {
            card: Cardinality::OneToOne,
            matching_labels: Vec::new(),
            on: false,
            include: Vec::new(),
            fill_lhs: None,
            fill_rhs: None,
        };
        let return_bool = self.peek_kind() == Kind::Bool;
        if return_bool {
            self.advance();
        }
        if matches!(self.peek_kind(), Kind::On | Kind::Ignoring) {
            matching.on = self.advance().kind == Kind::On;
            matching.matching_labels = self.parse_grouping_labels()?.0;
            if matches!(self.peek_kind(), Kind::GroupLeft | Kind::GroupRight) {
                matching.card = if self.advance().kind == Kind::GroupLeft {
                    Cardinality::ManyToOne
                } else {
                    Cardinality::OneToMany
                };
                // Labels are optional, but a token that cannot start the right-hand side is
                // reported as a malformed label list, as upstream does.
                let next = self.peek_kind();
                if next == Kind::LeftParen || !can_start_expr(next) {
                    matching.include = self.parse_grouping_labels()?.0;
                }
            }
        }
        match self.peek_kind() {
            Kind::Fill => {
                self.advance();
                let v = self.parse_fill_value()?;
                matching.fill_lhs = Some(v);
                matching.fill_rhs = Some(v);
            }
            Kind::FillLeft => {
                self.advance();
                matching.fill_lhs = Some(self.parse_fill_value()?);
                if self.peek_kind() == Kind::FillRight {
                    self.advance();
                    matching.fill_rhs = Some(self.parse_fill_value()?);
                }
            }
            Kind::FillRight => {
                self.advance();
                matching.fill_rhs = Some(self.parse_fill_value()?);
                if self.peek_kind() == Kind::FillLeft {
                    self.advance();
                    matching.fill_lhs = Some(self.parse_fill_value()?);
                }
            }
            _ => {}
        }
        Ok((matching, return_bool))
    }

    /// `( [+|-] number )`
    fn parse_fill_value(&mut self) -> PResult<f64> {
        self.expect(Kind::LeftParen)?;
        let negative = match self.peek_kind() {
            Kind::Add => {
                self.advance();
                false
            }
            Kind::Sub => {
                self.advance();
                true
            }
            _ => false,
        };
        if !matches!(self.peek_kind(), Kind::Number | Kind::Duration) {
            return Err(self.unexpected());
        }
        let val = self.parse_number_literal()?.val;
        self.expect(Kind::RightParen)?;
        Ok(if negative { -val } else { val })
    }
}

#[cfg(test)]
mod tests;
