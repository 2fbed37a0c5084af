//! The subset of INI that `my.cnf` files use, read as upstream's go-ini options do: keys
//! without a value are booleans, `#` and `;` start comments only at the start of a line,
//! double-quoted values are unquoted, and `!include` directives are skipped.

use std::path::Path;

use crate::error::ConfigError;

/// Sections in file order, each with its keys in file order (a later key wins).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Ini {
    pub sections: Vec<(String, Vec<(String, String)>)>,
}

/// Keys before the first section header, which no lookup uses.
pub const DEFAULT_SECTION: &str = "DEFAULT";

impl Ini {
    /// Adds the keys of `text` (from `path`, named in errors) to what is already loaded.
    pub fn merge(&mut self, path: &Path, text: &str) -> Result<(), ConfigError> {
        let mut current = DEFAULT_SECTION.to_owned();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with(['#', ';', '!']) {
                continue;
            }
            if let Some(rest) = line.strip_prefix('[') {
                let name = rest.strip_suffix(']').ok_or_else(|| ConfigError::Syntax {
                    path: path.to_owned(),
                    line: n + 1,
                    message: format!("unclosed section: {line}"),
                })?;
                current = name.trim().to_owned();
                self.section_mut(&current);
                continue;
            }
            let (key, value) = match line.split_once(['=', ':']) {
                Some((k, v)) => (k.trim(), unquote(v.trim())),
                None => (line, "true".to_owned()),
            };
            if key.is_empty() {
                return Err(ConfigError::Syntax {
                    path: path.to_owned(),
                    line: n + 1,
                    message: format!("key-value delimiter found but no key: {line}"),
                });
            }
            self.set(&current, key, value);
        }
        Ok(())
    }

    pub fn set(&mut self, section: &str, key: &str, value: String) {
        let keys = self.section_mut(section);
        match keys.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => keys.push((key.to_owned(), value)),
        }
    }

    /// `key` of `section` itself, without inheritance.
    pub fn own(&self, section: &str, key: &str) -> Option<&str> {
        self.sections
            .iter()
            .find(|(name, _)| name == section)?
            .1
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `key` of `section`, else of its parents (`client.servers` inherits from `client`).
    pub fn get(&self, section: &str, key: &str) -> Option<&str> {
        let mut name = section;
        loop {
            if let Some(v) = self.own(name, key) {
                return Some(v);
            }
            name = &name[..name.rfind('.')?];
        }
    }

    /// Replaces `$VAR` and `${VAR}` in every value by the variable (empty when unset), as
    /// Go's `os.ExpandEnv`.
    pub fn expand_env(&mut self) {
        for (_, keys) in &mut self.sections {
            for (_, value) in keys {
                *value = expand(value, |name| std::env::var(name).ok());
            }
        }
    }

    fn section_mut(&mut self, name: &str) -> &mut Vec<(String, String)> {
        let i = match self.sections.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                self.sections.push((name.to_owned(), Vec::new()));
                self.sections.len() - 1
            }
        };
        &mut self.sections[i].1
    }
}

fn unquote(value: &str) -> String {
    if value.len() >= 2 && value.starts_with('"') && value.ends_with('"') {
        return value[1..value.len() - 1].replace("\\\"", "\"");
    }
    if value.len() >= 2 && value.starts_with('\'') && value.ends_with('\'') {
        return value[1..value.len() - 1].to_owned();
    }
    value.to_owned()
}

/// Go's `os.Expand` over `lookup`.
fn expand(value: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let (name, consumed) = shell_name(after);
        if name.is_empty() && consumed == 0 {
            // `$` not followed by a name stays.
            out.push('$');
        } else if !name.is_empty() {
            out.push_str(&lookup(name).unwrap_or_default());
        }
        rest = &after[consumed..];
    }
    out.push_str(rest);
    out
}

/// The variable name at the start of `s` (after a `$`) and how many bytes it takes.
fn shell_name(s: &str) -> (&str, usize) {
    if let Some(braced) = s.strip_prefix('{') {
        return match braced.find('}') {
            // `${}` and an unclosed `${` are bad syntax, which Go eats.
            Some(0) => ("", 2),
            Some(end) => (&braced[..end], end + 2),
            None => ("", s.len()),
        };
    }
    match s.bytes().next() {
        Some(b'*' | b'#' | b'$' | b'@' | b'!' | b'?' | b'-' | b'0'..=b'9') => (&s[..1], 1),
        _ => {
            let end = s
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(s.len());
            (&s[..end], end)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Ini {
        let mut ini = Ini::default();
        ini.merge(Path::new("my.cnf"), text).unwrap();
        ini
    }

    #[test]
    fn sections_keys_and_inheritance() {
        let ini = parse(
            "top = 1\n# comment\n[client]\nuser = exporter\npassword=\"p#w\\\"d\"\n\
             skip-ssl\n!includedir /etc/mysql\n[client.servers]\nuser: other\n",
        );
        assert_eq!(ini.own(DEFAULT_SECTION, "top"), Some("1"));
        assert_eq!(ini.get("client", "user"), Some("exporter"));
        assert_eq!(ini.get("client", "password"), Some("p#w\"d"));
        assert_eq!(ini.get("client", "skip-ssl"), Some("true"));
        assert_eq!(ini.get("client.servers", "user"), Some("other"));
        assert_eq!(ini.get("client.servers", "password"), Some("p#w\"d"));
        assert_eq!(ini.get("client.servers", "host"), None);
        assert_eq!(ini.sections.len(), 3);
    }

    #[test]
    fn errors_name_the_line() {
        let mut ini = Ini::default();
        let err = ini
            .merge(Path::new("/etc/my.cnf"), "[client]\nuser=a\n[broken\n")
            .unwrap_err();
        assert_eq!(err.to_string(), "/etc/my.cnf:3: unclosed section: [broken");
        let err = ini.merge(Path::new("x"), "= v\n").unwrap_err();
        assert!(
            err.to_string().starts_with("x:1: key-value delimiter"),
            "{err}"
        );
    }

    #[test]
    fn environment_expansion() {
        let env = |name: &str| (name == "PASS").then(|| "secret".to_owned());
        assert_eq!(expand("${PASS}", env), "secret");
        assert_eq!(expand("a$PASS-b", env), "asecret-b");
        assert_eq!(expand("${UNSET}x", env), "x");
        assert_eq!(expand("cost$", env), "cost$");
        assert_eq!(expand("a$ b", env), "a$ b");
        assert_eq!(expand("a$-b", env), "ab");
        assert_eq!(expand("a${}b${PASS", env), "ab");
        assert_eq!(expand("plain", env), "plain");
    }
}
