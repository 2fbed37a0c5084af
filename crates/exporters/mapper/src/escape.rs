/// Turns a metric name from the wire into a valid Prometheus name as upstream does: every byte
/// other than `[a-zA-Z0-9_]` becomes `_` (one per character, not per byte), a second `-` of a
/// run of dashes becomes a single `_`, and a leading digit gains a `_` prefix.
pub fn escape_metric_name(name: &str) -> std::borrow::Cow<'_, str> {
    let valid = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let starts_with_digit = name.as_bytes().first().is_some_and(u8::is_ascii_digit);
    if !starts_with_digit && name.chars().all(valid) {
        return std::borrow::Cow::Borrowed(name);
    }
    let mut out = String::with_capacity(name.len() + 1);
    if starts_with_digit {
        out.push('_');
    }
    let mut prev = '\0';
    for c in name.chars() {
        // A dash after a dash is dropped; `prev` stays a dash, so a whole run becomes one `_`.
        if c == '-' && prev == '-' {
            continue;
        }
        out.push(if valid(c) { c } else { '_' });
        prev = c;
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::escape_metric_name;

    #[test]
    fn escapes_like_upstream() {
        for (input, want) in [
            ("", ""),
            ("my_metric", "my_metric"),
            ("0starts_with_digit", "_0starts_with_digit"),
            ("with whitespace", "with_whitespace"),
            ("with.dots", "with_dots"),
            ("with-dashes", "with_dashes"),
            ("with--doubledash", "with_doubledash"),
            ("with---multiple-dashes", "with_multiple_dashes"),
            ("with😱emoji", "with_emoji"),
            ("with.*.multiple", "with___multiple"),
            ("test.web-server.foo.bar", "test_web_server_foo_bar"),
        ] {
            assert_eq!(escape_metric_name(input), want, "{input}");
        }
    }
}
