//! A CSV reader with the semantics of Go's `encoding/csv` as upstream configures it for
//! `show stat` (`#` comments, strict quotes, the field count fixed by the first record).
//!
//! The exact rules matter: which malformed rows count as parse failures (and are dropped)
//! decides `haproxy_exporter_csv_parse_failures_total` and which series exist, and HAProxy
//! versions have shipped CSV with missing commas.

use std::borrow::Cow;

/// Why one record was rejected; the reader carries on with the next line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvError {
    #[error(
        "record on line {line}; parse error on line {line}, column {column}: bare \" in non-quoted-field"
    )]
    BareQuote { line: usize, column: usize },
    #[error(
        "record on line {start}; parse error on line {line}, column {column}: extraneous or missing \" in quoted-field"
    )]
    Quote {
        start: usize,
        line: usize,
        column: usize,
    },
    #[error("record on line {line}: wrong number of fields")]
    FieldCount { line: usize },
}

/// Records of `input`, each `Ok(fields)` or the error that rejected it.
#[derive(Debug)]
pub struct Reader<'a> {
    rest: &'a [u8],
    line: usize,
    /// Go's `FieldsPerRecord`: unset until the first record (even a rejected one) fixes it.
    fields_per_record: Option<usize>,
}

impl<'a> Reader<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Self {
            rest: input,
            line: 0,
            fields_per_record: None,
        }
    }

    /// The next physical line with a `\r\n` ending turned into `\n`, and a trailing `\r` at
    /// the end of input dropped, as Go's reader does.
    fn read_line(&mut self) -> Option<Cow<'a, [u8]>> {
        if self.rest.is_empty() {
            return None;
        }
        self.line += 1;
        let end = memchr(b'\n', self.rest).map_or(self.rest.len(), |i| i + 1);
        let (line, rest) = self.rest.split_at(end);
        self.rest = rest;
        Some(match line {
            [head @ .., b'\r', b'\n'] => {
                let mut owned = head.to_vec();
                owned.push(b'\n');
                Cow::Owned(owned)
            }
            [head @ .., b'\r'] if rest.is_empty() => Cow::Borrowed(head),
            _ => Cow::Borrowed(line),
        })
    }

    /// One record: the fields parsed (possibly only some of them) and the error, if any.
    fn read_record(&mut self) -> Option<(Vec<String>, Option<CsvError>)> {
        let mut line = loop {
            let line = self.read_line()?;
            if line.first() == Some(&b'#') || line.as_ref() == b"\n" {
                continue;
            }
            break line;
        };
        let start = self.line;
        let mut fields = Vec::new();
        let mut col = 1;
        let mut pos = 0;
        let error = 'record: loop {
            let rest = &line[pos..];
            if rest.first() != Some(&b'"') {
                let comma = memchr(b',', rest);
                let field = match comma {
                    Some(i) => &rest[..i],
                    None => &rest[..rest.len() - newline_len(rest)],
                };
                if let Some(j) = memchr(b'"', field) {
                    break 'record Some(CsvError::BareQuote {
                        line: self.line,
                        column: col + j,
                    });
                }
                fields.push(String::from_utf8_lossy(field).into_owned());
                match comma {
                    Some(i) => {
                        pos += i + 1;
                        col += i + 1;
                    }
                    None => break 'record None,
                }
                continue;
            }
            // A quoted field, which may continue over several lines.
            let mut value = Vec::new();
            pos += 1;
            col += 1;
            loop {
                let rest = &line[pos..];
                if let Some(i) = memchr(b'"', rest) {
                    value.extend_from_slice(&rest[..i]);
                    pos += i + 1;
                    col += i + 1;
                    let after = &line[pos..];
                    match after.first() {
                        Some(b'"') => {
                            value.push(b'"');
                            pos += 1;
                            col += 1;
                        }
                        Some(b',') => {
                            pos += 1;
                            col += 1;
                            fields.push(String::from_utf8_lossy(&value).into_owned());
                            continue 'record;
                        }
                        _ if newline_len(after) == after.len() => {
                            fields.push(String::from_utf8_lossy(&value).into_owned());
                            break 'record None;
                        }
                        _ => {
                            break 'record Some(CsvError::Quote {
                                start,
                                line: self.line,
                                column: col - 1,
                            });
                        }
                    }
                } else if !rest.is_empty() {
                    value.extend_from_slice(rest);
                    col += rest.len();
                    match self.read_line() {
                        Some(next) => {
                            line = next;
                            pos = 0;
                            col = 1;
                        }
                        None => {
                            line = Cow::Borrowed(&[]);
                            pos = 0;
                        }
                    }
                } else {
                    break 'record Some(CsvError::Quote {
                        start,
                        line: self.line,
                        column: col,
                    });
                }
            }
        };
        match self.fields_per_record {
            Some(n) if n != fields.len() && error.is_none() => {
                Some((fields, Some(CsvError::FieldCount { line: start })))
            }
            Some(_) => Some((fields, error)),
            None => {
                self.fields_per_record = Some(fields.len());
                Some((fields, error))
            }
        }
    }
}

impl Iterator for Reader<'_> {
    type Item = Result<Vec<String>, CsvError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (fields, error) = self.read_record()?;
        Some(match error {
            None => Ok(fields),
            Some(e) => Err(e),
        })
    }
}

fn newline_len(s: &[u8]) -> usize {
    usize::from(s.last() == Some(&b'\n'))
}

fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|&b| b == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &str) -> Vec<Result<Vec<String>, CsvError>> {
        Reader::new(input.as_bytes()).collect()
    }

    fn ok(fields: &[&str]) -> Result<Vec<String>, CsvError> {
        Ok(fields.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn skips_comments_and_blank_lines() {
        assert_eq!(
            read("# pxname,svname\n\na,b,\r\nc,d,e"),
            [ok(&["a", "b", ""]), ok(&["c", "d", "e"])]
        );
    }

    #[test]
    fn first_record_fixes_the_field_count() {
        assert_eq!(
            read("a,b\nc\nd,e\n"),
            [
                ok(&["a", "b"]),
                Err(CsvError::FieldCount { line: 2 }),
                ok(&["d", "e"])
            ]
        );
    }

    #[test]
    fn quoted_fields_escape_quotes_commas_and_newlines() {
        assert_eq!(
            read("\"a,\"\"b\"\"\",\"x\ny\"\n"),
            [ok(&["a,\"b\"", "x\ny"])]
        );
    }

    #[test]
    fn bare_and_stray_quotes_are_errors() {
        let got = read("a,b\"c\n\"x\"y,z\nq,r\n");
        assert_eq!(got[0], Err(CsvError::BareQuote { line: 1, column: 4 }));
        assert_eq!(
            got[1],
            Err(CsvError::Quote {
                start: 2,
                line: 2,
                column: 3
            })
        );
        // The rejected first record still fixed the count at one parsed field.
        assert_eq!(got[2], Err(CsvError::FieldCount { line: 3 }));
        assert_eq!(
            read("\"open"),
            [Err(CsvError::Quote {
                start: 1,
                line: 1,
                column: 6
            })]
        );
    }

    #[test]
    fn error_messages_match_go() {
        assert_eq!(
            CsvError::FieldCount { line: 2 }.to_string(),
            "record on line 2: wrong number of fields"
        );
    }
}
