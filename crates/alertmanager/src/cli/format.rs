//! amtool's output formats (`-o simple|extended|json`): tab-aligned tables as Go's
//! `text/tabwriter` lays them out, dates in a Go layout, and JSON as Go's encoder writes it.

use std::io;

use clap::ValueEnum;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;

use super::wire::{AlertmanagerStatus, GettableAlert, GettableSilence, LabelSet, SilenceMatcher};
use crate::labels::{MatchType, Matcher};

/// Upstream's default `--date.format`.
pub const DEFAULT_DATE_FORMAT: &str = "2006-01-02 15:04:05 MST";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Simple,
    Extended,
    Json,
}

/// Renders API objects in one output format.
#[derive(Debug, Clone)]
pub struct Formatter {
    pub output: Output,
    /// A Go reference layout.
    pub date_format: String,
}

impl Formatter {
    /// API times are UTC, which is how Go keeps a parsed `Z` time, so they print as such.
    fn date(&self, text: &str) -> String {
        match text.parse::<Timestamp>() {
            Ok(t) => pm_common::template::time::format(
                &t.to_zoned_datetime(TimeZone::UTC),
                &self.date_format,
            ),
            Err(_) => text.to_owned(),
        }
    }

    /// Alerts: tables list the oldest first, JSON keeps the server's order (as upstream).
    pub fn alerts(&self, alerts: &mut [GettableAlert]) -> String {
        if self.output != Output::Json {
            alerts.sort_by_cached_key(|a| a.starts_at.parse::<Timestamp>().ok());
        }
        match self.output {
            Output::Json => go_json(&alerts),
            Output::Simple => {
                let mut rows = vec![cells(&["Alertname", "Starts At", "Summary", "State"])];
                rows.extend(alerts.iter().map(|a| {
                    vec![
                        a.labels.get("alertname").cloned().unwrap_or_default(),
                        self.date(&a.starts_at),
                        a.annotations.get("summary").cloned().unwrap_or_default(),
                        a.status.state.clone(),
                    ]
                }));
                tabulate(&rows)
            }
            Output::Extended => {
                let mut rows = vec![cells(&[
                    "Labels",
                    "Annotations",
                    "Starts At",
                    "Ends At",
                    "Generator URL",
                    "State",
                ])];
                rows.extend(alerts.iter().map(|a| {
                    vec![
                        label_pairs(&a.labels),
                        label_pairs(&a.annotations),
                        self.date(&a.starts_at),
                        self.date(&a.ends_at),
                        a.generator_url.clone(),
                        a.status.state.clone(),
                    ]
                }));
                tabulate(&rows)
            }
        }
    }

    /// Silences: tables list the soonest end first, JSON keeps the server's order (as
    /// upstream).
    pub fn silences(&self, silences: &mut [GettableSilence]) -> String {
        if self.output != Output::Json {
            silences.sort_by_cached_key(|s| s.silence.ends_at.parse::<Timestamp>().ok());
        }
        match self.output {
            Output::Json => go_json(&silences),
            Output::Simple => {
                let mut rows = vec![cells(&[
                    "ID",
                    "Matchers",
                    "Ends At",
                    "Created By",
                    "Comment",
                ])];
                rows.extend(silences.iter().map(|s| {
                    let matchers: Vec<String> =
                        s.silence.matchers.iter().map(matcher_text).collect();
                    vec![
                        s.id.clone(),
                        matchers.join(" "),
                        self.date(&s.silence.ends_at),
                        s.silence.created_by.clone(),
                        s.silence.comment.clone(),
                    ]
                }));
                tabulate(&rows)
            }
            Output::Extended => {
                let mut rows = vec![cells(&[
                    "ID",
                    "Matchers",
                    "Starts At",
                    "Ends At",
                    "Updated At",
                    "Created By",
                    "Comment",
                ])];
                rows.extend(silences.iter().map(|s| {
                    let matchers: Vec<String> =
                        s.silence.matchers.iter().map(matcher_text).collect();
                    vec![
                        s.id.clone(),
                        format!("{{{}}}", matchers.join(",")),
                        self.date(&s.silence.starts_at),
                        self.date(&s.silence.ends_at),
                        self.date(&s.updated_at),
                        s.silence.created_by.clone(),
                        s.silence.comment.clone(),
                    ]
                }));
                tabulate(&rows)
            }
        }
    }

