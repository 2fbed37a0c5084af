//! Just enough of the DNS wire format (RFC 1035) for probing: build one query, parse a
//! response, and print each record the way Go's `miekg/dns` prints it, since the
//! `validate_*_rrs` regexps of existing configs are written against that text.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::config::dns_names::{CLASSES, TYPES, name_of};

pub const TYPE_SOA: u16 = 6;

/// A parsed response.
#[derive(Debug, Default)]
pub struct Message {
    pub id: u16,
    pub rcode: u16,
    pub answer: Vec<Record>,
    pub authority: Vec<Record>,
    pub additional: Vec<Record>,
}

/// One resource record: its text form and, for SOA, the serial.
#[derive(Debug, Clone)]
pub struct Record {
    pub text: String,
    pub soa_serial: Option<u32>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WireError {
    #[error("dns: overflow unpacking message")]
    Truncated,
    #[error("dns: too many compression pointers")]
    Loop,
    #[error("dns: bad label in name {0:?}")]
    BadName(String),
}

/// Encodes a query for `name` (made absolute) with a random-enough id.
pub fn query(
    id: u16,
    name: &str,
    qtype: u16,
    qclass: u16,
    recursion: bool,
) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&(if recursion { 0x0100u16 } else { 0 }).to_be_bytes());
    out.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        if label.len() > 63 {
            return Err(WireError::BadName(name.to_owned()));
        }
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&qclass.to_be_bytes());
    Ok(out)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn u8(&mut self) -> Result<u8, WireError> {
        let b = *self.buf.get(self.pos).ok_or(WireError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }
    fn u16(&mut self) -> Result<u16, WireError> {
        Ok(u16::from_be_bytes([self.u8()?, self.u8()?]))
    }
    fn u32(&mut self) -> Result<u32, WireError> {
        Ok(u32::from_be_bytes([
            self.u8()?,
            self.u8()?,
            self.u8()?,
            self.u8()?,
        ]))
    }
    fn bytes(&mut self, n: usize) -> Result<&[u8], WireError> {
        let end = self.pos.checked_add(n).ok_or(WireError::Truncated)?;
        let s = self.buf.get(self.pos..end).ok_or(WireError::Truncated)?;
        self.pos = end;
        Ok(s)
    }
    /// A possibly compressed name, printed absolute with miekg's escaping.
    fn name(&mut self) -> Result<String, WireError> {
        let mut out = String::new();
        let mut pos = self.pos;
        let mut jumped = false;
        for _ in 0..128 {
            let len = *self.buf.get(pos).ok_or(WireError::Truncated)? as usize;
            match len & 0xC0 {
                0x00 if len == 0 => {
                    if !jumped {
                        self.pos = pos + 1;
                    }
                    if out.is_empty() {
                        out.push('.');
                    }
                    return Ok(out);
                }
                0x00 => {
                    let label = self
                        .buf
                        .get(pos + 1..pos + 1 + len)
                        .ok_or(WireError::Truncated)?;
                    for &b in label {
                        match b {
                            b'.' | b'(' | b')' | b';' | b' ' | b'@' | b'"' | b'\\' => {
                                out.push('\\');
                                out.push(b as char);
                            }
                            0x21..=0x7e => out.push(b as char),
                            _ => {
                                let _ = write!(out, "\\{b:03}");
                            }
                        }
                    }
                    out.push('.');
                    pos += 1 + len;
                }
                0xC0 => {
                    let low = *self.buf.get(pos + 1).ok_or(WireError::Truncated)? as usize;
                    if !jumped {
                        self.pos = pos + 2;
                    }
                    jumped = true;
                    pos = ((len & 0x3F) << 8) | low;
                }
                _ => return Err(WireError::BadName(out)),
            }
        }
        Err(WireError::Loop)
    }
}

/// Parses a response.
pub fn parse(buf: &[u8]) -> Result<Message, WireError> {
    let mut r = Reader { buf, pos: 0 };
    let id = r.u16()?;
    let flags = r.u16()?;
    let counts = [r.u16()?, r.u16()?, r.u16()?, r.u16()?];
    for _ in 0..counts[0] {
        r.name()?;
        r.bytes(4)?;
    }
    let mut msg = Message {
        id,
        rcode: flags & 0x000F,
        ..Message::default()
    };
    let mut extended_rcode = 0u16;
    for (section, count) in [counts[1], counts[2], counts[3]].into_iter().enumerate() {
        for _ in 0..count {
            let (record, ext) = record(&mut r)?;
            if let Some(ext) = ext {
                extended_rcode = ext;
            }
            match section {
                0 => msg.answer.push(record),
                1 => msg.authority.push(record),
                _ => msg.additional.push(record),
            }
        }
    }
    msg.rcode |= extended_rcode << 4;
    Ok(msg)
}

fn type_name(t: u16) -> String {
    name_of(TYPES, t).map_or_else(|| format!("TYPE{t}"), str::to_owned)
}

