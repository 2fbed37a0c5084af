//! The Signature Version 4 algorithm over an HTTP request: canonical request, string to
//! sign, derived key, `Authorization` header.

use std::fmt::Write as _;

use hmac::{Hmac, Mac};
use http::{HeaderMap, HeaderName, HeaderValue};
use sha2::{Digest, Sha256};
use url::Url;

use super::Credentials;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Headers left out of the signature: the signature itself, and headers that proxies and
/// tracers may rewrite on the way (the AWS SDK's rule, plus upstream's `uber-trace-id`).
const UNSIGNED: [&str; 4] = [
    "authorization",
    "user-agent",
    "x-amzn-trace-id",
    "uber-trace-id",
];

/// Signs requests for one service in one region with one set of credentials.
#[derive(Clone, Debug)]
pub struct Signer {
    credentials: Credentials,
    region: String,
    service: String,
}

impl Signer {
    pub fn new(credentials: Credentials, region: String, service: String) -> Signer {
        Signer {
            credentials,
            region,
            service,
        }
    }

    /// Signs `request` as of now: adds `X-Amz-Date` (and `X-Amz-Security-Token` for temporary
    /// credentials) and `Authorization`. Every header already set is signed, except
    /// [`UNSIGNED`]'s; headers added afterwards are sent unsigned, which AWS accepts.
    pub fn sign_request(&self, request: &mut reqwest::Request) {
        // The body is hashed before the headers are borrowed for writing, so it is not copied.
        let payload_hash = hex(&Sha256::digest(
            request
                .body()
                .and_then(reqwest::Body::as_bytes)
                .unwrap_or_default(),
        ));
        let method = request.method().as_str().to_owned();
        let url = request.url().clone();
        self.sign_hashed(
            &method,
            &url,
            request.headers_mut(),
            &payload_hash,
            jiff::Timestamp::now(),
        );
    }

    /// [`Signer::sign_request`] with the parts and the time given.
    pub fn sign(
        &self,
        method: &str,
        url: &Url,
        headers: &mut HeaderMap,
        body: &[u8],
        now: jiff::Timestamp,
    ) {
        let payload_hash = hex(&Sha256::digest(body));
        self.sign_hashed(method, url, headers, &payload_hash, now);
    }

    /// Signs with the body given by its hex SHA-256.
    fn sign_hashed(
        &self,
        method: &str,
        url: &Url,
        headers: &mut HeaderMap,
        payload_hash: &str,
        now: jiff::Timestamp,
    ) {
        let stamp = now.strftime("%Y%m%dT%H%M%SZ").to_string();
        let date = &stamp[..8];
        headers.insert(
            HeaderName::from_static("x-amz-date"),
            HeaderValue::from_str(&stamp).expect("digits and letters"),
        );
        if let Some(token) = &self.credentials.session_token
            && let Ok(value) = HeaderValue::from_str(token)
        {
            headers.insert(HeaderName::from_static("x-amz-security-token"), value);
        }
        headers.remove(http::header::AUTHORIZATION);

        let (canonical_headers, signed_headers) = canonical_headers(url, headers);
        let canonical_request = format!(
            "{method}\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{payload_hash}",
            canonical_path(url),
            canonical_query(url),
        );
        let scope = format!("{date}/{}/{}/aws4_request", self.region, self.service);
        let string_to_sign = format!(
            "{ALGORITHM}\n{stamp}\n{scope}\n{}",
            hex(&Sha256::digest(canonical_request.as_bytes()))
        );
        let mut key = hmac(
            format!("AWS4{}", self.credentials.secret_key).as_bytes(),
            date,
        );
        for part in [self.region.as_str(), self.service.as_str(), "aws4_request"] {
            key = hmac(&key, part);
        }
        let signature = hex(&hmac(&key, &string_to_sign));
        let authorization = format!(
            "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            self.credentials.access_key
        );
        if let Ok(mut value) = HeaderValue::from_str(&authorization) {
            value.set_sensitive(true);
            headers.insert(http::header::AUTHORIZATION, value);
        }
    }
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Percent-encodes all but RFC 3986's unreserved characters (and `/` when `keep_slash`).
fn uri_encode(out: &mut String, s: &str, keep_slash: bool) {
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'_' | b'.' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// The path as sent, encoded once more: services other than S3 expect it double-encoded.
fn canonical_path(url: &Url) -> String {
    let path = url.path();
    if path.is_empty() {
        return "/".into();
    }
    let mut out = String::with_capacity(path.len());
    uri_encode(&mut out, path, true);
    out
}

fn canonical_query(url: &Url) -> String {
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let (mut key, mut value) = (String::new(), String::new());
            uri_encode(&mut key, &k, false);
            uri_encode(&mut value, &v, false);
            (key, value)
        })
        .collect();
    pairs.sort();
    let mut out = String::new();
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        let _ = write!(out, "{k}={v}");
    }
    out
}

/// `name:value\n` lines sorted by lower-case name (values trimmed, inner runs of spaces made
/// one, repeated headers joined by commas) with `host` as the client will send it, and the
/// `;`-joined names.
fn canonical_headers(url: &Url, headers: &HeaderMap) -> (String, String) {
    let mut host = url.host_str().unwrap_or_default().to_owned();
    if let Some(port) = url.port() {
        let _ = write!(host, ":{port}");
    }
    let mut lines: Vec<(String, String)> = vec![("host".into(), host)];
    for name in headers.keys() {
        let name = name.as_str();
        if UNSIGNED.contains(&name) || name == "host" {
            continue;
        }
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .map(|v| collapse_spaces(&String::from_utf8_lossy(v.as_bytes())))
            .collect();
        lines.push((name.to_owned(), values.join(",")));
    }
    lines.sort();
    let mut canonical = String::new();
    let mut signed = String::new();
    for (i, (name, value)) in lines.iter().enumerate() {
        let _ = writeln!(canonical, "{name}:{value}");
        if i > 0 {
            signed.push(';');
        }
        signed.push_str(name);
    }
    (canonical, signed)
}

fn collapse_spaces(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for word in value.split(' ').filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}
