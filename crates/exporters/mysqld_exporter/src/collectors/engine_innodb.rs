//! `SHOW ENGINE INNODB STATUS`: the few gauges upstream reads from the monitor's text.
//!
//! MySQL's ROW OPERATIONS section prints `N queries inside InnoDB, M queries in queue` and
//! `K read views open inside InnoDB`; MariaDB 10.5+ prints only the latter. Lines are matched
//! anywhere in the line, as upstream's unanchored patterns do.

use std::sync::LazyLock;

use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};
use pm_common::metrics::ConstKind;
use regex::Regex;

use super::{Sink, cell};
use crate::error::ScrapeError;

static QUERIES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(\d+) queries inside InnoDB, (\d+) queries in queue").expect("a valid regex")
});
static VIEWS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\d+) read views open inside InnoDB").expect("a valid regex"));

const INSIDE: (&str, &str) = (
    "mysql_engine_innodb_queries_inside_innodb",
    "Queries inside InnoDB.",
);
const IN_QUEUE: (&str, &str) = ("mysql_engine_innodb_queries_in_queue", "Queries in queue.");
const READ_VIEWS: (&str, &str) = (
    "mysql_engine_innodb_read_views_open_inside_innodb",
    "Read views open inside InnoDB.",
);

pub async fn scrape(conn: &mut Conn, sink: &mut Sink) -> Result<(), ScrapeError> {
    // One row of (Type, Name, Status).
    let row: Option<Row> = conn.query_first("SHOW ENGINE INNODB STATUS").await?;
    let Some(row) = row else {
        return Ok(());
    };
    for ((name, help), value) in gauges(&String::from_utf8_lossy(cell(&row, 2))) {
        sink.push(name, help, ConstKind::Gauge, &[], value);
    }
    Ok(())
}

/// The (family, help) and value of every gauge found in the monitor's text, line by line; a
/// line with the queries pattern is not also read for read views.
fn gauges(status: &str) -> Vec<((&'static str, &'static str), f64)> {
    let number = |digits: &str| digits.parse().unwrap_or(0.0);
    let mut out = Vec::new();
    for line in status.split('\n') {
        if let Some(c) = QUERIES.captures(line) {
            out.push((INSIDE, number(&c[1])));
            out.push((IN_QUEUE, number(&c[2])));
        } else if let Some(c) = VIEWS.captures(line) {
            out.push((READ_VIEWS, number(&c[1])));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Captured from Debian's MariaDB 10.11 with one transaction holding a consistent
    /// snapshot.
    const MARIADB: &str = include_str!("testdata/innodb_status_mariadb_10.11.txt");

    #[test]
    fn mariadb_reports_read_views_only() {
        assert_eq!(gauges(MARIADB), vec![(READ_VIEWS, 1.0)]);
    }

    #[test]
    fn mysql_row_operations_give_all_three() {
        let status = "--------------\nROW OPERATIONS\n--------------\n\
                      3 queries inside InnoDB, 12 queries in queue\n\
                      7 read views open inside InnoDB\n\
                      Process ID=1, Main thread ID=2, state: sleeping\n";
        assert_eq!(
            gauges(status),
            vec![(INSIDE, 3.0), (IN_QUEUE, 12.0), (READ_VIEWS, 7.0)]
        );
    }

    #[test]
    fn other_text_gives_nothing() {
        assert!(gauges("").is_empty());
        assert!(gauges("queries inside InnoDB\nread views open inside InnoDB").is_empty());
    }
}
