//! Set operations on sorted lists of series references.

/// Series in every list; empty for no lists.
pub fn intersect(mut lists: Vec<Vec<u64>>) -> Vec<u64> {
    // Starting from the shortest keeps every step no larger than it.
    lists.sort_by_key(Vec::len);
    let mut lists = lists.into_iter();
    let Some(mut acc) = lists.next() else {
        return Vec::new();
    };
    for list in lists {
        if acc.is_empty() {
            break;
        }
        let mut j = 0;
        acc.retain(|&r| {
            j += list[j..].partition_point(|&x| x < r);
            list.get(j) == Some(&r)
        });
    }
    acc
}

/// Series in any list, sorted and without repeats.
pub fn merge(lists: Vec<Vec<u64>>) -> Vec<u64> {
    match lists.len() {
        0 => Vec::new(),
        1 => lists.into_iter().next().expect("one list"),
        _ => {
            let mut all: Vec<u64> = lists.into_iter().flatten().collect();
            all.sort_unstable();
            all.dedup();
            all
        }
    }
}

/// Series of `base` not in `remove`.
pub fn without(mut base: Vec<u64>, remove: &[u64]) -> Vec<u64> {
    if remove.is_empty() {
        return base;
    }
    let mut j = 0;
    base.retain(|&r| {
        j += remove[j..].partition_point(|&x| x < r);
        remove.get(j) != Some(&r)
    });
    base
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_operations() {
        assert_eq!(
            intersect(vec![
                vec![1, 3, 5, 7, 9],
                vec![3, 4, 5, 9],
                vec![0, 3, 9, 10]
            ]),
            [3, 9]
        );
        assert!(intersect(vec![]).is_empty());
        assert!(intersect(vec![vec![1, 2], vec![]]).is_empty());
        assert_eq!(merge(vec![vec![1, 4], vec![2, 4, 6], vec![]]), [1, 2, 4, 6]);
        assert_eq!(without(vec![1, 2, 3, 4, 5], &[2, 5, 8]), [1, 3, 4]);
        assert_eq!(without(vec![1, 2], &[]), [1, 2]);
    }
}
