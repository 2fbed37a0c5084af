//! Escaping of UTF-8 metric and label names for consumers that only understand the legacy
//! character set, following prometheus/common `model.EscapeName`/`UnescapeName`.
//!
//! A scraper announces which scheme it can undo with the `escaping=` parameter of its `Accept`
//! header; the exposing side rewrites every name outside `[a-zA-Z_:][a-zA-Z0-9_:]*` accordingly.
//! The output must be byte-identical to upstream's, since the scraper unescapes it again.

use std::fmt;
use std::str::FromStr;

use super::is_valid_legacy_metric_name;

/// The `Accept`/`Content-Type` parameter that carries the escaping scheme.
pub const ESCAPING_KEY: &str = "escaping";

/// How names that are not valid legacy names are rewritten.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum EscapingScheme {
    /// `allow-utf-8`: names are passed through unchanged.
    NoEscaping,
    /// `underscores`: every invalid character becomes `_` (lossy). Upstream's default.
    #[default]
    Underscores,
    /// `dots`: `.` becomes `_dot_`, `_` becomes `__`, other invalid characters `__`.
    Dots,
    /// `values`: `U__` prefix, `_` doubled, other invalid characters as `_<hex code point>_`.
    Values,
}

/// An `escaping=` value that names no known scheme.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EscapingSchemeError {
    #[error("got empty string instead of escaping scheme")]
    Empty,
    #[error("unknown format scheme {0}")]
    Unknown(String),
}

impl EscapingScheme {
    /// The parameter value as it appears in HTTP headers.
    pub fn as_str(self) -> &'static str {
        match self {
            EscapingScheme::NoEscaping => "allow-utf-8",
            EscapingScheme::Underscores => "underscores",
            EscapingScheme::Dots => "dots",
            EscapingScheme::Values => "values",
        }
    }
}

impl fmt::Display for EscapingScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EscapingScheme {
    type Err = EscapingSchemeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "" => Err(EscapingSchemeError::Empty),
            "allow-utf-8" => Ok(EscapingScheme::NoEscaping),
            "underscores" => Ok(EscapingScheme::Underscores),
            "dots" => Ok(EscapingScheme::Dots),
            "values" => Ok(EscapingScheme::Values),
            other => Err(EscapingSchemeError::Unknown(other.to_owned())),
        }
    }
}

/// Whether `c` at char position `i` belongs to the legacy metric-name character set.
fn is_legacy_char(c: char, i: usize) -> bool {
    c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
}

/// Rewrites `name` under `scheme`. Valid legacy names are returned unchanged by every scheme
/// except `dots`, which always doubles underscores (so that unescaping is unambiguous).
pub fn escape_name(name: &str, scheme: EscapingScheme) -> String {
    use std::fmt::Write as _;

    if name.is_empty() {
        return String::new();
    }
    let mut out = String::with_capacity(name.len() + 8);
    match scheme {
        EscapingScheme::NoEscaping => out.push_str(name),
        EscapingScheme::Underscores => {
            if is_valid_legacy_metric_name(name) {
                return name.to_owned();
            }
            for (i, c) in name.chars().enumerate() {
                out.push(if is_legacy_char(c, i) { c } else { '_' });
            }
        }
        EscapingScheme::Dots => {
            for (i, c) in name.chars().enumerate() {
                match c {
                    '_' => out.push_str("__"),
                    '.' => out.push_str("_dot_"),
                    c if is_legacy_char(c, i) => out.push(c),
                    _ => out.push_str("__"),
                }
            }
        }
        EscapingScheme::Values => {
            if is_valid_legacy_metric_name(name) {
                return name.to_owned();
            }
            out.push_str("U__");
            for (i, c) in name.chars().enumerate() {
                match c {
                    '_' => out.push_str("__"),
                    c if is_legacy_char(c, i) => out.push(c),
                    // Writing into a String cannot fail.
                    c => {
                        let _ = write!(out, "_{:x}_", c as u32);
                    }
                }
            }
        }
    }
    out
}

/// Reverses [`escape_name`] where the scheme allows it. `underscores` is lossy and returns its
/// input; a `values` name that is not well formed is returned unchanged, as upstream does.
pub fn unescape_name(name: &str, scheme: EscapingScheme) -> String {
    match scheme {
        EscapingScheme::NoEscaping | EscapingScheme::Underscores => name.to_owned(),
        EscapingScheme::Dots => name.replace("_dot_", ".").replace("__", "_"),
        EscapingScheme::Values => match name.strip_prefix("U__") {
            Some(escaped) => unescape_values(escaped).unwrap_or_else(|| name.to_owned()),
            None => name.to_owned(),
        },
    }
}

