//! The PromQL lexer.
//!
//! It is a state machine with the same modes as upstream's: top level, inside `{…}`, and inside
//! `[…]` (where identifiers are rejected except the duration keywords `step`, `range`, `min_of`
//! and `max_of`). The whole input is tokenized up front; a lexing error ends the token list with
//! an [`Kind::Error`] item that the parser reports when it reaches it, exactly where upstream's
//! streaming lexer would have surfaced it.

use pm_common::model::write_go_quoted;

pub(crate) use super::token::{Item, Kind};

/// Go's `%q` for a single character.
fn go_quote_char(c: Option<char>) -> String {
    match c {
        None | Some('\u{FFFD}') => "'�'".to_owned(),
        Some('\'') => r"'\''".to_owned(),
        Some('\\') => r"'\\'".to_owned(),
        Some('\n') => r"'\n'".to_owned(),
        Some('\t') => r"'\t'".to_owned(),
        Some('\r') => r"'\r'".to_owned(),
        Some(c) if (c as u32) < 0x20 || c as u32 == 0x7f => format!("'\\x{:02x}'", c as u32),
        Some(c) => format!("'{c}'"),
    }
}

/// Go's `%#U` for a character.
fn go_unicode(c: char) -> String {
    if c.is_control() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("U+{:04X} '{c}'", c as u32)
    }
}

/// The tokens of an input; when lexing failed, the last item has kind [`Kind::Error`] and
/// `error` holds its message.
pub(crate) struct Tokens {
    pub items: Vec<Item>,
    pub error: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Statements,
    InsideBraces,
    DurationExpr,
    Done,
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    paren_depth: i32,
    brace_open: bool,
    bracket_open: bool,
    got_colon: bool,
    got_duration: bool,
    items: Vec<Item>,
    error: Option<String>,
}

