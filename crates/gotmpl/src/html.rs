//! HTML-escaping output (the subset of Go's `html/template` that notification templates need).
//!
//! Go's `html/template` analyses the template statically and rewrites each action's pipeline
//! with escapers for its context. Here the context is tracked dynamically instead: every byte
//! written passes through an HTML tokenizer state machine, and each printed value is escaped
//! for the state the output is in at that moment. For templates whose context does not depend
//! on data (all that Go accepts) both give the same contexts; the crate docs list the gaps.

use crate::escape::{self, FILTERED};
use crate::fmt;
use crate::value::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Delim {
    Double,
    Single,
    /// Unquoted: ends at whitespace or `>`.
    Space,
}

/// Position inside a URL attribute value, which decides how a value is escaped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum UrlPart {
    /// Nothing written yet: the value could supply the scheme.
    Start,
    /// Scheme, host or path.
    PreQuery,
    /// After `?` or `#`.
    QueryOrFragment,
}

/// Elements whose content is not parsed as HTML.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Special {
    /// `<script>`, `<style>`: raw text.
    Raw(&'static str),
    /// `<title>`, `<textarea>`: text with entities but no tags.
    RcData(&'static str),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Text,
    /// Inside a tag, between attributes.
    Tag,
    AttrName,
    AfterName,
    BeforeValue,
    Attr {
        delim: Delim,
        url: Option<UrlPart>,
    },
    Comment,
    Special(Special),
}

/// Output buffer that knows the HTML context of its end.
#[derive(Debug)]
pub(crate) struct HtmlWriter {
    out: String,
    state: State,
    /// Set while inside the start tag of a special element.
    pending: Option<Special>,
    attr_name: String,
    attr_is_url: bool,
}

impl HtmlWriter {
    pub(crate) fn new() -> Self {
        Self {
            out: String::new(),
            state: State::Text,
            pending: None,
            attr_name: String::new(),
            attr_is_url: false,
        }
    }

    pub(crate) fn into_string(self) -> String {
        self.out
    }

    /// Writes template text. HTML comments in it are dropped, as Go does.
    pub(crate) fn text(&mut self, s: &str) {
        self.feed(s, true);
    }

    /// Writes a value printed by an action, escaped for the current context. `url_escaped`
    /// says the pipeline already ended in `urlquery`, which then replaces the URL escaping of
    /// a URL attribute (Go merges a trailing predefined escaper the same way).
    pub(crate) fn value(&mut self, v: &Value, url_escaped: bool) {
        let (s, trusted) = match v {
            Value::Nil => (String::new(), false),
            Value::Html(h) => (h.to_string(), true),
            v => (fmt::to_v(v), false),
        };
        let escaped = match self.state {
            State::Text => {
                if trusted {
                    s
                } else {
                    escape::html_context_escape(&s)
                }
            }
            State::Special(Special::RcData(_)) => {
                if trusted {
                    escape::html_norm_escape(&s)
                } else {
                    escape::html_context_escape(&s)
                }
            }
            State::Special(Special::Raw(_)) => escape::html_context_escape(&s),
            State::Comment => String::new(),
            State::Tag | State::AttrName | State::AfterName => {
                escape::attr_name_filter(&s).to_owned()
            }
            State::BeforeValue => {
                self.state = State::Attr {
                    delim: Delim::Space,
                    url: self.attr_is_url.then_some(UrlPart::Start),
                };
                return self.value(v, url_escaped);
            }
            State::Attr { delim, url } => {
                let s = match url {
                    Some(_) if url_escaped => s,
                    Some(UrlPart::Start) => match escape::url_filter(&s) {
                        Some(ok) => escape::url_escape(ok, true),
                        None => FILTERED.to_owned(),
                    },
                    Some(UrlPart::PreQuery) => escape::url_escape(&s, true),
                    Some(UrlPart::QueryOrFragment) => escape::url_escape(&s, false),
                    None => s,
                };
                match (delim, trusted && url.is_none()) {
                    (Delim::Space, _) => escape::html_nospace_escape(&s),
                    (_, true) => escape::html_normalize(&s),
                    (_, false) => escape::html_context_escape(&s),
                }
            }
        };
        self.feed(&escaped, false);
    }

    fn feed(&mut self, s: &str, strip_comments: bool) {
        let mut rest = s;
        while !rest.is_empty() {
            let used = self.step(rest, strip_comments);
            rest = &rest[used..];
        }
    }

    /// Consumes a prefix of `s` in the current state, writing what should be output, and
    /// returns its length (always at least one character).
    fn step(&mut self, s: &str, strip: bool) -> usize {
        let bytes = s.as_bytes();
        match self.state {
            State::Text => {
                let Some(lt) = s.find('<') else {
                    self.out.push_str(s);
                    return s.len();
                };
                let after = &s[lt + 1..];
                if after.starts_with("!--") {
                    self.out.push_str(&s[..lt]);
                    if !strip {
                        self.out.push_str("<!--");
                    }
                    self.state = State::Comment;
                    return lt + 4;
                }
                let (end_tag, name_start) = match after.strip_prefix('/') {
                    Some(n) => (true, n),
                    None => (false, after),
                };
                let name_len = name_start
                    .bytes()
                    .take_while(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b':')
                    .count();
                if name_len == 0 || !name_start.as_bytes()[0].is_ascii_alphabetic() {
                    self.out.push_str(&s[..=lt]);
                    return lt + 1;
                }
                let consumed = lt + 1 + usize::from(end_tag) + name_len;
                self.out.push_str(&s[..consumed]);
                self.pending = if end_tag {
                    None
                } else {
                    special(&name_start[..name_len])
                };
                self.state = State::Tag;
                consumed
            }
            State::Comment => match s.find("-->") {
                Some(end) => {
                    if !strip {
                        self.out.push_str(&s[..end + 3]);
                    }
                    self.state = State::Text;
                    end + 3
                }
                None => {
                    if !strip {
                        self.out.push_str(s);
                    }
                    s.len()
                }
            },
            State::Special(special) => {
                let name = match special {
                    Special::Raw(n) | Special::RcData(n) => n,
                };
                let end = find_end_tag(s, name);
                self.out.push_str(&s[..end]);
                if end < s.len() {
                    self.state = State::Text;
                }
                end
            }
            State::Tag | State::AfterName => {
                let b = bytes[0];
                match b {
                    b'>' => self.close_tag(),
                    b'=' if self.state == State::AfterName => self.state = State::BeforeValue,
                    b if b.is_ascii_whitespace() || b == b'/' => {}
                    _ => {
                        self.attr_name.clear();
                        self.state = State::AttrName;
                        return self.step(s, strip);
                    }
                }
                self.out.push(b as char);
                1
            }
            State::AttrName => {
                let len = s
                    .bytes()
                    .take_while(|b| !b.is_ascii_whitespace() && !matches!(b, b'=' | b'>' | b'/'))
                    .count();
                self.attr_name.push_str(&s[..len]);
                self.out.push_str(&s[..len]);
                if len < s.len() {
                    self.attr_is_url = escape::attr_is_url(&self.attr_name.to_ascii_lowercase());
                    self.state = State::AfterName;
                }
                // Progress is guaranteed: either text was consumed or the state changed.
                len
            }
            State::BeforeValue => {
                let b = bytes[0];
                let url = self.attr_is_url.then_some(UrlPart::Start);
                match b {
                    b'"' => {
                        self.state = State::Attr {
                            delim: Delim::Double,
                            url,
                        }
                    }
                    b'\'' => {
                        self.state = State::Attr {
                            delim: Delim::Single,
                            url,
                        }
                    }
                    b'>' => self.close_tag(),
                    b if b.is_ascii_whitespace() => {}
                    _ => {
                        self.state = State::Attr {
                            delim: Delim::Space,
                            url,
                        };
                        return self.step(s, strip);
                    }
                }
                self.out.push(b as char);
                1
            }
            State::Attr { delim, url } => {
                let end = match delim {
                    Delim::Double => s.find('"'),
                    Delim::Single => s.find('\''),
                    Delim::Space => s.find(|c: char| c.is_ascii_whitespace() || c == '>'),
                };
                let content = &s[..end.unwrap_or(s.len())];
                self.out.push_str(content);
                let url = url.map(|part| match part {
                    _ if content.contains(['?', '#']) => UrlPart::QueryOrFragment,
                    UrlPart::Start if !content.is_empty() => UrlPart::PreQuery,
                    part => part,
                });
                match end {
                    None => {
                        self.state = State::Attr { delim, url };
                        s.len()
                    }
                    Some(e) if delim == Delim::Space => {
                        self.state = State::Tag;
                        e
                    }
                    Some(e) => {
                        self.out.push_str(&s[e..=e]);
                        self.state = State::Tag;
                        e + 1
                    }
                }
            }
        }
    }

    fn close_tag(&mut self) {
        self.state = match self.pending.take() {
            Some(special) => State::Special(special),
            None => State::Text,
        };
    }
}

fn special(tag: &str) -> Option<Special> {
    match tag.to_ascii_lowercase().as_str() {
        "script" => Some(Special::Raw("script")),
        "style" => Some(Special::Raw("style")),
        "title" => Some(Special::RcData("title")),
        "textarea" => Some(Special::RcData("textarea")),
        _ => None,
    }
}

/// Offset of `</name` (case-insensitive) followed by a tag-ending character, or `s.len()`.
fn find_end_tag(s: &str, name: &str) -> usize {
    let lower = s.to_ascii_lowercase();
    let needle = format!("</{name}");
    let mut from = 0;
    while let Some(i) = lower[from..].find(&needle) {
        let at = from + i;
        let next = lower.as_bytes().get(at + needle.len());
        if next.is_none_or(|b| b.is_ascii_whitespace() || matches!(b, b'>' | b'/')) {
            return at;
        }
        from = at + needle.len();
    }
    s.len()
}

#[cfg(test)]
mod tests;
