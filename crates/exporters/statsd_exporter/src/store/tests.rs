use std::sync::Arc;
use std::time::Duration;

use pm_common::expfmt::encode::write_text;

use super::{Created, Kind, Observer, Store, StoreError, Update};

fn labels(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn update<'a>(
    name: &'a str,
    labels: &'a [(String, String)],
    ttl_s: u64,
    now_ms: u64,
) -> Update<'a> {
    Update {
        name,
        labels,
        help: "help",
        ttl: Duration::from_secs(ttl_s),
        now_ms,
    }
}

fn text(store: &Store) -> String {
    let mut out = String::new();
    for family in store.gather() {
        write_text(&mut out, &family).unwrap();
    }
    out
}

#[test]
fn counters_and_gauges() {
    let mut s = Store::new(0);
    let a = labels(&[("a", "1")]);
    assert_eq!(
        s.counter_add(&update("c", &a, 0, 0), 2.0),
        Ok(Created::Vector(Kind::Counter))
    );
    assert_eq!(
        s.counter_add(&update("c", &a, 0, 0), 3.0),
        Ok(Created::Nothing)
    );
    let b = labels(&[("b", "1")]);
    assert_eq!(
        s.counter_add(&update("c", &b, 0, 0), 1.0),
        Ok(Created::Vector(Kind::Counter))
    );
    s.gauge(&update("g", &[], 0, 0), 5.0, false).unwrap();
    s.gauge(&update("g", &[], 0, 0), -2.0, true).unwrap();
    assert_eq!(
        text(&s),
        "# HELP c help\n# TYPE c counter\nc{a=\"1\"} 5\nc{b=\"1\"} 1\n# HELP g help\n# TYPE g gauge\ng 3\n"
    );
    assert_eq!(s.series_count(), 3);
}

#[test]
fn histograms_render_cumulative_buckets() {
    let mut s = Store::new(0);
    let bounds: Arc<[f64]> = vec![0.1, 1.0].into();
    for (v, n) in [(0.05, 1), (0.5, 2), (5.0, 1)] {
        s.observe(
            &update("h", &[], 0, 0),
            Kind::Histogram,
            || Observer::Histogram(bounds.clone()),
            v,
            n,
        )
        .unwrap();
    }
    assert_eq!(
        text(&s),
        "# HELP h help\n# TYPE h histogram\nh_bucket{le=\"0.1\"} 1\nh_bucket{le=\"1\"} 3\nh_bucket{le=\"+Inf\"} 4\nh_sum 6.05\nh_count 4\n"
    );
}

#[test]
fn conflicts_follow_upstream() {
    let mut s = Store::new(0);
    let h = || Observer::Histogram(vec![1.0].into());
    s.counter_add(&update("x", &[], 0, 0), 1.0).unwrap();
    assert!(matches!(
        s.gauge(&update("x", &[], 0, 0), 1.0, false),
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        s.observe(&update("x", &[], 0, 0), Kind::Histogram, h, 1.0, 1),
        Err(StoreError::Conflict(_))
    ));
    s.gauge(&update("y", &[], 0, 0), 1.0, false).unwrap();
    // A counter named like a gauge's `_sum` clashes; the histogram counterpart too.
    assert!(s.counter_add(&update("y_sum", &[], 0, 0), 1.0).is_err());
    s.counter_add(&update("z_count", &[], 0, 0), 1.0).unwrap();
    assert!(
        s.observe(&update("z", &[], 0, 0), Kind::Histogram, h, 1.0, 1)
            .is_err()
    );
}

#[test]
fn ttl_expiry() {
    let mut s = Store::new(0);
    s.counter_add(&update("short", &[], 10, 0), 1.0).unwrap();
    s.counter_add(&update("forever", &[], 0, 0), 1.0).unwrap();
    s.counter_add(&update("short", &[], 10, 5_000), 1.0)
        .unwrap();
    s.remove_stale(15_000);
    assert_eq!(s.series_count(), 2);
    s.remove_stale(15_001);
    assert_eq!(s.series_count(), 1);
    assert!(text(&s).contains("forever 1"));
}

#[test]
fn series_limit_refuses_new_series_only() {
    let mut s = Store::new(2);
    for v in ["a", "b"] {
        let l = labels(&[("v", v)]);
        s.counter_add(&update("c", &l, 0, 0), 1.0).unwrap();
    }
    let c = labels(&[("v", "c")]);
    assert_eq!(
        s.counter_add(&update("c", &c, 0, 0), 1.0),
        Err(StoreError::SeriesLimit(2))
    );
    let a = labels(&[("v", "a")]);
    assert_eq!(
        s.counter_add(&update("c", &a, 0, 0), 1.0),
        Ok(Created::Nothing)
    );
    assert_eq!(s.series_count(), 2);
}
