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
/// (a missing quote, an unknown escape, a raw newline, a surrogate code point).
pub fn go_unquote(quoted: &str) -> Option<String> {
    let inner = quoted.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' | '\n' => return None,
            '\\' => out.push(unescape(&mut chars)?),
            c => out.push(c),
        }
    }
    Some(out)
}

fn unescape(chars: &mut std::str::Chars<'_>) -> Option<char> {
    let c = chars.next()?;
    let simple = match c {
        'a' => '\x07',
        'b' => '\x08',
        'f' => '\x0c',
        'n' => '\n',
        'r' => '\r',
        't' => '\t',
        'v' => '\x0b',
        '\\' => '\\',
        '"' => '"',
        'x' => {
            return hex(chars, 2)
                .and_then(|v| u8::try_from(v).ok())
                .map(char::from);
        }
        'u' => return hex(chars, 4).and_then(char::from_u32),
        'U' => return hex(chars, 8).and_then(char::from_u32),
        '0'..='7' => {
            let mut value = c.to_digit(8)?;
            for _ in 0..2 {
                value = value * 8 + chars.next()?.to_digit(8)?;
            }
            // Go writes \NNN as a byte; only ASCII bytes make valid UTF-8 on their own.
            return (value < 0x80).then(|| char::from(value as u8));
        }
        _ => return None,
    };
    Some(simple)
}

fn hex(chars: &mut std::str::Chars<'_>, digits: usize) -> Option<u32> {
    let mut value = 0u32;
    for _ in 0..digits {
        value = value * 16 + chars.next()?.to_digit(16)?;
    }
    Some(value)
}
