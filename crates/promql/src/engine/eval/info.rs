//! The experimental `info()` function: adds the data labels of info metrics (by default
//! `target_info`) to the series they describe, matched on the identifying labels `instance`
//! and `job`, as upstream's `info.go` does.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use pm_common::model::{Labels, MatchType, Matcher};

use super::call::unwrap_parens;
use super::selectors::{SelectorOutput, nanos_to_millis};
use super::{EvalResult, Evaluator, same_labelset_error};
use crate::engine::error::QueryError;
use crate::engine::value::{Matrix, Sample, Series};
use crate::parser::{AtModifier, Call, Expr, VectorSelector};
use crate::value::{FPoint, HPoint};

const TARGET_INFO: &str = "target_info";
const IDENTIFYING_LABELS: [&str; 2] = ["instance", "job"];

fn matcher(t: MatchType, name: &str, value: &str) -> Matcher {
    Matcher::new(t, name, value).expect("info matchers are valid")
}

/// The name matchers that pick info metrics: the given ones when one of them is `=` or `=~`,
/// otherwise they narrow `__name__=~".+_info"`; with none, `target_info`.
fn effective_name_matchers(matchers: &[Matcher]) -> Vec<Matcher> {
    if matchers
        .iter()
        .any(|m| matches!(m.match_type(), MatchType::Equal | MatchType::Regexp))
    {
        return matchers.to_vec();
    }
    if !matchers.is_empty() {
        let mut out = vec![matcher(MatchType::Regexp, "__name__", ".+_info")];
        out.extend(matchers.iter().cloned());
        return out;
    }
    vec![matcher(MatchType::Equal, "__name__", TARGET_INFO)]
}

/// The `@` time and the total offset of the first selector in `expr`, including the offsets of
/// enclosing subqueries up to one with an `@`.
fn timestamp_and_offset(expr: &Expr) -> (Option<i64>, i64) {
    fn from_selector(vs: &VectorSelector, path: &[&Expr]) -> (Option<i64>, i64) {
        let mut at = at_of(vs.at);
        let mut offset = vs.original_offset;
        for p in path.iter().rev() {
            if at.is_some() {
                break;
            }
            if let Expr::Subquery(sq) = p {
                offset += sq.original_offset;
                at = at_of(sq.at);
            }
        }
        (at, nanos_to_millis(offset))
    }
    fn walk<'a>(e: &'a Expr, path: &mut Vec<&'a Expr>) -> Option<(Option<i64>, i64)> {
        match e {
            Expr::VectorSelector(vs) => return Some(from_selector(vs, path)),
            Expr::MatrixSelector(ms) => return Some(from_selector(&ms.vector_selector, path)),
            _ => {}
        }
        path.push(e);
        let found = e.children().into_iter().find_map(|c| walk(c, path));
        path.pop();
        found
    }
    fn at_of(at: AtModifier) -> Option<i64> {
        match at {
            AtModifier::Timestamp(t) => Some(t),
            _ => None,
        }
    }
    walk(expr, &mut Vec::new()).unwrap_or((None, 0))
}

/// The match signature of `labels` against info metric `name`.
fn signature(name: &str, labels: &Labels) -> Labels {
    let mut b = labels.keep(&IDENTIFYING_LABELS).builder();
    b.set("__name__", name);
    b.labels()
}

