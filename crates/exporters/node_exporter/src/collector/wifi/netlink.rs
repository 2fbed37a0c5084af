//! A minimal generic-netlink client: one `NETLINK_GENERIC` socket, family lookup through the
//! controller, and request/dump exchanges returning the attribute payloads of the replies.
//!
//! The netlink crates on crates.io would change the feature set of crates already in the
//! workspace (a full rebuild); the wifi collector needs only three dumps, so the socket calls
//! live here behind safe functions and the framing is plain byte parsing, tested on its own.

#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// `struct nlmsghdr`: length, type, flags, sequence number, port id.
const NLMSG_HDRLEN: usize = 16;
/// `struct genlmsghdr`: command, version, reserved.
const GENL_HDRLEN: usize = 4;
/// `struct nlattr`: length, type.
const NLA_HDRLEN: usize = 4;

const NLMSG_NOOP: u16 = 1;
const NLMSG_ERROR: u16 = libc::NLMSG_ERROR as u16;
const NLMSG_DONE: u16 = libc::NLMSG_DONE as u16;
const NLMSG_OVERRUN: u16 = 4;
const NLM_F_REQUEST: u16 = libc::NLM_F_REQUEST as u16;
const NLM_F_MULTI: u16 = libc::NLM_F_MULTI as u16;
const NLM_F_DUMP: u16 = libc::NLM_F_DUMP as u16;
/// Set by the kernel when the dumped table changed while the dump ran.
const NLM_F_DUMP_INTR: u16 = 0x10;
const NLA_TYPE_MASK: u16 = libc::NLA_TYPE_MASK as u16;

const GENL_ID_CTRL: u16 = libc::GENL_ID_CTRL as u16;
const CTRL_CMD_GETFAMILY: u8 = libc::CTRL_CMD_GETFAMILY as u8;
const CTRL_ATTR_FAMILY_ID: u16 = libc::CTRL_ATTR_FAMILY_ID as u16;
const CTRL_ATTR_FAMILY_NAME: u16 = libc::CTRL_ATTR_FAMILY_NAME as u16;
const CTRL_ATTR_VERSION: u16 = libc::CTRL_ATTR_VERSION as u16;

/// A reply that never comes (a wedged driver) must not stall the scrape forever.
const RECEIVE_TIMEOUT_SECS: libc::time_t = 10;
/// Bounds the receive loop of a dump whose end marker never arrives.
const MAX_DATAGRAMS: usize = 100_000;

fn malformed(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

/// One netlink attribute: its type (flag bits removed) and payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attr<'a> {
    pub kind: u16,
    pub data: &'a [u8],
}

impl<'a> Attr<'a> {
    pub fn u16(&self) -> io::Result<u16> {
        Ok(u16::from_ne_bytes(self.array()?))
    }

    pub fn u32(&self) -> io::Result<u32> {
        Ok(u32::from_ne_bytes(self.array()?))
    }

    pub fn u64(&self) -> io::Result<u64> {
        Ok(u64::from_ne_bytes(self.array()?))
    }

    /// The first byte as a signed number (the kernel's `s8`/`u8` dBm values).
    pub fn i8(&self) -> io::Result<i8> {
        Ok(i8::from_ne_bytes(self.array()?))
    }

    /// A string attribute without its NUL terminator.
    pub fn string(&self) -> String {
        let data = self.data.strip_suffix(&[0]).unwrap_or(self.data);
        String::from_utf8_lossy(data).into_owned()
    }

    /// The attributes nested in this one.
    pub fn nested(&self) -> Attrs<'a> {
        Attrs::new(self.data)
    }

    /// The leading `N` bytes; shorter payloads are malformed.
    fn array<const N: usize>(&self) -> io::Result<[u8; N]> {
        self.data
            .get(..N)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                malformed(format!(
                    "attribute {} has {} bytes, want {N}",
                    self.kind,
                    self.data.len()
                ))
            })
    }
}

