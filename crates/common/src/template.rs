//! Template functions that Prometheus's and Alertmanager's template sets both define, with the
//! same meaning in each, so the two daemons render user templates identically.
//!
//! Both daemons register [`register_shared`]; `title` differs between them (Prometheus keeps
//! the rest of each word as written, Alertmanager lower-cases it), so each registers it with
//! [`register_title`] and its own [`TitleRest`]. The helpers behind the functions
//! ([`to_float`], [`format_g4`], [`humanize_duration`], …) are public because the server's
//! other `humanize*` functions are built from them.

use pm_gotmpl::fmt::sprintf;
use pm_gotmpl::{FuncError, FuncMap, FuncResult, Function, Value, arg_str};
use regex::Regex;

use crate::model::to_rust_syntax;
use crate::relabel::template::{expand, go_lowercase, go_uppercase};

/// Registers `toUpper`, `toLower`, `match`, `reReplaceAll`, `safeHtml` and
/// `humanizeDuration`.
pub fn register_shared(map: &mut FuncMap) {
    map.insert("toUpper", string_fn(go_uppercase));
    map.insert("toLower", string_fn(go_lowercase));
    map.insert("match", Function::new(match_fn));
    map.insert("reReplaceAll", Function::new(re_replace_all_fn));
    map.insert(
        "safeHtml",
        Function::new(|args| {
            FuncError::check_arity(args, 1)?;
            Ok(Value::html(arg_str(args, 0)?))
        }),
    );
    map.insert(
        "humanizeDuration",
        Function::new(|args| {
            FuncError::check_arity(args, 1)?;
            Ok(Value::from(humanize_duration(to_float(&args[0])?)))
        }),
    );
}

/// Registers `title` with the given treatment of the letters after each word's first.
pub fn register_title(map: &mut FuncMap, rest: TitleRest) {
    map.insert("title", string_fn(move |s| title(s, rest)));
}

fn string_fn(f: impl Fn(&str) -> String + Send + Sync + 'static) -> Function {
    Function::new(move |args| {
        FuncError::check_arity(args, 1)?;
        Ok(Value::from(f(arg_str(args, 0)?)))
    })
}

/// What `title` does with the letters of a word after its first cased letter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TitleRest {
    /// Left as written (Prometheus: `cases.Title(…, cases.NoLower)`): `aa bb CC` → `Aa Bb CC`.
    Keep,
    /// Lower-cased (Alertmanager: `cases.Title(…)`): `aa bb CC` → `Aa Bb Cc`.
    Lower,
}

/// Title-cases `s` as Go's `golang.org/x/text/cases` does for American English: the first
/// cased letter after a word break is title-cased. Letters, digits, marks, `_` and single
/// word-internal punctuation (`'`, `.`, `:`, …) do not break a word, two such punctuation
/// marks in a row do; so `foo.bar` gives `Foo.bar` and `3rd` gives `3Rd`, as in Go.
pub fn title(s: &str, rest: TitleRest) -> String {
    let mut out = String::with_capacity(s.len());
    let mut mid_word = false;
    let mut prev_mid = false;
    for c in s.chars() {
        let is_mid = is_mid_word_punct(c);
        if prev_mid && is_mid {
            mid_word = false;
        }
        if is_cased(c) {
            if !mid_word {
                push_title(&mut out, c);
                mid_word = true;
            } else if rest == TitleRest::Lower {
                out.extend(c.to_lowercase());
            } else {
                out.push(c);
            }
        } else {
            out.push(c);
            if !is_mid && is_word_break(c) {
                mid_word = false;
            }
        }
        prev_mid = is_mid;
    }
    out
}

fn is_cased(c: char) -> bool {
    c.is_lowercase() || c.is_uppercase() || title_digraph(c).is_some()
}

/// Characters that may sit inside a word (Unicode word-break classes MidLetter, MidNumLet
/// and Single_Quote).
fn is_mid_word_punct(c: char) -> bool {
    matches!(
        c,
        '\'' | '.'
            | ':'
            | '·'
            | '\u{0387}'
            | '\u{05F4}'
            | '\u{2018}'
            | '\u{2019}'
            | '\u{2024}'
            | '\u{2027}'
            | '\u{FE13}'
            | '\u{FE52}'
            | '\u{FE55}'
            | '\u{FF07}'
            | '\u{FF0E}'
            | '\u{FF1A}'
    )
}

fn is_word_break(c: char) -> bool {
    !(c.is_alphanumeric() || c == '_' || is_combining_mark(c))
}

fn is_combining_mark(c: char) -> bool {
    matches!(
        u32::from(c),
        0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F
    )
}

/// The four Latin digraphs whose title case differs from their upper case.
fn title_digraph(c: char) -> Option<char> {
    match c {
        'Ǆ' | 'ǅ' | 'ǆ' => Some('ǅ'),
        'Ǉ' | 'ǈ' | 'ǉ' => Some('ǈ'),
        'Ǌ' | 'ǋ' | 'ǌ' => Some('ǋ'),
        'Ǳ' | 'ǲ' | 'ǳ' => Some('ǲ'),
        _ => None,
    }
}

/// Title case with the full mapping: the upper case of the first character a letter expands
/// to, then the rest in lower case (`ß` → `Ss`, `ﬁ` → `Fi`).
fn push_title(out: &mut String, c: char) {
    if let Some(t) = title_digraph(c) {
        out.push(t);
        return;
    }
    let mut upper = c.to_uppercase();
    if let Some(first) = upper.next() {
        out.push(first);
    }
    for more in upper {
        out.extend(more.to_lowercase());
    }
}

