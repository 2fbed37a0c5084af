//! Go's `filepath.Clean` on Unix paths, which `filepath.Join` applies to every joined path:
//! glob results name files exactly as upstream names them (e.g. in `__meta_filepath`).

/// The shortest lexically equivalent path: repeated `/` collapsed, `.` elements dropped,
/// `..` elements resolved against the element before them (kept at the start of a relative
/// path, dropped at the root); an empty result is `.`.
pub fn clean(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for element in path.split('/') {
        match element {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            e => parts.push(e),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}
