//! Tokenizer for template source, following Go's `text/template/parse` lexer: the same token
//! boundaries, trim-marker rules (`{{- ` and ` -}}` need the space) and error messages.

/// Keywords recognised inside actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keyword {
    Block,
    Break,
    Continue,
    Define,
    Else,
    End,
    If,
    Range,
    Template,
    With,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    LeftDelim,
    RightDelim,
    Space,
    Identifier,
    /// `.Name`
    Field,
    /// `$` or `$name`
    Variable,
    Dot,
    String,
    RawString,
    Char,
    Number,
    Bool,
    Nil,
    Pipe,
    LeftParen,
    RightParen,
    Declare,
    Assign,
    Comma,
    /// Any other printable ASCII character; never valid, but the parser words the error.
    Punct,
    Keyword(Keyword),
    Eof,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Token<'a> {
    pub kind: Kind,
    /// Byte offset in the source.
    pub pos: usize,
    pub line: usize,
    pub text: &'a str,
}

/// A lexical error; the parser adds the template name.
#[derive(Debug)]
pub(crate) struct LexError {
    pub line: usize,
    pub message: String,
    /// Line of the `{{` when the error is inside an action that started on an earlier line;
    /// Go then appends where the action started.
    pub action_line: Option<usize>,
}

const LEFT: &str = "{{";
const RIGHT: &str = "}}";

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

/// Go's `%#U` rendering of a character, used in lexer errors.
fn char_desc(c: char) -> String {
    if c.is_control() {
        format!("U+{:04X}", c as u32)
    } else {
        format!("U+{:04X} '{c}'", c as u32)
    }
}

