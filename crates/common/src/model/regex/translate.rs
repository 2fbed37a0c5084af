//! Rewrites a pattern in Go's RE2 syntax into the syntax of the `regex` crate, so that it
//! matches exactly what Go's `regexp` package would match.
//!
//! The two dialects agree on most of the grammar. The rewrite handles where they part:
//! Go's Perl classes (`\d \w \s`) and word boundaries are ASCII-only, Go has no nested or
//! set-operation classes (`[[a]` and `[a&&b]` are plain characters), treats a `{` that does
//! not start a valid repetition as a literal, knows `\Q…\E`, caps repetition counts at 1000,
//! and rejects escapes and flags that only Rust understands (`\<`, `\e`, `(?x)`).

use super::RegexError;

/// Go's limit on `{n,m}` counts (`syntax.maxRepeat` in RE2 terms).
const MAX_REPEAT: u32 = 1000;

const DIGIT: &str = "0-9";
const WORD: &str = "0-9A-Za-z_";
const SPACE: &str = r"\t\n\x0C\r ";

/// Translates a Go pattern into an equivalent pattern for the `regex` crate.
pub fn to_rust_syntax(pattern: &str) -> Result<String, RegexError> {
    Translator {
        pattern,
        out: String::with_capacity(pattern.len() + 8),
    }
    .run()
}

struct Translator<'a> {
    pattern: &'a str,
    out: String,
}

