//! The UTF-8 matcher syntax (upstream's `matcher/parse`): names and values are either
//! double-quoted Go strings or unquoted runs of non-reserved characters; braces are optional
//! but must pair; errors carry rune columns (`3:5: ...`) as upstream's do.

use super::ParseError;
use super::matcher::{MatchType, Matcher};
use super::quote::go_unquote;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Eof,
    OpenBrace,
    CloseBrace,
    Comma,
    Equals,
    NotEquals,
    Matches,
    NotMatches,
    Quoted,
    Unquoted,
}

#[derive(Clone, Copy, Debug, Default)]
struct Position {
    offset_start: usize,
    offset_end: usize,
    column_start: usize,
    column_end: usize,
}

#[derive(Clone, Debug)]
struct Token<'a> {
    kind: Kind,
    value: &'a str,
    pos: Position,
}

impl Token<'_> {
    fn unquote(&self) -> Result<String, ParseError> {
        match self.kind {
            Kind::Quoted => go_unquote(self.value).ok_or_else(|| {
                ParseError::new(format!(
                    "{}:{}: {}: invalid input",
                    self.pos.column_start, self.pos.column_end, self.value
                ))
            }),
            _ => Ok(self.value.to_owned()),
        }
    }
}

fn is_reserved(c: char) -> bool {
    c.is_whitespace() || "{}!=~,\\\"'`".contains(c)
}

#[derive(Clone)]
struct Lexer<'a> {
    input: &'a str,
    err: Option<String>,
    start: usize,
    pos: usize,
    width: usize,
    column: usize,
    cols: usize,
}

impl<'a> Lexer<'a> {
    fn new(input: &'a str) -> Self {
        Lexer {
            input,
            err: None,
            start: 0,
            pos: 0,
            width: 0,
            column: 0,
            cols: 0,
        }
    }

    fn position(&self) -> Position {
        Position {
            offset_start: self.start,
            offset_end: self.pos,
            column_start: self.column,
            column_end: self.cols,
        }
    }

    fn next(&mut self) -> Option<char> {
        match self.input[self.pos..].chars().next() {
            Some(c) => {
                self.width = c.len_utf8();
                self.pos += self.width;
                self.cols += 1;
                Some(c)
            }
            None => {
                self.width = 0;
                None
            }
        }
    }

    fn rewind(&mut self) {
        self.pos -= self.width;
        if self.width > 0 {
            self.cols -= 1;
        }
    }

    fn skip(&mut self) {
        self.start = self.pos;
        self.column = self.cols;
    }

