//! Go's `filepath.Glob`, for `scrape_config_files`. Config validation only lets a `*` into
//! the last path component, so only that component is matched against directory entries.

use std::path::{Path, PathBuf};

/// The paths matching `pattern`, sorted; a pattern without wildcards yields itself when it
/// exists. Unreadable directories yield nothing, as in Go.
pub(crate) fn glob(pattern: &str) -> Result<Vec<PathBuf>, String> {
    if !has_meta(pattern) {
        let path = PathBuf::from(pattern);
        return Ok(if std::fs::symlink_metadata(&path).is_ok() {
            vec![path]
        } else {
            Vec::new()
        });
    }
    let path = Path::new(pattern);
    let name_pattern = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| "syntax error in pattern".to_owned())?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // Surfaces a malformed pattern even when the directory is empty.
    matches(name_pattern, "")?;
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Ok(Vec::new());
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    let mut out = Vec::new();
    for name in names {
        if matches(name_pattern, &name)? {
            out.push(
                path.parent()
                    .map_or_else(|| PathBuf::from(&name), |p| p.join(&name)),
            );
        }
    }
    Ok(out)
}

fn has_meta(pattern: &str) -> bool {
    pattern.contains(['*', '?', '[', '\\'])
}

/// `filepath.Match` for one path component: `*`, `?`, `[...]` classes with ranges and `^`
/// negation, `\` escapes.
pub(crate) fn matches(pattern: &str, name: &str) -> Result<bool, String> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

fn match_from(p: &[char], n: &[char]) -> Result<bool, String> {
    let Some((&first, rest)) = p.split_first() else {
        return Ok(n.is_empty());
    };
    match first {
        '*' => {
            for skip in 0..=n.len() {
                if n[..skip].contains(&'/') {
                    break;
                }
                if match_from(rest, &n[skip..])? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        '?' => match n.split_first() {
            Some((&c, tail)) if c != '/' => match_from(rest, tail),
            _ => Ok(false),
        },
        '[' => {
            let (matched, after) = class(rest, n.first().copied())?;
            match (matched, n.split_first()) {
                (true, Some((_, tail))) => match_from(after, tail),
                _ => Ok(false),
            }
        }
        '\\' => match (rest.split_first(), n.split_first()) {
            (Some((&lit, prest)), Some((&c, tail))) if lit == c => match_from(prest, tail),
            (None, _) => Err("syntax error in pattern".to_owned()),
            _ => Ok(false),
        },
        lit => match n.split_first() {
            Some((&c, tail)) if c == lit => match_from(rest, tail),
            _ => Ok(false),
        },
    }
}

/// Matches `c` against the class starting after `[`; returns whether it matched and the
/// pattern after the closing `]`.
fn class(p: &[char], c: Option<char>) -> Result<(bool, &[char]), String> {
    let bad = || "syntax error in pattern".to_owned();
    let (negated, mut i) = match p.first() {
        Some('^') => (true, 1),
        _ => (false, 0),
    };
    let mut matched = false;
    let mut first = true;
    loop {
        let lo = *p.get(i).ok_or_else(bad)?;
        if lo == ']' && !first {
            i += 1;
            break;
        }
        first = false;
        let lo = if lo == '\\' {
            i += 1;
            *p.get(i).ok_or_else(bad)?
        } else {
            lo
        };
        i += 1;
        let hi = if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|&h| h != ']') {
            i += 2;
            p[i - 1]
        } else {
            lo
        };
        if c.is_some_and(|c| lo <= c && c <= hi) {
            matched = true;
        }
    }
    Ok((c.is_some_and(|c| c != '/') && matched != negated, &p[i..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn match_like_go() {
        assert!(matches("*.yml", "a.yml").unwrap());
        assert!(!matches("*.yml", "a.yaml").unwrap());
        assert!(
            matches(
                "scrape_config_files?.good.yml",
                "scrape_config_files1.good.yml"
            )
            .unwrap()
        );
        assert!(matches("[a-c]x", "bx").unwrap());
        assert!(!matches("[^a-c]x", "bx").unwrap());
        assert!(matches("a\\*", "a*").unwrap());
        assert!(matches("[", "x").is_err());
    }

    #[test]
    fn globs_directory_entries_sorted() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.yml", "a.yml", "c.txt"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let pattern = format!("{}/*.yml", dir.path().display());
        let found = glob(&pattern).unwrap();
        assert_eq!(
            found,
            vec![dir.path().join("a.yml"), dir.path().join("b.yml")]
        );
        let exact = format!("{}/c.txt", dir.path().display());
        assert_eq!(glob(&exact).unwrap().len(), 1);
        assert!(
            glob(&format!("{}/none.yml", dir.path().display()))
                .unwrap()
                .is_empty()
        );
    }
}
