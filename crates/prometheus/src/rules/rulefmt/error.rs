//! Rule-file errors, printed as upstream prints them (`<file>: <line>:<col>: group "g", rule 2,
//! "name": <problem>`), since users grep logs and CI output for these texts.

use std::fmt;
use std::path::{Path, PathBuf};

use pm_common::config::positions::Position;
use pm_common::model::write_go_quoted;

/// One problem in a rule file.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}: {kind}", file.display())]
pub struct RuleFileError {
    pub file: PathBuf,
    pub kind: RuleFileErrorKind,
}

impl RuleFileError {
    pub(crate) fn new(file: &Path, kind: RuleFileErrorKind) -> Self {
        RuleFileError {
            file: file.to_owned(),
            kind,
        }
    }
}

/// What is wrong, and where.
#[derive(Clone, Debug, PartialEq)]
pub enum RuleFileErrorKind {
    /// The file could not be read.
    Read(String),
    /// Not YAML, or not the shape of a rule file (unknown or mistyped fields).
    Yaml(String),
    /// A problem with a group as a whole (its name, its labels).
    Group {
        at: Option<Position>,
        message: String,
    },
    /// A problem with one rule; `rule` counts from 1. `at`/`also_at` point at the offending
    /// node(s), e.g. both `record` and `alert` when both are set.
    Rule {
        group: String,
        rule: usize,
        name: String,
        at: Option<Position>,
        also_at: Option<Position>,
        message: String,
    },
}

impl fmt::Display for RuleFileErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = |f: &mut fmt::Formatter<'_>, p: &Option<Position>| match p {
            Some(p) => write!(f, "{}:{}: ", p.line, p.column),
            None => Ok(()),
        };
        match self {
            RuleFileErrorKind::Read(message) | RuleFileErrorKind::Yaml(message) => {
                f.write_str(message)
            }
            RuleFileErrorKind::Group { at: p, message } => {
                at(f, p)?;
                f.write_str(message)
            }
            RuleFileErrorKind::Rule {
                group,
                rule,
                name,
                at: p,
                also_at,
                message,
            } => {
                at(f, p)?;
                if p.is_some() {
                    at(f, also_at)?;
                }
                f.write_str("group ")?;
                write_go_quoted(f, group)?;
                write!(f, ", rule {rule}, ")?;
                write_go_quoted(f, name)?;
                write!(f, ": {message}")
            }
        }
    }
}
