//! `/metrics`: a daemon's own metrics, gathered from its registry on every scrape and encoded in
//! the format the client negotiates, as client_golang's `promhttp.Handler()` serves them —
//! gzip-compressed when the scraper accepts it (Prometheus always does), since a large exposition
//! compresses tenfold and scrapes often cross a network.

use std::sync::Arc;

use axum::http::HeaderMap;
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use tower_http::compression::CompressionLayer;

use crate::expfmt::dto::MetricFamily;
use crate::expfmt::negotiate;
use crate::metrics::{Registry, RenderOptions, encode_scraped, render};

/// The `/metrics` route over `registry`.
pub fn metrics_endpoint(registry: Arc<Registry>) -> MethodRouter {
    get(move |headers: HeaderMap| {
        let registry = Arc::clone(&registry);
        async move { exposition(&registry.gather(), &headers) }
    })
    .layer(CompressionLayer::new().gzip(true))
}

/// `families` as a response in the format the request's `Accept` header negotiates (for
/// endpoints that gather per request: `/probe`, `/scrape`, an exporter's `/metrics`).
pub fn exposition(families: &[MetricFamily], headers: &HeaderMap) -> Response {
    let accept = headers.get(ACCEPT).and_then(|v| v.to_str().ok());
    let (content_type, body) = render(families, accept);
    ([(CONTENT_TYPE, content_type)], body).into_response()
}

/// An exporter's `/metrics` of its own `registry` and a large `scraped` side streamed in name
/// order ([`encode_scraped`]), negotiated as [`exposition`] does.
pub fn scraped_exposition(
    registry: &Registry,
    scraped: impl IntoIterator<Item = MetricFamily>,
    headers: &HeaderMap,
) -> Response {
    let accept = headers.get(ACCEPT).and_then(|v| v.to_str().ok());
    let format = negotiate(accept.unwrap_or_default());
    let body = encode_scraped(registry, scraped, format, RenderOptions::default());
    ([(CONTENT_TYPE, format.content_type())], body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Collector;
    use crate::process::{ProcessCollector, build_info_family};
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    struct BuildInfo;

    impl Collector for BuildInfo {
        fn collect(&self, out: &mut Vec<crate::expfmt::dto::MetricFamily>) {
            out.push(build_info_family("pushgateway", "1.2.3", "abc", "main"));
        }
    }

    async fn scrape(registry: Arc<Registry>, accept: Option<&str>) -> (String, Vec<u8>) {
        let app = axum::Router::new().route("/metrics", metrics_endpoint(registry));
        let mut req = Request::get("/metrics");
        if let Some(a) = accept {
            req = req.header(ACCEPT, a);
        }
        let resp = app.oneshot(req.body(Body::empty()).unwrap()).await.unwrap();
        let ct = resp.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
        (
            ct,
            resp.into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .to_vec(),
        )
    }

    #[tokio::test]
    async fn gzips_when_accepted() {
        use std::io::Read;

        let registry = Arc::new(Registry::new());
        registry.register(Arc::new(BuildInfo));
        let app = axum::Router::new().route("/metrics", metrics_endpoint(registry));
        let req = Request::get("/metrics")
            .header(axum::http::header::ACCEPT_ENCODING, "gzip")
            .body(Body::empty())
            .unwrap();
        let resp = app.oneshot(req).await.unwrap();
        assert_eq!(resp.headers()[axum::http::header::CONTENT_ENCODING], "gzip");
        let gz = resp.into_body().collect().await.unwrap().to_bytes();
        let mut text = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut text)
            .unwrap();
        assert!(text.contains("pushgateway_build_info{"), "{text}");
    }

    #[tokio::test]
    async fn serves_registry_in_negotiated_format() {
        let registry = Arc::new(Registry::new());
        registry.register(Arc::new(ProcessCollector::new()));
        registry.register(Arc::new(BuildInfo));

        let (ct, body) = scrape(Arc::clone(&registry), None).await;
        assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
        let text = String::from_utf8(body).unwrap();
        assert!(
            text.contains("# TYPE process_cpu_seconds_total counter\n"),
            "{text}"
        );
        assert!(
            text.contains("pushgateway_build_info{branch=\"main\""),
            "{text}"
        );

        let proto = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited";
        let (ct, body) = scrape(registry, Some(proto)).await;
        assert!(ct.starts_with("application/vnd.google.protobuf"), "{ct}");
        let families = crate::expfmt::proto::decode_delimited(&body).unwrap();
        assert!(families.iter().any(|f| f.name() == "process_open_fds"));
    }
}
