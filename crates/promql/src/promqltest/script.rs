//! Parsing whole `.test` scripts into commands. Lines are trimmed, `#` lines are comments, and a
//! blank line ends the current command's block.

use std::collections::HashMap;

use pm_common::model::Labels;

use super::notation::{
    LoadLine, SequenceValue, SeriesLine, parse_float, parse_load_line, parse_series_line,
};
use super::{ScriptError, parse_signed_duration};

/// One command of a script, with the 1-based line it starts on.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    Load(LoadCmd),
    Clear { line: usize },
    Eval(Box<EvalCmd>),
}

/// `load <step>` / `load_with_nhcb <step>` and its series.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadCmd {
    pub line: usize,
    /// Milliseconds between consecutive values; the first value is at time 0.
    pub step: i64,
    /// Whether classic histograms are also converted to native histograms with custom buckets.
    pub with_nhcb: bool,
    pub lines: Vec<LoadLine>,
}

/// One series of a `load` block, as it is loaded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LoadSeries<'a> {
    pub labels: &'a Labels,
    /// Value `i` is at `i * step`.
    pub values: &'a [SequenceValue],
    /// Per-value start-timestamp offsets from the `@st` line just before this definition.
    pub start_timestamps: Option<&'a [Option<i64>]>,
}

impl LoadCmd {
    /// The block's series, each once in order of first appearance; a later definition of the
    /// same series replaces the earlier one, as upstream. An `@st` line applies to the next
    /// definition of its series.
    pub fn series(&self) -> Vec<LoadSeries<'_>> {
        let mut out: Vec<LoadSeries<'_>> = Vec::new();
        let mut pending_st: HashMap<&Labels, &[Option<i64>]> = HashMap::new();
        for line in &self.lines {
            match line {
                LoadLine::StartTimestamps(st) => {
                    pending_st.insert(&st.labels, &st.offsets);
                }
                LoadLine::Series(series) => {
                    let def = LoadSeries {
                        labels: &series.labels,
                        values: &series.values,
                        start_timestamps: pending_st.remove(&series.labels),
                    };
                    match out.iter_mut().find(|s| s.labels == &series.labels) {
                        Some(existing) => *existing = def,
                        None => out.push(def),
                    }
                }
            }
        }
        out
    }
}

/// What an eval runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvalKind {
    Instant { at: i64 },
    Range { start: i64, end: i64, step: i64 },
}

/// An expected annotation or error text: exact, by RE2 regex, or any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MessageMatch {
    Any,
    Exact(String),
    Regex(String),
}

/// What an eval expects of the result value.
#[derive(Clone, Debug, PartialEq, Default)]
pub enum ExpectedResult {
    /// No result lines: an empty vector or matrix.
    #[default]
    Empty,
    Scalar(f64),
    String(String),
    /// Series lines; for instant evals one value each.
    Series(Vec<SeriesLine>),
    /// `expect range vector from … to … step …` with its series lines.
    RangeVector {
        start: i64,
        end: i64,
        step: i64,
        series: Vec<SeriesLine>,
    },
}

/// `eval instant` / `eval range` with its expectations.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalCmd {
    pub line: usize,
    pub expr: String,
    pub kind: EvalKind,
    /// `Some` when the query must fail.
    pub fail: Option<MessageMatch>,
    pub warn: Vec<MessageMatch>,
    pub info: Vec<MessageMatch>,
    pub no_warn: bool,
    pub no_info: bool,
    pub ordered: bool,
    pub expected: ExpectedResult,
}

/// Parses a whole script.
pub fn parse_script(text: &str) -> Result<Vec<Command>, ScriptError> {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| {
            let l = l.trim();
            if l.starts_with('#') { "" } else { l }
        })
        .collect();
    let mut commands = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let lineno = i + 1;
        i += 1;
        if line.is_empty() {
            continue;
        }
        let block_end = lines[i..]
            .iter()
            .position(|l| l.is_empty())
            .map_or(lines.len(), |p| i + p);
        let block = (i..block_end).map(|j| (j + 1, lines[j]));
        let err = |msg: String| ScriptError::new(lineno, msg);
        let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let word = word.to_ascii_lowercase();
        let command = match word.as_str() {
            "clear" => {
                // `clear` stands alone: the next line may start another command.
                commands.push(Command::Clear { line: lineno });
                continue;
            }
            "load" | "load_with_nhcb" => {
                let step = parse_signed_duration(rest.trim()).map_err(err)?;
                let lines = block
                    .map(|(n, l)| parse_load_line(l).map_err(|m| ScriptError::new(n, m)))
                    .collect::<Result<_, _>>()?;
                Command::Load(LoadCmd {
                    line: lineno,
                    step,
                    with_nhcb: word == "load_with_nhcb",
                    lines,
                })
            }
            "eval" | "eval_fail" | "eval_warn" | "eval_info" | "eval_ordered" => {
                let mut cmd = parse_eval_header(&word, rest.trim(), lineno)?;
                for (n, l) in block {
                    parse_eval_line(&mut cmd, l).map_err(|m| ScriptError::new(n, m))?;
                }
                Command::Eval(Box::new(cmd))
            }
            other => return Err(err(format!("invalid command {other:?}"))),
        };
        commands.push(command);
        i = block_end;
    }
    Ok(commands)
}

