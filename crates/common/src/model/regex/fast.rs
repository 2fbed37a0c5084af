//! [`FastRegexMatcher`]: regex matching that avoids the regex engine for common shapes.
//!
//! A selector's regex runs once per series it touches, often millions of times, and most
//! real patterns are not really regular: `foo|bar|baz`, `prefix.*`, `.*part.*`, `(?i)name`,
//! `.+`. The pattern is parsed once into `regex_syntax`'s HIR (after the Go rewrite, so the
//! shape seen is the one Go would match) and classified into a [`Strategy`]; anything not
//! recognised falls back to the compiled, anchored [`GoRegex`].

use std::collections::HashSet;

use memchr::memmem::Finder;
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Class, Hir, HirKind, Look};

use super::{GoRegex, RegexError, to_rust_syntax};

/// The largest alternation expanded into a set of values, as upstream's `maxSetMatches`:
/// beyond it, a postings lookup per value stops paying off.
const MAX_SET_MATCHES: usize = 256;
/// Up to this many values a linear scan beats hashing.
const LINEAR_SET_MAX: usize = 16;

/// A fully anchored Go regex with shortcuts for the common pattern shapes.
#[derive(Clone, Debug)]
pub struct FastRegexMatcher {
    regex: GoRegex,
    strategy: Strategy,
    /// The exact values the regex matches, when it matches finitely many.
    set: Option<Box<[String]>>,
}

#[derive(Clone, Debug)]
enum Strategy {
    /// One literal value.
    Equal(Box<str>),
    /// `(?i)foo`: one ASCII-case-insensitive literal; `ascii_only` as in [`Glob`].
    EqualFold { value: Box<str>, ascii_only: bool },
    /// A small finite set of values, scanned linearly (`set`).
    SmallSet,
    /// A larger finite set of values.
    HashedSet(HashSet<Box<str>, foldhash::fast::RandomState>),
    /// `.*`
    Any,
    /// `.+`
    NonEmpty,
    /// `foo.*`, `foo.+`: a literal prefix, then at least `min_rest` more characters.
    Prefix { prefix: Box<str>, min_rest: usize },
    /// `.*foo`, `.+foo`.
    Suffix { suffix: Box<str>, min_rest: usize },
    /// `.*foo.*`
    Contains(Box<Finder<'static>>),
    /// Any other sequence of literals and wildcards, e.g. `(?i)foo`, `a.+b.*c`.
    Glob(Glob),
    /// An alternation of such sequences, e.g. `foo.*|.*bar`.
    AnyOf(Box<[Glob]>),
    /// The regex engine, after an optional cheap rejection on a literal prefix.
    Regex { prefix: Option<Box<str>> },
}

impl FastRegexMatcher {
    /// Compiles `pattern` with Go semantics, fully anchored, and picks the fastest strategy.
    pub fn new(pattern: &str) -> Result<Self, RegexError> {
        let translated = to_rust_syntax(pattern)?;
        let regex = GoRegex::from_translated(pattern, &translated)?;
        // Patterns that only parse thanks to the textual anchoring (`a)|(b`) get no shortcut.
        let hir = regex_syntax::ParserBuilder::new()
            .dot_matches_new_line(true)
            .octal(true)
            .build()
            .parse(&translated)
            .ok()
            .map(strip_anchors);
        let (strategy, set) = match hir {
            Some(hir) => classify(&hir),
            None => (Strategy::Regex { prefix: None }, None),
        };
        Ok(FastRegexMatcher {
            regex,
            strategy,
            set,
        })
    }

    /// Whether the whole of `s` matches.
    #[inline]
    pub fn is_match(&self, s: &str) -> bool {
        match &self.strategy {
            Strategy::Equal(v) => s == &**v,
            Strategy::EqualFold { value, ascii_only } => {
                if *ascii_only && !s.is_ascii() {
                    self.regex.is_match(s)
                } else {
                    s.as_bytes().eq_ignore_ascii_case(value.as_bytes())
                }
            }
            Strategy::SmallSet => self
                .set
                .as_deref()
                .is_some_and(|set| set.iter().any(|v| v == s)),
            Strategy::HashedSet(set) => set.contains(s),
            Strategy::Any => true,
            Strategy::NonEmpty => !s.is_empty(),
            Strategy::Prefix { prefix, min_rest } => {
                s.starts_with(&**prefix) && has_chars(&s[prefix.len()..], *min_rest)
            }
            Strategy::Suffix { suffix, min_rest } => {
                s.ends_with(&**suffix) && has_chars(&s[..s.len() - suffix.len()], *min_rest)
            }
            Strategy::Contains(finder) => finder.find(s.as_bytes()).is_some(),
            Strategy::Glob(glob) => match glob.matches(s) {
                Some(m) => m,
                None => self.regex.is_match(s),
            },
            Strategy::AnyOf(globs) => {
                let mut undecided = false;
                for glob in globs.iter() {
                    match glob.matches(s) {
                        Some(true) => return true,
                        Some(false) => {}
                        None => undecided = true,
                    }
                }
                undecided && self.regex.is_match(s)
            }
            Strategy::Regex { prefix } => {
                prefix.as_deref().is_none_or(|p| s.starts_with(p)) && self.regex.is_match(s)
            }
        }
    }

