//! String escapers: those behind `text/template`'s `html`, `js` and `urlquery` builtins, and
//! the context escapers `html/template` inserts (which differ in small ways, e.g. `+` becomes
//! `&#43;` and URLs use lowercase percent-escapes).

use std::fmt::Write;

/// Replaces selected bytes (always ASCII) with strings, copying everything else.
fn replace_ascii(s: &str, table: fn(u8) -> Option<&'static str>) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    let mut last = 0;
    for (i, b) in s.bytes().enumerate() {
        if let Some(rep) = table(b) {
            out.push_str(&s[last..i]);
            out.push_str(rep);
            last = i + 1;
        }
    }
    out.push_str(&s[last..]);
    out
}

/// `text/template`'s `html` builtin (Go's `HTMLEscapeString`).
pub fn html_escape(s: &str) -> String {
    replace_ascii(s, |b| match b {
        b'"' => Some("&#34;"),
        b'\'' => Some("&#39;"),
        b'&' => Some("&amp;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        0 => Some("\u{FFFD}"),
        _ => None,
    })
}

/// `text/template`'s `js` builtin (Go's `JSEscapeString`).
pub fn js_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c if !c.is_ascii() && (c.is_control() || (c.is_whitespace() && c != ' ')) => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// `text/template`'s `urlquery` builtin (Go's `url.QueryEscape`).
pub fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            b => {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

/// `html/template`'s escaper for HTML text and quoted attribute values.
pub(crate) fn html_context_escape(s: &str) -> String {
    replace_ascii(s, |b| match b {
        b'+' => Some("&#43;"),
        b => html_norm(b),
    })
}

/// Escapes trusted HTML for an attribute value: markup is dropped and special characters
/// escaped, but existing entities (`&amp;`) are kept.
pub(crate) fn html_normalize(s: &str) -> String {
    html_norm_escape(&strip_tags(s))
}

/// Escapes special characters except `&`, so entities in trusted HTML survive (used where
/// markup cannot appear, like `<title>` content).
pub(crate) fn html_norm_escape(s: &str) -> String {
    replace_ascii(s, |b| match b {
        b'&' => None,
        b'+' => Some("&#43;"),
        b => html_norm(b),
    })
}

fn html_norm(b: u8) -> Option<&'static str> {
    match b {
        0 => Some("\u{FFFD}"),
        b'"' => Some("&#34;"),
        b'&' => Some("&amp;"),
        b'\'' => Some("&#39;"),
        b'<' => Some("&lt;"),
        b'>' => Some("&gt;"),
        _ => None,
    }
}

/// Removes `<…>` markup, keeping the text between tags.
fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' if !in_tag => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// `html/template`'s escaper for unquoted attribute values, where whitespace and `=` would
/// end the value.
pub(crate) fn html_nospace_escape(s: &str) -> String {
    replace_ascii(s, |b| match b {
        0 => Some("&#xfffd;"),
        b'\t' => Some("&#9;"),
        b'\n' => Some("&#10;"),
        0x0b => Some("&#11;"),
        0x0c => Some("&#12;"),
        b'\r' => Some("&#13;"),
        b' ' => Some("&#32;"),
        b'"' => Some("&#34;"),
        b'&' => Some("&amp;"),
        b'\'' => Some("&#39;"),
        b'+' => Some("&#43;"),
        b'<' => Some("&lt;"),
        b'=' => Some("&#61;"),
        b'>' => Some("&gt;"),
        b'`' => Some("&#96;"),
        _ => None,
    })
}

/// What `html/template` substitutes for a value that is unsafe in its context.
pub(crate) const FILTERED: &str = "#ZgotmplZ";

/// Rejects URLs with schemes other than http, https and mailto (e.g. `javascript:`).
pub(crate) fn url_filter(s: &str) -> Option<&str> {
    if let Some(colon) = s.find(':')
        && !s[..colon].contains('/')
    {
        let scheme = s[..colon].to_ascii_lowercase();
        if !matches!(scheme.as_str(), "http" | "https" | "mailto") {
            return None;
        }
    }
    Some(s)
}

/// Percent-encodes a URL or URL part. `normalize` keeps reserved characters and existing
/// escapes (for a whole URL); otherwise everything but unreserved characters is encoded
/// (for a value inside a query or fragment).
pub(crate) fn url_escape(s: &str, normalize: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = match b {
            b'!' | b'#' | b'$' | b'&' | b'*' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?'
            | b'@' | b'[' | b']' | b'%' => normalize,
            b'-' | b'.' | b'_' | b'~' => true,
            b => b.is_ascii_alphanumeric(),
        };
        if keep {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02x}");
        }
    }
    out
}

/// Accepts only plain ASCII alphanumeric attribute names that carry no script or URL
/// meaning, as `html/template` does for values in attribute-name position.
pub(crate) fn attr_name_filter(s: &str) -> &str {
    let lower = s.to_ascii_lowercase();
    if s.is_empty() || !lower.bytes().all(|b| b.is_ascii_alphanumeric()) || attr_is_special(&lower)
    {
        FILTERED.trim_start_matches('#')
    } else {
        s
    }
}

/// Attributes whose values are URLs, which get URL filtering and normalisation.
pub(crate) fn attr_is_url(name: &str) -> bool {
    let name = name.strip_prefix("data-").unwrap_or(name);
    if name.starts_with("xmlns:") || name == "xmlns" {
        return true;
    }
    matches!(
        name,
        "action"
            | "archive"
            | "background"
            | "cite"
            | "classid"
            | "codebase"
            | "data"
            | "formaction"
            | "href"
            | "icon"
            | "longdesc"
            | "manifest"
            | "poster"
            | "profile"
            | "src"
            | "usemap"
    ) || name.contains("src")
        || name.contains("uri")
        || name.contains("url")
}

/// Attributes holding script, style or URLs.
fn attr_is_special(name: &str) -> bool {
    attr_is_url(name) || name.starts_with("on") || name == "style"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_template_escapers() {
        assert_eq!(
            html_escape("<a href=\"x\">'&'</a>\0"),
            "&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#39;&lt;/a&gt;\u{FFFD}"
        );
        assert_eq!(
            js_escape("a'b\"c\\<>&=\n"),
            "a\\'b\\\"c\\\\\\u003C\\u003E\\u0026\\u003D\\u000A"
        );
        assert_eq!(query_escape("a b&c=d/é~"), "a+b%26c%3Dd%2F%C3%A9~");
    }

    #[test]
    fn html_template_escapers() {
        assert_eq!(html_context_escape("1+1<2"), "1&#43;1&lt;2");
        assert_eq!(html_nospace_escape("a b=c"), "a&#32;b&#61;c");
        assert_eq!(html_normalize("<b>x</b> &amp; y"), "x &amp; y");
        assert_eq!(url_filter("javascript:alert(1)"), None);
        assert_eq!(url_filter("HTTPS://x"), Some("HTTPS://x"));
        assert_eq!(url_filter("/a:b"), Some("/a:b"));
        assert_eq!(
            url_escape("http://h/a b?q=\"1\"", true),
            "http://h/a%20b?q=%221%22"
        );
        assert_eq!(url_escape("a b&c", false), "a%20b%26c");
        assert_eq!(attr_name_filter("title"), "title");
        assert_eq!(attr_name_filter("onclick"), "ZgotmplZ");
        assert!(attr_is_url("href") && attr_is_url("data-src") && !attr_is_url("class"));
    }
}
