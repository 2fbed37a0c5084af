//! The daemon in-process: an exporter over a config written to a temporary directory, probed
//! through its router.

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use pm_blackbox_exporter::prober::Level;
use pm_blackbox_exporter::web::{self, AppState, Settings};
use tower::ServiceExt;

pub struct Exporter {
    pub app: Arc<AppState>,
    _dir: tempfile::TempDir,
}

impl Exporter {
    pub fn new(yaml: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("blackbox.yml");
        std::fs::write(&file, yaml).unwrap();
        Self::with_file(dir, &file)
    }

    pub fn with_file(dir: tempfile::TempDir, file: &Path) -> Self {
        let app = AppState::new(Settings {
            config_file: file.to_owned(),
            timeout_offset: 0.5,
            history_limit: 10,
            prober_log_level: Level::Error,
            route_prefix: "/".to_owned(),
        })
        .unwrap();
        Exporter { app, _dir: dir }
    }

    pub async fn get(&self, uri: &str) -> (StatusCode, String) {
        let router = web::router(Arc::clone(&self.app), "http://localhost:9115/");
        let req = Request::get(uri)
            .header("X-Prometheus-Scrape-Timeout-Seconds", "5")
            .body(Body::empty())
            .unwrap();
        let resp = router.oneshot(req).await.unwrap();
        let status = resp.status();
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    pub async fn probe(&self, module: &str, target: &str) -> String {
        let target =
            percent_encoding::utf8_percent_encode(target, percent_encoding::NON_ALPHANUMERIC);
        let (status, body) = self
            .get(&format!("/probe?module={module}&target={target}"))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

/// The value of the first sample whose series text starts with `series`.
pub fn value(body: &str, series: &str) -> f64 {
    body.lines()
        .find(|l| {
            !l.starts_with('#')
                && l.starts_with(series)
                && l[series.len()..].starts_with([' ', '{'])
        })
        .or_else(|| body.lines().find(|l| l.starts_with(series)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{series} missing in:\n{body}"))
}
