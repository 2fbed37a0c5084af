//! The StatsD listeners: UDP and Unix datagrams (one packet, several lines) and TCP (a stream
//! of lines). Each line is counted, relayed if configured, parsed, and queued.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream, UdpSocket, UnixDatagram};
use tokio::sync::mpsc;

use crate::line::Parser;
use crate::metrics::ExporterMetrics;
use crate::queue::EventQueue;
use crate::relay::Relay;

/// The longest TCP line read, as Go's default `bufio.Reader`; a longer one ends the connection.
const MAX_TCP_LINE: usize = 4096;

/// What every listener feeds.
#[derive(Debug)]
pub struct Pipeline {
    pub parser: Parser,
    pub queue: Arc<EventQueue>,
    pub relay: Option<Relay>,
    pub metrics: ExporterMetrics,
}

impl Pipeline {
    /// Handles one line (without newline).
    pub async fn line(&self, line: &[u8]) {
        self.metrics.lines.inc();
        if let Some(relay) = &self.relay {
            relay.relay_line(line).await;
        }
        let mut events = Vec::new();
        self.parser.parse_line(line, &mut events);
        if !events.is_empty() {
            self.queue.push(events).await;
        }
    }

    /// Handles a datagram: every `\n`-separated piece is a line (a trailing newline yields an
    /// empty line, which upstream counts too).
    pub async fn packet(&self, packet: &[u8]) {
        for line in packet.split(|&b| b == b'\n') {
            self.line(line).await;
        }
    }
}

/// Receives UDP packets into a queue of `queue_size` packets (overflow is dropped and counted)
/// that one task drains.
pub async fn serve_udp(socket: UdpSocket, pipeline: Arc<Pipeline>, queue_size: usize) {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(queue_size.max(1));
    let worker = Arc::clone(&pipeline);
    tokio::spawn(async move {
        while let Some(packet) = rx.recv().await {
            worker.packet(&packet).await;
        }
    });
    let mut buf = vec![0u8; 65535];
    loop {
        let n = match socket.recv(&mut buf).await {
            Ok(n) => n,
            Err(err) => {
                tracing::error!(%err, "error reading from UDP connection");
                return;
            }
        };
        pipeline.metrics.udp_packets.inc();
        if tx.try_send(buf[..n].to_vec()).is_err() {
            pipeline.metrics.udp_packet_drops.inc();
        }
    }
}

/// Accepts TCP connections, one task each.
pub async fn serve_tcp(listener: TcpListener, pipeline: Arc<Pipeline>) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(handle_tcp(stream, Arc::clone(&pipeline)));
            }
            Err(err) => {
                tracing::error!(%err, "AcceptTCP failed");
                return;
            }
        }
    }
}

async fn handle_tcp(mut stream: TcpStream, pipeline: Arc<Pipeline>) {
    pipeline.metrics.tcp_connections.inc();
    let mut buf: Vec<u8> = Vec::with_capacity(MAX_TCP_LINE);
    let mut chunk = [0u8; 8192];
    loop {
        let n = match stream.read(&mut chunk).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(err) => {
                pipeline.metrics.tcp_errors.inc();
                tracing::debug!(%err, "Read failed");
                return;
            }
        };
        buf.extend_from_slice(&chunk[..n]);
        let mut start = 0;
        while let Some(pos) = buf[start..].iter().position(|&b| b == b'\n') {
            let line = &buf[start..start + pos];
            if line.len() > MAX_TCP_LINE {
                break;
            }
            pipeline
                .line(line.strip_suffix(b"\r").unwrap_or(line))
                .await;
            start += pos + 1;
        }
        buf.drain(..start);
        if buf.len() > MAX_TCP_LINE {
            pipeline.metrics.tcp_line_too_long.inc();
            tracing::debug!("Read failed: line too long");
            return;
        }
    }
    // The last line may lack its newline.
    if !buf.is_empty() {
        pipeline.line(buf.strip_suffix(b"\r").unwrap_or(&buf)).await;
    }
}

/// A Unix datagram socket at a path that must not exist yet; removed again on drop.
#[derive(Debug)]
pub struct UnixgramSocket {
    pub socket: UnixDatagram,
    path: PathBuf,
}

impl UnixgramSocket {
    /// Binds `path` and sets its permission bits from `mode` (octal, as `755`).
    pub fn bind(path: &Path, mode: &str) -> std::io::Result<Self> {
        if path.exists() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                format!("Unixgram socket {} already exists", path.display()),
            ));
        }
        let socket = UnixDatagram::bind(path)?;
        match u32::from_str_radix(mode, 8) {
            Ok(bits) => {
                use std::os::unix::fs::PermissionsExt;
                if let Err(err) =
                    std::fs::set_permissions(path, std::fs::Permissions::from_mode(bits))
                {
                    tracing::warn!(%err, "Failed to change unixgram socket permission");
                }
            }
            Err(err) => tracing::warn!(mode, %err, "Bad permission, ignoring"),
        }
        Ok(UnixgramSocket {
            socket,
            path: path.to_owned(),
        })
    }
}

impl Drop for UnixgramSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Receives Unix datagrams; each is handled before the next is read, as upstream.
pub async fn serve_unixgram(socket: Arc<UnixgramSocket>, pipeline: Arc<Pipeline>) {
    let mut buf = vec![0u8; 65535];
    loop {
        match socket.socket.recv(&mut buf).await {
            Ok(n) => {
                pipeline.metrics.unixgram_packets.inc();
                pipeline.packet(&buf[..n]).await;
            }
            Err(err) => {
                tracing::error!(%err, "error reading from unixgram connection");
                return;
            }
        }
    }
}
