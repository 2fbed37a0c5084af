//! The PromQL syntax tree. Every node knows its byte range in the query text so that errors and
//! annotations can point at it.

use std::fmt;

use pm_common::model::Matcher;

use super::functions::Function;

/// A byte range `[start, end)` in the query text.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PosRange {
    pub start: usize,
    pub end: usize,
}

impl PosRange {
    pub fn new(start: usize, end: usize) -> Self {
        PosRange { start, end }
    }
}

/// The type an expression evaluates to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueType {
    None,
    Scalar,
    Vector,
    Matrix,
    String,
}

impl ValueType {
    /// The name used in the API (`resultType`) and in upstream's internal messages.
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::None => "none",
            ValueType::Scalar => "scalar",
            ValueType::Vector => "vector",
            ValueType::Matrix => "matrix",
            ValueType::String => "string",
        }
    }

    /// The name used in user-facing type errors (`instant vector`, `range vector`).
    pub fn documented(self) -> &'static str {
        match self {
            ValueType::Vector => "instant vector",
            ValueType::Matrix => "range vector",
            other => other.as_str(),
        }
    }
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Aggregation operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AggregateOp {
    Sum,
    Avg,
    Count,
    Min,
    Max,
    Group,
    Stddev,
    Stdvar,
    Topk,
    Bottomk,
    CountValues,
    Quantile,
    Limitk,
    LimitRatio,
}

impl AggregateOp {
    const ALL: [AggregateOp; 14] = [
        AggregateOp::Sum,
        AggregateOp::Avg,
        AggregateOp::Count,
        AggregateOp::Min,
        AggregateOp::Max,
        AggregateOp::Group,
        AggregateOp::Stddev,
        AggregateOp::Stdvar,
        AggregateOp::Topk,
        AggregateOp::Bottomk,
        AggregateOp::CountValues,
        AggregateOp::Quantile,
        AggregateOp::Limitk,
        AggregateOp::LimitRatio,
    ];

    /// Looks up a lower-case operator name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AggregateOp::Sum => "sum",
            AggregateOp::Avg => "avg",
            AggregateOp::Count => "count",
            AggregateOp::Min => "min",
            AggregateOp::Max => "max",
            AggregateOp::Group => "group",
            AggregateOp::Stddev => "stddev",
            AggregateOp::Stdvar => "stdvar",
            AggregateOp::Topk => "topk",
            AggregateOp::Bottomk => "bottomk",
            AggregateOp::CountValues => "count_values",
            AggregateOp::Quantile => "quantile",
            AggregateOp::Limitk => "limitk",
            AggregateOp::LimitRatio => "limit_ratio",
        }
    }

    /// Whether the operator takes a parameter before the aggregated expression.
    pub fn has_param(self) -> bool {
        matches!(
            self,
            AggregateOp::Topk
                | AggregateOp::Bottomk
                | AggregateOp::CountValues
                | AggregateOp::Quantile
                | AggregateOp::Limitk
                | AggregateOp::LimitRatio
        )
    }

    pub fn is_experimental(self) -> bool {
        matches!(self, AggregateOp::Limitk | AggregateOp::LimitRatio)
    }
}

impl fmt::Display for AggregateOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Binary operators, from loosest to tightest binding: `or`; `and`, `unless`; comparisons
/// (and the trim operators `</`, `>/`); `+ -`; `* / % atan2`; `^` (right-associative).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    And,
    Unless,
    Eql,
    Neq,
    Lss,
    Lte,
    Gtr,
    Gte,
    TrimUpper,
    TrimLower,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Atan2,
    Pow,
}

