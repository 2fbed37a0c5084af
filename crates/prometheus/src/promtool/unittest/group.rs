//! One test group: its input series loaded step by step while the rule groups are evaluated
//! at every evaluation interval, alerts compared at their `eval_time`s, then the PromQL
//! expression tests run on everything stored.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use jiff::{SignedDuration, Timestamp};
use pm_common::model::{Label, Labels};
use pm_common::template::time::duration_string;
use pm_promql::engine::{Engine, EngineOptions, Value, Vector};
use pm_promql::promqltest::{LoadLine, SequenceValue, parse_load_line, parse_series_line};
use pm_storage::{Appendable, MemStorage, SeriesRef};

use super::UnitTestOptions;
use super::report::{
    LabelsAndAnnotations, Pairs, ParsedSample, alerts_string, indent_lines, matrix_string,
    samples_string,
};
use super::spec::{AlertTestCase, TestGroup};
use crate::promtool::{Output, go_quoted};
use crate::rules::{
    AlertState, EvalContext, Group, LoadOptions, Rule, RuleMetrics, load_groups, rulefmt,
    template_query,
};
use crate::template::Env;

/// What a test group shares with the rest of its file.
pub(super) struct Setup<'a> {
    /// The group's name, `unnamed#<index>` without one.
    pub name: &'a str,
    pub eval_interval: Duration,
    /// `group_eval_order`: rule group name to its position.
    pub order: &'a HashMap<String, usize>,
    pub rule_files: &'a [String],
    pub fuzzy_compare: bool,
    pub opts: &'a UnitTestOptions,
}

/// Runs the group's tests and returns their failures.
pub(super) fn run(
    tg: &TestGroup,
    setup: &Setup<'_>,
    o: &mut Output<'_>,
) -> io::Result<Vec<String>> {
    let started = Instant::now();
    if setup.opts.debug {
        writeln!(o.err, "DEBUG: Starting test {}", setup.name)?;
    }
    let errs = Runner::new(tg, setup).map_or_else(|errs| errs, |r| r.run(o));
    if setup.opts.debug {
        let took = SignedDuration::try_from(started.elapsed()).unwrap_or(SignedDuration::MAX);
        writeln!(
            o.err,
            "DEBUG: Test {} finished, took {}",
            setup.name,
            duration_string(took)
        )?;
    }
    Ok(errs)
}

/// One input series, appended up to the current evaluation time as the test advances, so
/// that rules never see samples from their future.
struct InputSeries {
    labels: Labels,
    /// `(timestamp ms, value)`, omitted steps left out.
    samples: Vec<(i64, SequenceValue)>,
    next: usize,
    sref: SeriesRef,
}

struct Runner<'a> {
    tg: &'a TestGroup,
    setup: &'a Setup<'a>,
    storage: MemStorage,
    ctx: EvalContext,
    groups: Vec<Group>,
    inputs: Vec<InputSeries>,
    /// Time 0 of the group, in milliseconds since the epoch.
    mint: i64,
}

