//! The `relabel_configs` YAML block: one rule, its defaults and its validation, as upstream's
//! `model/relabel` package reads and checks it.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, LazyLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::{FastRegexMatcher, NameValidation, RegexError, write_go_quoted};

/// Default `separator`.
pub const DEFAULT_SEPARATOR: &str = ";";
/// Default `replacement`.
pub const DEFAULT_REPLACEMENT: &str = "$1";
/// Default `regex`.
pub const DEFAULT_REGEX: &str = "(.*)";

/// What a rule does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Action {
    /// Writes the expanded `replacement` to the expanded `target_label` when `regex` matches.
    #[default]
    Replace,
    /// Drops the series unless `regex` matches.
    Keep,
    /// Drops the series when `regex` matches.
    Drop,
    /// Drops the series unless the source value equals the `target_label`'s value.
    KeepEqual,
    /// Drops the series when the source value equals the `target_label`'s value.
    DropEqual,
    /// Sets `target_label` to the MD5 of the source value modulo `modulus` (sharding).
    HashMod,
    /// Copies every label whose name matches to the name given by `replacement`.
    LabelMap,
    /// Removes every label whose name matches.
    LabelDrop,
    /// Removes every label whose name does not match.
    LabelKeep,
    /// Sets `target_label` to the lower-cased source value.
    Lowercase,
    /// Sets `target_label` to the upper-cased source value.
    Uppercase,
}

impl Action {
    pub const ALL: [Action; 11] = [
        Action::Replace,
        Action::Keep,
        Action::Drop,
        Action::KeepEqual,
        Action::DropEqual,
        Action::HashMod,
        Action::LabelMap,
        Action::LabelDrop,
        Action::LabelKeep,
        Action::Lowercase,
        Action::Uppercase,
    ];

    /// The name used in YAML.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Replace => "replace",
            Action::Keep => "keep",
            Action::Drop => "drop",
            Action::KeepEqual => "keepequal",
            Action::DropEqual => "dropequal",
            Action::HashMod => "hashmod",
            Action::LabelMap => "labelmap",
            Action::LabelDrop => "labeldrop",
            Action::LabelKeep => "labelkeep",
            Action::Lowercase => "lowercase",
            Action::Uppercase => "uppercase",
        }
    }

    /// Actions that write `target_label` and so require it.
    fn needs_target(self) -> bool {
        matches!(
            self,
            Action::Replace
                | Action::HashMod
                | Action::Lowercase
                | Action::Uppercase
                | Action::KeepEqual
                | Action::DropEqual
        )
    }

    /// Actions whose only inputs are the source value and `target_label`.
    fn is_plain_target(self) -> bool {
        matches!(
            self,
            Action::Lowercase | Action::Uppercase | Action::KeepEqual | Action::DropEqual
        )
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = RelabelError;

    /// Action names are case-insensitive, as upstream.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| RelabelError::UnknownAction(s.to_owned()))
    }
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A rule's regex: Go semantics, fully anchored, printed back as written.
///
/// Upstream tells "regex not given" from "regex given as `(.*)`" by the identity of the
/// compiled default, and `keepequal`/`dropequal` accept only the former; the shared `Arc`
/// of [`Regexp::default`] reproduces that.
#[derive(Clone)]
pub struct Regexp(Arc<FastRegexMatcher>);

static DEFAULT_REGEXP: LazyLock<Regexp> = LazyLock::new(|| {
    Regexp(Arc::new(
        FastRegexMatcher::new(DEFAULT_REGEX).expect("the default relabel regex compiles"),
    ))
});

impl Regexp {
    pub fn new(pattern: &str) -> Result<Self, RegexError> {
        FastRegexMatcher::new(pattern).map(|m| Regexp(Arc::new(m)))
    }

    /// Whether this is the default regex that applies when a rule gives none.
    pub fn is_default(&self) -> bool {
        Arc::ptr_eq(&self.0, &DEFAULT_REGEXP.0)
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    #[inline]
    pub fn is_match(&self, s: &str) -> bool {
        self.0.is_match(s)
    }

    pub fn matcher(&self) -> &FastRegexMatcher {
        &self.0
    }
}

impl Default for Regexp {
    fn default() -> Self {
        DEFAULT_REGEXP.clone()
    }
}

/// Regexes are equal when written the same.
impl PartialEq for Regexp {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl fmt::Debug for Regexp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Regexp({:?})", self.as_str())
    }
}

