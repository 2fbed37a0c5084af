use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use http::HeaderMap;
use pm_common::config::{AwsCredentials, SigV4Signer};

use super::*;

/// What the endpoint received: headers and body.
type Received = Arc<Mutex<Option<(HeaderMap, Vec<u8>)>>>;

/// A remote-write endpoint that records one request; returns its URL.
async fn endpoint(received: Received) -> String {
    let app = axum::Router::new().route(
        "/workspaces/ws-1/api/v1/remote_write",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let received = received.clone();
            async move {
                *received.lock().unwrap() = Some((headers, body.to_vec()));
                http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/workspaces/ws-1/api/v1/remote_write")
}

/// A `sigv4` block signs every write request, and what arrives verifies: the signature over
/// the headers it names, as received, with the body as received, is the one sent.
#[tokio::test]
async fn sigv4_signs_write_requests() {
    let received = Received::default();
    let url = endpoint(received.clone()).await;
    let sigv4: SigV4Config = serde_norway::from_str(
        "region: us-west-2\naccess_key: AKIDTEST\nsecret_key: not-a-real-secret\n",
    )
    .unwrap();
    let client = RemoteClient::new(
        "rw",
        &url,
        &Default::default(),
        Some(&sigv4),
        Duration::from_secs(10),
        &[("X-Scope-OrgID".to_owned(), "tenant".to_owned())]
            .into_iter()
            .collect(),
    )
    .unwrap();
    let body = codec::compress(b"write request bytes");
    client
        .store(WriteMessage::V1, body.clone(), false)
        .await
        .unwrap();

    let (headers, got_body) = received.lock().unwrap().take().expect("one request");
    assert_eq!(got_body, body);
    let authorization = headers[http::header::AUTHORIZATION].to_str().unwrap();
    let (prefix, rest) = authorization.split_once(" Credential=").unwrap();
    assert_eq!(prefix, "AWS4-HMAC-SHA256");
    assert!(rest.starts_with("AKIDTEST/"), "{authorization}");
    assert!(
        rest.contains("/us-west-2/aps/aws4_request, SignedHeaders=content-encoding;content-type;host;x-amz-date;x-prometheus-remote-write-version;x-scope-orgid, Signature="),
        "{authorization}"
    );

    // Re-sign what arrived, at the time it names, with only the headers it names.
    let signed: Vec<&str> = rest
        .split("SignedHeaders=")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .split(';')
        .collect();
    let mut again = HeaderMap::new();
    for name in signed.iter().filter(|n| **n != "host") {
        again.insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            headers[*name].clone(),
        );
    }
    let stamp = headers["x-amz-date"].to_str().unwrap();
    let when: jiff::Timestamp = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &stamp[..4],
        &stamp[4..6],
        &stamp[6..8],
        &stamp[9..11],
        &stamp[11..13],
        &stamp[13..15]
    )
    .parse()
    .unwrap();
    let signer = SigV4Signer::new(
        AwsCredentials {
            access_key: "AKIDTEST".into(),
            secret_key: "not-a-real-secret".into(),
            session_token: None,
        },
        "us-west-2".into(),
        "aps".into(),
    );
    let url = Url::parse(&url).unwrap();
    signer.sign("POST", &url, &mut again, &got_body, when);
    assert_eq!(again[http::header::AUTHORIZATION], authorization);
}

/// A block that cannot sign fails the endpoint's creation, with the reason, instead of
/// sending unsigned requests.
#[test]
fn a_sigv4_block_that_cannot_sign_is_refused() {
    let sigv4: SigV4Config = serde_norway::from_str(
        "region: r\naccess_key: AKIDTEST\nsecret_key: s\nrole_arn: arn:aws:iam::1:role/w\n",
    )
    .unwrap();
    let err = RemoteClient::new(
        "rw",
        "http://127.0.0.1:1/",
        &Default::default(),
        Some(&sigv4),
        Duration::from_secs(1),
        &Default::default(),
    )
    .unwrap_err();
    assert!(err.contains("role_arn"), "{err}");
}
