//! The small pages every daemon serves besides its API: the exporter landing page and the
//! `/-/healthy`, `/-/ready` probes.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::response::IntoResponse;
use axum::routing::{MethodRouter, any, get};
use http::{StatusCode, header};

/// What the landing page shows, as exporter-toolkit's `LandingConfig`.
#[derive(Debug, Clone, Default)]
pub struct LandingConfig {
    /// Usually the binary name (`node_exporter`).
    pub name: String,
    pub description: String,
    pub version: String,
    pub links: Vec<LandingLink>,
    /// Raw HTML placed after the links (trusted: written by the daemon, not by users).
    pub extra_html: String,
    /// Raw CSS appended to the default style.
    pub extra_css: String,
    /// Header background; Prometheus orange when empty.
    pub header_color: String,
    /// Prefix the links are relative to (`--web.route-prefix`); `/` when empty.
    pub route_prefix: String,
}

#[derive(Debug, Clone, Default)]
pub struct LandingLink {
    /// Target, relative to the route prefix (a leading `/` is dropped, as upstream does).
    pub address: String,
    pub text: String,
    pub description: String,
}

impl LandingLink {
    pub fn new(text: impl Into<String>, address: impl Into<String>) -> Self {
        Self {
            address: address.into(),
            text: text.into(),
            description: String::new(),
        }
    }
}

/// A handler serving the landing page, rendered once.
///
/// Upstream also links pprof profiles from the Go runtime; there is no equivalent here, so that
/// part is left out.
pub fn landing_page(config: LandingConfig) -> MethodRouter {
    let page: Arc<str> = render(&config).into();
    any(move || {
        let page = page.clone();
        async move {
            (
                [(header::CONTENT_TYPE, "text/html; charset=UTF-8")],
                page.to_string(),
            )
        }
    })
}

fn render(c: &LandingConfig) -> String {
    let prefix = match c.route_prefix.as_str() {
        "" => "/".to_owned(),
        p if p.ends_with('/') => p.to_owned(),
        p => format!("{p}/"),
    };
    let color = if c.header_color.is_empty() {
        "#e6522c"
    } else {
        &c.header_color
    };
    let name = escape(&c.name);
    let mut html = String::with_capacity(2048);
    html.push_str("<html lang=\"en\">\n  <head>\n    <meta charset=\"UTF-8\">\n");
    html.push_str(
        "    <meta name=\"viewport\" content=\"width=device-width, initial-scale=1.0\">\n",
    );
    let _ = writeln!(html, "    <title>{name}</title>");
    let _ = writeln!(html, "    <style>{}{}</style>", css(color), c.extra_css);
    let _ = write!(
        html,
        "  </head>\n  <body>\n    <header>\n      <h1>{name}</h1>\n    </header>\n    <main>\n"
    );
    if !c.description.is_empty() {
        let _ = writeln!(html, "      <h2>{}</h2>", escape(&c.description));
    }
    if !c.version.is_empty() {
        let _ = writeln!(html, "      <div>Version: {}</div>", escape(&c.version));
    }
    html.push_str("      <div>\n        <ul>\n");
    for link in &c.links {
        let address = link.address.strip_prefix('/').unwrap_or(&link.address);
        let _ = write!(
            html,
            "          <li><a href=\"{}{}\">{}</a>",
            escape(&prefix),
            escape(address),
            escape(&link.text)
        );
        if !link.description.is_empty() {
            let _ = write!(html, ": {}", escape(&link.description));
        }
        html.push_str("</li>\n");
    }
    html.push_str("        </ul>\n      </div>\n");
    if !c.extra_html.is_empty() {
        let _ = writeln!(html, "      {}", c.extra_html);
    }
    html.push_str("    </main>\n  </body>\n</html>\n");
    html
}

fn css(header_color: &str) -> String {
    format!(
        "body {{ font-family: -apple-system,BlinkMacSystemFont,Segoe UI,Roboto,Helvetica Neue,Arial,Noto Sans,Liberation Sans,sans-serif; margin: 0; }}\n\
         header {{ background-color: {header_color}; color: #fff; font-size: 1rem; padding: 1rem; }}\n\
         main {{ padding: 1rem; }}\n"
    )
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `/-/healthy`: always 200 with the daemon's body (`Prometheus Server is Healthy.\n` for
/// Prometheus, `OK` for Alertmanager and the Pushgateway). Answers GET and HEAD.
pub fn healthy(body: &'static str) -> MethodRouter {
    get(move || async move { body })
}

/// Whether a daemon has finished starting (replayed its WAL, loaded its config…). Clones share
/// the state.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub fn set_ready(&self, ready: bool) {
        self.0.store(ready, Ordering::Release);
    }

    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// `/-/ready`: 200 with `body` once `readiness` is set, before that 503 `Service Unavailable`
/// as Prometheus answers. Answers GET and HEAD.
pub fn ready(body: &'static str, readiness: Readiness) -> MethodRouter {
    get(move || {
        let ready = readiness.is_ready();
        async move {
            if ready {
                body.into_response()
            } else {
                (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable").into_response()
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_shows_links_under_the_prefix() {
        let page = render(&LandingConfig {
            name: "node_exporter".into(),
            description: "Prometheus Node Exporter".into(),
            version: "1.9.0".into(),
            links: vec![LandingLink::new("Metrics", "/metrics")],
            route_prefix: "/node".into(),
            extra_html: "<p id=x>hi</p>".into(),
            ..LandingConfig::default()
        });
        assert!(page.contains("<title>node_exporter</title>"));
        assert!(page.contains("<h2>Prometheus Node Exporter</h2>"));
        assert!(page.contains("<div>Version: 1.9.0</div>"));
        assert!(page.contains("<li><a href=\"/node/metrics\">Metrics</a></li>"));
        assert!(page.contains("<p id=x>hi</p>"));
        assert!(page.contains("background-color: #e6522c"));
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a<b>&\"'"), "a&lt;b&gt;&amp;&#34;&#39;");
    }
}
