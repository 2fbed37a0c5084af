//! Type checking of a parsed expression, run once the syntax is known to be valid. All errors
//! are collected, in the order upstream finds them.

use pm_common::model::METRIC_NAME_LABEL;

use crate::parser::ast::*;
use crate::parser::error::ParseErr;
use crate::parser::strings::GoQuoted;

struct Checker<'a> {
    input: &'a str,
    errors: Vec<ParseErr>,
}

/// Checks operand and argument types and normalises vector matching of set operators
/// (many-to-many) and of operations involving scalars (no matching at all).
pub(super) fn check(expr: &mut Expr, input: &str) -> Vec<ParseErr> {
    let mut c = Checker {
        input,
        errors: Vec::new(),
    };
    c.check(expr);
    c.errors
}

impl Checker<'_> {
    fn err(&mut self, pos: PosRange, message: String) {
        self.errors.push(ParseErr::new(self.input, pos, message));
    }

    fn expect_type(&mut self, expr: &mut Expr, want: ValueType, context: &str) {
        let got = self.check(expr);
        if got != want {
            self.err(
                expr.pos_range(),
                format!(
                    "expected type {} in {context}, got {}",
                    want.documented(),
                    got.documented()
                ),
            );
        }
    }

    /// The range of a binary operator token, found between its operands.
    fn operator_range(&self, b: &BinaryExpr) -> PosRange {
        let bytes = self.input.as_bytes();
        let is_space = |c: u8| matches!(c, b' ' | b'\t' | b'\n' | b'\r');
        let mut start = b.lhs.pos_range().end;
        while start < bytes.len() && is_space(bytes[start]) {
            start += 1;
        }
        let mut end = b.rhs.pos_range().start.saturating_sub(1);
        while end > start && is_space(bytes[end]) {
            end -= 1;
        }
        PosRange::new(start, end)
    }

    fn check(&mut self, expr: &mut Expr) -> ValueType {
        let typ = expr.value_type();
        let pos = expr.pos_range();
        match expr {
            Expr::Aggregate(a) => {
                self.expect_type(&mut a.expr, ValueType::Vector, "aggregation expression");
                if let Some(param) = &mut a.param {
                    let want = if a.op == AggregateOp::CountValues {
                        ValueType::String
                    } else {
                        ValueType::Scalar
                    };
                    self.expect_type(param, want, "aggregation parameter");
                }
            }
            Expr::Binary(b) => self.check_binary(b, pos),
            Expr::Call(c) => self.check_call(c, pos),
            Expr::Paren(p) => {
                self.check(&mut p.expr);
            }
            Expr::Unary(u) => {
                let t = self.check(&mut u.expr);
                if !matches!(t, ValueType::Scalar | ValueType::Vector) {
                    self.err(
                        pos,
                        format!(
                            "unary expression only allowed on expressions of type scalar or instant vector, got {:?}",
                            t.documented()
                        ),
                    );
                }
            }
            Expr::Subquery(s) => {
                let t = self.check(&mut s.expr);
                if t != ValueType::Vector {
                    self.err(
                        pos,
                        format!("subquery is only allowed on instant vector, got {t} instead"),
                    );
                }
            }
            Expr::MatrixSelector(m) => self.check_selector(&m.vector_selector),
            Expr::VectorSelector(vs) => self.check_selector(vs),
            Expr::NumberLiteral(_) | Expr::StringLiteral(_) | Expr::Duration(_) => {}
        }
        typ
    }

    fn check_binary(&mut self, b: &mut BinaryExpr, pos: PosRange) {
        let lt = self.check(&mut b.lhs);
        let rt = self.check(&mut b.rhs);
        if b.return_bool && !b.op.is_comparison() {
            let r = self.operator_range(b);
            self.err(
                r,
                "bool modifier can only be used on comparison operators".into(),
            );
        }
        if b.op.is_comparison()
            && !b.return_bool
            && b.lhs.value_type() == ValueType::Scalar
            && b.rhs.value_type() == ValueType::Scalar
        {
            let r = self.operator_range(b);
            self.err(
                r,
                "comparisons between scalars must use BOOL modifier".into(),
            );
        }
        if let Some(m) = &mut b.matching
            && b.op.is_set_operator()
            && m.card == Cardinality::OneToOne
        {
            m.card = Cardinality::ManyToMany;
        }
        if let Some(m) = &b.matching
            && m.on
        {
            let dups: Vec<String> = m
                .matching_labels
                .iter()
                .filter(|l| m.include.contains(l))
                .cloned()
                .collect();
            for l in dups {
                let r = self.operator_range(b);
                self.err(
                    r,
                    format!(
                        "label {} must not occur in ON and GROUP clause at once",
                        GoQuoted(&l)
                    ),
                );
            }
        }
        let only_scalar_or_vector =
            "binary expression must contain only scalar and instant vector types";
        if !matches!(lt, ValueType::Scalar | ValueType::Vector) {
            self.err(b.lhs.pos_range(), only_scalar_or_vector.into());
        }
        if !matches!(rt, ValueType::Scalar | ValueType::Vector) {
            self.err(b.rhs.pos_range(), only_scalar_or_vector.into());
        }
        let op = b.op.as_str();
        if lt != ValueType::Vector || rt != ValueType::Vector {
            if let Some(m) = b.matching.take() {
                if !m.matching_labels.is_empty() {
                    self.err(
                        pos,
                        "vector matching only allowed between instant vectors".into(),
                    );
                }
                if m.fill_lhs.is_some() || m.fill_rhs.is_some() {
                    self.err(
                        pos,
                        "filling in missing series only allowed between instant vectors".into(),
                    );
                }
            }
        } else if b.op.is_set_operator()
            && let Some(m) = &b.matching
        {
            let (card, fill) = (m.card, m.fill_lhs.is_some() || m.fill_rhs.is_some());
            if matches!(card, Cardinality::OneToMany | Cardinality::ManyToOne) {
                self.err(pos, format!("no grouping allowed for {op:?} operation"));
            }
            if card != Cardinality::ManyToMany {
                self.err(pos, "set operations must always be many-to-many".into());
            }
            if fill {
                self.err(
                    pos,
                    "filling in missing series not allowed for set operators".into(),
                );
            }
        }
        if (lt == ValueType::Scalar || rt == ValueType::Scalar) && b.op.is_set_operator() {
            self.err(
                pos,
                format!("set operator {op:?} not allowed in binary scalar expression"),
            );
        }
    }

    fn check_call(&mut self, c: &mut Call, pos: PosRange) {
        let f = c.func;
        let nargs = f.arg_types.len();
        let given = c.args.len();
        if f.variadic == 0 {
            if nargs != given {
                self.err(
                    pos,
                    format!(
                        "expected {nargs} argument(s) in call to {:?}, got {given}",
                        f.name
                    ),
                );
            }
        } else {
            let min = nargs - 1;
            if min > given {
                self.err(
                    pos,
                    format!(
                        "expected at least {min} argument(s) in call to {:?}, got {given}",
                        f.name
                    ),
                );
            } else if f.variadic > 0 && min + (f.variadic as usize) < given {
                self.err(
                    pos,
                    format!(
                        "expected at most {} argument(s) in call to {:?}, got {given}",
                        min + f.variadic as usize,
                        f.name
                    ),
                );
            }
        }
        if f.name == "info" && given > 1 {
            let t = c.args[1].value_type();
            if t != ValueType::Vector {
                self.err(
                    pos,
                    format!(
                        "expected type {} in call to function \"info\", got {}",
                        ValueType::Vector.documented(),
                        t.documented()
                    ),
                );
            }
            let arg_pos = c.args[1].pos_range();
            match &mut c.args[1] {
                Expr::VectorSelector(vs) if !vs.name.is_empty() => self.err(
                    arg_pos,
                    "expected label selectors only, got vector selector instead".into(),
                ),
                Expr::VectorSelector(vs) => vs.bypass_empty_matcher_check = true,
                _ => self.err(arg_pos, "expected label selectors only".into()),
            }
        }
        for (i, arg) in c.args.iter_mut().enumerate() {
            let idx = if i >= nargs {
                if f.variadic == 0 {
                    break;
                }
                nargs - 1
            } else {
                i
            };
            let want = f.arg_types[idx];
            let got = self.check(arg);
            if got != want {
                self.err(
                    arg.pos_range(),
                    format!(
                        "expected type {} in call to function {:?}, got {}",
                        want.documented(),
                        f.name,
                        got.documented()
                    ),
                );
            }
        }
    }

    fn check_selector(&mut self, vs: &VectorSelector) {
        if !vs.name.is_empty() {
            let explicit = &vs.matchers[..vs.matchers.len().saturating_sub(1)];
            for m in explicit.iter().filter(|m| m.name() == METRIC_NAME_LABEL) {
                self.err(
                    vs.pos,
                    format!(
                        "metric name must not be set twice: {} or {}",
                        GoQuoted(&vs.name),
                        GoQuoted(m.value())
                    ),
                );
            }
            return;
        }
        if !vs.bypass_empty_matcher_check && vs.matchers.iter().all(|m| m.matches_empty()) {
            self.err(
                vs.pos,
                "vector selector must contain at least one non-empty matcher".into(),
            );
        }
    }
}