    /// The values the regex matches when they are few and known (`a|b|c`, `foo`,
    /// `prod-[12]`): the TSDB looks them up in the postings index instead of scanning all
    /// values of the label. Unlike upstream, a case-insensitive alternation such as
    /// `(?i)a|b` also yields its (exact) case variants.
    pub fn set_matches(&self) -> Option<&[String]> {
        self.set.as_deref()
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        self.regex.as_str()
    }

    /// The underlying regex, for capture groups.
    pub fn regex(&self) -> &GoRegex {
        &self.regex
    }

    /// The strategy's name, for tests that check which shortcut a pattern takes.
    #[cfg(test)]
    pub(super) fn strategy_name(&self) -> &'static str {
        match self.strategy {
            Strategy::Equal(_) => "Equal",
            Strategy::EqualFold { .. } => "EqualFold",
            Strategy::SmallSet => "SmallSet",
            Strategy::HashedSet(_) => "HashedSet",
            Strategy::Any => "Any",
            Strategy::NonEmpty => "NonEmpty",
            Strategy::Prefix { .. } => "Prefix",
            Strategy::Suffix { .. } => "Suffix",
            Strategy::Contains(_) => "Contains",
            Strategy::Glob(_) => "Glob",
            Strategy::AnyOf(_) => "AnyOf",
            Strategy::Regex { .. } => "Regex",
        }
    }

    /// Whether matching avoids the regex engine, at least for some inputs.
    pub fn is_optimized(&self) -> bool {
        !matches!(self.strategy, Strategy::Regex { prefix: None })
    }
}

/// `^` at the very start and `$` at the very end of the pattern are no-ops once the whole
/// pattern is anchored; dropping them lets `^foo$` take the literal path.
fn strip_anchors(hir: Hir) -> Hir {
    match hir.kind() {
        HirKind::Look(Look::Start | Look::End) => Hir::empty(),
        HirKind::Concat(subs) => {
            let mut subs = subs.clone();
            if subs
                .first()
                .is_some_and(|h| *h.kind() == HirKind::Look(Look::Start))
            {
                subs.remove(0);
            }
            if subs
                .last()
                .is_some_and(|h| *h.kind() == HirKind::Look(Look::End))
            {
                subs.pop();
            }
            Hir::concat(subs)
        }
        _ => hir,
    }
}

fn classify(hir: &Hir) -> (Strategy, Option<Box<[String]>>) {
    if let Some(glob) = Glob::from_hir(hir) {
        return match glob.pieces.as_slice() {
            [] => (Strategy::Equal("".into()), Some(Box::new([String::new()]))),
            [Piece::Lit(lit)] if !lit.fold => (
                Strategy::Equal(lit.text.clone()),
                Some(Box::new([lit.text.to_string()])),
            ),
            [Piece::Lit(lit)] => (
                Strategy::EqualFold {
                    value: lit.text.clone(),
                    ascii_only: glob.ascii_only,
                },
                None,
            ),
            [Piece::Wild { min_chars: 0 }] => (Strategy::Any, None),
            [Piece::Wild { min_chars: 1 }] => (Strategy::NonEmpty, None),
            [Piece::Lit(lit), Piece::Wild { min_chars }] if !lit.fold => (
                Strategy::Prefix {
                    prefix: lit.text.clone(),
                    min_rest: *min_chars,
                },
                None,
            ),
            [Piece::Wild { min_chars }, Piece::Lit(lit)] if !lit.fold => (
                Strategy::Suffix {
                    suffix: lit.text.clone(),
                    min_rest: *min_chars,
                },
                None,
            ),
            [
                Piece::Wild { min_chars: 0 },
                Piece::Lit(lit),
                Piece::Wild { min_chars: 0 },
            ] if !lit.fold => (Strategy::Contains(Box::new(lit.finder.clone())), None),
            _ => (Strategy::Glob(glob), None),
        };
    }
    if let Some(values) = finite_values(hir) {
        let strategy = if values.len() <= LINEAR_SET_MAX {
            Strategy::SmallSet
        } else {
            Strategy::HashedSet(values.iter().map(|v| v.as_str().into()).collect())
        };
        return (strategy, Some(values.into_boxed_slice()));
    }
    if let HirKind::Alternation(alts) = hir.kind() {
        let globs: Option<Vec<Glob>> = alts.iter().map(Glob::from_hir).collect();
        if let Some(globs) = globs {
            return (Strategy::AnyOf(globs.into_boxed_slice()), None);
        }
    }
    let prefix = match hir.kind() {
        HirKind::Concat(subs) => subs.first().and_then(|h| match h.kind() {
            HirKind::Literal(lit) => std::str::from_utf8(&lit.0).ok().map(Box::from),
            _ => None,
        }),
        _ => None,
    };
    (Strategy::Regex { prefix }, None)
}

