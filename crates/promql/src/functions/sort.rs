//! Orderings of `sort`, `sort_desc`, `sort_by_label` and `sort_by_label_desc`.

use std::cmp::Ordering;

use pm_common::model::Labels;

/// `sort`: ascending by value, NaN last. Use with a stable sort; upstream's sort is not
/// stable, so ties have no defined order there either.
pub fn cmp_value_asc(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.partial_cmp(&b).expect("neither is NaN"),
    }
}

/// `sort_desc`: descending by value, NaN last.
pub fn cmp_value_desc(a: f64, b: f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => b.partial_cmp(&a).expect("neither is NaN"),
    }
}

/// `sort_by_label(v, names...)`: the values of `names` in natural order (digit runs compare
/// as numbers), then the whole label sets as a tie-breaker.
pub fn cmp_by_labels(a: &Labels, b: &Labels, names: &[impl AsRef<str>]) -> Ordering {
    for name in names {
        let (va, vb) = (a.get_or_empty(name.as_ref()), b.get_or_empty(name.as_ref()));
        if va == vb {
            continue;
        }
        return if natural_less(va, vb) {
            Ordering::Less
        } else {
            Ordering::Greater
        };
    }
    a.cmp(b)
}

/// `sort_by_label_desc`: the exact reverse of [`cmp_by_labels`].
pub fn cmp_by_labels_desc(a: &Labels, b: &Labels, names: &[impl AsRef<str>]) -> Ordering {
    cmp_by_labels(a, b, names).reverse()
}

/// Splits into alternating runs of ASCII digits and of anything else.
fn chunks(s: &str) -> impl Iterator<Item = &str> {
    let bytes = s.as_bytes();
    let mut start = 0;
    std::iter::from_fn(move || {
        if start >= bytes.len() {
            return None;
        }
        let digit = bytes[start].is_ascii_digit();
        let len = bytes[start..]
            .iter()
            .position(|b| b.is_ascii_digit() != digit)
            .unwrap_or(bytes.len() - start);
        let chunk = &s[start..start + len];
        start += len;
        Some(chunk)
    })
}

/// Natural "less than" with the exact rules of the Go `natsort.Compare` upstream uses: chunk
/// by chunk, digit runs that fit an int compare numerically, others bytewise; when a string
/// runs out of chunks while all compared chunks are equal, the shorter one is less — and a
/// chunk pair equal by number (`1` vs `01`) ending either string counts as less for the
/// left side, a quirk kept for identical output.
pub fn natural_less(a: &str, b: &str) -> bool {
    let ca: Vec<&str> = chunks(a).collect();
    let cb: Vec<&str> = chunks(b).collect();
    for (i, x) in ca.iter().enumerate() {
        let Some(y) = cb.get(i) else {
            return false;
        };
        let equal = match (parse_int(x), parse_int(y)) {
            (Some(nx), Some(ny)) if nx != ny => return nx < ny,
            (Some(_), Some(_)) => true,
            _ => x == y,
        };
        if !equal {
            return x < y;
        }
        if i == ca.len() - 1 {
            return true;
        }
        if i == cb.len() - 1 {
            return false;
        }
    }
    false
}

/// Go's `strconv.Atoi` on a chunk: only all-digit chunks that fit an `i64` are numbers.
fn parse_int(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_sort_with_nan_last() {
        let mut v = [3.0, f64::NAN, 1.0, 2.0];
        v.sort_by(|a, b| cmp_value_asc(*a, *b));
        assert_eq!(&v[..3], &[1.0, 2.0, 3.0]);
        assert!(v[3].is_nan());
        v.sort_by(|a, b| cmp_value_desc(*a, *b));
        assert_eq!(&v[..3], &[3.0, 2.0, 1.0]);
        assert!(v[3].is_nan());
    }

    #[test]
    fn natural_order() {
        assert!(natural_less("a2", "a10"));
        assert!(!natural_less("a10", "a2"));
        assert!(natural_less("abc", "abd"));
        assert!(natural_less("a", "a1"));
        assert!(!natural_less("a1", "a"));
        assert!(natural_less("1.2.3", "1.10"));
        assert!(natural_less("9", "a"));
        // Too long for an int: compared as text.
        assert!(
            natural_less("99999999999999999999", "100000000000000000000")
                == ("99999999999999999999" < "100000000000000000000")
        );
        assert!(!natural_less("", ""));
    }

    #[test]
    fn by_labels_then_full_set() {
        let a = Labels::from_pairs([("instance", "host10"), ("job", "a")]);
        let b = Labels::from_pairs([("instance", "host9"), ("job", "b")]);
        assert_eq!(cmp_by_labels(&a, &b, &["instance"]), Ordering::Greater);
        assert_eq!(cmp_by_labels_desc(&a, &b, &["instance"]), Ordering::Less);
        assert_eq!(cmp_by_labels(&a, &b, &["missing"]), Ordering::Less);
        let no_names: &[&str] = &[];
        assert_eq!(cmp_by_labels(&a, &a, no_names), Ordering::Equal);
    }
}