impl BinaryOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Unless => "unless",
            BinaryOp::Eql => "==",
            BinaryOp::Neq => "!=",
            BinaryOp::Lss => "<",
            BinaryOp::Lte => "<=",
            BinaryOp::Gtr => ">",
            BinaryOp::Gte => ">=",
            BinaryOp::TrimUpper => "</",
            BinaryOp::TrimLower => ">/",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Atan2 => "atan2",
            BinaryOp::Pow => "^",
        }
    }

    /// Binding strength; higher binds tighter.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And | BinaryOp::Unless => 2,
            BinaryOp::Eql
            | BinaryOp::Neq
            | BinaryOp::Lss
            | BinaryOp::Lte
            | BinaryOp::Gtr
            | BinaryOp::Gte
            | BinaryOp::TrimUpper
            | BinaryOp::TrimLower => 3,
            BinaryOp::Add | BinaryOp::Sub => 4,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod | BinaryOp::Atan2 => 5,
            BinaryOp::Pow => 6,
        }
    }

    pub fn is_right_associative(self) -> bool {
        self == BinaryOp::Pow
    }

    /// `== != < <= > >=`: the operators that filter unless `bool` is given.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinaryOp::Eql
                | BinaryOp::Neq
                | BinaryOp::Lss
                | BinaryOp::Lte
                | BinaryOp::Gtr
                | BinaryOp::Gte
        )
    }

    pub fn is_set_operator(self) -> bool {
        matches!(self, BinaryOp::And | BinaryOp::Or | BinaryOp::Unless)
    }
}

impl fmt::Display for BinaryOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Plus,
    Minus,
}

impl UnaryOp {
    pub fn as_str(self) -> &'static str {
        match self {
            UnaryOp::Plus => "+",
            UnaryOp::Minus => "-",
        }
    }
}

/// How the series of both sides of a vector binary operation are paired.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cardinality {
    OneToOne,
    ManyToOne,
    OneToMany,
    ManyToMany,
}

impl Cardinality {
    pub fn as_str(self) -> &'static str {
        match self {
            Cardinality::OneToOne => "one-to-one",
            Cardinality::ManyToOne => "many-to-one",
            Cardinality::OneToMany => "one-to-many",
            Cardinality::ManyToMany => "many-to-many",
        }
    }
}

/// `on`/`ignoring`, `group_left`/`group_right` and `fill*` modifiers of a vector operation.
#[derive(Clone, Debug, PartialEq)]
pub struct VectorMatching {
    pub card: Cardinality,
    /// Labels of `on (…)` or `ignoring (…)`.
    pub matching_labels: Vec<String>,
    /// True for `on`, false for `ignoring` (or no clause at all).
    pub on: bool,
    /// Extra labels copied from the "one" side (`group_left (…)`).
    pub include: Vec<String>,
    /// Value used for a missing series on the left side (`fill` / `fill_left`).
    pub fill_lhs: Option<f64>,
    /// Value used for a missing series on the right side (`fill` / `fill_right`).
    pub fill_rhs: Option<f64>,
}

/// The `@` modifier of a selector or subquery.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AtModifier {
    #[default]
    None,
    /// `@ <seconds>`, stored in milliseconds.
    Timestamp(i64),
    Start,
    End,
}

/// Operators of duration expressions (`[5m + step()]`, `offset min_of(range(), 1h)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DurationOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Step,
    Range,
    MinOf,
    MaxOf,
}

impl DurationOp {
    pub fn as_str(self) -> &'static str {
        match self {
            DurationOp::Add => "+",
            DurationOp::Sub => "-",
            DurationOp::Mul => "*",
            DurationOp::Div => "/",
            DurationOp::Mod => "%",
            DurationOp::Pow => "^",
            DurationOp::Step => "step",
            DurationOp::Range => "range",
            DurationOp::MinOf => "min_of",
            DurationOp::MaxOf => "max_of",
        }
    }
}

/// A PromQL expression.
#[derive(Clone, Debug)]
pub enum Expr {
    Aggregate(AggregateExpr),
    Binary(BinaryExpr),
    Call(Call),
    Duration(DurationExpr),
    MatrixSelector(MatrixSelector),
    NumberLiteral(NumberLiteral),
    Paren(ParenExpr),
    StringLiteral(StringLiteral),
    Subquery(SubqueryExpr),
    Unary(UnaryExpr),
    VectorSelector(VectorSelector),
}

