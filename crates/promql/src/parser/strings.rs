//! Unquoting of PromQL string literals. Unlike Go's `strconv.Unquote`, single-quoted strings may
//! hold any number of characters.

/// Unquotes a literal where text is required (label names and values); bytes produced by `\x` or
/// octal escapes that do not form valid UTF-8 are replaced by U+FFFD.
pub(crate) fn unquote(s: &str) -> Result<String, &'static str> {
    let bytes = unquote_bytes(s)?;
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// Unquotes a `"…"`, `'…'` or `` `…` `` literal, resolving Go escape sequences in the first two.
/// Like Go strings, the result may hold bytes that are not valid UTF-8 (`"\xff"`).
pub(crate) fn unquote_bytes(s: &str) -> Result<Vec<u8>, &'static str> {
    let quote = s.chars().next().ok_or("invalid syntax")?;
    if s.len() < 2 || !s.ends_with(quote) {
        return Err("invalid syntax");
    }
    let body = &s[1..s.len() - 1];
    match quote {
        '`' => {
            if body.contains('`') {
                return Err("invalid syntax");
            }
            Ok(body.as_bytes().to_vec())
        }
        '"' | '\'' => pm_common::model::go_unescape(body, quote).ok_or("invalid syntax"),
        _ => Err("invalid syntax"),
    }
}

/// Displays a string as Go's `%q` does, for error messages.
pub(crate) struct GoQuoted<'a>(pub &'a str);

impl std::fmt::Display for GoQuoted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        pm_common::model::write_go_quoted(f, self.0)
    }
}

/// Writes bytes as Go's `strconv.Quote` does, invalid UTF-8 bytes as `\xNN`.
pub(crate) fn write_go_quoted_bytes(
    f: &mut impl std::fmt::Write,
    bytes: &[u8],
) -> std::fmt::Result {
    f.write_char('"')?;
    for chunk in bytes.utf8_chunks() {
        let quoted = {
            let mut s = String::new();
            pm_common::model::write_go_quoted(&mut s, chunk.valid())?;
            s
        };
        f.write_str(&quoted[1..quoted.len() - 1])?;
        for b in chunk.invalid() {
            write!(f, "\\x{b:02x}")?;
        }
    }
    f.write_char('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unquoting() {
        assert_eq!(unquote(r#""a\"b\n""#).unwrap(), "a\"b\n");
        assert!(unquote(r"'it''s'").is_err());
        assert_eq!(unquote(r"'multi char \''").unwrap(), "multi char '");
        assert_eq!(unquote(r"`raw\n`").unwrap(), r"raw\n");
        assert_eq!(unquote(r#""\u00e9\x41\101""#).unwrap(), "éAA");
        assert_eq!(unquote(r#""a\xc5z""#).unwrap(), "a\u{FFFD}z");
        assert!(unquote(r#""\q""#).is_err());
        assert_eq!(unquote_bytes(r#""a\xc5z""#).unwrap(), b"a\xc5z");
        let mut out = String::new();
        write_go_quoted_bytes(&mut out, b"a\xc5z\"\n").unwrap();
        assert_eq!(out, r#""a\xc5z\"\n""#);
    }
}