impl Serialize for Regexp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Regexp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Regexp::new(&s).map_err(serde::de::Error::custom)
    }
}

/// One relabeling rule. Deserializing applies upstream's defaults; call
/// [`RelabelConfig::validate`] before use, as config loading does with the global name
/// validation scheme.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawConfig")]
pub struct RelabelConfig {
    /// Labels whose values are joined with `separator` into the source value. `None` when
    /// not given, which `labeldrop`/`labelkeep` insist on (an empty list is not the same).
    #[serde(skip_serializing_if = "no_labels")]
    pub source_labels: Option<Vec<String>>,
    pub separator: String,
    #[serde(skip_serializing_if = "Regexp::is_default")]
    pub regex: Regexp,
    #[serde(skip_serializing_if = "is_zero")]
    pub modulus: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub target_label: String,
    pub replacement: String,
    pub action: Action,
    /// Which label names are valid; `None` takes the scheme passed to `validate`.
    #[serde(skip)]
    pub name_validation: Option<NameValidation>,
}

fn no_labels(labels: &Option<Vec<String>>) -> bool {
    labels.as_ref().is_none_or(Vec::is_empty)
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Default for RelabelConfig {
    fn default() -> Self {
        RelabelConfig {
            source_labels: None,
            separator: DEFAULT_SEPARATOR.to_owned(),
            regex: Regexp::default(),
            modulus: 0,
            target_label: String::new(),
            replacement: DEFAULT_REPLACEMENT.to_owned(),
            action: Action::Replace,
            name_validation: None,
        }
    }
}

/// The YAML as written: each field absent (`None`), explicitly null (`Some(None)`, which
/// upstream reads as the zero value, not the default) or set.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default, deserialize_with = "present")]
    source_labels: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "present")]
    separator: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    regex: Option<Option<Regexp>>,
    #[serde(default, deserialize_with = "present")]
    modulus: Option<Option<u64>>,
    #[serde(default, deserialize_with = "present")]
    target_label: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    replacement: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    action: Option<Option<Action>>,
}

fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl TryFrom<RawConfig> for RelabelConfig {
    type Error = RelabelError;

    fn try_from(raw: RawConfig) -> Result<Self, RelabelError> {
        let source_labels = raw.source_labels.flatten();
        if let Some(bad) = source_labels.iter().flatten().find(|l| l.is_empty()) {
            return Err(RelabelError::InvalidSourceLabel(bad.clone()));
        }
        let empty_regex = || Regexp::new("").expect("the empty regex compiles");
        Ok(RelabelConfig {
            source_labels,
            separator: raw
                .separator
                .map_or_else(|| DEFAULT_SEPARATOR.to_owned(), Option::unwrap_or_default),
            regex: raw
                .regex
                .map_or_else(Regexp::default, |r| r.unwrap_or_else(empty_regex)),
            modulus: raw.modulus.flatten().unwrap_or(0),
            target_label: raw.target_label.flatten().unwrap_or_default(),
            replacement: raw
                .replacement
                .map_or_else(|| DEFAULT_REPLACEMENT.to_owned(), Option::unwrap_or_default),
            action: match raw.action {
                None => Action::Replace,
                Some(None) => return Err(RelabelError::EmptyAction),
                Some(Some(action)) => action,
            },
            name_validation: None,
        })
    }
}