pub(crate) fn lex(input: &str) -> Tokens {
    let mut l = Lexer {
        input,
        pos: 0,
        start: 0,
        paren_depth: 0,
        brace_open: false,
        bracket_open: false,
        got_colon: false,
        got_duration: false,
        items: Vec::new(),
        error: None,
    };
    let mut state = State::Statements;
    while state != State::Done {
        state = match state {
            State::Statements => l.statements(),
            State::InsideBraces => l.inside_braces(),
            State::DurationExpr => l.duration_expr(),
            State::Done => State::Done,
        };
    }
    Tokens {
        items: l.items,
        error: l.error,
    }
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn is_alpha(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_alnum(c: char) -> bool {
    is_alpha(c) || c.is_ascii_digit()
}

fn is_duration_keyword_start(c: char) -> bool {
    matches!(c.to_ascii_lowercase(), 's' | 'r' | 'm')
}

impl Lexer<'_> {
    fn peek(&self) -> Option<char> {
        self.input[self.pos..].chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.peek() {
            Some(c) if valid.contains(c) => {
                self.pos += c.len_utf8();
                true
            }
            _ => false,
        }
    }

    fn emit(&mut self, kind: Kind) {
        self.items.push(Item {
            kind,
            pos: self.start,
            end: self.pos,
        });
        self.start = self.pos;
    }

    /// Ends lexing with an error item starting where the current item started.
    fn fail(&mut self, message: String) -> State {
        self.items.push(Item {
            kind: Kind::Error,
            pos: self.start,
            end: self.input.len(),
        });
        self.error = Some(message);
        State::Done
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(is_space) {
            self.pos += 1;
        }
        self.start = self.pos;
    }

    fn skip_comment(&mut self) {
        let rest = &self.input[self.pos..];
        self.pos += rest.find(['\n', '\r']).unwrap_or(rest.len());
        self.start = self.pos;
    }

    fn statements(&mut self) -> State {
        if self.brace_open {
            return State::InsideBraces;
        }
        if self.input[self.pos..].starts_with('#') {
            self.skip_comment();
            return State::Statements;
        }
        let Some(c) = self.next() else {
            if self.paren_depth != 0 {
                return self.fail("unclosed left parenthesis".into());
            }
            if self.bracket_open {
                return self.fail("unclosed left bracket".into());
            }
            self.emit(Kind::Eof);
            return State::Done;
        };
        match c {
            ',' => self.emit(Kind::Comma),
            c if is_space(c) => self.skip_spaces(),
            '*' => self.emit(Kind::Mul),
            '/' => self.emit(Kind::Div),
            '%' => self.emit(Kind::Mod),
            '+' => self.emit(Kind::Add),
            '-' => self.emit(Kind::Sub),
            '^' => self.emit(Kind::Pow),
            '=' => match self.peek() {
                Some('=') => {
                    self.next();
                    self.emit(Kind::EqlC);
                }
                Some('~') => {
                    return self.fail("unexpected character after '=': '~'".into());
                }
                _ => self.emit(Kind::Eql),
            },
            '!' => {
                let t = self.next();
                if t != Some('=') {
                    return self.fail(format!(
                        "unexpected character after '!': {}",
                        go_quote_char(t)
                    ));
                }
                self.emit(Kind::Neq);
            }
            '<' | '>' => {
                let (eq, trim, plain) = if c == '<' {
                    (Kind::Lte, Kind::TrimUpper, Kind::Lss)
                } else {
                    (Kind::Gte, Kind::TrimLower, Kind::Gtr)
                };
                if self.accept("=") {
                    self.emit(eq);
                } else if self.accept("/") {
                    self.emit(trim);
                } else {
                    self.emit(plain);
                }
            }
            c if c.is_ascii_digit()
                || (c == '.' && self.peek().is_some_and(|d| d.is_ascii_digit())) =>
            {
                self.pos -= 1;
                return self.number_or_duration();
            }
            '"' | '\'' => return self.string(c),
            '`' => return self.raw_string(),
            c if is_alpha(c) || c == ':' => {
                if !self.bracket_open {
                    self.pos -= 1;
                    return self.keyword_or_identifier();
                }
                if c == ':' {
                    if self.got_colon {
                        return self.fail("unexpected colon ':'".into());
                    }
                    self.emit(Kind::Colon);
                    self.got_colon = true;
                    return State::Statements;
                }
                if is_duration_keyword_start(c) && self.duration_keyword() {
                    return State::Statements;
                }
                return self.fail(format!(
                    "unexpected character: {}, expected ':'",
                    go_quote_char(Some(c))
                ));
            }
            '(' => {
                self.emit(Kind::LeftParen);
                self.paren_depth += 1;
            }
            ')' => {
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    self.start = self.pos;
                    return self.fail("unexpected right parenthesis ')'".into());
                }
                self.emit(Kind::RightParen);
            }
            '{' => {
                self.emit(Kind::LeftBrace);
                self.brace_open = true;
                return State::InsideBraces;
            }
            '[' => {
                if self.bracket_open {
                    return self.fail("unexpected left bracket '['".into());
                }
                self.got_colon = false;
                self.emit(Kind::LeftBracket);
                self.skip_spaces();
                self.bracket_open = true;
                return State::DurationExpr;
            }
            ']' => {
                if !self.bracket_open {
                    return self.fail("unexpected right bracket ']'".into());
                }
                self.emit(Kind::RightBracket);
                self.bracket_open = false;
            }
            '@' => self.emit(Kind::At),
            c => {
                return self.fail(format!("unexpected character: {}", go_quote_char(Some(c))));
            }
        }
        State::Statements
    }

    fn inside_braces(&mut self) -> State {
        if self.input[self.pos..].starts_with('#') {
            self.skip_comment();
            return State::InsideBraces;
        }
        let Some(c) = self.next() else {
            return self.fail("unexpected end of input inside braces".into());
        };
        match c {
            c if is_space(c) => self.skip_spaces(),
            c if is_alpha(c) => {
                while self.peek().is_some_and(is_alnum) {
                    self.pos += 1;
                }
                self.emit(Kind::Identifier);
            }
            ',' => self.emit(Kind::Comma),
            '"' | '\'' => return self.string(c),
            '`' => return self.raw_string(),
            '=' => {
                let kind = if self.accept("~") {
                    Kind::EqlRegex
                } else {
                    Kind::Eql
                };
                self.emit(kind);
            }
            '!' => match self.next() {
                Some('~') => self.emit(Kind::NeqRegex),
                Some('=') => self.emit(Kind::Neq),
                other => {
                    return self.fail(format!(
                        "unexpected character after '!' inside braces: {}",
                        go_quote_char(other)
                    ));
                }
            },
            '{' => return self.fail("unexpected left brace '{'".into()),
            '}' => {
                self.emit(Kind::RightBrace);
                self.brace_open = false;
                return State::Statements;
            }
            c => {
                return self.fail(format!(
                    "unexpected character inside braces: {}",
                    go_quote_char(Some(c))
                ));
            }
        }
        State::InsideBraces
    }

    /// The first token after `[`: only durations, numbers, duration keywords, arithmetic and
    /// parentheses are accepted.
    fn duration_expr(&mut self) -> State {
        let Some(c) = self.next() else {
            return self.fail("unexpected end of input in duration expression".into());
        };
        let kind = match c {
            ']' => {
                self.emit(Kind::RightBracket);
                self.bracket_open = false;
                self.got_colon = false;
                return State::Statements;
            }
            ':' => {
                if !self.got_duration {
                    self.start = self.pos;
                    return self
                        .fail("unexpected colon before duration in duration expression".into());
                }
                if self.got_colon {
                    self.start = self.pos;
                    return self.fail("unexpected repeated colon in duration expression".into());
                }
                self.got_colon = true;
                Kind::Colon
            }
            '(' => {
                self.paren_depth += 1;
                Kind::LeftParen
            }
            ')' => {
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    self.start = self.pos;
                    return self.fail("unexpected right parenthesis ')'".into());
                }
                Kind::RightParen
            }
            c if is_space(c) => {
                self.skip_spaces();
                return State::DurationExpr;
            }
            '+' => Kind::Add,
            '-' => Kind::Sub,
            '*' => Kind::Mul,
            '/' => Kind::Div,
            '%' => Kind::Mod,
            '^' => Kind::Pow,
            ',' => Kind::Comma,
            c if is_duration_keyword_start(c) => {
                if self.duration_keyword() {
                    return State::DurationExpr;
                }
                return self.fail(format!(
                    "unexpected character in duration expression: {}",
                    go_quote_char(Some(c))
                ));
            }
            c if c.is_ascii_digit()
                || (c == '.' && self.peek().is_some_and(|d| d.is_ascii_digit())) =>
            {
                self.pos -= 1;
                self.got_duration = true;
                return self.number_or_duration();
            }
            c => {
                return self.fail(format!(
                    "unexpected character in duration expression: {}",
                    go_quote_char(Some(c))
                ));
            }
        };
        self.emit(kind);
        State::DurationExpr
    }

    /// Scans the rest of a word whose first letter was consumed; emits it when it is one of the
    /// keywords allowed inside brackets.
    fn duration_keyword(&mut self) -> bool {
        while self.peek().is_some_and(is_alpha) {
            self.pos += 1;
        }
        let kind = match self.input[self.start..self.pos]
            .to_ascii_lowercase()
            .as_str()
        {
            "step" => Kind::Step,
            "range" => Kind::Range,
            "max_of" => Kind::MaxOf,
            "min_of" => Kind::MinOf,
            _ => return false,
        };
        self.emit(kind);
        true
    }

    fn number_or_duration(&mut self) -> State {
        if self.scan_number() {
            self.emit(Kind::Number);
            return State::Statements;
        }
        if self.accept_remaining_duration() {
            self.emit(Kind::Duration);
            return State::Statements;
        }
        let text = &self.input[self.start..self.pos];
        let mut msg = String::from("bad number or duration syntax: ");
        let _ = write_go_quoted(&mut msg, text);
        self.fail(msg)
    }

    /// Accepts the unit suffixes of a duration after its leading number (`5m`, `1h30m`, `2ms`).
    fn accept_remaining_duration(&mut self) -> bool {
        if !self.accept("smhdwy") {
            return false;
        }
        self.accept("s");
        while self.accept("0123456789") {
            while self.accept("0123456789") {}
            if !self.accept("smhdw") {
                return false;
            }
            self.accept("s");
        }
        // Like upstream, a trailing letter or digit is consumed so that it shows in the error.
        match self.peek() {
            Some(c) if is_alnum(c) => {
                self.pos += c.len_utf8();
                false
            }
            _ => true,
        }
    }

    /// Scans a decimal or hexadecimal number with optional fraction, exponent and digit
    /// separators; returns false (with the position advanced) when it is malformed or directly
    /// followed by a letter, e.g. the unit of a duration.
    fn scan_number(&mut self) -> bool {
        let initial = self.pos;
        let mut digits = "0123456789";
        if self.accept("0") && self.accept("xX") {
            self.accept("_");
            digits = "0123456789abcdefABCDEF";
        }
        self.accept(".");
        self.accept(digits);
        let mut dot_seen = false;
        let mut exponent_seen = false;
        while let Some(c) = self
            .peek()
            .filter(|&c| digits.contains(c) || matches!(c, '.' | '_' | 'e' | 'E'))
        {
            if c == '.' && dot_seen {
                self.accept(".");
                return false;
            }
            if matches!(c, 'e' | 'E') && exponent_seen {
                self.accept("eE");
                return false;
            }
            if self.accept(".") {
                dot_seen = true;
                if self.accept("_.") || digits.len() > 10 {
                    return false;
                }
                continue;
            }
            if self.accept("eE") {
                exponent_seen = true;
                self.accept("+-");
                if self.accept("._eE") || self.peek().is_none() {
                    return false;
                }
                continue;
            }
            if self.accept("_") {
                if self.accept("._eE") || self.peek().is_none() {
                    return false;
                }
                continue;
            }
            while self.accept(digits) {}
        }
        self.pos != initial && !self.peek().is_some_and(is_alnum)
    }

    fn keyword_or_identifier(&mut self) -> State {
        while self.peek().is_some_and(|c| is_alnum(c) || c == ':') {
            self.pos += 1;
        }
        let word = &self.input[self.start..self.pos];
        let kind = match Kind::keyword(word) {
            Some(Kind::Fill | Kind::FillLeft | Kind::FillRight) if !self.followed_by_paren() => {
                Kind::Identifier
            }
            Some(kind) => kind,
            None if word.contains(':') => Kind::MetricIdentifier,
            None => Kind::Identifier,
        };
        self.emit(kind);
        State::Statements
    }

    fn followed_by_paren(&self) -> bool {
        self.input[self.pos..]
            .trim_start_matches(is_space)
            .starts_with('(')
    }

    fn string(&mut self, quote: char) -> State {
        loop {
            match self.next() {
                Some('\\') => {
                    if let Err(msg) = self.escape(quote) {
                        return self.fail(msg);
                    }
                }
                Some('\u{FFFD}') => return self.fail("invalid UTF-8 rune".into()),
                None | Some('\n') => return self.fail("unterminated quoted string".into()),
                Some(c) if c == quote => break,
                Some(_) => {}
            }
        }
        self.emit(Kind::String);
        State::Statements
    }

    /// Validates one escape sequence after its backslash.
    fn escape(&mut self, quote: char) -> Result<(), String> {
        let Some(c) = self.next() else {
            return Err("escape sequence not terminated".into());
        };
        let (mut n, base, max, mut ch) = match c {
            'a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\\' => return Ok(()),
            c if c == quote => return Ok(()),
            '0'..='7' => (3, 8, 255, Some(c)),
            'x' => (2, 16, 255, self.next()),
            'u' => (4, 16, 0x10FFFF, self.next()),
            'U' => (8, 16, 0x10FFFF, self.next()),
            c => return Err(format!("unknown escape sequence {}", go_unicode(c))),
        };
        let mut x: u32 = 0;
        while n > 0 {
            let Some(c) = ch else {
                return Err("escape sequence not terminated".into());
            };
            let d = c
                .to_digit(16)
                .filter(|&d| d < base)
                .ok_or_else(|| format!("illegal character {} in escape sequence", go_unicode(c)))?;
            x = x * base + d;
            n -= 1;
            if n > 0 {
                ch = self.next();
            }
        }
        if x > max || (0xD800..0xE000).contains(&x) {
            return Err("escape sequence is an invalid Unicode code point".into());
        }
        Ok(())
    }

    fn raw_string(&mut self) -> State {
        loop {
            match self.next() {
                Some('\u{FFFD}') => return self.fail("invalid UTF-8 rune".into()),
                None => return self.fail("unterminated raw string".into()),
                Some('`') => break,
                Some(_) => {}
            }
        }
        self.emit(Kind::String);
        State::Statements
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<Kind> {
        lex(input).items.iter().map(|i| i.kind).collect()
    }

    #[test]
    fn numbers_durations_and_keywords() {
        use Kind::*;
        assert_eq!(
            kinds("1 0x1f .5 1e3 Inf nAn"),
            [Number, Number, Number, Number, Number, Number, Eof]
        );
        assert_eq!(kinds("5m 1h30m 10ms"), [Duration, Duration, Duration, Eof]);
        assert_eq!(
            kinds("SUM by AnD"),
            [
                Aggregator(crate::parser::ast::AggregateOp::Sum),
                By,
                And,
                Eof
            ]
        );
        assert_eq!(
            kinds("a:b fill (1) fill"),
            [
                MetricIdentifier,
                Fill,
                LeftParen,
                Number,
                RightParen,
                Identifier,
                Eof
            ]
        );
    }

    #[test]
    fn bracket_mode() {
        use Kind::*;
        assert_eq!(
            kinds("x[step()+5m:1m]"),
            [
                Identifier,
                LeftBracket,
                Step,
                LeftParen,
                RightParen,
                Add,
                Duration,
                Colon,
                Duration,
                RightBracket,
                Eof
            ]
        );
        let t = lex("x[5m foo]");
        assert_eq!(
            t.error.as_deref(),
            Some("unexpected character: 'f', expected ':'")
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            lex("2.5.").error.as_deref(),
            Some(r#"bad number or duration syntax: "2.5.""#)
        );
        assert_eq!(
            lex(r#""\c""#).error.as_deref(),
            Some("unknown escape sequence U+0063 'c'")
        );
        assert_eq!(
            lex("(1").error.as_deref(),
            Some("unclosed left parenthesis")
        );
        assert_eq!(
            lex("{a").error.as_deref(),
            Some("unexpected end of input inside braces")
        );
        let t = lex("(1))");
        assert_eq!(t.items.last().unwrap().pos, 4);
    }

    #[test]
    fn descriptions() {
        let input = r#"foo + "a long string" by 1.5 sum"#;
        let d: Vec<String> = lex(input).items.iter().map(|i| i.describe(input)).collect();
        assert_eq!(
            d,
            [
                r#"identifier "foo""#,
                "<op:+>",
                r#"string "\"a long st"..."#,
                "<by>",
                r#"number "1.5""#,
                "<aggr:sum>",
                "end of input"
            ]
        );
    }
}
