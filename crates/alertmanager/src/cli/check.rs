//! `amtool check-config`.

use std::path::Path;

use crate::config::Config;

/// Checks each file as upstream does, returning the report and how many files failed.
pub fn check_files(files: &[String]) -> (String, usize) {
    let mut out = String::new();
    let mut failed = 0;
    for file in files {
        out.push_str(&format!("Checking '{file}'"));
        match Config::load_file(file) {
            Err(err) => {
                out.push_str(&format!("  FAILED: {err}\n"));
                failed += 1;
            }
            Ok(cfg) => {
                out.push_str("  SUCCESS\n");
                out.push_str("Found:\n - global config\n - route\n");
                out.push_str(&format!(
                    " - {} inhibit rules\n - {} receivers\n - {} templates\n",
                    cfg.inhibit_rules.len(),
                    cfg.receivers.len(),
                    cfg.templates.len()
                ));
                if !cfg.templates.is_empty() {
                    match check_templates(&cfg.templates) {
                        Ok(()) => out.push_str("  SUCCESS\n"),
                        Err(err) => {
                            out.push_str(&format!("  FAILED: {err}\n"));
                            failed += 1;
                        }
                    }
                }
            }
        }
        out.push('\n');
    }
    (out, failed)
}

/// Every file a template glob names must be readable; globs that match nothing are fine, as
/// upstream's `FromGlobs` allows.
fn check_templates(globs: &[String]) -> Result<(), String> {
    for glob in globs {
        for path in expand_glob(glob)? {
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// Expands `*` and `?` in the last path component (the form template globs take).
fn expand_glob(glob: &str) -> Result<Vec<std::path::PathBuf>, String> {
    let path = Path::new(glob);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if !name.contains(['*', '?']) {
        return Ok(if path.exists() {
            vec![path.to_owned()]
        } else {
            Vec::new()
        });
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut out: Vec<_> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_str().is_some_and(|n| wildcard(name, n)))
        .map(|e| e.path())
        .collect();
    out.sort();
    Ok(out)
}

fn wildcard(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    fn go(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|i| go(rest, &n[i..])),
            Some(('?', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    go(&p, &n)
}

#[cfg(test)]
mod tests {
    use super::wildcard;

    #[test]
    fn wildcards() {
        assert!(wildcard("*.tmpl", "a.tmpl"));
        assert!(wildcard("a?c", "abc"));
        assert!(!wildcard("*.tmpl", "a.yml"));
    }
}
