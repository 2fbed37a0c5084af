//! The DNS messages of a probe: the query and the response are encoded and decoded by
//! hickory-proto; each record is then printed the way Go's `miekg/dns` prints it, since the
//! `validate_*_rrs` regexps of existing configs are written against that text.

use std::fmt::Write as _;

use hickory_proto::op::{self, MessageType, OpCode, Query};
use hickory_proto::rr::{self, DNSClass, Name, RData, RecordType};
use hickory_proto::serialize::binary::{BinDecodable as _, BinDecoder, BinEncodable as _};

use crate::config::dns_names::{CLASSES, TYPES, name_of};

pub const TYPE_SOA: u16 = 6;

/// The record types miekg prints as a single domain name (NS, CNAME, PTR, DNAME).
const DNAME: u16 = 39;
/// SPF prints as TXT does.
const SPF: u16 = 99;

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

#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("dns: bad query name {0:?}")]
    BadName(String),
    #[error("dns: packing query: {0}")]
    Pack(#[from] hickory_proto::ProtoError),
    #[error("dns: unpacking message: {0}")]
    Unpack(#[from] hickory_proto::serialize::binary::DecodeError),
}

/// Encodes a query for `name` (made absolute).
pub fn query(
    id: u16,
    name: &str,
    qtype: u16,
    qclass: u16,
    recursion: bool,
) -> Result<Vec<u8>, WireError> {
    let mut qname = Name::from_ascii(name).map_err(|_| WireError::BadName(name.to_owned()))?;
    qname.set_fqdn(true);
    let mut question = Query::query(qname, RecordType::from(qtype));
    question.set_query_class(DNSClass::from(qclass));
    let mut msg = op::Message::new(id, MessageType::Query, OpCode::Query);
    msg.metadata.recursion_desired = recursion;
    msg.add_query(question);
    Ok(msg.to_vec()?)
}

/// Decodes a response (the rcode includes the extended bits an OPT record carries).
pub fn parse(buf: &[u8]) -> Result<Message, WireError> {
    let msg = op::Message::from_vec(buf)?;
    let mut additional: Vec<Record> = msg.additionals.iter().map(record).collect();
    if let Some(edns) = &msg.edns {
        // miekg keeps the OPT pseudo-record among the additional records and prints it so.
        additional.push(Record {
            text: format!(
                "\n;; OPT PSEUDOSECTION:\n; EDNS: version {}; flags:{}; udp: {}",
                edns.version(),
                if edns.flags().dnssec_ok { " do" } else { "" },
                edns.max_payload()
            ),
            soa_serial: None,
        });
    }
    Ok(Message {
        id: msg.metadata.id,
        rcode: u16::from(msg.metadata.response_code),
        answer: msg.answers.iter().map(record).collect(),
        authority: msg.authorities.iter().map(record).collect(),
        additional,
    })
}

fn type_name(t: u16) -> String {
    name_of(TYPES, t).map_or_else(|| format!("TYPE{t}"), str::to_owned)
}

/// A record as miekg's `RR.String()`: owner, TTL, class, type and the rdata in its text form,
/// or in RFC 3597's generic form for types printed here without one.
fn record(rr: &rr::Record) -> Record {
    let rtype = u16::from(rr.record_type());
    let class = u16::from(rr.dns_class);
    let class_name = name_of(CLASSES, class).map_or_else(|| format!("CLASS{class}"), str::to_owned);
    let mut text = format!(
        "{}\t{}\t{class_name}\t{}\t",
        name_text(&rr.name),
        rr.ttl,
        type_name(rtype)
    );
    let mut soa_serial = None;
    match &rr.data {
        RData::A(a) => write_display(&mut text, a.0),
        RData::AAAA(aaaa) => write_display(&mut text, aaaa.0),
        RData::NS(n) => text.push_str(&name_text(&n.0)),
        RData::CNAME(n) => text.push_str(&name_text(&n.0)),
        RData::PTR(n) => text.push_str(&name_text(&n.0)),
        RData::MX(mx) => {
            let _ = write!(text, "{} {}", mx.preference, name_text(&mx.exchange));
        }
        RData::SOA(soa) => {
            let _ = write!(
                text,
                "{} {} {} {} {} {} {}",
                name_text(&soa.mname),
                name_text(&soa.rname),
                soa.serial,
                // The wire holds unsigned 32-bit values; hickory keeps them as i32.
                soa.refresh as u32,
                soa.retry as u32,
                soa.expire as u32,
                soa.minimum
            );
            soa_serial = Some(soa.serial);
        }
        RData::SRV(srv) => {
            let _ = write!(
                text,
                "{} {} {} {}",
                srv.priority,
                srv.weight,
                srv.port,
                name_text(&srv.target)
            );
        }
        RData::TXT(txt) => text.push_str(&txt_strings(txt.txt_data.iter().map(|s| &s[..]))),
        other => {
            let raw = match other {
                RData::Unknown { rdata, .. } => rdata.anything.clone(),
                known => known.to_bytes().unwrap_or_default(),
            };
            match unknown_text(rtype, &raw) {
                Some(known) => text.push_str(&known),
                None => {
                    let _ = write!(text, "\\# {}", raw.len());
                    if !raw.is_empty() {
                        text.push(' ');
                        for b in &raw {
                            let _ = write!(text, "{b:02x}");
                        }
                    }
                }
            }
        }
    }
    Record { text, soa_serial }
}

/// The text of the types hickory leaves undecoded but miekg prints by name: DNAME (an
/// uncompressed name, RFC 6672) and SPF (TXT's strings).
fn unknown_text(rtype: u16, raw: &[u8]) -> Option<String> {
    match rtype {
        DNAME => {
            let mut decoder = BinDecoder::new(raw);
            let name = Name::read(&mut decoder).ok()?;
            decoder.is_empty().then(|| name_text(&name))
        }
        SPF => {
            let mut parts = Vec::new();
            let mut rest = raw;
            while let Some((&len, tail)) = rest.split_first() {
                let len = usize::from(len);
                parts.push(tail.get(..len)?);
                rest = &tail[len..];
            }
            Some(txt_strings(parts.into_iter()))
        }
        _ => None,
    }
}

fn write_display(text: &mut String, value: impl std::fmt::Display) {
    let _ = write!(text, "{value}");
}

/// A name, absolute, with miekg's escaping of special and non-printable bytes.
fn name_text(name: &Name) -> String {
    let mut out = String::new();
    for label in name.iter() {
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
    }
    if out.is_empty() {
        out.push('.');
    }
    out
}

/// Character strings as miekg prints them: each quoted, with `"` and `\` escaped and
/// non-printable bytes as `\DDD`, separated by spaces.
fn txt_strings<'a>(strings: impl Iterator<Item = &'a [u8]>) -> String {
    let mut parts = Vec::new();
    for data in strings {
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
        parts.push(out);
    }
    parts.join(" ")
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
        assert!(parse(&full[..full.len() - 2]).is_err());
        let mut looped = full.clone();
        // Point the answer's name at itself.
        let at = full.len() - 16;
        looped[at] = 0xC0;
        looped[at + 1] = at as u8;
        assert!(parse(&looped).is_err());
    }

    #[test]
    fn prints_soa_dname_spf_and_escaped_names() {
        let soa = b"\x02ns\xC0\x0c\x05ho.st\xC0\x0c\x00\x00\x00\x2a\x00\x00\x0e\x10\x00\x00\x07\x08\x00\x09\x3a\x80\x00\x00\x01\x2c";
        let msg = parse(&answer(6, soa)).unwrap();
        assert_eq!(
            msg.answer[0].text,
            "example.com.\t3600\tIN\tSOA\tns.example.com. ho\\.st.example.com. 42 3600 1800 604800 300"
        );
        assert_eq!(msg.answer[0].soa_serial, Some(42));
        let msg = parse(&answer(39, b"\x03new\x00")).unwrap();
        assert_eq!(msg.answer[0].text, "example.com.\t3600\tIN\tDNAME\tnew.");
        let msg = parse(&answer(99, b"\x03v=1")).unwrap();
        assert_eq!(msg.answer[0].text, "example.com.\t3600\tIN\tSPF\t\"v=1\"");
    }

    #[test]
    fn query_sets_recursion_and_class() {
        let q = query(0x1234, "example.com", 28, 3, false).unwrap();
        assert_eq!(&q[..4], &[0x12, 0x34, 0x00, 0x00]);
        assert!(q.ends_with(&[
            7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0, 0, 28, 0, 3
        ]));
        let q = query(1, "example.com.", 1, 1, true).unwrap();
        assert_eq!(q[2], 0x01);
    }
}
