//! `--statsd.relay.address`: every received line is forwarded, unchanged, to another StatsD
//! server over UDP, packed into packets of at most `--statsd.relay.packet-length` bytes and
//! sent when full or once a second.

use std::time::Duration;

use pm_common::metrics::Counter;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::metrics::ExporterMetrics;

#[derive(Debug)]
pub struct Relay {
    tx: mpsc::Sender<Vec<u8>>,
    packet_length: usize,
    long_lines: Counter,
    relayed: Counter,
}

impl Relay {
    /// Resolves `target` and starts the sending task.
    pub async fn start(
        target: &str,
        packet_length: usize,
        metrics: &ExporterMetrics,
    ) -> std::io::Result<Self> {
        let addr = tokio::net::lookup_host(target)
            .await?
            .next()
            .ok_or_else(|| std::io::Error::other(format!("unable to resolve target {target}")))?;
        let bind = if addr.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        };
        let socket = UdpSocket::bind(bind).await?;
        let (tx, rx) = mpsc::channel(100);
        let packets = metrics.relay_packets.with_label_values(&[target]);
        tokio::spawn(send_loop(socket, addr, rx, packet_length, packets));
        Ok(Relay {
            tx,
            packet_length,
            long_lines: metrics.relay_long_lines.with_label_values(&[target]),
            relayed: metrics.relay_lines.with_label_values(&[target]),
        })
    }

    /// Queues one line (without newline) for relaying.
    pub async fn relay_line(&self, line: &[u8]) {
        if line.is_empty() {
            return;
        }
        if line.len() > self.packet_length.saturating_sub(1) {
            tracing::warn!(
                length = line.len(),
                max = self.packet_length,
                "line too long, not relaying"
            );
            self.long_lines.inc();
            return;
        }
        let mut owned = Vec::with_capacity(line.len() + 1);
        owned.extend_from_slice(line);
        if !line.ends_with(b"\n") {
            owned.push(b'\n');
        }
        self.relayed.inc();
        let _ = self.tx.send(owned).await;
    }
}

async fn send_loop(
    socket: UdpSocket,
    addr: std::net::SocketAddr,
    mut rx: mpsc::Receiver<Vec<u8>>,
    packet_length: usize,
    packets: Counter,
) {
    let mut buffer = Vec::with_capacity(packet_length);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        let line = tokio::select! {
            _ = tick.tick() => None,
            line = rx.recv() => match line {
                Some(line) => Some(line),
                None => return,
            },
        };
        let full = line
            .as_ref()
            .is_none_or(|l| l.len() + buffer.len() > packet_length);
        if full && !buffer.is_empty() {
            if let Err(err) = socket.send_to(&buffer, addr).await {
                tracing::error!(%err, "Error sending UDP packet");
                return;
            }
            packets.inc();
            buffer.clear();
        }
        if let Some(line) = line {
            buffer.extend_from_slice(&line);
        }
    }
}
