//! Go's `path/filepath` `Glob` and `Match` on Unix paths, which Prometheus (`rule_files`,
//! `scrape_config_files`, file SD) and Alertmanager (`templates`) use for file patterns, so a
//! pattern selects the same files here as upstream.
//!
//! `*` and `?` never match `/`; classes take ranges, `^` negation and `\` escapes; a pattern
//! may have metacharacters in any path element. Results are sorted per directory and joined
//! and cleaned as Go's `filepath.Join` does.

mod clean;
#[cfg(test)]
mod tests;

use std::path::Path;

pub use clean::clean;

/// Go's `filepath.ErrBadPattern`, with its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("syntax error in pattern")]
pub struct BadPattern;

/// The paths matching `pattern`; a pattern without metacharacters yields itself when it
/// exists. Unreadable directories yield nothing, as in Go; only a malformed pattern fails.
pub fn glob(pattern: &str) -> Result<Vec<String>, BadPattern> {
    // Go checks the whole pattern first, so a bad one fails even when nothing could match.
    matches(pattern, "")?;
    if !has_meta(pattern) {
        return Ok(if Path::new(pattern).symlink_metadata().is_ok() {
            vec![pattern.to_owned()]
        } else {
            Vec::new()
        });
    }
    let (dir, file) = match pattern.rfind('/') {
        Some(i) => (&pattern[..=i], &pattern[i + 1..]),
        None => ("", pattern),
    };
    let dir = match dir {
        "" => ".",
        "/" => "/",
        d => &d[..d.len() - 1],
    };
    let mut out = Vec::new();
    if !has_meta(dir) {
        glob_in(dir, file, &mut out)?;
    } else {
        if dir == pattern {
            return Err(BadPattern);
        }
        for d in glob(dir)? {
            glob_in(&d, file, &mut out)?;
        }
    }
    Ok(out)
}

/// Appends the entries of directory `dir` whose names match `pattern`, sorted.
fn glob_in(dir: &str, pattern: &str, out: &mut Vec<String>) -> Result<(), BadPattern> {
    if !std::fs::metadata(dir).is_ok_and(|m| m.is_dir()) {
        return Ok(());
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    for name in names {
        if matches(pattern, &name)? {
            out.push(clean(&format!("{dir}/{name}")));
        }
    }
    Ok(())
}

/// Whether `path` has any of Go's (Unix) glob metacharacters.
pub fn has_meta(path: &str) -> bool {
    path.contains(['*', '?', '[', '\\'])
}

/// Go's `filepath.Match`: whether `name` matches the shell pattern `pattern` as a whole.
pub fn matches(pattern: &str, name: &str) -> Result<bool, BadPattern> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    match_from(&p, &n)
}

fn match_from(p: &[char], n: &[char]) -> Result<bool, BadPattern> {
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
            // The rest must still be a well-formed pattern.
            match_from(rest, &[]).map(|_| false)
        }
        '?' => match n.split_first() {
            Some((&c, tail)) if c != '/' => match_from(rest, tail),
            _ => check(rest),
        },
        '[' => {
            let (matched, after) = class(rest, n.first().copied())?;
            match (matched, n.split_first()) {
                (true, Some((_, tail))) => match_from(after, tail),
                _ => check(after),
            }
        }
        '\\' => match (rest.split_first(), n.split_first()) {
            (None, _) => Err(BadPattern),
            (Some((&lit, prest)), Some((&c, tail))) if lit == c => match_from(prest, tail),
            (Some((_, prest)), _) => check(prest),
        },
        lit => match n.split_first() {
            Some((&c, tail)) if c == lit => match_from(rest, tail),
            _ => check(rest),
        },
    }
}

/// A failed match, unless the rest of the pattern is malformed (Go reports that even after a
/// mismatch).
fn check(rest: &[char]) -> Result<bool, BadPattern> {
    match_from(rest, &[]).map(|_| false)
}

/// Matches `c` against the class starting after `[` (Go's rules: non-empty, `]` first is an
/// error, `-` only between two ends, `\` escapes); returns whether it matched and the pattern
/// after the closing `]`. Unlike `?`, a class may match `/`, as in Go.
fn class(p: &[char], c: Option<char>) -> Result<(bool, &[char]), BadPattern> {
    let (negated, mut rest) = match p.split_first() {
        Some(('^', tail)) => (true, tail),
        _ => (false, p),
    };
    let mut matched = false;
    let mut ranges = 0;
    loop {
        if let Some((']', tail)) = rest.split_first()
            && ranges > 0
        {
            rest = tail;
            break;
        }
        let (lo, tail) = escaped(rest)?;
        let (hi, tail) = match tail.split_first() {
            Some(('-', after)) => escaped(after)?,
            _ => (lo, tail),
        };
        rest = tail;
        if c.is_some_and(|c| lo <= c && c <= hi) {
            matched = true;
        }
        ranges += 1;
    }
    Ok((c.is_some() && matched != negated, rest))
}

/// One end of a class range (Go's `getEsc`): not a bare `-` or `]`, possibly escaped, and
/// never the end of the pattern.
fn escaped(p: &[char]) -> Result<(char, &[char]), BadPattern> {
    let (c, tail) = match p.split_first() {
        None | Some(('-' | ']', _)) => return Err(BadPattern),
        Some(('\\', tail)) => tail.split_first().ok_or(BadPattern)?,
        Some((c, tail)) => (c, tail),
    };
    if tail.is_empty() {
        return Err(BadPattern);
    }
    Ok((*c, tail))
}
