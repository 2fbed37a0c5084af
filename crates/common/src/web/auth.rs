//! The request guard wrapped around a daemon's router when `--web.config.file` is set: it
//! re-reads the config, applies the rate limit, the configured response headers and basic
//! authentication, in upstream's order.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};

use super::config::RateLimitConfig;
use super::source::ConfigSource;

/// A bcrypt hash of a password nobody knows, checked for unknown users so that the response
/// time does not reveal which user names exist.
const DECOY_HASH: &str = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";

/// Shared state of the guard, one per server.
#[derive(Debug)]
pub(crate) struct Guard {
    source: Arc<ConfigSource>,
    limiter: Option<Mutex<TokenBucket>>,
    cache: AuthCache,
    /// bcrypt is deliberately CPU-heavy: checks run one at a time so that a burst of requests
    /// with new credentials cannot occupy every core.
    bcrypt_turn: tokio::sync::Mutex<()>,
}

impl Guard {
    pub(crate) fn new(source: Arc<ConfigSource>, rate_limit: &RateLimitConfig) -> Self {
        let limiter = (!rate_limit.interval.is_zero())
            .then(|| Mutex::new(TokenBucket::new(rate_limit.interval, rate_limit.burst)));
        Self {
            source,
            limiter,
            cache: AuthCache::default(),
            bcrypt_turn: tokio::sync::Mutex::new(()),
        }
    }

    async fn authorized(&self, user: &str, password: &str, hash: Option<&str>) -> bool {
        let key = (
            user.to_owned(),
            hash.unwrap_or(DECOY_HASH).to_owned(),
            password.to_owned(),
        );
        if let Some(ok) = self.cache.get(&key) {
            return ok;
        }
        let _turn = self.bcrypt_turn.lock().await;
        let (password, hash_owned) = (key.2.clone(), key.1.clone());
        let matches = tokio::task::spawn_blocking(move || {
            bcrypt::verify(password, &hash_owned).unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        let ok = hash.is_some() && matches;
        self.cache.set(key, ok);
        ok
    }
}

/// The middleware itself (`axum::middleware::from_fn_with_state`).
pub(crate) async fn guard(State(guard): State<Arc<Guard>>, req: Request, next: Next) -> Response {
    let loaded = match guard.source.current() {
        Ok(loaded) => loaded,
        Err(err) => {
            tracing::error!(err = %err, "Unable to parse configuration");
            return plain_error(StatusCode::INTERNAL_SERVER_ERROR);
        }
    };
    let headers = &loaded.config.http_server_config.headers;
    if let Some(limiter) = &guard.limiter
        && !limiter.lock().unwrap_or_else(|e| e.into_inner()).allow()
    {
        return with_headers(plain_error(StatusCode::TOO_MANY_REQUESTS), headers);
    }
    let users = &loaded.config.basic_auth_users;
    if !users.is_empty() {
        let credentials = basic_credentials(req.headers());
        let allowed = match &credentials {
            Some((user, password)) => {
                let hash = users.get(user).map(|h| h.expose());
                guard.authorized(user, password, hash).await
            }
            None => false,
        };
        if !allowed {
            let mut resp = plain_error(StatusCode::UNAUTHORIZED);
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
            return with_headers(resp, headers);
        }
    }
    with_headers(next.run(req).await, headers)
}

/// Upstream sets the configured headers before the handler runs, so a handler's own value
/// wins; we add them afterwards only where the handler set none.
fn with_headers(
    mut resp: Response,
    headers: &std::collections::BTreeMap<String, String>,
) -> Response {
    for (name, value) in headers {
        let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) else {
            continue;
        };
        resp.headers_mut().entry(name).or_insert(value);
    }
    resp
}

/// A response shaped like Go's `http.Error` with the status text as body.
pub(crate) fn plain_error(status: StatusCode) -> Response {
    let text = format!("{}\n", status.canonical_reason().unwrap_or(""));
    let mut resp = Response::new(Body::from(text));
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// The user and password of an `Authorization: Basic …` header (scheme case-insensitive, as
/// Go's `Request.BasicAuth`).
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case("Basic ") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

type CacheKey = (String, String, String);

/// Outcomes of bcrypt checks keyed by (user, hash, password), so that a client sending the same
/// credentials on every scrape pays for bcrypt once. Keying on the hash makes a changed
/// password in the config file invalidate old entries by itself.
#[derive(Debug, Default)]
struct AuthCache {
    entries: Mutex<HashMap<CacheKey, bool>>,
}

/// Upstream's bound; far more distinct credentials than a server normally sees.
const CACHE_SIZE: usize = 100;

impl AuthCache {
    fn get(&self, key: &CacheKey) -> Option<bool> {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .copied()
    }

    fn set(&self, key: CacheKey, ok: bool) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CACHE_SIZE {
            // Evict about a tenth at random positions, so the next evictions are far apart.
            let evict = (entries.len() / 10).max(1);
            for _ in 0..evict {
                let victim = random_index(entries.len());
                if let Some(k) = entries.keys().nth(victim).cloned() {
                    entries.remove(&k);
                }
            }
        }
        entries.insert(key, ok);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().unwrap().len()
    }
}

fn random_index(len: usize) -> usize {
    // Each RandomState is freshly keyed, which is all the randomness eviction needs.
    (RandomState::new().hash_one(len) % len as u64) as usize
}

/// A token bucket like Go's `rate.Limiter`: starts full, refills one token per `every`.
#[derive(Debug)]
struct TokenBucket {
    every: Duration,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    fn new(every: Duration, burst: u32) -> Self {
        let burst = f64::from(burst);
        Self {
            every,
            burst,
            tokens: burst,
            last: Instant::now(),
        }
    }

    fn allow(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() / self.every.as_secs_f64();
        self.tokens = (self.tokens + refill).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_parse_like_go() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bAsIc dXNlcjpwYTpzcw=="),
        );
        assert_eq!(basic_credentials(&h), Some(("user".into(), "pa:ss".into())));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer dXNlcjpwYXNz"),
        );
        assert_eq!(basic_credentials(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert_eq!(basic_credentials(&h), None);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic dXNlcg=="),
        );
        assert_eq!(basic_credentials(&h), None, "no colon");
    }

    #[test]
    fn cache_stays_bounded() {
        let cache = AuthCache::default();
        for i in 0..(CACHE_SIZE * 3) {
            cache.set((i.to_string(), String::new(), String::new()), true);
            assert!(cache.len() <= CACHE_SIZE);
        }
        let last = (
            (CACHE_SIZE * 3 - 1).to_string(),
            String::new(),
            String::new(),
        );
        assert_eq!(cache.get(&last), Some(true));
    }

    #[test]
    fn token_bucket_allows_burst_then_refuses() {
        let mut bucket = TokenBucket::new(Duration::from_secs(3600), 2);
        assert!(bucket.allow());
        assert!(bucket.allow());
        assert!(!bucket.allow());
        let mut empty = TokenBucket::new(Duration::from_secs(1), 0);
        assert!(!empty.allow());
    }

    #[test]
    fn plain_error_matches_go_http_error() {
        let resp = plain_error(StatusCode::UNAUTHORIZED);
        assert_eq!(resp.status(), 401);
        assert_eq!(
            resp.headers()[header::CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
        assert_eq!(resp.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    }
}
