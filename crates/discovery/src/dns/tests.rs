use std::collections::HashMap;
use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use hickory_resolver::proto::op::{Message, MessageType, ResponseCode};
use hickory_resolver::proto::rr::rdata::{A, AAAA, MX, NS, SRV};
use hickory_resolver::proto::rr::{Name, Record};

use super::*;
use crate::testutil::{Recorder, addresses, context, sample};

type Zone = Arc<Mutex<HashMap<(String, RecordType), Vec<RData>>>>;

/// A local authoritative DNS server over UDP answering from `zone`: NXDOMAIN for names not
/// in it at all, SERVFAIL for `fail.test.`.
async fn start_dns(zone: Zone) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut buf = vec![0u8; 4096];
        loop {
            let Ok((len, peer)) = socket.recv_from(&mut buf).await else {
                return;
            };
            let Ok(query) = Message::from_vec(&buf[..len]) else {
                continue;
            };
            let mut reply = Message::new(
                query.metadata.id,
                MessageType::Response,
                query.metadata.op_code,
            );
            reply.metadata.authoritative = true;
            reply.metadata.recursion_desired = query.metadata.recursion_desired;
            for q in &query.queries {
                reply.add_query(q.clone());
                let name = q.name().to_ascii().to_lowercase();
                let zone = zone.lock().unwrap();
                if name == "fail.test." {
                    reply.metadata.response_code = ResponseCode::ServFail;
                } else if !zone.keys().any(|(n, _)| *n == name) {
                    reply.metadata.response_code = ResponseCode::NXDomain;
                }
                for data in zone.get(&(name, q.query_type())).into_iter().flatten() {
                    reply.add_answer(Record::from_rdata(q.name().clone(), 0, data.clone()));
                }
            }
            let _ = socket.send_to(&reply.to_vec().unwrap(), peer).await;
        }
    });
    (addr, task)
}

fn name(text: &str) -> Name {
    Name::from_str(text).unwrap()
}

fn run_dns(
    zone_addr: SocketAddr,
    names: &[&str],
    record_type: &str,
    port: u16,
) -> (
    Arc<Recorder>,
    pm_common::metrics::Registry,
    tokio::task::JoinHandle<()>,
) {
    let config = DnsSdConfig {
        names: names.iter().map(|n| (*n).to_owned()).collect(),
        refresh_interval: pm_common::config::Duration::from_millis(50),
        record_type: record_type.to_owned(),
        port,
    };
    let (mut ctx, registry) = context("job");
    ctx.nameservers = Some(vec![zone_addr]);
    let recorder = Arc::new(Recorder::default());
    let discovery = Discovery::new(&config, ctx).unwrap();
    let task = tokio::spawn(discovery.run(recorder.updates()));
    (recorder, registry, task)
}

fn meta(target: &Labels) -> [&str; 5] {
    [
        NAME_LABEL,
        SRV_TARGET_LABEL,
        SRV_PORT_LABEL,
        MX_TARGET_LABEL,
        NS_TARGET_LABEL,
    ]
    .map(|label| target.get_or_empty(label))
}

#[tokio::test]
async fn srv_records_with_upstreams_labels_and_re_resolution() {
    let zone: Zone = Arc::default();
    let srv = |port, host: &str| RData::SRV(SRV::new(0, 0, port, name(host)));
    zone.lock().unwrap().insert(
        ("_web._tcp.example.test.".into(), RecordType::SRV),
        vec![srv(8080, "h1.example.test."), srv(9090, "h2.example.test.")],
    );
    let (addr, server) = start_dns(Arc::clone(&zone)).await;
    let (recorder, registry, task) =
        run_dns(addr, &["_web._tcp.example.test", "missing.test"], "SRV", 0);

    let state = recorder.wait_for("both names", |s| s.len() == 2).await;
    let group = &state["_web._tcp.example.test"];
    assert_eq!(
        addresses(group),
        ["h1.example.test:8080", "h2.example.test:9090"]
    );
    assert_eq!(
        meta(&group.targets[0]),
        ["_web._tcp.example.test", "h1.example.test.", "8080", "", ""]
    );
    // NXDOMAIN is an empty group, not a failure.
    assert!(state["missing.test"].targets.is_empty());
    assert_eq!(
        sample(&registry, "prometheus_sd_dns_lookup_failures_total"),
        Some(0.0)
    );

    zone.lock().unwrap().insert(
        ("_web._tcp.example.test.".into(), RecordType::SRV),
        vec![srv(7070, "h3.example.test.")],
    );
    recorder
        .wait_for("the new record", |s| {
            addresses(&s["_web._tcp.example.test"]) == ["h3.example.test:7070"]
        })
        .await;
    assert!(sample(&registry, "prometheus_sd_dns_lookups_total").is_some_and(|n| n >= 4.0));
    task.abort();
    server.abort();
}

#[tokio::test]
async fn a_aaaa_mx_ns_use_the_configured_port() {
    let zone: Zone = Arc::default();
    {
        let mut z = zone.lock().unwrap();
        z.insert(
            ("hosts.test.".into(), RecordType::A),
            vec![RData::A(A::new(10, 0, 0, 1)), RData::A(A::new(10, 0, 0, 2))],
        );
        z.insert(
            ("hosts.test.".into(), RecordType::AAAA),
            vec![RData::AAAA(AAAA(std::net::Ipv6Addr::LOCALHOST))],
        );
        z.insert(
            ("mail.test.".into(), RecordType::MX),
            vec![RData::MX(MX::new(10, name("mx1.mail.test.")))],
        );
        z.insert(
            ("zone.test.".into(), RecordType::NS),
            vec![RData::NS(NS(name("ns1.zone.test.")))],
        );
    }
    let (addr, server) = start_dns(Arc::clone(&zone)).await;
    let cases: [(&str, &str, Vec<&str>, [&str; 5]); 4] = [
        (
            "A",
            "hosts.test",
            vec!["10.0.0.1:9100", "10.0.0.2:9100"],
            ["hosts.test", "", "", "", ""],
        ),
        (
            "AAAA",
            "hosts.test",
            vec!["[::1]:9100"],
            ["hosts.test", "", "", "", ""],
        ),
        (
            "MX",
            "mail.test",
            vec!["mx1.mail.test:9100"],
            ["mail.test", "", "", "mx1.mail.test.", ""],
        ),
        (
            "NS",
            "zone.test",
            vec!["ns1.zone.test:9100"],
            ["zone.test", "", "", "", "ns1.zone.test."],
        ),
    ];
    for (record_type, dns_name, want, want_meta) in cases {
        let (recorder, _registry, task) = run_dns(addr, &[dns_name], record_type, 9100);
        let state = recorder.wait_for(record_type, |s| s.len() == 1).await;
        let group = &state[dns_name];
        assert_eq!(addresses(group), want, "{record_type}");
        assert_eq!(meta(&group.targets[0]), want_meta, "{record_type}");
        task.abort();
    }
    server.abort();
}

#[tokio::test]
async fn a_failed_lookup_is_counted_and_reports_nothing() {
    let zone: Zone = Arc::default();
    let (addr, server) = start_dns(zone).await;
    let (recorder, registry, task) = run_dns(addr, &["fail.test"], "A", 80);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    while sample(&registry, "prometheus_sd_dns_lookup_failures_total") == Some(0.0) {
        assert!(tokio::time::Instant::now() < deadline, "no failure counted");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(!recorder.merged().contains_key("fail.test"));
    task.abort();
    server.abort();
}