impl Translator<'_> {
    fn err(&self, reason: impl Into<String>) -> RegexError {
        RegexError::new(self.pattern, reason)
    }

    fn run(mut self) -> Result<String, RegexError> {
        let p = self.pattern;
        let mut i = 0;
        // Where the last repetition operator started, and whether its lazy `?` may follow.
        let mut last_repeat: Option<(usize, bool)> = None;
        while let Some(c) = p[i..].chars().next() {
            let mut repeat = false;
            let len = match c {
                '\\' => self.escape_at(i, false)?,
                '[' => self.class(i)? - i,
                '*' | '+' | '?' => {
                    repeat = true;
                    1
                }
                '{' => match parse_repeat(&p[i..]) {
                    Some((min, max, len)) => {
                        if min > MAX_REPEAT || max.is_some_and(|m| m > MAX_REPEAT || m < min) {
                            return Err(
                                self.err(format!("invalid repeat count: `{}`", &p[i..i + len]))
                            );
                        }
                        repeat = true;
                        len
                    }
                    None => {
                        self.out.push_str(r"\{");
                        1
                    }
                },
                '}' => {
                    self.out.push_str(r"\}");
                    1
                }
                '(' if p[i..].starts_with("(?") => {
                    self.check_group(&p[i + 2..])?;
                    self.out.push_str("(?");
                    2
                }
                _ => {
                    self.out.push(c);
                    c.len_utf8()
                }
            };
            last_repeat = match (repeat, last_repeat) {
                (false, _) => None,
                (true, Some((start, true))) if c == '?' => Some((start, false)),
                // Go, like Perl, refuses stacked operators such as `a**` or `a{2}{3}`.
                (true, Some((start, _))) => {
                    return Err(self.err(format!(
                        "invalid nested repetition operator: `{}`",
                        &p[start..i + len]
                    )));
                }
                (true, None) => Some((i, true)),
            };
            if repeat {
                self.out.push_str(&p[i..i + len]);
            }
            i += len;
        }
        Ok(self.out)
    }

    /// Translates the escape starting with the backslash at byte `i`; returns its length.
    fn escape_at(&mut self, i: usize, in_class: bool) -> Result<usize, RegexError> {
        let rest = &self.pattern[i + 1..];
        let Some(e) = rest.chars().next() else {
            return Err(self.err("trailing backslash at end of expression"));
        };
        let after = &rest[e.len_utf8()..];
        if e == 'Q' && !in_class {
            let (quoted, consumed) = match after.find(r"\E") {
                Some(end) => (&after[..end], end + 2),
                None => (after, after.len()),
            };
            self.out.push_str(&regex_syntax::escape(quoted));
            return Ok(2 + consumed);
        }
        if let Some(len) = unicode_class_name(after, e) {
            // Go negates with `\p{^Greek}`, Rust only with `\P{Greek}`.
            match after[1..len].strip_prefix('^') {
                Some(name) => {
                    let flipped = if e == 'p' { 'P' } else { 'p' };
                    self.out.push_str(&format!("\\{flipped}{{{name}"));
                }
                None => self.out.push_str(&self.pattern[i..i + 2 + len]),
            }
            return Ok(2 + len);
        }
        if matches!(e, '1'..='7') && !after.starts_with(|c: char| matches!(c, '0'..='7')) {
            // A lone digit would be a backreference, which RE2 does not have.
            return Err(self.err(format!("invalid escape sequence: `\\{e}`")));
        }
        self.escape(e, in_class)?;
        Ok(1 + e.len_utf8())
    }

    /// Rejects the group syntax Go does not know; `(?P<n>`, `(?<n>`, `(?:` and the
    /// `imsU` flags are common to both dialects.
    fn check_group(&self, rest: &str) -> Result<(), RegexError> {
        if rest.starts_with("P<") || rest.starts_with('<') {
            return Ok(());
        }
        let flags_end = rest.find([':', ')']).unwrap_or(rest.len());
        if rest[..flags_end]
            .chars()
            .all(|f| matches!(f, 'i' | 'm' | 's' | 'U' | '-'))
            && flags_end < rest.len()
        {
            return Ok(());
        }
        Err(self.err(format!(
            "invalid or unsupported Perl syntax: `(?{}`",
            rest.chars().next().map(String::from).unwrap_or_default()
        )))
    }

    /// Emits the translation of the escape `\e` outside (`in_class == false`) or inside a
    /// bracketed class.
    fn escape(&mut self, e: char, in_class: bool) -> Result<(), RegexError> {
        let perl = |class: &str, negated: bool| match (in_class, negated) {
            (true, false) => class.to_owned(),
            (_, true) => format!("[^{class}]"),
            (false, false) => format!("[{class}]"),
        };
        let text = match e {
            'd' | 'D' => perl(DIGIT, e == 'D'),
            'w' | 'W' => perl(WORD, e == 'W'),
            's' | 'S' => perl(SPACE, e == 'S'),
            'b' | 'B' | 'A' | 'z' if in_class => {
                return Err(self.err(format!("invalid escape sequence: `\\{e}`")));
            }
            'b' => r"(?-u:\b)".to_owned(),
            'B' => r"(?-u:\B)".to_owned(),
            'A' | 'z' | 'a' | 'f' | 't' | 'n' | 'r' | 'v' | 'x' | 'p' | 'P' => format!("\\{e}"),
            '0'..='7' => format!("\\{e}"),
            c if c.is_ascii() && !c.is_ascii_alphanumeric() => {
                // Go takes any escaped ASCII punctuation literally; Rust gives some of them
                // (`\<`, `\>`) a meaning, so escape only what is special to Rust.
                if regex_syntax::is_meta_character(c) || (in_class && matches!(c, '&' | '~')) {
                    format!("\\{c}")
                } else if c.is_ascii_whitespace() || c == '#' {
                    format!("\\x{:02X}", c as u32)
                } else {
                    c.to_string()
                }
            }
            _ => return Err(self.err(format!("invalid escape sequence: `\\{e}`"))),
        };
        self.out.push_str(&text);
        Ok(())
    }

    /// Translates the class starting at byte `start` (a `[`); returns the byte offset just
    /// past its closing `]`.
    fn class(&mut self, start: usize) -> Result<usize, RegexError> {
        let bytes = self.pattern.as_bytes();
        let mut i = start + 1;
        self.out.push('[');
        if bytes.get(i) == Some(&b'^') {
            self.out.push('^');
            i += 1;
        }
        let first = i;
        let mut prev_dash = false;
        loop {
            let Some(c) = self.pattern[i..].chars().next() else {
                return Err(self.err(format!("missing closing ]: `{}`", &self.pattern[start..])));
            };
            let mut dash = false;
            match c {
                ']' if i > first => {
                    self.out.push(']');
                    return Ok(i + 1);
                }
                '[' if self.pattern[i..].starts_with("[:") => {
                    match self.pattern[i + 2..].find(":]") {
                        Some(end) => {
                            let name = &self.pattern[i..i + 2 + end + 2];
                            self.out.push_str(name);
                            i += name.len();
                            continue;
                        }
                        None => self.out.push_str(r"\["),
                    }
                }
                '\\' => {
                    i += self.escape_at(i, true)?;
                    continue;
                }
                '[' | ']' | '&' | '~' => {
                    self.out.push('\\');
                    self.out.push(c);
                }
                '-' if prev_dash => self.out.push_str(r"\-"),
                '-' => {
                    self.out.push('-');
                    dash = true;
                }
                _ => self.out.push(c),
            }
            prev_dash = dash;
            i += c.len_utf8();
        }
    }
}

/// For `\p{Name}` / `\P{Name}`: the length of `{Name}` in `rest` (what follows the `p`).
fn unicode_class_name(rest: &str, escape: char) -> Option<usize> {
    if !matches!(escape, 'p' | 'P') || !rest.starts_with('{') {
        return None;
    }
    rest.find('}').map(|end| end + 1)
}

/// Parses `{n}`, `{n,}` or `{n,m}` at the start of `s`: `(n, m, length)`. Anything else is
/// not a repetition in Go and is matched literally.
fn parse_repeat(s: &str) -> Option<(u32, Option<u32>, usize)> {
    let close = s.find('}')?;
    let body = &s[1..close];
    let number = |t: &str| -> Option<u32> {
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // Counts beyond the limit only need to be reported as too large.
        Some(t.parse().unwrap_or(u32::MAX))
    };
    let (min, max) = match body.split_once(',') {
        None => {
            let n = number(body)?;
            (n, Some(n))
        }
        Some((lo, "")) => (number(lo)?, None),
        Some((lo, hi)) => (number(lo)?, Some(number(hi)?)),
    };
    Some((min, max, close + 1))
}