/// All strings the pattern matches, if they are finitely many (and few).
fn finite_values(hir: &Hir) -> Option<Vec<String>> {
    // The extractor treats assertions as empty strings, which is only sound without them.
    if !hir.properties().look_set().is_empty() {
        return None;
    }
    let seq = Extractor::new()
        .kind(ExtractKind::Prefix)
        .limit_class(MAX_SET_MATCHES)
        .limit_repeat(MAX_SET_MATCHES)
        .limit_literal_len(usize::MAX)
        .limit_total(MAX_SET_MATCHES)
        .extract(hir);
    if !seq.is_exact() {
        return None;
    }
    let mut values = seq
        .literals()?
        .iter()
        .map(|l| String::from_utf8(l.as_bytes().to_vec()).ok())
        .collect::<Option<Vec<_>>>()?;
    values.sort_unstable();
    values.dedup();
    (!values.is_empty() && values.len() <= MAX_SET_MATCHES).then_some(values)
}

/// A pattern made only of literals and "any string" wildcards, matched like a shell glob.
#[derive(Clone, Debug)]
struct Glob {
    pieces: Vec<Piece>,
    /// A case-insensitive literal holds `k` or `s`, whose fold sets include the Kelvin sign
    /// and the long s: byte-wise ASCII folding is exact only for ASCII input then.
    ascii_only: bool,
}

#[derive(Clone, Debug)]
enum Piece {
    Lit(Box<Lit>),
    /// Any string of at least `min_chars` characters (`.*`, `.+`, `.+.+`).
    Wild {
        min_chars: usize,
    },
}

#[derive(Clone, Debug)]
struct Lit {
    text: Box<str>,
    /// ASCII case-insensitive.
    fold: bool,
    finder: Finder<'static>,
}

impl Lit {
    fn new(text: String, fold: bool) -> Self {
        let finder = Finder::new(text.as_bytes()).into_owned();
        Lit {
            text: text.into_boxed_str(),
            fold,
            finder,
        }
    }

    fn at(&self, s: &[u8], pos: usize) -> bool {
        let t = self.text.as_bytes();
        s.len() >= pos + t.len() && {
            let window = &s[pos..pos + t.len()];
            if self.fold {
                window.eq_ignore_ascii_case(t)
            } else {
                window == t
            }
        }
    }

    fn find(&self, s: &[u8], from: usize) -> Option<usize> {
        if self.fold {
            (from..=s.len().checked_sub(self.text.len())?).find(|&i| self.at(s, i))
        } else {
            self.finder.find(&s[from..]).map(|i| i + from)
        }
    }
}

impl Glob {
    fn from_hir(hir: &Hir) -> Option<Glob> {
        let mut raw = Vec::new();
        flatten(hir, &mut raw)?;
        let mut pieces: Vec<Piece> = Vec::with_capacity(raw.len());
        for item in raw {
            match (pieces.last_mut(), item) {
                (Some(Piece::Wild { min_chars }), RawPiece::Wild(more)) => *min_chars += more,
                (Some(Piece::Lit(prev)), RawPiece::Lit(text, fold))
                    if prev.fold == fold || !has_letters(if fold { &prev.text } else { &text }) =>
                {
                    let merged = format!("{}{}", prev.text, text);
                    **prev = Lit::new(merged, prev.fold || fold);
                }
                (_, RawPiece::Lit(text, fold)) => {
                    pieces.push(Piece::Lit(Box::new(Lit::new(text, fold))))
                }
                (_, RawPiece::Wild(min_chars)) => pieces.push(Piece::Wild { min_chars }),
            }
        }
        let ascii_only = pieces
            .iter()
            .any(|p| matches!(p, Piece::Lit(lit) if lit.fold && lit.text.contains(['k', 's'])));
        Some(Glob { pieces, ascii_only })
    }

