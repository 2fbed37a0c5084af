//! File SD patterns: Go's `filepath.Glob` with a pattern allowed only in the last path
//! element (the config loader refuses others).

use std::path::Path;

/// The files `pattern` names, sorted as Go returns them. A pattern without metacharacters
/// names its path if it exists.
pub(crate) fn files(pattern: &str) -> Vec<String> {
    let (dir, element) = match pattern.rfind('/') {
        Some(slash) => (&pattern[..slash + 1], &pattern[slash + 1..]),
        None => ("", pattern),
    };
    if !element.contains(['*', '?', '[', '\\']) {
        return match Path::new(pattern).symlink_metadata() {
            Ok(_) => vec![pattern.to_owned()],
            Err(_) => Vec::new(),
        };
    }
    let read_from = if dir.is_empty() { "." } else { dir };
    let Ok(entries) = std::fs::read_dir(read_from) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| matches(element, name))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| format!("{dir}{name}"))
        .collect()
}

/// Go's `filepath.Match` for one path element: `*`, `?`, `[class]` (ranges, `^` negation)
/// and `\` escapes. A malformed pattern matches nothing.
fn matches(pattern: &str, name: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let name: Vec<char> = name.chars().collect();
    match_from(&pattern, &name)
}

fn match_from(pattern: &[char], name: &[char]) -> bool {
    match pattern.first() {
        None => name.is_empty(),
        Some('*') => (0..=name.len()).any(|skip| match_from(&pattern[1..], &name[skip..])),
        Some(_) if name.is_empty() => false,
        Some('?') => match_from(&pattern[1..], &name[1..]),
        Some('[') => match class(&pattern[1..], name[0]) {
            Some((true, rest)) => match_from(rest, &name[1..]),
            _ => false,
        },
        Some('\\') => pattern.get(1) == Some(&name[0]) && match_from(&pattern[2..], &name[1..]),
        Some(&c) => c == name[0] && match_from(&pattern[1..], &name[1..]),
    }
}

/// Matches `c` against the class whose body starts `pattern` (after `[`); returns whether
/// it matched and the pattern after the closing `]`, or `None` when the class is malformed.
fn class(pattern: &[char], c: char) -> Option<(bool, &[char])> {
    let (negated, mut rest) = match pattern.first() {
        Some('^') => (true, &pattern[1..]),
        _ => (false, pattern),
    };
    let mut matched = false;
    let mut first = true;
    loop {
        match rest.first()? {
            ']' if !first => return Some((matched != negated, &rest[1..])),
            _ => {}
        }
        first = false;
        let (lo, after) = escaped(rest)?;
        let (hi, after) = match after {
            ['-', tail @ ..] if tail.first() != Some(&']') => escaped(tail)?,
            _ => (lo, after),
        };
        matched |= lo <= c && c <= hi;
        rest = after;
    }
}

fn escaped(pattern: &[char]) -> Option<(char, &[char])> {
    match pattern {
        ['\\', c, rest @ ..] => Some((*c, rest)),
        [c, rest @ ..] => Some((*c, rest)),
        [] => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_match_semantics() {
        assert!(matches("*.json", "a.json"));
        assert!(!matches("*.json", "a.yml"));
        assert!(matches("t?.yml", "t1.yml"));
        assert!(matches("[a-c]x.json", "bx.json"));
        assert!(!matches("[^a-c]x.json", "bx.json"));
        assert!(matches("\\*.json", "*.json"));
        assert!(!matches("[a-.json", "a.json"));
    }

    #[test]
    fn lists_sorted_matches_in_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.json", "a.json", "c.yml"] {
            std::fs::write(dir.path().join(name), "[]").unwrap();
        }
        let base = dir.path().to_str().unwrap();
        assert_eq!(
            files(&format!("{base}/*.json")),
            vec![format!("{base}/a.json"), format!("{base}/b.json")]
        );
        assert_eq!(
            files(&format!("{base}/c.yml")),
            vec![format!("{base}/c.yml")]
        );
        assert!(files(&format!("{base}/d.yml")).is_empty());
    }
}