    fn emit(&mut self, kind: Kind) -> Token<'a> {
        let token = Token {
            kind,
            value: &self.input[self.start..self.pos],
            pos: self.position(),
        };
        self.start = self.pos;
        self.column = self.cols;
        token
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.next() {
            Some(c) if valid.contains(c) => true,
            _ => {
                self.rewind();
                false
            }
        }
    }

    fn expected(&self, expected: &str) -> String {
        let p = self.position();
        if p.offset_end >= self.input.len() {
            format!(
                "{}:{}: unexpected end of input, expected one of '{expected}'",
                p.column_start, p.column_end
            )
        } else {
            format!(
                "{}:{}: {}: expected one of '{expected}'",
                p.column_start,
                p.column_end,
                &self.input[p.offset_start..p.offset_end]
            )
        }
    }

    fn scan(&mut self) -> Result<Token<'a>, String> {
        let eof = Token {
            kind: Kind::Eof,
            value: "",
            pos: Position::default(),
        };
        if let Some(err) = &self.err {
            return Err(err.clone());
        }
        while let Some(c) = self.next() {
            let result = match c {
                '{' => Ok(self.emit(Kind::OpenBrace)),
                '}' => Ok(self.emit(Kind::CloseBrace)),
                ',' => Ok(self.emit(Kind::Comma)),
                '=' | '!' => {
                    self.rewind();
                    self.scan_operator()
                }
                '"' => {
                    self.rewind();
                    self.scan_quoted()
                }
                c if !is_reserved(c) => {
                    self.rewind();
                    Ok(self.scan_unquoted())
                }
                c if c.is_whitespace() => {
                    self.skip();
                    continue;
                }
                _ => {
                    let p = self.position();
                    Err(format!(
                        "{}:{}: {}: invalid input",
                        p.column_start,
                        p.column_end,
                        &self.input[p.offset_start..p.offset_end]
                    ))
                }
            };
            if let Err(err) = &result {
                self.err = Some(err.clone());
            }
            return result;
        }
        Ok(eof)
    }

    fn scan_operator(&mut self) -> Result<Token<'a>, String> {
        if self.accept("!") {
            if self.accept("=") {
                return Ok(self.emit(Kind::NotEquals));
            }
            if self.accept("~") {
                return Ok(self.emit(Kind::NotMatches));
            }
            return Err(self.expected("=~"));
        }
        if self.accept("=") {
            if self.accept("~") {
                return Ok(self.emit(Kind::Matches));
            }
            return Ok(self.emit(Kind::Equals));
        }
        Err(self.expected("!="))
    }

    fn scan_quoted(&mut self) -> Result<Token<'a>, String> {
        if !self.accept("\"") {
            return Err(self.expected("\""));
        }
        let mut escaped = false;
        while let Some(c) = self.next() {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                self.rewind();
                break;
            }
        }
        if !self.accept("\"") {
            let p = self.position();
            return Err(format!(
                "{}:{}: {}: missing end \"",
                p.column_start,
                p.column_end,
                &self.input[p.offset_start..p.offset_end]
            ));
        }
        Ok(self.emit(Kind::Quoted))
    }

    fn scan_unquoted(&mut self) -> Token<'a> {
        while let Some(c) = self.next() {
            if is_reserved(c) {
                self.rewind();
                break;
            }
        }
        self.emit(Kind::Unquoted)
    }

    fn peek(&mut self) -> Result<Token<'a>, String> {
        let saved = (self.start, self.pos, self.width, self.column, self.cols);
        let result = self.scan();
        (self.start, self.pos, self.width, self.column, self.cols) = saved;
        result
    }
}

/// Why the parser stopped: the end of input, or a message.
enum Stop {
    Eof,
    Msg(String),
}

impl Stop {
    fn with(self, context: &str) -> ParseError {
        match self {
            Stop::Eof => ParseError::new(format!("end of input: {context}")),
            Stop::Msg(m) => ParseError::new(format!("{m}: {context}")),
        }
    }
}

const NO_CLOSE_BRACE: &str = "expected close brace";
const NO_LABEL_NAME: &str = "expected label name";
const NO_LABEL_VALUE: &str = "expected label value";
const NO_OPERATOR: &str = "expected an operator such as '=', '!=', '=~' or '!~'";
const COMMA_OR_CLOSE: &str = "expected a comma or close brace";
const MATCHER_OR_CLOSE: &str = "expected a matcher or close brace after comma";

struct Parser<'a> {
    lexer: Lexer<'a>,
    has_open_brace: bool,
    matchers: Vec<Matcher>,
}

