//! The escapes of Go's interpreted string literals, as `strconv.Unquote` resolves them.
//!
//! Templates, PromQL and Alertmanager matchers all take Go-quoted strings from users who
//! write them against Go's rules, so the three parsers share this one decoder. It lives in
//! the template crate because that is the lowest crate all of them build on.

/// Resolves the escapes in the body of a literal quoted with `quote` (`"` or `'`; the
/// quotes themselves already stripped). Like a Go string, the result may hold bytes that are
/// not UTF-8: `\xNN` and octal `\NNN` stand for single bytes, `\uNNNN` and `\UNNNNNNNN` for
/// code points. `None` for what Go refuses: an unknown escape, too few digits, a surrogate
/// or out-of-range code point, an octal value above 255, or an unescaped `quote` or newline.
pub fn unescape(body: &str, quote: char) -> Option<Vec<u8>> {
    if !body.contains(['\\', quote, '\n']) {
        return Some(body.as_bytes().to_vec());
    }
    let mut out = Vec::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => escape(&mut chars, quote, &mut out)?,
            '\n' => return None,
            c if c == quote => return None,
            c => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    Some(out)
}

/// Decodes one escape, the backslash already read.
fn escape(chars: &mut std::str::Chars<'_>, quote: char, out: &mut Vec<u8>) -> Option<()> {
    let e = chars.next()?;
    let byte = match e {
        'a' => b'\x07',
        'b' => b'\x08',
        'f' => b'\x0c',
        'n' => b'\n',
        'r' => b'\r',
        't' => b'\t',
        'v' => b'\x0b',
        '\\' => b'\\',
        c if c == quote => c as u8,
        'x' => u8::try_from(digits(chars, 0, 2, 16)?).ok()?,
        '0'..='7' => u8::try_from(digits(chars, e.to_digit(8)?, 2, 8)?).ok()?,
        'u' | 'U' => {
            let c = char::from_u32(digits(chars, 0, if e == 'u' { 4 } else { 8 }, 16)?)?;
            out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
            return Some(());
        }
        _ => return None,
    };
    out.push(byte);
    Some(())
}

/// Reads exactly `count` digits in `radix` after the value `start`.
fn digits(chars: &mut std::str::Chars<'_>, start: u32, count: usize, radix: u32) -> Option<u32> {
    (0..count).try_fold(start, |v, _| {
        Some(v * radix + chars.next()?.to_digit(radix)?)
    })
}

#[cfg(test)]
mod tests {
    use super::unescape;

    #[test]
    fn resolves_go_escapes() {
        let cases: &[(&str, char, &[u8])] = &[
            ("plain", '"', b"plain"),
            (r"\a\b\f\n\r\t\v\\", '"', b"\x07\x08\x0c\n\r\t\x0b\\"),
            (r#"\""#, '"', b"\""),
            (r"\'", '\'', b"'"),
            (r"\x41\101\u00e9\U0001F600", '"', "AAé😀".as_bytes()),
            (r"\xff\377", '"', b"\xff\xff"),
            (r"\xc3\xa9", '"', "é".as_bytes()),
            ("é\\n", '"', "é\n".as_bytes()),
            ("it's", '"', b"it's"),
        ];
        for (body, quote, want) in cases {
            assert_eq!(unescape(body, *quote).as_deref(), Some(*want), "{body:?}");
        }
    }

    #[test]
    fn refuses_what_go_refuses() {
        for (body, quote) in [
            (r"\q", '"'),
            (r"\'", '"'),
            (r#"\""#, '\''),
            (r"\x4", '"'),
            (r"\400", '"'),
            (r"\18", '"'),
            (r"\ud800", '"'),
            (r"\U00110000", '"'),
            ("\\", '"'),
            ("a\"b", '"'),
            ("a'b", '\''),
            ("a\nb", '"'),
        ] {
            assert_eq!(unescape(body, quote), None, "{body:?}");
        }
    }
}
