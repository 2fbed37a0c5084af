//! Go's `filepath.Glob` for `templates:` entries, wildcards in the file name only (the way
//! template globs are written: `templates/*.tmpl`).

use std::path::{Path, PathBuf};

/// The files matching `pattern`, sorted; none is not an error (upstream allows globs that
/// match nothing yet).
pub fn glob(pattern: &str) -> Result<Vec<PathBuf>, String> {
    let path = Path::new(pattern);
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return Ok(Vec::new());
    };
    if !name.contains(['*', '?', '[', '\\']) {
        return Ok(if path.exists() {
            vec![path.to_owned()]
        } else {
            Vec::new()
        });
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    // A malformed pattern is an error even when nothing could match it.
    name_matches(name, "")?;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        if let Some(file) = entry.file_name().to_str()
            && name_matches(name, file)?
        {
            found.push(dir.join(file));
        }
    }
    found.sort();
    Ok(found)
}

const BAD: &str = "syntax error in pattern";

/// Go's `filepath.Match` on one path component.
fn name_matches(pattern: &str, name: &str) -> Result<bool, String> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    // Classic wildcard matching with one backtrack point for the last star; the whole
    // pattern is still parsed so that syntax errors surface.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    let mut matched = true;
    while ni < n.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
            continue;
        }
        if pi < p.len() {
            let (ok, len) = match_one(&p[pi..], n[ni])?;
            if ok {
                pi += len;
                ni += 1;
                continue;
            }
        }
        match star {
            Some((sp, sn)) if n[sn] != '/' => {
                star = Some((sp, sn + 1));
                pi = sp + 1;
                ni = sn + 1;
            }
            _ => {
                matched = false;
                break;
            }
        }
    }
    // Check the rest of the pattern for syntax, and that it can match the empty string.
    let mut rest_empty_ok = true;
    while pi < p.len() {
        if p[pi] == '*' {
            pi += 1;
        } else {
            let (_, len) = match_one(&p[pi..], '\0')?;
            rest_empty_ok = false;
            pi += len;
        }
    }
    Ok(matched && rest_empty_ok)
}

/// Whether the pattern element at the start of `p` matches `c`, and its length.
fn match_one(p: &[char], c: char) -> Result<(bool, usize), String> {
    match p[0] {
        '?' => Ok((c != '/', 1)),
        '\\' => p.get(1).map(|&e| (e == c, 2)).ok_or_else(|| BAD.to_owned()),
        '[' => {
            let mut i = 1;
            let negated = p.get(i) == Some(&'^');
            if negated {
                i += 1;
            }
            let mut hit = false;
            let mut first = true;
            loop {
                let Some(&ch) = p.get(i) else {
                    return Err(BAD.into());
                };
                if ch == ']' && !first {
                    i += 1;
                    break;
                }
                first = false;
                let (lo, next) = class_char(p, i)?;
                let (hi, next) = if p.get(next) == Some(&'-') {
                    class_char(p, next + 1)?
                } else {
                    (lo, next)
                };
                hit |= lo <= c && c <= hi;
                i = next;
            }
            Ok((hit != negated && c != '/', i))
        }
        lit => Ok((lit == c, 1)),
    }
}

fn class_char(p: &[char], i: usize) -> Result<(char, usize), String> {
    match p.get(i) {
        Some('\\') => p
            .get(i + 1)
            .map(|&c| (c, i + 2))
            .ok_or_else(|| BAD.to_owned()),
        Some('-' | ']') | None => Err(BAD.into()),
        Some(&c) => Ok((c, i + 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_like_go_filepath_match() {
        let cases = [
            ("*.tmpl", "a.tmpl", true),
            ("*.tmpl", "a.tmpl.bak", false),
            ("a?c", "abc", true),
            ("[a-c]x", "bx", true),
            ("[^a-c]x", "bx", false),
            ("*", "", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("\\*", "*", true),
        ];
        for (pattern, name, want) in cases {
            assert_eq!(name_matches(pattern, name), Ok(want), "{pattern} {name}");
        }
        assert_eq!(name_matches("[a-", "x"), Err(BAD.into()));
        assert_eq!(name_matches("x[", ""), Err(BAD.into()));
    }

    #[test]
    fn globs_files_in_a_directory_sorted() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["b.tmpl", "a.tmpl", "c.txt"] {
            std::fs::write(dir.path().join(f), "").unwrap();
        }
        let found = glob(&format!("{}/*.tmpl", dir.path().display())).unwrap();
        let names: Vec<_> = found.iter().map(|p| p.file_name().unwrap()).collect();
        assert_eq!(names, ["a.tmpl", "b.tmpl"]);
        assert!(
            glob(&format!("{}/none/*.tmpl", dir.path().display()))
                .unwrap()
                .is_empty()
        );
    }
}
