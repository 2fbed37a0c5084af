//! Name and label templates of glob mappings: `$1` and `${1}` refer to the n-th `*` of the
//! match.
//!
//! Upstream's reference syntax is greedy: `$` and an optional `{`, then every following
//! letter, digit, `_` or `$`, then an optional `}`. A reference that is not a capture number
//! in range (such as `$1_foo`, which names "1_foo") expands to nothing, which is why configs
//! write `${1}_foo`.

/// A template split once into literal text and capture references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Capture(usize),
}

impl Template {
    /// Splits `template` for a match with `capture_count` wildcards.
    pub(crate) fn new(template: &str, capture_count: usize) -> Self {
        let bytes = template.as_bytes();
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut i = 0;
        while i < bytes.len() {
            match reference_at(bytes, i) {
                Some((name, end)) => {
                    match name.parse::<usize>() {
                        Ok(n) if (1..=capture_count).contains(&n) => {
                            if !text.is_empty() {
                                parts.push(Part::Text(std::mem::take(&mut text)));
                            }
                            parts.push(Part::Capture(n - 1));
                        }
                        _ => {}
                    }
                    i = end;
                }
                None => {
                    let ch_len = template[i..].chars().next().map_or(1, char::len_utf8);
                    text.push_str(&template[i..i + ch_len]);
                    i += ch_len;
                }
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Template { parts }
    }

    /// The template with `captures` substituted.
    pub(crate) fn format(&self, captures: &[&str]) -> String {
        match self.parts.as_slice() {
            [] => String::new(),
            [Part::Text(t)] => t.clone(),
            parts => {
                let mut out = String::new();
                for part in parts {
                    match part {
                        Part::Text(t) => out.push_str(t),
                        Part::Capture(i) => out.push_str(captures.get(*i).copied().unwrap_or("")),
                    }
                }
                out
            }
        }
    }
}

/// A reference starting at `start`: its name and the index just past it.
fn reference_at(bytes: &[u8], start: usize) -> Option<(&str, usize)> {
    if bytes[start] != b'$' {
        return None;
    }
    let mut i = start + 1;
    if bytes.get(i) == Some(&b'{') {
        i += 1;
    }
    let name_start = i;
    while i < bytes.len()
        && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'$')
    {
        i += 1;
    }
    if i == name_start {
        return None;
    }
    let name = std::str::from_utf8(&bytes[name_start..i]).ok()?;
    if bytes.get(i) == Some(&b'}') {
        i += 1;
    }
    Some((name, i))
}

#[cfg(test)]
mod tests {
    use super::Template;

    #[test]
    fn references() {
        let caps = ["a", "b", "c"];
        assert_eq!(Template::new("${1}_foo", 3).format(&caps), "a_foo");
        assert_eq!(Template::new("$1_foo", 3).format(&caps), "");
        assert_eq!(Template::new("$1-$2-$3", 2).format(&caps), "a-b-");
        assert_eq!(Template::new("${2}_$1", 2).format(&caps), "b_a");
        assert_eq!(Template::new("static", 3).format(&caps), "static");
        assert_eq!(Template::new("$0x", 3).format(&caps), "");
        assert_eq!(Template::new("${name}", 3).format(&caps), "");
        assert_eq!(Template::new("a$", 3).format(&caps), "a$");
        assert_eq!(Template::new("$3.$1.$3", 3).format(&caps), "c.a.c");
    }
}
