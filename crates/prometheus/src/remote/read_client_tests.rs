use std::sync::Arc;

use axum::body::Bytes;
use pm_common::model::{MatchType, Matcher};
use pm_storage::{Appendable, MemStorage, SeriesRef, ValueType};

use super::*;
use crate::remote::read_server::{self, ReadLimits};

/// A remote-read server over `storage` with external label `region="eu"`; returns its URL.
async fn server(storage: MemStorage) -> String {
    let storage = Arc::new(storage);
    let app = axum::Router::new().route(
        "/api/v1/read",
        axum::routing::post(move |body: Bytes| {
            let storage = storage.clone();
            async move {
                let external = Labels::from_pairs([("region", "eu")]);
                let limits = ReadLimits {
                    sample_limit: 0,
                    max_bytes_in_frame: 1 << 20,
                };
                match read_server::serve(storage.as_ref(), &external, limits, &body) {
                    Ok(r) => (http::StatusCode::OK, r.body),
                    Err(e) => (e.status(), e.to_string().into_bytes()),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/api/v1/read")
}

fn remote(url: &str, required: &[(&str, &str)], external: Labels) -> RemoteRead {
    RemoteRead {
        client: RemoteClient::new(
            "test",
            url,
            &Default::default(),
            None,
            std::time::Duration::from_secs(10),
            &Default::default(),
        )
        .unwrap(),
        required_matchers: required
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        external,
        handle: Handle::current(),
    }
}

fn eq(name: &str, value: &str) -> Matcher {
    Matcher::new(MatchType::Equal, name, value).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selects_through_the_endpoint() {
    let storage = MemStorage::new();
    let mut app = storage.appender();
    let l = Labels::from_pairs([("__name__", "up"), ("job", "a")]);
    app.append(SeriesRef::UNKNOWN, &l, 1000, 1.0).unwrap();
    app.append(SeriesRef::UNKNOWN, &l, 2000, 0.0).unwrap();
    app.commit().unwrap();
    let url = server(storage).await;

    // Our external labels match the server's: added to the select, removed from the result.
    let read = remote(&url, &[], Labels::from_pairs([("region", "eu")]));
    let q = read.querier(0, 10_000).unwrap();
    let mut set = q.select(true, None, &[eq("__name__", "up")]);
    let s = set.next().expect("one series");
    assert_eq!(s.labels(), &l);
    let mut it = s.iter();
    assert_eq!(it.next(), ValueType::Float);
    assert_eq!(it.at(), (1000, 1.0));
    assert_eq!(it.next(), ValueType::Float);
    assert!(set.next().is_none() && set.err().is_none());

    // A required matcher missing from the select: the endpoint is not asked.
    let read = remote(&url, &[("job", "b")], Labels::default());
    let q = read.querier(0, 10_000).unwrap();
    assert!(
        q.select(false, None, &[eq("__name__", "up")])
            .next()
            .is_none()
    );
    let mut set = read.querier(0, 10_000).unwrap().select(
        false,
        None,
        &[eq("__name__", "up"), eq("job", "b")],
    );
    assert!(set.next().is_none() && set.err().is_none());

    // An unreachable endpoint is an error of the set.
    let read = remote("http://127.0.0.1:1/api/v1/read", &[], Labels::default());
    let mut set = read.querier(0, 1).unwrap().select(false, None, &[]);
    assert!(set.next().is_none());
    assert!(set.err().is_some());
}

/// The endpoints of a config with `remote_read` entries (`read_recent` as given) on `url`.
fn endpoints(url: &str, read_recent: &[bool]) -> crate::remote::read_storage::RemoteReads {
    let mut yaml = String::from("global:\n  external_labels: {region: eu}\nremote_read:\n");
    for recent in read_recent {
        yaml.push_str(&format!("  - url: {url}\n    read_recent: {recent}\n"));
    }
    let cfg = crate::config::load_str(&yaml, "p.yml").unwrap();
    let reads = crate::remote::read_storage::RemoteReads::new(Handle::current());
    reads.apply_config(&cfg).unwrap();
    reads
}

fn sample_times(q: &dyn Querier) -> Vec<i64> {
    let mut set = q.select(true, None, &[eq("__name__", "up")]);
    let mut out = Vec::new();
    while let Some(s) = set.next() {
        let mut it = s.iter();
        while it.next() == ValueType::Float {
            out.push(it.at().0);
        }
    }
    assert!(set.err().is_none(), "{:?}", set.err());
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_recent_false_defers_to_local_storage() {
    let storage = MemStorage::new();
    let mut app = storage.appender();
    let l = Labels::from_pairs([("__name__", "up"), ("job", "a")]);
    for t in [1_000, 50_000] {
        app.append(SeriesRef::UNKNOWN, &l, t, 1.0).unwrap();
    }
    app.commit().unwrap();
    let url = server(storage).await;

    // Local storage starts at 10 s: only the time before it is read remotely.
    let reads = endpoints(&url, &[false]);
    let qs = reads.queriers(0, 100_000, || 10_000).unwrap();
    assert_eq!(qs.len(), 1);
    assert_eq!(sample_times(qs[0].as_ref()), [1_000]);
    // A query entirely after the local start skips the endpoint.
    assert!(
        reads
            .queriers(20_000, 100_000, || 10_000)
            .unwrap()
            .is_empty()
    );

    // read_recent reads the whole range and never asks where local storage starts.
    let reads = endpoints(&url, &[true, true]);
    let qs = reads
        .queriers(20_000, 100_000, || panic!("not needed"))
        .unwrap();
    assert_eq!(qs.len(), 2);
    assert_eq!(sample_times(qs[0].as_ref()), [50_000]);

    // A reload to no endpoints leaves nothing to ask.
    reads
        .apply_config(&crate::config::load_str("{}", "p.yml").unwrap())
        .unwrap();
    assert!(reads.queriers(0, 1, || 0).unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_lookups_are_not_implemented() {
    let read = remote("http://127.0.0.1:1/api/v1/read", &[], Labels::default());
    let q = read.querier(0, 1).unwrap();
    let err = q.label_names(None, &[]).unwrap_err();
    assert_eq!(err.to_string(), "not implemented");
    assert!(q.label_values("job", None, &[]).is_err());
}
