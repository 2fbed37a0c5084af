//! Functions about URLs and addresses: `graphLink`, `tableLink`, `urlQueryEscape`,
//! `stripPort`, `stripDomain`, and the external URL's `externalURL` and `pathPrefix`.

use std::net::IpAddr;

use pm_gotmpl::{FuncError, FuncMap, Function, Value, arg_str, query_escape};

/// Registers the functions that do not depend on the server.
pub(super) fn register_static(map: &mut FuncMap) {
    map.insert(
        "graphLink",
        string_fn(|expr| format!("/graph?g0.expr={}&g0.tab=0", query_escape(expr))),
    );
    map.insert(
        "tableLink",
        string_fn(|expr| format!("/graph?g0.expr={}&g0.tab=1", query_escape(expr))),
    );
    map.insert("urlQueryEscape", string_fn(query_escape));
    map.insert("stripPort", string_fn(strip_port));
    map.insert("stripDomain", string_fn(strip_domain));
}

/// Registers `externalURL` and `pathPrefix` for the server's `--web.external-url`.
pub(super) fn register_external_url(map: &mut FuncMap, external_url: &str) {
    let path = url_path(external_url);
    let url = external_url.to_owned();
    map.insert(
        "externalURL",
        Function::new(move |args| {
            FuncError::check_arity(args, 0)?;
            Ok(Value::from(url.as_str()))
        }),
    );
    map.insert(
        "pathPrefix",
        Function::new(move |args| {
            FuncError::check_arity(args, 0)?;
            Ok(Value::from(path.as_str()))
        }),
    );
}

fn string_fn(f: impl Fn(&str) -> String + Send + Sync + 'static) -> Function {
    Function::new(move |args| {
        FuncError::check_arity(args, 1)?;
        Ok(Value::from(f(arg_str(args, 0)?)))
    })
}

/// The path of an absolute URL (Go's `url.URL.Path`, percent-decoded).
fn url_path(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = match after_scheme.find('/') {
        Some(i) => &after_scheme[i..],
        None => "",
    };
    let path = path.split(['?', '#']).next().unwrap_or_default();
    percent_decode(path)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn strip_port(host_port: &str) -> String {
    match split_host_port(host_port) {
        Some((host, _)) => host.to_owned(),
        None => host_port.to_owned(),
    }
}

/// Drops everything after the first dot of a host name, keeping any port; addresses stay.
fn strip_domain(host_port: &str) -> String {
    let (host, port) = split_host_port(host_port).unwrap_or((host_port, ""));
    if host.parse::<IpAddr>().is_ok() {
        return host_port.to_owned();
    }
    let host = host.split('.').next().unwrap_or_default();
    if port.is_empty() {
        host.to_owned()
    } else if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Go's `net.SplitHostPort`: `host:port` or `[host]:port`, `None` where Go errors.
fn split_host_port(s: &str) -> Option<(&str, &str)> {
    let colon = s.rfind(':')?;
    let (host, inner_start, inner_end) = if s.starts_with('[') {
        let end = s.find(']')?;
        if end + 1 != colon {
            return None;
        }
        (&s[1..end], 1, end + 1)
    } else {
        let host = &s[..colon];
        if host.contains(':') {
            return None;
        }
        (host, 0, 0)
    };
    if s[inner_start..].contains('[') || s[inner_end..].contains(']') {
        return None;
    }
    Some((host, &s[colon + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_splitting_follows_go() {
        assert_eq!(split_host_port("a:1"), Some(("a", "1")));
        assert_eq!(split_host_port("[::1]:80"), Some(("::1", "80")));
        assert_eq!(split_host_port(":80"), Some(("", "80")));
        assert_eq!(split_host_port("a:"), Some(("a", "")));
        for bad in [
            "a",
            "::1",
            "[::1]",
            "[::1]::80",
            "[a]b:80",
            "a]:80",
            "[a:80",
        ] {
            assert_eq!(split_host_port(bad), None, "{bad}");
        }
    }

    #[test]
    fn url_paths() {
        assert_eq!(url_path("http://testhost:9090/path/prefix"), "/path/prefix");
        assert_eq!(url_path("http://testhost:9090"), "");
        assert_eq!(url_path("https://h/a%20b/?x=1#f"), "/a b/");
    }
}