impl Evaluator<'_> {
    pub(crate) fn eval_info(&mut self, c: &Call) -> EvalResult<Matrix> {
        let (at, offset) = timestamp_and_offset(&c.args[0]);
        let mat = self.eval(&c.args[0])?.into_matrix();
        let mut data_matchers: BTreeMap<String, Vec<Matcher>> = BTreeMap::new();
        let mut name_matchers = Vec::new();
        match c.args.get(1).map(unwrap_parens) {
            Some(Expr::VectorSelector(sel)) => {
                for m in &sel.matchers {
                    data_matchers
                        .entry(m.name().to_owned())
                        .or_default()
                        .push(m.clone());
                    if m.name() == "__name__" {
                        name_matchers.push(m.clone());
                    }
                }
            }
            Some(_) => {
                return Err(QueryError::eval(
                    "info's second argument must be a selector",
                ));
            }
            None => name_matchers.push(matcher(MatchType::Equal, "__name__", TARGET_INFO)),
        }
        let effective = effective_name_matchers(&name_matchers);
        let ignored: HashSet<Labels> = mat
            .iter()
            .filter(|s| {
                let name = s.metric.get_or_empty("__name__");
                effective.iter().all(|m| m.matches(name))
            })
            .map(|s| s.metric.clone())
            .collect();
        let info = self.fetch_info_series(&mat, &ignored, &mut data_matchers, at, offset)?;
        self.combine_with_info(mat, info, &ignored, &data_matchers)
    }

    fn fetch_info_series(
        &mut self,
        mat: &Matrix,
        ignored: &HashSet<Labels>,
        data_matchers: &mut BTreeMap<String, Vec<Matcher>>,
        at: Option<i64>,
        offset: i64,
    ) -> EvalResult<Matrix> {
        let name_matchers: Vec<Matcher> = data_matchers
            .values()
            .flatten()
            .filter(|m| m.name() == "__name__")
            .cloned()
            .collect();
        let other_matchers: Vec<Matcher> = data_matchers
            .values()
            .flatten()
            .filter(|m| m.name() != "__name__")
            .cloned()
            .collect();
        data_matchers.remove("__name__");
        let mut id_values: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for s in mat.iter().filter(|s| !ignored.contains(&s.metric)) {
            for l in IDENTIFYING_LABELS {
                if let Some(v) = s.metric.get(l).filter(|v| !v.is_empty()) {
                    id_values.entry(l).or_default().insert(v);
                }
            }
        }
        if id_values.is_empty() {
            return Ok(Matrix::new());
        }
        let mut matchers: Vec<Matcher> = Vec::new();
        for (name, values) in &id_values {
            let re: Vec<String> = values.iter().map(|v| regex::escape(v)).collect();
            matchers.push(
                Matcher::new(MatchType::Regexp, *name, re.join("|"))
                    .map_err(|e| QueryError::eval(e.to_string()))?,
            );
        }
        matchers.extend(other_matchers);
        matchers.extend(effective_name_matchers(&name_matchers));
        let selector = VectorSelector {
            name: String::new(),
            matchers,
            original_offset: offset * 1_000_000,
            offset_expr: None,
            at: at.map_or(AtModifier::None, AtModifier::Timestamp),
            anchored: false,
            smoothed: false,
            bypass_empty_matcher_check: true,
            pos: Default::default(),
        };
        self.vector_selector_points(&selector, SelectorOutput::InfoSampleTimes)
    }

    fn combine_with_info(
        &mut self,
        mat: Matrix,
        info: Matrix,
        ignored: &HashSet<Labels>,
        data_matchers: &BTreeMap<String, Vec<Matcher>>,
    ) -> EvalResult<Matrix> {
        let info_names: BTreeSet<String> = info
            .iter()
            .map(|s| s.metric.get_or_empty("__name__").to_owned())
            .collect();
        let info_sigs: Vec<Labels> = info
            .iter()
            .map(|s| signature(s.metric.get_or_empty("__name__"), &s.metric))
            .collect();
        let base_sigs: Vec<Vec<(String, Labels)>> = mat
            .iter()
            .map(|s| {
                info_names
                    .iter()
                    .map(|n| (n.clone(), signature(n, &s.metric)))
                    .collect()
            })
            .collect();
        let all_match_empty = data_matchers.values().flatten().all(|m| m.matches(""));
        let steps: Vec<i64> = self.step_times().collect();
        let mut cursors = vec![(0usize, 0usize); mat.len()];
        let mut info_cursors = vec![0usize; info.len()];
        let mut out: Vec<Series> = Vec::new();
        let mut index: HashMap<Labels, (usize, i64)> = HashMap::new();
        for &ts in &steps {
            self.check_done()?;
            // The newest info sample per signature, by original sample time.
            let mut by_sig: HashMap<&Labels, (i64, &Labels)> = HashMap::new();
            for (i, s) in info.iter().enumerate() {
                let cur = &mut info_cursors[i];
                let Some(p) = s.floats.get(*cur).filter(|p| p.t == ts) else {
                    continue;
                };
                *cur += 1;
                let orig_t = (p.f * 1000.0).round() as i64;
                match by_sig.get(&info_sigs[i]) {
                    Some(&(existing_t, existing)) if existing_t == orig_t => {
                        return Err(QueryError::eval(format!(
                            "found duplicate series for info metric: existing {existing} @ {existing_t}, new {} @ {orig_t}",
                            s.metric
                        )));
                    }
                    Some(&(existing_t, _)) if existing_t > orig_t => {}
                    _ => {
                        by_sig.insert(&info_sigs[i], (orig_t, &s.metric));
                    }
                }
            }
            for (si, s) in mat.iter().enumerate() {
                let (fi, hi) = &mut cursors[si];
                let sample = if s.floats.get(*fi).is_some_and(|p| p.t == ts) {
                    *fi += 1;
                    (s.floats[*fi - 1].f, None)
                } else if s.histograms.get(*hi).is_some_and(|p| p.t == ts) {
                    *hi += 1;
                    (0.0, Some(s.histograms[*hi - 1].h.clone()))
                } else {
                    continue;
                };
                let metric = if ignored.contains(&s.metric) {
                    s.metric.clone()
                } else {
                    let mut added = Labels::empty().builder();
                    let mut seen = 0;
                    for (_, sig) in &base_sigs[si] {
                        let Some(&(_, info_metric)) = by_sig.get(sig) else {
                            continue;
                        };
                        seen += 1;
                        for l in info_metric.iter() {
                            if l.name == "__name__"
                                || (!data_matchers.is_empty()
                                    && !data_matchers.contains_key(l.name))
                            {
                                continue;
                            }
                            if let Some(v) = added.get(l.name)
                                && !v.is_empty()
                                && v != l.value
                            {
                                return Err(QueryError::eval(format!(
                                    "conflicting label: {}",
                                    l.name
                                )));
                            }
                            if s.metric.has(l.name) {
                                continue;
                            }
                            added.set(l.name, l.value);
                        }
                    }
                    if seen == 0 && !all_match_empty {
                        continue;
                    }
                    let mut b = s.metric.builder();
                    for l in added.labels().iter() {
                        b.set(l.name, l.value);
                    }
                    b.labels()
                };
                let out_sample = Sample {
                    metric,
                    t: ts,
                    f: sample.0,
                    h: sample.1,
                    drop_name: s.drop_name,
                };
                self.add_samples(super::sample_size(&out_sample))?;
                match index.get_mut(&out_sample.metric) {
                    Some((i, last)) => {
                        if *last == ts {
                            return Err(same_labelset_error());
                        }
                        *last = ts;
                        push(&mut out[*i], out_sample);
                    }
                    None => {
                        index.insert(out_sample.metric.clone(), (out.len(), ts));
                        let mut ss = Series::new(out_sample.metric.clone());
                        ss.drop_name = out_sample.drop_name;
                        push(&mut ss, out_sample);
                        out.push(ss);
                    }
                }
            }
        }
        Ok(out)
    }
}

fn push(s: &mut Series, sample: Sample) {
    match sample.h {
        Some(h) => s.histograms.push(HPoint { t: sample.t, h }),
        None => s.floats.push(FPoint {
            t: sample.t,
            f: sample.f,
        }),
    }
}
