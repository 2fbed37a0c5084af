//! `Accept` header parsing with the exact ordering of the Go package prometheus/common uses
//! (`github.com/munnerz/goautoneg`), so that ambiguous headers negotiate the same format.

/// One media range of an `Accept` header.
#[derive(Clone, Debug, PartialEq)]
pub struct AcceptClause {
    pub media_type: String,
    pub subtype: String,
    /// The `q` weight; 1 when absent, 0 when unparsable (as upstream).
    pub q: f32,
    /// Parameters other than `q`, in header order; a repeated key keeps its last value.
    pub params: Vec<(String, String)>,
}

impl AcceptClause {
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The goautoneg ordering: higher q first, but also any concrete type before a `*` type and
    /// any concrete subtype before a `*` subtype regardless of q. It is not a strict weak order,
    /// so the result depends on the sorting algorithm, reproduced in [`parse_accept`].
    fn sorts_before(&self, other: &AcceptClause) -> bool {
        self.q > other.q
            || (self.media_type != "*" && other.media_type == "*")
            || (self.subtype != "*" && other.subtype == "*")
    }
}

/// Parses an `Accept` header into clauses in preference order. Malformed media ranges are
/// skipped; parameters without `=` are ignored.
pub fn parse_accept(header: &str) -> Vec<AcceptClause> {
    let mut clauses = Vec::new();
    for part in header.split(',') {
        let part = part.trim_matches(' ');
        let mut pieces = part.split(';');
        let range = pieces.next().unwrap_or_default();
        let mut types = range.split('/');
        let media_type = types.next().unwrap_or_default().trim_matches(' ');
        let subtype = match (types.next(), types.next()) {
            (None, _) if media_type == "*" => "*",
            (Some(sub), None) => sub.trim_matches(' '),
            _ => continue,
        };
        let mut clause = AcceptClause {
            media_type: media_type.to_owned(),
            subtype: subtype.to_owned(),
            q: 1.0,
            params: Vec::new(),
        };
        for param in pieces {
            let Some((key, value)) = param.split_once('=') else {
                continue;
            };
            let key = key.trim_matches(' ');
            if key == "q" {
                // The value is not trimmed upstream either: `q= 0.5` weighs 0.
                clause.q = value.parse().unwrap_or(0.0);
            } else {
                clause
                    .params
                    .push((key.to_owned(), value.trim_matches(' ').to_owned()));
            }
        }
        clauses.push(clause);
    }
    // Go's sort.Sort on so few elements is an insertion sort; with a non-transitive ordering only
    // the same algorithm gives the same result.
    for i in 1..clauses.len() {
        let mut j = i;
        while j > 0 && clauses[j].sorts_before(&clauses[j - 1]) {
            clauses.swap(j, j - 1);
            j -= 1;
        }
    }
    clauses
}