impl<'a> Runner<'a> {
    fn new(tg: &'a TestGroup, setup: &'a Setup<'a>) -> Result<Self, Vec<String>> {
        let mint = tg.start_timestamp.map_or(0, |t| t.0);
        let interval = tg
            .interval
            .map(|d| d.as_std())
            .filter(|d| !d.is_zero())
            .unwrap_or(setup.eval_interval);
        let inputs = load_inputs(tg, mint, interval).map_err(|e| vec![e])?;
        let storage = MemStorage::new();
        let opts = setup.opts;
        let engine = Engine::new(EngineOptions {
            max_samples: 10_000,
            timeout: Some(Duration::from_secs(100)),
            enable_delayed_name_removal: opts.delayed_name_removal,
            parser: opts.parser,
            default_subquery_step: millis(setup.eval_interval),
            max_concurrency: None,
            ..EngineOptions::default()
        });
        let external_labels = Labels::from_pairs(
            tg.external_labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        let load = LoadOptions {
            interval: tg.interval.map(|d| d.as_std()).unwrap_or_default(),
            external_labels,
            external_url: tg.external_url.clone(),
            should_restore: false,
            parse: rulefmt::ParseOptions {
                ignore_unknown_fields: opts.ignore_unknown_fields,
                parser: opts.parser,
                ..rulefmt::ParseOptions::default()
            },
        };
        let mut groups = load_groups(setup.rule_files, &load)?;
        groups.sort_by_key(|g| setup.order.get(g.name()).copied().unwrap_or(0));
        let queryable = Arc::new(storage.clone());
        let query = {
            let engine = engine.clone();
            let queryable = queryable.clone();
            Arc::new(move |q: &str, t: i64| template_query(&engine, queryable.as_ref(), q, t))
        };
        let ctx = EvalContext {
            queryable,
            appendable: Arc::new(storage.clone()),
            engine,
            sink: None,
            template: Env {
                external_url: tg.external_url.clone(),
                query: Some(query),
            },
            external_url: tg.external_url.clone(),
            resend_delay: Duration::from_secs(60),
            outage_tolerance: Duration::from_secs(3600),
            for_grace_period: Duration::from_secs(600),
            default_query_offset: AtomicU64::new(0),
            metrics: RuleMetrics::unregistered(),
        };
        Ok(Runner {
            tg,
            setup,
            storage,
            ctx,
            groups,
            inputs,
            mint,
        })
    }

    fn run(mut self, o: &mut Output<'_>) -> Vec<String> {
        let mut errs = match self.check_alerts() {
            Ok(errs) => errs,
            Err(errs) => return errs,
        };
        for case in &self.tg.promql_expr_test {
            if let Some(e) = self.check_expr(case) {
                errs.push(e);
            }
        }
        if self.setup.opts.debug {
            // Debug output is best effort: a closed stderr must not hide the test results.
            let _ = self.dump(o);
        }
        errs
    }

    /// Evaluates the rule groups from time 0 to the last `eval_time`, comparing alerts on
    /// the way; an evaluation error ends the group (`Err`, with the failures so far).
    fn check_alerts(&mut self) -> Result<Vec<String>, Vec<String>> {
        let mut by_time: BTreeMap<i64, Vec<&AlertTestCase>> = BTreeMap::new();
        for case in &self.tg.alert_rule_test {
            if case.alertname.is_empty() {
                let in_group = if self.tg.name.is_empty() {
                    String::new()
                } else {
                    format!(" (in TestGroup {})", self.tg.name)
                };
                return Err(vec![format!(
                    "an item under alert_rule_test misses required attribute alertname at eval_time {}{in_group}",
                    case.eval_time
                )]);
            }
            by_time
                .entry(millis(case.eval_time.as_std()))
                .or_default()
                .push(case);
        }
        let step = millis(self.setup.eval_interval).max(1);
        let maxt = self.mint + self.max_eval_time();
        let mut errs = Vec::new();
        let mut pending = by_time.into_iter().peekable();
        let mut ts = self.mint;
        while ts <= maxt {
            if let Err(e) = self.append_till(ts) {
                errs.push(e);
            }
            let eval_errs = self.eval_groups(ts);
            if !eval_errs.is_empty() {
                errs.extend(eval_errs);
                return Err(errs);
            }
            let offset = ts - self.mint;
            while let Some(cases) = pending.next_if(|(t, _)| offset <= *t && *t < offset + step) {
                errs.extend(self.compare_alerts(&cases.1));
            }
            ts += step;
        }
        Ok(errs)
    }

    fn append_till(&mut self, ts: i64) -> Result<(), String> {
        let mut app = self.storage.appender();
        for series in &mut self.inputs {
            while let Some((t, value)) = series.samples.get(series.next) {
                if *t > ts {
                    break;
                }
                series.sref = match value {
                    SequenceValue::Float(v) => app.append(series.sref, &series.labels, *t, *v),
                    SequenceValue::Histogram { histogram, .. } => {
                        app.append_histogram(series.sref, &series.labels, *t, None, Some(histogram))
                    }
                    SequenceValue::Omitted => Ok(series.sref),
                }
                .map_err(|e| e.to_string())?;
                series.next += 1;
            }
        }
        app.commit().map_err(|e| e.to_string())
    }

    fn eval_groups(&self, ts: i64) -> Vec<String> {
        let at = Timestamp::from_millisecond(ts).unwrap_or(Timestamp::UNIX_EPOCH);
        let since_epoch = duration_string(SignedDuration::from_millis(ts));
        let mut errs = Vec::new();
        for group in &self.groups {
            group.eval(&self.ctx, at);
            for rule in group.rules() {
                if let Some(err) = rule.status().last_error {
                    errs.push(format!(
                        "    rule: {}, time: {since_epoch}, err: {err}",
                        rule.name()
                    ));
                }
            }
        }
        errs
    }

    /// Compares the firing alerts of every rule named in `cases` (all at one `eval_time`).
    fn compare_alerts(&self, cases: &[&AlertTestCase]) -> Vec<String> {
        let names: BTreeSet<&str> = cases.iter().map(|c| c.alertname.as_str()).collect();
        let mut got: HashMap<&str, Vec<LabelsAndAnnotations>> = HashMap::new();
        for rule in self.groups.iter().flat_map(Group::rules) {
            let Rule::Alerting(ar) = rule else { continue };
            let Some(name) = names.get(ar.name()) else {
                continue;
            };
            got.entry(name).or_default().extend(
                ar.active_alerts()
                    .into_iter()
                    .filter(|a| a.state == AlertState::Firing)
                    .map(|a| LabelsAndAnnotations {
                        labels: to_pairs(&a.labels),
                        annotations: to_pairs(a.annotations.iter()),
                    }),
            );
        }
        let mut errs = Vec::new();
        for case in cases {
            let mut got = got
                .get(case.alertname.as_str())
                .cloned()
                .unwrap_or_default();
            let mut exp: Vec<LabelsAndAnnotations> = case
                .exp_alerts
                .iter()
                .map(|a| {
                    // The rule adds `alertname`; test authors leave it out.
                    let mut labels = a.exp_labels.clone();
                    labels.insert("alertname".into(), case.alertname.clone());
                    LabelsAndAnnotations {
                        labels,
                        annotations: a.exp_annotations.clone(),
                    }
                })
                .collect();
            got.sort();
            exp.sort();
            if got != exp {
                let name = if self.tg.name.is_empty() {
                    String::new()
                } else {
                    format!("    name: {},\n", self.tg.name)
                };
                errs.push(format!(
                    "{name}    alertname: {}, time: {}, \n        exp:{}, \n        got:{}",
                    case.alertname,
                    case.eval_time,
                    indent_lines(&alerts_string(&exp), "            "),
                    indent_lines(&alerts_string(&got), "            "),
                ));
            }
        }
        errs
    }

    fn check_expr(&self, case: &super::spec::PromqlTestCase) -> Option<String> {
        let fail = |err: &str| {
            format!(
                "    expr: {}, time: {}, err: {err}",
                go_quoted(&case.expr),
                case.eval_time
            )
        };
        let t = self.mint + millis(case.eval_time.as_std());
        let got = match self.query(&case.expr, t) {
            Ok(v) => v,
            Err(e) => return Some(fail(&e)),
        };
        let mut got: Vec<ParsedSample> = got
            .into_iter()
            .map(|s| ParsedSample {
                labels: s.metric,
                value: s.f,
            })
            .collect();
        let mut exp = Vec::with_capacity(case.exp_samples.len());
        for s in &case.exp_samples {
            match parse_series_line(&s.labels) {
                Ok(line) => exp.push(ParsedSample {
                    labels: line.labels,
                    value: s.value,
                }),
                Err(e) => return Some(fail(&format!("labels {}: {e}", go_quoted(&s.labels)))),
            }
        }
        exp.sort_by(|a, b| a.labels.cmp(&b.labels));
        got.sort_by(|a, b| a.labels.cmp(&b.labels));
        let equal = exp.len() == got.len()
            && exp.iter().zip(&got).all(|(e, g)| {
                e.labels == g.labels && floats_equal(e.value, g.value, self.setup.fuzzy_compare)
            });
        (!equal).then(|| {
            format!(
                "    expr: {}, time: {},\n        exp: {}\n        got: {}",
                go_quoted(&case.expr),
                case.eval_time,
                samples_string(&exp),
                samples_string(&got)
            )
        })
    }

    /// An instant query whose scalar result counts as one sample without labels.
    fn query(&self, expr: &str, t: i64) -> Result<Vector, String> {
        let result = self
            .ctx
            .engine
            .instant(self.ctx.queryable.as_ref(), expr, t)
            .map_err(|e| e.to_string())?;
        match result.value {
            Value::Vector(v) => Ok(v),
            Value::Scalar { t, v } => Ok(vec![pm_promql::engine::Sample::float(
                Labels::default(),
                t,
                v,
            )]),
            _ => Err("rule result is not a vector or scalar".into()),
        }
    }

    /// `--debug`: every stored series (inputs and rule results) up to the last eval time.
    fn dump(&self, o: &mut Output<'_>) -> io::Result<()> {
        // Whole seconds, rounded up, as a range selector cannot hold fractions.
        let secs = self.max_eval_time() / 1000 + 1;
        let range = format!("{secs}s");
        let expr = format!("{{__name__=~\".+\"}}[{range}]");
        let result =
            self.ctx
                .engine
                .instant(self.ctx.queryable.as_ref(), &expr, self.mint + secs * 1000);
        match result {
            Ok(r) => match r.value {
                Value::Matrix(m) => {
                    let at = duration_string(SignedDuration::from_secs(secs));
                    writeln!(
                        o.err,
                        "DEBUG: Dump of all data (input_series and rules) at {at}:"
                    )?;
                    writeln!(o.err, "{}", matrix_string(&m))
                }
                other => writeln!(o.err, "DEBUG: Got unexpected type {}", other.type_name()),
            },
            Err(e) => writeln!(
                o.err,
                "DEBUG: Failed query exec, expr: {}, err: {e}",
                go_quoted(&expr)
            ),
        }
    }

    /// The latest `eval_time` of any test, in milliseconds.
    fn max_eval_time(&self) -> i64 {
        let alerts = self.tg.alert_rule_test.iter().map(|c| c.eval_time);
        let exprs = self.tg.promql_expr_test.iter().map(|c| c.eval_time);
        alerts
            .chain(exprs)
            .map(|d| millis(d.as_std()))
            .max()
            .unwrap_or(0)
    }
}

fn to_pairs<'a>(labels: impl IntoIterator<Item = Label<'a>>) -> Pairs {
    labels
        .into_iter()
        .map(|l| (l.name.to_owned(), l.value.to_owned()))
        .collect()
}