fn parse_eval_header(word: &str, rest: &str, line: usize) -> Result<EvalCmd, ScriptError> {
    let err = |msg: String| ScriptError::new(line, msg);
    let (kind, expr) = if let Some(r) = rest.strip_prefix("instant at ") {
        let (at, expr) = r
            .trim_start()
            .split_once(char::is_whitespace)
            .ok_or_else(|| err("missing expression".into()))?;
        (
            EvalKind::Instant {
                at: parse_signed_duration(at).map_err(err)?,
            },
            expr,
        )
    } else if let Some(r) = rest.strip_prefix("range from ") {
        let words: Vec<&str> = r.splitn(6, char::is_whitespace).collect();
        match words.as_slice() {
            [start, "to", end, "step", step, expr] => (
                EvalKind::Range {
                    start: parse_signed_duration(start).map_err(err)?,
                    end: parse_signed_duration(end).map_err(err)?,
                    step: parse_signed_duration(step).map_err(err)?,
                },
                *expr,
            ),
            _ => return Err(err(format!("invalid range eval {rest:?}"))),
        }
    } else {
        return Err(err(format!("invalid eval command {rest:?}")));
    };
    if word == "eval_ordered" && matches!(kind, EvalKind::Range { .. }) {
        return Err(err("eval_ordered is not supported for range queries".into()));
    }
    Ok(EvalCmd {
        line,
        expr: expr.trim().to_string(),
        kind,
        fail: (word == "eval_fail").then_some(MessageMatch::Any),
        warn: if word == "eval_warn" {
            vec![MessageMatch::Any]
        } else {
            Vec::new()
        },
        info: if word == "eval_info" {
            vec![MessageMatch::Any]
        } else {
            Vec::new()
        },
        no_warn: false,
        no_info: false,
        ordered: word == "eval_ordered",
        expected: ExpectedResult::Empty,
    })
}

/// `msg: text`, `regex: re` or nothing.
fn parse_message(rest: &str) -> Result<MessageMatch, String> {
    let rest = rest.trim();
    if rest.is_empty() {
        Ok(MessageMatch::Any)
    } else if let Some(m) = rest.strip_prefix("msg:") {
        Ok(MessageMatch::Exact(m.trim().to_string()))
    } else if let Some(r) = rest.strip_prefix("regex:") {
        Ok(MessageMatch::Regex(r.trim().to_string()))
    } else {
        Err(format!(
            "invalid expect message {rest:?}: want msg: or regex:"
        ))
    }
}

fn parse_eval_line(cmd: &mut EvalCmd, line: &str) -> Result<(), String> {
    if let Some(rest) = line.strip_prefix("expect ") {
        return parse_expect(cmd, rest.trim());
    }
    if let Some(m) = line.strip_prefix("expected_fail_message ") {
        cmd.fail = Some(MessageMatch::Exact(m.to_string()));
        return Ok(());
    }
    if let Some(r) = line.strip_prefix("expected_fail_regexp ") {
        cmd.fail = Some(MessageMatch::Regex(r.to_string()));
        return Ok(());
    }
    if let Some(v) = parse_float(line) {
        if !matches!(cmd.expected, ExpectedResult::Empty) {
            return Err("a scalar result cannot be combined with other result lines".into());
        }
        cmd.expected = ExpectedResult::Scalar(v);
        return Ok(());
    }
    let series = parse_series_line(line)?;
    match &mut cmd.expected {
        ExpectedResult::Series(s) | ExpectedResult::RangeVector { series: s, .. } => s.push(series),
        ExpectedResult::Empty => cmd.expected = ExpectedResult::Series(vec![series]),
        _ => return Err("series lines cannot follow a scalar or string result".into()),
    }
    if let (EvalKind::Instant { .. }, ExpectedResult::Series(s)) = (&cmd.kind, &cmd.expected)
        && s.last().is_some_and(|l| l.values.len() > 1)
    {
        return Err("expecting multiple values in instant evaluation not allowed".into());
    }
    Ok(())
}

fn parse_expect(cmd: &mut EvalCmd, rest: &str) -> Result<(), String> {
    let (word, args) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    match word {
        "fail" => {
            if cmd.fail.is_some() {
                return Err("only one expect fail line is allowed per eval".into());
            }
            cmd.fail = Some(parse_message(args)?);
        }
        "warn" => cmd.warn.push(parse_message(args)?),
        "info" => cmd.info.push(parse_message(args)?),
        "no_warn" => cmd.no_warn = true,
        "no_info" => cmd.no_info = true,
        "ordered" => {
            if matches!(cmd.kind, EvalKind::Range { .. }) {
                return Err("expect ordered is not supported for range queries".into());
            }
            cmd.ordered = true;
        }
        "string" => {
            let s = args.trim();
            let inner = s
                .strip_prefix('"')
                .and_then(|s| s.strip_suffix('"'))
                .or_else(|| s.strip_prefix('`').and_then(|s| s.strip_suffix('`')))
                .ok_or_else(|| format!("expected a quoted string, got {s:?}"))?;
            cmd.expected = ExpectedResult::String(inner.to_string());
        }
        "range" => {
            let words: Vec<&str> = args.split_whitespace().collect();
            let ["vector", "from", start, "to", end, "step", step] = words.as_slice() else {
                return Err(format!("invalid expect range vector line {args:?}"));
            };
            let series = match std::mem::take(&mut cmd.expected) {
                ExpectedResult::Series(s) => s,
                _ => Vec::new(),
            };
            cmd.expected = ExpectedResult::RangeVector {
                start: parse_signed_duration(start)?,
                end: parse_signed_duration(end)?,
                step: parse_signed_duration(step)?,
                series,
            };
        }
        other => return Err(format!("invalid expect keyword {other:?}")),
    }
    if (cmd.no_warn && !cmd.warn.is_empty()) || (cmd.no_info && !cmd.info.is_empty()) {
        return Err("expect no_warn/no_info cannot be combined with warn/info".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests;
