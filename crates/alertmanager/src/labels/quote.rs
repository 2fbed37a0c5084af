//! Go's `strconv.Quote` / `strconv.Unquote` for double-quoted strings, which upstream uses for
//! quoted matcher names and values.

/// `s` in double quotes, escaped as Go's `strconv.Quote`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    // Writing to a String cannot fail.
    let _ = pm_common::model::write_go_quoted(&mut out, s);
    out
}

/// Undoes Go's double-quoted string syntax; `None` for anything `strconv.Unquote` refuses
/// (a missing quote, an unknown escape, a raw newline, a surrogate code point) and for
/// escaped bytes that do not make UTF-8 (label names and values are text).
pub fn go_unquote(quoted: &str) -> Option<String> {
    let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
    String::from_utf8(pm_common::model::go_unescape(inner, '"')?).ok()
}