    /// `config show`: the running config, plus build details when extended.
    pub fn config(&self, status: &AlertmanagerStatus) -> String {
        match self.output {
            Output::Json => go_json(status),
            Output::Simple => format!("{}\n", status.config.original),
            Output::Extended => {
                // Upstream 0.25 prints pointer addresses here; we print the values.
                let v = &status.version_info;
                format!(
                    "{}\nbuildUser {}\ngoVersion {}\nrevision {}\nversion {}\nbranch {}\nbuildDate {}\nuptime {}\n",
                    status.config.original,
                    v.build_user,
                    v.go_version,
                    v.revision,
                    v.version,
                    v.branch,
                    v.build_date,
                    status.uptime
                )
            }
        }
    }
}

fn cells(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

/// `name="value"` pairs sorted as text, space-separated (values are not escaped, as upstream).
fn label_pairs(labels: &LabelSet) -> String {
    let mut pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    pairs.sort();
    pairs.join(" ")
}

/// An API matcher as upstream prints it; a missing `isEqual` (older servers) means equal.
fn matcher_text(m: &SilenceMatcher) -> String {
    let kind = match (m.is_regex, m.is_equal.unwrap_or(true)) {
        (false, true) => MatchType::Equal,
        (false, false) => MatchType::NotEqual,
        (true, true) => MatchType::Regexp,
        (true, false) => MatchType::NotRegexp,
    };
    match Matcher::new(kind, &m.name, &m.value) {
        Ok(m) => m.to_string(),
        // A regex the server stored but we cannot compile: shown as written.
        Err(_) => format!("{}{}\"{}\"", m.name, kind.as_str(), m.value),
    }
}

/// Go's `tabwriter` with padding 2 and every cell tab-terminated: each column is as wide as
/// its widest cell (in characters) plus two spaces, trailing padding included.
pub fn tabulate(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
                + 2
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        for (cell, width) in row.iter().zip(&widths) {
            out.push_str(cell);
            out.extend(std::iter::repeat_n(' ', width - cell.chars().count()));
        }
        out.push('\n');
    }
    out
}

/// JSON as Go's `json.Encoder` writes it: `<`, `>`, `&`, U+2028 and U+2029 escaped, and a
/// final newline.
pub fn go_json<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, GoEscape);
    // Serializing plain data into memory cannot fail.
    if value.serialize(&mut ser).is_err() {
        return String::from("null\n");
    }
    out.push(b'\n');
    String::from_utf8(out).unwrap_or_default()
}

struct GoEscape;

impl serde_json::ser::Formatter for GoEscape {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            let escaped = match c {
                '<' => "\\u003c",
                '>' => "\\u003e",
                '&' => "\\u0026",
                '\u{2028}' => "\\u2028",
                '\u{2029}' => "\\u2029",
                _ => continue,
            };
            writer.write_all(&fragment.as_bytes()[start..i])?;
            writer.write_all(escaped.as_bytes())?;
            start = i + c.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabulate_pads_every_cell_like_tabwriter() {
        let rows = vec![cells(&["ID", "Comment"]), cells(&["abc", "é"])];
        assert_eq!(tabulate(&rows), "ID   Comment  \nabc  é        \n");
    }

    #[test]
    fn json_escapes_as_go() {
        assert_eq!(
            go_json(&"a<b>&c\u{2028}"),
            "\"a\\u003cb\\u003e\\u0026c\\u2028\"\n"
        );
    }

    #[test]
    fn dates_use_the_go_layout() {
        let f = Formatter {
            output: Output::Simple,
            date_format: DEFAULT_DATE_FORMAT.into(),
        };
        assert_eq!(
            f.date("2026-01-02T03:04:05.678Z"),
            "2026-01-02 03:04:05 UTC"
        );
    }
}