/// One record; for OPT also the upper rcode bits it carries.
fn record(r: &mut Reader<'_>) -> Result<(Record, Option<u16>), WireError> {
    let name = r.name()?;
    let rtype = r.u16()?;
    let class = r.u16()?;
    let ttl = r.u32()?;
    let rdlen = r.u16()? as usize;
    let rdata_start = r.pos;
    let rdata_end = rdata_start + rdlen;
    if rdata_end > r.buf.len() {
        return Err(WireError::Truncated);
    }
    if rtype == 41 {
        r.pos = rdata_end;
        let text = format!(
            "\n;; OPT PSEUDOSECTION:\n; EDNS: version {}; flags:{}; udp: {class}",
            (ttl >> 16) & 0xFF,
            if ttl & 0x8000 != 0 { " do" } else { "" }
        );
        let record = Record {
            text,
            soa_serial: None,
        };
        return Ok((record, Some((ttl >> 24) as u16)));
    }
    let class_name = name_of(CLASSES, class).map_or_else(|| format!("CLASS{class}"), str::to_owned);
    let mut text = format!("{name}\t{ttl}\t{class_name}\t{}\t", type_name(rtype));
    let mut soa_serial = None;
    let known = match rtype {
        1 if rdlen == 4 => {
            let b = r.bytes(4)?;
            let _ = write!(text, "{}", Ipv4Addr::new(b[0], b[1], b[2], b[3]));
            true
        }
        28 if rdlen == 16 => {
            let mut b = [0u8; 16];
            b.copy_from_slice(r.bytes(16)?);
            let _ = write!(text, "{}", Ipv6Addr::from(b));
            true
        }
        2 | 5 | 12 | 39 => {
            text.push_str(&r.name()?);
            true
        }
        15 => {
            let pref = r.u16()?;
            let _ = write!(text, "{pref} {}", r.name()?);
            true
        }
        6 => {
            let (ns, mbox) = (r.name()?, r.name()?);
            let serial = r.u32()?;
            let (refresh, retry, expire, minttl) = (r.u32()?, r.u32()?, r.u32()?, r.u32()?);
            let _ = write!(
                text,
                "{ns} {mbox} {serial} {refresh} {retry} {expire} {minttl}"
            );
            soa_serial = Some(serial);
            true
        }
        33 => {
            let (prio, weight, port) = (r.u16()?, r.u16()?, r.u16()?);
            let _ = write!(text, "{prio} {weight} {port} {}", r.name()?);
            true
        }
        16 | 99 => {
            let mut parts = Vec::new();
            while r.pos < rdata_end {
                let len = r.u8()? as usize;
                parts.push(txt_string(r.bytes(len)?));
            }
            text.push_str(&parts.join(" "));
            true
        }
        _ => false,
    };
    if !known || r.pos != rdata_end {
        // RFC 3597 generic form, as miekg prints records it has no type for.
        r.pos = rdata_start;
        let data = r.bytes(rdlen)?;
        text = format!(
            "{name}\t{ttl}\t{class_name}\t{}\t\\# {rdlen}",
            type_name(rtype)
        );
        if rdlen > 0 {
            text.push(' ');
            for b in data {
                let _ = write!(text, "{b:02x}");
            }
        }
    }
    r.pos = rdata_end;
    Ok((Record { text, soa_serial }, None))
}

fn txt_string(data: &[u8]) -> String {
    let mut out = String::from("\"");
    for &b in data {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(b as char);
            }
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\{b:03}");
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(rtype: u16, rdata: &[u8]) -> Vec<u8> {
        let mut msg = query(7, "example.com", rtype, 1, true).unwrap();
        msg[2] |= 0x80;
        msg[7] = 1;
        msg.extend_from_slice(&[0xC0, 12]);
        msg.extend_from_slice(&rtype.to_be_bytes());
        msg.extend_from_slice(&[0, 1, 0, 0, 0x0e, 0x10]);
        msg.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        msg.extend_from_slice(rdata);
        msg
    }

    #[test]
    fn prints_records_like_miekg() {
        let msg = parse(&answer(1, &[127, 0, 0, 1])).unwrap();
        assert_eq!(msg.id, 7);
        assert_eq!(msg.answer[0].text, "example.com.\t3600\tIN\tA\t127.0.0.1");
        let msg = parse(&answer(16, b"\x05hello\x03a\"b")).unwrap();
        assert_eq!(
            msg.answer[0].text,
            "example.com.\t3600\tIN\tTXT\t\"hello\" \"a\\\"b\""
        );
        let msg = parse(&answer(15, b"\x00\x0a\xC0\x0c")).unwrap();
        assert_eq!(
            msg.answer[0].text,
            "example.com.\t3600\tIN\tMX\t10 example.com."
        );
        let msg = parse(&answer(999, b"\x01\x02")).unwrap();
        assert_eq!(
            msg.answer[0].text,
            "example.com.\t3600\tIN\tTYPE999\t\\# 2 0102"
        );
    }

    #[test]
    fn rejects_truncated_and_looping_messages() {
        let full = answer(1, &[127, 0, 0, 1]);
        assert_eq!(
            parse(&full[..full.len() - 2]).unwrap_err(),
            WireError::Truncated
        );
        let mut looped = full.clone();
        // Point the answer's name at itself.
        let at = full.len() - 16;
        looped[at] = 0xC0;
        looped[at + 1] = at as u8;
        assert_eq!(parse(&looped).unwrap_err(), WireError::Loop);
    }
}