/// Iterates over a buffer of netlink attributes (each 4-byte aligned).
#[derive(Debug, Clone)]
pub struct Attrs<'a> {
    rest: &'a [u8],
}

impl<'a> Attrs<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Attrs { rest: buf }
    }
}

impl<'a> Iterator for Attrs<'a> {
    type Item = io::Result<Attr<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        let Some(header) = self.rest.get(..NLA_HDRLEN) else {
            self.rest = &[];
            return Some(Err(malformed("truncated attribute header")));
        };
        let len = usize::from(u16::from_ne_bytes([header[0], header[1]]));
        let kind = u16::from_ne_bytes([header[2], header[3]]) & NLA_TYPE_MASK;
        if len < NLA_HDRLEN || len > self.rest.len() {
            self.rest = &[];
            return Some(Err(malformed(format!(
                "attribute {kind} has length {len} in {} bytes",
                self.rest.len()
            ))));
        }
        let data = &self.rest[NLA_HDRLEN..len];
        self.rest = self.rest.get(align(len)..).unwrap_or_default();
        Some(Ok(Attr { kind, data }))
    }
}

/// Netlink's 4-byte alignment.
fn align(len: usize) -> usize {
    len.next_multiple_of(4)
}

/// Appends one attribute (header, payload, padding) to a request.
pub fn put_attr(buf: &mut Vec<u8>, kind: u16, data: &[u8]) {
    let len = u16::try_from(NLA_HDRLEN + data.len()).expect("request attributes are small");
    buf.extend_from_slice(&len.to_ne_bytes());
    buf.extend_from_slice(&kind.to_ne_bytes());
    buf.extend_from_slice(data);
    buf.resize(align(buf.len()), 0);
}

/// A generic-netlink family as the controller reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Family {
    pub id: u16,
    pub version: u8,
}

/// The family id and version in a `CTRL_CMD_GETFAMILY` reply.
pub fn parse_family(payload: &[u8]) -> io::Result<Family> {
    let (mut id, mut version) = (None, 0);
    for attr in Attrs::new(payload) {
        let attr = attr?;
        match attr.kind {
            CTRL_ATTR_FAMILY_ID => id = Some(attr.u16()?),
            CTRL_ATTR_VERSION => version = attr.u32()?,
            _ => {}
        }
    }
    let id = id.ok_or_else(|| malformed("family reply without an id"))?;
    Ok(Family {
        id,
        version: u8::try_from(version).unwrap_or(u8::MAX),
    })
}

/// A complete request message: netlink header, generic-netlink header, attributes.
pub fn encode_request(
    family: u16,
    flags: u16,
    seq: u32,
    cmd: u8,
    version: u8,
    attrs: &[u8],
) -> Vec<u8> {
    let len = u32::try_from(NLMSG_HDRLEN + GENL_HDRLEN + attrs.len()).expect("small request");
    let mut msg = Vec::with_capacity(len as usize);
    msg.extend_from_slice(&len.to_ne_bytes());
    msg.extend_from_slice(&family.to_ne_bytes());
    msg.extend_from_slice(&(flags | NLM_F_REQUEST).to_ne_bytes());
    msg.extend_from_slice(&seq.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    msg.extend_from_slice(&[cmd, version, 0, 0]);
    msg.extend_from_slice(attrs);
    msg
}

/// Where a datagram leaves an exchange.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// More datagrams follow (a dump in progress).
    More,
    Done,
}

