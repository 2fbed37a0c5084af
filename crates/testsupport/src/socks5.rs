//! A SOCKS5 proxy on loopback for the tests of clients that take `socks5://` proxy URLs
//! (upstream's Go clients dial through one when `proxy_url` says so).

use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// How long the proxy waits for a client's next handshake bytes.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A SOCKS5 proxy (RFC 1928, with RFC 1929 username/password when the client offers it) that
/// connects to whatever target it is asked for and relays both ways. It records `user:pass`
/// (when given) and each `host:port` target, in order. Stops accepting when dropped.
pub struct Socks5Proxy {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

impl Socks5Proxy {
    pub fn start() -> Socks5Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("bound address");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log, stopped) = (Arc::clone(&seen), Arc::clone(&stop));
        thread::spawn(move || {
            for client in listener.incoming() {
                if stopped.load(Ordering::Acquire) {
                    return;
                }
                let Ok(client) = client else { continue };
                let log = Arc::clone(&log);
                thread::spawn(move || {
                    // A client that breaks off the handshake just ends its connection.
                    let _ = serve(client, &log);
                });
            }
        });
        Socks5Proxy { addr, seen, stop }
    }

    /// What the proxy was told so far: credentials and targets, in order.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for Socks5Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(mut client: TcpStream, log: &Mutex<Vec<String>>) -> io::Result<()> {
    client.set_read_timeout(Some(HANDSHAKE_TIMEOUT))?;
    let [_version, count] = read_array(&mut client)?;
    let mut methods = vec![0u8; usize::from(count)];
    client.read_exact(&mut methods)?;
    let record = |entry: String| log.lock().unwrap_or_else(|e| e.into_inner()).push(entry);
    if methods.contains(&2) {
        client.write_all(&[5, 2])?;
        let [_auth_version] = read_array(&mut client)?;
        let user = read_field(&mut client)?;
        let pass = read_field(&mut client)?;
        record(format!("{user}:{pass}"));
        client.write_all(&[1, 0])?;
    } else {
        client.write_all(&[5, 0])?;
    }
    let [_version, _connect, _reserved, kind] = read_array(&mut client)?;
    let host = match kind {
        1 => Ipv4Addr::from(read_array::<4>(&mut client)?).to_string(),
        3 => read_field(&mut client)?,
        _ => return Err(io::Error::other("unsupported address type")),
    };
    let port = u16::from_be_bytes(read_array(&mut client)?);
    let target = format!("{host}:{port}");
    record(target.clone());
    let upstream = TcpStream::connect(&target)?;
    client.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0])?;
    client.set_read_timeout(None)?;
    relay(client, upstream)
}

/// Copies both ways until either side closes.
fn relay(client: TcpStream, upstream: TcpStream) -> io::Result<()> {
    let (mut client_in, mut upstream_out) = (client.try_clone()?, upstream.try_clone()?);
    let forward = thread::spawn(move || {
        let _ = io::copy(&mut client_in, &mut upstream_out);
        let _ = upstream_out.shutdown(Shutdown::Write);
    });
    let (mut upstream_in, mut client_out) = (upstream, client);
    let _ = io::copy(&mut upstream_in, &mut client_out);
    let _ = client_out.shutdown(Shutdown::Write);
    let _ = forward.join();
    Ok(())
}

fn read_array<const N: usize>(r: &mut impl Read) -> io::Result<[u8; N]> {
    let mut buf = [0u8; N];
    r.read_exact(&mut buf)?;
    Ok(buf)
}

/// A length-prefixed string (a domain name, a user name or a password).
fn read_field(r: &mut impl Read) -> io::Result<String> {
    let [len] = read_array(r)?;
    let mut value = vec![0u8; usize::from(len)];
    r.read_exact(&mut value)?;
    String::from_utf8(value).map_err(io::Error::other)
}