#[derive(Clone, Debug)]
pub struct AggregateExpr {
    pub op: AggregateOp,
    pub expr: Box<Expr>,
    /// The first argument of `topk`, `quantile`, `count_values`…
    pub param: Option<Box<Expr>>,
    pub grouping: Vec<String>,
    /// `without (…)` rather than `by (…)`.
    pub without: bool,
    pub pos: PosRange,
}

#[derive(Clone, Debug)]
pub struct BinaryExpr {
    pub op: BinaryOp,
    pub lhs: Box<Expr>,
    pub rhs: Box<Expr>,
    /// Absent when at least one side is a scalar.
    pub matching: Option<VectorMatching>,
    /// The `bool` modifier of comparisons.
    pub return_bool: bool,
}

#[derive(Clone, Debug)]
pub struct Call {
    pub func: &'static Function,
    pub args: Vec<Expr>,
    pub pos: PosRange,
}

/// Arithmetic on durations in range, step and offset positions. For unary operators, `step()`
/// and `range()`, `lhs` is `None`; `min_of`/`max_of` use both sides.
#[derive(Clone, Debug)]
pub struct DurationExpr {
    pub op: DurationOp,
    pub lhs: Option<Box<Expr>>,
    pub rhs: Option<Box<Expr>>,
    /// Written in parentheses (kept so the printer reproduces them).
    pub wrapped: bool,
    /// Start of the operator for unary forms, `step()`, `range()`, `min_of`, `max_of`.
    pub start: usize,
    /// End of `step()`, `range()`, `min_of(…)`, `max_of(…)`.
    pub end: usize,
}

#[derive(Clone, Debug)]
pub struct MatrixSelector {
    pub vector_selector: VectorSelector,
    /// The range in nanoseconds when it is a plain literal.
    pub range: i64,
    pub range_expr: Option<Box<DurationExpr>>,
    pub end: usize,
}

#[derive(Clone, Debug)]
pub struct NumberLiteral {
    pub val: f64,
    /// Written as a duration (`5m`); printed back as one.
    pub duration: bool,
    pub pos: PosRange,
}

#[derive(Clone, Debug)]
pub struct ParenExpr {
    pub expr: Box<Expr>,
    pub pos: PosRange,
}

#[derive(Clone, Debug)]
pub struct StringLiteral {
    /// The unquoted bytes. Like upstream (Go strings), escapes such as `"\xff"` may produce
    /// invalid UTF-8; functions that need a label name or value must reject those.
    pub val: Vec<u8>,
    pub pos: PosRange,
}

impl StringLiteral {
    /// The value as text, if it is valid UTF-8.
    pub fn as_str(&self) -> Result<&str, std::str::Utf8Error> {
        std::str::from_utf8(&self.val)
    }
}

#[derive(Clone, Debug)]
pub struct SubqueryExpr {
    pub expr: Box<Expr>,
    /// Range in nanoseconds when it is a plain literal.
    pub range: i64,
    pub range_expr: Option<Box<DurationExpr>>,
    /// Step in nanoseconds; 0 means the default evaluation interval.
    pub step: i64,
    pub step_expr: Option<Box<DurationExpr>>,
    /// Offset in nanoseconds as written (may be negative).
    pub original_offset: i64,
    pub offset_expr: Option<Box<DurationExpr>>,
    pub at: AtModifier,
    pub end: usize,
}

#[derive(Clone, Debug)]
pub struct UnaryExpr {
    pub op: UnaryOp,
    pub expr: Box<Expr>,
    pub start: usize,
}

#[derive(Clone, Debug)]
pub struct VectorSelector {
    /// The metric name written before the braces; empty when there is none.
    pub name: String,
    /// All matchers; a metric name written before the braces is the last one (`__name__=…`).
    pub matchers: Vec<Matcher>,
    /// Offset in nanoseconds as written (may be negative).
    pub original_offset: i64,
    pub offset_expr: Option<Box<DurationExpr>>,
    pub at: AtModifier,
    pub anchored: bool,
    pub smoothed: bool,
    /// Set for the label-selector argument of `info()`, which may match every series.
    pub bypass_empty_matcher_check: bool,
    pub pos: PosRange,
}

