//! memcached's text protocol, only as far as the statistics commands go: `stats`,
//! `stats slabs` and `stats items` on one connection, `stats settings` on another, each
//! connection bounded by the timeout, over TCP or a unix socket, optionally in TLS.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::ServerName;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpStream, UnixStream};
use tokio::time::{Instant, timeout_at};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::ClientConfig;

use crate::error::StatsError;

/// Statistics of one `stats` + `stats slabs` + `stats items` round.
#[derive(Debug, Default, PartialEq)]
pub struct Stats {
    /// `STAT name value` (from all three commands: `stats slabs` adds `total_malloced`).
    pub global: HashMap<String, String>,
    /// `STAT <slab>:name value` by slab class.
    pub slabs: BTreeMap<i64, HashMap<String, String>>,
    /// `STAT items:<slab>:name value` by slab class.
    pub items: BTreeMap<i64, HashMap<String, String>>,
}

impl Stats {
    /// Folds one response line in; lines that are not `STAT` with exactly three words are
    /// ignored, as upstream's client does.
    pub fn add_line(&mut self, line: &str) -> Result<(), StatsError> {
        let words: Vec<&str> = line.split(' ').collect();
        let [stat, key, value] = words[..] else {
            return Ok(());
        };
        if !stat.starts_with("STAT") {
            return Ok(());
        }
        let value = value.trim().to_owned();
        let parts: Vec<&str> = key.split(':').collect();
        let slab = |s: &str| {
            s.parse::<i64>()
                .map_err(|_| StatsError::SlabClass(s.to_owned()))
        };
        match parts[..] {
            [name] => {
                self.global.insert(name.to_owned(), value);
            }
            [class, name] => {
                self.slabs
                    .entry(slab(class)?)
                    .or_default()
                    .insert(name.to_owned(), value);
            }
            [_, class, name] => {
                self.items
                    .entry(slab(class)?)
                    .or_default()
                    .insert(name.to_owned(), value);
            }
            _ => {}
        }
        Ok(())
    }
}

/// `--memcached.address`: a path (anything with a `/`) or `host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    Tcp(String),
    Unix(PathBuf),
}

impl Address {
    pub fn parse(address: &str) -> Self {
        if address.contains('/') {
            Address::Unix(PathBuf::from(address))
        } else {
            Address::Tcp(address.to_owned())
        }
    }
}

/// TLS towards memcached: the rustls configuration and the name the certificate must carry.
#[derive(Debug, Clone)]
pub struct Tls {
    pub config: Arc<ClientConfig>,
    pub server_name: ServerName<'static>,
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A client for one memcached server.
#[derive(Debug, Clone)]
pub struct Client {
    address: Address,
    timeout: Duration,
    tls: Option<Tls>,
}

impl Client {
    pub fn new(address: &str, timeout: Duration, tls: Option<Tls>) -> Self {
        Self {
            address: Address::parse(address),
            timeout,
            tls,
        }
    }

    /// Connects; the returned deadline bounds everything done on the connection.
    async fn connect(&self) -> Result<(BufReader<Box<dyn Stream>>, Instant), StatsError> {
        let deadline = Instant::now() + self.timeout;
        let raw: Box<dyn Stream> = match &self.address {
            Address::Tcp(addr) => Box::new(
                timeout_at(deadline, TcpStream::connect(addr.as_str()))
                    .await
                    .map_err(|_| StatsError::Timeout)??,
            ),
            Address::Unix(path) => Box::new(
                timeout_at(deadline, UnixStream::connect(path))
                    .await
                    .map_err(|_| StatsError::Timeout)??,
            ),
        };
        let stream: Box<dyn Stream> = match &self.tls {
            None => raw,
            Some(tls) => {
                let connector = TlsConnector::from(Arc::clone(&tls.config));
                Box::new(
                    timeout_at(deadline, connector.connect(tls.server_name.clone(), raw))
                        .await
                        .map_err(|_| StatsError::Timeout)??,
                )
            }
        };
        Ok((BufReader::new(stream), deadline))
    }

    /// `stats`, `stats slabs` and `stats items`.
    pub async fn stats(&self) -> Result<Stats, StatsError> {
        let (mut conn, deadline) = self.connect().await?;
        let mut stats = Stats::default();
        for command in ["stats\r\n", "stats slabs\r\n", "stats items\r\n"] {
            for line in exchange(&mut conn, command, deadline).await? {
                stats.add_line(&line)?;
            }
        }
        Ok(stats)
    }

    /// `stats settings`; every line must be `STAT name value…`.
    pub async fn settings(&self) -> Result<HashMap<String, String>, StatsError> {
        let (mut conn, deadline) = self.connect().await?;
        let mut settings = HashMap::new();
        for line in exchange(&mut conn, "stats settings\r\n", deadline).await? {
            let mut words = line.splitn(3, ' ');
            match (words.next(), words.next(), words.next()) {
                (Some("STAT"), Some(key), Some(value)) => {
                    settings.insert(key.to_owned(), value.trim().to_owned());
                }
                _ => return Err(StatsError::Line(line)),
            }
        }
        Ok(settings)
    }
}

/// Sends `command` and returns the response lines before `END`.
async fn exchange(
    conn: &mut BufReader<Box<dyn Stream>>,
    command: &str,
    deadline: Instant,
) -> Result<Vec<String>, StatsError> {
    timeout_at(deadline, async {
        conn.get_mut().write_all(command.as_bytes()).await?;
        conn.get_mut().flush().await
    })
    .await
    .map_err(|_| StatsError::Timeout)??;
    let mut lines = Vec::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        let n = timeout_at(deadline, conn.read_until(b'\n', &mut buf))
            .await
            .map_err(|_| StatsError::Timeout)??;
        if n == 0 || buf.last() != Some(&b'\n') {
            return Err(StatsError::Closed);
        }
        let line = String::from_utf8_lossy(&buf);
        if line == "END\r\n" {
            return Ok(lines);
        }
        if let Some(message) = line.strip_prefix("CLIENT_ERROR ") {
            return Err(StatsError::Client(message.trim_end().to_owned()));
        }
        lines.push(line.trim_end_matches(['\r', '\n']).to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_land_in_global_slab_and_item_maps() {
        let mut s = Stats::default();
        for line in [
            "STAT version 1.6.18",
            "STAT 1:chunk_size 96",
            "STAT items:01:number 3",
            "STAT libevent 2.1 extra",
            "noise",
            "STAT total_malloced 1048576",
        ] {
            s.add_line(line).unwrap();
        }
        assert_eq!(s.global["version"], "1.6.18");
        assert_eq!(s.global["total_malloced"], "1048576");
        assert!(!s.global.contains_key("libevent"));
        assert_eq!(s.slabs[&1]["chunk_size"], "96");
        assert_eq!(s.items[&1]["number"], "3");
        assert!(matches!(
            s.add_line("STAT x:y 1"),
            Err(StatsError::SlabClass(c)) if c == "x"
        ));
    }

    #[test]
    fn addresses() {
        assert_eq!(
            Address::parse("localhost:11211"),
            Address::Tcp("localhost:11211".into())
        );
        assert_eq!(
            Address::parse("/run/memcached.sock"),
            Address::Unix("/run/memcached.sock".into())
        );
    }
}