/// Splits template source into tokens. The token list always ends with [`Kind::Eof`].
pub(crate) fn lex(src: &str) -> Result<Vec<Token<'_>>, LexError> {
    let mut lexer = Lexer {
        src,
        pos: 0,
        line: 1,
        tokens: Vec::new(),
        paren_depth: 0,
        action_line: None,
    };
    lexer.run()?;
    Ok(lexer.tokens)
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
    line: usize,
    tokens: Vec<Token<'a>>,
    paren_depth: usize,
    action_line: Option<usize>,
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, LexError> {
        Err(LexError {
            line: self.line,
            message: message.into(),
            action_line: self.action_line.filter(|&l| l != self.line),
        })
    }

    /// Emits the token spanning `start..self.pos`, advancing the line count past it.
    fn emit(&mut self, kind: Kind, start: usize) {
        let text = &self.src[start..self.pos];
        self.tokens.push(Token {
            kind,
            pos: start,
            line: self.line,
            text,
        });
        self.line += text.matches('\n').count();
    }

    /// Moves to `to` without emitting, keeping the line count.
    fn skip_to(&mut self, to: usize) {
        self.line += self.src[self.pos..to].matches('\n').count();
        self.pos = to;
    }

    fn skip_spaces(&mut self) {
        let n = self.rest().bytes().take_while(|&b| is_space(b)).count();
        self.skip_to(self.pos + n);
    }

    fn run(&mut self) -> Result<(), LexError> {
        loop {
            let Some(offset) = self.rest().find(LEFT) else {
                if self.pos < self.src.len() {
                    let start = self.pos;
                    self.pos = self.src.len();
                    self.emit(Kind::Text, start);
                }
                self.tokens.push(Token {
                    kind: Kind::Eof,
                    pos: self.src.len(),
                    line: self.line,
                    text: "",
                });
                return Ok(());
            };
            let delim = self.pos + offset;
            let after = &self.src[delim + LEFT.len()..];
            let trim =
                after.len() >= 2 && after.as_bytes()[0] == b'-' && is_space(after.as_bytes()[1]);
            let text_end = if trim {
                self.src[self.pos..delim]
                    .trim_end_matches([' ', '\t', '\r', '\n'])
                    .len()
                    + self.pos
            } else {
                delim
            };
            if text_end > self.pos {
                let start = self.pos;
                self.pos = text_end;
                self.emit(Kind::Text, start);
            }
            self.skip_to(delim);
            let inner = delim + LEFT.len() + if trim { 2 } else { 0 };
            if self.src[inner..].starts_with("/*") {
                self.skip_to(inner);
                self.lex_comment()?;
            } else {
                self.pos = delim + LEFT.len();
                self.action_line = Some(self.line);
                self.emit(Kind::LeftDelim, delim);
                self.skip_to(inner);
                self.lex_action()?;
                self.action_line = None;
            }
        }
    }

    /// Checks for a closing delimiter here, returning its length and whether it trims.
    fn at_right_delim(&self) -> Option<(usize, bool)> {
        let rest = self.rest().as_bytes();
        if rest.len() >= 2
            && is_space(rest[0])
            && rest[1] == b'-'
            && self.rest()[2..].starts_with(RIGHT)
        {
            return Some((2 + RIGHT.len(), true));
        }
        self.rest()
            .starts_with(RIGHT)
            .then_some((RIGHT.len(), false))
    }

    fn lex_comment(&mut self) -> Result<(), LexError> {
        let Some(end) = self.rest().find("*/") else {
            return self.error("unclosed comment");
        };
        self.skip_to(self.pos + end + 2);
        match self.at_right_delim() {
            Some((len, trim)) => {
                self.skip_to(self.pos + len);
                if trim {
                    self.skip_spaces();
                }
                Ok(())
            }
            None => self.error("comment ends before closing delimiter"),
        }
    }

    fn lex_action(&mut self) -> Result<(), LexError> {
        loop {
            if let Some((len, trim)) = self.at_right_delim() {
                if self.paren_depth > 0 {
                    return self.error("unclosed left paren");
                }
                let start = self.pos;
                if trim {
                    // The token covers only the delimiter itself, as in Go.
                    self.skip_to(self.pos + 2);
                }
                let delim_start = self.pos;
                self.pos = start + len;
                self.emit(Kind::RightDelim, delim_start);
                if trim {
                    self.skip_spaces();
                }
                return Ok(());
            }
            let start = self.pos;
            let Some(c) = self.peek() else {
                return self.error("unclosed action");
            };
            match c {
                ' ' | '\t' | '\r' | '\n' => {
                    // Stop before a trim-marked closing delimiter (space, minus, delimiter).
                    while self
                        .peek()
                        .is_some_and(|c| c.is_ascii() && is_space(c as u8))
                        && self.at_right_delim().is_none_or(|(_, trim)| !trim)
                    {
                        self.pos += 1;
                    }
                    self.emit(Kind::Space, start);
                }
                '=' => self.single(Kind::Assign),
                ':' => {
                    if !self.rest().starts_with(":=") {
                        return self.error("expected :=");
                    }
                    self.pos += 2;
                    self.emit(Kind::Declare, start);
                }
                '|' => self.single(Kind::Pipe),
                ',' => self.single(Kind::Comma),
                '"' => self.lex_quote('"', Kind::String, "unterminated quoted string")?,
                '\'' => self.lex_quote('\'', Kind::Char, "unterminated character constant")?,
                '`' => {
                    let Some(end) = self.rest()[1..].find('`') else {
                        return self.error("unterminated raw quoted string");
                    };
                    self.pos += end + 2;
                    self.emit(Kind::RawString, start);
                }
                '$' => {
                    self.pos += 1;
                    self.take_word();
                    self.check_terminator()?;
                    self.emit(Kind::Variable, start);
                }
                '.' => {
                    if self.rest()[1..].starts_with(|c: char| c.is_ascii_digit()) {
                        self.lex_number()?;
                    } else {
                        self.pos += 1;
                        let kind = if self.take_word() {
                            Kind::Field
                        } else {
                            Kind::Dot
                        };
                        self.check_terminator()?;
                        self.emit(kind, start);
                    }
                }
                '+' | '-' | '0'..='9' => self.lex_number()?,
                '(' => {
                    self.paren_depth += 1;
                    self.single(Kind::LeftParen);
                }
                ')' => {
                    if self.paren_depth == 0 {
                        return self.error("unexpected right paren");
                    }
                    self.paren_depth -= 1;
                    self.single(Kind::RightParen);
                }
                c if is_alnum(c) => {
                    self.take_word();
                    self.check_terminator()?;
                    let kind = match &self.src[start..self.pos] {
                        "true" | "false" => Kind::Bool,
                        "nil" => Kind::Nil,
                        "block" => Kind::Keyword(Keyword::Block),
                        "break" => Kind::Keyword(Keyword::Break),
                        "continue" => Kind::Keyword(Keyword::Continue),
                        "define" => Kind::Keyword(Keyword::Define),
                        "else" => Kind::Keyword(Keyword::Else),
                        "end" => Kind::Keyword(Keyword::End),
                        "if" => Kind::Keyword(Keyword::If),
                        "range" => Kind::Keyword(Keyword::Range),
                        "template" => Kind::Keyword(Keyword::Template),
                        "with" => Kind::Keyword(Keyword::With),
                        _ => Kind::Identifier,
                    };
                    self.emit(kind, start);
                }
                c if c.is_ascii_graphic() => self.single(Kind::Punct),
                c => {
                    return self.error(format!(
                        "unrecognized character in action: {}",
                        char_desc(c)
                    ));
                }
            }
        }
    }

    fn single(&mut self, kind: Kind) {
        let start = self.pos;
        self.pos += 1;
        self.emit(kind, start);
    }

    /// Consumes alphanumeric characters; reports whether there were any.
    fn take_word(&mut self) -> bool {
        let n: usize = self
            .rest()
            .chars()
            .take_while(|&c| is_alnum(c))
            .map(char::len_utf8)
            .sum();
        self.pos += n;
        n > 0
    }

    /// After a word, Go requires a character that can end an operand.
    fn check_terminator(&self) -> Result<(), LexError> {
        match self.peek() {
            None | Some(' ' | '\t' | '\r' | '\n' | '.' | ',' | '|' | ':' | ')' | '(') => Ok(()),
            Some(_) if self.rest().starts_with(RIGHT) => Ok(()),
            Some(c) => self.error(format!("bad character {}", char_desc(c))),
        }
    }

    fn lex_quote(&mut self, quote: char, kind: Kind, unterminated: &str) -> Result<(), LexError> {
        let start = self.pos;
        let mut chars = self.rest().char_indices().skip(1);
        loop {
            match chars.next() {
                Some((_, '\\')) => {
                    if matches!(chars.next(), None | Some((_, '\n'))) {
                        return self.error(unterminated);
                    }
                }
                Some((_, '\n')) | None => return self.error(unterminated),
                Some((i, c)) if c == quote => {
                    self.pos += i + 1;
                    break;
                }
                Some(_) => {}
            }
        }
        self.emit(kind, start);
        Ok(())
    }

    fn lex_number(&mut self) -> Result<(), LexError> {
        let start = self.pos;
        let bytes = self.src.as_bytes();
        let mut i = self.pos;
        let accept = |i: &mut usize, set: &[u8]| -> bool {
            if *i < bytes.len() && set.contains(&bytes[*i]) {
                *i += 1;
                true
            } else {
                false
            }
        };
        let run = |i: &mut usize, set: &[u8]| {
            while *i < bytes.len() && set.contains(&bytes[*i]) {
                *i += 1;
            }
        };
        const DEC: &[u8] = b"0123456789_";
        const HEX: &[u8] = b"0123456789abcdefABCDEF_";
        accept(&mut i, b"+-");
        let mut digits = DEC;
        if accept(&mut i, b"0") {
            if accept(&mut i, b"xX") {
                digits = HEX;
            } else if accept(&mut i, b"oO") {
                digits = b"01234567_";
            } else if accept(&mut i, b"bB") {
                digits = b"01_";
            }
        }
        run(&mut i, digits);
        if accept(&mut i, b".") {
            run(&mut i, digits);
        }
        if digits == DEC && accept(&mut i, b"eE") {
            accept(&mut i, b"+-");
            run(&mut i, DEC);
        }
        if digits == HEX && accept(&mut i, b"pP") {
            accept(&mut i, b"+-");
            run(&mut i, DEC);
        }
        accept(&mut i, b"i");
        if self.src[i..].starts_with(is_alnum) {
            let end = i + self.src[i..].chars().next().map_or(0, char::len_utf8);
            return self.error(format!("bad number syntax: {:?}", &self.src[start..end]));
        }
        self.pos = i;
        self.emit(Kind::Number, start);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(Kind, &str)> {
        lex(src)
            .unwrap()
            .into_iter()
            .map(|t| (t.kind, t.text))
            .collect()
    }

    #[test]
    fn trim_markers_need_a_space() {
        assert_eq!(
            kinds("a  {{- 3 -}}  b"),
            [
                (Kind::Text, "a"),
                (Kind::LeftDelim, "{{"),
                (Kind::Number, "3"),
                (Kind::RightDelim, "}}"),
                (Kind::Text, "b"),
                (Kind::Eof, ""),
            ]
        );
        assert_eq!(kinds("{{-3}}")[1], (Kind::Number, "-3"));
    }

    #[test]
    fn comments_vanish_and_may_trim() {
        assert_eq!(
            kinds("x \n{{- /* c */ -}}\n y"),
            [(Kind::Text, "x"), (Kind::Text, "y"), (Kind::Eof, "")]
        );
        assert_eq!(
            lex("{{/* c */ x}}").unwrap_err().message,
            "comment ends before closing delimiter"
        );
    }

    #[test]
    fn operands() {
        let got = kinds(r#"{{$x := .A.B | f "s\"" `r` 'c' 0x1F 1.5e3 nil true (.)}}"#);
        let got: Vec<Kind> = got
            .into_iter()
            .map(|(k, _)| k)
            .filter(|k| *k != Kind::Space)
            .collect();
        use Kind::*;
        assert_eq!(
            got,
            [
                LeftDelim, Variable, Declare, Field, Field, Pipe, Identifier, String, RawString,
                Char, Number, Number, Nil, Bool, LeftParen, Dot, RightParen, RightDelim, Eof
            ]
        );
    }

    #[test]
    fn errors() {
        assert_eq!(lex("{{ .A").unwrap_err().message, "unclosed action");
        assert_eq!(
            lex("{{ \"a }}").unwrap_err().message,
            "unterminated quoted string"
        );
        assert_eq!(lex("{{ (a }}").unwrap_err().message, "unclosed left paren");
        assert_eq!(
            lex("{{ 3x }}").unwrap_err().message,
            "bad number syntax: \"3x\""
        );
        assert_eq!(
            lex("{{ \u{7} }}").unwrap_err().message,
            "unrecognized character in action: U+0007"
        );
        assert_eq!(lex("\n\n{{ .A").unwrap_err().line, 3);
    }
}
