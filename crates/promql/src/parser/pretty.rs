//! Multi-line formatting of long expressions, identical to upstream's `Pretty()` (used by
//! `/api/v1/format_query` and `promtool promql format`).

use super::ast::*;
use super::printer::{write_aggregate_head, write_operator, write_subquery_suffix};

/// Width above which an expression is split over several lines.
pub const DEFAULT_LINE_WIDTH: usize = 100;
const INDENT: &str = "  ";

impl Expr {
    /// The expression formatted over several lines where it exceeds 100 characters.
    pub fn pretty(&self) -> String {
        self.pretty_with_width(DEFAULT_LINE_WIDTH)
    }

    /// Like [`Expr::pretty`], splitting expressions longer than `width` bytes.
    pub fn pretty_with_width(&self, width: usize) -> String {
        let mut out = String::new();
        write_pretty(&mut out, self, 0, width);
        out
    }
}

fn indent(out: &mut String, level: usize) {
    for _ in 0..level {
        out.push_str(INDENT);
    }
}

fn write_pretty(out: &mut String, e: &Expr, level: usize, width: usize) {
    let flat = e.to_string();
    let split = flat.len() > width;
    match e {
        Expr::Aggregate(a) if split => {
            indent(out, level);
            let _ = write_aggregate_head(out, a);
            out.push_str("(\n");
            if let Some(p) = &a.param {
                write_pretty(out, p, level + 1, width);
                out.push_str(",\n");
            }
            write_pretty(out, &a.expr, level + 1, width);
            out.push('\n');
            indent(out, level);
            out.push(')');
        }
        Expr::Binary(b) if split => {
            write_pretty(out, &b.lhs, level + 1, width);
            out.push('\n');
            indent(out, level);
            let _ = write_operator(out, b);
            out.push('\n');
            write_pretty(out, &b.rhs, level + 1, width);
        }
        Expr::Call(c) if split => {
            indent(out, level);
            out.push_str(c.func.name);
            out.push_str("(\n");
            for (i, arg) in c.args.iter().enumerate() {
                if i > 0 {
                    out.push_str(",\n");
                }
                write_pretty(out, arg, level + 1, width);
            }
            out.push('\n');
            indent(out, level);
            out.push(')');
        }
        Expr::Paren(p) if split => {
            indent(out, level);
            out.push_str("(\n");
            write_pretty(out, &p.expr, level + 1, width);
            out.push('\n');
            indent(out, level);
            out.push(')');
        }
        // Upstream does not indent a subquery that fits on its line.
        Expr::Subquery(s) => {
            if split {
                write_pretty(out, &s.expr, level, width);
                let _ = write_subquery_suffix(out, s);
            } else {
                out.push_str(&flat);
            }
        }
        Expr::Unary(u) => {
            indent(out, level);
            out.push_str(u.op.as_str());
            let mut child = String::new();
            write_pretty(&mut child, &u.expr, level, width);
            out.push_str(child.trim());
        }
        _ => {
            indent(out, level);
            out.push_str(&flat);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::parser::{ParserOptions, parse_expr};

    fn pretty(q: &str, width: usize) -> String {
        parse_expr(q, &ParserOptions::all())
            .unwrap()
            .pretty_with_width(width)
    }

    #[test]
    fn short_expressions_stay_on_one_line() {
        assert_eq!(
            pretty("sum by(a) (rate(x[5m]))", 100),
            "sum by (a) (rate(x[5m]))"
        );
    }

    #[test]
    fn long_expressions_split_and_indent() {
        assert_eq!(
            pretty(
                "sum by (job) (rate(http_requests_total[5m])) / on(job) group_left count(up)",
                30
            ),
            "  sum by (job) (\n    rate(http_requests_total[5m])\n  )\n/ on (job) group_left ()\n  count(up)"
        );
        assert_eq!(
            pretty(
                "label_replace(some_metric_name, \"dst\", \"$1\", \"src\", \"(.*)\")",
                20
            ),
            "label_replace(\n  some_metric_name,\n  \"dst\",\n  \"$1\",\n  \"src\",\n  \"(.*)\"\n)"
        );
        assert_eq!(
            pretty("-(aaaaaaaaaa + bbbbbbbbbb)", 10),
            "-(\n    aaaaaaaaaa\n  +\n    bbbbbbbbbb\n)"
        );
    }
}
