//! The web UI: one HTML page, a script and a style sheet, embedded in the binary and served
//! under the route prefix. The page talks only to `/api/v2`, so it needs no server-side
//! rendering and works unchanged behind any prefix (its links and API calls are relative).
//!
//! Paths follow upstream's: the UI lives at `<prefix>/`; with a prefix, `/` answers 302 to
//! the prefix and the bare prefix 301 to `<prefix>/`.

use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

const INDEX: &str = include_str!("index.html");
const SCRIPT: &str = include_str!("script.js");
const STYLE: &str = include_str!("style.css");
const FAVICON: &str = include_str!("favicon.svg");

/// The files the UI is made of: path under the prefix, content type, content.
const ASSETS: [(&str, &str, &str); 4] = [
    ("/", "text/html; charset=utf-8", INDEX),
    ("/script.js", "text/javascript; charset=utf-8", SCRIPT),
    ("/style.css", "text/css; charset=utf-8", STYLE),
    ("/favicon.svg", "image/svg+xml", FAVICON),
];

/// The UI's routes under `prefix` (`""` or `/something`), to merge into the daemon's router.
pub fn router<S: Clone + Send + Sync + 'static>(prefix: &str) -> Router<S> {
    let mut router = Router::new();
    for (path, content_type, body) in ASSETS {
        let serve = move || async move { asset(content_type, body) };
        router = router.route(&format!("{prefix}{path}"), get(serve).head(serve));
    }
    if !prefix.is_empty() {
        let to_prefix = prefix.to_owned();
        let to_ui = format!("{prefix}/");
        router = router
            .route(
                "/",
                get(move || async move { redirect(StatusCode::FOUND, &to_prefix) }),
            )
            .route(
                prefix,
                get(move || async move { redirect(StatusCode::MOVED_PERMANENTLY, &to_ui) }),
            );
    }
    router
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            // The files change only with the binary; revalidating keeps an upgrade visible.
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

fn redirect(status: StatusCode, location: &str) -> Response {
    (status, [(header::LOCATION, location)]).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page loads its script and styles by relative paths, which is what lets it work
    /// under any route prefix.
    #[test]
    fn index_links_assets_relatively() {
        for asset in [
            "src=\"script.js\"",
            "href=\"style.css\"",
            "href=\"favicon.svg\"",
        ] {
            assert!(INDEX.contains(asset), "index.html lacks {asset}");
        }
        assert!(!INDEX.contains("src=\"/") && !INDEX.contains("href=\"/"));
    }
}
