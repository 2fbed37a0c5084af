//! `/api/v1/alertmanagers`: the Alertmanagers the notifier sends to, and those its
//! `relabel_configs` dropped.

use std::sync::Arc;

use axum::extract::State;

use super::ApiState;
use super::json::push_str;
use super::response::ApiResponse;

/// Where the API reads the Alertmanagers from (the notifier); without one both lists are
/// empty, as on an upstream server with no `alerting` block.
pub trait AlertmanagersSource: Send + Sync {
    /// URLs of the active Alertmanagers.
    fn active_alertmanagers(&self) -> Vec<String>;
    /// URLs of the dropped Alertmanagers, built from their labels before relabeling.
    fn dropped_alertmanagers(&self) -> Vec<String>;
}

impl AlertmanagersSource for crate::notifier::Notifier {
    fn active_alertmanagers(&self) -> Vec<String> {
        self.alertmanagers()
    }

    fn dropped_alertmanagers(&self) -> Vec<String> {
        self.dropped_alertmanagers()
    }
}

pub async fn alertmanagers(State(state): State<Arc<ApiState>>) -> ApiResponse {
    ApiResponse::data(render(state.alertmanagers.as_deref()))
}

/// `{"activeAlertmanagers":[{"url":…}],"droppedAlertmanagers":[…]}`; empty lists are `[]`.
fn render(source: Option<&dyn AlertmanagersSource>) -> String {
    let (active, dropped) = source.map_or_else(Default::default, |s| {
        (s.active_alertmanagers(), s.dropped_alertmanagers())
    });
    let mut out = String::from("{\"activeAlertmanagers\":");
    push_targets(&mut out, &active);
    out.push_str(",\"droppedAlertmanagers\":");
    push_targets(&mut out, &dropped);
    out.push('}');
    out
}

fn push_targets(out: &mut String, urls: &[String]) {
    out.push('[');
    for (i, url) in urls.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"url\":");
        push_str(out, url);
        out.push('}');
    }
    out.push(']');
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;

    impl AlertmanagersSource for Fixed {
        fn active_alertmanagers(&self) -> Vec<String> {
            vec![
                "http://am1:9093/api/v2/alerts".into(),
                "https://am2:9093/prefix/api/v2/alerts".into(),
            ]
        }

        fn dropped_alertmanagers(&self) -> Vec<String> {
            vec!["http://dropped:9093/api/v2/alerts".into()]
        }
    }

    #[test]
    fn lists_active_and_dropped_as_upstream() {
        assert_eq!(
            render(Some(&Fixed)),
            concat!(
                r#"{"activeAlertmanagers":[{"url":"http://am1:9093/api/v2/alerts"},"#,
                r#"{"url":"https://am2:9093/prefix/api/v2/alerts"}],"#,
                r#""droppedAlertmanagers":[{"url":"http://dropped:9093/api/v2/alerts"}]}"#
            )
        );
    }

    #[test]
    fn no_notifier_gives_empty_lists() {
        assert_eq!(
            render(None),
            r#"{"activeAlertmanagers":[],"droppedAlertmanagers":[]}"#
        );
    }
}
