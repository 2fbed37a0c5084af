//! Parse errors, formatted exactly as upstream's (`1:5: parse error: unexpected <op:+>`).

use std::fmt;

use super::ast::PosRange;

/// Where an error starts, as `line:column` (1-based, column counted in bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    LineColumn(usize, usize),
    /// The query was empty.
    Unknown,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::LineColumn(line, col) => write!(f, "{line}:{col}"),
            Location::Unknown => f.write_str("unknown position"),
        }
    }
}

/// One error with its position in the query.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{location}: parse error: {message}")]
pub struct ParseErr {
    pub pos: PosRange,
    pub location: Location,
    pub message: String,
}

impl ParseErr {
    pub(crate) fn new(query: &str, pos: PosRange, message: String) -> Self {
        ParseErr {
            pos,
            location: locate(query, pos.start, 0),
            message,
        }
    }

    /// Recomputes the location for a query that starts `line_offset` lines into a larger text
    /// (test scripts, rule files).
    pub fn with_line_offset(mut self, query: &str, line_offset: usize) -> Self {
        self.location = locate(query, self.pos.start, line_offset);
        self
    }
}

fn locate(query: &str, pos: usize, line_offset: usize) -> Location {
    if query.is_empty() {
        return Location::Unknown;
    }
    let before = &query.as_bytes()[..pos.min(query.len())];
    let line = line_offset + 1 + before.iter().filter(|&&b| b == b'\n').count();
    let col = match before.iter().rposition(|&b| b == b'\n') {
        Some(nl) => pos - nl,
        None => pos + 1,
    };
    Location::LineColumn(line, col)
}

/// All errors of one parse. Like upstream, only the first one is shown by `Display`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseErrors(pub Vec<ParseErr>);

impl fmt::Display for ParseErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.first() {
            Some(e) => e.fmt(f),
            None => f.write_str("error contains no error message"),
        }
    }
}

impl std::error::Error for ParseErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        let e = ParseErr::new(
            "foo\nbar +",
            PosRange::new(9, 9),
            "unexpected end of input".into(),
        );
        assert_eq!(e.to_string(), "2:6: parse error: unexpected end of input");
        let e = ParseErr::new(
            "",
            PosRange::default(),
            "no expression found in input".into(),
        );
        assert_eq!(
            e.to_string(),
            "unknown position: parse error: no expression found in input"
        );
        assert_eq!(
            ParseErrors(vec![]).to_string(),
            "error contains no error message"
        );
    }
}