/// Why a rule was rejected; the messages are upstream's.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RelabelError {
    #[error("relabel action cannot be empty")]
    EmptyAction,
    #[error("unknown relabel action {}", Quoted(.0))]
    UnknownAction(String),
    #[error("{} is not a valid label name", Quoted(.0))]
    InvalidSourceLabel(String),
    #[error("relabel configuration for hashmod requires non-zero modulus")]
    ZeroModulus,
    #[error("relabel configuration for {0} action requires 'target_label' value")]
    MissingTargetLabel(Action),
    #[error("{} is invalid 'target_label' for {action} action", Quoted(.label))]
    InvalidTargetLabel { label: String, action: Action },
    #[error("'replacement' can not be set for {0} action")]
    ReplacementNotAllowed(Action),
    #[error("{} is invalid 'replacement' for {action} action", Quoted(.replacement))]
    InvalidReplacement { replacement: String, action: Action },
    #[error("{0} action requires only 'source_labels' and `target_label`, and no other fields")]
    OnlySourceAndTarget(Action),
    #[error("{0} action requires only 'regex', and no other fields")]
    OnlyRegex(Action),
}

/// Formats a string as Go's `%q`.
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_go_quoted(f, self.0)
    }
}

impl RelabelConfig {
    /// Checks the rule as upstream's `Config.Validate`, in the same order so that the first
    /// complaint is the same. An unset `name_validation` becomes `scheme`.
    pub fn validate(&mut self, scheme: NameValidation) -> Result<(), RelabelError> {
        let action = self.action;
        if action == Action::HashMod && self.modulus == 0 {
            return Err(RelabelError::ZeroModulus);
        }
        if action.needs_target() && self.target_label.is_empty() {
            return Err(RelabelError::MissingTargetLabel(action));
        }
        let scheme = *self.name_validation.get_or_insert(scheme);
        let invalid_target = || RelabelError::InvalidTargetLabel {
            label: self.target_label.clone(),
            action,
        };
        let target_ok = match action {
            Action::Replace if self.target_label.contains('$') => {
                is_valid_name_template(scheme, &self.target_label)
            }
            Action::Replace | Action::HashMod => scheme.is_valid_label_name(&self.target_label),
            a if a.is_plain_target() => scheme.is_valid_label_name(&self.target_label),
            _ => true,
        };
        // Upstream checks hashmod's target only after the replacement checks below.
        if !target_ok && action != Action::HashMod {
            return Err(invalid_target());
        }
        if action.is_plain_target() && self.replacement != DEFAULT_REPLACEMENT {
            return Err(RelabelError::ReplacementNotAllowed(action));
        }
        if action == Action::LabelMap && !is_valid_name_template(scheme, &self.replacement) {
            return Err(RelabelError::InvalidReplacement {
                replacement: self.replacement.clone(),
                action,
            });
        }
        if !target_ok {
            return Err(invalid_target());
        }
        let default_extras = self.modulus == 0
            && self.separator == DEFAULT_SEPARATOR
            && self.replacement == DEFAULT_REPLACEMENT;
        match action {
            Action::KeepEqual | Action::DropEqual
                if !(default_extras && self.regex.is_default()) =>
            {
                Err(RelabelError::OnlySourceAndTarget(action))
            }
            Action::LabelDrop | Action::LabelKeep
                if !(default_extras
                    && self.source_labels.is_none()
                    && self.target_label.is_empty()) =>
            {
                Err(RelabelError::OnlyRegex(action))
            }
            _ => Ok(()),
        }
    }

    /// The scheme label names are checked with when applying the rule.
    pub(crate) fn scheme(&self) -> NameValidation {
        self.name_validation.unwrap_or_default()
    }
}

/// Whether a label name that may contain `$1`/`${name}` references is acceptable. UTF-8
/// names can hold `$` anyway; legacy names are sequences of letters, `_`, references, and
/// (after the first of those) digits.
fn is_valid_name_template(scheme: NameValidation, s: &str) -> bool {
    if scheme == NameValidation::Utf8 {
        return scheme.is_valid_label_name(s);
    }
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            c if c.is_ascii_alphabetic() || c == b'_' => i += 1,
            c if c.is_ascii_digit() && i > 0 => i += 1,
            b'$' => {
                let braced = b.get(i + 1) == Some(&b'{');
                let start = i + 1 + usize::from(braced);
                let len = b[start..].iter().take_while(|&&c| word(c)).count();
                if len == 0 {
                    return false;
                }
                i = start + len;
                if braced {
                    if b.get(i) != Some(&b'}') {
                        return false;
                    }
                    i += 1;
                }
            }
            _ => return false,
        }
    }
    !b.is_empty()
}
