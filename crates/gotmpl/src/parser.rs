//! Recursive-descent parser producing [`Tree`]s, mirroring Go's `text/template/parse`:
//! variables and functions are resolved at parse time, `else if`/`else with` nest, and errors
//! read `template: name:line: …`.

use std::sync::Arc;

use crate::ast::{Arg, ArgKind, Branch, Command, Node, Number, Pipeline, TemplateCall, Tree};
use crate::error::ParseError;
use crate::lexer::{self, Keyword, Kind, Token};

/// Parses `source` as the template `name`. Returns the top-level tree first, then every
/// `define`/`block` in source order.
pub(crate) fn parse(
    name: &str,
    source: &str,
    has_function: &dyn Fn(&str) -> bool,
) -> Result<Vec<Tree>, ParseError> {
    let parse_name: Arc<str> = name.into();
    let shared_source: Arc<str> = source.into();
    let tokens = lexer::lex(source).map_err(|e| {
        let message = match e.action_line {
            Some(start) if e.message.ends_with(" action") => {
                format!("{} started at {name}:{start}", e.message)
            }
            Some(start) => format!("{} in action started at {name}:{start}", e.message),
            None => e.message,
        };
        ParseError {
            template: name.to_owned(),
            line: e.line,
            message,
        }
    })?;
    let mut parser = Parser {
        tokens,
        next: 0,
        line: 1,
        parse_name: parse_name.clone(),
        source: shared_source.clone(),
        has_function,
        vars: vec!["$".to_owned()],
        range_depth: 0,
        paren_depth: 0,
        defined: Vec::new(),
    };
    let root = parser.top_level()?;
    let mut trees = vec![Tree {
        name: name.to_owned(),
        parse_name,
        source: shared_source,
        root,
    }];
    trees.append(&mut parser.defined);
    Ok(trees)
}

/// Nesting limit for parenthesised pipelines. Go allows 10000; parsing recurses on the native
/// stack here, so the limit is lower (no real template comes close).
const MAX_PAREN_DEPTH: usize = 100;

/// What ended an item list.
enum End {
    End,
    /// `{{else}}`, or the `else` of `{{else if …}}`/`{{else with …}}` (the keyword is next).
    Else,
}

type PResult<T> = Result<T, ParseError>;

struct Parser<'a, 'f> {
    tokens: Vec<Token<'a>>,
    next: usize,
    /// Line of the most recently consumed token; Go reports errors there.
    line: usize,
    parse_name: Arc<str>,
    source: Arc<str>,
    has_function: &'f dyn Fn(&str) -> bool,
    /// Variables in scope, innermost last.
    vars: Vec<String>,
    range_depth: usize,
    paren_depth: usize,
    defined: Vec<Tree>,
}

