//! Text trees drawn like the `treeprint` package upstream's amtool uses, so that output can be
//! diffed against upstream's byte for byte.

/// A node with a label and children.
#[derive(Debug, Default)]
pub struct Tree {
    pub label: String,
    pub children: Vec<Tree>,
}

impl Tree {
    pub fn new(label: impl Into<String>) -> Tree {
        Tree {
            label: label.into(),
            children: Vec::new(),
        }
    }

    /// The drawing under a `.` root, ending with a newline as treeprint's does.
    pub fn render(roots: &[Tree]) -> String {
        let mut out = String::from(".\n");
        render_children(roots, "", &mut out);
        out
    }
}

fn render_children(children: &[Tree], indent: &str, out: &mut String) {
    for (i, child) in children.iter().enumerate() {
        let last = i + 1 == children.len();
        out.push_str(indent);
        out.push_str(if last { "└── " } else { "├── " });
        out.push_str(&child.label);
        out.push('\n');
        // treeprint pads with no-break spaces under a continuing branch.
        let next = format!("{indent}{}", if last { "    " } else { "│\u{a0}\u{a0} " });
        render_children(&child.children, &next, out);
    }
}