/// Splits one received datagram into messages, appending the attribute payloads (after the
/// generic-netlink header) of replies to `seq` to `out`. A kernel error ends the exchange
/// with that errno; replies to other sequence numbers are ignored.
pub fn parse_datagram(buf: &[u8], seq: u32, out: &mut Vec<Vec<u8>>) -> io::Result<Progress> {
    let mut rest = buf;
    let mut progress = Progress::More;
    while rest.len() >= NLMSG_HDRLEN {
        let word = |at: usize| u32::from_ne_bytes(rest[at..at + 4].try_into().expect("4 bytes"));
        let len = word(0) as usize;
        let kind = u16::from_ne_bytes([rest[4], rest[5]]);
        let flags = u16::from_ne_bytes([rest[6], rest[7]]);
        if len < NLMSG_HDRLEN || len > rest.len() {
            return Err(malformed(format!(
                "netlink message of length {len} in {} bytes",
                rest.len()
            )));
        }
        let payload = &rest[NLMSG_HDRLEN..len];
        let msg_seq = word(8);
        rest = rest.get(align(len)..).unwrap_or_default();
        if msg_seq != seq {
            continue;
        }
        if flags & NLM_F_DUMP_INTR != 0 {
            return Err(io::Error::other(
                "netlink dump interrupted: the table changed",
            ));
        }
        match kind {
            NLMSG_NOOP => continue,
            NLMSG_ERROR | NLMSG_DONE => {
                let code = payload
                    .get(..4)
                    .map_or(0, |b| i32::from_ne_bytes(b.try_into().expect("4 bytes")));
                if code < 0 {
                    return Err(io::Error::from_raw_os_error(-code));
                }
                return Ok(Progress::Done);
            }
            NLMSG_OVERRUN => return Err(malformed("netlink overrun")),
            _ => {
                let attrs = payload
                    .get(GENL_HDRLEN..)
                    .ok_or_else(|| malformed("message shorter than its generic-netlink header"))?;
                out.push(attrs.to_vec());
                if flags & NLM_F_MULTI == 0 {
                    progress = Progress::Done;
                }
            }
        }
    }
    Ok(progress)
}

/// A `NETLINK_GENERIC` socket.
pub struct GenlSocket {
    fd: OwnedFd,
    seq: u32,
    buf: Vec<u8>,
}