/// Decodes the body of a `U__` name; `None` when it is malformed.
fn unescape_values(escaped: &str) -> Option<String> {
    /// Upstream gives up after five hex digits, so code points above U+FFFFF do not round-trip.
    const MAX_HEX_DIGITS: usize = 5;

    let bytes = escaped.as_bytes();
    let mut out = String::with_capacity(escaped.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b != b'_' {
            // Copy the whole (possibly multi-byte) character.
            let c = escaped[i..].chars().next()?;
            out.push(c);
            i += c.len_utf8();
            continue;
        }
        i += 1;
        match bytes.get(i) {
            None => return None,
            Some(b'_') => {
                out.push('_');
                i += 1;
                continue;
            }
            Some(_) => {}
        }
        let mut code: u32 = 0;
        let mut digits = 0;
        loop {
            let b = *bytes.get(i)?;
            if b == b'_' {
                out.push(char::from_u32(code)?);
                i += 1;
                break;
            }
            code = code * 16 + (b as char).to_digit(16)?;
            digits += 1;
            if digits > MAX_HEX_DIGITS {
                return None;
            }
            i += 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_names_round_trip() {
        for s in [
            EscapingScheme::NoEscaping,
            EscapingScheme::Underscores,
            EscapingScheme::Dots,
            EscapingScheme::Values,
        ] {
            assert_eq!(s.as_str().parse::<EscapingScheme>(), Ok(s));
        }
        assert_eq!(
            "".parse::<EscapingScheme>(),
            Err(EscapingSchemeError::Empty)
        );
        assert!("utf8".parse::<EscapingScheme>().is_err());
    }

    #[test]
    fn escapes_like_upstream() {
        // (input, underscores, dots, values)
        let cases = [
            ("", "", "", ""),
            (
                "no:escaping_required",
                "no:escaping_required",
                "no:escaping__required",
                "no:escaping_required",
            ),
            (
                "mysystem.prod.west.cpu.load",
                "mysystem_prod_west_cpu_load",
                "mysystem_dot_prod_dot_west_dot_cpu_dot_load",
                "U__mysystem_2e_prod_2e_west_2e_cpu_2e_load",
            ),
            (
                "mysystem.prod.west.cpu.load_total",
                "mysystem_prod_west_cpu_load_total",
                "mysystem_dot_prod_dot_west_dot_cpu_dot_load__total",
                "U__mysystem_2e_prod_2e_west_2e_cpu_2e_load__total",
            ),
            (
                "http.status:sum",
                "http_status:sum",
                "http_dot_status:sum",
                "U__http_2e_status:sum",
            ),
            (
                "label with 😱",
                "label_with__",
                "label__with____",
                "U__label_20_with_20__1f631_",
            ),
            ("花火", "__", "____", "U___82b1__706b_"),
            (
                "label with Ā",
                "label_with__",
                "label__with____",
                "U__label_20_with_20__100_",
            ),
            ("1leading", "_leading", "__leading", "U___31_leading"),
        ];
        for (input, underscores, dots, values) in cases {
            assert_eq!(
                escape_name(input, EscapingScheme::Underscores),
                underscores,
                "{input}"
            );
            assert_eq!(escape_name(input, EscapingScheme::Dots), dots, "{input}");
            assert_eq!(
                escape_name(input, EscapingScheme::Values),
                values,
                "{input}"
            );
            assert_eq!(escape_name(input, EscapingScheme::NoEscaping), input);
        }
    }

    #[test]
    fn unescapes_like_upstream() {
        let values = [
            ("U__no:unescapingrequired", "no:unescapingrequired"),
            ("U__capitals_2E_ok", "capitals.ok"),
            ("U__underscores__doubled__", "underscores_doubled_"),
            ("U__underscores_doubled_", "U__underscores_doubled_"),
            ("U__underscores__doubled_", "U__underscores__doubled_"),
            (
                "U__my__hack_2e_attempt_872348732fabdabbab_",
                "U__my__hack_2e_attempt_872348732fabdabbab_",
            ),
            ("U__my__hack_2e", "U__my__hack_2e"),
            ("U__bad__utf_2eg_", "U__bad__utf_2eg_"),
            ("U__bad__utf_D900_", "U__bad__utf_D900_"),
            ("U__label_20_with_20__1f631_", "label with 😱"),
            ("U___82b1__706b_", "花火"),
            ("no_prefix_2e_", "no_prefix_2e_"),
        ];
        for (input, want) in values {
            assert_eq!(
                unescape_name(input, EscapingScheme::Values),
                want,
                "{input}"
            );
        }
        assert_eq!(
            unescape_name("mysystem_dot_prod_dot_west__total", EscapingScheme::Dots),
            "mysystem.prod.west_total"
        );
        assert_eq!(unescape_name("a_b", EscapingScheme::Underscores), "a_b");
    }

    #[test]
    fn values_scheme_round_trips_below_plane_16() {
        for name in ["a.b", "ünïcödé", "x y\tz", "__weird__", "\u{fffff}"] {
            let escaped = escape_name(name, EscapingScheme::Values);
            assert!(is_valid_legacy_metric_name(&escaped), "{escaped}");
            assert_eq!(unescape_name(&escaped, EscapingScheme::Values), name);
        }
        // Six hex digits are more than upstream decodes: the escaped form is kept.
        let escaped = escape_name("\u{10ffff}", EscapingScheme::Values);
        assert_eq!(escaped, "U___10ffff_");
        assert_eq!(unescape_name(&escaped, EscapingScheme::Values), escaped);
    }
}