/// Parses `input_series` as the lines of a `load` block: value `i` at `mint + i * interval`;
/// a series given twice keeps its last definition.
fn load_inputs(tg: &TestGroup, mint: i64, interval: Duration) -> Result<Vec<InputSeries>, String> {
    let step = millis(interval);
    let mut inputs: Vec<InputSeries> = Vec::with_capacity(tg.input_series.len());
    for (i, input) in tg.input_series.iter().enumerate() {
        let line = format!("{} {}", input.series, input.values);
        let parsed = match parse_load_line(&line) {
            Ok(LoadLine::Series(s)) => s,
            Ok(LoadLine::StartTimestamps(_)) => {
                return Err(format!(
                    "input_series {i}: start timestamps are not supported"
                ));
            }
            Err(e) => return Err(format!("input_series {i}: {line:?}: {e}")),
        };
        let samples = parsed
            .values
            .into_iter()
            .enumerate()
            .filter(|(_, v)| !matches!(v, SequenceValue::Omitted))
            .map(|(i, v)| (mint + i as i64 * step, v))
            .collect();
        let series = InputSeries {
            labels: parsed.labels,
            samples,
            next: 0,
            sref: SeriesRef::UNKNOWN,
        };
        match inputs.iter_mut().find(|s| s.labels == series.labels) {
            Some(existing) => *existing = series,
            None => inputs.push(series),
        }
    }
    Ok(inputs)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Exact equality, or with `fuzzy_compare` one ULP apart.
fn floats_equal(a: f64, b: f64, fuzzy: bool) -> bool {
    if a == b {
        return true;
    }
    fuzzy && (a.next_down() == b || a.next_up() == b)
}