impl GenlSocket {
    pub fn open() -> io::Result<Self> {
        // SAFETY: socket(2) takes only integer arguments; a non-negative result is a new
        // descriptor that nothing else owns, so `OwnedFd` may take it over.
        let fd = unsafe {
            let fd = libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_GENERIC,
            );
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            OwnedFd::from_raw_fd(fd)
        };
        let timeout = libc::timeval {
            tv_sec: RECEIVE_TIMEOUT_SECS,
            tv_usec: 0,
        };
        // SAFETY: the option value points at a `timeval` on this stack frame, with its size.
        let rc = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                (&raw const timeout).cast(),
                size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(GenlSocket {
            fd,
            seq: 0,
            buf: vec![0; 32 * 1024],
        })
    }

    /// Looks a family up by name; an unknown family is `NotFound` (the kernel's `ENOENT`).
    pub fn family(&mut self, name: &str) -> io::Result<Family> {
        let mut attrs = Vec::new();
        let mut name = name.as_bytes().to_vec();
        name.push(0);
        put_attr(&mut attrs, CTRL_ATTR_FAMILY_NAME, &name);
        let replies = self.exchange(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, false, &attrs)?;
        let reply = replies
            .first()
            .ok_or_else(|| malformed("no reply to the family lookup"))?;
        parse_family(reply)
    }

    /// Sends one request (a dump when `dump`) and returns the attribute payloads of all
    /// replies.
    pub fn exchange(
        &mut self,
        family: u16,
        cmd: u8,
        version: u8,
        dump: bool,
        attrs: &[u8],
    ) -> io::Result<Vec<Vec<u8>>> {
        self.seq = self.seq.wrapping_add(1);
        let flags = if dump { NLM_F_DUMP } else { 0 };
        let request = encode_request(family, flags, self.seq, cmd, version, attrs);
        self.send(&request)?;
        let mut replies = Vec::new();
        for _ in 0..MAX_DATAGRAMS {
            let len = self.receive()?;
            if parse_datagram(&self.buf[..len], self.seq, &mut replies)? == Progress::Done {
                return Ok(replies);
            }
        }
        Err(malformed("netlink dump did not end"))
    }

    fn send(&self, msg: &[u8]) -> io::Result<()> {
        // SAFETY: `sockaddr_nl` is plain integers, valid when zeroed; port id 0 is the kernel.
        let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
        kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        // SAFETY: the buffer and address are live for the call and their lengths are theirs.
        let sent = unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                msg.as_ptr().cast(),
                msg.len(),
                0,
                (&raw const kernel).cast(),
                size_of::<libc::sockaddr_nl>() as libc::socklen_t,
            )
        };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Receives one datagram into `self.buf`, growing it first if the datagram is larger.
    fn receive(&mut self) -> io::Result<usize> {
        let size = self.recv(libc::MSG_PEEK | libc::MSG_TRUNC)?;
        if size > self.buf.len() {
            self.buf.resize(size, 0);
        }
        self.recv(0)
    }

    fn recv(&mut self, flags: libc::c_int) -> io::Result<usize> {
        loop {
            // SAFETY: the kernel writes at most `buf.len()` bytes into the owned buffer.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    self.buf.as_mut_ptr().cast(),
                    self.buf.len(),
                    flags,
                )
            };
            if n >= 0 {
                return Ok(n as usize);
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reply message as the kernel frames it.
    fn message(kind: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let len = (NLMSG_HDRLEN + payload.len()) as u32;
        let mut m = Vec::new();
        m.extend_from_slice(&len.to_ne_bytes());
        m.extend_from_slice(&kind.to_ne_bytes());
        m.extend_from_slice(&flags.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&77u32.to_ne_bytes());
        m.extend_from_slice(payload);
        m.resize(align(m.len()), 0);
        m
    }

    fn genl(attrs: &[u8]) -> Vec<u8> {
        let mut p = vec![5, 1, 0, 0];
        p.extend_from_slice(attrs);
        p
    }

    #[test]
    fn attributes_round_trip_with_padding_and_flags() {
        let mut buf = Vec::new();
        put_attr(&mut buf, 3, &7u32.to_ne_bytes());
        put_attr(&mut buf, 4, b"wlan0\0");
        put_attr(&mut buf, 0x8000 | 21, &[]);
        assert_eq!(buf.len(), 8 + 12 + 4);
        let attrs: Vec<Attr> = Attrs::new(&buf).collect::<io::Result<_>>().unwrap();
        assert_eq!(attrs.len(), 3);
        assert_eq!((attrs[0].kind, attrs[0].u32().unwrap()), (3, 7));
        assert_eq!((attrs[1].kind, attrs[1].string()), (4, "wlan0".into()));
        assert_eq!(attrs[2].kind, 21, "the nested flag is masked off");
        assert!(attrs[2].data.is_empty());
    }

    #[test]
    fn malformed_attributes_are_errors() {
        let mut buf = Vec::new();
        put_attr(&mut buf, 1, &[1, 2]);
        assert!(
            Attrs::new(&buf[..5]).next().unwrap().is_err(),
            "length past end"
        );
        assert!(Attrs::new(&[8, 0]).next().unwrap().is_err(), "short header");
        let attr = Attrs::new(&buf).next().unwrap().unwrap();
        assert!(attr.u32().is_err(), "two bytes are no u32");
        assert_eq!(attr.u16().unwrap(), u16::from_ne_bytes([1, 2]));
        assert_eq!(attr.i8().unwrap(), 1);
    }

    #[test]
    fn request_has_both_headers() {
        let mut attrs = Vec::new();
        put_attr(&mut attrs, 3, &2u32.to_ne_bytes());
        let msg = encode_request(0x1c, NLM_F_DUMP, 9, 17, 1, &attrs);
        assert_eq!(msg.len(), 16 + 4 + 8);
        assert_eq!(u32::from_ne_bytes(msg[0..4].try_into().unwrap()), 28);
        assert_eq!(u16::from_ne_bytes([msg[4], msg[5]]), 0x1c);
        assert_eq!(u16::from_ne_bytes([msg[6], msg[7]]), 0x301);
        assert_eq!(u32::from_ne_bytes(msg[8..12].try_into().unwrap()), 9);
        assert_eq!(&msg[16..20], &[17, 1, 0, 0]);
        assert_eq!(&msg[20..], &attrs[..]);
    }

    #[test]
    fn dump_collects_until_done() {
        let mut attrs = Vec::new();
        put_attr(&mut attrs, 3, &1u32.to_ne_bytes());
        let mut datagram = message(0x1c, NLM_F_MULTI, 4, &genl(&attrs));
        datagram.extend(message(0x1c, NLM_F_MULTI, 3, &genl(b"stale reply")));
        datagram.extend(message(0x1c, NLM_F_MULTI, 4, &genl(&[])));
        let mut out = Vec::new();
        assert_eq!(
            parse_datagram(&datagram, 4, &mut out).unwrap(),
            Progress::More
        );
        assert_eq!(out, vec![attrs.clone(), vec![]]);
        let done = message(NLMSG_DONE, NLM_F_MULTI, 4, &0i32.to_ne_bytes());
        assert_eq!(parse_datagram(&done, 4, &mut out).unwrap(), Progress::Done);
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn single_reply_ends_the_exchange() {
        let mut out = Vec::new();
        let reply = message(0x10, 0, 1, &genl(&[]));
        assert_eq!(parse_datagram(&reply, 1, &mut out).unwrap(), Progress::Done);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn kernel_errors_carry_the_errno() {
        let mut payload = (-libc::ENOENT).to_ne_bytes().to_vec();
        payload.extend_from_slice(&[0; 16]);
        let err =
            parse_datagram(&message(NLMSG_ERROR, 0, 2, &payload), 2, &mut Vec::new()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        let ack = message(NLMSG_ERROR, 0, 2, &[0; 20]);
        assert_eq!(
            parse_datagram(&ack, 2, &mut Vec::new()).unwrap(),
            Progress::Done
        );
        let failed_dump = message(NLMSG_DONE, NLM_F_MULTI, 2, &(-95i32).to_ne_bytes());
        let err = parse_datagram(&failed_dump, 2, &mut Vec::new()).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(95));
        let interrupted = message(0x1c, NLM_F_MULTI | NLM_F_DUMP_INTR, 2, &genl(&[]));
        assert!(parse_datagram(&interrupted, 2, &mut Vec::new()).is_err());
        let truncated = &message(0x1c, 0, 2, &genl(&[0; 8]))[..20];
        assert!(parse_datagram(truncated, 2, &mut Vec::new()).is_err());
    }

    #[test]
    fn family_reply_gives_id_and_version() {
        let mut attrs = Vec::new();
        put_attr(&mut attrs, CTRL_ATTR_FAMILY_NAME, b"nl80211\0");
        put_attr(&mut attrs, CTRL_ATTR_FAMILY_ID, &0x1cu16.to_ne_bytes());
        put_attr(&mut attrs, CTRL_ATTR_VERSION, &1u32.to_ne_bytes());
        assert_eq!(
            parse_family(&attrs).unwrap(),
            Family {
                id: 0x1c,
                version: 1
            }
        );
        let mut no_id = Vec::new();
        put_attr(&mut no_id, CTRL_ATTR_VERSION, &1u32.to_ne_bytes());
        assert!(parse_family(&no_id).is_err());
    }

    /// Every Linux kernel has the generic-netlink controller, wifi or not.
    #[test]
    fn controller_answers_and_unknown_families_are_not_found() {
        let mut sock = GenlSocket::open().unwrap();
        let ctrl = sock.family("nlctrl").unwrap();
        assert_eq!(ctrl.id, GENL_ID_CTRL);
        let err = sock.family("nosuchfamily").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
