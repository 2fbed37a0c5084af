//! Tokens of the PromQL lexer and their descriptions in error messages.

use std::fmt::Write as _;

use pm_common::model::write_go_quoted;

/// Token kinds. Keywords are recognised case-insensitively; `inf` and `nan` lex as numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Eof,
    Error,
    Identifier,
    MetricIdentifier,
    Number,
    Duration,
    String,
    LeftParen,
    RightParen,
    LeftBrace,
    RightBrace,
    LeftBracket,
    RightBracket,
    Comma,
    Colon,
    Eql,
    // Operators.
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Atan2,
    EqlC,
    Neq,
    Lss,
    Lte,
    Gtr,
    Gte,
    TrimUpper,
    TrimLower,
    EqlRegex,
    NeqRegex,
    And,
    Or,
    Unless,
    At,
    // Aggregators.
    Aggregator(crate::parser::ast::AggregateOp),
    // Keywords.
    Bool,
    By,
    GroupLeft,
    GroupRight,
    Fill,
    FillLeft,
    FillRight,
    Ignoring,
    Offset,
    Smoothed,
    Anchored,
    On,
    Without,
    // Preprocessors and duration keywords.
    Start,
    End,
    Step,
    Range,
    MaxOf,
    MinOf,
}

impl Kind {
    pub(super) fn keyword(word: &str) -> Option<Kind> {
        use crate::parser::ast::AggregateOp;
        let lower = word.to_ascii_lowercase();
        if let Some(op) = AggregateOp::from_name(&lower) {
            return Some(Kind::Aggregator(op));
        }
        Some(match lower.as_str() {
            "and" => Kind::And,
            "or" => Kind::Or,
            "unless" => Kind::Unless,
            "atan2" => Kind::Atan2,
            "offset" => Kind::Offset,
            "smoothed" => Kind::Smoothed,
            "anchored" => Kind::Anchored,
            "by" => Kind::By,
            "without" => Kind::Without,
            "on" => Kind::On,
            "ignoring" => Kind::Ignoring,
            "group_left" => Kind::GroupLeft,
            "group_right" => Kind::GroupRight,
            "fill" => Kind::Fill,
            "fill_left" => Kind::FillLeft,
            "fill_right" => Kind::FillRight,
            "bool" => Kind::Bool,
            "start" => Kind::Start,
            "end" => Kind::End,
            "step" => Kind::Step,
            "range" => Kind::Range,
            "max_of" => Kind::MaxOf,
            "min_of" => Kind::MinOf,
            "inf" | "nan" => Kind::Number,
            _ => return None,
        })
    }

    fn is_operator(self) -> bool {
        use Kind::*;
        matches!(
            self,
            Add | Sub
                | Mul
                | Div
                | Mod
                | Pow
                | Atan2
                | EqlC
                | Neq
                | Lss
                | Lte
                | Gtr
                | Gte
                | TrimUpper
                | TrimLower
                | EqlRegex
                | NeqRegex
                | And
                | Or
                | Unless
                | At
        )
    }

    fn is_keyword(self) -> bool {
        use Kind::*;
        matches!(
            self,
            Bool | By
                | GroupLeft
                | GroupRight
                | Fill
                | FillLeft
                | FillRight
                | Ignoring
                | Offset
                | Smoothed
                | Anchored
                | On
                | Without
        )
    }

    /// Whether upstream's token table has a fixed spelling for the kind; such items are described
    /// by their text alone, the others by a kind name followed by the quoted text.
    fn has_fixed_text(self) -> bool {
        !matches!(
            self,
            Kind::Eof
                | Kind::Error
                | Kind::Identifier
                | Kind::MetricIdentifier
                | Kind::Number
                | Kind::Duration
                | Kind::String
        )
    }

    /// Whether the token may name a metric at the start of a selector.
    pub(crate) fn is_metric_identifier(self) -> bool {
        use Kind::*;
        matches!(
            self,
            Aggregator(_)
                | By
                | Fill
                | FillLeft
                | FillRight
                | Identifier
                | And
                | Or
                | Unless
                | MetricIdentifier
                | Offset
                | Without
                | Start
                | End
                | Step
                | Range
                | Anchored
                | Smoothed
                | MaxOf
                | MinOf
        )
    }

    /// Whether the token may be used as a label name in `by (…)`, `on (…)` and the like.
    pub(crate) fn is_label(self) -> bool {
        use Kind::*;
        self.is_metric_identifier()
            || matches!(self, Bool | GroupLeft | GroupRight | Ignoring | On | Atan2)
    }
}

/// One token: its kind and byte range in the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Item {
    pub kind: Kind,
    pub pos: usize,
    pub end: usize,
}

impl Item {
    pub fn text<'a>(&self, input: &'a str) -> &'a str {
        &input[self.pos..self.end]
    }

    /// The description used in "unexpected …" messages, as upstream phrases it.
    pub fn describe(&self, input: &str) -> String {
        let text = self.text(input);
        let mut out = String::new();
        if self.kind == Kind::Eof {
            return "end of input".to_owned();
        }
        if self.kind.has_fixed_text() {
            if self.kind.is_keyword() {
                let _ = write!(out, "<{text}>");
            } else if self.kind.is_operator() {
                let _ = write!(out, "<op:{text}>");
            } else if matches!(self.kind, Kind::Aggregator(_)) {
                let _ = write!(out, "<aggr:{text}>");
            } else {
                write_truncated_quoted(&mut out, text);
            }
            return out;
        }
        out.push_str(match self.kind {
            Kind::Identifier => "identifier ",
            Kind::MetricIdentifier => "metric identifier ",
            Kind::Number => "number ",
            Kind::Duration => "duration ",
            Kind::String => "string ",
            _ => "error ",
        });
        if matches!(self.kind, Kind::Identifier | Kind::MetricIdentifier) {
            let _ = write_go_quoted(&mut out, text);
        } else {
            write_truncated_quoted(&mut out, text);
        }
        out
    }
}

/// Go's `%q` for item values, shortened to ten characters and `...` when longer.
fn write_truncated_quoted(out: &mut String, text: &str) {
    if text.len() > 10 {
        let cut = text.char_indices().nth(10).map_or(text.len(), |(i, _)| i);
        let _ = write_go_quoted(out, &text[..cut]);
        out.push_str("...");
    } else {
        let _ = write_go_quoted(out, text);
    }
}