    /// `None` when this input has to go to the regex engine.
    fn matches(&self, s: &str) -> Option<bool> {
        if self.ascii_only && !s.is_ascii() {
            return None;
        }
        let b = s.as_bytes();
        let mut pos = 0;
        // The minimum length of a wildcard not yet anchored by a following literal.
        let mut gap: Option<usize> = None;
        let last = self.pieces.len().saturating_sub(1);
        for (i, piece) in self.pieces.iter().enumerate() {
            match piece {
                Piece::Wild { min_chars } => gap = Some(*min_chars),
                Piece::Lit(lit) => {
                    match gap.take() {
                        None => {
                            if !lit.at(b, pos) {
                                return Some(false);
                            }
                            pos += lit.text.len();
                        }
                        // The final literal can only sit at the very end.
                        Some(min) if i == last => {
                            let Some(start) = b.len().checked_sub(lit.text.len()) else {
                                return Some(false);
                            };
                            if start < pos || !lit.at(b, start) || !has_chars(&s[pos..start], min) {
                                return Some(false);
                            }
                            pos = b.len();
                        }
                        // Taking the leftmost occurrence leaves the most room for the rest.
                        Some(min) => {
                            let Some(from) = skip_chars(s, pos, min) else {
                                return Some(false);
                            };
                            let Some(at) = lit.find(b, from) else {
                                return Some(false);
                            };
                            pos = at + lit.text.len();
                        }
                    }
                }
            }
        }
        Some(match gap {
            Some(min) => has_chars(&s[pos..], min),
            None => pos == b.len(),
        })
    }
}

enum RawPiece {
    Lit(String, bool),
    Wild(usize),
}

/// Flattens `hir` into literals and wildcards; `None` if it contains anything else.
fn flatten(hir: &Hir, out: &mut Vec<RawPiece>) -> Option<()> {
    match hir.kind() {
        HirKind::Empty => {}
        HirKind::Literal(lit) => out.push(RawPiece::Lit(
            String::from_utf8(lit.0.to_vec()).ok()?,
            false,
        )),
        HirKind::Class(class) => {
            let c = ascii_fold_letter(class)?;
            out.push(RawPiece::Lit(c.to_string(), true));
        }
        HirKind::Capture(cap) => flatten(&cap.sub, out)?,
        HirKind::Concat(subs) => {
            for sub in subs {
                flatten(sub, out)?;
            }
        }
        HirKind::Repetition(rep) if rep.max.is_none() && rep.min <= 1 && is_any_char(&rep.sub) => {
            out.push(RawPiece::Wild(rep.min as usize));
        }
        HirKind::Repetition(_) | HirKind::Look(_) | HirKind::Alternation(_) => return None,
    }
    Some(())
}

fn is_any_char(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Class(Class::Unicode(c)) => {
            c.ranges().len() == 1
                && c.ranges()[0].start() == '\0'
                && c.ranges()[0].end() == char::MAX
        }
        _ => false,
    }
}

/// The lower-case ASCII letter whose case-fold set `class` is (`(?i)a` is `[Aa]`; `k` and
/// `s` fold also with the Kelvin sign and the long s).
fn ascii_fold_letter(class: &Class) -> Option<char> {
    let Class::Unicode(class) = class else {
        return None;
    };
    let ranges = class.ranges();
    if !(2..=3).contains(&ranges.len()) || ranges.iter().any(|r| r.start() != r.end()) {
        return None;
    }
    let (upper, lower) = (ranges[0].start(), ranges[1].start());
    if !upper.is_ascii_uppercase() || lower != upper.to_ascii_lowercase() {
        return None;
    }
    let extra_ok = match ranges.get(2).map(|r| r.start()) {
        None => true,
        Some('\u{17F}') => lower == 's',
        Some('\u{212A}') => lower == 'k',
        Some(_) => false,
    };
    extra_ok.then_some(lower)
}

fn has_letters(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_alphabetic())
}

fn has_chars(s: &str, min: usize) -> bool {
    min == 0 || (s.len() >= min && s.chars().nth(min - 1).is_some())
}

/// The byte offset `n` characters after `pos`, if there are that many.
fn skip_chars(s: &str, pos: usize, n: usize) -> Option<usize> {
    if n == 0 {
        return Some(pos);
    }
    s[pos..]
        .char_indices()
        .nth(n - 1)
        .map(|(i, c)| pos + i + c.len_utf8())
}