impl Expr {
    /// The type the expression evaluates to.
    pub fn value_type(&self) -> ValueType {
        match self {
            Expr::Aggregate(_) | Expr::VectorSelector(_) => ValueType::Vector,
            Expr::Binary(b) => {
                if b.lhs.value_type() == ValueType::Scalar
                    && b.rhs.value_type() == ValueType::Scalar
                {
                    ValueType::Scalar
                } else {
                    ValueType::Vector
                }
            }
            Expr::Call(c) => c.func.return_type,
            Expr::Duration(_) | Expr::NumberLiteral(_) => ValueType::Scalar,
            Expr::MatrixSelector(_) | Expr::Subquery(_) => ValueType::Matrix,
            Expr::Paren(p) => p.expr.value_type(),
            Expr::StringLiteral(_) => ValueType::String,
            Expr::Unary(u) => u.expr.value_type(),
        }
    }

    /// The byte range of the expression in the query.
    pub fn pos_range(&self) -> PosRange {
        match self {
            Expr::Aggregate(a) => a.pos,
            Expr::Binary(b) => PosRange::new(b.lhs.pos_range().start, b.rhs.pos_range().end),
            Expr::Call(c) => c.pos,
            Expr::Duration(d) => d.pos_range(),
            Expr::MatrixSelector(m) => PosRange::new(m.vector_selector.pos.start, m.end),
            Expr::NumberLiteral(n) => n.pos,
            Expr::Paren(p) => p.pos,
            Expr::StringLiteral(s) => s.pos,
            Expr::Subquery(s) => PosRange::new(s.expr.pos_range().start, s.end),
            Expr::Unary(u) => PosRange::new(u.start, u.expr.pos_range().end),
            Expr::VectorSelector(v) => v.pos,
        }
    }

    /// The direct sub-expressions, in source order.
    pub fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Aggregate(a) => a.param.iter().map(|p| &**p).chain([&*a.expr]).collect(),
            Expr::Binary(b) => vec![&b.lhs, &b.rhs],
            Expr::Call(c) => c.args.iter().collect(),
            Expr::Duration(d) => d.lhs.iter().chain(d.rhs.iter()).map(|e| &**e).collect(),
            Expr::Paren(p) => vec![&p.expr],
            Expr::Subquery(s) => vec![&s.expr],
            Expr::Unary(u) => vec![&u.expr],
            Expr::MatrixSelector(_)
            | Expr::NumberLiteral(_)
            | Expr::StringLiteral(_)
            | Expr::VectorSelector(_) => Vec::new(),
        }
    }

    /// Mutable access to the direct sub-expressions (for rewriting passes such as the engine's
    /// step-invariance and `@` preprocessing).
    pub fn children_mut(&mut self) -> Vec<&mut Expr> {
        match self {
            Expr::Aggregate(a) => a
                .param
                .iter_mut()
                .map(|p| &mut **p)
                .chain([&mut *a.expr])
                .collect(),
            Expr::Binary(b) => vec![&mut b.lhs, &mut b.rhs],
            Expr::Call(c) => c.args.iter_mut().collect(),
            Expr::Duration(d) => d
                .lhs
                .iter_mut()
                .chain(d.rhs.iter_mut())
                .map(|e| &mut **e)
                .collect(),
            Expr::Paren(p) => vec![&mut p.expr],
            Expr::Subquery(s) => vec![&mut s.expr],
            Expr::Unary(u) => vec![&mut u.expr],
            Expr::MatrixSelector(_)
            | Expr::NumberLiteral(_)
            | Expr::StringLiteral(_)
            | Expr::VectorSelector(_) => Vec::new(),
        }
    }
}

impl DurationExpr {
    pub fn pos_range(&self) -> PosRange {
        match (&self.lhs, &self.rhs) {
            (None, None) => PosRange::new(self.start, self.end),
            (Some(l), None) => PosRange::new(self.start, l.pos_range().end),
            (None, Some(r)) => PosRange::new(self.start, r.pos_range().end),
            (Some(l), Some(r)) => PosRange::new(l.pos_range().start, r.pos_range().end),
        }
    }
}
