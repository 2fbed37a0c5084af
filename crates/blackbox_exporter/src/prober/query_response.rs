//! The `query_response` dialogue shared by the tcp and unix probers: expect lines matching a
//! regexp (capture groups feed the next `send`), expect raw bytes, send lines, upgrade to TLS.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use pm_common::config::http::TlsConfig;
use tokio::io::{
    AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader, ReadBuf,
};
use tokio::net::{TcpStream, UnixStream};
use tokio_rustls::client::TlsStream;

use super::{Probe, tls};
use crate::config::QueryResponse;

/// Go's `bufio.Scanner` gives up on longer lines.
const MAX_LINE: usize = 64 * 1024;

/// Any connection a dialogue can run over, before or after STARTTLS.
pub enum Stream {
    Plain(TcpStream),
    Unix(UnixStream),
    Tls(Box<TlsStream<TcpStream>>),
    TlsAny(Box<TlsStream<Stream>>),
}

macro_rules! delegate {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            Stream::Plain($s) => $e,
            Stream::Unix($s) => $e,
            Stream::Tls($s) => $e,
            Stream::TlsAny($s) => $e,
        }
    };
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        delegate!(self, s => Pin::new(s).poll_read(cx, buf))
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, s => Pin::new(s).poll_write(cx, buf))
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => Pin::new(s).poll_flush(cx))
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => Pin::new(s).poll_shutdown(cx))
    }
}

/// Runs `steps` over `stream`; `host` is the default TLS server name for STARTTLS.
pub async fn dialogue(
    probe: &Probe<'_>,
    stream: Stream,
    steps: &[QueryResponse],
    tls_config: &TlsConfig,
    host: &str,
) -> bool {
    let m = probe.metrics;
    let regex_metric = (
        "probe_failed_due_to_regex",
        "Indicates if probe failed due to regex",
    );
    let bytes_metric = (
        "probe_failed_due_to_bytes",
        "Indicates if probe failed due to bytes",
    );
    m.declare(regex_metric.0, regex_metric.1, &[]);
    m.declare(bytes_metric.0, bytes_metric.1, &[]);
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        probe
            .log
            .debug("Processing query response entry", &[("entry_number", &i)]);
        let mut send = step.send.clone();
        if let Some(expect) = &step.expect {
            let mut matched = None;
            loop {
                match read_line(&mut reader, &mut line).await {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(err) => {
                        probe
                            .log
                            .error("Error reading from connection", &[("err", &err)]);
                        return false;
                    }
                }
                let text = String::from_utf8_lossy(&line);
                probe.log.debug("Read line", &[("line", &text)]);
                if let Some(caps) = expect.regex().captures(&line) {
                    probe.log.debug(
                        "Regexp matched",
                        &[("regexp", &expect.as_str()), ("line", &text)],
                    );
                    let mut expanded = Vec::new();
                    caps.expand(send.as_bytes(), &mut expanded);
                    let labels: Vec<(String, String)> = step
                        .labels
                        .iter()
                        .map(|l| {
                            let mut value = Vec::new();
                            caps.expand(l.value.as_bytes(), &mut value);
                            (l.name.clone(), String::from_utf8_lossy(&value).into_owned())
                        })
                        .collect();
                    matched = Some((String::from_utf8_lossy(&expanded).into_owned(), labels));
                    break;
                }
            }
            let Some((expanded, labels)) = matched else {
                m.set(regex_metric.0, regex_metric.1, 1.0);
                probe.log.error(
                    "Regexp did not match",
                    &[
                        ("regexp", &expect.as_str()),
                        ("line", &String::from_utf8_lossy(&line)),
                    ],
                );
                return false;
            };
            m.set(regex_metric.0, regex_metric.1, 0.0);
            send = expanded;
            if !labels.is_empty() {
                let names: Vec<&str> = labels.iter().map(|(n, _)| n.as_str()).collect();
                let values: Vec<&str> = labels.iter().map(|(_, v)| v.as_str()).collect();
                m.set_labelled(
                    "probe_expect_info",
                    "Explicit content matched",
                    &names,
                    &values,
                    1.0,
                );
            }
        }
        if !step.expect_bytes.is_empty() {
            let want = step.expect_bytes.as_bytes();
            let mut data = vec![0u8; want.len()];
            let n = match reader.read(&mut data).await {
                Ok(n) => n,
                Err(err) => {
                    probe
                        .log
                        .error("Error reading from connection", &[("err", &err)]);
                    return false;
                }
            };
            if n < want.len() {
                probe.log.error(
                    "Read less data than expected",
                    &[
                        ("expected", &format!("{want:?}")),
                        ("bytes", &format!("{:?}", &data[..n])),
                    ],
                );
                return false;
            }
            if data != want {
                m.set(bytes_metric.0, bytes_metric.1, 1.0);
                probe.log.error(
                    "Bytes did not match",
                    &[
                        ("expected", &format!("{want:?}")),
                        ("bytes", &format!("{data:?}")),
                    ],
                );
                return false;
            }
            m.set(bytes_metric.0, bytes_metric.1, 0.0);
        }
        if !send.is_empty() {
            probe.log.debug("Sending line", &[("line", &send)]);
            let out = format!("{send}\n");
            let sent = async {
                reader.get_mut().write_all(out.as_bytes()).await?;
                reader.get_mut().flush().await
            };
            if let Err(err) = sent.await {
                probe.log.error("Failed to send", &[("err", &err)]);
                return false;
            }
        }
        if step.starttls {
            let (connector, name) = match tls::connector(tls_config, &[], host) {
                Ok(c) => c,
                Err(err) => {
                    probe
                        .log
                        .error("Failed to create TLS configuration", &[("err", &err)]);
                    return false;
                }
            };
            // Like Go's scanner, bytes read ahead of the handshake are dropped.
            let plain = reader.into_inner();
            match connector.connect(name, plain).await {
                Ok(s) => {
                    probe.log.debug("TLS Handshake (client) succeeded.", &[]);
                    tls::record(m, s.get_ref().1);
                    reader = BufReader::new(Stream::TlsAny(Box::new(s)));
                }
                Err(err) => {
                    probe
                        .log
                        .error("TLS Handshake (client) failed", &[("err", &err)]);
                    return false;
                }
            }
        }
    }
    true
}

/// Reads one line without its `\n` / `\r\n`; false at end of stream with nothing read.
async fn read_line<R: AsyncBufReadExt + Unpin>(
    reader: &mut R,
    line: &mut Vec<u8>,
) -> io::Result<bool> {
    line.clear();
    let n = (&mut *reader)
        .take(MAX_LINE as u64)
        .read_until(b'\n', line)
        .await?;
    if n == 0 {
        return Ok(false);
    }
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    } else if n == MAX_LINE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "bufio.Scanner: token too long",
        ));
    }
    Ok(true)
}
