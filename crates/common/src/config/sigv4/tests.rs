use http::{HeaderMap, HeaderName, HeaderValue};

use super::credentials::Environment;
use super::*;

/// Signs and returns the `Authorization` header and the signed headers.
fn sign(
    signer: &Signer,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    stamp: &str,
) -> (String, HeaderMap) {
    let mut map = HeaderMap::new();
    for (k, v) in headers {
        map.append(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    let (d, t) = (&stamp[..8], &stamp[9..15]);
    let now: jiff::Timestamp = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &d[..4],
        &d[4..6],
        &d[6..],
        &t[..2],
        &t[2..4],
        &t[4..]
    )
    .parse()
    .unwrap();
    signer.sign(method, &url::Url::parse(url).unwrap(), &mut map, body, now);
    let auth = map[http::header::AUTHORIZATION]
        .to_str()
        .unwrap()
        .to_owned();
    (auth, map)
}

fn signer(key: &str, secret: &str, token: Option<&str>, region: &str, service: &str) -> Signer {
    Signer::new(
        Credentials {
            access_key: key.into(),
            secret_key: secret.into(),
            session_token: token.map(str::to_owned),
        },
        region.into(),
        service.into(),
    )
}

// The expected signatures come from an independent implementation, botocore 1.44's
// `SigV4Auth` (canonical request, string to sign, signature) over the same requests and
// time; the first is also AWS's published `get-vanilla` test vector.

#[test]
fn aws_get_vanilla_vector() {
    let s = signer(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        None,
        "us-east-1",
        "service",
    );
    let (auth, _) = sign(
        &s,
        "GET",
        "https://example.amazonaws.com/",
        &[],
        b"",
        "20150830T123600Z",
    );
    assert_eq!(
        auth,
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
         SignedHeaders=host;x-amz-date, \
         Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    );
}

#[test]
fn remote_write_request_with_session_token() {
    let s = signer(
        "AKIAEXAMPLE",
        "secret/key+1",
        Some("session-token-xyz"),
        "us-west-2",
        "aps",
    );
    let (auth, headers) = sign(
        &s,
        "POST",
        "https://aps-workspaces.us-west-2.amazonaws.com/workspaces/ws-1234/api/v1/remote_write",
        &[
            ("Content-Encoding", "snappy"),
            ("Content-Type", "application/x-protobuf"),
            ("X-Prometheus-Remote-Write-Version", "0.1.0"),
            ("User-Agent", "Prometheus/2.42.0"),
        ],
        b"\x00\x01payload\xff",
        "20261127T030000Z",
    );
    assert_eq!(
        auth,
        "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261127/us-west-2/aps/aws4_request, \
         SignedHeaders=content-encoding;content-type;host;x-amz-date;x-amz-security-token;x-prometheus-remote-write-version, \
         Signature=108e185ed014f7971200868e00a8ffc6eae1123c5c48ac578ba6cf8bf18d8c38"
    );
    assert_eq!(headers["x-amz-date"], "20261127T030000Z");
    assert_eq!(headers["x-amz-security-token"], "session-token-xyz");
    assert_eq!(
        headers["user-agent"], "Prometheus/2.42.0",
        "sent, not signed"
    );
}

#[test]
fn query_path_port_and_header_values_are_canonical() {
    let s = signer("AK", "SK", None, "eu-central-1", "aps");
    let (auth, _) = sign(
        &s,
        "GET",
        "http://localhost:9090/a%20b/c?b=2&a=1&a=0&x=y%2Fz",
        &[
            ("X-Custom", "  a   b "),
            ("X-Multi", "one"),
            ("X-Multi", "two"),
        ],
        b"",
        "20240101T000000Z",
    );
    assert_eq!(
        auth,
        "AWS4-HMAC-SHA256 Credential=AK/20240101/eu-central-1/aps/aws4_request, \
         SignedHeaders=host;x-amz-date;x-custom;x-multi, \
         Signature=5b8ea25014d0cacb00a8cb0f0555a18b9eae3a8e8ad7057740004fcaf1b69ad7"
    );
}

#[test]
fn resigning_replaces_the_previous_signature() {
    let s = signer("AK", "SK", None, "eu-central-1", "aps");
    let url = url::Url::parse("http://localhost:9090/x").unwrap();
    let mut headers = HeaderMap::new();
    let t = jiff::Timestamp::from_second(1_700_000_000).unwrap();
    s.sign("POST", &url, &mut headers, b"a", t);
    let first = headers[http::header::AUTHORIZATION].clone();
    s.sign("POST", &url, &mut headers, b"a", t);
    assert_eq!(
        headers.get_all(http::header::AUTHORIZATION).iter().count(),
        1
    );
    assert_eq!(headers[http::header::AUTHORIZATION], first);
}

fn config(yaml: &str) -> SigV4Config {
    serde_norway::from_str(yaml).unwrap()
}

fn resolve(cfg: &SigV4Config, env: &Environment) -> Result<Signer, String> {
    cfg.signer_with(env).map_err(|e| e.to_string())
}

#[test]
fn credentials_from_the_block_win() {
    let env = Environment::new(
        &[("AWS_ACCESS_KEY_ID", "ENV"), ("AWS_SECRET_ACCESS_KEY", "x")],
        None,
    );
    let s = resolve(&config("region: r\naccess_key: CFG\nsecret_key: s\n"), &env).unwrap();
    assert_eq!(format!("{s:?}").matches("CFG").count(), 1);
    assert!(!format!("{s:?}").contains("\"s\""), "secret not in Debug");
}

#[test]
fn credentials_and_region_from_the_environment() {
    let env = Environment::new(
        &[
            ("AWS_ACCESS_KEY_ID", "ENVKEY"),
            ("AWS_SECRET_ACCESS_KEY", "envsecret"),
            ("AWS_SESSION_TOKEN", "tok"),
            ("AWS_REGION", "ap-south-1"),
        ],
        None,
    );
    let s = resolve(&SigV4Config::default(), &env).unwrap();
    let (auth, headers) = sign(&s, "GET", "https://h/", &[], b"", "20240101T000000Z");
    assert!(
        auth.contains("Credential=ENVKEY/20240101/ap-south-1/aps/aws4_request"),
        "{auth}"
    );
    assert_eq!(headers["x-amz-security-token"], "tok");
}

#[test]
fn credentials_and_region_from_the_shared_files() {
    let home = tempfile::tempdir().unwrap();
    let aws = home.path().join(".aws");
    std::fs::create_dir(&aws).unwrap();
    std::fs::write(
        aws.join("credentials"),
        "[default]\naws_access_key_id = DEFKEY\naws_secret_access_key = d\n\n\
         # a comment\n[team]\naws_access_key_id=TEAMKEY\naws_secret_access_key=t\n[other]\nx=y\n",
    )
    .unwrap();
    std::fs::write(
        aws.join("config"),
        "[default]\nregion = us-east-2\n[profile team]\nregion = eu-west-3\n",
    )
    .unwrap();
    let env = Environment::new(&[], Some(home.path().to_path_buf()));

    let default = resolve(&SigV4Config::default(), &env).unwrap();
    let (auth, _) = sign(&default, "GET", "https://h/", &[], b"", "20240101T000000Z");
    assert!(
        auth.contains("Credential=DEFKEY/20240101/us-east-2/"),
        "{auth}"
    );

    let team = resolve(&config("profile: team\n"), &env).unwrap();
    let (auth, _) = sign(&team, "GET", "https://h/", &[], b"", "20240101T000000Z");
    assert!(
        auth.contains("Credential=TEAMKEY/20240101/eu-west-3/"),
        "{auth}"
    );

    let by_env = Environment::new(&[("AWS_PROFILE", "team")], Some(home.path().to_path_buf()));
    let s = resolve(&config("service_name: s3\n"), &by_env).unwrap();
    let (auth, _) = sign(&s, "GET", "https://h/", &[], b"", "20240101T000000Z");
    assert!(
        auth.contains("Credential=TEAMKEY/20240101/eu-west-3/s3/"),
        "{auth}"
    );

    let err = resolve(&config("profile: other\n"), &env).unwrap_err();
    assert!(
        err.contains("profile \"other\"") && err.contains("no aws_access_key_id"),
        "{err}"
    );
}

#[test]
fn what_cannot_sign_is_refused() {
    let empty = Environment::new(&[], None);
    let err = resolve(&config("region: r\n"), &empty).unwrap_err();
    assert!(err.starts_with("could not get SigV4 credentials"), "{err}");
    let err = resolve(&config("access_key: a\nsecret_key: b\n"), &empty).unwrap_err();
    assert_eq!(
        err,
        "region not configured in sigv4 or in default credentials chain"
    );
    let err = resolve(
        &config("region: r\naccess_key: a\nsecret_key: b\nrole_arn: arn:aws:iam::1:role/x\n"),
        &empty,
    )
    .unwrap_err();
    assert!(err.contains("role_arn"), "{err}");
    assert!(config("access_key: a\n").validate().is_err());
    assert!(config("access_key: a\nsecret_key: b\n").validate().is_ok());
}
