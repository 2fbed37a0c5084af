//! The routing tree: which route (and so which receiver and grouping) each alert takes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::time::Duration;

use crate::config::RouteConfig;
use crate::config::types::{ConfigMatchers, MatchEqual, MatchRegexps};
use crate::labels::{MatchType, Matcher, Matchers};

/// What a route node decides, inherited from its parent unless the node sets it.
#[derive(Clone, Debug, PartialEq)]
pub struct RouteOpts {
    pub receiver: String,
    pub group_by: BTreeSet<String>,
    /// `group_by: ['...']`: every label groups.
    pub group_by_all: bool,
    pub group_wait: Duration,
    pub group_interval: Duration,
    pub repeat_interval: Duration,
    /// Not inherited: each node names its own intervals, as upstream.
    pub mute_time_intervals: Vec<String>,
    pub active_time_intervals: Vec<String>,
    pub labels: BTreeMap<String, String>,
}

impl Default for RouteOpts {
    /// Upstream's `DefaultRouteOpts`.
    fn default() -> Self {
        RouteOpts {
            receiver: String::new(),
            group_by: BTreeSet::new(),
            group_by_all: false,
            group_wait: Duration::from_secs(30),
            group_interval: Duration::from_secs(5 * 60),
            repeat_interval: Duration::from_secs(4 * 60 * 60),
            mute_time_intervals: Vec::new(),
            active_time_intervals: Vec::new(),
            labels: BTreeMap::new(),
        }
    }
}

/// The legacy `match`/`match_re` maps and a `matchers:` list as one sorted list, the way
/// upstream combines them for routes and inhibition rules.
pub(crate) fn combined_matchers(
    match_eq: Option<&MatchEqual>,
    match_re: Option<&MatchRegexps>,
    matchers: &ConfigMatchers,
) -> Matchers {
    let mut out = Vec::new();
    for (name, value) in match_eq.iter().flat_map(|m| &m.0) {
        out.push(Matcher::new(MatchType::Equal, name, value).expect("equality matchers compile"));
    }
    for (name, value) in match_re.iter().flat_map(|m| &m.0) {
        // Upstream builds the matcher from the compiled regex's text, which carries the
        // anchors; that is what `amtool config routes` prints.
        let anchored = format!("^(?:{value})$");
        out.push(
            Matcher::new(MatchType::Regexp, name, anchored)
                .expect("match_re was compiled while loading"),
        );
    }
    out.extend(matchers.0.iter().cloned());
    out.sort();
    Matchers(out)
}

/// A node of the tree. Nodes live in one arena ([`RouteTree`]) and refer to each other by
/// index, so the tree can be shared between threads without reference cycles.
#[derive(Clone, Debug)]
pub struct Route {
    pub opts: RouteOpts,
    pub matchers: Matchers,
    pub continue_matching: bool,
    pub children: Vec<usize>,
    pub parent: Option<usize>,
    /// Position among the parent's children.
    pub child_index: usize,
    /// Upstream's `Idx`: post-order number of the node in the tree.
    pub idx: usize,
}

#[derive(Clone, Debug)]
pub struct RouteTree {
    nodes: Vec<Route>,
}

impl RouteTree {
    /// Builds the tree from a validated config's root route.
    pub fn new(root: &RouteConfig) -> RouteTree {
        let mut tree = RouteTree { nodes: Vec::new() };
        let mut counter = 0;
        tree.add(root, None, 0, &mut counter);
        tree
    }

    fn add(
        &mut self,
        cfg: &RouteConfig,
        parent: Option<usize>,
        child_index: usize,
        counter: &mut usize,
    ) -> usize {
        let mut opts = parent.map_or_else(RouteOpts::default, |p| self.nodes[p].opts.clone());
        opts.labels.extend(cfg.labels.clone());
        if !cfg.receiver.is_empty() {
            opts.receiver = cfg.receiver.clone();
        }
        if cfg.groups_by_all() {
            opts.group_by_all = true;
        } else if let Some(group_by) = &cfg.group_by {
            opts.group_by = group_by.iter().cloned().collect();
            opts.group_by_all = false;
        }
        if let Some(d) = cfg.group_wait {
            opts.group_wait = d.as_std();
        }
        if let Some(d) = cfg.group_interval {
            opts.group_interval = d.as_std();
        }
        if let Some(d) = cfg.repeat_interval {
            opts.repeat_interval = d.as_std();
        }
        opts.mute_time_intervals = cfg.mute_time_intervals.clone();
        opts.active_time_intervals = cfg.active_time_intervals.clone();

        let matchers =
            combined_matchers(cfg.match_eq.as_ref(), cfg.match_re.as_ref(), &cfg.matchers);

        let id = self.nodes.len();
        self.nodes.push(Route {
            opts,
            matchers,
            continue_matching: cfg.continue_matching,
            children: Vec::new(),
            parent,
            child_index,
            idx: 0,
        });
        for (i, child) in cfg.routes.iter().enumerate() {
            let c = self.add(child, Some(id), i, counter);
            self.nodes[id].children.push(c);
        }
        self.nodes[id].idx = *counter;
        *counter += 1;
        id
    }