/// `match PATTERN TEXT`: Go's `regexp.MatchString`, unanchored.
fn match_fn(args: &[Value]) -> FuncResult {
    FuncError::check_arity(args, 2)?;
    let re = compile(arg_str(args, 0)?)?;
    Ok(Value::Bool(re.is_match(arg_str(args, 1)?)))
}

/// `reReplaceAll PATTERN REPLACEMENT TEXT`: Go's `Regexp.ReplaceAllString`.
fn re_replace_all_fn(args: &[Value]) -> FuncResult {
    FuncError::check_arity(args, 3)?;
    let pattern = arg_str(args, 0)?;
    // Upstream compiles with `regexp.MustCompile`; the template engine turns the panic
    // into this error.
    let re = compile(pattern).map_err(|e| {
        let mut quoted = String::new();
        if pattern.contains('`') || pattern.chars().any(|c| c.is_control() && c != '\t') {
            crate::model::write_go_quoted(&mut quoted, pattern).expect("writing to a String");
        } else {
            quoted = format!("`{pattern}`");
        }
        FuncError::Failed(format!("regexp: Compile({quoted}): {e}"))
    })?;
    Ok(Value::from(replace_all(
        &re,
        arg_str(args, 2)?,
        arg_str(args, 1)?,
    )))
}

/// Compiles a Go regular expression without anchoring it, as Go's `regexp` package does.
fn compile(pattern: &str) -> Result<Regex, FuncError> {
    let translated = to_rust_syntax(pattern).map_err(|e| FuncError::Failed(e.to_string()))?;
    regex::RegexBuilder::new(&translated)
        .octal(true)
        .build()
        .map_err(|e| {
            let reason = e.to_string();
            let reason = reason
                .lines()
                .rev()
                .find(|l| l.starts_with("error:"))
                .map_or(reason.as_str(), |l| l.trim_start_matches("error:").trim());
            FuncError::Failed(format!("error parsing regexp: {reason}: `{pattern}`"))
        })
}

/// Replaces every match of `re` in `text` by `template` with `$1`/`${name}` expanded, walking
/// matches as Go does: an empty match right after a previous match is not replaced.
pub fn replace_all(re: &Regex, text: &str, template: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut locs = re.capture_locations();
    let mut search = 0;
    let mut last_end = 0;
    while search <= text.len() {
        let Some(m) = re.captures_read_at(&mut locs, text, search) else {
            break;
        };
        out.push_str(&text[last_end..m.start()]);
        if m.end() > last_end || m.start() == 0 {
            expand(template, re, text, &locs, &mut out);
        }
        last_end = m.end();
        let width = text[search..].chars().next().map_or(1, char::len_utf8);
        search = if search + width > m.end() {
            search + width
        } else {
            m.end()
        };
    }
    if last_end < text.len() {
        out.push_str(&text[last_end..]);
    }
    out
}

/// Go's `templates.ConvertToFloat`: numbers as they are, strings through `strconv.ParseFloat`.
pub fn to_float(v: &Value) -> Result<f64, FuncError> {
    match v {
        Value::Float(x) => Ok(*x),
        Value::Int(i) => Ok(*i as f64),
        Value::String(s) => parse_go_float(s).map_err(FuncError::Failed),
        other => Err(FuncError::Failed(format!(
            "can't convert {} to float",
            other.type_name()
        ))),
    }
}

/// Go's `strconv.ParseFloat(s, 64)` for decimal input, with its error texts.
pub fn parse_go_float(s: &str) -> Result<f64, String> {
    let err = |why: &str| {
        let mut quoted = String::new();
        crate::model::write_go_quoted(&mut quoted, s).expect("writing to a String");
        format!("strconv.ParseFloat: parsing {quoted}: {why}")
    };
    // Rust accepts forms Go rejects (`infinity` with trailing junk is rejected by both, but
    // Rust takes `+nan`); keep to what both agree on.
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    if unsigned.eq_ignore_ascii_case("nan") && unsigned.len() != s.len() {
        return Err(err("invalid syntax"));
    }
    let v: f64 = s.parse().map_err(|_| err("invalid syntax"))?;
    let named_inf =
        unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("infinity");
    if v.is_infinite() && !named_inf {
        return Err(err("value out of range"));
    }
    Ok(v)
}

/// Go's `fmt.Sprintf("%.4g", v)`.
pub fn format_g4(v: f64) -> String {
    sprintf("%.4g", &[Value::Float(v)])
}

/// Scales `v` (|v| < 1) up by thousands until it is at least 1, returning the SI prefix used.
pub fn small_prefix(mut v: f64) -> (f64, &'static str) {
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    (v, prefix)
}

/// `humanizeDuration`: seconds as `1d 2h 3m 4s`, or with four significant digits and an SI
/// prefix below a minute.
pub fn humanize_duration(v: f64) -> String {
    if v.is_nan() || v.is_infinite() {
        return format_g4(v);
    }
    if v == 0.0 {
        return format!("{}s", format_g4(v));
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        let v = v.abs();
        // Go converts with truncation; the float is at least 1 here.
        let total = v as i64;
        let (seconds, minutes, hours, days) = (
            total % 60,
            total / 60 % 60,
            total / 3600 % 24,
            total / 86_400,
        );
        return if days != 0 {
            format!("{sign}{days}d {hours}h {minutes}m {seconds}s")
        } else if hours != 0 {
            format!("{sign}{hours}h {minutes}m {seconds}s")
        } else if minutes != 0 {
            format!("{sign}{minutes}m {seconds}s")
        } else {
            format!("{sign}{}s", format_g4(v))
        };
    }
    let (v, prefix) = small_prefix(v);
    format!("{}{prefix}s", format_g4(v))
}

pub mod time;

#[cfg(test)]
mod tests;
