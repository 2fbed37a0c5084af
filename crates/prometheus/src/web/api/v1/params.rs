//! Request parameters as upstream reads them: form values from the URL and, for POST, from a
//! form-encoded body (body first, as Go's `Request.Form`), and its time, duration, limit and
//! matcher syntaxes with their error texts.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use http::Method;
use http::header::CONTENT_TYPE;

use pm_common::config::Duration as PromDuration;
use pm_common::model::Matcher;
use pm_promql::parse_metric_selector;

use super::response::{ApiError, ApiResponse};

/// The earliest time the API accepts, as upstream's `MinTime` (Go's smallest representable
/// `time.Time` that still converts to milliseconds), in milliseconds.
pub const MIN_TIME: i64 = (i64::MIN / 1000 + 62_135_596_801) * 1000;
/// The latest, as upstream's `MaxTime`.
pub const MAX_TIME: i64 = (i64::MAX / 1000 - 62_135_596_801) * 1000 + 999;

/// How upstream prints [`MIN_TIME`] and [`MAX_TIME`] in RFC 3339, which clients send back.
const MIN_TIME_FORMATTED: &str = "-292273086-05-16T16:47:06Z";
const MAX_TIME_FORMATTED: &str = "292277026-12-04T15:30:07.999999999Z";

/// All form values of a request, in Go's order.
#[derive(Debug, Clone, Default)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// The first value of `name`, `""` when absent (Go's `FormValue`).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// `name` as a time, `default` when absent (upstream's `parseTimeParam`, whose errors
    /// name the parameter twice).
    pub fn time_or(&self, name: &str, default: i64) -> Result<i64, ApiError> {
        match self.get(name) {
            "" => Ok(default),
            s => parse_time(s).map_err(|e| {
                ApiError::invalid_param(name, format!("invalid time value for '{name}': {e}"))
            }),
        }
    }

    /// `limit`: absent or 0 for none.
    pub fn limit(&self) -> Result<usize, ApiError> {
        parse_limit(self.get("limit")).map_err(|e| ApiError::invalid_param("limit", e))
    }

    /// Every `match[]`, parsed; the error is the bare reason, since upstream words it
    /// differently per endpoint.
    pub fn matcher_sets(&self) -> Result<Vec<Vec<Matcher>>, String> {
        parse_matcher_sets(&self.all("match[]"))
    }
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = ApiResponse;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let query = req.uri().query().unwrap_or("").to_owned();
        let is_form = req.method() == Method::POST
            && req
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
        let mut pairs = Vec::new();
        if is_form {
            let body = Bytes::from_request(req, state)
                .await
                .map_err(|e| ApiError::bad_data(format!("error parsing form values: {e}")))?;
            pairs.extend(url::form_urlencoded::parse(&body).into_owned());
        }
        pairs.extend(url::form_urlencoded::parse(query.as_bytes()).into_owned());
        Ok(Self(pairs))
    }
}

/// A time as upstream's `parseTime`: Unix seconds with up to millisecond precision, RFC 3339,
/// or upstream's printed minimum and maximum.
pub fn parse_time(s: &str) -> Result<i64, String> {
    if let Ok(t) = s.parse::<f64>()
        && t.is_finite()
    {
        let secs = t.trunc();
        let frac = ((t - secs) * 1000.0).round();
        return Ok((secs as i64)
            .saturating_mul(1000)
            .saturating_add(frac as i64));
    }
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Ok(ts.as_millisecond());
    }
    match s {
        MIN_TIME_FORMATTED => Ok(MIN_TIME),
        MAX_TIME_FORMATTED => Ok(MAX_TIME),
        _ => Err(format!("cannot parse {s:?} to a valid timestamp")),
    }
}

/// A duration as upstream's `parseDuration`: float seconds or Prometheus syntax; in
/// nanoseconds, since upstream compares at that resolution.
pub fn parse_duration(s: &str) -> Result<i128, String> {
    if let Ok(d) = s.parse::<f64>() {
        let ns = d * 1e9;
        if !(i64::MIN as f64..=i64::MAX as f64).contains(&ns) {
            return Err(format!(
                "cannot parse {s:?} to a valid duration. It overflows int64"
            ));
        }
        return Ok(ns as i128);
    }
    PromDuration::parse(s)
        .map(|d| d.as_std().as_nanos() as i128)
        .map_err(|_| format!("cannot parse {s:?} to a valid duration"))
}

fn parse_limit(s: &str) -> Result<usize, String> {
    if s.is_empty() {
        return Ok(0);
    }
    let limit: i64 = s
        .parse()
        .map_err(|_| format!("strconv.Atoi: parsing {s:?}: invalid syntax"))?;
    usize::try_from(limit).map_err(|_| "limit must be non-negative".to_owned())
}

/// Parses series selectors, refusing a set whose matchers all match the empty string.
pub fn parse_matcher_sets(selectors: &[&str]) -> Result<Vec<Vec<Matcher>>, String> {
    let mut sets = Vec::with_capacity(selectors.len());
    for s in selectors {
        let set = parse_metric_selector(s).map_err(|e| e.to_string())?;
        if set.iter().all(|m| m.matches("")) {
            return Err("match[] must contain at least one non-empty matcher".into());
        }
        sets.push(set);
    }
    Ok(sets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("1.5"), Ok(1500));
        assert_eq!(parse_time("-1.5"), Ok(-1500));
        assert_eq!(parse_time("1435781451.781"), Ok(1_435_781_451_781));
        assert_eq!(
            parse_time("2015-07-01T20:10:51.781Z"),
            Ok(1_435_781_451_781)
        );
        assert_eq!(
            parse_time("2015-07-01T22:10:51.781+02:00"),
            Ok(1_435_781_451_781)
        );
        assert_eq!(parse_time(MAX_TIME_FORMATTED), Ok(MAX_TIME));
        assert_eq!(
            parse_time("yesterday"),
            Err("cannot parse \"yesterday\" to a valid timestamp".into())
        );
        assert_eq!(MIN_TIME, -9_223_309_901_257_974_000);
        assert_eq!(parse_time("-9223309901257974"), Ok(MIN_TIME));
    }

    #[test]
    fn durations_limits_and_matchers() {
        assert_eq!(parse_duration("15"), Ok(15_000_000_000));
        assert_eq!(parse_duration("1m30s"), Ok(90_000_000_000));
        assert_eq!(parse_duration("0.5"), Ok(500_000_000));
        assert!(
            parse_duration("1e30")
                .unwrap_err()
                .contains("overflows int64")
        );
        assert_eq!(parse_limit(""), Ok(0));
        assert_eq!(parse_limit("-1"), Err("limit must be non-negative".into()));
        assert!(parse_matcher_sets(&["up", "{job=\"a\"}"]).is_ok());
        assert_eq!(
            parse_matcher_sets(&["{job=~\".*\"}"]).unwrap_err(),
            "match[] must contain at least one non-empty matcher"
        );
    }
}