    pub fn root(&self) -> usize {
        0
    }

    pub fn node(&self, id: usize) -> &Route {
        &self.nodes[id]
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Whether an alert can end in more than one route (some route has `continue` set).
    pub fn fans_out(&self) -> bool {
        self.nodes.iter().any(|n| n.continue_matching)
    }

    /// The routes an alert with these labels ends in, in tree order (upstream's `Match`):
    /// the deepest matching nodes, continuing past a match only where `continue` is set.
    pub fn matches<'a>(&self, labels: &impl Fn(&str) -> Option<&'a str>) -> Vec<usize> {
        let mut out = Vec::new();
        self.matches_into(labels, &mut out);
        out
    }

    /// [`Self::matches`] appended to `out`, for a caller that reuses one vector.
    pub fn matches_into<'a>(
        &self,
        labels: &impl Fn(&str) -> Option<&'a str>,
        out: &mut Vec<usize>,
    ) {
        self.match_node(self.root(), labels, out);
    }

    fn match_node<'a>(
        &self,
        id: usize,
        labels: &impl Fn(&str) -> Option<&'a str>,
        out: &mut Vec<usize>,
    ) -> bool {
        let node = &self.nodes[id];
        if !node.matchers.matches(labels) {
            return false;
        }
        let before = out.len();
        for &child in &node.children {
            let matched = self.match_node(child, labels, out);
            if matched && !self.nodes[child].continue_matching {
                break;
            }
        }
        if out.len() == before {
            out.push(id);
        }
        true
    }

    /// Upstream's `Route.Key`: the matchers of every node from the root, joined by `/`.
    pub fn key(&self, id: usize) -> String {
        let mut key = String::new();
        self.write_path(id, &mut key, false);
        key
    }

    /// Upstream's `Route.ID`: like the key, plus each node's position among its siblings.
    pub fn id(&self, id: usize) -> String {
        let mut s = String::new();
        self.write_path(id, &mut s, true);
        s
    }

    fn write_path(&self, id: usize, out: &mut String, with_index: bool) {
        let node = &self.nodes[id];
        if let Some(parent) = node.parent {
            self.write_path(parent, out, with_index);
            out.push('/');
        }
        let _ = write!(out, "{}", node.matchers);
        if with_index && node.parent.is_some() {
            let _ = write!(out, "/{}", node.child_index);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    const CONFIG: &str = r#"
route:
  receiver: default
  group_by: [alertname]
  routes:
    - match_re: {service: 'foo1|foo2'}
      receiver: foo
      group_wait: 10s
      routes:
        - matchers: ['severity="critical"']
          receiver: foo-pager
    - matchers: ['team="db"']
      receiver: db
      continue: true
      group_by: ['...']
    - matchers: ['team=~"db|web"']
      receiver: web
receivers: [{name: default}, {name: foo}, {name: foo-pager}, {name: db}, {name: web}]
"#;

    fn receivers(tree: &RouteTree, labels: &[(&str, &str)]) -> Vec<String> {
        let get = |name: &str| labels.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
        tree.matches(&get)
            .into_iter()
            .map(|id| tree.node(id).opts.receiver.clone())
            .collect()
    }

    #[test]
    fn routes_alerts_like_upstream() {
        let cfg = Config::load(CONFIG, "test.yml").unwrap();
        let tree = RouteTree::new(cfg.root_route());
        assert_eq!(receivers(&tree, &[("service", "foo1")]), ["foo"]);
        assert_eq!(
            receivers(&tree, &[("service", "foo2"), ("severity", "critical")]),
            ["foo-pager"]
        );
        assert_eq!(receivers(&tree, &[("team", "db")]), ["db", "web"]);
        assert_eq!(receivers(&tree, &[("team", "web")]), ["web"]);
        assert_eq!(receivers(&tree, &[("x", "y")]), ["default"]);

        let foo = tree.node(tree.root()).children[0];
        let pager = tree.node(foo).children[0];
        let node = tree.node(pager);
        assert_eq!(node.opts.group_wait, Duration::from_secs(10), "inherited");
        assert_eq!(node.opts.group_by, BTreeSet::from(["alertname".to_owned()]));
        assert!(tree.node(tree.node(0).children[1]).opts.group_by_all);
        assert_eq!(
            tree.key(pager),
            r#"{}/{service=~"^(?:foo1|foo2)$"}/{severity="critical"}"#
        );
        assert_eq!(
            tree.id(pager),
            r#"{}/{service=~"^(?:foo1|foo2)$"}/0/{severity="critical"}/0"#
        );
        assert_eq!((node.idx, tree.node(foo).idx, tree.node(0).idx), (0, 1, 4));
    }
}
