//! `amtool config routes show|test`.

use crate::dispatch::RouteTree;
use crate::labels::{self, MatchType};

use super::tree::Tree;

const SEPARATOR: &str = "  ";

fn slug(tree: &RouteTree, id: usize, show_continue: bool, show_receiver: bool) -> String {
    let node = tree.node(id);
    let mut s = if node.matchers.is_empty() {
        "default-route".to_owned()
    } else {
        node.matchers.to_string()
    };
    if node.continue_matching && show_continue {
        s.push_str(SEPARATOR);
        s.push_str("continue: true");
    }
    if show_receiver {
        s.push_str(SEPARATOR);
        s.push_str("receiver: ");
        s.push_str(&node.opts.receiver);
    }
    s
}

fn whole(tree: &RouteTree, id: usize) -> Tree {
    let mut t = Tree::new(slug(tree, id, true, true));
    t.children = tree
        .node(id)
        .children
        .iter()
        .map(|&c| whole(tree, c))
        .collect();
    t
}

/// The output of `amtool config routes show`.
pub fn show(tree: &RouteTree) -> String {
    format!(
        "Routing tree:\n{}\n",
        Tree::render(&[whole(tree, tree.root())])
    )
}

/// Labels given on the command line as `name=value` (other operators are refused, as
/// upstream refuses them).
pub fn parse_label_args(args: &[String]) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for arg in args {
        let m = labels::parse_matcher(arg).map_err(|e| format!("Failed to parse labels: {e}"))?;
        if m.match_type() != MatchType::Equal {
            return Err("Labels must be specified as key=value pairs".to_owned());
        }
        out.retain(|(k, _)| k != m.name());
        out.push((m.name().to_owned(), m.value().to_owned()));
    }
    Ok(out)
}

/// Looks a label up in command-line labels.
fn lookup<'a>(labels: &'a [(String, String)]) -> impl Fn(&str) -> Option<&'a str> + 'a {
    move |name| {
        labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn matching<'a>(tree: &RouteTree, id: usize, get: &impl Fn(&str) -> Option<&'a str>) -> Tree {
    let mut t = Tree::new(slug(tree, id, false, false));
    for &child in &tree.node(id).children {
        if tree.node(child).matchers.matches(get) {
            t.children.push(matching(tree, child, get));
            if !tree.node(child).continue_matching {
                break;
            }
        }
    }
    if t.children.is_empty() {
        t.label = slug(tree, id, false, true);
    }
    t
}

/// The output of `amtool config routes test`: the optional matching tree, then the
/// receivers in tree order joined by commas.
pub fn test(tree: &RouteTree, labels: &[(String, String)], with_tree: bool) -> (String, String) {
    let get = lookup(labels);
    let mut out = String::new();
    if with_tree {
        let t = matching(tree, tree.root(), &get);
        out.push_str("Matching routes:\n");
        out.push_str(&Tree::render(&[t]));
        out.push_str("\n\n");
    }
    let receivers: Vec<&str> = tree
        .matches(&get)
        .into_iter()
        .map(|id| tree.node(id).opts.receiver.as_str())
        .collect();
    let slug = receivers.join(",");
    out.push_str(&slug);
    out.push('\n');
    (out, slug)
}
