//! Text operations whose exact results are part of relabeling's contract: Go's
//! `Regexp.Expand` template syntax and Go's rune-by-rune case mapping.

use regex::{CaptureLocations, Regex};

/// Appends `template` to `out` with `$1`, `${1}`, `$name`, `${name}` replaced by the groups
/// of the match recorded in `locs` over `haystack`, with the rules of Go's `Regexp.Expand`:
/// a name is the longest run of letters, digits and `_` (so `$1x` is the group named `1x`),
/// `$$` is a literal `$`, a group that does not exist or did not take part is empty, and a
/// `$` that starts no valid reference is kept as is.
pub(crate) fn expand(
    template: &str,
    re: &Regex,
    haystack: &str,
    locs: &CaptureLocations,
    out: &mut String,
) {
    let mut rest = template;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        rest = &rest[dollar + 1..];
        if let Some(after) = rest.strip_prefix('$') {
            out.push('$');
            rest = after;
            continue;
        }
        let Some((name, after)) = reference(rest) else {
            out.push('$');
            continue;
        };
        rest = after;
        let group = match group_number(name) {
            Some(n) => Some(n),
            None => re.capture_names().position(|n| n == Some(name)),
        };
        if let Some((start, end)) = group.and_then(|g| locs.get(g)) {
            out.push_str(&haystack[start..end]);
        }
    }
    out.push_str(rest);
}

/// Splits what follows a `$` into the referenced name and the remaining template.
fn reference(s: &str) -> Option<(&str, &str)> {
    let is_name = |c: char| c == '_' || c.is_alphabetic() || c.is_numeric();
    let (braced, body) = match s.strip_prefix('{') {
        Some(body) => (true, body),
        None => (false, s),
    };
    let len = body.find(|c: char| !is_name(c)).unwrap_or(body.len());
    if len == 0 {
        return None;
    }
    let (name, after) = body.split_at(len);
    if braced {
        after.strip_prefix('}').map(|after| (name, after))
    } else {
        Some((name, after))
    }
}

/// Go reads a name made only of ASCII digits as a group number, up to a bound past which
/// it gives up and treats it as a (missing) group name.
fn group_number(name: &str) -> Option<usize> {
    let mut n: usize = 0;
    for b in name.bytes() {
        if !b.is_ascii_digit() || n >= 100_000_000 {
            return None;
        }
        n = n * 10 + usize::from(b - b'0');
    }
    Some(n)
}

/// Go's `strings.ToLower`: each character maps to one character (simple case mapping), so
/// `İ` becomes `i` and a final `Σ` becomes `σ`, where Rust's `str::to_lowercase` differs.
pub(crate) fn go_lowercase(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_lowercase();
    }
    s.chars()
        .map(|c| {
            let mut lower = c.to_lowercase();
            match (lower.next(), lower.next()) {
                (Some(l), None) => l,
                // Only U+0130 has a multi-character lower case; its simple mapping is `i`.
                _ => 'i',
            }
        })
        .collect()
}

/// Go's `strings.ToUpper`: simple case mapping, so `ß` stays `ß` where Rust's
/// `str::to_uppercase` gives `SS`.
pub(crate) fn go_uppercase(s: &str) -> String {
    if s.is_ascii() {
        return s.to_ascii_uppercase();
    }
    s.chars()
        .map(|c| {
            let mut upper = c.to_uppercase();
            match (upper.next(), upper.next()) {
                (Some(u), None) => u,
                _ => simple_upper_of_special(c),
            }
        })
        .collect()
}

/// The simple upper-case mapping of a character whose full mapping has several characters.
/// Apart from the Greek letters with iota subscript, which map to their title-case form,
/// these characters have no simple mapping and stay as they are.
fn simple_upper_of_special(c: char) -> char {
    let cp = u32::from(c);
    let mapped = match cp {
        0x1F80..=0x1FAF if cp & 0xF < 8 => cp + 8,
        0x1FB3 | 0x1FC3 | 0x1FF3 => cp + 9,
        _ => cp,
    };
    char::from_u32(mapped).unwrap_or(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pattern: &str, template: &str, haystack: &str) -> String {
        let re = Regex::new(&format!("^(?s:{pattern})$")).unwrap();
        let mut locs = re.capture_locations();
        re.captures_read(&mut locs, haystack)
            .expect("pattern matches");
        let mut out = String::new();
        expand(template, &re, haystack, &locs, &mut out);
        out
    }

    #[test]
    fn go_expand_rules() {
        let p = "(?P<first>[a-z]+)-(\\d+)(x)?";
        for (template, want) in [
            ("$1", "ab"),
            ("${1}", "ab"),
            ("$2$1", "12ab"),
            ("${first}_$2", "ab_12"),
            ("$first_x", ""),
            ("${first}_x", "ab_x"),
            ("$1x", ""),
            ("${1}x", "abx"),
            ("$0", "ab-12"),
            ("$3", ""),
            ("$9", ""),
            ("$$1", "$1"),
            ("a$", "a$"),
            ("$-", "$-"),
            ("${1", "${1"),
            ("${}", "${}"),
            ("$nope", ""),
            ("$01", "ab"),
            ("$1000000000", ""),
            ("no refs", "no refs"),
        ] {
            assert_eq!(run(p, template, "ab-12"), want, "template {template:?}");
        }
    }

    #[test]
    fn case_mapping_is_go_simple_mapping() {
        assert_eq!(go_lowercase("AbC"), "abc");
        assert_eq!(go_lowercase("İSTANBUL"), "istanbul");
        assert_eq!(go_lowercase("ΟΔΟΣ"), "οδοσ");
        assert_eq!(go_uppercase("straße"), "STRAßE");
        assert_eq!(go_uppercase("ﬁx"), "ﬁX");
        assert_eq!(go_uppercase("ᾳ"), "ᾼ");
        assert_eq!(go_uppercase("ᾀᾈ"), "ᾈᾈ");
        assert_eq!(go_uppercase("été"), "ÉTÉ");
    }
}
