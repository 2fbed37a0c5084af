//! The glob matcher: a trie over dot-separated fields, one root per metric type, as upstream's
//! mapper builds it, so that precedence between overlapping globs is the same.
//!
//! Upstream's rules, kept here on purpose:
//! - An exact field beats `*`. Without backtracking the walk is greedy and never revisits that
//!   choice; with backtracking it explores `*` after the exact branch fails.
//! - With ordering (the default) every matching glob is found and the one listed first wins;
//!   with `glob_disable_ordering` the first match found by the walk wins.
//! - A final state takes the mapping that *created* it, while its priority is that of the last
//!   mapping ending there; a glob that ends on a prefix state of an earlier, longer glob never
//!   matches. These follow from upstream's construction and are reproduced, not fixed.

use foldhash::{HashMap, HashMapExt};

use crate::config::MetricType;

#[derive(Debug, Default)]
struct State {
    transitions: HashMap<Box<str>, usize>,
    min_remaining: usize,
    max_remaining: usize,
    /// Index of the mapping this state completes.
    result: Option<usize>,
    priority: usize,
}

impl State {
    fn fits(&self, fields_left: usize) -> bool {
        (self.min_remaining..=self.max_remaining).contains(&fields_left)
    }
}

/// The compiled glob mappings.
#[derive(Debug)]
pub(crate) struct Fsm {
    states: Vec<State>,
    /// Number of globs added so far; each one's priority.
    added: usize,
    ordering_disabled: bool,
    backtracking: bool,
}

/// The matching walk's best result so far: (priority, mapping, captures).
type Best<'a> = Option<(usize, usize, Vec<&'a str>)>;

impl Fsm {
    pub(crate) fn new(ordering_disabled: bool) -> Self {
        // States 0..3 are the per-type roots, indexed by `MetricType::index`.
        let states = MetricType::ALL.iter().map(|_| State::default()).collect();
        Fsm {
            states,
            added: 0,
            ordering_disabled,
            backtracking: true,
        }
    }

    /// Adds glob `pattern` for `mapping`; returns its number of `*` captures.
    pub(crate) fn add(
        &mut self,
        pattern: &str,
        metric_type: Option<MetricType>,
        mapping: usize,
    ) -> usize {
        let fields: Vec<&str> = pattern.split('.').collect();
        let roots: Vec<usize> = match metric_type {
            Some(t) => vec![t.index()],
            None => MetricType::ALL.iter().map(|t| t.index()).collect(),
        };
        for root in roots {
            let mut current = root;
            for (i, field) in fields.iter().enumerate() {
                let remaining = fields.len() - i - 1;
                let next = match self.states[current].transitions.get(*field) {
                    Some(&next) => {
                        let state = &mut self.states[next];
                        state.max_remaining = state.max_remaining.max(remaining);
                        state.min_remaining = state.min_remaining.min(remaining);
                        next
                    }
                    None => {
                        let next = self.states.len();
                        self.states.push(State {
                            transitions: HashMap::new(),
                            min_remaining: remaining,
                            max_remaining: remaining,
                            result: (remaining == 0).then_some(mapping),
                            priority: 0,
                        });
                        self.states[current]
                            .transitions
                            .insert((*field).into(), next);
                        next
                    }
                };
                current = next;
            }
            self.states[current].priority = self.added;
        }
        self.added += 1;
        fields.iter().filter(|f| **f == "*").count()
    }

    /// Decides whether matching must backtrack, given all glob patterns in config order.
    pub(crate) fn finish(&mut self, patterns: &[&str]) {
        self.backtracking = needs_backtracking(patterns, self.ordering_disabled);
    }