impl<'a> Parser<'a> {
    fn expect_peek(&mut self, kinds: &[Kind]) -> Result<Token<'a>, Stop> {
        let t = self.lexer.peek().map_err(Stop::Msg)?;
        if t.kind == Kind::Eof {
            return Err(Stop::Eof);
        }
        if !kinds.contains(&t.kind) {
            return Err(Stop::Msg(format!(
                "{}:{}: unexpected {}",
                t.pos.column_start, t.pos.column_end, t.value
            )));
        }
        Ok(t)
    }

    fn expect(&mut self, kinds: &[Kind]) -> Result<Token<'a>, Stop> {
        let t = self.expect_peek(kinds)?;
        self.lexer.scan().map_err(Stop::Msg)?;
        Ok(t)
    }

    fn parse(mut self) -> Result<Vec<Matcher>, ParseError> {
        // The optional open brace.
        match self.lexer.peek() {
            Err(m) => return Err(ParseError::new(m)),
            Ok(t) if t.kind == Kind::Eof => return self.parse_eof().map(|()| self.matchers),
            Ok(t) if t.kind == Kind::OpenBrace => {
                self.has_open_brace = true;
                self.lexer.scan().map_err(ParseError::new)?;
            }
            Ok(_) => {}
        }
        match self.lexer.peek() {
            Err(m) => return Err(ParseError::new(m)),
            Ok(t) if matches!(t.kind, Kind::Eof | Kind::CloseBrace) => {
                self.parse_close_brace()?;
                return Ok(self.matchers);
            }
            Ok(_) => {}
        }
        loop {
            self.parse_matcher()?;
            // After a matcher: a comma, a close brace, or the end.
            match self.expect_peek(&[Kind::Comma, Kind::CloseBrace]) {
                Err(Stop::Eof) => break,
                Err(stop) => return Err(stop.with(COMMA_OR_CLOSE)),
                Ok(t) if t.kind == Kind::CloseBrace => break,
                Ok(_) => {}
            }
            self.expect(&[Kind::Comma])
                .map_err(|s| s.with("expected a comma"))?;
            match self.expect_peek(&[Kind::CloseBrace, Kind::Unquoted, Kind::Quoted]) {
                Err(Stop::Eof) => break,
                Err(stop) => return Err(stop.with(MATCHER_OR_CLOSE)),
                Ok(t) if t.kind == Kind::CloseBrace => break,
                Ok(_) => {}
            }
        }
        self.parse_close_brace()?;
        Ok(self.matchers)
    }

    fn parse_close_brace(&mut self) -> Result<(), ParseError> {
        let found = self.expect(&[Kind::CloseBrace]);
        let column = self.lexer.position().column_end;
        match (self.has_open_brace, found) {
            (true, Err(stop)) => {
                let inner = match stop {
                    Stop::Eof => "end of input".to_owned(),
                    Stop::Msg(m) => m,
                };
                return Err(ParseError::new(format!(
                    "0:{column}: {inner}: {NO_CLOSE_BRACE}"
                )));
            }
            (false, Ok(_)) => {
                return Err(ParseError::new(format!(
                    "0:{column}: }}: expected opening brace"
                )));
            }
            _ => {}
        }
        self.parse_eof()
    }

    fn parse_eof(&mut self) -> Result<(), ParseError> {
        let t = self
            .lexer
            .scan()
            .map_err(|m| ParseError::new(format!("{m}: expected end of input")))?;
        if t.kind != Kind::Eof {
            return Err(ParseError::new(format!(
                "{}:{}: {}: expected end of input",
                t.pos.column_start, t.pos.column_end, t.value
            )));
        }
        Ok(())
    }

    fn parse_matcher(&mut self) -> Result<(), ParseError> {
        let name = self
            .expect(&[Kind::Quoted, Kind::Unquoted])
            .map_err(|s| s.with(NO_LABEL_NAME))?
            .unquote()?;
        let op = self
            .expect(&[
                Kind::Equals,
                Kind::NotEquals,
                Kind::Matches,
                Kind::NotMatches,
            ])
            .map_err(|s| s.with(NO_OPERATOR))?;
        let match_type = match op.kind {
            Kind::Equals => MatchType::Equal,
            Kind::NotEquals => MatchType::NotEqual,
            Kind::Matches => MatchType::Regexp,
            _ => MatchType::NotRegexp,
        };
        let value = self
            .expect(&[Kind::Unquoted, Kind::Quoted])
            .map_err(|s| s.with(NO_LABEL_VALUE))?
            .unquote()?;
        let matcher = Matcher::new(match_type, name, value)
            .map_err(|e| ParseError::new(format!("failed to create matcher: {e}")))?;
        self.matchers.push(matcher);
        Ok(())
    }
}

pub(super) fn parse_matchers(input: &str) -> Result<Vec<Matcher>, ParseError> {
    Parser {
        lexer: Lexer::new(input),
        has_open_brace: false,
        matchers: Vec::new(),
    }
    .parse()
}

pub(super) fn parse_matcher(input: &str) -> Result<Matcher, ParseError> {
    let mut matchers = parse_matchers(input)?;
    match matchers.len() {
        1 => Ok(matchers.remove(0)),
        0 => Err(ParseError::new("no matchers")),
        n => Err(ParseError::new(format!("expected 1 matcher, found {n}"))),
    }
}