impl<'a> Parser<'a, '_> {
    fn error<T>(&self, message: impl Into<String>) -> PResult<T> {
        Err(ParseError {
            template: self.parse_name.to_string(),
            line: self.line,
            message: message.into(),
        })
    }

    /// The next token; past the end this keeps answering the final EOF token.
    fn peek(&self) -> Token<'a> {
        self.tokens[self.next.min(self.tokens.len() - 1)]
    }

    fn advance(&mut self) -> Token<'a> {
        let t = self.peek();
        self.next += 1;
        self.line = t.line;
        t
    }

    fn skip_space(&mut self) {
        if self.peek().kind == Kind::Space {
            self.advance();
        }
    }

    fn next_non_space(&mut self) -> Token<'a> {
        self.skip_space();
        self.advance()
    }

    fn peek_non_space(&mut self) -> Token<'a> {
        self.skip_space();
        self.peek()
    }

    /// Go's rendering of an unexpected token.
    fn describe(t: &Token<'_>) -> String {
        match t.kind {
            Kind::Eof => "EOF".to_owned(),
            Kind::Keyword(_) | Kind::Dot | Kind::Nil => format!("<{}>", t.text),
            _ if t.text.chars().count() > 10 => {
                format!("{:?}...", t.text.chars().take(10).collect::<String>())
            }
            _ => format!("{:?}", t.text),
        }
    }

    fn unexpected<T>(&self, t: &Token<'_>, context: &str) -> PResult<T> {
        self.error(format!("unexpected {} in {context}", Self::describe(t)))
    }

    fn expect(&mut self, kind: Kind, context: &str) -> PResult<Token<'a>> {
        let t = self.next_non_space();
        if t.kind != kind {
            return self.unexpected(&t, context);
        }
        Ok(t)
    }

    fn top_level(&mut self) -> PResult<Vec<Node>> {
        let mut root = Vec::new();
        while self.peek().kind != Kind::Eof {
            if self.peek().kind == Kind::LeftDelim {
                let mark = self.next;
                self.advance();
                if self.next_non_space().kind == Kind::Keyword(Keyword::Define) {
                    self.definition()?;
                    continue;
                }
                self.next = mark;
            }
            match self.text_or_action()? {
                Item::Node(n) => root.push(n),
                Item::End => return self.error("unexpected {{end}}"),
                Item::Else => return self.error("unexpected {{else}}"),
            }
        }
        Ok(root)
    }

    fn template_name(&mut self, context: &str) -> PResult<String> {
        let t = self.next_non_space();
        match t.kind {
            Kind::String | Kind::RawString => self.unquote(t.text),
            _ => self.unexpected(&t, context),
        }
    }

    /// `{{define "name"}} … {{end}}`, with its own variable scope.
    fn definition(&mut self) -> PResult<()> {
        const CONTEXT: &str = "define clause";
        let name = self.template_name(CONTEXT)?;
        self.expect(Kind::RightDelim, CONTEXT)?;
        let root = self.body(CONTEXT)?;
        self.add(name, root)
    }

    /// A `define` or `block` body in a fresh scope, which must end with `{{end}}`.
    fn body(&mut self, context: &str) -> PResult<Vec<Node>> {
        let saved = std::mem::replace(&mut self.vars, vec!["$".to_owned()]);
        let saved_depth = std::mem::take(&mut self.range_depth);
        let (list, end) = self.item_list()?;
        self.vars = saved;
        self.range_depth = saved_depth;
        match end {
            End::End => Ok(list),
            End::Else => self.error(format!("unexpected {{{{else}}}} in {context}")),
        }
    }

    fn add(&mut self, name: String, root: Vec<Node>) -> PResult<()> {
        let tree = Tree {
            name,
            parse_name: self.parse_name.clone(),
            source: self.source.clone(),
            root,
        };
        if let Some(i) = self.defined.iter().position(|t| t.name == tree.name) {
            if self.defined[i].is_empty() {
                self.defined[i] = tree;
            } else if !tree.is_empty() {
                return self.error(format!(
                    "template: multiple definition of template {:?}",
                    tree.name
                ));
            }
            return Ok(());
        }
        self.defined.push(tree);
        Ok(())
    }

    fn item_list(&mut self) -> PResult<(Vec<Node>, End)> {
        let mut list = Vec::new();
        while self.peek_non_space().kind != Kind::Eof {
            match self.text_or_action()? {
                Item::Node(n) => list.push(n),
                Item::End => return Ok((list, End::End)),
                Item::Else => return Ok((list, End::Else)),
            }
        }
        self.error("unexpected EOF")
    }

    fn text_or_action(&mut self) -> PResult<Item> {
        let t = self.next_non_space();
        match t.kind {
            Kind::Text => Ok(Item::Node(Node::Text(t.text.into()))),
            Kind::LeftDelim => self.action(),
            _ => self.unexpected(&t, "input"),
        }
    }

    fn action(&mut self) -> PResult<Item> {
        let t = self.next_non_space();
        let node = match t.kind {
            Kind::Keyword(Keyword::Block) => self.block()?,
            Kind::Keyword(Keyword::Break) => self.loop_control("{{break}}", Node::Break)?,
            Kind::Keyword(Keyword::Continue) => {
                self.loop_control("{{continue}}", Node::Continue)?
            }
            Kind::Keyword(Keyword::Else) => {
                let next = self.peek_non_space();
                if !matches!(next.kind, Kind::Keyword(Keyword::If | Keyword::With)) {
                    self.expect(Kind::RightDelim, "else")?;
                }
                return Ok(Item::Else);
            }
            Kind::Keyword(Keyword::End) => {
                self.expect(Kind::RightDelim, "end")?;
                return Ok(Item::End);
            }
            Kind::Keyword(Keyword::If) => Node::If(self.control("if")?),
            Kind::Keyword(Keyword::Range) => Node::Range(self.control("range")?),
            Kind::Keyword(Keyword::With) => Node::With(self.control("with")?),
            Kind::Keyword(Keyword::Template) => self.template_call()?,
            _ => {
                self.next -= 1;
                // Variables declared here stay in scope until the enclosing {{end}}.
                Node::Action(self.pipeline("command", Kind::RightDelim)?)
            }
        };
        Ok(Item::Node(node))
    }

    fn loop_control(&mut self, what: &str, node: Node) -> PResult<Node> {
        let t = self.next_non_space();
        if t.kind != Kind::RightDelim {
            return self.unexpected(&t, what);
        }
        if self.range_depth == 0 {
            return self.error(format!("{what} outside {{{{range}}}}"));
        }
        Ok(node)
    }

    fn control(&mut self, context: &str) -> PResult<Branch> {
        let mark = self.vars.len();
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        let is_range = context == "range";
        if is_range {
            self.range_depth += 1;
        }
        let listed = self.item_list();
        if is_range {
            self.range_depth -= 1;
        }
        let (list, end) = listed?;
        let else_list = match end {
            End::End => None,
            End::Else => {
                let next = self.peek().kind;
                if context == "if" && next == Kind::Keyword(Keyword::If) {
                    self.advance();
                    Some(vec![Node::If(self.control("if")?)])
                } else if context == "with" && next == Kind::Keyword(Keyword::With) {
                    self.advance();
                    Some(vec![Node::With(self.control("with")?)])
                } else {
                    match self.item_list()? {
                        (list, End::End) => Some(list),
                        (_, End::Else) => return self.error("expected end; found {{else}}"),
                    }
                }
            }
        };
        self.vars.truncate(mark);
        Ok(Branch {
            pipe,
            list,
            else_list,
        })
    }

    fn template_call(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "template clause";
        let pos = self.peek_non_space().pos;
        let name = self.template_name(CONTEXT)?;
        let pipe = if self.peek_non_space().kind == Kind::RightDelim {
            self.advance();
            None
        } else {
            Some(self.pipeline(CONTEXT, Kind::RightDelim)?)
        };
        Ok(Node::Template(TemplateCall { pos, name, pipe }))
    }

    /// `{{block "name" pipeline}} body {{end}}`: defines `name` and calls it in place.
    fn block(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "block clause";
        let pos = self.peek_non_space().pos;
        let name = self.template_name(CONTEXT)?;
        let pipe = self.pipeline(CONTEXT, Kind::RightDelim)?;
        let root = self.body(CONTEXT)?;
        self.add(name.clone(), root)?;
        Ok(Node::Template(TemplateCall {
            pos,
            name,
            pipe: Some(pipe),
        }))
    }

    fn pipeline(&mut self, context: &str, end: Kind) -> PResult<Pipeline> {
        let pos = self.peek_non_space().pos;
        let mut pipe = Pipeline {
            pos,
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        self.declarations(&mut pipe, context)?;
        loop {
            let t = self.next_non_space();
            match t.kind {
                k if k == end => break,
                Kind::Bool
                | Kind::Char
                | Kind::Dot
                | Kind::Field
                | Kind::Identifier
                | Kind::Number
                | Kind::Nil
                | Kind::RawString
                | Kind::String
                | Kind::Variable
                | Kind::LeftParen => {
                    self.next -= 1;
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => return self.unexpected(&t, context),
            }
        }
        if pipe.cmds.is_empty() {
            return self.error(format!("missing value for {context}"));
        }
        for (i, cmd) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                cmd.args[0].kind,
                ArgKind::Bool(_)
                    | ArgKind::Dot
                    | ArgKind::Nil
                    | ArgKind::Number { .. }
                    | ArgKind::String { .. }
            ) {
                return self.error(format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                ));
            }
        }
        Ok(pipe)
    }

    /// `$x :=`, `$x =`, and in `range` also `$i, $v :=`.
    fn declarations(&mut self, pipe: &mut Pipeline, context: &str) -> PResult<()> {
        loop {
            let mark = self.next;
            let v = self.peek_non_space();
            if v.kind != Kind::Variable {
                return Ok(());
            }
            self.advance();
            match self.peek_non_space().kind {
                Kind::Assign | Kind::Declare => {
                    pipe.is_assign = self.advance().kind == Kind::Assign;
                    pipe.decl.push(v.text.to_owned());
                    self.vars.push(v.text.to_owned());
                    return Ok(());
                }
                Kind::Comma => {
                    self.advance();
                    pipe.decl.push(v.text.to_owned());
                    self.vars.push(v.text.to_owned());
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().kind {
                            Kind::Variable | Kind::RightDelim | Kind::RightParen => continue,
                            _ => return self.error("range can only initialize variables"),
                        }
                    }
                    return self.error(format!("too many declarations in {context}"));
                }
                _ => {
                    self.next = mark;
                    return Ok(());
                }
            }
        }
    }

    fn command(&mut self) -> PResult<Command> {
        let pos = self.peek_non_space().pos;
        let mut args = Vec::new();
        loop {
            self.skip_space();
            if let Some(arg) = self.operand()? {
                args.push(arg);
            }
            let t = self.advance();
            match t.kind {
                Kind::Space => continue,
                Kind::RightDelim | Kind::RightParen => self.next -= 1,
                Kind::Pipe => {}
                _ => return self.unexpected(&t, "operand"),
            }
            break;
        }
        if args.is_empty() {
            return self.error("empty command");
        }
        Ok(Command { pos, args })
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(term) = self.term()? else {
            return Ok(None);
        };
        if self.peek().kind != Kind::Field {
            return Ok(Some(term));
        }
        let pos = self.peek().pos;
        let mut names = Vec::new();
        while self.peek().kind == Kind::Field {
            names.push(self.advance().text[1..].to_owned());
        }
        let is_field = matches!(term.kind, ArgKind::Field(_));
        let kind = match term.kind {
            ArgKind::Field(mut base) | ArgKind::Variable(mut base) => {
                base.append(&mut names);
                if is_field {
                    ArgKind::Field(base)
                } else {
                    ArgKind::Variable(base)
                }
            }
            ArgKind::Bool(_)
            | ArgKind::String { .. }
            | ArgKind::Number { .. }
            | ArgKind::Nil
            | ArgKind::Dot => {
                return self.error(format!("unexpected . after term {:?}", term.to_string()));
            }
            _ => ArgKind::Chain(Box::new(term), names),
        };
        Ok(Some(Arg { pos, kind }))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let t = self.next_non_space();
        let kind = match t.kind {
            Kind::Identifier => {
                if !(self.has_function)(t.text) {
                    return self.error(format!("function {:?} not defined", t.text));
                }
                ArgKind::Identifier(t.text.to_owned())
            }
            Kind::Dot => ArgKind::Dot,
            Kind::Nil => ArgKind::Nil,
            Kind::Variable => {
                if !self.vars.iter().any(|v| v == t.text) {
                    return self.error(format!("undefined variable {:?}", t.text));
                }
                ArgKind::Variable(vec![t.text.to_owned()])
            }
            Kind::Field => ArgKind::Field(vec![t.text[1..].to_owned()]),
            Kind::Bool => ArgKind::Bool(t.text == "true"),
            Kind::Number | Kind::Char => ArgKind::Number {
                value: self.number(t.text, t.kind)?,
                text: t.text.into(),
            },
            Kind::LeftParen => {
                if self.paren_depth >= MAX_PAREN_DEPTH {
                    return self.error("max expression depth exceeded");
                }
                self.paren_depth += 1;
                let pipe = self.pipeline("parenthesized pipeline", Kind::RightParen);
                self.paren_depth -= 1;
                ArgKind::Pipe(Box::new(pipe?))
            }
            Kind::String | Kind::RawString => ArgKind::String {
                value: self.unquote(t.text)?.into(),
                text: t.text.into(),
            },
            _ => {
                self.next -= 1;
                return Ok(None);
            }
        };
        Ok(Some(Arg { pos: t.pos, kind }))
    }

    fn number(&self, text: &str, kind: Kind) -> PResult<Number> {
        if kind == Kind::Char {
            let Some(bytes) = crate::strconv::unescape(&text[1..text.len() - 1], '\'') else {
                return self.error("invalid syntax");
            };
            let chars = String::from_utf8_lossy(&bytes);
            let mut it = chars.chars();
            return match (it.next(), it.next()) {
                (Some(c), None) => Ok(Number::Int(c as i64)),
                _ => self.error(format!("malformed character constant: {text}")),
            };
        }
        if text.ends_with('i') {
            return self.error(format!("complex numbers are not supported: {text}"));
        }
        let is_hex = text
            .trim_start_matches(['+', '-'])
            .get(..2)
            .is_some_and(|p| p.eq_ignore_ascii_case("0x"));
        if (is_hex || !text.contains(['.', 'e', 'E', 'p', 'P']))
            && let Some(i) = parse_go_int(text)
        {
            return Ok(Number::Int(i));
        }
        let cleaned = text.replace('_', "");
        match cleaned.parse::<f64>() {
            Ok(x) if !is_hex => Ok(Number::Float(x)),
            _ => self.error(format!("illegal number syntax: {text:?}")),
        }
    }

    /// Go's `strconv.Unquote` for string and raw-string literals.
    fn unquote(&self, text: &str) -> PResult<String> {
        if let Some(raw) = text.strip_prefix('`') {
            return Ok(raw[..raw.len() - 1].replace('\r', ""));
        }
        match crate::strconv::unescape(&text[1..text.len() - 1], '"') {
            Some(bytes) => Ok(String::from_utf8_lossy(&bytes).into_owned()),
            None => self.error("invalid syntax"),
        }
    }
}

enum Item {
    Node(Node),
    End,
    Else,
}

/// Parses an integer literal the way Go's `strconv.ParseInt(s, 0, 64)` does (prefixes
/// `0x`, `0o`, `0b`, a leading `0` for octal, and underscores).
fn parse_go_int(text: &str) -> Option<i64> {
    let (neg, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = body.to_ascii_lowercase();
    let (radix, digits) = if let Some(d) = lower.strip_prefix("0x") {
        (16, d)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (8, d)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (2, d)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    let digits = digits.replace('_', "");
    let mag = u64::from_str_radix(&digits, radix).ok()?;
    if neg {
        0i64.checked_sub_unsigned(mag)
    } else {
        i64::try_from(mag).ok()
    }
}

#[cfg(test)]
mod tests;