    /// The mapping index matching `metric` of type `metric_type`, with the captured fields.
    pub(crate) fn lookup<'a>(
        &self,
        metric: &'a str,
        metric_type: MetricType,
    ) -> Option<(usize, Vec<&'a str>)> {
        let fields: Vec<&'a str> = metric.split('.').collect();
        let mut captures = Vec::with_capacity(fields.len());
        let mut best: Best<'a> = None;
        self.walk(metric_type.index(), &fields, 0, &mut captures, &mut best);
        best.map(|(_, mapping, captures)| (mapping, captures))
    }

    /// Depth-first from `state` at field `i`: exact transition first, then `*`. Returns true
    /// when the search is over (ordering disabled and a match found).
    fn walk<'a>(
        &self,
        state: usize,
        fields: &[&'a str],
        i: usize,
        captures: &mut Vec<&'a str>,
        best: &mut Best<'a>,
    ) -> bool {
        let current = &self.states[state];
        let field = fields[i];
        let left = fields.len() - i - 1;
        let exact = current
            .transitions
            .get(field)
            .copied()
            .filter(|&s| self.states[s].fits(left));
        let star = current
            .transitions
            .get("*")
            .copied()
            .filter(|&s| self.states[s].fits(left));
        if let Some(next) = exact {
            if self.arrive(next, fields, i, captures, best) {
                return true;
            }
            if !self.backtracking {
                return false;
            }
        }
        if let Some(next) = star {
            captures.push(field);
            let done = self.arrive(next, fields, i, captures, best);
            captures.pop();
            return done;
        }
        false
    }

    fn arrive<'a>(
        &self,
        state: usize,
        fields: &[&'a str],
        i: usize,
        captures: &mut Vec<&'a str>,
        best: &mut Best<'a>,
    ) -> bool {
        if i + 1 < fields.len() {
            return self.walk(state, fields, i + 1, captures, best);
        }
        let reached = &self.states[state];
        let Some(mapping) = reached.result else {
            return false;
        };
        if self.ordering_disabled {
            *best = Some((reached.priority, mapping, captures.clone()));
            return true;
        }
        if best.as_ref().is_none_or(|(p, _, _)| *p > reached.priority) {
            *best = Some((reached.priority, mapping, captures.clone()));
        }
        false
    }
}

/// Whether greedy matching could miss a glob, as upstream decides it. With ordering enabled the
/// walk must always see every candidate. Without ordering, a glob needs backtracking when
/// another glob of the same length shares the prefix before one of its `*`s, unless one of the
/// two covers the other.
fn needs_backtracking(patterns: &[&str], ordering_disabled: bool) -> bool {
    let mut by_len: HashMap<usize, Vec<(usize, &str)>> = HashMap::new();
    for (order, p) in patterns.iter().enumerate() {
        by_len
            .entry(p.split('.').count())
            .or_default()
            .push((order, p));
    }
    let mut needed = false;
    for rules in by_len.values().filter(|r| r.len() > 1) {
        for &(i1, r1) in rules {
            if !r1.contains('*') {
                continue;
            }
            let mut this_needs = r1.match_indices('*').any(|(at, _)| {
                rules
                    .iter()
                    .any(|&(i2, r2)| i2 != i1 && r2.starts_with(&r1[..at]))
            });
            for &(i2, r2) in rules {
                if i2 == i1 {
                    continue;
                }
                if glob_covers(r1, r2) {
                    if !ordering_disabled && i1 < i2 {
                        tracing::warn!(
                            first_match = r1,
                            second_match = r2,
                            "match is a super set of match but in a lower order, the first will never be matched"
                        );
                    }
                    this_needs = false;
                }
                if glob_covers(r2, r1) {
                    this_needs = false;
                }
            }
            if this_needs {
                tracing::warn!(
                    r#match = r1,
                    "backtracking required because of match. Performance may be degraded"
                );
                needed = true;
            }
        }
    }
    !ordering_disabled || needed
}

/// Whether glob `pattern` matches the text of `other` (whose own `*`s are plain text here).
fn glob_covers(pattern: &str, other: &str) -> bool {
    let (mut p, mut o) = (pattern.split('.'), other.split('.'));
    loop {
        match (p.next(), o.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a == "*" || a == b => {}
            _ => return false,
        }
    }
}
