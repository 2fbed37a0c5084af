//! A fake memcached on loopback answering with malformed or missing statistics: each case
//! gives `memcached_up 0` (and whatever parsed), never a failed scrape or a panic.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use pm_common::expfmt::dto::MetricFamily;
use pm_memcached_exporter::{Client, Exporter};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, UnixListener};

/// Replies by command (`stats`, `stats slabs`, …); a command without a reply gets none.
type Replies = BTreeMap<&'static str, String>;

const GOOD_STATS: &str = "STAT version 1.6.18\r\nSTAT uptime 5\r\nSTAT rusage_user 0.5\r\nSTAT cmd_set 2\r\nSTAT cas_misses 0\r\nSTAT cas_hits 0\r\nSTAT cas_badval 0\r\nEND\r\n";
const GOOD_SETTINGS: &str = "STAT maxconns 64\r\nSTAT lru_crawler no\r\nEND\r\n";

fn replies(stats: &str, settings: &str) -> Replies {
    BTreeMap::from([
        ("stats", stats.to_owned()),
        ("stats slabs", "END\r\n".to_owned()),
        ("stats items", "END\r\n".to_owned()),
        ("stats settings", settings.to_owned()),
    ])
}

async fn serve<S>(stream: S, replies: Arc<Replies>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let mut conn = BufReader::new(stream);
    let mut line = String::new();
    // Bounded: one connection asks at most three commands.
    for _ in 0..3 {
        line.clear();
        if conn.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let Some(reply) = replies.get(line.trim_end()) else {
            // Never answer: the client's timeout must end the exchange.
            let _ = conn.read_line(&mut line).await;
            return;
        };
        if conn.get_mut().write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

async fn fake_tcp(replies: Replies) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let replies = Arc::new(replies);
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            tokio::spawn(serve(conn, Arc::clone(&replies)));
        }
    });
    addr
}

fn fake_unix(path: &Path, replies: Replies) {
    let listener = UnixListener::bind(path).unwrap();
    let replies = Arc::new(replies);
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            tokio::spawn(serve(conn, Arc::clone(&replies)));
        }
    });
}

async fn scrape(addr: &str) -> Vec<MetricFamily> {
    Exporter::new(Client::new(addr, Duration::from_millis(300), None))
        .collect()
        .await
}

fn value(families: &[MetricFamily], name: &str) -> Option<f64> {
    let f = families.iter().find(|f| f.name() == name)?;
    let m = f.metric.first()?;
    m.gauge
        .as_ref()
        .and_then(|g| g.value)
        .or(m.counter.as_ref().and_then(|c| c.value))
}

#[tokio::test]
async fn well_formed_fake_is_up() {
    let f = scrape(&fake_tcp(replies(GOOD_STATS, GOOD_SETTINGS)).await).await;
    assert_eq!(value(&f, "memcached_up"), Some(1.0));
    assert_eq!(value(&f, "memcached_uptime_seconds"), Some(5.0));
    assert_eq!(value(&f, "memcached_max_connections"), Some(64.0));
    assert_eq!(
        value(&f, "memcached_process_user_cpu_seconds_total"),
        Some(0.000005),
        "upstream reads the fraction of a timeval as microseconds"
    );
}

#[tokio::test]
async fn over_a_unix_socket() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("memcached.sock");
    fake_unix(&sock, replies(GOOD_STATS, GOOD_SETTINGS));
    let f = scrape(&sock.display().to_string()).await;
    assert_eq!(value(&f, "memcached_up"), Some(1.0));
}

#[tokio::test]
async fn unparsable_value_is_up_zero_but_keeps_the_rest() {
    let stats = GOOD_STATS.replace("uptime 5", "uptime five");
    let f = scrape(&fake_tcp(replies(&stats, GOOD_SETTINGS)).await).await;
    assert_eq!(value(&f, "memcached_up"), Some(0.0));
    assert_eq!(value(&f, "memcached_uptime_seconds"), None);
    assert_eq!(value(&f, "memcached_max_connections"), Some(64.0));
}

#[tokio::test]
async fn client_error_and_bad_settings_lines() {
    let f = scrape(&fake_tcp(replies("CLIENT_ERROR bad command\r\n", GOOD_SETTINGS)).await).await;
    assert_eq!(value(&f, "memcached_up"), Some(0.0));
    assert_eq!(value(&f, "memcached_version"), None);
    assert_eq!(value(&f, "memcached_max_connections"), Some(64.0));

    let f = scrape(&fake_tcp(replies(GOOD_STATS, "garbage\r\nEND\r\n")).await).await;
    assert_eq!(value(&f, "memcached_up"), Some(0.0));
    assert_eq!(value(&f, "memcached_uptime_seconds"), Some(5.0));
    assert_eq!(value(&f, "memcached_max_connections"), None);
}

#[tokio::test]
async fn bad_slab_class_and_missing_set_counter() {
    let stats = GOOD_STATS.replace("STAT cmd_set 2\r\n", "");
    let f = scrape(&fake_tcp(replies(&stats, GOOD_SETTINGS)).await).await;
    assert_eq!(value(&f, "memcached_up"), Some(0.0));

    let mut r = replies(GOOD_STATS, GOOD_SETTINGS);
    r.insert("stats slabs", "STAT x:chunk_size 96\r\nEND\r\n".to_owned());
    let f = scrape(&fake_tcp(r).await).await;
    assert_eq!(value(&f, "memcached_up"), Some(0.0));
    assert_eq!(value(&f, "memcached_version"), None);
}

#[tokio::test]
async fn silent_server_times_out() {
    let mut r = replies(GOOD_STATS, GOOD_SETTINGS);
    r.remove("stats items");
    let f = scrape(&fake_tcp(r).await).await;
    assert_eq!(value(&f, "memcached_up"), Some(0.0));
    assert_eq!(value(&f, "memcached_version"), None);
    assert_eq!(value(&f, "memcached_max_connections"), Some(64.0));
}

#[tokio::test]
async fn refused_or_missing() {
    for addr in ["127.0.0.1:1", "/nonexistent/m.sock"] {
        let f = scrape(addr).await;
        assert_eq!(value(&f, "memcached_up"), Some(0.0), "{addr}");
        assert_eq!(f.len(), 1, "{addr}: only memcached_up");
    }
}
